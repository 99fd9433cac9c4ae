import fs from 'node:fs';
import path from 'node:path';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient as PostgresClient } from './generated/postgresql/client.js';
import { PrismaClient } from './generated/sqlite/client.js';

export { Prisma, PrismaClient, Role } from './generated/sqlite/client.js';
export type { Board, BoardEvent, Card, Column, Comment, Membership, Session, User, Workspace } from './generated/sqlite/client.js';

/**
 * A Prisma client, or the client handed to an interactive transaction. Both
 * generated clients come from one data model and have the same API; the
 * SQLite client's type stands for both.
 */
export type Database = PrismaClient;
export type Transaction = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];

/** The database kind that a DATABASE_URL selects. */
export type DatabaseKind = 'sqlite' | 'postgresql';

/** Observes every SQL statement the client sends; used by tests to count them. */
export type QueryListener = (event: { query: string; durationMs: number }) => void;

export interface DatabaseOptions {
  onQuery?: QueryListener;
  /** Maximum number of connections to PostgreSQL; SQLite uses one. */
  poolSize?: number;
  /** Told about a connection that failed while idle, such as during a PostgreSQL restart. */
  onConnectionError?: (error: Error) => void;
}

/** Thrown when the database cannot be reached at start-up. */
export class DatabaseUnreachableError extends Error {
  override name = 'DatabaseUnreachableError';
}

export function databaseKind(databaseUrl: string): DatabaseKind {
  return databaseUrl.startsWith('file:') ? 'sqlite' : 'postgresql';
}

/** Returns the file path of a `file:` URL, resolved from the working directory. */
export function sqlitePath(databaseUrl: string): string {
  return path.resolve(databaseUrl.replace(/^file:/, ''));
}

/** Returns the folder for local files such as the development token secret: the SQLite file's, or ./data with PostgreSQL. */
export function dataDirectory(databaseUrl: string): string {
  return databaseKind(databaseUrl) === 'sqlite' ? path.dirname(sqlitePath(databaseUrl)) : path.resolve('data');
}

/** Returns the URL without its password, for messages and logs. */
export function describeDatabase(databaseUrl: string): string {
  if (databaseKind(databaseUrl) === 'sqlite') return sqlitePath(databaseUrl);
  try {
    const url = new URL(databaseUrl);
    if (url.password) url.password = '***';
    // pg also takes the password as a query parameter.
    for (const name of [...url.searchParams.keys()]) {
      if (/pass/i.test(name)) url.searchParams.set(name, '***');
    }
    return url.toString();
  } catch {
    return 'the PostgreSQL server in DATABASE_URL';
  }
}

/** Opens the database that `databaseUrl` names: a SQLite file or a PostgreSQL server. */
export async function openDatabase(databaseUrl: string, options: DatabaseOptions = {}): Promise<Database> {
  return databaseKind(databaseUrl) === 'sqlite' ? openSqlite(databaseUrl, options) : openPostgres(databaseUrl, options);
}

function clientOptions(options: DatabaseOptions) {
  return { log: options.onQuery ? [{ emit: 'event' as const, level: 'query' as const }] : [] };
}

/** The part of a client built with query logging on that the listener needs. */
interface QueryEvents {
  $on(event: 'query', listener: (event: { query: string; duration: number }) => void): void;
}

function listen(db: Database, options: DatabaseOptions): Database {
  const { onQuery } = options;
  if (onQuery) (db as unknown as QueryEvents).$on('query', (event) => onQuery({ query: event.query, durationMs: event.duration }));
  return db;
}

/**
 * Opens the SQLite database in WAL mode, in which reads do not block on the single writer.
 * The folder is created when missing.
 */
async function openSqlite(databaseUrl: string, options: DatabaseOptions): Promise<Database> {
  const file = sqlitePath(databaseUrl);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = listen(new PrismaClient({ adapter: new PrismaBetterSQLite3({ url: `file:${file}` }), ...clientOptions(options) }), options);
  // journal_mode returns a row, so it goes through $queryRaw. busy_timeout
  // covers other processes (the Prisma CLI, a seed script) holding the lock.
  await db.$queryRawUnsafe('PRAGMA journal_mode = WAL');
  await db.$queryRawUnsafe('PRAGMA busy_timeout = 5000');
  await db.$executeRawUnsafe('PRAGMA synchronous = NORMAL');
  await db.$executeRawUnsafe('PRAGMA foreign_keys = ON');
  return db;
}

/**
 * Opens a pool of connections to PostgreSQL and checks that one connects.
 * Connections broken later (a server restart) are replaced on next use; the
 * queries on them fail, which the caller sees as DATABASE_UNAVAILABLE.
 *
 * @throws DatabaseUnreachableError naming DATABASE_URL when no connection can be made.
 */
async function openPostgres(databaseUrl: string, options: DatabaseOptions): Promise<Database> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: options.poolSize ?? 10, connectionTimeoutMillis: 5_000 });
  const adapter = new PrismaPg(pool, {
    disposeExternalPool: true,
    // Without a listener, an idle connection's error would end the process.
    onPoolError: (error) => options.onConnectionError?.(error),
    onConnectionError: (error) => options.onConnectionError?.(error),
  });
  const client = new PostgresClient({ adapter, ...clientOptions(options) });
  const db = listen(client as unknown as Database, options);
  try {
    await db.$queryRawUnsafe('SELECT 1');
  } catch (error) {
    await db.$disconnect().catch(() => undefined);
    throw unreachable(databaseUrl, error);
  }
  return db;
}

/** Builds the start-up error for a PostgreSQL server that refused or failed the first connection. */
export function unreachable(databaseUrl: string, error: unknown): DatabaseUnreachableError {
  return new DatabaseUnreachableError(
    `Cannot connect to PostgreSQL at ${describeDatabase(databaseUrl)} (DATABASE_URL): ${reason(error)}. Check that the server runs and that the URL's host, port, user, password and database are right.`,
    { cause: error },
  );
}

function reason(error: unknown): string {
  const cause = (error as { cause?: unknown })?.cause;
  const messages = [error, cause].map((value) => (value instanceof Error ? value.message : '')).filter(Boolean);
  return messages.join(': ') || String(error);
}

/** Prisma error codes that mean the database could not be reached or the connection broke. */
const unreachableCodes = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
/** Kinds of driver adapter errors that mean the same. */
const unreachableKinds = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections', 'TransactionAlreadyClosed']);
/** Messages of pg and Node for a connection refused or cut. */
const unreachableMessage = /Connection terminated|ECONNREFUSED|ECONNRESET|EPIPE|the database system is (starting up|shutting down|in recovery mode)|terminating connection due to administrator command/i;

/**
 * True when `error` (or an error it wraps) reports that the database could not be
 * reached or dropped the connection, as during a PostgreSQL restart: a
 * condition that passes, unlike a bug or bad input.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; depth += 1) {
    const candidate = current as { code?: unknown; message?: unknown; meta?: { driverAdapterError?: { cause?: { kind?: string } } }; cause?: unknown };
    if (typeof candidate.code === 'string' && unreachableCodes.has(candidate.code)) return true;
    const kind = candidate.meta?.driverAdapterError?.cause?.kind;
    if (kind && unreachableKinds.has(kind)) return true;
    if (typeof candidate.message === 'string' && unreachableMessage.test(candidate.message)) return true;
    current = candidate.cause;
  }
  return false;
}
