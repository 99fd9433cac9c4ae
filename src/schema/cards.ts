import * as cards from '../domain/cards.js';
import * as comments from '../domain/comments.js';
import { NotFoundError } from '../domain/errors.js';
import { BoardType, ColumnType } from './boards.js';
import { builder } from './builder.js';
import { expectedVersionDescription, idempotencyKeyDescription, mutationActor } from './mutation-actor.js';
import { requireViewer } from './context.js';
import { reload } from './reload.js';
import { encodeGlobalID, parseId, parseOptionalId } from './ids.js';
import { memberWorkspace } from './workspaces.js';

/**
 * Awaits a row that a card refers to. Foreign keys keep such rows while the
 * card exists, so a missing one means the card was deleted meanwhile.
 */
async function required<T>(row: Promise<T | null>, model: string, id: string): Promise<T> {
  const found = await row;
  if (!found) throw new NotFoundError(`${model} ${id} no longer exists; the card was deleted meanwhile.`);
  return found;
}

export const CardType = builder.prismaNode('Card', {
  id: { field: 'id' },
  nullable: true,
  findUnique: (id, ctx) => ({ id, board: { workspace: memberWorkspace(ctx.viewer?.userId) } }),
  fields: (t) => ({
    title: t.exposeString('title'),
    description: t.exposeString('description'),
    dueAt: t.expose('dueAt', { type: 'DateTime', nullable: true }),
    position: t.exposeString('position', { description: 'Sort key within the column (byte order).' }),
    archived: t.exposeBoolean('archived'),
    version: t.exposeInt('version', { description: 'Incremented by every change to the card.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    // Through the loaders, which batch one raw read for all cards of an
    // event batch or a board read, instead of a model query with an include.
    column: t.field({ type: ColumnType, resolve: (card, _args, ctx) => required(ctx.loaders.column.load(card.columnId), 'Column', card.columnId) }),
    board: t.field({ type: BoardType, resolve: (card, _args, ctx) => required(ctx.loaders.board.load(card.boardId), 'Board', card.boardId) }),
    creator: t.relation('creator'),
    assignees: t.relation('assignees', { query: { orderBy: [{ displayName: 'asc' }, { id: 'asc' }] } }),
    commentCount: t.relationCount('comments'),
    comments: t.relatedConnection('comments', {
      cursor: 'id',
      description: 'Comments, oldest first.',
      query: { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] },
    }),
  }),
});

export const CommentType = builder.prismaNode('Comment', {
  id: { field: 'id' },
  nullable: true,
  findUnique: (id, ctx) => ({ id, card: { board: { workspace: memberWorkspace(ctx.viewer?.userId) } } }),
  fields: (t) => ({
    body: t.exposeString('body'),
    version: t.exposeInt('version'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    editedAt: t.expose('editedAt', { type: 'DateTime', nullable: true, description: 'When the body was last edited; null if never.' }),
    author: t.relation('author'),
    card: t.relation('card'),
  }),
});

const CreateCardInput = builder.inputType('CreateCardInput', {
  fields: (t) => ({
    idempotencyKey: t.string({ required: false, description: idempotencyKeyDescription }),
    columnId: t.id(),
    title: t.string({ description: '1 to 200 characters.' }),
    description: t.string({ required: false, description: 'Up to 10,000 characters. Default empty.' }),
    dueAt: t.field({ type: 'DateTime', required: false }),
    afterCardId: t.id({ required: false, description: 'Place the new card right after this card of the column.' }),
    beforeCardId: t.id({ required: false, description: 'Place it right before this card. With neither, it goes last.' }),
  }),
});
const UpdateCardInput = builder.inputType('UpdateCardInput', {
  description: 'Only the fields given change; at least one is required.',
  fields: (t) => ({
    idempotencyKey: t.string({ required: false, description: idempotencyKeyDescription }),
    expectedVersion: t.int({ required: false, description: expectedVersionDescription }),
    cardId: t.id(),
    title: t.string({ required: false, description: '1 to 200 characters.' }),
    description: t.string({ required: false, description: 'Up to 10,000 characters; an empty string clears it.' }),
    dueAt: t.field({ type: 'DateTime', required: false, description: 'null clears the due date.' }),
  }),
});
const MoveCardInput = builder.inputType('MoveCardInput', {
  fields: (t) => ({
    idempotencyKey: t.string({ required: false, description: idempotencyKeyDescription }),
    expectedVersion: t.int({ required: false, description: expectedVersionDescription }),
    cardId: t.id(),
    toColumnId: t.id({ description: 'A column of the same board; may be the current one.' }),
    afterCardId: t.id({ required: false, description: 'Place it right after this card of the target column.' }),
    beforeCardId: t.id({ required: false, description: 'Place it right before this card. With neither, it goes last.' }),
  }),
});
const ArchiveCardInput = builder.inputType('ArchiveCardInput', {
  fields: (t) => ({
    idempotencyKey: t.string({ required: false, description: idempotencyKeyDescription }),
    expectedVersion: t.int({ required: false, description: expectedVersionDescription }),
    cardId: t.id(),
    archived: t.boolean({ required: false, defaultValue: true, description: 'false restores an archived card. Default true.' }),
  }),
});
const AssignCardInput = builder.inputType('AssignCardInput', {
  fields: (t) => ({
    idempotencyKey: t.string({ required: false, description: idempotencyKeyDescription }),
    cardId: t.id(),
    userId: t.id({ description: 'A member of the workspace.' }),
  }),
});
const UnassignCardInput = builder.inputType('UnassignCardInput', {
  fields: (t) => ({
    idempotencyKey: t.string({ required: false, description: idempotencyKeyDescription }),
    cardId: t.id(),
    userId: t.id(),
  }),
});
const AddCommentInput = builder.inputType('AddCommentInput', {
  fields: (t) => ({
    idempotencyKey: t.string({ required: false, description: idempotencyKeyDescription }),
    cardId: t.id(),
    body: t.string({ description: '1 to 10,000 characters.' }),
  }),
});
const EditCommentInput = builder.inputType('EditCommentInput', {
  fields: (t) => ({
    idempotencyKey: t.string({ required: false, description: idempotencyKeyDescription }),
    commentId: t.id(),
    body: t.string({ description: '1 to 10,000 characters.' }),
    expectedVersion: t.int({ required: false, description: expectedVersionDescription }),
  }),
});
const DeleteCommentInput = builder.inputType('DeleteCommentInput', {
  fields: (t) => ({
    idempotencyKey: t.string({ required: false, description: idempotencyKeyDescription }),
    commentId: t.id(),
  }),
});

const DeletedComment = builder.objectRef<{ id: string; cardId: string }>('DeletedComment').implement({
  fields: (t) => ({
    commentId: t.id({ resolve: (comment) => encodeGlobalID('Comment', comment.id) }),
    cardId: t.id({ resolve: (comment) => encodeGlobalID('Card', comment.cardId) }),
  }),
});

const cardId = (value: string | number) => parseId(String(value), 'Card', 'input.cardId');

builder.mutationFields((t) => ({
  createCard: t.prismaField({
    type: 'Card',
    errors: {},
    args: { input: t.arg({ type: CreateCardInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) =>
      reload(ctx, 'card', query, await cards.createCard(ctx.services, mutationActor(ctx, 'createCard', input), {
        columnId: parseId(String(input.columnId), 'Column', 'input.columnId'),
        title: input.title,
        description: input.description,
        dueAt: input.dueAt,
        afterCardId: parseOptionalId(input.afterCardId as string | null | undefined, 'Card', 'input.afterCardId'),
        beforeCardId: parseOptionalId(input.beforeCardId as string | null | undefined, 'Card', 'input.beforeCardId'),
      })),
  }),
  updateCard: t.prismaField({
    type: 'Card',
    errors: {},
    args: { input: t.arg({ type: UpdateCardInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) =>
      reload(ctx, 'card', query, await cards.updateCard(ctx.services, mutationActor(ctx, 'updateCard', input), { expectedVersion: input.expectedVersion,
        cardId: cardId(input.cardId),
        title: input.title,
        description: input.description,
        // Absent leaves the due date alone; an explicit null clears it.
        dueAt: 'dueAt' in input ? (input.dueAt ?? null) : undefined,
      })),
  }),
  moveCard: t.prismaField({
    type: 'Card',
    errors: {},
    args: { input: t.arg({ type: MoveCardInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) =>
      reload(ctx, 'card', query, await cards.moveCard(ctx.services, mutationActor(ctx, 'moveCard', input), { expectedVersion: input.expectedVersion,
        cardId: cardId(input.cardId),
        toColumnId: parseId(String(input.toColumnId), 'Column', 'input.toColumnId'),
        afterCardId: parseOptionalId(input.afterCardId as string | null | undefined, 'Card', 'input.afterCardId'),
        beforeCardId: parseOptionalId(input.beforeCardId as string | null | undefined, 'Card', 'input.beforeCardId'),
      })),
  }),
  archiveCard: t.prismaField({
    type: 'Card',
    errors: {},
    args: { input: t.arg({ type: ArchiveCardInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) =>
      reload(ctx, 'card', query, await cards.archiveCard(ctx.services, mutationActor(ctx, 'archiveCard', input), { expectedVersion: input.expectedVersion, cardId: cardId(input.cardId), archived: input.archived ?? true })),
  }),
  assignCard: t.prismaField({
    type: 'Card',
    errors: {},
    description: 'Assigning someone already assigned changes nothing and logs no event.',
    args: { input: t.arg({ type: AssignCardInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) =>
      reload(ctx, 'card', query, await cards.assignCard(ctx.services, mutationActor(ctx, 'assignCard', input), { cardId: cardId(input.cardId), userId: parseId(String(input.userId), 'User', 'input.userId') })),
  }),
  unassignCard: t.prismaField({
    type: 'Card',
    errors: {},
    description: 'Unassigning someone not assigned changes nothing and logs no event.',
    args: { input: t.arg({ type: UnassignCardInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) =>
      reload(ctx, 'card', query, await cards.unassignCard(ctx.services, mutationActor(ctx, 'unassignCard', input), { cardId: cardId(input.cardId), userId: parseId(String(input.userId), 'User', 'input.userId') })),
  }),
  addComment: t.prismaField({
    type: 'Comment',
    errors: {},
    args: { input: t.arg({ type: AddCommentInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) =>
      reload(ctx, 'comment', query, await comments.addComment(ctx.services, mutationActor(ctx, 'addComment', input), { cardId: cardId(input.cardId), body: input.body })),
  }),
  editComment: t.prismaField({
    type: 'Comment',
    errors: {},
    args: { input: t.arg({ type: EditCommentInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) =>
      reload(ctx, 'comment', query, await comments.editComment(ctx.services, mutationActor(ctx, 'editComment', input), { expectedVersion: input.expectedVersion, commentId: parseId(String(input.commentId), 'Comment', 'input.commentId'), body: input.body })),
  }),
  deleteComment: t.field({
    type: DeletedComment,
    errors: {},
    args: { input: t.arg({ type: DeleteCommentInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      comments.deleteComment(ctx.services, mutationActor(ctx, 'deleteComment', input), { commentId: parseId(String(input.commentId), 'Comment', 'input.commentId') }),
  }),
}));
