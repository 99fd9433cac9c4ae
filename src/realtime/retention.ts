import type { Database } from '../db/client.js';
import type { Logger } from '../observability/logger.js';

export interface RetentionPolicy {
  /** Events older than this are pruned, in seconds. */
  maxAgeSeconds: number;
  /** At most this many newest events are kept per board. */
  maxEventsPerBoard: number;
}

/**
 * Deletes the events that fall outside the policy from every board's log and
 * records, per board, the last sequence pruned (Board.prunedThrough), so a
 * resume from an older cursor fails with CURSOR_EXPIRED instead of silently
 * skipping events. Returns the number of events deleted.
 */
export async function pruneEventLog(db: Database, policy: RetentionPolicy, logger: Logger, now = new Date()): Promise<number> {
  const cutoff = new Date(now.getTime() - policy.maxAgeSeconds * 1000);
  const boards = await db.board.findMany({ select: { id: true, eventSequence: true, prunedThrough: true } });
  let deleted = 0;
  for (const board of boards) {
    const newestTooOld = await db.boardEvent.findFirst({
      where: { boardId: board.id, createdAt: { lt: cutoff } },
      orderBy: { sequence: 'desc' },
      select: { sequence: true },
    });
    const through = Math.max(newestTooOld?.sequence ?? 0, board.eventSequence - policy.maxEventsPerBoard);
    if (through <= board.prunedThrough) continue;
    const result = await db.$transaction(async (tx) => {
      const removed = await tx.boardEvent.deleteMany({ where: { boardId: board.id, sequence: { lte: through } } });
      await tx.board.update({ where: { id: board.id }, data: { prunedThrough: through } });
      return removed.count;
    });
    deleted += result;
    logger.debug({ boardId: board.id, through, deleted: result }, 'pruned board event log');
  }
  if (deleted > 0) logger.info({ deleted, boards: boards.length }, 'pruned event logs');
  return deleted;
}

/**
 * Runs `prune` now and then every `intervalMs`. Errors are logged, never
 * thrown: a failed pass leaves more rows than needed, which is harmless.
 * Returns a function that stops the schedule and waits for a pass in progress.
 */
export function schedulePruning(prune: () => Promise<unknown>, logger: Logger, intervalMs: number): () => Promise<void> {
  let running: Promise<unknown> = Promise.resolve();
  const pass = () => {
    running = prune().catch((error: unknown) => logger.error({ err: error }, 'pruning failed'));
  };
  pass();
  const timer = setInterval(pass, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
