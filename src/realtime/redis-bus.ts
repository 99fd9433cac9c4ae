import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from '../observability/logger.js';
import { createMemoryBus, signOutTopic, type EventBus, type SignOutNotice } from './bus.js';
import type { BoardEventRecord } from './events.js';

/** Thrown when Redis cannot be reached at start; the message names REDIS_URL. */
export class BusConnectionError extends Error {
  override name = 'BusConnectionError';
}

/** Returns the Redis URL without its credentials, for messages. */
export function redactRedisUrl(url: string): string {
  return url.replace(/\/\/[^@]*@/, '//***@');
}

/**
 * Opens one Redis connection per name; ioredis reconnects each by itself
 * after a loss. The names show up in CLIENT LIST, so operators (and tests)
 * can tell the connections apart.
 *
 * @throws BusConnectionError naming REDIS_URL when Redis cannot be reached now.
 */
export async function connectRedis(url: string, names: [string, string], logger: Logger, purpose: string): Promise<[Redis, Redis]> {
  const clients = names.map(
    (connectionName) => new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: (attempt: number) => Math.min(attempt * 200, 2000), connectionName }),
  );
  // connect() rejects only with "Connection is closed"; the cause (ECONNREFUSED, a
  // wrong password) comes as an error event.
  let cause: Error | undefined;
  for (const client of clients) {
    // Without a listener each failed reconnection would be an unhandled error.
    client.on('error', (error: Error) => {
      cause = error;
      logger.debug({ err: error, connection: client.options.connectionName }, 'Redis connection error');
    });
  }
  try {
    await Promise.all(clients.map((client) => client.connect()));
  } catch (error) {
    for (const client of clients) client.disconnect();
    const reason = (cause ?? (error as Error)).message.replace(/\.$/, '');
    throw new BusConnectionError(`Cannot connect to Redis at REDIS_URL=${redactRedisUrl(url)} for ${purpose}: ${reason}. Start Redis or fix REDIS_URL.`, { cause: cause ?? error });
  }
  return [clients[0]!, clients[1]!];
}

export interface RedisBusOptions {
  url: string;
  /** Prefix of every channel name, so several deployments can share one Redis. */
  prefix: string;
  logger: Logger;
}

/**
 * The bus across instances, on Redis pub/sub. Redis is a notification path,
 * not the source of truth: an event published while Redis is down is lost
 * on the bus but stays in the log. Subscriptions notice the gap when a later
 * event arrives, and on every reconnection `onReconnect` listeners run, so
 * streams can read what they missed from the log.
 *
 * Events published here reach this instance's subscribers through Redis
 * too, so every instance receives each channel's events in one order.
 * Sign-out notices instead reach this instance's listeners at once, and
 * the others through the channel `<prefix>session:signed-out`.
 */
