import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createTestDatabase } from './support/database.js';
import { signUp } from './support/fixtures.js';
import { httpTarget, startServerProcess, waitFor, type ServerProcess } from './support/processes.js';
import { testTokenSecret } from './support/server.js';

/** Starts a server process for one test; it is killed when the test ends. */
async function start(): Promise<ServerProcess> {
  return startServerProcess({ HOST: '127.0.0.1', PORT: '0', DATABASE_URL: await createTestDatabase(), TOKEN_SECRET: testTokenSecret, LOG_LEVEL: 'info' });
}

/** Returns the server's JSON log lines so far. */
function logLines(server: ServerProcess): Record<string, unknown>[] {
  return server
    .output()
    .split('\n')
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('log lines', () => {
  it("carry the request's id", async () => {
    const server = await start();
    const user = await signUp(httpTarget(server.url), 'logged');
    const secret = 'not-the-password-1234';
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'client-req-42' },
      body: JSON.stringify({ query: 'mutation($input: SignInInput!) { signIn(input: $input) { __typename } }', variables: { input: { email: user.email, password: secret } } }),
    });
    await response.text();

    expect(response.headers.get('x-request-id')).toBe('client-req-42');
    await waitFor(() => logLines(server).some((line) => line.msg === 'sign-in failed'), () => 'the sign-in failure to be logged', 5_000);
    const line = logLines(server).find((entry) => entry.msg === 'sign-in failed')!;
    expect(line.requestId).toBe('client-req-42');
    expect(server.output()).not.toContain(secret);
    expect(server.output()).not.toContain(user.token);
  });

  it('make up an id when the client sends none or a bad one', async () => {
    const server = await start();
    const plain = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });
    const odd = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'has spaces' }, body: '{"query":"{ __typename }"}' });

    expect(plain.headers.get('x-request-id')).toMatch(uuid);
    expect(odd.headers.get('x-request-id')).toMatch(uuid);
  });

  it("carry the socket's id", async () => {
    const server = await start();
    const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
    await new Promise((resolve) => socket.once('open', resolve));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: 'Bearer not-a-token' } }));
    await closed;

    await waitFor(() => logLines(server).some((line) => line.msg === 'WebSocket connection refused'), () => 'the refusal to be logged', 5_000);
    const line = logLines(server).find((entry) => entry.msg === 'WebSocket connection refused')!;
    expect(line.socketId).toMatch(uuid);
    expect(server.output()).not.toContain('not-a-token');
  });
});
