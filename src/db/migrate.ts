import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';

const run = promisify(execFile);
const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
const migrationsDir = path.join(projectRoot, 'prisma', 'migrations');

/** Thrown when `prisma migrate deploy` fails; carries the CLI's own output. */
export class MigrationError extends Error {
  override name = 'MigrationError';
}

/** Returns the names of the migrations in prisma/migrations that the database has not applied. */
export function pendingMigrations(databaseFile: string): string[] {
  const all = fs
    .readdirSync(migrationsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && fs.existsSync(path.join(migrationsDir, entry.name, 'migration.sql')))
    .map((entry) => entry.name)
    .sort();
  if (!fs.existsSync(databaseFile)) return all;
  const db = new Database(databaseFile, { readonly: true, fileMustExist: true });
  try {
    const table = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_prisma_migrations'").get();
    if (!table) return all;
    const rows = db
      .prepare('SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL')
      .all() as { migration_name: string }[];
    const applied = new Set(rows.map((row) => row.migration_name));
    return all.filter((name) => !applied.has(name));
  } finally {
    db.close();
  }
}

/**
 * Applies every pending migration in prisma/migrations to the database, with
 * the Prisma CLI in its engine-free mode (prisma/prisma.config.ts). When nothing is
 * pending, the CLI is not run at all, so a second process can start on a
 * database a running server has open.
 */
export async function migrateDatabase(databaseUrl: string): Promise<void> {
  const file = path.resolve(databaseUrl.replace(/^file:/, ''));
  // SQLite creates the file but not its folder.
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const pending = pendingMigrations(file);
  if (pending.length === 0) return;

  const require = createRequire(import.meta.url);
  const cli = path.join(path.dirname(require.resolve('prisma/package.json')), 'build', 'index.js');
  try {
    await run(process.execPath, [cli, 'migrate', 'deploy', '--config', path.join(projectRoot, 'prisma', 'prisma.config.ts')], {
      cwd: projectRoot,
      env: { ...process.env, DATABASE_URL: `file:${file}`, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
      timeout: 120_000,
    });
  } catch (error) {
    const output = error as { stdout?: string; stderr?: string };
    const detail = `${output.stderr ?? ''}\n${output.stdout ?? ''}`.trim();
    // The driver adapter reports SQLITE_BUSY as a "SocketTimeout" the CLI cannot name.
    if (detail.includes('SocketTimeout')) {
      throw new MigrationError(
        `Could not apply ${pending.length} pending migration(s) (${pending.join(', ')}) to ${file}: the database is in use by another process, probably a running Tandem server. Stop it, then start again.`,
        { cause: error },
      );
    }
    throw new MigrationError(`Migrating ${file} failed: ${detail || String(error)}`, { cause: error });
  }
}
