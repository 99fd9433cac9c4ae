import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { defineConfig, type ViteUserConfig } from 'vitest/config';

const require = createRequire(import.meta.url);
const postgresUrl = process.env.POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

/**
 * Returns null when PostgreSQL accepts a connection, or the reason to print
 * when the PostgreSQL project must be left out. With REQUIRE_SERVICES=1 (set
 * by .ci/run), an unreachable PostgreSQL fails the run instead.
 */
async function postgresUnavailable(): Promise<string | null> {
  const client = new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 3_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    const reason = `PostgreSQL at ${postgresUrl} is unreachable (${(error as Error).message})`;
    if (process.env.REQUIRE_SERVICES === '1') throw new Error(`REQUIRE_SERVICES=1, but ${reason}.`);
    console.log(`Skipping the PostgreSQL run of the suite: ${reason}. Start PostgreSQL or set POSTGRES_URL to run it.`);
    return reason;
  } finally {
    await client.end().catch(() => {});
  }
}

export default defineConfig(async (): Promise<ViteUserConfig> => {
  // Every suite runs once per database: SQLite always, PostgreSQL when reachable.
  const databases = (await postgresUnavailable()) === null ? ['sqlite', 'postgresql'] : ['sqlite'];
  return {
    // This file lives in test/; paths below are relative to the project root.
    root: fileURLToPath(new URL('..', import.meta.url)),
    resolve: {
      // Vite prefers graphql's ESM build, while the libraries in node_modules
      // load its CommonJS build as Node does; two copies of graphql reject
      // each other's schema. Point the test code at the one Node loads.
      alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
    },
    test: {
      pool: 'forks' as const,
      // Vitest's default on 2 cores is one worker; the suites spend much of
      // their time waiting on servers and sockets, so two halve the run.
      maxWorkers: 2,
      testTimeout: 30_000,
      hookTimeout: 60_000,
      projects: databases.map((name) => ({
        extends: true,
        test: {
          name,
          include: ['test/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          // CHECKPOINT_DISABLE keeps the Prisma CLIs that tests run from checking for updates online.
          env: { TEST_DATABASE: name, CHECKPOINT_DISABLE: '1' },
        },
      })),
    },
  };
});
