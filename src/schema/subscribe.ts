import { createHash } from 'node:crypto';
import { createSourceEventStream, execute, GraphQLError, print, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { SlowConsumerError } from '../domain/errors.js';
import type { StreamItem } from '../realtime/board-stream.js';
import { isPushStream, type PushStream, type ReadyIterator } from '../realtime/iterator.js';
import type { Context } from './context.js';
import { pushEvents, type ResultSink } from './push-delivery.js';

function isAsyncIterable<T>(value: unknown): value is AsyncIterable<T> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

function isStreamItem(value: unknown): value is StreamItem {
  return typeof value === 'object' && value !== null && 'event' in value && 'scope' in value;
}

/** Executions kept per operation for subscribers that lag behind the fastest one. */
const resultsKeptPerOperation = 2_000;

/** Events executed together, with one context, when the source has them queued already. */
const batchLimit = 64;

/** An object notified when a SharedResult settles. */
export interface SettledListener {
  resultSettled(): void;
}

/**
 * One event's execution. Besides its promise, it exposes the result once
 * settled, so a push consumer can read it synchronously, and it runs the
 * callbacks waiting for it in one synchronous pass.
 */
export class SharedResult {
  readonly promise: Promise<ExecutionResult>;
  /** The result once the execution settled; an execution that threw settles with `error` instead. */
  result: ExecutionResult | undefined;
  error: unknown;
  settled = false;
  private waiters: SettledListener[] | undefined;

  constructor(run: () => Promise<ExecutionResult>) {
    this.promise = run();
    this.promise.then(
      (result) => this.settle(result, undefined),
      (error: unknown) => this.settle(undefined, error),
    );
  }

  /** Calls `listener.resultSettled()` once the execution has settled. */
  whenSettled(listener: SettledListener): void {
    (this.waiters ??= []).push(listener);
  }

  private settle(result: ExecutionResult | undefined, error: unknown): void {
    this.result = result;
    this.error = error;
    this.settled = true;
    const waiters = this.waiters;
    this.waiters = undefined;
    for (const listener of waiters ?? []) listener.resultSettled();
  }
}

/**
 * Executions of subscription events shared between subscribers. Subscribers
 * with the same document, operation name and variables form a group. Within
 * it, an event is executed once per access scope, and every subscriber gets
 * that one result object.
 */
export class SharedExecutions {
  private readonly groups = new Map<string, { subscribers: number; results: Map<string, SharedResult> }>();
  /** Number of event executions so far; tests compare it with the number of events. */
  executions = 0;

  /** Registers a subscriber of `operationKey`; the returned function unregisters it. */
  join(operationKey: string): () => void {
    let group = this.groups.get(operationKey);
    if (!group) {
      group = { subscribers: 0, results: new Map() };
      this.groups.set(operationKey, group);
    }
    group.subscribers += 1;
    let joined = true;
    return () => {
      if (!joined) return;
      joined = false;
      group.subscribers -= 1;
      if (group.subscribers === 0) this.groups.delete(operationKey);
    };
  }

  /** Returns the group's result for `eventKey`, running `run` only when no subscriber ran it yet. */
  resultFor(operationKey: string, eventKey: string, run: () => Promise<ExecutionResult>): Promise<ExecutionResult> {
    return this.sharedResult(operationKey, eventKey, run).promise;
  }

  /** Like resultFor, but returns the execution itself, whose result can be read synchronously once settled. */
  sharedResult(operationKey: string, eventKey: string, run: () => Promise<ExecutionResult>): SharedResult {
    const group = this.groups.get(operationKey);
    if (!group) return this.count(run);
    let result = group.results.get(eventKey);
    if (!result) {
      result = this.count(run);
      group.results.set(eventKey, result);
      // Maps keep insertion order, so the first key is the oldest execution.
      if (group.results.size > resultsKeptPerOperation) group.results.delete(group.results.keys().next().value!);
    }
    return result;
  }

  private count(run: () => Promise<ExecutionResult>): SharedResult {
    this.executions += 1;
    return new SharedResult(run);
  }
}

/** Identifies an operation for sharing: its printed document, operation name and variables. */
export function operationKey(args: ExecutionArgs): string {
  return createHash('sha256')
    .update(print(args.document))
    .update('\0')
    .update(args.operationName ?? '')
    .update('\0')
    .update(JSON.stringify(args.variableValues ?? {}))
    .digest('base64url');
}

/**
 * Executes subscription events with a fresh context from `fork`, so loaders
 * start empty and no value read before a change is served after it. The
 * source may have further events queued already, in a replay or a burst on
 * a busy board. Then up to `batchLimit` of them run together with one
 * context, created after all of them were committed, so their loaders batch
 * the reads. Results leave in the order the source produced them, however
 * long each takes.
 *
 * Board events (StreamItem) are executed once per operation, event and
 * access scope across all subscribers, through `shared`.
 *
 * An error thrown by the source (such as access revoked), and a result that
 * carries errors, end the stream after that last result, instead of tearing
 * down the transport and the other subscriptions on it.
 *
 * This is an iterator object rather than an async generator, because a
 * generator cannot run `return()` while it waits for the next event. The
 * source's listeners must be released as soon as the client unsubscribes.
 */
export function executeEvents(
  source: AsyncIterable<unknown>,
  args: ExecutionArgs,
  fork: (ctx: Context) => Context,
  shared?: SharedExecutions,
): AsyncIterableIterator<ExecutionResult> {
  const iterator = source[Symbol.asyncIterator]() as ReadyIterator<unknown>;
  const key = shared ? operationKey(args) : '';
  const leave = shared?.join(key) ?? (() => {});
  const { services, transport } = args.contextValue as Context;
  services.metrics.subscriptionOpened(transport);
  let done = false;
  let sourceDone = false;
  /** An error the source threw after the events already queued; delivered once they are. */
  let sourceError: unknown;
  /** Executions started and not yet delivered, in source order. */
  const queued: Promise<ExecutionResult>[] = [];
  /** The board event of each queued execution, for the metrics; undefined for other sources. */
  const queuedItems: (StreamItem | undefined)[] = [];
  const finished = { value: undefined, done: true } as const;

  function end(failure?: unknown): void {
    if (done) return;
    done = true;
    queued.length = 0;
    queuedItems.length = 0;
    leave();
    services.metrics.subscriptionEnded(transport, failure instanceof SlowConsumerError);
  }

  function execution(item: unknown, context: () => Context): Promise<ExecutionResult> {
    const run = () => Promise.resolve(execute({ ...args, rootValue: item, contextValue: context() }));
    return shared && isStreamItem(item) ? shared.resultFor(key, `${item.scope}:${item.event.boardId}:${item.event.sequence}`, run) : run();
  }

  /** Waits for the next event, takes the ones held behind it, and starts executing them all. */
  async function pull(): Promise<void> {
    const first = await iterator.next();
    if (first.done || done) {
      sourceDone = true;
      return;
    }
    const items = [first.value];
    while (items.length < batchLimit && iterator.ready?.()) {
      try {
        const step = await iterator.next();
        if (step.done) {
          sourceDone = true;
          break;
        }
        items.push(step.value);
      } catch (error) {
        sourceError = error;
        break;
      }
    }
    // Created on first use: when every event's result is shared already, no loaders are built.
    let contextValue: Context | undefined;
    const context = () => (contextValue ??= fork(args.contextValue as Context));
    for (const item of items) {
      const started = execution(item, context);
      // Results dropped when the subscriber leaves must not surface as unhandled rejections.
      started.catch(() => {});
      queued.push(started);
      queuedItems.push(isStreamItem(item) ? item : undefined);
    }
  }

  async function failed(error: unknown): Promise<IteratorResult<ExecutionResult>> {
    end(error);
    // A source that failed may still hold listeners that only return() releases.
    await iterator.return?.();
    const original = error instanceof Error ? error : new Error(String(error));
    return { value: { errors: [new GraphQLError(original.message, { originalError: original })] }, done: false };
  }

  const results: AsyncIterableIterator<ExecutionResult> = {
    async next() {
      if (done) return finished;
      if (queued.length === 0) {
        if (sourceError !== undefined) return failed(sourceError);
        if (!sourceDone) {
          try {
            await pull();
          } catch (error) {
            return failed(error);
          }
        }
        if (queued.length === 0 || done) {
          end();
          return finished;
        }
      }
      const result = await queued.shift()!;
      const item = queuedItems.shift();
      if (done) return finished;
      if (result.errors?.length) {
        end();
        await iterator.return?.();
      } else if (item) {
        services.metrics.eventDelivered(transport, item.replayed ? undefined : item.event.createdAt.getTime());
      }
      return { value: result, done: false };
    },
    async return() {
      end();
      await iterator.return?.();
      return finished;
    },
    async throw(error) {
      end();
      await iterator.return?.();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return results;
    },
  };
  return results;
}

/**
 * Envelop plugin that installs the subscribe function: pushEvents for a
 * board stream whose transport gave a `sink` in the root value (WebSocket),
 * executeEvents for every other stream and transport.
 */
export function useEventScopedContext(fork: (ctx: Context) => Context, shared: SharedExecutions): Plugin {
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(async (args) => {
        const source = await createSourceEventStream(args as ExecutionArgs);
        if (!isAsyncIterable(source)) return source as ExecutionResult;
        const sink = (args.rootValue as { sink?: ResultSink } | undefined)?.sink;
        const iterator = source[Symbol.asyncIterator]();
        if (sink && isPushStream(iterator)) return pushEvents(iterator as PushStream<StreamItem>, args as ExecutionArgs, fork, shared, sink);
        return executeEvents(source, args as ExecutionArgs, fork, shared);
      });
    },
  };
}
