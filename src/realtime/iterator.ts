/**
 * Builds an async iterator from a `next` function and a `finish` function
 * that releases what the stream holds. return() and throw() finish at once,
 * even while a next() call is waiting, which an async generator cannot do.
 */
export function streamIterator<T>(next: () => Promise<IteratorResult<T>>, finish: () => void): AsyncIterableIterator<T> {
  const iterator: AsyncIterableIterator<T> = {
    next,
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
