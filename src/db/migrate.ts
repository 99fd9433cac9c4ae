import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { databaseKind, describeDatabase, sqlitePath, unreachable, type DatabaseKind } from './client.js';

const projectRoot = fileURLToPath(new URL('../..', import.meta.url));

/** Thrown when `prisma migrate deploy` fails; carries the CLI's own output. */
export class MigrationError extends Error {
  override name = 'MigrationError';
}

/** Returns the folder of a database kind's committed migrations: prisma/sqlite/migrations or prisma/postgresql/migrations. */
export function migrationsFolder(kind: DatabaseKind): string {
  return path.join(projectRoot, 'prisma', kind, 'migrations');
}

function committedMigrations(kind: DatabaseKind): string[] {
  const folder = migrationsFolder(kind);
  return fs
    .readdirSync(folder, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && fs.existsSync(path.join(folder, entry.name, 'migration.sql')))
    .map((entry) => entry.name)
    .sort();
}

const appliedQuery = 'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL';

async function appliedMigrations(databaseUrl: string): Promise<Set<string>> {
  if (databaseKind(databaseUrl) === 'sqlite') {
    const file = sqlitePath(databaseUrl);
    if (!fs.existsSync(file)) return new Set();
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      const table = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_prisma_migrations'").get();
      if (!table) return new Set();
      return new Set((db.prepare(appliedQuery).all() as { migration_name: string }[]).map((row) => row.migration_name));
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
  } catch (error) {
    throw unreachable(databaseUrl, error);
  }
  try {
    const table = await client.query("SELECT to_regclass('_prisma_migrations') IS NOT NULL AS present");
    if (!table.rows[0].present) return new Set();
    return new Set((await client.query<{ migration_name: string }>(appliedQuery)).rows.map((row) => row.migration_name));
  } finally {
    await client.end();
  }
}

/** Returns the names of the committed migrations that the database has not applied. */
export async function pendingMigrations(databaseUrl: string): Promise<string[]> {
  const applied = await appliedMigrations(databaseUrl);
  return committedMigrations(databaseKind(databaseUrl)).filter((name) => !applied.has(name));
}

/**
 * Applies every pending migration of the database's kind, with the Prisma
 * CLI in its engine-free mode (prisma/<kind>/prisma.config.ts). When nothing
 * is pending, the CLI is not run at all, so another process can start on a
 * database a running server has open. On PostgreSQL, instances starting at
 * once are safe: `migrate deploy` holds an advisory lock while it works.
 * Returns the names of the migrations applied.
 */
export async function migrateDatabase(databaseUrl: string): Promise<string[]> {
  const kind = databaseKind(databaseUrl);
  const url = kind === 'sqlite' ? `file:${sqlitePath(databaseUrl)}` : databaseUrl;
  // SQLite creates the file but not its folder.
  if (kind === 'sqlite') fs.mkdirSync(path.dirname(sqlitePath(url)), { recursive: true });
  const pending = await pendingMigrations(url);
  if (pending.length === 0) return [];

  const require = createRequire(import.meta.url);
  const cli = path.join(path.dirname(require.resolve('prisma/package.json')), 'build', 'index.js');
  const where = describeDatabase(url);
  try {
    const output = await runMigrateDeploy(cli, kind, url);
    // Another instance starting at the same time may have applied them first.
    return /No pending migrations to apply/.test(output) ? [] : pending;
  } catch (error) {
    const detail = error instanceof CliError ? error.output.trim() : '';
    // The driver adapter reports SQLITE_BUSY as a "SocketTimeout" the CLI cannot name.
    if (kind === 'sqlite' && detail.includes('SocketTimeout')) {
      throw new MigrationError(
        `Could not apply ${pending.length} pending migration(s) (${pending.join(', ')}) to ${where}: the database is in use by another process, probably a running Tandem server. Stop it, then start again.`,
        { cause: error },
      );
    }
    throw new MigrationError(`Migrating ${where} failed: ${detail || String(error)}`, { cause: error });
  }
}

class CliError extends Error {
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(message);
  }
}

/** Sentences with which `prisma migrate deploy` reports success. */
const deployed = /All migrations have been successfully applied|No pending migrations to apply/;

/**
 * Runs `prisma migrate deploy` and resolves with its output when it has reported success.
 *
 * NOTE: on PostgreSQL the CLI's WebAssembly schema engine leaves a 10-second
 * timer behind, which keeps the process alive after its work is done. Once it
 * has printed its success line and has not exited half a second later, it is
 * stopped, so a start with migrations to apply does not wait 10 seconds more.
 */
function runMigrateDeploy(cli: string, kind: DatabaseKind, url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'migrate', 'deploy', '--config', path.join(projectRoot, 'prisma', kind, 'prisma.config.ts')], {
      cwd: projectRoot,
      // CHECKPOINT_DISABLE stops the CLI's update check, a request to Prisma's servers.
      env: { ...process.env, DATABASE_URL: url, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let succeeded = false;
    let linger: NodeJS.Timeout | undefined;
    const limit = setTimeout(() => child.kill('SIGKILL'), 120_000);
    const collect = (chunk: Buffer) => {
      output += chunk;
      if (!succeeded && deployed.test(output)) {
        succeeded = true;
        linger = setTimeout(() => child.kill('SIGTERM'), 500);
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('error', (error) => reject(new CliError(`The Prisma CLI could not be started: ${error.message}`, output)));
    child.once('exit', (code, signal) => {
      clearTimeout(limit);
      clearTimeout(linger);
      if (code === 0 || succeeded) resolve(output);
      else reject(new CliError(`prisma migrate deploy exited with ${code ?? signal}`, output));
    });
  });
}
