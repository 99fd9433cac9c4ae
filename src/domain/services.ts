import type { AccessTokens } from '../auth/tokens.js';
import type { Database } from '../db/client.js';
import type { Logger } from '../observability/logger.js';
import type { EventBus } from '../realtime/bus.js';

/** Process-wide dependencies of domain operations, built once by createApp. */
export interface Services {
  db: Database;
  bus: EventBus;
  logger: Logger;
  tokens: AccessTokens;
  /** Lifetime of a refresh token, in seconds. */
  refreshTokenTtlSeconds: number;
}

/** The signed-in user on whose behalf an operation runs. */
export interface Actor {
  userId: string;
  sessionId: string;
}
