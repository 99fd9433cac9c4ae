import type { AccessTokens } from '../auth/tokens.js';
import type { Database } from '../db/client.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { StreamRegistry } from '../realtime/board-stream.js';
import type { EventBus } from '../realtime/bus.js';
import type { PresenceRegistry } from '../realtime/presence.js';
import type { RateLimits } from './rate-limits.js';

/** Process-wide dependencies of domain operations, built once by createApp. */
export interface Services {
  db: Database;
  bus: EventBus;
  logger: Logger;
  tokens: AccessTokens;
  /** Lifetime of a refresh token, in seconds. */
  refreshTokenTtlSeconds: number;
  /** Open board streams of this process. */
  streams: StreamRegistry;
  /** Sessions viewing each board on this instance. */
  presence: PresenceRegistry;
  /** Events a subscription may hold before it ends with SLOW_CONSUMER. */
  subscriptionQueueLimit: number;
  /** Counts of mutations and failed sign-ins. */
  rateLimits: RateLimits;
  /** Prometheus metrics of this server, served at /metrics. */
  metrics: Metrics;
}

/** The signed-in user on whose behalf an operation runs. */
export interface Actor {
  userId: string;
  sessionId: string;
  /** Set when the client sent an idempotency key with the mutation. */
  idempotency?: {
    key: string;
    /** Mutation field name. */
    operation: string;
    /** Hash of the input without the key. */
    requestHash: string;
  };
}
