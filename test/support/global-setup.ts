import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migrateDatabase } from '../../src/db/migrate.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Folder for this run's files and SQLite databases; removed when the run ends. */
    testRoot: string;
    /** DATABASE_URL of a migrated database that each test database is copied from. */
    templateDatabaseUrl: string;
    /** Name prefix of this run's PostgreSQL databases; they are dropped when the run ends. */
    postgresPrefix: string;
  }
}

const defaultPostgresUrl = 'postgresql://postgres@127.0.0.1:5432/test';

/**
 * Migrates one template database per project once; every test server starts
 * from a copy of it. On PostgreSQL the template and each copy are databases
 * named after this run, all dropped at the end.
 */
export default async function setup(project: TestProject) {
  const kind = project.config.env?.TEST_DATABASE === 'postgresql' ? 'postgresql' : 'sqlite';
  const testRoot = fs.mkdtempSync(path.join(os.tmpdir(), `tandem-test-${kind}-`));
  project.provide('testRoot', testRoot);
  const postgresPrefix = `tandem_test_${path.basename(testRoot).split('-').pop()!.toLowerCase()}_`;
  project.provide('postgresPrefix', postgresPrefix);

  if (kind === 'sqlite') {
    const template = `file:${path.join(testRoot, 'template.db')}`;
    await migrateDatabase(template);
    project.provide('templateDatabaseUrl', template);
    return () => fs.rmSync(testRoot, { recursive: true, force: true });
  }

  const adminUrl = process.env.POSTGRES_URL ?? defaultPostgresUrl;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      return await client.query<{ datname: string }>(sql);
    } finally {
      await client.end();
    }
  };
  const templateName = `${postgresPrefix}template`;
  await admin(`CREATE DATABASE "${templateName}"`);
  const template = new URL(adminUrl);
  template.pathname = `/${templateName}`;
  await migrateDatabase(template.toString());
  project.provide('templateDatabaseUrl', template.toString());
  return async () => {
    const { rows } = await admin(`SELECT datname FROM pg_database WHERE datname LIKE '${postgresPrefix}%'`);
    for (const { datname } of rows) await admin(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    fs.rmSync(testRoot, { recursive: true, force: true });
  };
}
