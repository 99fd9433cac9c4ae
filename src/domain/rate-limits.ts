import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Logger } from '../observability/logger.js';
import { RateLimitedError } from './errors.js';

export interface RateLimitSettings {
  /** Mutations one user (or, signed out, one address) may run per window. */
  mutations: number;
  mutationWindowSeconds: number;
  /** Failed sign-ins per account, and per address, before sign-in is refused for the rest of the window. */
  signInFailures: number;
  signInWindowSeconds: number;
  /** With Redis, the counts are shared by every instance; without, each process counts its own. */
  redisUrl?: string;
  redisPrefix: string;
}

function retryAfter(result: RateLimiterRes): number {
  return Math.max(1, Math.ceil(result.msBeforeNext / 1000));
}

/**
 * Counts mutations and failed sign-ins with rate-limiter-flexible, in Redis
 * when REDIS_URL is set (shared by all instances, with a count per process
 * while Redis is unreachable) and in memory otherwise.
 */
export class RateLimits {
  private readonly mutations: RateLimiterAbstract;
  private readonly signInFailures: RateLimiterAbstract;
  private readonly redis: Redis | undefined;

  constructor(private readonly settings: RateLimitSettings, logger: Logger) {
    if (settings.redisUrl) {
      this.redis = new Redis(settings.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 1, enableOfflineQueue: false });
      this.redis.on('error', (error: Error) => logger.debug({ err: error }, 'rate limit store: Redis unreachable; counting in this process'));
    }
    const redis = this.redis;
    const limiter = (keyPrefix: string, points: number, duration: number): RateLimiterAbstract => {
      const memory = new RateLimiterMemory({ keyPrefix, points, duration });
      if (!redis) return memory;
      return new RateLimiterRedis({ storeClient: redis, keyPrefix: `${settings.redisPrefix}${keyPrefix}`, points, duration, insuranceLimiter: memory, rejectIfRedisNotReady: true });
    };
    this.mutations = limiter('mutations:', settings.mutations, settings.mutationWindowSeconds);
    this.signInFailures = limiter('sign-in-failures:', settings.signInFailures, settings.signInWindowSeconds);
  }

  /**
   * Counts one mutation of `key` (a user id, or an address when signed out).
   *
   * @throws RateLimitedError saying when to retry, once `key` has run its share of the window.
   */
  async countMutation(key: string): Promise<void> {
    try {
      await this.mutations.consume(key);
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      const seconds = retryAfter(error);
      throw new RateLimitedError(
        seconds,
        `Too many mutations: at most ${this.settings.mutations} per ${this.settings.mutationWindowSeconds} s are allowed. Retry in ${seconds} s; nothing was changed.`,
      );
    }
  }

  /** @throws RateLimitedError while the account or the address has used up its failed sign-ins. */
  async checkSignIn(emailKey: string, address: string | undefined): Promise<void> {
    for (const key of this.signInKeys(emailKey, address)) {
      const state = await this.signInFailures.get(key);
      if (state && state.consumedPoints >= this.settings.signInFailures) {
        const seconds = retryAfter(state);
        throw new RateLimitedError(seconds, `Too many failed sign-ins for this account or address. Retry in ${seconds} s, or reset the password.`);
      }
    }
  }

  /** Counts a failed sign-in against the account and the address. */
  async signInFailed(emailKey: string, address: string | undefined): Promise<void> {
    for (const key of this.signInKeys(emailKey, address)) {
      // Past the limit consume() rejects; the failure is counted either way.
      await this.signInFailures.consume(key).catch((error: unknown) => {
        if (!(error instanceof RateLimiterRes)) throw error;
      });
    }
  }

  /** Clears the account's failed sign-ins after a successful one; the address keeps its count. */
  async signInSucceeded(emailKey: string): Promise<void> {
    await this.signInFailures.delete(`account:${emailKey}`);
  }

  private signInKeys(emailKey: string, address: string | undefined): string[] {
    return address ? [`account:${emailKey}`, `address:${address}`] : [`account:${emailKey}`];
  }

  async close(): Promise<void> {
    this.redis?.disconnect();
  }
}
