import { execute, GraphQLError, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { StreamItem } from '../realtime/board-stream.js';
import type { StreamConsumer, PushStream } from '../realtime/iterator.js';
import { SlowConsumerError } from '../domain/errors.js';
import type { Metrics } from '../observability/metrics.js';
import type { Context } from './context.js';
import { operationKey, type SettledListener, type SharedExecutions, type SharedResult } from './subscribe.js';

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
  return new PushConsumer(stream, args, fork, shared, sink);
}

const finished = { value: undefined, done: true } as const;

/**
 * The state of one push-delivered subscription. It is a class rather than
 * closures because thousands of idle subscriptions keep one each. Methods
 * live on the prototype, while every named closure gets its own property
 * table under esbuild's keepNames, which tsx turns on.
 */
class PushConsumer implements AsyncIterableIterator<ExecutionResult>, StreamConsumer, SettledListener {
  private readonly key: string;
  private readonly leave: () => void;
  private readonly heldLimit: number;
  /** A paused consumer resumes at half the limit, so that it takes the next events in a batch. */
  private readonly resumeAt: number;
  /** Executions taken from the stream, in sequence order, whose results are not sent yet. */
  private readonly waiting: SharedResult[] = [];
  /** The event of each execution in `waiting`, for the metrics. */
  private readonly waitingItems: StreamItem[] = [];
  private readonly metrics: Metrics;
  /** Results handed to the socket that it has not written yet. */
  private sending = 0;
  /** A next() call on the stream is in progress, so take() must wait for it to keep the order. */
  private busy = false;
  /** The consumer stopped taking events because `heldLimit` were held. Finished sends resume it. */
  private paused = false;
  private done = false;
  private sourceEnded = false;
  /** An error the stream threw, delivered once the results before it are sent. */
  private sourceError: unknown;
  /** The execution at the head of `waiting` that this consumer waits for. */
  private awaited: SharedResult | undefined;
  private settle!: (step: IteratorResult<ExecutionResult> | Promise<never>) => void;
  private readonly outcome: Promise<IteratorResult<ExecutionResult>>;
  private outcomeTaken = false;
  /** The context of the events taken in the current drain(), and their number. */
  private batchContext: Context | undefined;
  private batched = 0;
  /** The socket's write callback, bound once per subscription. */
  private readonly sent: (error?: Error | null) => void;

  constructor(
    private readonly stream: PushStream<StreamItem>,
    private readonly args: ExecutionArgs,
    private readonly fork: (ctx: Context) => Context,
    private readonly shared: SharedExecutions,
    private readonly sink: ResultSink,
  ) {
    this.key = operationKey(args);
    this.leave = shared.join(this.key);
    this.metrics = (args.contextValue as Context).services.metrics;
    this.metrics.subscriptionOpened('websocket');
    this.heldLimit = Math.max(1, Math.min(batchLimit, Math.floor(stream.queueLimit / 4)));
    this.resumeAt = Math.floor(this.heldLimit / 2);
    this.outcome = new Promise((resolve) => {
      this.settle = resolve;
    });
    this.sent = this.written.bind(this);
    stream.attach(this);
    this.drain();
  }

  /** Number of events taken from the stream and not yet written by the socket. */
  queued(): number {
    return this.waiting.length + this.sending;
  }

  streamChanged(): void {
    this.drain();
  }

  resultSettled(): void {
    this.awaited = undefined;
    this.flush();
  }

  private written(error?: Error | null): void {
    this.sending -= 1;
    if (!error && this.paused && this.queued() <= this.resumeAt) this.drain();
  }

