/** An async iterator that can tell whether its next() would resolve without waiting for a new event. */
export interface ReadyIterator<T> extends AsyncIterableIterator<T> {
  ready?(): boolean;
}

/**
 * A stream that can also hand over its items synchronously, so that a
 * consumer can deliver them without an async step per item. next() stays
 * the path for items that need I/O first (a replay page, a missing event,
 * an access check).
 */
export interface PushStream<T> extends ReadyIterator<T> {
  /** Items the stream and its consumer may hold for the client together before the stream fails. */
  readonly queueLimit: number;
  /** Removes and returns the next item when no I/O is needed to produce it, or undefined otherwise. */
  take(): T | undefined;
  /** True when the stream waits for a new event: next() would block until one arrives. */
  idle(): boolean;
  /** Registers the consumer, which the stream then notifies of every new item and of its end. */
  attach(consumer: StreamConsumer): void;
}

/** The consumer of a PushStream. */
export interface StreamConsumer {
  /** Called synchronously whenever an item arrives or the stream ends, so the consumer can take() it. */
  streamChanged(): void;
  /** Returns the number of items the consumer took but has not sent to the client yet. They count against the stream's queue limit. */
  queued(): number;
}

/** Returns true when `iterator` supports synchronous hand-over. */
export function isPushStream(iterator: AsyncIterator<unknown>): iterator is PushStream<unknown> {
  return typeof (iterator as Partial<PushStream<unknown>>).take === 'function';
}

/**
 * Builds an async iterator from a `next` function and a `finish` function
 * that releases what the stream holds. return() and throw() finish at once,
 * even while a next() call is waiting, which an async generator cannot do.
 * `ready`, when given, becomes the iterator's ready().
 */
export function streamIterator<T>(next: () => Promise<IteratorResult<T>>, finish: () => void, ready?: () => boolean): ReadyIterator<T> {
  const iterator: ReadyIterator<T> = {
    next,
    ready,
    // Methods rather than arrow properties, because under esbuild's keepNames
    // (which tsx turns on) each named arrow gets its own property table.
    async return() {
      finish();
      return { value: undefined, done: true };
    },
    async throw(error) {
      finish();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
