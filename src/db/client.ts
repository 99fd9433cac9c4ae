import fs from 'node:fs';
import path from 'node:path';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaClient } from './generated/client/client.js';

export { Prisma, PrismaClient, Role } from './generated/client/client.js';
export type { Board, BoardEvent, Card, Column, Comment, Membership, Session, User, Workspace } from './generated/client/client.js';

/** A Prisma client, or the client handed to an interactive transaction. */
export type Database = PrismaClient;
export type Transaction = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];

/** Observes every SQL statement the client sends; used by tests to count them. */
export type QueryListener = (event: { query: string; durationMs: number }) => void;

/** Returns the file path of a `file:` URL, resolved from the working directory. */
export function sqlitePath(databaseUrl: string): string {
  return path.resolve(databaseUrl.replace(/^file:/, ''));
}

/**
 * Opens the SQLite database in WAL mode, in which reads do not block on the single writer.
 * The folder is created when missing.
 */
export async function openDatabase(databaseUrl: string, onQuery?: QueryListener): Promise<Database> {
  const file = sqlitePath(databaseUrl);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const adapter = new PrismaBetterSQLite3({ url: `file:${file}` });
  const db = new PrismaClient({
    adapter,
    log: onQuery ? [{ emit: 'event', level: 'query' }] : [],
  });
  if (onQuery) {
    db.$on('query', (event) => onQuery({ query: event.query, durationMs: event.duration }));
  }
  // journal_mode returns a row, so it goes through $queryRaw. busy_timeout
  // covers other processes (the Prisma CLI, a seed script) holding the lock.
  await db.$queryRawUnsafe('PRAGMA journal_mode = WAL');
  await db.$queryRawUnsafe('PRAGMA busy_timeout = 5000');
  await db.$executeRawUnsafe('PRAGMA synchronous = NORMAL');
  await db.$executeRawUnsafe('PRAGMA foreign_keys = ON');
  return db;
}
