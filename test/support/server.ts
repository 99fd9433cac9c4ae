import { randomUUID } from 'node:crypto';
import { decodeGlobalID } from '@pothos/plugin-relay';
import type { Plugin } from 'graphql-yoga';
import { createApp, type App } from '../../src/app.js';
import { loadSettings, type Settings } from '../../src/config.js';
import { createLogger } from '../../src/observability/logger.js';
import { createTestDatabase, queryRows, testDatabase } from './database.js';
import { redisUnavailable, testRedisUrl } from './services.js';

/**
 * The PostgreSQL project runs the suite in the several-instance shape: with
 * the Redis bus and Redis presence too, when Redis is reachable.
 */
const useRedis = testDatabase === 'postgresql' ? redisUnavailable().then((reason) => reason === null) : Promise.resolve(false);

export interface TestServer {
  app: App;
  /** http://127.0.0.1:PORT/graphql */
  url: string;
  /** ws://127.0.0.1:PORT/graphql */
  wsUrl: string;
  /** DATABASE_URL of the server's own database (SQLite file or PostgreSQL database). */
  databaseUrl: string;
  settings: Settings;
  /** SQL statements sent since the server started or since the last resetQueries(). */
  queries: string[];
  resetQueries(): void;
  stop(): Promise<void>;
}

export const testTokenSecret = 'test-secret-test-secret-test-secret-0123456789';

export interface StartOptions {
  /** Envelop plugins for the app, to slow or break resolvers. */
  plugins?: Plugin[];
  /** DATABASE_URL of a database to start from instead of the template; it is copied, never changed. */
  databaseFrom?: string;
}

/**
 * Starts a real server on a free loopback port, on its own copy of the
 * migrated template database (unless `overrides.databaseUrl` names one).
 * In the PostgreSQL project it uses Redis, with a key prefix of its own.
 * LOG_LEVEL in the environment shows its logs.
 */
export async function startServer(overrides: Partial<Settings> = {}, options: StartOptions = {}): Promise<TestServer> {
  const settings: Settings = {
    port: 0,
    host: '127.0.0.1',
    databaseUrl: overrides.databaseUrl ?? (await createTestDatabase(options.databaseFrom)),
    databasePoolSize: 10,
    tokenSecret: testTokenSecret,
    logLevel: (process.env.LOG_LEVEL as Settings['logLevel']) ?? 'silent',
    nodeEnv: 'test',
    accessTokenTtlSeconds: 900,
    refreshTokenTtlSeconds: 3600,
    graphiql: true,
    demoApp: true,
    introspection: true,
    corsOrigins: ['*'],
    eventRetentionSeconds: 604_800,
    eventRetentionCount: 10_000,
    subscriptionQueueLimit: 1_000,
    keepAliveSeconds: 12,
    shutdownGraceSeconds: 1,
    // Tests open many sockets for one user; the limits tests set their own bound.
    limits: { ...loadSettings({}).limits, socketsPerUser: 100_000 },
    // Tests send bursts of mutations and failed sign-ins from one address; the rate-limit tests set their own limits.
    rateLimits: { mutations: 1_000_000, mutationWindowSeconds: 60, signInFailures: 10_000, signInWindowSeconds: 900 },
    redisUrl: (await useRedis) ? testRedisUrl : undefined,
    redisPrefix: `tandem-test-${randomUUID()}:`,
    presenceTtlSeconds: 30,
    metricsToken: undefined,
    ...overrides,
  };
  const queries: string[] = [];
  const app = await createApp(settings, {
    migrate: false,
    logger: createLogger(settings.logLevel),
    onQuery: (event) => queries.push(event.query),
    plugins: options.plugins,
  });
  const { url } = await app.start();
  return {
    app,
    url,
    wsUrl: url.replace(/^http/, 'ws'),
    databaseUrl: settings.databaseUrl,
    settings,
    queries,
    resetQueries: () => {
      queries.length = 0;
    },
    stop: () => app.stop(),
  };
}

/**
 * Waits, without sleeping, until the server's event bus has at least `count`
 * listeners, or exactly `count` with 'exactly' (to see one released).
 */
export async function waitForListeners(server: TestServer, count: number, mode: 'at least' | 'exactly' = 'at least'): Promise<void> {
  const deadline = Date.now() + 5000;
  const done = () => (mode === 'exactly' ? server.app.services.bus.listenerCount() === count : server.app.services.bus.listenerCount() >= count);
  while (!done()) {
    if (Date.now() > deadline) {
      throw new Error(`Timed out after 5 s waiting for ${mode} ${count} bus listener(s); found ${server.app.services.bus.listenerCount()}.`);
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** One row of a board's event log, with its payload parsed. */
export interface EventRow {
  sequence: number;
  type: string;
  payload: any;
  actorId: string | null;
}

/** Reads a board's BoardEvent rows, oldest first, straight from the server's database. */
export async function readEventLog(server: Pick<TestServer, 'databaseUrl'>, boardGlobalId: string): Promise<EventRow[]> {
  const rows = await queryRows<EventRow & { payload: string }>(
    server.databaseUrl,
    'SELECT "sequence", "type", "payload", "actorId" FROM "BoardEvent" WHERE "boardId" = ? ORDER BY "sequence"',
    decodeGlobalID(boardGlobalId).id,
  );
  return rows.map((row) => ({ ...row, payload: JSON.parse(row.payload) }));
}
