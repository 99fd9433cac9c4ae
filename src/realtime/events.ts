import type { Transaction } from '../db/client.js';

/** Event types in the board log, one per kind of committed change. */
export const EventType = {
  BOARD_RENAMED: 'BOARD_RENAMED',
  BOARD_ARCHIVED: 'BOARD_ARCHIVED',
  COLUMN_CREATED: 'COLUMN_CREATED',
  COLUMN_RENAMED: 'COLUMN_RENAMED',
  COLUMN_MOVED: 'COLUMN_MOVED',
  COLUMN_DELETED: 'COLUMN_DELETED',
  CARD_CREATED: 'CARD_CREATED',
  CARD_UPDATED: 'CARD_UPDATED',
  CARD_MOVED: 'CARD_MOVED',
  CARD_ARCHIVED: 'CARD_ARCHIVED',
  CARD_ASSIGNED: 'CARD_ASSIGNED',
  CARD_UNASSIGNED: 'CARD_UNASSIGNED',
  COMMENT_ADDED: 'COMMENT_ADDED',
  COMMENT_EDITED: 'COMMENT_EDITED',
  COMMENT_DELETED: 'COMMENT_DELETED',
  MEMBER_ADDED: 'MEMBER_ADDED',
  MEMBER_REMOVED: 'MEMBER_REMOVED',
  MEMBER_ROLE_CHANGED: 'MEMBER_ROLE_CHANGED',
} as const;

export type EventType = (typeof EventType)[keyof typeof EventType];

/**
 * Payload of each event type: the ids of the objects involved, plus the facts
 * that cannot be read back later (a deleted column's name, a previous role).
 */
export interface EventPayloads {
  BOARD_RENAMED: { name: string };
  BOARD_ARCHIVED: { archived: boolean };
  COLUMN_CREATED: { columnId: string };
  COLUMN_RENAMED: { columnId: string; name: string };
  COLUMN_MOVED: { columnId: string; position: string };
  COLUMN_DELETED: { columnId: string; name: string };
  CARD_CREATED: { cardId: string; columnId: string };
  CARD_UPDATED: { cardId: string; changedFields: string[] };
  CARD_MOVED: { cardId: string; fromColumnId: string; toColumnId: string; position: string };
  CARD_ARCHIVED: { cardId: string; archived: boolean };
  CARD_ASSIGNED: { cardId: string; userId: string };
  CARD_UNASSIGNED: { cardId: string; userId: string };
  COMMENT_ADDED: { commentId: string; cardId: string };
  COMMENT_EDITED: { commentId: string; cardId: string };
  COMMENT_DELETED: { commentId: string; cardId: string };
  MEMBER_ADDED: { userId: string; role: string };
  MEMBER_REMOVED: { userId: string; role: string };
  MEMBER_ROLE_CHANGED: { userId: string; role: string; previousRole: string };
}

/** One row of the board event log, as stored and as sent on the bus. */
export interface BoardEventRecord<T extends EventType = EventType> {
  boardId: string;
  sequence: number;
  type: T;
  payload: EventPayloads[T];
  actorId: string | null;
  createdAt: Date;
}

/** Appends events inside the transaction that makes the change they describe. */
export type AppendEvent = <T extends EventType>(boardId: string, type: T, payload: EventPayloads[T]) => Promise<void>;

/**
 * Allocates the board's next sequence number and inserts the event row. The
 * counter update takes the board row's write lock, so concurrent writers to
 * one board get 1, 2, 3 ... without gaps or duplicates.
 */
export async function insertEvent<T extends EventType>(
  tx: Transaction,
  boardId: string,
  type: T,
  payload: EventPayloads[T],
  actorId: string | null,
): Promise<BoardEventRecord<T>> {
  // Raw, as it runs for every change: a model query costs several times as much in Prisma 6.19.
  const [board] = await tx.$queryRaw<{ eventSequence: number | bigint }[]>`UPDATE "Board" SET "eventSequence" = "eventSequence" + 1 WHERE "id" = ${boardId} RETURNING "eventSequence"`;
  if (!board) throw new Error(`Board ${boardId} vanished inside the transaction that logs its event.`);
  const sequence = Number(board.eventSequence);
  const createdAt = new Date();
  await tx.$executeRaw`INSERT INTO "BoardEvent" ("boardId", "sequence", "type", "payload", "actorId", "createdAt") VALUES (${boardId}, ${sequence}, ${type}, ${JSON.stringify(payload)}, ${actorId}, ${createdAt})`;
  return { boardId, sequence, type, payload, actorId, createdAt };
}

/** Turns a stored row back into a record. */
export function eventFromRow(row: {
  boardId: string;
  sequence: number;
  type: string;
  payload: string;
  actorId: string | null;
  createdAt: Date;
}): BoardEventRecord {
  return { ...row, type: row.type as EventType, payload: JSON.parse(row.payload) };
}

/** Bus topic of a board's events. */
export function boardTopic(boardId: string): string {
  return `board:${boardId}`;
}
