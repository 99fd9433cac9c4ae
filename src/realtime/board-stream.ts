import type { Database, Role } from '../db/client.js';
import { CursorExpiredError, ForbiddenError, NotFoundError, SlowConsumerError, ValidationError } from '../domain/errors.js';
import type { Logger } from '../observability/logger.js';
import type { BusSubscription, EventBus } from './bus.js';
import { boardTopic, eventFromRow, EventType, type BoardEventRecord } from './events.js';
import type { PushStream, StreamConsumer } from './iterator.js';

export interface BoardStreamOptions {
  db: Database;
  bus: EventBus;
  logger: Logger;
  boardId: string;
  /** The subscriber; the stream checks their membership and follows their role. */
  userId: string;
  /** Sequence of the last event the client has; replay starts after it. Undefined starts live from now. */
  after?: number;
  /** Events the stream may hold that the client has not taken yet; past it, SLOW_CONSUMER. */
  queueLimit: number;
  /**
   * How long an out-of-order event waits for the ones before it to arrive on
   * the bus before the stream reads them from the log, in milliseconds.
   */
  gapWaitMs?: number;
  /** Rows read from the log at a time during replay. */
  pageSize?: number;
  /** Registry of open streams, for leak checks and metrics. */
  registry?: StreamRegistry;
  /** Receives the number of events a stream replays from the log when it starts behind the board. */
  metrics?: { replayStarted(events: number): void };
  /**
   * The client went away. Ends the stream, also while it is starting: its
   * iterator may not have reached the transport yet, and no other code would
   * end it then.
   */
  signal?: AbortSignal;
}

/** An event as a stream delivers it, with the subscriber's role when it was delivered. */
export interface StreamItem {
  event: BoardEventRecord;
  /** The subscriber's role, which decides what the payload may show; subscribers with equal scope can share one execution. */
  scope: Role;
  /** The event was committed before the stream started, and is delivered from the log as part of a replay. */
  replayed: boolean;
}

/** Open streams of one process; `queued()` sums the events they hold. */
export class StreamRegistry {
  private readonly streams = new Set<{ queued(): number }>();

  add(stream: { queued(): number }): () => void {
    this.streams.add(stream);
    return () => this.streams.delete(stream);
  }

  get size(): number {
    return this.streams.size;
  }

  queued(): number {
    let total = 0;
    for (const stream of this.streams) total += stream.queued();
    return total;
  }
}

/**
 * Opens a stream of a board's events, in sequence order, each once.
 *
 * It subscribes to the bus before it reads the board's current sequence, so
 * no event committed after that read can be missed. With `after`, it first
 * replays the logged events after that sequence, page by page, and drops
 * live events it has already replayed. Events that arrive out of order wait
 * for the ones before them. When a sequence number stays missing (because
 * the bus dropped it), the stream reads it from the log.
 *
 * @throws NotFoundError, ForbiddenError (not a member), ValidationError (a
 * cursor ahead of the log) or CursorExpiredError, before anything is delivered.
 * The iterator then throws ForbiddenError when the subscriber is removed,
 * CursorExpiredError when events it needs were pruned meanwhile, and
 * SlowConsumerError when more than `queueLimit` events wait for the client.
 */
export async function openBoardStream(options: BoardStreamOptions): Promise<PushStream<StreamItem>> {
  const stream = new BoardStream(options);
  await stream.start();
  return stream;
}

const ended = { value: undefined, done: true } as const;

/**
 * The state of one open board stream (see openBoardStream). It is a class
 * rather than closures because thousands of idle subscriptions keep one
 * each. Methods live on the prototype, while every named closure gets its
 * own property table under esbuild's keepNames, which tsx turns on.
 */
class BoardStream implements PushStream<StreamItem> {
  readonly queueLimit: number;
  private readonly gapWaitMs: number;
  /** Rows read from the log at a time. */
  private readonly pageSize: number;
  private readonly pending = new Map<number, BoardEventRecord>();
  private failure: Error | undefined;
  private finished = false;
  private wake: (() => void) | undefined;
  // Set from the board once the start has read it. Until then it is 0, so
  // every live event is held, and the start drops those it will replay.
  private delivered = 0;
  /**
   * Highest sequence known to be committed. Sequences are allocated under the
   * board row's lock, so every sequence below a committed one is committed
   * too, and is in the log unless pruned.
   */
  private committed = 0;
  /** The board's newest sequence when the stream started; replay reads up to it without waiting. */
  private replayThrough = 0;
  private role: Role | undefined;
  /** The push consumer, notified of new events, whose taken events count against the queue limit. */
  private consumer: StreamConsumer | undefined;
  private readonly unsubscribe: BusSubscription;
  private readonly unregister: () => void;
  private readonly stopResync: () => void;
  /** finish(), bound once for the abort signal's listener. */
  private readonly finishOnAbort: () => void;

