import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PrismaPg } from '@prisma/adapter-pg';
import { defineConfig } from 'prisma/config';

// The Prisma CLI for PostgreSQL, without native engines. Migrations run
// through @prisma/adapter-pg 7.10, whose 6.19 release cannot read the
// migration table (see the README).
const folder = path.dirname(fileURLToPath(import.meta.url));
const url = process.env.DATABASE_URL?.startsWith('postgres') ? process.env.DATABASE_URL : undefined;
// `prisma generate` connects to no database, but without a postgresql:// URL
// in the datasource it goes looking for a native engine it cannot download.
// Migrate commands still need the real URL; the adapter factory checks it.
if (!url) process.env.DATABASE_URL = 'postgresql://127.0.0.1:5432/unset';

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: path.join(folder, 'schema'),
  migrations: { path: path.join(folder, 'migrations') },
  async adapter() {
    if (!url) {
      throw new Error('Set DATABASE_URL to a postgresql:// URL to run Prisma migrate commands on PostgreSQL.');
    }
    // allowExitOnIdle: the CLI never closes the pool, so idle connections
    // would otherwise keep it running for pg's 10-second idle timeout.
    return new PrismaPg({ connectionString: url, allowExitOnIdle: true, idleTimeoutMillis: 50 });
  },
});
