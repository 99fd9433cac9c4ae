import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const projectRoot = fileURLToPath(new URL('../..', import.meta.url));

/** Thrown when `prisma migrate deploy` fails; carries the CLI's own output. */
export class MigrationError extends Error {
  override name = 'MigrationError';
}

/**
 * Applies every pending migration in prisma/migrations to the database, with
 * the Prisma CLI in its engine-free mode (prisma.config.ts). Safe to run on
 * every start: applied migrations are skipped.
 */
export async function migrateDatabase(databaseUrl: string): Promise<void> {
  // SQLite creates the file but not its folder.
  fs.mkdirSync(path.dirname(path.resolve(databaseUrl.replace(/^file:/, ''))), { recursive: true });
  const require = createRequire(import.meta.url);
  const cli = path.join(path.dirname(require.resolve('prisma/package.json')), 'build', 'index.js');
  try {
    await run(process.execPath, [cli, 'migrate', 'deploy', '--config', path.join(projectRoot, 'prisma.config.ts')], {
      cwd: projectRoot,
      env: { ...process.env, DATABASE_URL: databaseUrl, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
      timeout: 120_000,
    });
  } catch (error) {
    const output = error as { stdout?: string; stderr?: string };
    const detail = `${output.stderr ?? ''}\n${output.stdout ?? ''}`.trim();
    throw new MigrationError(`Migrating ${databaseUrl} failed: ${detail || String(error)}`, { cause: error });
  }
}
