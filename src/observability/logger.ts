import { AsyncLocalStorage } from 'node:async_hooks';
import { pino, type Logger } from 'pino';
import type { LogLevel } from '../config.js';

export type { Logger };

/** Ids of the HTTP request or WebSocket that the running code serves. */
export interface LogScope {
  requestId?: string;
  socketId?: string;
}

/**
 * The request or socket of the running code, for its log lines. The HTTP
 * handler runs each request inside it, and each WebSocket's events run
 * inside the socket's, so every line logged on their behalf, by any module,
 * carries the id.
 */
export const logScope = new AsyncLocalStorage<LogScope>();

/**
 * Creates the process logger: JSON lines on stdout. Secrets are redacted by
 * path, so a token or password put into a log object by mistake never appears.
 */
export function createLogger(level: LogLevel): Logger {
  return pino({
    level,
    base: { service: 'tandem' },
    mixin: () => logScope.getStore() ?? {},
    redact: {
      paths: ['password', '*.password', 'accessToken', '*.accessToken', 'refreshToken', '*.refreshToken', 'authorization', '*.authorization', 'headers.authorization'],
      censor: '[redacted]',
    },
  });
}
