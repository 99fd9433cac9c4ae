import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { defineConfig } from 'prisma/config';

// The Prisma CLI (migrate deploy, migrate diff, generate) runs here without
// native engines: migrations go through the same driver adapter as the app.
// The schema's datasource reads DATABASE_URL too, so the default is set here,
// also when DATABASE_URL names PostgreSQL (`npm install` on such a machine
// generates both clients).
if (!process.env.DATABASE_URL?.startsWith('file:')) process.env.DATABASE_URL = 'file:./data/tandem.db';
const url = process.env.DATABASE_URL;

const folder = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: path.join(folder, 'schema'),
  migrations: { path: path.join(folder, 'migrations') },
  async adapter() {
    return new PrismaBetterSQLite3({ url });
  },
});
