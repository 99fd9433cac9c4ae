import { pino, type Logger } from 'pino';
import type { LogLevel } from '../config.js';

export type { Logger };

/**
 * Creates the process logger: JSON lines on stdout. Secrets are redacted by
 * path, so a token or password put into a log object by mistake never appears.
 */
export function createLogger(level: LogLevel): Logger {
  return pino({
    level,
    base: { service: 'tandem' },
    redact: {
      paths: ['password', '*.password', 'accessToken', '*.accessToken', 'refreshToken', '*.refreshToken', 'authorization', '*.authorization', 'headers.authorization'],
      censor: '[redacted]',
    },
  });
}
