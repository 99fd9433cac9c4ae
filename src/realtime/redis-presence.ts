import { randomUUID } from 'node:crypto';
import type { Logger } from '../observability/logger.js';
import {
  applyFocus,
  endOnAbort,
  newSession,
  noSessionError,
  presenceStream,
  type PresenceRegistry,
  type PresenceSession,
  type PresenceStream,
  type SessionChange,
} from './presence.js';
import { connectRedis } from './redis-bus.js';

export interface RedisPresenceOptions {
  url: string;
  /** Prefix of every key and channel name, as for the bus. */
  prefix: string;
  /** A session not renewed for this long has left: its instance is gone. */
  ttlSeconds: number;
  logger: Logger;
}

/** A message on a board's presence channel. */
interface PresenceMessage {
  /** The instance that made the change; it has already delivered it to its own subscribers. */
  origin: string;
  change: SessionChange;
}

/** One subscriber on this instance: its delivery function and its catch-up after lost messages. */
interface LocalSubscriber {
  deliver(change: SessionChange): void;
  resync(sessions: PresenceSession[]): void;
}

/**
 * Presence across instances, in Redis. Per board, a hash contains the
 * sessions and a sorted set their expiry times. A channel carries joins,
 * leaves and focus changes to the other instances.
 *
 * Each instance renews its own sessions every third of the TTL. An instance
 * that dies stops renewing, and another instance watching the board removes
 * the expired sessions and announces their leave: within the TTL plus a
 * third of it. The same pass compares each board's sessions in Redis with
 * what each local subscriber has received, so a change whose message was lost
 * (Redis restarting) still arrives, late.
 */
