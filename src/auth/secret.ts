import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, type Settings } from '../config.js';
import type { Logger } from '../observability/logger.js';

/**
 * Returns TOKEN_SECRET, or in development a secret generated once and kept
 * in `dataDir/token-secret`, so tokens survive restarts. Production has no
 * fallback: a secret on the local disk would differ between instances.
 *
 * @throws ConfigError in production when TOKEN_SECRET is unset.
 */
export function resolveTokenSecret(settings: Settings, dataDir: string, logger: Logger): string {
  if (settings.tokenSecret) return settings.tokenSecret;
  if (settings.nodeEnv === 'production') {
    throw new ConfigError('TOKEN_SECRET is required when NODE_ENV=production: set it to a random string of at least 32 characters, for example `openssl rand -base64 48`.');
  }
  const file = path.join(dataDir, 'token-secret');
  if (fs.existsSync(file)) {
    const stored = fs.readFileSync(file, 'utf8').trim();
    if (stored.length >= 32) {
      logger.warn({ file }, 'TOKEN_SECRET is not set: using the development secret stored in the data directory. Set TOKEN_SECRET in production.');
      return stored;
    }
  }
  const secret = randomBytes(48).toString('base64url');
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  logger.warn({ file }, 'TOKEN_SECRET is not set: generated a development secret and stored it in the data directory. Set TOKEN_SECRET in production.');
  return secret;
}
