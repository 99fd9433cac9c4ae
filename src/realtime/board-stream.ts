import type { Database } from '../db/client.js';
import { ForbiddenError, NotFoundError } from '../domain/errors.js';
import type { Logger } from '../observability/logger.js';
import type { EventBus } from './bus.js';
import { boardTopic, eventFromRow, EventType, type BoardEventRecord } from './events.js';

export interface BoardStreamOptions {
  db: Database;
  bus: EventBus;
  logger: Logger;
  boardId: string;
  /** The subscriber; the stream ends when this user is removed from the workspace. */
  userId: string;
  /**
   * How long an out-of-order event may wait for the ones before it to arrive
   * on the bus before the stream reads them from the log, in milliseconds.
   */
  gapWaitMs?: number;
}

/**
 * Opens a live stream of a board's events, in sequence order, each once.
 *
 * It subscribes to the bus before reading the board's current sequence, so no
 * event committed after that read can be missed. Events that arrive out of
 * order wait for the ones before them. When a sequence number stays missing
 * (because the bus dropped it), the stream reads it from the event log.
 *
 * The iterator throws ForbiddenError when the subscriber is removed from the
 * workspace, before delivering anything after the removal.
 */
export function openBoardStream(options: BoardStreamOptions): AsyncIterableIterator<BoardEventRecord> {
  const { db, bus, boardId, userId } = options;
  const gapWaitMs = options.gapWaitMs ?? 50;
  const pending = new Map<number, BoardEventRecord>();
  let delivered: number | undefined;
  let wake: (() => void) | undefined;
  let finished = false;

  const unsubscribe = bus.subscribe(boardTopic(boardId), (event) => {
    if (finished || (delivered !== undefined && event.sequence <= delivered)) return;
    pending.set(event.sequence, event);
    wake?.();
  });

  const start = db.board.findUnique({ where: { id: boardId }, select: { eventSequence: true } }).then((board) => {
    if (!board) throw new NotFoundError(`Board ${boardId} does not exist.`);
    delivered = board.eventSequence;
    for (const sequence of pending.keys()) {
      if (sequence <= delivered) pending.delete(sequence);
    }
  });

  function finish(): void {
    if (finished) return;
    finished = true;
    unsubscribe();
    pending.clear();
    wake?.();
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

  async function fillGapFromLog(upTo: number): Promise<void> {
    const rows = await db.boardEvent.findMany({
      where: { boardId, sequence: { gt: delivered!, lt: upTo } },
      orderBy: { sequence: 'asc' },
    });
    options.logger.debug({ boardId, from: delivered! + 1, to: upTo - 1, found: rows.length }, 'filled event gap from the log');
    for (const row of rows) pending.set(row.sequence, eventFromRow(row));
  }

  async function next(): Promise<IteratorResult<BoardEventRecord>> {
    await start;
    while (!finished) {
      const event = pending.get(delivered! + 1);
      if (event) {
        pending.delete(event.sequence);
        delivered = event.sequence;
        if (event.type === EventType.MEMBER_REMOVED && (event as BoardEventRecord<'MEMBER_REMOVED'>).payload.userId === userId) {
          finish();
          throw new ForbiddenError('You were removed from this workspace; the subscription has ended.');
        }
        return { value: event, done: false };
      }
      if (pending.size > 0) {
        // A later event is here but the next one is not: give the bus a
        // moment, then read the missing events from the log.
        await waitForEvent(gapWaitMs);
        if (!finished && !pending.has(delivered! + 1) && pending.size > 0) {
          await fillGapFromLog(Math.min(...pending.keys()));
        }
        continue;
      }
      await waitForEvent();
    }
    return { value: undefined, done: true };
  }

  const iterator: AsyncIterableIterator<BoardEventRecord> = {
    next: async () => {
      try {
        return await next();
      } catch (error) {
        finish();
        throw error;
      }
    },
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
  // A failed start surfaces on the first next(); keep it from being reported
  // as an unhandled rejection before then.
  start.catch(() => finish());
  return iterator;
}
