import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { inject } from 'vitest';
import { databaseKind, sqlitePath, type DatabaseKind } from '../../src/db/client.js';

/**
 * The database this test project runs on. The vitest config runs every suite
 * once per kind: `sqlite` always, `postgresql` when PostgreSQL is reachable.
 */
export const testDatabase: DatabaseKind = process.env.TEST_DATABASE === 'postgresql' ? 'postgresql' : 'sqlite';

/** PostgreSQL for the tests: POSTGRES_URL, or the machine's default. Databases are created on this server. */
export const testPostgresUrl = process.env.POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

/** Returns the URL of a database named `name` on the test PostgreSQL server. */
export function postgresDatabaseUrl(name: string): string {
  const url = new URL(testPostgresUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Runs one statement on a PostgreSQL server's administrative database (by default the test server's) and returns its rows. */
export async function adminQuery<T extends pg.QueryResultRow = Record<string, unknown>>(sql: string, serverUrl = testPostgresUrl): Promise<T[]> {
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** Parses bigint (COUNT(*) and the like) as a number, as better-sqlite3 does; pg's default is a string. */
const numericCounts: typeof pg.types.getTypeParser = ((oid: number, format?: 'text' | 'binary') =>
  oid === pg.types.builtins.INT8 ? Number : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser;

const run = promisify(execFile);
let created = 0;

/**
 * Creates an empty, migrated database for one test server and returns its
 * DATABASE_URL: a copy of the template file on SQLite, or a new database
 * made from the template database on PostgreSQL.
 */
export async function createTestDatabase(from = inject('templateDatabaseUrl')): Promise<string> {
  if (testDatabase === 'sqlite') {
    const file = path.join(inject('testRoot'), `${randomUUID()}.db`);
    fs.copyFileSync(sqlitePath(from), file);
    return `file:${file}`;
  }
  created += 1;
  const name = `${inject('postgresPrefix')}${process.pid}_${created}`;
  await adminQuery(`CREATE DATABASE "${name}" TEMPLATE "${new URL(from).pathname.slice(1)}"`);
  return postgresDatabaseUrl(name);
}

/**
 * Runs a query on a test database and returns its rows. Write `?` for
 * parameters and double-quote table and column names; both databases accept
 * that. Counts come back as numbers on both.
 */
export async function queryRows<T = Record<string, unknown>>(databaseUrl: string, sql: string, ...params: unknown[]): Promise<T[]> {
  if (databaseKind(databaseUrl) === 'sqlite') {
    const db = new Database(sqlitePath(databaseUrl), { readonly: true, fileMustExist: true });
    try {
      return db.prepare(sql).all(...params) as T[];
    } finally {
      db.close();
    }
  }
  let index = 0;
  const numbered = sql.replace(/\?/g, () => `$${++index}`);
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5_000, types: { getTypeParser: numericCounts } });
  await client.connect();
  try {
    return (await client.query(numbered, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/**
 * Copies a test database while a server has it open and returns the copy's
 * DATABASE_URL: SQLite's online backup, or pg_dump piped into psql (a
 * template copy would need the server's connections closed).
 */
export async function backupTestDatabase(databaseUrl: string): Promise<string> {
  if (databaseKind(databaseUrl) === 'sqlite') {
    const file = path.join(inject('testRoot'), `${randomUUID()}-backup.db`);
    const source = new Database(sqlitePath(databaseUrl), { readonly: true });
    try {
      await source.backup(file);
    } finally {
      source.close();
    }
    return `file:${file}`;
  }
  created += 1;
  const name = `${inject('postgresPrefix')}${process.pid}_${created}_backup`;
  await adminQuery(`CREATE DATABASE "${name}"`);
  const copy = postgresDatabaseUrl(name);
  const { stdout } = await run('pg_dump', ['--no-owner', '--dbname', databaseUrl], { maxBuffer: 64 * 1024 * 1024 });
  await new Promise<void>((resolve, reject) => {
    const child = execFile('psql', ['--quiet', '--set', 'ON_ERROR_STOP=1', '--dbname', copy], (error) => (error ? reject(error) : resolve()));
    child.stdin!.end(stdout);
  });
  return copy;
}
