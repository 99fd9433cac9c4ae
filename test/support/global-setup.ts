import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { migrateDatabase } from '../../src/db/migrate.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Folder for this run's databases; removed when the run ends. */
    testRoot: string;
    /** A migrated SQLite database that test servers copy. */
    templateDatabase: string;
  }
}

/** Migrates one template database once; every test server starts from a copy of it. */
export default async function setup(project: TestProject) {
  const testRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-test-'));
  const templateDatabase = path.join(testRoot, 'template.db');
  await migrateDatabase(`file:${templateDatabase}`);
  project.provide('testRoot', testRoot);
  project.provide('templateDatabase', templateDatabase);
  return () => fs.rmSync(testRoot, { recursive: true, force: true });
}
