import { checkVersion, runMutation } from './mutation.js';
import type { Card, Transaction } from '../db/client.js';
import { EventType, type AppendEvent } from '../realtime/events.js';
import { writableBoard } from './access.js';
import { writableColumn } from './columns.js';
import { NotFoundError, ValidationError } from './errors.js';
import { maxPositionLength, positionBetween, rebalance } from './positions.js';
import type { Actor, Services } from './services.js';
import { Limits, optionalText, requiredText } from './validate.js';

/**
 * Locks the card's board (see writableBoard), then loads the card. The card
 * is read after the lock, so it is current.
 */
export async function writableCard(tx: Transaction, actor: Actor, cardId: string, field: string) {
  const board = await writableBoard(tx, actor.userId, { card: cardId }, field);
  // Raw statements here and below run on every card change; a model query costs several times as much in Prisma 6.19.
  const [card] = await tx.$queryRaw<Card[]>`SELECT * FROM "Card" WHERE "id" = ${cardId}`;
  if (!card) throw new NotFoundError(`Card ${cardId} does not exist.`);
  return { card, board };
}

function requireActive(card: { archived: boolean }, field: string) {
  if (card.archived) throw new ValidationError(field, 'The card is archived; unarchive it before changing it.');
}

/**
 * Computes the position key for a card placed in `columnId` right after
 * `afterCardId`, right before `beforeCardId`, or (with neither) at the end.
 */
type CardPlace = { afterCardId?: string | null; beforeCardId?: string | null };

/**
 * Computes the position key for a card placed in `columnId` (see keyForCard).
 * When the key would grow past maxPositionLength, the column's other cards
 * first get short keys, each logged as a move within the column.
 */
async function cardPosition(tx: Transaction, append: AppendEvent, boardId: string, columnId: string, movingId: string | null, place: CardPlace) {
  const key = await keyForCard(tx, columnId, movingId, place);
  if (key.length <= maxPositionLength) return key;
  const siblings = await tx.card.findMany({
    where: { columnId, id: { not: movingId ?? '' } },
    orderBy: [{ position: 'asc' }, { id: 'asc' }],
    select: { id: true, position: true },
  });
  await rebalance(siblings, async (id, position) => {
    await tx.card.update({ where: { id }, data: { position, version: { increment: 1 } } });
    await append(boardId, EventType.CARD_MOVED, { cardId: id, fromColumnId: columnId, toColumnId: columnId, position });
  });
  return keyForCard(tx, columnId, movingId, place);
}

async function keyForCard(tx: Transaction, columnId: string, movingId: string | null, place: CardPlace) {
  if (place.afterCardId && place.beforeCardId) {
    throw new ValidationError('input.afterCardId', 'Give afterCardId or beforeCardId, not both.');
  }
  const anchorId = place.afterCardId ?? place.beforeCardId;
  if (!anchorId) {
    const [last] = await tx.$queryRaw<{ position: string }[]>`SELECT "position" FROM "Card" WHERE "columnId" = ${columnId} AND "id" <> ${movingId ?? ''} ORDER BY "position" DESC LIMIT 1`;
    return positionBetween(last?.position, null);
  }
  const field = place.afterCardId ? 'input.afterCardId' : 'input.beforeCardId';
  if (anchorId === movingId) throw new ValidationError(field, 'A card cannot be placed next to itself.');
  const [anchor] = await tx.$queryRaw<{ columnId: string; position: string }[]>`SELECT "columnId", "position" FROM "Card" WHERE "id" = ${anchorId}`;
  if (!anchor || anchor.columnId !== columnId) throw new ValidationError(field, `Card ${anchorId} is not in the target column.`);
  const notMoving = movingId ?? '';
  if (place.afterCardId) {
    const [next] = await tx.$queryRaw<{ position: string }[]>`SELECT "position" FROM "Card" WHERE "columnId" = ${columnId} AND "id" <> ${notMoving} AND "position" > ${anchor.position} ORDER BY "position" ASC LIMIT 1`;
    return positionBetween(anchor.position, next?.position);
  }
  const [previous] = await tx.$queryRaw<{ position: string }[]>`SELECT "position" FROM "Card" WHERE "columnId" = ${columnId} AND "id" <> ${notMoving} AND "position" < ${anchor.position} ORDER BY "position" DESC LIMIT 1`;
  return positionBetween(previous?.position, anchor.position);
}

function dueDate(value: Date | null | undefined): Date | null | undefined {
  if (value && Number.isNaN(value.getTime())) throw new ValidationError('input.dueAt', 'input.dueAt is not a valid date.');
  return value;
}

export async function createCard(
  services: Services,
  actor: Actor,
  input: { columnId: string; title: string; description?: string | null; dueAt?: Date | null } & CardPlace,
) {
  const title = requiredText('input.title', input.title, Limits.cardTitle);
  const description = optionalText('input.description', input.description ?? '', Limits.cardDescription);
  const dueAt = dueDate(input.dueAt);
  return runMutation(services, actor, async (tx, append) => {
    const { column } = await writableColumn(tx, actor, input.columnId, 'input.columnId');
    const position = await cardPosition(tx, append, column.boardId, column.id, null, input);
    const card = await tx.card.create({
      data: { boardId: column.boardId, columnId: column.id, title, description, dueAt, position, creatorId: actor.userId },
    });
    await append(column.boardId, EventType.CARD_CREATED, { cardId: card.id, columnId: column.id });
    return card;
  });
}

