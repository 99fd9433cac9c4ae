import type { Plugin } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { graphql } from './support/client.js';
import { createTestDatabase } from './support/database.js';
import { afterThisTest, startServerProcess } from './support/processes.js';
import { startServer } from './support/server.js';

/** Makes every operation fail inside the server with an error whose message must not reach a client in production. */
const failingExecution: Plugin = {
  onExecute({ setExecuteFn }) {
    setExecuteFn(() => {
      throw new Error('connection to /srv/tandem/internal.db failed');
    });
  },
};

async function post(url: string, query: string) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
  return { status: response.status, body: (await response.json()) as { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] } };
}

describe('NODE_ENV=production', () => {
  it('turns off GraphiQL, the demo, introspection and suggestions', { timeout: 30_000 }, async () => {
    const server = await startServerProcess({
      NODE_ENV: 'production',
      TOKEN_SECRET: 'production-test-secret-production-test',
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: await createTestDatabase(),
    });

    const page = await fetch(server.url, { headers: { accept: 'text/html' } });
    const demo = await fetch(new URL('/app', server.url));
    const introspection = await post(server.url, '{ __schema { types { name } } }');
    const typo = await post(server.url, '{ mee { __typename } }');

    expect(await page.text()).not.toMatch(/<title>Tandem<\/title>/);
    expect(demo.status).toBe(404);
    expect(introspection.body.errors?.[0]?.message).toMatch(/introspection has been disabled/);
    expect(typo.body.errors?.[0]?.message).toMatch(/Cannot query field "mee" on type "Query"/);
    expect(typo.body.errors?.[0]?.message).not.toMatch(/Did you mean/);
  });

  it('masks unexpected errors', async () => {
    const production = await startServer({ nodeEnv: 'production' }, { plugins: [failingExecution] });
    afterThisTest(() => production.stop());
    const development = await startServer({ nodeEnv: 'development' }, { plugins: [failingExecution] });
    afterThisTest(() => development.stop());

    const masked = await graphql(production, '{ __typename }');
    const unmasked = await graphql(development, '{ __typename }');

    expect(masked.errors).toEqual([{ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }]);
    expect(JSON.stringify(masked)).not.toMatch(/internal\.db/);
    // Outside production the cause is shown, which proves the plugin reached the server.
    expect(unmasked.errors?.[0]?.message).toBe('Unexpected error: connection to /srv/tandem/internal.db failed');
  });
});
