import type { Database, Transaction } from '../db/client.js';
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
  deps: { db: Database; bus: EventBus; logger: Logger },
  actorId: string | null,
  work: (tx: Transaction, append: AppendEvent) => Promise<T>,
): Promise<T> {
  const events: BoardEventRecord[] = [];
  const result = await deps.db.$transaction(async (tx) => {
    const append: AppendEvent = async (boardId, type, payload) => {
      events.push(await insertEvent(tx, boardId, type, payload, actorId));
    };
    return work(tx, append);
  });
  for (const event of events) {
    deps.bus.publish(boardTopic(event.boardId), event);
  }
  if (events.length > 0) {
    deps.logger.debug({ events: events.map((e) => `${e.boardId}#${e.sequence}:${e.type}`) }, 'events committed');
  }
  return result;
}
