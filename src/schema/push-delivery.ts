import { execute, GraphQLError, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { StreamItem } from '../realtime/board-stream.js';
import type { PushStream } from '../realtime/iterator.js';
import type { Context } from './context.js';
import { operationKey, type SharedExecutions, type SharedResult } from './subscribe.js';

/** Destination of one subscription's results in push delivery. */
export interface ResultSink {
  /**
   * Sends a result to the client as the subscription's next message. `sent`
   * runs once the transport has written it, with an error when it could not.
   * Returns false, and sends nothing, when the transport is closed already.
   */
  send(result: ExecutionResult, sent: (error?: Error | null) => void): boolean;
}

/** Events executed together, with one context, when the stream has them queued already. */
const batchLimit = 64;

function errorResult(error: unknown): ExecutionResult {
  const original = error instanceof Error ? error : new Error(String(error));
  return { errors: [new GraphQLError(original.message, { originalError: original })] };
}

/**
 * Delivers a board stream's events to `sink` without an async step per
 * event. When the bus delivers an event, the stream hands it over
 * synchronously, the subscriber joins the shared execution for its operation
 * and scope, and once that execution settles, every subscriber waiting for
 * it writes its message in one synchronous pass. Events that need I/O first
 * (a replay page, a missing event, the subscriber's own removal) come
 * through the stream's next(), in the same order.
 *
 * The returned iterator yields at most one result: the last one, when it
 * carries errors or the stream failed (access revoked, SLOW_CONSUMER), so
 * that it passes the error masking of the executor like any other result.
 * It completes when the stream ends; return() releases the stream at once.
 *
 * Results taken from the stream and not yet written by the socket count
 * against the stream's queue limit. The consumer takes at most a quarter
 * of that limit (and at most `batchLimit`) ahead of the socket, so a replay
 * does not run ahead of a slow client. Once paused, it resumes when half
 * of those are written, and takes the next events as one batch.
 */
export function pushEvents(
  stream: PushStream<StreamItem>,
  args: ExecutionArgs,
  fork: (ctx: Context) => Context,
  shared: SharedExecutions,
  sink: ResultSink,
): AsyncIterableIterator<ExecutionResult> {
  const key = operationKey(args);
  const leave = shared.join(key);
  const heldLimit = Math.max(1, Math.min(batchLimit, Math.floor(stream.queueLimit / 4)));
  // A paused consumer resumes at half the limit, so that it takes the next events in a batch.
  const resumeAt = Math.floor(heldLimit / 2);
  /** Executions taken from the stream, in sequence order, whose results are not sent yet. */
  const waiting: SharedResult[] = [];
  /** Results handed to the socket that it has not written yet. */
  let sending = 0;
  /** A next() call on the stream is in progress, so take() must wait for it to keep the order. */
  let busy = false;
  /** The consumer stopped taking events because `heldLimit` were held; finished sends resume it. */
  let paused = false;
  let done = false;
  let sourceEnded = false;
  /** An error the stream threw; delivered once the results before it are sent. */
  let sourceError: unknown;
  /** The execution at the head of `waiting` that this consumer waits for. */
  let awaited: SharedResult | undefined;
  const finished = { value: undefined, done: true } as const;
  let settle!: (step: IteratorResult<ExecutionResult> | Promise<never>) => void;
  const outcome = new Promise<IteratorResult<ExecutionResult>>((resolve) => (settle = resolve));
  let outcomeTaken = false;

  const unsent = () => waiting.length + sending;
  const sent = (error?: Error | null) => {
    sending -= 1;
    if (!error && paused && unsent() <= resumeAt) drain();
  };

  function start(item: StreamItem, context: () => Context): void {
    const run = () => Promise.resolve(execute({ ...args, rootValue: item, contextValue: context() }));
    waiting.push(shared.sharedResult(key, `${item.scope}:${item.event.boardId}:${item.event.sequence}`, run));
  }

  /** Takes every event the stream can hand over now, starts their executions, and sends what has settled. */
  function drain(first?: StreamItem): void {
    if (done) return;
    paused = false;
    // Created on first use: when every event's result is shared already, no loaders are built.
    let contextValue: Context | undefined;
    let batched = 0;
    const context = () => (contextValue ??= fork(args.contextValue as Context));
    const add = (item: StreamItem) => {
      if (batched === batchLimit) {
        contextValue = undefined;
        batched = 0;
      }
      batched += 1;
      start(item, context);
    };
    if (first) add(first);
    while (!busy && !sourceEnded && sourceError === undefined) {
      if (unsent() >= heldLimit) {
        paused = true;
        break;
      }
      const item = stream.take();
      if (item !== undefined) {
        add(item);
        continue;
      }
      if (stream.idle()) break;
      // The next event needs I/O first, or the stream has ended.
      busy = true;
      stream.next().then(received, (error: unknown) => {
        busy = false;
        sourceError = error;
        flush();
      });
    }
    flush();
  }

  function received(step: IteratorResult<StreamItem>): void {
    busy = false;
    if (step.done) sourceEnded = true;
    drain(step.done ? undefined : step.value);
  }

  /** Sends the settled results at the head of `waiting`, in order. */
  function flush(): void {
    while (!done && waiting.length > 0) {
      const head = waiting[0]!;
      if (!head.settled) {
        if (awaited !== head) {
          awaited = head;
          head.whenSettled(onSettled);
        }
        return;
      }
      waiting.shift();
      // Rejected, as the executor's own path would: the transport reports it as an error message.
      if (head.result === undefined) {
        end(Promise.reject(head.error));
        return;
      }
      const result = head.result;
      if (result.errors?.length) {
        end({ value: result, done: false });
        return;
      }
      if (sink.send(result, sent)) sending += 1;
    }
    if (done || waiting.length > 0) return;
    if (sourceError !== undefined) end({ value: errorResult(sourceError), done: false });
    else if (sourceEnded) end();
  }

  function onSettled(): void {
    awaited = undefined;
    flush();
  }

  /** Releases the stream and settles the iterator's one pending step with `last`. */
  function end(last: IteratorResult<ExecutionResult> | Promise<never> = finished): void {
    if (done) return;
    done = true;
    waiting.length = 0;
    leave();
    // A stream that failed may still hold listeners that only return() releases.
    void stream.return?.();
    settle(last);
  }

  const results: AsyncIterableIterator<ExecutionResult> = {
    next() {
      if (outcomeTaken) return Promise.resolve(finished);
      outcomeTaken = true;
      return outcome;
    },
    async return() {
      end();
      return finished;
    },
    async throw(error) {
      end();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return results;
    },
  };
  stream.attach(() => drain(), unsent);
  drain();
  return results;
}