  /**
   * Starts the execution of `item`, or joins the one another subscriber
   * started. The events taken in one drain() share a context, up to
   * `batchLimit` of them, so their loaders batch the reads.
   */
  private start(item: StreamItem): void {
    if (this.batched === batchLimit) {
      this.batchContext = undefined;
      this.batched = 0;
    }
    this.batched += 1;
    // An inline arrow: this runs for every subscriber and event, and a named
    // one would be renamed on each creation under esbuild's keepNames.
    const result = this.shared.sharedResult(this.key, `${item.scope}:${item.event.boardId}:${item.event.sequence}`, () => this.execute(item));
    this.waiting.push(result);
    this.waitingItems.push(item);
  }

  private execute(item: StreamItem): Promise<ExecutionResult> {
    // Created on first use: when every event's result is shared already, no loaders are built.
    this.batchContext ??= this.fork(this.args.contextValue as Context);
    return Promise.resolve(execute({ ...this.args, rootValue: item, contextValue: this.batchContext }));
  }

  /** Takes every event the stream can hand over now, starts their executions, and sends what has settled. */
  private drain(first?: StreamItem): void {
    if (this.done) return;
    this.paused = false;
    this.batchContext = undefined;
    this.batched = 0;
    if (first) this.start(first);
    while (!this.busy && !this.sourceEnded && this.sourceError === undefined) {
      if (this.queued() >= this.heldLimit) {
        this.paused = true;
        break;
      }
      const item = this.stream.take();
      if (item !== undefined) {
        this.start(item);
        continue;
      }
      if (this.stream.idle()) break;
      // The next event needs I/O first, or the stream has ended.
      this.busy = true;
      this.stream.next().then(
        (step) => this.received(step),
        (error: unknown) => {
          this.busy = false;
          this.sourceError = error;
          this.flush();
        },
      );
    }
    // Executions started above hold their context. Dropped here, so that an idle subscription keeps no loaders.
    this.batchContext = undefined;
    this.flush();
  }

  private received(step: IteratorResult<StreamItem>): void {
    this.busy = false;
    if (step.done) this.sourceEnded = true;
    this.drain(step.done ? undefined : step.value);
  }

  /** Sends the settled results at the head of `waiting`, in order. */
  private flush(): void {
    const { waiting } = this;
    while (!this.done && waiting.length > 0) {
      const head = waiting[0]!;
      if (!head.settled) {
        if (this.awaited !== head) {
          this.awaited = head;
          head.whenSettled(this);
        }
        return;
      }
      waiting.shift();
      const item = this.waitingItems.shift()!;
      // Rejected, as the executor's own path would: the transport reports it as an error message.
      if (head.result === undefined) {
        this.end(Promise.reject(head.error));
        return;
      }
      if (head.result.errors?.length) {
        this.end({ value: head.result, done: false });
        return;
      }
      if (this.sink.send(head.result, this.sent)) {
        this.sending += 1;
        this.metrics.eventDelivered('websocket', item.replayed ? undefined : item.event.createdAt.getTime());
      }
    }
    if (this.done || waiting.length > 0) return;
    if (this.sourceError !== undefined) this.end({ value: errorResult(this.sourceError), done: false });
    else if (this.sourceEnded) this.end();
  }

  /** Releases the stream and settles the iterator's one pending step with `last`. */
  private end(last: IteratorResult<ExecutionResult> | Promise<never> = finished): void {
    if (this.done) return;
    this.done = true;
    this.waiting.length = 0;
    this.waitingItems.length = 0;
    this.leave();
    this.metrics.subscriptionEnded('websocket', this.sourceError instanceof SlowConsumerError);
    // A stream that failed may still hold listeners that only return() releases.
    void this.stream.return?.();
    this.settle(last);
  }

  next(): Promise<IteratorResult<ExecutionResult>> {
    if (this.outcomeTaken) return Promise.resolve(finished);
    this.outcomeTaken = true;
    return this.outcome;
  }

  async return(): Promise<IteratorResult<ExecutionResult>> {
    this.end();
    return finished;
  }

  async throw(error: unknown): Promise<IteratorResult<ExecutionResult>> {
    this.end();
    throw error;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<ExecutionResult> {
    return this;
  }
}