/** Changes only the fields given; `dueAt: null` clears the due date. */
export async function updateCard(
  services: Services,
  actor: Actor,
  input: { cardId: string; title?: string | null; description?: string | null; dueAt?: Date | null; expectedVersion?: number | null },
) {
  const data: { title?: string; description?: string; dueAt?: Date | null } = {};
  if (input.title != null) data.title = requiredText('input.title', input.title, Limits.cardTitle);
  if (input.description != null) data.description = optionalText('input.description', input.description, Limits.cardDescription);
  if (input.dueAt !== undefined) data.dueAt = dueDate(input.dueAt);
  const changedFields = Object.keys(data);
  if (changedFields.length === 0) {
    throw new ValidationError('input', 'Nothing to update: give at least one of title, description or dueAt.');
  }
  return runMutation(services, actor, async (tx, append) => {
    const { card } = await writableCard(tx, actor, input.cardId, 'input.cardId');
    requireActive(card, 'input.cardId');
    checkVersion('Card', card, input.expectedVersion);
    const updated = await tx.card.update({ where: { id: card.id }, data: { ...data, version: { increment: 1 } } });
    await append(card.boardId, EventType.CARD_UPDATED, { cardId: card.id, changedFields });
    return updated;
  });
}

export async function moveCard(
  services: Services,
  actor: Actor,
  input: { cardId: string; toColumnId: string; afterCardId?: string | null; beforeCardId?: string | null; expectedVersion?: number | null },
) {
  return runMutation(services, actor, async (tx, append) => {
    const { card } = await writableCard(tx, actor, input.cardId, 'input.cardId');
    requireActive(card, 'input.cardId');
    checkVersion('Card', card, input.expectedVersion);
    const [target] = await tx.$queryRaw<{ id: string; boardId: string }[]>`SELECT "id", "boardId" FROM "Column" WHERE "id" = ${input.toColumnId}`;
    if (!target || target.boardId !== card.boardId) {
      throw new ValidationError('input.toColumnId', `Column ${input.toColumnId} is not on the card's board; cards move only within their board.`);
    }
    const position = await cardPosition(tx, append, card.boardId, target.id, card.id, input);
    const [updated] = await tx.$queryRaw<Card[]>`UPDATE "Card" SET "columnId" = ${target.id}, "position" = ${position}, "version" = "version" + 1, "updatedAt" = ${new Date()} WHERE "id" = ${card.id} RETURNING *`;
    if (!updated) throw new Error(`Card ${card.id} vanished inside the transaction that moves it.`);
    await append(card.boardId, EventType.CARD_MOVED, { cardId: card.id, fromColumnId: card.columnId, toColumnId: target.id, position });
    return updated;
  });
}

/** Archives (or with `archived: false` restores) a card. */
export async function archiveCard(services: Services, actor: Actor, input: { cardId: string; archived: boolean; expectedVersion?: number | null }) {
  return runMutation(services, actor, async (tx, append) => {
    const { card } = await writableCard(tx, actor, input.cardId, 'input.cardId');
    checkVersion('Card', card, input.expectedVersion);
    if (card.archived === input.archived) return card;
    const updated = await tx.card.update({ where: { id: card.id }, data: { archived: input.archived, version: { increment: 1 } } });
    await append(card.boardId, EventType.CARD_ARCHIVED, { cardId: card.id, archived: input.archived });
    return updated;
  });
}

/**
 * Assigns a workspace member to a card. Assigning someone already assigned
 * changes nothing and logs no event.
 */
export async function assignCard(services: Services, actor: Actor, input: { cardId: string; userId: string }) {
  return runMutation(services, actor, async (tx, append) => {
    const { card, board } = await writableCard(tx, actor, input.cardId, 'input.cardId');
    requireActive(card, 'input.cardId');
    const member = await tx.membership.findUnique({ where: { workspaceId_userId: { workspaceId: board.workspaceId, userId: input.userId } } });
    if (!member) throw new ValidationError('input.userId', `User ${input.userId} is not a member of this workspace; add them first.`);
    const already = await tx.card.count({ where: { id: card.id, assignees: { some: { id: input.userId } } } });
    if (already > 0) return card;
    const updated = await tx.card.update({
      where: { id: card.id },
      data: { assignees: { connect: { id: input.userId } }, version: { increment: 1 } },
    });
    await append(card.boardId, EventType.CARD_ASSIGNED, { cardId: card.id, userId: input.userId });
    return updated;
  });
}

/** Removes an assignee. Unassigning someone not assigned changes nothing and logs no event. */
export async function unassignCard(services: Services, actor: Actor, input: { cardId: string; userId: string }) {
  return runMutation(services, actor, async (tx, append) => {
    const { card } = await writableCard(tx, actor, input.cardId, 'input.cardId');
    requireActive(card, 'input.cardId');
    const assigned = await tx.card.count({ where: { id: card.id, assignees: { some: { id: input.userId } } } });
    if (assigned === 0) return card;
    const updated = await tx.card.update({
      where: { id: card.id },
      data: { assignees: { disconnect: { id: input.userId } }, version: { increment: 1 } },
    });
    await append(card.boardId, EventType.CARD_UNASSIGNED, { cardId: card.id, userId: input.userId });
    return updated;
  });
}