  constructor(private readonly options: BoardStreamOptions) {
    const { bus, queueLimit } = options;
    this.queueLimit = queueLimit;
    this.gapWaitMs = options.gapWaitMs ?? 50;
    // A replay page takes at most half the queue, leaving room for live events.
    this.pageSize = options.pageSize ?? Math.min(500, Math.max(1, Math.floor(queueLimit / 2)));
    this.unsubscribe = bus.subscribe(boardTopic(options.boardId), (event) => this.received(event));
    this.unregister = options.registry?.add(this) ?? (() => {});
    // After a bus outage, events may have been lost on the way: learn the
    // newest committed sequence, so next() reads the rest from the log.
    this.stopResync = bus.onReconnect(() => this.resync());
    this.finishOnAbort = this.finish.bind(this);
    options.signal?.addEventListener('abort', this.finishOnAbort, { once: true });
  }

  /** Number of events held for the client, here and by the push consumer. */
  queued(): number {
    return this.pending.size + (this.consumer?.queued() ?? 0);
  }

  private received(event: BoardEventRecord): void {
    if (this.finished || event.sequence <= this.delivered) return;
    this.committed = Math.max(this.committed, event.sequence);
    this.pending.set(event.sequence, event);
    const queued = this.queued();
    if (queued > this.queueLimit) {
      const { boardId, userId } = this.options;
      this.options.logger.warn({ boardId, userId, queued, delivered: this.delivered }, 'subscriber too slow; ending its subscription');
      this.fail(
        new SlowConsumerError(`More than ${this.queueLimit} events were waiting for this subscriber, so its subscription was ended. Resubscribe with after set to the cursor of the last event received.`),
      );
    }
    this.notify();
  }

  private resync(): void {
    const { db, boardId, logger } = this.options;
    db.board
      .findUnique({ where: { id: boardId }, select: { eventSequence: true } })
      .then((board) => {
        if (!board || this.finished) return;
        this.committed = Math.max(this.committed, board.eventSequence);
        this.notify();
      })
      .catch((error: unknown) => logger.warn({ err: error, boardId }, 'reading the board after a bus reconnect failed'));
  }

  private notify(): void {
    this.wake?.();
    this.consumer?.streamChanged();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.options.signal?.removeEventListener('abort', this.finishOnAbort);
    this.unsubscribe();
    this.stopResync();
    this.unregister();
    this.pending.clear();
    this.notify();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.finish();
  }

  /** Checks the board, the membership and the cursor, and sets where delivery starts. */
  async start(): Promise<void> {
    const { db, boardId, userId } = this.options;
    try {
      // Only once the bus delivers the topic is the board's sequence a safe starting point.
      await this.unsubscribe.ready;
      const board = await db.board.findUnique({ where: { id: boardId }, select: { eventSequence: true, prunedThrough: true, workspaceId: true } });
      if (!board) throw new NotFoundError(`Board ${boardId} does not exist.`);
      const membership = await db.membership.findUnique({ where: { workspaceId_userId: { workspaceId: board.workspaceId, userId } } });
      if (!membership) throw new ForbiddenError('You are not a member of this workspace.');
      this.role = membership.role;
      this.committed = Math.max(this.committed, board.eventSequence);
      const after = this.options.after ?? board.eventSequence;
      if (after > board.eventSequence) {
        throw new ValidationError('after', `The cursor points at event ${after}, but the board's newest event is ${board.eventSequence}; subscribe without after.`);
      }
      if (after < board.prunedThrough) throw expired(after, board.prunedThrough);
      this.delivered = after;
      this.replayThrough = board.eventSequence;
      if (after < board.eventSequence) this.options.metrics?.replayStarted(board.eventSequence - after);
      for (const sequence of this.pending.keys()) {
        if (sequence <= this.delivered) this.pending.delete(sequence);
      }
    } catch (error) {
      this.finish();
      throw error;
    }
    if (this.options.signal?.aborted) this.finish();
  }

