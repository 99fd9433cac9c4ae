import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual, promisify } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { migrateDatabase } from '../src/db/migrate.js';
import { adminQuery, postgresDatabaseUrl, testDatabase } from './support/database.js';

// Checks that the committed migrations of the current project's database kind
// build the schema that prisma/models.prisma describes. Database A gets the
// migrations (as a deployed server would), database B gets the SQL that
// `prisma migrate diff --from-empty` writes for the model, and the test
// compares the two catalogs. The comparison is done here because Prisma 6.19
// with a driver adapter cannot do it: `migrate diff --from-url` is rejected,
// and `--from-migrations` fails with P3006 on SQLite.

const run = promisify(execFile);
const projectRoot = fileURLToPath(new URL('..', import.meta.url));
const prismaFolder = path.join(projectRoot, 'prisma', testDatabase);
const prismaCli = path.join(path.dirname(createRequire(import.meta.url).resolve('prisma/package.json')), 'build', 'index.js');

/**
 * The schema objects of one database, keyed by a readable name such as
 * `column "Card"."position"`. Keys sort and print well in a test diff, and
 * an object that exists on one side only shows up as one added or removed key.
 */
type Catalog = Record<string, Record<string, unknown>>;

/**
 * Runs `prisma migrate diff --from-empty --to-schema-datamodel` for a schema
 * folder and returns the SQL that creates the schema from nothing. The CLI
 * opens the database in `databaseUrl` and fails when it does not exist, but
 * creates no tables in it.
 */
