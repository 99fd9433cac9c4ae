import { Prisma, type Database, type Transaction } from '../db/client.js';
import type { Logger } from '../observability/logger.js';
import type { EventBus } from './bus.js';
import { boardTopic, insertEvent, type AppendEvent, type BoardEventRecord } from './events.js';

/**
 * Runs `work` in one database transaction in which it may append board
 * events. The change and its events commit together or not at all. The
 * events are published on the bus only after the commit, so a rollback
 * publishes nothing.
 */
export async function commitWithEvents<T>(
  deps: { db: Database; bus: EventBus; logger: Logger; metrics?: { eventsPublished(count: number): void } },
  actorId: string | null,
  work: (tx: Transaction, append: AppendEvent) => Promise<T>,
): Promise<T> {
  let events: BoardEventRecord[] = [];
  const attempt = () =>
    deps.db.$transaction(async (tx) => {
      events = [];
      const append: AppendEvent = async (boardId, type, payload) => {
        events.push(await insertEvent(tx, boardId, type, payload, actorId));
      };
      return work(tx, append);
    });
  let result: T;
  for (let tries = 1; ; tries += 1) {
    try {
      result = await attempt();
      break;
    } catch (error) {
      // PostgreSQL ends one of two deadlocked transactions (P2034). The
      // board and workspace locks make that rare; the rolled-back attempt
      // changed nothing, so running it again is safe.
      if (!(error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2034') || tries === 3) throw error;
      deps.logger.debug({ err: error, tries }, 'transaction ended by a write conflict; running it again');
    }
  }
  for (const event of events) {
    deps.bus.publish(boardTopic(event.boardId), event);
  }
  deps.metrics?.eventsPublished(events.length);
  if (events.length > 0) {
    deps.logger.debug({ events: events.map((e) => `${e.boardId}#${e.sequence}:${e.type}`) }, 'events committed');
  }
  return result;
}
