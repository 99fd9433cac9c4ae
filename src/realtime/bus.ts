import type { BoardEventRecord } from './events.js';

export type BusListener = (event: BoardEventRecord) => void;

/**
 * A sign-out that every instance must act on: the streams of the session
 * `sessionId` of `userId` end, or with `sessionId` null those of all the
 * user's sessions.
 */
export interface SignOutNotice {
  userId: string;
  sessionId: string | null;
}

export type SignOutListener = (notice: SignOutNotice) => void;

/** Name under which sign-out notices travel, beside the `board:<id>` topics; listener errors are reported with it. */
export const signOutTopic = 'session:signed-out';

/** Removes a listener when called; `ready` settles once the bus delivers the topic to it. */
export interface BusSubscription {
  (): void;
  ready: Promise<void>;
}

/**
 * Delivers committed events to every subscription on this instance. The bus
 * is a notification path only: the event log in the database is the source
 * of truth, and subscriptions read it to fill any gap the bus leaves.
 */
export interface EventBus {
  /** Sends an event to the listeners of `topic`. Call only after the event's transaction committed. */
  publish(topic: string, event: BoardEventRecord): void;
  /**
   * Registers a listener; the returned function removes it. Events published
   * after its `ready` promise settles reach the listener.
   */
  subscribe(topic: string, listener: BusListener): BusSubscription;
  /**
   * Registers a function called after the bus reconnected, when events may
   * have been missed; the returned function removes it. The in-process bus
   * never disconnects.
   */
  onReconnect(listener: () => void): () => void;
  /**
   * Sends a sign-out notice to every instance. Call only after the
   * revocation committed. Listeners on this instance run before it returns,
   * even while Redis is down. A notice is not stored, so an instance that
   * misses it (its Redis connection down) ends those streams only when their
   * access tokens expire.
   */
  publishSignOut(notice: SignOutNotice): void;
  /** Registers a listener for sign-out notices from every instance; the returned function removes it. */
  onSignOut(listener: SignOutListener): () => void;
  /** False while the bus cannot deliver (its connection is down). */
  healthy(): boolean;
  /** Number of registered listeners across all topics; leak checks compare it. */
  listenerCount(): number;
  close(): Promise<void>;
}

/**
 * Creates the single-instance bus: a set of listeners per topic. A listener
 * that throws is reported through `onListenerError` and does not stop
 * delivery to the others. Thousands of listeners on one board are normal,
 * so adding and removing one takes constant time (Node's EventTarget scans
 * its listener list on every add).
 */
export function createMemoryBus(onListenerError: (error: unknown, topic: string) => void): EventBus {
  // An entry per subscription, so the same function subscribed twice counts twice.
  const topics = new Map<string, Set<{ listener: BusListener; active: boolean }>>();
  let listeners = 0;
  const signOutListeners = new Set<SignOutListener>();

  return {
    publish(topic, event) {
      const subscribed = topics.get(topic);
      if (!subscribed) return;
      // A copy: listeners may unsubscribe, or others subscribe, while this event is delivered.
      for (const entry of [...subscribed]) {
        if (!entry.active) continue;
        try {
          entry.listener(event);
        } catch (error) {
          onListenerError(error, topic);
        }
      }
    },
    subscribe(topic, listener) {
      const entry = { listener, active: true };
      let subscribed = topics.get(topic);
      if (!subscribed) {
        subscribed = new Set();
        topics.set(topic, subscribed);
      }
      subscribed.add(entry);
      listeners += 1;
      // An inline arrow, because under esbuild's keepNames (which tsx turns on) a named one gets its own property table.
      return Object.assign(
        () => {
          if (!entry.active) return;
          entry.active = false;
          listeners -= 1;
          subscribed.delete(entry);
          if (subscribed.size === 0 && topics.get(topic) === subscribed) topics.delete(topic);
        },
        { ready: Promise.resolve() },
      );
    },
    publishSignOut(notice) {
      for (const listener of [...signOutListeners]) {
        try {
          listener(notice);
        } catch (error) {
          onListenerError(error, signOutTopic);
        }
      }
    },
    onSignOut(listener) {
      // A wrapper, so the same function registered twice is called twice, as with subscribe.
      const entry: SignOutListener = (notice) => listener(notice);
      signOutListeners.add(entry);
      return () => signOutListeners.delete(entry);
    },
    onReconnect: () => () => {},
    healthy: () => true,
    listenerCount: () => listeners,
    async close() {},
  };
}