async function modelSql(schemaFolder: string, databaseUrl: string): Promise<string> {
  const args = ['migrate', 'diff', '--config', path.join(prismaFolder, 'prisma.config.ts')];
  args.push('--from-empty', '--to-schema-datamodel', schemaFolder, '--script');
  const { stdout } = await run(process.execPath, [prismaCli, ...args], {
    cwd: projectRoot,
    env: { ...process.env, DATABASE_URL: databaseUrl, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
    timeout: 60_000,
  });
  return stdout;
}

/**
 * Creates an empty database for this test and returns its DATABASE_URL. On
 * PostgreSQL the name carries the run's prefix, so the global setup drops it
 * when the run ends. On SQLite the file sits in the run's folder.
 */
async function createEmptyDatabase(label: string): Promise<string> {
  if (testDatabase === 'sqlite') return `file:${path.join(inject('testRoot'), `migrations-${label}.db`)}`;
  const name = `${inject('postgresPrefix')}drift_${process.pid}_${label}`;
  await adminQuery(`CREATE DATABASE "${name}"`);
  return postgresDatabaseUrl(name);
}

/** Runs a script of several SQL statements on a database that `createEmptyDatabase` returned. */
async function executeScript(databaseUrl: string, sql: string): Promise<void> {
  if (testDatabase === 'sqlite') {
    const db = new Database(databaseUrl.replace(/^file:/, ''));
    try {
      db.exec(sql);
    } finally {
      db.close();
    }
    return;
  }
  await withPostgres(databaseUrl, async (client) => {
    // Without parameters, pg sends the script as one simple query, which may contain many statements.
    await client.query(sql);
  });
}

async function withPostgres<T>(databaseUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * Reads tables, views, triggers, columns, indexes and foreign keys of a
 * SQLite database, without Prisma's _prisma_migrations table and SQLite's
 * own sqlite_* tables. Columns are keyed by name, so column order is ignored,
 * because `ALTER TABLE ADD COLUMN` in a migration appends where the model may not.
 */
function readSqliteCatalog(databaseUrl: string): Catalog {
  const db = new Database(databaseUrl.replace(/^file:/, ''), { readonly: true, fileMustExist: true });
  try {
    const catalog: Catalog = {};
    const objects = db
      .prepare(
        `SELECT type, name, tbl_name AS tableName FROM sqlite_master
         WHERE type IN ('table', 'view', 'trigger') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> '_prisma_migrations'`,
      )
      .all() as { type: string; name: string; tableName: string }[];

    for (const object of objects) {
      catalog[`${object.type} "${object.name}"`] = { table: object.tableName };
      if (object.type !== 'table') continue;
      const table = object.name;

      const columns = db.prepare('SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?)').all(table) as {
        name: string;
        type: string;
        notnull: number;
        dflt_value: string | null;
        pk: number;
      }[];
      for (const column of columns) {
        catalog[`column "${table}"."${column.name}"`] = {
          type: column.type,
          notNull: column.notnull === 1,
          default: column.dflt_value,
          primaryKeyPosition: column.pk,
        };
      }

      const indexes = db.prepare('SELECT name, "unique", origin, partial FROM pragma_index_list(?)').all(table) as {
        name: string;
        unique: number;
        origin: string;
        partial: number;
      }[];
      for (const index of indexes) {
        // index_xinfo also lists the rowid and the sort order. The filter key = 1 keeps the indexed columns only.
        const keys = db.prepare('SELECT name, "desc" FROM pragma_index_xinfo(?) WHERE key = 1 ORDER BY seqno').all(index.name) as {
          name: string | null;
          desc: number;
        }[];
        catalog[`index "${table}"."${index.name}"`] = {
          unique: index.unique === 1,
          origin: index.origin,
          partial: index.partial === 1,
          columns: keys.map((key) => `${key.name ?? '<expression>'}${key.desc === 1 ? ' DESC' : ''}`),
        };
      }

      const references = db
        .prepare('SELECT id, "table", "from", "to", on_update, on_delete, "match" FROM pragma_foreign_key_list(?) ORDER BY id, seq')
        .all(table) as { id: number; table: string; from: string; to: string | null; on_update: string; on_delete: string; match: string }[];
      // A foreign key over several columns comes back as one row per column, all with the same id.
      const foreignKeys = new Map<number, typeof references>();
      for (const reference of references) foreignKeys.set(reference.id, [...(foreignKeys.get(reference.id) ?? []), reference]);
      for (const rows of foreignKeys.values()) {
        const first = rows[0]!;
        const from = rows.map((row) => `"${row.from}"`).join(', ');
        catalog[`foreign key "${table}"(${from}) references "${first.table}"`] = {
          to: rows.map((row) => row.to),
          onUpdate: first.on_update,
          onDelete: first.on_delete,
          match: first.match,
        };
      }
    }
    return catalog;
  } finally {
    db.close();
  }
}

/**
 * Reads tables, columns, indexes, constraints and enum types of the public
 * schema of a PostgreSQL database, without Prisma's _prisma_migrations
 * table. Column collations are left out because the migrations set
 * COLLATE "C" on two columns, which the model cannot express. A separate
 * test checks the collations. Column order is ignored as on SQLite.
 */
async function readPostgresCatalog(databaseUrl: string): Promise<Catalog> {
  return withPostgres(databaseUrl, async (client) => {
    const catalog: Catalog = {};

    const tables = await client.query<{ table_name: string; table_type: string }>(
      `SELECT table_name, table_type FROM information_schema.tables
       WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'`,
    );
    for (const table of tables.rows) catalog[`table "${table.table_name}"`] = { type: table.table_type };

    const columns = await client.query<Record<string, string | number | null>>(
      `SELECT table_name, column_name, data_type, udt_name, is_nullable, column_default,
              character_maximum_length, numeric_precision, numeric_scale, datetime_precision
       FROM information_schema.columns
       WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'`,
    );
    for (const { table_name, column_name, ...details } of columns.rows) {
      catalog[`column "${table_name}"."${column_name}"`] = details;
    }

    const indexes = await client.query<{ tablename: string; indexname: string; indexdef: string }>(
      `SELECT tablename, indexname, indexdef FROM pg_indexes
       WHERE schemaname = 'public' AND tablename <> '_prisma_migrations'`,
    );
    for (const index of indexes.rows) catalog[`index "${index.tablename}"."${index.indexname}"`] = { definition: index.indexdef };

    const constraints = await client.query<{ table_name: string; conname: string; contype: string; definition: string }>(
      `SELECT c.relname AS table_name, k.conname, k.contype, pg_get_constraintdef(k.oid) AS definition
       FROM pg_constraint k
       JOIN pg_class c ON c.oid = k.conrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relname <> '_prisma_migrations'`,
    );
    for (const constraint of constraints.rows) {
      catalog[`constraint "${constraint.table_name}"."${constraint.conname}"`] = { type: constraint.contype, definition: constraint.definition };
    }

    const enums = await client.query<{ typname: string; labels: string[] }>(
      `SELECT t.typname, array_agg(e.enumlabel ORDER BY e.enumsortorder) AS labels
       FROM pg_type t
       JOIN pg_enum e ON e.enumtypid = t.oid
       JOIN pg_namespace n ON n.oid = t.typnamespace
       WHERE n.nspname = 'public'
       GROUP BY t.typname`,
    );
    for (const type of enums.rows) catalog[`enum "${type.typname}"`] = { labels: type.labels };

    return catalog;
  });
}

async function readCatalog(databaseUrl: string): Promise<Catalog> {
  return testDatabase === 'sqlite' ? readSqliteCatalog(databaseUrl) : readPostgresCatalog(databaseUrl);
}

/** Returns the sorted keys whose objects exist on one side only or differ between the two catalogs. */
function differingKeys(a: Catalog, b: Catalog): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((key) => !isDeepStrictEqual(a[key], b[key])).sort();
}

/** Returns a copy of the catalog with its keys in sorted order, so a failure diff lists objects alphabetically. */
function sorted(catalog: Catalog): Catalog {
  const entries = Object.entries(catalog);
  entries.sort(([a], [b]) => a.localeCompare(b));
  return Object.fromEntries(entries);
}

describe(`${testDatabase} migration check`, () => {
  let migratedUrl: string;
  let migrated: Catalog;
  let fromModel: Catalog;

  beforeAll(async () => {
    migratedUrl = await createEmptyDatabase('migrated');
    const modelUrl = await createEmptyDatabase('model');
    const [, sql] = await Promise.all([migrateDatabase(migratedUrl), modelSql(path.join(prismaFolder, 'schema'), modelUrl)]);
    await executeScript(modelUrl, sql);
    [migrated, fromModel] = await Promise.all([readCatalog(migratedUrl), readCatalog(modelUrl)]);
  });

  it('matches the data model', () => {
    // Guards against a comparison that passes because both sides read as empty.
    expect(Object.keys(migrated)).toContain('column "Card"."position"');

    const differences = differingKeys(migrated, fromModel);
    const message =
      `The committed migrations in prisma/${testDatabase}/migrations do not build the schema that prisma/models.prisma describes. ` +
      `Objects that differ: ${differences.join(', ')}. ` +
      `Add a migration for the model change, or remove from the migrations what the model does not declare. ` +
      `The diff below shows the migrated database as "Expected" and the model as "Received".`;
    expect(sorted(fromModel), message).toEqual(sorted(migrated));
  });

  it('detects a model change without a migration', async () => {
    // A copy of the schema folder whose model has one column more than the migrations create.
    const changedFolder = path.join(inject('testRoot'), `migrations-changed-model-${process.pid}`);
    fs.mkdirSync(changedFolder, { recursive: true });
    fs.copyFileSync(path.join(prismaFolder, 'schema', 'datasource.prisma'), path.join(changedFolder, 'datasource.prisma'));
    const models = fs.readFileSync(path.join(projectRoot, 'prisma', 'models.prisma'), 'utf8');
    expect(models).toContain('model Card {\n');
    fs.writeFileSync(path.join(changedFolder, 'models.prisma'), models.replace('model Card {\n', 'model Card {\n  driftProbe String?\n'));

    const changedUrl = await createEmptyDatabase('changed');
    await executeScript(changedUrl, await modelSql(changedFolder, changedUrl));
    const changed = await readCatalog(changedUrl);

    expect(differingKeys(migrated, changed)).toEqual(['column "Card"."driftProbe"']);
  });

  it.runIf(testDatabase === 'postgresql')('finds C collation on position only', async () => {
    // information_schema.columns.collation_name is null for a column with the default collation.
    const collations = await withPostgres(migratedUrl, async (client) => {
      const result = await client.query<{ table_name: string; column_name: string; collation_name: string }>(
        `SELECT table_name, column_name, collation_name FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name <> '_prisma_migrations' AND collation_name IS NOT NULL
         ORDER BY table_name, column_name`,
      );
      return result.rows;
    });

    expect(collations).toEqual([
      { table_name: 'Card', column_name: 'position', collation_name: 'C' },
      { table_name: 'Column', column_name: 'position', collation_name: 'C' },
    ]);
  });
});

describe(`${testDatabase} migrations at start`, () => {
  it.runIf(testDatabase === 'postgresql')('report one applier for concurrent starts', { timeout: 120_000 }, async () => {
    const url = await createEmptyDatabase('concurrent');

    // Two instances starting at once both find the migrations pending; the advisory lock lets one apply them.
    const reports = await Promise.all([migrateDatabase(url), migrateDatabase(url)]);

    const committed = fs
      .readdirSync(path.join(prismaFolder, 'migrations'), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
    const appliers = reports.filter((applied) => applied.length > 0);
    expect(appliers).toHaveLength(1);
    expect(appliers[0]).toEqual(committed);
  });
});
