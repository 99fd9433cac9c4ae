import { setMaxListeners } from 'node:events';
import type { BoardEventRecord } from './events.js';

export type BusListener = (event: BoardEventRecord) => void;

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
  /** False while the bus cannot deliver (its connection is down). */
  healthy(): boolean;
  /** Number of registered listeners across all topics; leak checks compare it. */
  listenerCount(): number;
  close(): Promise<void>;
}

/**
 * Creates the single-instance bus, on Node's EventTarget. A listener that throws is
 * reported through `onListenerError` and does not stop delivery to the others.
 */
export function createMemoryBus(onListenerError: (error: unknown, topic: string) => void): EventBus {
  const target = new EventTarget();
  // Every subscription of a board listens on its topic; thousands are normal.
  setMaxListeners(0, target);
  let listeners = 0;

  return {
    publish(topic, event) {
      target.dispatchEvent(new CustomEvent(topic, { detail: event }));
    },
    subscribe(topic, listener) {
      const handler = (message: Event) => {
        try {
          listener((message as CustomEvent<BoardEventRecord>).detail);
        } catch (error) {
          onListenerError(error, topic);
        }
      };
      target.addEventListener(topic, handler);
      listeners += 1;
      let active = true;
      const unsubscribe = () => {
        if (!active) return;
        active = false;
        listeners -= 1;
        target.removeEventListener(topic, handler);
      };
      return Object.assign(unsubscribe, { ready: Promise.resolve() });
    },
    onReconnect: () => () => {},
    healthy: () => true,
    listenerCount: () => listeners,
    async close() {},
  };
}
