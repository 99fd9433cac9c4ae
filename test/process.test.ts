import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { adminQuery, createTestDatabase, postgresDatabaseUrl, queryRows, testDatabase } from './support/database.js';
import { freePort } from './support/private-services.js';
import { serverEnvironment } from './support/processes.js';


/** Process groups of the servers started by the current test; killed after it, whatever happened. */
const groups: number[] = [];

afterEach(() => {
  // The whole group goes, with anything the server started.
  for (const group of groups.splice(0)) {
    try {
      process.kill(-group, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

/** Runs src/main.ts as `npm start` does, with `env` added, and collects its output. */
function startProcess(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env: serverEnvironment(env), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  groups.push(child.pid!);
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const started = new Promise<string>((resolve, reject) => {
    const check = () => {
      const match = /"url":"([^"]+)".*"msg":"Tandem started"/.exec(output);
      if (match) resolve(match[1]!);
    };
    child.stdout.on('data', check);
    void exited.then((code) => reject(new Error(`exited with ${code} before starting:\n${output}`)));
  });
  return { child, started, exited, output: () => output };
}

describe('server process', () => {
  it.runIf(testDatabase === 'sqlite')('starts, migrates, serves and stops on SIGTERM', async () => {
    const dir = fs.mkdtempSync(path.join(inject('testRoot'), 'process-'));
    const server = startProcess({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `file:${dir}/data/tandem.db` });
    const url = await server.started;
    expect(fs.existsSync(path.join(dir, 'data', 'tandem.db'))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'data', 'token-secret'))).toBe(true);
    expect(server.output()).toMatch(/TOKEN_SECRET is not set/);

    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
    expect(await response.json()).toEqual({ data: { __typename: 'Query' } });
    const health = await fetch(url.replace('/graphql', '/health'));
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(url.replace('/graphql', '/ready'));
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { database: 'ok', bus: 'ok' } });
    const graphiql = await fetch(url, { headers: { accept: 'text/html' } });
    expect(await graphiql.text()).toMatch(/<title>Tandem<\/title>/);

    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(server.output()).toMatch(/Tandem stopped/);
  });

  it.runIf(testDatabase === 'sqlite')('uses WAL journal mode', async () => {
    const dir = fs.mkdtempSync(path.join(inject('testRoot'), 'process-'));
    const server = startProcess({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `file:${dir}/tandem.db` });
    await server.started;
    server.child.kill('SIGTERM');
    await server.exited;
    // WAL mode is stored in the database file, so a new connection reports it.
    const db = new Database(path.join(dir, 'tandem.db'), { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('exits naming an invalid variable', async () => {
    const server = startProcess({ PORT: 'abc' });
    await expect(server.started).rejects.toThrow(/exited with 1/);
    expect(server.output()).toMatch(/PORT="abc": expected a whole number/);
  });

  it('exits naming DATABASE_URL when PostgreSQL is unreachable', async () => {
    const port = await freePort();
    const server = startProcess({ PORT: '0', DATABASE_URL: `postgresql://tandem:secret-password@127.0.0.1:${port}/tandem` });
    await expect(server.started).rejects.toThrow(/exited with 1/);
    expect(server.output()).toMatch(new RegExp(`Cannot connect to PostgreSQL at postgresql://tandem:\\*\\*\\*@127\\.0\\.0\\.1:${port}/tandem \\(DATABASE_URL\\): .*ECONNREFUSED`));
    expect(server.output()).not.toMatch(/secret-password/);
  });

  it('exits naming REDIS_URL when Redis is unreachable', async () => {
    const port = await freePort();
    const server = startProcess({ PORT: '0', DATABASE_URL: await createTestDatabase(), REDIS_URL: `redis://127.0.0.1:${port}` });
    await expect(server.started).rejects.toThrow(/exited with 1/);
    expect(server.output()).toMatch(new RegExp(`Cannot connect to Redis at REDIS_URL=redis://127\\.0\\.0\\.1:${port}.*ECONNREFUSED.*Start Redis or fix REDIS_URL`));
  });

  it.runIf(testDatabase === 'postgresql')('migrates an empty PostgreSQL database', { timeout: 60_000 }, async () => {
    const name = `${inject('postgresPrefix')}${process.pid}_empty`;
    await adminQuery(`CREATE DATABASE "${name}"`);
    const databaseUrl = postgresDatabaseUrl(name);
    const server = startProcess({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: databaseUrl, TOKEN_SECRET: 'process-test-secret-process-test-secret' });
    const url = await server.started;
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
    expect(await response.json()).toEqual({ data: { __typename: 'Query' } });
    const applied = await queryRows<{ migration_name: string }>(databaseUrl, 'SELECT "migration_name" FROM "_prisma_migrations" WHERE "finished_at" IS NOT NULL');
    expect(applied.map((row) => row.migration_name)).toEqual(fs.readdirSync('prisma/postgresql/migrations').filter((entry) => !entry.endsWith('.toml')));
    expect(server.output()).toMatch(/"msg":"applied pending migrations"/);
    expect(server.output()).toMatch(/REDIS_URL is unset: events and presence stay inside this process/);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });

  it('refuses production without TOKEN_SECRET', async () => {
    const dir = fs.mkdtempSync(path.join(inject('testRoot'), 'process-'));
    const server = startProcess({ NODE_ENV: 'production', PORT: '0', DATABASE_URL: `file:${dir}/tandem.db` });
    await expect(server.started).rejects.toThrow(/exited with 1/);
    expect(server.output()).toMatch(/TOKEN_SECRET is required when NODE_ENV=production/);
  });
});