  private waitForEvent(timeoutMs?: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        if (timer) clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      if (timeoutMs !== undefined) timer = setTimeout(done, timeoutMs);
      this.wake = done;
    });
  }

  /** Reads up to a page of events after `delivered` from the log. */
  private async readLog(upTo: number): Promise<void> {
    const { db, boardId } = this.options;
    const { delivered } = this;
    const rows = await db.boardEvent.findMany({
      where: { boardId, sequence: { gt: delivered, lte: Math.min(upTo, delivered + this.pageSize) } },
      orderBy: { sequence: 'asc' },
    });
    if (this.finished) return;
    if (rows[0]?.sequence !== delivered + 1) {
      const board = await db.board.findUnique({ where: { id: boardId }, select: { prunedThrough: true } });
      throw expired(delivered, board?.prunedThrough ?? delivered + 1);
    }
    for (const row of rows) {
      if (!this.pending.has(row.sequence)) this.pending.set(row.sequence, eventFromRow(row));
    }
  }

  /** Returns true when the event removes the subscriber, which checkAccess must confirm in the database. */
  private removesSubscriber(event: BoardEventRecord): boolean {
    return event.type === EventType.MEMBER_REMOVED && (event.payload as { userId?: string }).userId === this.options.userId;
  }

  /** Applies the subscriber's own role change, which decides the scope of this event and later ones. */
  private applyRoleChange(event: BoardEventRecord): void {
    const payload = event.payload as { userId?: string; role?: Role };
    if (event.type === EventType.MEMBER_ROLE_CHANGED && payload.userId === this.options.userId) this.role = payload.role!;
  }

  /** Applies the subscriber's own membership changes before their event is delivered. */
  private async checkAccess(event: BoardEventRecord): Promise<void> {
    this.applyRoleChange(event);
    if (!this.removesSubscriber(event)) return;
    const { db, boardId, userId } = this.options;
    const board = await db.board.findUnique({ where: { id: boardId }, select: { workspaceId: true } });
    const membership = board && (await db.membership.findUnique({ where: { workspaceId_userId: { workspaceId: board.workspaceId, userId } } }));
    if (!membership) throw new ForbiddenError('You were removed from this workspace; the subscription has ended.');
    // Removed and added again since the cursor: the events in between were
    // not the subscriber's to see.
    throw new CursorExpiredError('Your membership was interrupted since this cursor. Refetch the board, then subscribe without after.');
  }

  private async nextEvent(): Promise<IteratorResult<StreamItem>> {
    const { pending } = this;
    while (!this.finished) {
      const event = pending.get(this.delivered + 1);
      if (event) {
        pending.delete(event.sequence);
        await this.checkAccess(event);
        this.delivered = event.sequence;
        return { value: { event, scope: this.role!, replayed: event.sequence <= this.replayThrough }, done: false };
      }
      if (this.delivered < this.replayThrough || (this.committed > this.delivered && pending.size === 0)) {
        await this.readLog(this.committed);
        continue;
      }
      if (pending.size > 0) {
        // A later event is here but the next one is not: give the bus a
        // moment, then read the missing events from the log.
        await this.waitForEvent(this.gapWaitMs);
        if (!this.finished && !pending.has(this.delivered + 1) && pending.size > 0) {
          this.options.logger.debug({ boardId: this.options.boardId, after: this.delivered }, 'reading a missing event from the log');
          await this.readLog(Math.min(...pending.keys()) - 1);
        }
        continue;
      }
      await this.waitForEvent();
    }
    if (this.failure) throw this.failure;
    return ended;
  }

  async next(): Promise<IteratorResult<StreamItem>> {
    try {
      return await this.nextEvent();
    } catch (error) {
      this.fail(error as Error);
      throw error;
    }
  }

  /** Returns true when the next event is held already, so next() returns it without waiting for the bus or the log. */
  ready(): boolean {
    return !this.finished && this.pending.has(this.delivered + 1);
  }

  take(): StreamItem | undefined {
    if (this.finished) return undefined;
    const event = this.pending.get(this.delivered + 1);
    if (!event || this.removesSubscriber(event)) return undefined;
    this.pending.delete(event.sequence);
    this.applyRoleChange(event);
    this.delivered = event.sequence;
    return { event, scope: this.role!, replayed: event.sequence <= this.replayThrough };
  }

  idle(): boolean {
    return !this.finished && this.pending.size === 0 && this.delivered >= this.replayThrough && this.committed <= this.delivered;
  }

  attach(consumer: StreamConsumer): void {
    this.consumer = consumer;
  }

  // return() and throw() finish at once, even while a next() call is waiting.
  async return(): Promise<IteratorResult<StreamItem>> {
    this.finish();
    return ended;
  }

  async throw(error: unknown): Promise<IteratorResult<StreamItem>> {
    this.finish();
    throw error;
  }

  [Symbol.asyncIterator](): BoardStream {
    return this;
  }
}

function expired(after: number, prunedThrough: number): CursorExpiredError {
  return new CursorExpiredError(
    `Events up to ${prunedThrough} were pruned from the board's log, so nothing after ${after} can be replayed. Refetch the board, then subscribe without after.`,
  );
}