export async function createRedisBus(options: RedisBusOptions): Promise<EventBus> {
  const { url, prefix, logger } = options;
  const local = createMemoryBus((error, topic) => logger.error({ err: error, topic }, 'event bus listener failed'));
  const [publisher, subscriber] = await connectRedis(url, [`${prefix}publisher`, `${prefix}subscriber`], logger, 'events');
  const counts = new Map<string, number>();
  /** Per topic, the SUBSCRIBE that Redis has confirmed, or will. */
  const confirmed = new Map<string, Promise<void>>();
  const reconnectListeners = new Set<() => void>();
  const signOutChannel = prefix + signOutTopic;
  // Marks this instance's notices, which its listeners have had already.
  const origin = randomUUID();
  try {
    // Every instance listens for sign-outs from its start.
    await subscriber.subscribe(signOutChannel);
  } catch (error) {
    publisher.disconnect();
    subscriber.disconnect();
    throw new BusConnectionError(`Subscribing to the Redis channel ${signOutChannel} at REDIS_URL=${redactRedisUrl(url)} failed: ${(error as Error).message.replace(/\.$/, '')}. Check that the Redis user in REDIS_URL may run SUBSCRIBE.`, { cause: error });
  }

  subscriber.on('message', (channel: string, message: string) => {
    if (channel === signOutChannel) {
      receiveSignOut(message);
      return;
    }
    let event: BoardEventRecord;
    try {
      event = JSON.parse(message) as BoardEventRecord;
      if (!Number.isInteger(event.sequence) || typeof event.boardId !== 'string' || typeof event.type !== 'string') {
        throw new Error('not a board event');
      }
      event.createdAt = new Date(event.createdAt);
    } catch (error) {
      // Something else published on our channel; the log stays authoritative.
      logger.warn({ err: error, channel }, 'ignored a malformed message on a Redis channel');
      return;
    }
    local.publish(channel.slice(prefix.length), event);
  });

  function receiveSignOut(message: string): void {
    let notice: SignOutNotice & { origin: string };
    try {
      notice = JSON.parse(message) as SignOutNotice & { origin: string };
      if (typeof notice !== 'object' || notice === null || typeof notice.origin !== 'string' || typeof notice.userId !== 'string' || (notice.sessionId !== null && typeof notice.sessionId !== 'string')) {
        throw new Error('not a sign-out notice: expected {"origin", "userId", "sessionId"} with strings, sessionId may be null');
      }
    } catch (error) {
      logger.warn({ err: error, channel: signOutChannel }, 'ignored a malformed message on a Redis channel');
      return;
    }
    if (notice.origin === origin) return;
    local.publishSignOut({ userId: notice.userId, sessionId: notice.sessionId });
  }
  subscriber.on('ready', () => {
    down = false;
    // Subscribe again before the streams look for missed events, so nothing
    // committed between their look and the subscription is lost.
    const channels = [signOutChannel, ...[...counts.keys()].map((topic) => prefix + topic)];
    const resubscribed = subscriber.subscribe(...channels);
    resubscribed
      .catch((error: Error) => logger.warn({ err: error }, 'subscribing again after a Redis reconnect failed'))
      .finally(() => {
        logger.info('Redis connection restored; subscriptions read what they missed from the log');
        for (const listener of reconnectListeners) listener();
      });
  });
  let closing = false;
  // ioredis emits close after every failed reconnection; one warning per outage is enough.
  let down = false;
  subscriber.on('close', () => {
    if (closing || down) return;
    down = true;
    logger.warn('Redis connection lost; events keep committing and are delivered once it is back');
  });

  return {
    publish(topic, event) {
      publisher.publish(prefix + topic, JSON.stringify(event)).catch((error: Error) => {
        logger.warn({ err: error, topic, sequence: event.sequence }, 'publishing to Redis failed; subscribers will read the event from the log');
      });
    },
    subscribe(topic, listener) {
      const count = counts.get(topic) ?? 0;
      counts.set(topic, count + 1);
      if (count === 0) {
        const confirmation = subscriber
          .subscribe(prefix + topic)
          .then(() => undefined)
          // The stream still reads the log on gaps and reconnects; log and go on.
          .catch((error: Error) => logger.warn({ err: error, topic }, 'subscribing to a Redis channel failed'));
        confirmed.set(topic, confirmation);
      }
      const unsubscribe = local.subscribe(topic, listener);
      let active = true;
      const release = () => {
        if (!active) return;
        active = false;
        unsubscribe();
        const left = (counts.get(topic) ?? 1) - 1;
        if (left > 0) {
          counts.set(topic, left);
          return;
        }
        counts.delete(topic);
        confirmed.delete(topic);
        subscriber.unsubscribe(prefix + topic).catch((error: Error) => logger.debug({ err: error, topic }, 'unsubscribing from a Redis channel failed'));
      };
      return Object.assign(release, { ready: confirmed.get(topic) ?? Promise.resolve() });
    },
    publishSignOut(notice) {
      local.publishSignOut(notice);
      const message = JSON.stringify({ origin, userId: notice.userId, sessionId: notice.sessionId });
      publisher.publish(signOutChannel, message).catch((error: Error) => {
        logger.warn({ err: error, userId: notice.userId, sessionId: notice.sessionId }, 'publishing a sign-out to Redis failed; streams of that session on other instances end when their access tokens expire');
      });
    },
    onSignOut: (listener) => local.onSignOut(listener),
    onReconnect(listener) {
      reconnectListeners.add(listener);
      return () => reconnectListeners.delete(listener);
    },
    healthy: () => publisher.status === 'ready' && subscriber.status === 'ready',
    listenerCount: () => local.listenerCount(),
    async close() {
      closing = true;
      await Promise.allSettled([publisher.quit(), subscriber.quit()]);
    },
  };
}
