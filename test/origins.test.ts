import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ConfigError, loadSettings } from '../src/config.js';
import { graphql } from './support/client.js';
import { afterThisTest } from './support/processes.js';
import { startServer, type TestServer } from './support/server.js';

// Origins are only header values here: no traffic goes to these names.
const allowedOrigin = 'https://app.example.test';
const otherOrigin = 'https://elsewhere.example.test';

let server: TestServer;

beforeAll(async () => {
  server = await startServer({ corsOrigins: [allowedOrigin], introspection: false });
});
afterAll(() => server.stop());

/** Opens a WebSocket with `origin` (none when undefined); resolves 'open' or the HTTP status of a refused upgrade. */
function upgrade(origin: string | undefined): Promise<'open' | number> {
  const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws', origin ? { origin } : {});
  afterThisTest(() => socket.terminate());
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve('open'));
    socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
    socket.once('error', reject);
  });
}

describe('allowed origins', () => {
  it('refuses a WebSocket from another origin', async () => {
    expect(await upgrade(otherOrigin)).toBe(403);
  });

  it('accepts a WebSocket from a listed origin', async () => {
    expect(await upgrade(allowedOrigin)).toBe('open');
  });

  it("accepts a WebSocket from the server's own origin", async () => {
    expect(await upgrade(new URL(server.url).origin)).toBe('open');
  });

  it('accepts a WebSocket without an origin', async () => {
    expect(await upgrade(undefined)).toBe('open');
  });

  it('answers CORS for a listed origin only', async () => {
    const preflight = (origin: string) =>
      fetch(server.url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' } });

    const listed = await preflight(allowedOrigin);
    const other = await preflight(otherOrigin);

    expect(listed.headers.get('access-control-allow-origin')).toBe(allowedOrigin);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('rejects a malformed CORS_ORIGINS', () => {
    expect(() => loadSettings({ CORS_ORIGINS: 'app.example.test' })).toThrow(ConfigError);
    expect(() => loadSettings({ CORS_ORIGINS: 'app.example.test' })).toThrow(/CORS_ORIGINS="app.example.test": expected origins such as https:\/\/app.example.com/);
    expect(() => loadSettings({ CORS_ORIGINS: `${allowedOrigin}/` })).toThrow(/has a path; an origin has none, not even a trailing slash/);
    expect(() => loadSettings({ CORS_ORIGINS: `*,${allowedOrigin}` })).toThrow(/use \* alone, or a list of origins without \*/);
    expect(loadSettings({ CORS_ORIGINS: `${allowedOrigin}, http://localhost:5173` }).corsOrigins).toEqual([allowedOrigin, 'http://localhost:5173']);
  });

  it('defaults to any origin outside production and none in production', () => {
    expect(loadSettings({}).corsOrigins).toEqual(['*']);
    expect(loadSettings({ NODE_ENV: 'production', TOKEN_SECRET: 'x'.repeat(32) }).corsOrigins).toEqual([]);
  });
});

describe('introspection', () => {
  it('is refused when INTROSPECTION is off', async () => {
    const result = await graphql(server, '{ __schema { queryType { name } } }');

    expect(result.data).toBeUndefined();
    expect(result.errors?.[0]?.message).toMatch(/introspection has been disabled/);
  });

  it('still answers __typename', async () => {
    expect(await graphql(server, '{ __typename }')).toEqual({ data: { __typename: 'Query' } });
  });

  it('is off by default in production only', () => {
    expect(loadSettings({}).introspection).toBe(true);
    expect(loadSettings({ NODE_ENV: 'production', TOKEN_SECRET: 'x'.repeat(32) }).introspection).toBe(false);
    expect(loadSettings({ NODE_ENV: 'production', TOKEN_SECRET: 'x'.repeat(32), INTROSPECTION: 'true' }).introspection).toBe(true);
  });
});
