import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveTokenSecret } from '../src/auth/secret.js';
import { ConfigError, loadSettings } from '../src/config.js';
import { describeDatabase } from '../src/db/client.js';
import { createLogger } from '../src/observability/logger.js';

describe('loadSettings', () => {
  it('applies the documented defaults', () => {
    const settings = loadSettings({});
    expect(settings.port).toBe(4000);
    expect(settings.host).toBe('localhost');
    expect(settings.databaseUrl).toBe('file:./data/tandem.db');
    expect(settings.logLevel).toBe('info');
    expect(settings.accessTokenTtlSeconds).toBe(900);
    expect(settings.graphiql).toBe(true);
    expect(settings.tokenSecret).toBeUndefined();
  });

  it.each([
    ['PORT', 'eighty', /PORT="eighty": expected a whole number/],
    ['PORT', '70000', /PORT="70000": expected at most 65535/],
    ['DATABASE_URL', 'mysql://127.0.0.1/tandem', /DATABASE_URL=.*expected file:PATH for SQLite .* or postgresql:\/\//],
    ['DATABASE_POOL_SIZE', '0', /DATABASE_POOL_SIZE="0": expected at least 1/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL="loud"/],
    ['TOKEN_SECRET', 'short', /TOKEN_SECRET=\(hidden\): expected at least 32 characters/],
    ['ACCESS_TOKEN_TTL_SECONDS', '5', /ACCESS_TOKEN_TTL_SECONDS="5": expected at least 10/],
    ['METRICS_TOKEN', 'short', /METRICS_TOKEN=\(hidden\): expected at least 16 characters/],
    ['METRICS_TOKEN', 'a token with spaces in it', /METRICS_TOKEN=\(hidden\): expected a token without spaces, as it is sent after "Bearer "/],
  ])('rejects %s=%s', (name, value, message) => {
    expect(() => loadSettings({ [name]: value })).toThrow(ConfigError);
    expect(() => loadSettings({ [name]: value })).toThrow(message);
  });

  it('gives the range for a negative number', () => {
    expect(() => loadSettings({ SHUTDOWN_GRACE_SECONDS: '-1' })).toThrow('SHUTDOWN_GRACE_SECONDS="-1": expected at least 0');
    expect(() => loadSettings({ SHUTDOWN_GRACE_SECONDS: '1.5' })).toThrow('SHUTDOWN_GRACE_SECONDS="1.5": expected a whole number');
  });

  it('selects PostgreSQL by URL', () => {
    const settings = loadSettings({ DATABASE_URL: 'postgresql://tandem:pw@127.0.0.1:5432/tandem', DATABASE_POOL_SIZE: '25' });
    expect(settings.databaseUrl).toBe('postgresql://tandem:pw@127.0.0.1:5432/tandem');
    expect(settings.databasePoolSize).toBe(25);
    expect(loadSettings({ DATABASE_URL: 'postgres://127.0.0.1/tandem' }).databaseUrl).toBe('postgres://127.0.0.1/tandem');
  });

  it('never prints a URL password', () => {
    expect(() => loadSettings({ DATABASE_URL: 'mysql://tandem:hunter2@127.0.0.1/tandem' })).toThrow(/mysql:\/\/tandem:\*\*\*@127\.0\.0\.1/);
    expect(() => loadSettings({ DATABASE_URL: 'mysql://tandem:hunter2@127.0.0.1/tandem' })).not.toThrow(/hunter2/);
  });

  it('never prints a password parameter', () => {
    const url = 'mysql://127.0.0.1/tandem?sslmode=require&password=hunter2';
    expect(() => loadSettings({ DATABASE_URL: url })).toThrow(/sslmode=require&password=\*\*\*/);
    expect(() => loadSettings({ DATABASE_URL: url })).not.toThrow(/hunter2/);
    expect(describeDatabase('postgresql://tandem:hunter2@127.0.0.1/tandem?password=hunter2')).toBe('postgresql://tandem:***@127.0.0.1/tandem?password=***');
  });

  it('never prints the token secret', () => {
    expect(() => loadSettings({ TOKEN_SECRET: 'tiny-secret' })).not.toThrow(/tiny-secret/);
    expect(() => loadSettings({ METRICS_TOKEN: 'tiny-token' })).not.toThrow(/tiny-token/);
  });

  it('turns GraphiQL and the demo page off in production', () => {
    expect(loadSettings({ NODE_ENV: 'production' }).graphiql).toBe(false);
    expect(loadSettings({ NODE_ENV: 'production', GRAPHIQL: 'true' }).graphiql).toBe(true);
    expect(loadSettings({}).demoApp).toBe(true);
    expect(loadSettings({ NODE_ENV: 'production' }).demoApp).toBe(false);
    expect(loadSettings({ NODE_ENV: 'production', DEMO_APP: '1' }).demoApp).toBe(true);
    expect(() => loadSettings({ DEMO_APP: 'yes' })).toThrow(/DEMO_APP/);
  });
});

describe('resolveTokenSecret', () => {
  const logger = createLogger('silent');

  it('refuses production without TOKEN_SECRET', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-secret-'));
    expect(() => resolveTokenSecret(loadSettings({ NODE_ENV: 'production' }), dir, logger)).toThrow(/TOKEN_SECRET is required/);
    expect(fs.existsSync(path.join(dir, 'token-secret'))).toBe(false);
  });

  it('keeps a development secret across restarts', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-secret-'));
    const first = resolveTokenSecret(loadSettings({}), dir, logger);
    const second = resolveTokenSecret(loadSettings({}), dir, logger);
    expect(first.length).toBeGreaterThanOrEqual(32);
    expect(second).toBe(first);
    expect(fs.statSync(path.join(dir, 'token-secret')).mode & 0o777).toBe(0o600);
  });

  it('prefers TOKEN_SECRET when set', () => {
    const secret = 'x'.repeat(40);
    expect(resolveTokenSecret(loadSettings({ TOKEN_SECRET: secret, NODE_ENV: 'production' }), os.tmpdir(), logger)).toBe(secret);
  });
});
