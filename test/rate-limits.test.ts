import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './support/client.js';
import { signUp } from './support/fixtures.js';
import { startServer, type TestServer } from './support/server.js';

let server: TestServer;

// Signed out, mutations (sign-up and sign-in among them) count against the
// address, 127.0.0.1 here, so the tests below stay within 8 of those.
beforeAll(async () => {
  server = await startServer({ rateLimits: { mutations: 8, mutationWindowSeconds: 60, signInFailures: 3, signInWindowSeconds: 600 } });
});
afterAll(() => server.stop());

const createWorkspace = 'mutation($name: String!) { createWorkspace(input: { name: $name }) { __typename } }';

/** POSTs an operation and returns the status, the Retry-After header and the body. */
async function post(query: string, variables: Record<string, unknown>, token?: string) {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as any };
}

describe('mutations per user', () => {
  it('refuses mutations past the limit', async () => {
    const user = await signUp(server, 'busy');
    for (let index = 0; index < 8; index += 1) {
      const { status, body } = await post(createWorkspace, { name: `Busy ${index}` }, user.token);
      expect(status, JSON.stringify(body)).toBe(200);
    }

    const rejected = await post(createWorkspace, { name: 'One too many' }, user.token);

    expect(rejected.status).toBe(429);
    expect(Number(rejected.retryAfter)).toBeGreaterThan(0);
    expect(Number(rejected.retryAfter)).toBeLessThanOrEqual(60);
    expect(rejected.body.data).toBeUndefined();
    expect(rejected.body.errors[0].message).toMatch(/^Too many mutations: at most 8 per 60 s are allowed\. Retry in \d+ s; nothing was changed\.$/);
    expect(rejected.body.errors[0].extensions).toEqual({ code: 'RATE_LIMITED', retryAfterSeconds: Number(rejected.retryAfter) });
    // Nothing was changed, and queries still run.
    const { data } = await graphql(server, '{ workspaces(first: 20) { edges { node { name } } } }', {}, user.token);
    expect(data.workspaces.edges.map((edge: any) => edge.node.name)).not.toContain('One too many');
    expect(data.workspaces.edges).toHaveLength(8);
  });

  it('counts each user on their own', async () => {
    const other = await signUp(server, 'calm');

    const { status } = await post(createWorkspace, { name: 'Calm' }, other.token);

    expect(status).toBe(200);
  });
});

describe('failed sign-ins', () => {
  const signIn = (email: string, password: string) =>
    post('mutation($input: SignInInput!) { signIn(input: $input) { __typename ... on Error { code message } } }', { input: { email, password } });

  it('slows down after repeated failures', async () => {
    const user = await signUp(server, 'forgetful');
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const { body } = await signIn(user.email, 'not the password');
      expect(body.data.signIn).toMatchObject({ __typename: 'UnauthenticatedError', message: 'Wrong email or password.' });
    }

    const rejected = await signIn(user.email, 'correct horse battery');

    expect(rejected.status).toBe(429);
    expect(rejected.body.errors[0].extensions.code).toBe('RATE_LIMITED');
    expect(rejected.body.errors[0].message).toMatch(/^Too many failed sign-ins for this account or address\. Retry in \d+ s, or reset the password\.$/);
    expect(Number(rejected.retryAfter)).toBeGreaterThan(500);
  });
});
