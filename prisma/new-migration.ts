/**
 * Writes the migrations, one for SQLite and one for PostgreSQL, for the
 * changes to prisma/models.prisma since the last commit:
 *
 *   npm run migrate:new -- add_card_labels
 *
 * Prisma's own `migrate dev` needs a shadow database, which its engine-free
 * mode cannot use, so this diffs the committed data model against the
 * working one with `prisma migrate diff`, once per database kind. The
 * PostgreSQL diff connects to a server (POSTGRES_URL, default the local
 * one) without changing it. Review both files before committing them with
 * the model change; test/migrations.test.ts fails until both match it.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const name = process.argv[2];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  process.stderr.write('Usage: npm run migrate:new -- NAME, where NAME is lower-case letters, digits and underscores.\n');
  process.exit(1);
}

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-schema-'));
const committedModels = execFileSync('git', ['show', 'HEAD:prisma/models.prisma']);
const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
const databases = {
  sqlite: `file:${path.join(scratch, 'scratch.db')}`,
  postgresql: process.env.POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
};

for (const [kind, databaseUrl] of Object.entries(databases)) {
  // The committed models beside the working datasource, as a schema folder of their own.
  const committed = path.join(scratch, kind);
  fs.mkdirSync(committed);
  fs.copyFileSync(path.join('prisma', kind, 'schema', 'datasource.prisma'), path.join(committed, 'datasource.prisma'));
  fs.writeFileSync(path.join(committed, 'models.prisma'), committedModels);

  const folder = path.join('prisma', kind, 'migrations', `${stamp}_${name}`);
  fs.mkdirSync(folder, { recursive: true });
  const output = path.join(folder, 'migration.sql');
  execFileSync(
    'npx',
    ['prisma', 'migrate', 'diff', '--config', `prisma/${kind}/prisma.config.ts`, '--from-schema-datamodel', committed, '--to-schema-datamodel', `prisma/${kind}/schema`, '--script', '-o', output],
    // The CLI opens the database in DATABASE_URL even for a diff of two data models.
    { stdio: 'inherit', env: { ...process.env, DATABASE_URL: databaseUrl, CHECKPOINT_DISABLE: '1' } },
  );
  const sql = fs.readFileSync(output, 'utf8');
  if (sql.trim() === '' || /This is an empty migration/.test(sql)) {
    fs.rmSync(folder, { recursive: true });
    process.stdout.write(`prisma/models.prisma has no changes for ${kind} since the last commit; no migration written.\n`);
  } else {
    process.stdout.write(`Wrote ${output}. Review it, then commit it with the model change.\n`);
  }
}
process.stdout.write('On PostgreSQL, give new columns holding position keys COLLATE "C", as in the first migration.\n');
