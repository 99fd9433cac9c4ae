import { createSourceEventStream, execute, GraphQLError, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from './context.js';

function isAsyncIterable<T>(value: unknown): value is AsyncIterable<T> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/**
 * Executes each subscription event with its own context from `fork`, so
 * loaders start empty for every event and no value read before a change is
 * served after it. Events are executed one at a time, so results leave in
 * the order the source produced them, however long each takes.
 *
 * An error thrown by the source (such as access revoked) ends the stream with
 * a last result that carries it, instead of tearing down the transport.
 *
 * This is an iterator object rather than an async generator, because a
 * generator cannot run `return()` while it waits for the next event. The
 * source's listeners must be released as soon as the client unsubscribes.
 */
export function executeEvents(source: AsyncIterable<unknown>, args: ExecutionArgs, fork: (ctx: Context) => Context): AsyncIterableIterator<ExecutionResult> {
  const iterator = source[Symbol.asyncIterator]();
  let done = false;
  const finished = { value: undefined, done: true } as const;

  const results: AsyncIterableIterator<ExecutionResult> = {
    async next() {
      if (done) return finished;
      let step: IteratorResult<unknown>;
      try {
        step = await iterator.next();
      } catch (error) {
        done = true;
        const original = error instanceof Error ? error : new Error(String(error));
        return { value: { errors: [new GraphQLError(original.message, { originalError: original })] }, done: false };
      }
      if (step.done || done) {
        done = true;
        return finished;
      }
      const result = await execute({ ...args, rootValue: step.value, contextValue: fork(args.contextValue as Context) });
      return { value: result, done: false };
    },
    async return() {
      done = true;
      await iterator.return?.();
      return finished;
    },
    async throw(error) {
      done = true;
      await iterator.return?.();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return results;
    },
  };
  return results;
}

/** Envelop plugin that installs executeEvents as the subscribe function. */
export function useEventScopedContext(fork: (ctx: Context) => Context): Plugin {
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(async (args) => {
        const source = await createSourceEventStream(args as ExecutionArgs);
        if (!isAsyncIterable(source)) return source as ExecutionResult;
        return executeEvents(source, args as ExecutionArgs, fork);
      });
    },
  };
}