export async function createRedisPresence(options: RedisPresenceOptions): Promise<PresenceRegistry> {
  const { url, prefix, logger } = options;
  const ttlMs = options.ttlSeconds * 1000;
  const periodMs = Math.max(250, Math.floor(ttlMs / 3));
  const instance = randomUUID();
  const [commands, subscriber] = await connectRedis(url, [`${prefix}presence`, `${prefix}presence-listener`], logger, 'presence');

  const sessionsKey = (boardId: string) => `${prefix}presence:${boardId}:sessions`;
  const expiryKey = (boardId: string) => `${prefix}presence:${boardId}:expiry`;
  const channel = (boardId: string) => `${prefix}presence:${boardId}`;
  /** Sessions open on this instance, by id. */
  const own = new Map<string, PresenceSession>();
  /** Local subscribers per board; a board is watched (its channel subscribed) while it has any. */
  const watchers = new Map<string, Set<LocalSubscriber>>();
  const subscribed = new Map<string, Promise<unknown>>();

  const deliverLocally = (change: SessionChange) => {
    for (const watcher of watchers.get(change.session.boardId) ?? []) watcher.deliver(change);
  };
  const announce = (change: SessionChange) => {
    deliverLocally(change);
    const message: PresenceMessage = { origin: instance, change };
    commands.publish(channel(change.session.boardId), JSON.stringify(message)).catch((error: Error) => {
      logger.warn({ err: error, boardId: change.session.boardId }, 'publishing a presence change failed; other instances catch up on their next pass');
    });
  };

  subscriber.on('message', (from: string, raw: string) => {
    let message: PresenceMessage;
    try {
      message = JSON.parse(raw) as PresenceMessage;
      const session = message.change?.session;
      if (typeof message.origin !== 'string' || typeof session?.id !== 'string' || typeof session.boardId !== 'string' || from !== channel(session.boardId)) {
        throw new Error('not a presence change');
      }
      message.change.session = revive(session);
    } catch (error) {
      logger.warn({ err: error, channel: from }, 'ignored a malformed message on a presence channel');
      return;
    }
    if (message.origin === instance) return;
    const mine = own.get(message.change.session.id);
    // Another instance changed the focus of a session held here.
    if (mine && message.change.type === 'FOCUS_CHANGED') Object.assign(mine, message.change.session);
    deliverLocally(message.change);
  });
  subscriber.on('ready', () => {
    const channels = [...watchers.keys()].map(channel);
    if (channels.length > 0) {
      subscriber.subscribe(...channels).catch((error: Error) => logger.warn({ err: error }, 'subscribing to presence channels again failed'));
    }
  });

  // Sets a session's data only while it is still present, so a focus change
  // racing with a leave does not bring the session back.
  commands.defineCommand('tandemSetIfPresent', {
    numberOfKeys: 2,
    lua: "if redis.call('ZSCORE', KEYS[2], ARGV[1]) then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) return 1 end return 0",
  });
  const setIfPresent = (boardId: string, session: PresenceSession) =>
    (commands as unknown as { tandemSetIfPresent(a: string, b: string, c: string, d: string): Promise<number> }).tandemSetIfPresent(
      sessionsKey(boardId),
      expiryKey(boardId),
      session.id,
      JSON.stringify(session),
    );

  async function store(session: PresenceSession): Promise<void> {
    await commands
      .multi()
      .hset(sessionsKey(session.boardId), session.id, JSON.stringify(session))
      .zadd(expiryKey(session.boardId), Date.now() + ttlMs, session.id)
      // The keys outlive their newest session by a little, then vanish.
      .pexpire(sessionsKey(session.boardId), ttlMs * 2)
      .pexpire(expiryKey(session.boardId), ttlMs * 2)
      .exec();
  }

  async function list(boardId: string): Promise<PresenceSession[]> {
    const ids = await commands.zrangebyscore(expiryKey(boardId), Date.now(), '+inf');
    if (ids.length === 0) return [];
    const values = await commands.hmget(sessionsKey(boardId), ...ids);
    return values
      .filter((value): value is string => value !== null)
      .map((value) => revive(JSON.parse(value) as PresenceSession))
      .sort((a, b) => a.joinedAt.getTime() - b.joinedAt.getTime());
  }

  async function watch(boardId: string, watcher: LocalSubscriber): Promise<void> {
    let set = watchers.get(boardId);
    if (!set) {
      set = new Set();
      watchers.set(boardId, set);
      subscribed.set(boardId, subscriber.subscribe(channel(boardId)));
    }
    set.add(watcher);
    await subscribed.get(boardId);
  }

  function unwatch(boardId: string, watcher: LocalSubscriber): void {
    const set = watchers.get(boardId);
    if (!set?.delete(watcher) || set.size > 0) return;
    watchers.delete(boardId);
    subscribed.delete(boardId);
    subscriber.unsubscribe(channel(boardId)).catch((error: Error) => logger.debug({ err: error, boardId }, 'unsubscribing from a presence channel failed'));
  }

  /** Renews this instance's sessions; one removed meanwhile (Redis was unreachable too long) is stored and announced again. */
  async function renew(): Promise<void> {
    for (const session of own.values()) {
      // One round trip per session. ZADD XX CH returns 0 when the session was no longer there.
      const results = await commands
        .multi()
        .zadd(expiryKey(session.boardId), 'XX', 'CH', Date.now() + ttlMs, session.id)
        .pexpire(sessionsKey(session.boardId), ttlMs * 2)
        .pexpire(expiryKey(session.boardId), ttlMs * 2)
        .exec();
      const changed = results?.[0]?.[1];
      if (Number(changed) === 0 && own.has(session.id)) {
        await store(session);
        announce({ type: 'JOINED', session: { ...session } });
      }
    }
  }

  /** Removes expired sessions of the watched boards, announcing each leave once, then resyncs local subscribers. */
  async function sweep(): Promise<void> {
    for (const [boardId, set] of watchers) {
      const expired = await commands.zrangebyscore(expiryKey(boardId), '-inf', Date.now());
      for (const id of expired) {
        // ZREM returns 1 to one instance only, which announces the leave.
        if ((await commands.zrem(expiryKey(boardId), id)) !== 1) continue;
        const value = await commands.hget(sessionsKey(boardId), id);
        await commands.hdel(sessionsKey(boardId), id);
        if (value) announce({ type: 'LEFT', session: revive(JSON.parse(value) as PresenceSession) });
      }
      const sessions = await list(boardId);
      for (const watcher of set) watcher.resync(sessions);
    }
  }

  let passing = false;
  const timer = setInterval(() => {
    if (passing) return;
    passing = true;
    renew()
      .then(sweep)
      .catch((error: Error) => logger.warn({ err: error }, 'presence renewal failed; retrying on the next pass'))
      .finally(() => (passing = false));
  }, periodMs);
  timer.unref();

  return {
    list,
    get size() {
      return own.size;
    },
    async setFocus(userId, boardId, cardId, sessionId) {
      const mine = (await list(boardId)).filter((session) => session.userId === userId && (sessionId === undefined || session.id === sessionId));
      if (mine.length === 0) throw noSessionError(sessionId);
      const now = new Date();
      for (const session of mine) {
        if (!applyFocus(session, cardId, now)) continue;
        if ((await setIfPresent(boardId, session)) !== 1) continue;
        const local = own.get(session.id);
        if (local) Object.assign(local, session);
        announce({ type: 'FOCUS_CHANGED', session: { ...session } });
      }
      return mine.map((session) => ({ ...session }));
    },
    async join(boardId, userId, queueLimit, signal): Promise<PresenceStream> {
      const you = newSession(boardId, userId);
      // Changes arriving while the snapshot is read wait here; the stream drops those it already shows.
      const early: SessionChange[] = [];
      let target: LocalSubscriber = { deliver: (change) => early.push(change), resync: () => {} };
      const watcher: LocalSubscriber = { deliver: (change) => target.deliver(change), resync: (sessions) => target.resync(sessions) };
      await watch(boardId, watcher);
      try {
        await store(you);
        own.set(you.id, you);
        const sessions = await list(boardId);
        if (!sessions.some((session) => session.id === you.id)) sessions.push(you);
        const { stream, deliver, resync } = presenceStream(you, sessions, queueLimit, () => {
          unwatch(boardId, watcher);
          if (!own.delete(you.id)) return;
          commands
            .multi()
            .zrem(expiryKey(boardId), you.id)
            .hdel(sessionsKey(boardId), you.id)
            .exec()
            .catch((error: Error) => logger.warn({ err: error, boardId }, 'removing a presence session from Redis failed; it expires by itself'));
          announce({ type: 'LEFT', session: { ...you } });
        });
        target = { deliver, resync };
        for (const change of early) deliver(change);
        announce({ type: 'JOINED', session: { ...you } });
        endOnAbort(stream, signal);
        return stream;
      } catch (error) {
        unwatch(boardId, watcher);
        own.delete(you.id);
        throw error;
      }
    },
    async close() {
      clearInterval(timer);
      // Removed now, the sessions leave on the other instances' next pass instead of after the TTL.
      for (const session of own.values()) {
        await commands.multi().zrem(expiryKey(session.boardId), session.id).hdel(sessionsKey(session.boardId), session.id).exec().catch(() => undefined);
      }
      await Promise.allSettled([commands.quit(), subscriber.quit()]);
    },
  };
}

/** Turns the dates of a session parsed from JSON back into Dates. */
function revive(session: PresenceSession): PresenceSession {
  return {
    ...session,
    joinedAt: new Date(session.joinedAt),
    focusedAt: session.focusedAt === null ? null : new Date(session.focusedAt),
  };
}
