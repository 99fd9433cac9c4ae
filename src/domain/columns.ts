import { checkVersion, runMutation } from './mutation.js';
import type { Column, Transaction } from '../db/client.js';
import { EventType, type AppendEvent } from '../realtime/events.js';
import { writableBoard } from './access.js';
import { NotFoundError, ValidationError } from './errors.js';
import { maxPositionLength, positionBetween, rebalance } from './positions.js';
import type { Actor, Services } from './services.js';
import { Limits, requiredText } from './validate.js';

/** Locks the column's board (see writableBoard), then loads the column, as writableCard does. */
export async function writableColumn(tx: Transaction, actor: Actor, columnId: string, field: string) {
  const board = await writableBoard(tx, actor.userId, { column: columnId }, field);
  // Raw, as in writableCard: it runs for every new card.
  const [column] = await tx.$queryRaw<Column[]>`SELECT * FROM "Column" WHERE "id" = ${columnId}`;
  if (!column) throw new NotFoundError(`Column ${columnId} does not exist.`);
  return { column, board };
}

/**
 * Computes the position key for a column placed right after `afterColumnId`,
 * right before `beforeColumnId`, or (with neither) at the end of the board.
 */
type ColumnPlace = { afterColumnId?: string | null; beforeColumnId?: string | null };

/**
 * Computes the position key for a column (see keyForColumn). When the key
 * would grow past maxPositionLength, the board's other columns first get
 * short keys, each logged as a column move.
 */
async function columnPosition(tx: Transaction, append: AppendEvent, boardId: string, movingId: string | null, place: ColumnPlace) {
  const key = await keyForColumn(tx, boardId, movingId, place);
  if (key.length <= maxPositionLength) return key;
  const siblings = await tx.column.findMany({
    where: { boardId, id: { not: movingId ?? '' } },
    orderBy: [{ position: 'asc' }, { id: 'asc' }],
    select: { id: true, position: true },
  });
  await rebalance(siblings, async (id, position) => {
    await tx.column.update({ where: { id }, data: { position, version: { increment: 1 } } });
    await append(boardId, EventType.COLUMN_MOVED, { columnId: id, position });
  });
  return keyForColumn(tx, boardId, movingId, place);
}

async function keyForColumn(tx: Transaction, boardId: string, movingId: string | null, place: ColumnPlace) {
  if (place.afterColumnId && place.beforeColumnId) {
    throw new ValidationError('input.afterColumnId', 'Give afterColumnId or beforeColumnId, not both.');
  }
  const siblings = (await tx.column.findMany({ where: { boardId }, orderBy: { position: 'asc' }, select: { id: true, position: true } }))
    .filter((column) => column.id !== movingId);
  const anchorId = place.afterColumnId ?? place.beforeColumnId;
  if (!anchorId) return positionBetween(siblings.at(-1)?.position, null);
  const field = place.afterColumnId ? 'input.afterColumnId' : 'input.beforeColumnId';
  const index = siblings.findIndex((column) => column.id === anchorId);
  if (index < 0) {
    throw new ValidationError(field, anchorId === movingId ? 'A column cannot be placed next to itself.' : `Column ${anchorId} is not on this board.`);
  }
  return place.afterColumnId
    ? positionBetween(siblings[index]!.position, siblings[index + 1]?.position)
    : positionBetween(siblings[index - 1]?.position, siblings[index]!.position);
}

export async function createColumn(services: Services, actor: Actor, input: { boardId: string; name: string; afterColumnId?: string | null }) {
  const name = requiredText('input.name', input.name, Limits.name);
  return runMutation(services, actor, async (tx, append) => {
    const board = await writableBoard(tx, actor.userId, { board: input.boardId }, 'input.boardId');
    const position = await columnPosition(tx, append, board.id, null, { afterColumnId: input.afterColumnId });
    const column = await tx.column.create({ data: { boardId: board.id, name, position } });
    await append(board.id, EventType.COLUMN_CREATED, { columnId: column.id });
    return column;
  });
}

export async function renameColumn(services: Services, actor: Actor, input: { columnId: string; name: string; expectedVersion?: number | null }) {
  const name = requiredText('input.name', input.name, Limits.name);
  return runMutation(services, actor, async (tx, append) => {
    const { column } = await writableColumn(tx, actor, input.columnId, 'input.columnId');
    checkVersion('Column', column, input.expectedVersion);
    const updated = await tx.column.update({ where: { id: column.id }, data: { name, version: { increment: 1 } } });
    await append(column.boardId, EventType.COLUMN_RENAMED, { columnId: column.id, name });
    return updated;
  });
}

export async function moveColumn(
  services: Services,
  actor: Actor,
  input: { columnId: string; afterColumnId?: string | null; beforeColumnId?: string | null; expectedVersion?: number | null },
) {
  return runMutation(services, actor, async (tx, append) => {
    const { column } = await writableColumn(tx, actor, input.columnId, 'input.columnId');
    checkVersion('Column', column, input.expectedVersion);
    const position = await columnPosition(tx, append, column.boardId, column.id, input);
    const updated = await tx.column.update({ where: { id: column.id }, data: { position, version: { increment: 1 } } });
    await append(column.boardId, EventType.COLUMN_MOVED, { columnId: column.id, position });
    return updated;
  });
}

/** Deletes an empty column. A column that still contains cards is rejected, so no card is lost by accident. */
export async function deleteColumn(services: Services, actor: Actor, input: { columnId: string }) {
  return runMutation(services, actor, async (tx, append) => {
    const { column } = await writableColumn(tx, actor, input.columnId, 'input.columnId');
    const cards = await tx.card.count({ where: { columnId: column.id } });
    if (cards > 0) {
      throw new ValidationError('input.columnId', `The column still contains ${cards} card(s), archived ones included; move them to another column first.`);
    }
    await tx.column.delete({ where: { id: column.id } });
    await append(column.boardId, EventType.COLUMN_DELETED, { columnId: column.id, name: column.name });
    return column;
  });
}
