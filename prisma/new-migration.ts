/**
 * Writes a migration for the changes to prisma/schema since the last commit:
 *
 *   npm run migrate:new -- add_card_labels
 *
 * Prisma's own `migrate dev` needs a shadow database, which its engine-free
 * mode cannot create for SQLite, so this diffs the committed data model
 * against the working one with `prisma migrate diff`. Review the SQL before
 * committing it together with the schema change.
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

const committed = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-schema-'));
for (const file of ['datasource.prisma', 'models.prisma']) {
  fs.writeFileSync(path.join(committed, file), execFileSync('git', ['show', `HEAD:prisma/schema/${file}`]));
}
const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
const folder = path.join('prisma', 'migrations', `${stamp}_${name}`);
fs.mkdirSync(folder, { recursive: true });
const output = path.join(folder, 'migration.sql');
execFileSync(
  'npx',
  ['prisma', 'migrate', 'diff', '--config', 'prisma/prisma.config.ts', '--from-schema-datamodel', committed, '--to-schema-datamodel', 'prisma/schema', '--script', '-o', output],
  // The CLI opens the database named in DATABASE_URL even for a diff of two data models.
  { stdio: 'inherit', env: { ...process.env, DATABASE_URL: `file:${path.join(committed, 'scratch.db')}` } },
);
if (fs.readFileSync(output, 'utf8').trim() === '' || /This is an empty migration/.test(fs.readFileSync(output, 'utf8'))) {
  fs.rmSync(folder, { recursive: true });
  process.stdout.write('prisma/schema has no changes since the last commit; no migration written.\n');
} else {
  process.stdout.write(`Wrote ${output}. Review it, then commit it with the schema change.\n`);
}
