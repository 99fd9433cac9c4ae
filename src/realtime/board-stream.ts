import type { Database, Role } from '../db/client.js';
import { CursorExpiredError, ForbiddenError, NotFoundError, SlowConsumerError, ValidationError } from '../domain/errors.js';
import type { Logger } from '../observability/logger.js';
import type { EventBus } from './bus.js';
import { boardTopic, eventFromRow, EventType, type BoardEventRecord } from './events.js';
import { streamIterator, type StreamConsumer, type PushStream } from './iterator.js';

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
  const { db, bus, logger, boardId, userId, queueLimit } = options;
  const gapWaitMs = options.gapWaitMs ?? 50;
  // A replay page takes at most half the queue, leaving room for live events.
  const pageSize = options.pageSize ?? Math.min(500, Math.max(1, Math.floor(queueLimit / 2)));
  const pending = new Map<number, BoardEventRecord>();
  let failure: Error | undefined;
  let finished = false;
  let wake: (() => void) | undefined;
  // Set from the board once the start has read it. Until then it is 0, so
  // every live event is held, and the start drops those it will replay.
  let delivered = 0;
  /**
   * Highest sequence known to be committed. Sequences are allocated under the
   * board row's lock, so every sequence below a committed one is committed
   * too, and is in the log unless pruned.
   */
  let committed = 0;
  /** The board's newest sequence when the stream started; replay reads up to it without waiting. */
  let replayThrough = 0;
  let role: Role;
  /** The push consumer, told about new events, whose taken events count against the queue limit. */
  let consumer: StreamConsumer | undefined;

  function notify(): void {
    wake?.();
    consumer?.streamChanged();
  }

  const unsubscribe = bus.subscribe(boardTopic(boardId), (event) => {
    if (finished || event.sequence <= delivered) return;
    committed = Math.max(committed, event.sequence);
    pending.set(event.sequence, event);
    const queued = pending.size + (consumer?.queued() ?? 0);
    if (queued > queueLimit) {
      logger.warn({ boardId, userId, queued, delivered }, 'subscriber too slow; ending its subscription');
      fail(new SlowConsumerError(`More than ${queueLimit} events were waiting for this subscriber, so its subscription was ended. Resubscribe with after set to the cursor of the last event received.`));
    }
    notify();
  });
  const unregister =
    options.registry?.add({
      queued() {
        return pending.size + (consumer?.queued() ?? 0);
      },
    }) ?? (() => {});
  // After a bus outage, events may have been lost on the way: learn the
  // newest committed sequence, so next() reads the rest from the log.
  const stopResync = bus.onReconnect(() => {
    db.board
      .findUnique({ where: { id: boardId }, select: { eventSequence: true } })
      .then((board) => {
        if (!board || finished) return;
        committed = Math.max(committed, board.eventSequence);
        notify();
      })
      .catch((error: unknown) => logger.warn({ err: error, boardId }, 'reading the board after a bus reconnect failed'));
  });

  options.signal?.addEventListener('abort', finish, { once: true });

  function finish(): void {
    if (finished) return;
    finished = true;
    options.signal?.removeEventListener('abort', finish);
    unsubscribe();
    stopResync();
    unregister();
    pending.clear();
    notify();
  }

  function fail(error: Error): void {
    failure ??= error;
    finish();
  }

  try {
    // Only once the bus delivers the topic is the board's sequence a safe starting point.
    await unsubscribe.ready;
    const board = await db.board.findUnique({ where: { id: boardId }, select: { eventSequence: true, prunedThrough: true, workspaceId: true } });
    if (!board) throw new NotFoundError(`Board ${boardId} does not exist.`);
    const membership = await db.membership.findUnique({ where: { workspaceId_userId: { workspaceId: board.workspaceId, userId } } });
    if (!membership) throw new ForbiddenError('You are not a member of this workspace.');
    role = membership.role;
    committed = Math.max(committed, board.eventSequence);
    const after = options.after ?? board.eventSequence;
    if (after > board.eventSequence) {
      throw new ValidationError('after', `The cursor points at event ${after}, but the board's newest event is ${board.eventSequence}; subscribe without after.`);
    }
    if (after < board.prunedThrough) throw expired(after, board.prunedThrough);
    delivered = after;
    replayThrough = board.eventSequence;
    for (const sequence of pending.keys()) {
      if (sequence <= delivered) pending.delete(sequence);
    }
  } catch (error) {
    finish();
    throw error;
  }
  if (options.signal?.aborted) finish();

  function expired(after: number, prunedThrough: number): CursorExpiredError {
    return new CursorExpiredError(
      `Events up to ${prunedThrough} were pruned from the board's log, so nothing after ${after} can be replayed. Refetch the board, then subscribe without after.`,
    );
  }

  function waitForEvent(timeoutMs?: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = timeoutMs === undefined ? undefined : setTimeout(done, timeoutMs);
      function done() {
        if (timer) clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });
  }

  /** Reads up to a page of events after `delivered` from the log. */
  async function readLog(upTo: number): Promise<void> {
    const rows = await db.boardEvent.findMany({
      where: { boardId, sequence: { gt: delivered, lte: Math.min(upTo, delivered + pageSize) } },
      orderBy: { sequence: 'asc' },
    });
    if (finished) return;
    if (rows[0]?.sequence !== delivered + 1) {
      const board = await db.board.findUnique({ where: { id: boardId }, select: { prunedThrough: true } });
      throw expired(delivered, board?.prunedThrough ?? delivered + 1);
    }
    for (const row of rows) {
      if (!pending.has(row.sequence)) pending.set(row.sequence, eventFromRow(row));
    }
  }

  /** Returns true when the event removes the subscriber, which checkAccess must confirm in the database. */
  function removesSubscriber(event: BoardEventRecord): boolean {
    return event.type === EventType.MEMBER_REMOVED && (event.payload as { userId?: string }).userId === userId;
  }

  /** Applies the subscriber's own role change, which decides the scope of this event and later ones. */
  function applyRoleChange(event: BoardEventRecord): void {
    const payload = event.payload as { userId?: string; role?: Role };
    if (event.type === EventType.MEMBER_ROLE_CHANGED && payload.userId === userId) role = payload.role!;
  }

  /** Applies the subscriber's own membership changes before their event is delivered. */
  async function checkAccess(event: BoardEventRecord): Promise<void> {
    applyRoleChange(event);
    if (!removesSubscriber(event)) return;
    const board = await db.board.findUnique({ where: { id: boardId }, select: { workspaceId: true } });
    const membership = board && (await db.membership.findUnique({ where: { workspaceId_userId: { workspaceId: board.workspaceId, userId } } }));
    if (!membership) throw new ForbiddenError('You were removed from this workspace; the subscription has ended.');
    // Removed and added again since the cursor: the events in between were
    // not the subscriber's to see.
    throw new CursorExpiredError('Your membership was interrupted since this cursor. Refetch the board, then subscribe without after.');
  }

  async function next(): Promise<IteratorResult<StreamItem>> {
    while (!finished) {
      const event = pending.get(delivered + 1);
      if (event) {
        pending.delete(event.sequence);
        await checkAccess(event);
        delivered = event.sequence;
        return { value: { event, scope: role }, done: false };
      }
      if (delivered < replayThrough || (committed > delivered && pending.size === 0)) {
        await readLog(committed);
        continue;
      }
      if (pending.size > 0) {
        // A later event is here but the next one is not: give the bus a
        // moment, then read the missing events from the log.
        await waitForEvent(gapWaitMs);
        if (!finished && !pending.has(delivered + 1) && pending.size > 0) {
          logger.debug({ boardId, after: delivered }, 'reading a missing event from the log');
          await readLog(Math.min(...pending.keys()) - 1);
        }
        continue;
      }
      await waitForEvent();
    }
    if (failure) throw failure;
    return { value: undefined, done: true };
  }

  const iterator = streamIterator(
    async () => {
      try {
        return await next();
      } catch (error) {
        fail(error as Error);
        throw error;
      }
    },
    finish,
    // The next event is held already: next() returns it without waiting for the bus or the log.
    () => !finished && pending.has(delivered + 1),
  );
  return Object.assign(iterator, {
    queueLimit,
    take(): StreamItem | undefined {
      if (finished) return undefined;
      const event = pending.get(delivered + 1);
      if (!event || removesSubscriber(event)) return undefined;
      pending.delete(event.sequence);
      applyRoleChange(event);
      delivered = event.sequence;
      return { event, scope: role };
    },
    idle(): boolean {
      return !finished && pending.size === 0 && delivered >= replayThrough && committed <= delivered;
    },
    attach(pushConsumer: StreamConsumer): void {
      consumer = pushConsumer;
    },
  });
}
