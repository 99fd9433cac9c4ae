/** An async iterator that can tell whether its next() would resolve without waiting for a new event. */
export interface ReadyIterator<T> extends AsyncIterableIterator<T> {
  ready?(): boolean;
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
    return: async () => {
      finish();
      return { value: undefined, done: true };
    },
    throw: async (error) => {
      finish();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
