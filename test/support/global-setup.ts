import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { migrateDatabase } from '../../src/db/migrate.js';
import { adminQuery, postgresDatabaseUrl } from './database.js';

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

  const templateUrl = postgresDatabaseUrl(`${postgresPrefix}template`);
  await adminQuery(`CREATE DATABASE "${postgresPrefix}template"`);
  await migrateDatabase(templateUrl);
  project.provide('templateDatabaseUrl', templateUrl);
  return async () => {
    const rows = await adminQuery<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE '${postgresPrefix}%'`);
    for (const { datname } of rows) await adminQuery(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    fs.rmSync(testRoot, { recursive: true, force: true });
  };
}
