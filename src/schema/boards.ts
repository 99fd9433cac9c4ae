import { readableBoard } from '../domain/access.js';
import * as boards from '../domain/boards.js';
import * as columns from '../domain/columns.js';
import { encodeCursor } from '../realtime/cursor.js';
import { builder } from './builder.js';
import { expectedVersionDescription, idempotencyKeyDescription, mutationActor } from './mutation-actor.js';
import { requireViewer } from './context.js';
import { reload } from './reload.js';
import { encodeGlobalID, parseId, parseOptionalId } from './ids.js';
import { memberWorkspace } from './workspaces.js';

export const BoardType = builder.prismaNode('Board', {
  id: { field: 'id' },
  nullable: true,
  findUnique: (id, ctx) => ({ id, workspace: memberWorkspace(ctx.viewer?.userId) }),
  fields: (t) => ({
    name: t.exposeString('name'),
    archived: t.exposeBoolean('archived'),
    version: t.exposeInt('version', { description: 'Incremented by every change to the board itself.' }),
    eventSequence: t.exposeInt('eventSequence', { description: 'Sequence number of the newest event in this board\'s log; 0 before the first.' }),
    eventCursor: t.string({
      description: 'Cursor of the newest event in this board\'s log, read with the rest of this result: pass it as `after` to boardEvents to get every change made since, with no gap.',
      select: { id: true, eventSequence: true },
      resolve: (board) => encodeCursor(board.id, board.eventSequence),
    }),
    workspace: t.relation('workspace'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    columns: t.relatedConnection('columns', {
      cursor: 'id',
      description: 'Columns in board order.',
      query: { orderBy: [{ position: 'asc' }, { id: 'asc' }] },
    }),
  }),
});

export const ColumnType = builder.prismaNode('Column', {
  id: { field: 'id' },
  nullable: true,
  findUnique: (id, ctx) => ({ id, board: { workspace: memberWorkspace(ctx.viewer?.userId) } }),
  fields: (t) => ({
    name: t.exposeString('name'),
    position: t.exposeString('position', { description: 'Sort key among the board\'s columns (byte order).' }),
    version: t.exposeInt('version'),
    board: t.relation('board'),
    cards: t.relatedConnection('cards', {
      cursor: 'id',
      description: 'Cards in column order.',
      args: { includeArchived: t.arg.boolean({ defaultValue: false, description: 'Also list archived cards.' }) },
      query: ({ includeArchived }) => ({
        where: includeArchived ? {} : { archived: false },
        orderBy: [{ position: 'asc' }, { id: 'asc' }],
      }),
    }),
  }),
});

builder.queryField('board', (t) =>
  t.prismaField({
    type: 'Board',
    errors: {},
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const viewer = requireViewer(ctx);
      const id = parseId(String(args.id), 'Board', 'id');
      await readableBoard(ctx.db, viewer.userId, id);
      return ctx.db.board.findUniqueOrThrow({ ...query, where: { id } });
    },
  }),
);

const CreateBoardInput = builder.inputType('CreateBoardInput', {
  fields: (t) => ({
    idempotencyKey: t.string({ required: false, description: idempotencyKeyDescription }),
    workspaceId: t.id(),
    name: t.string({ description: '1 to 100 characters.' }),
  }),
});
const RenameBoardInput = builder.inputType('RenameBoardInput', {
  fields: (t) => ({
    idempotencyKey: t.string({ required: false, description: idempotencyKeyDescription }),
    boardId: t.id(),
    name: t.string({ description: '1 to 100 characters.' }),
    expectedVersion: t.int({ required: false, description: expectedVersionDescription }),
  }),
});
const ArchiveBoardInput = builder.inputType('ArchiveBoardInput', {
  fields: (t) => ({
    idempotencyKey: t.string({ required: false, description: idempotencyKeyDescription }),
    expectedVersion: t.int({ required: false, description: expectedVersionDescription }),
    boardId: t.id(),
    archived: t.boolean({ required: false, defaultValue: true, description: 'false restores an archived board. Default true.' }),
  }),
});
const CreateColumnInput = builder.inputType('CreateColumnInput', {
  fields: (t) => ({
    idempotencyKey: t.string({ required: false, description: idempotencyKeyDescription }),
    boardId: t.id(),
    name: t.string({ description: '1 to 100 characters.' }),
    afterColumnId: t.id({ required: false, description: 'Place the new column right after this one; default: last.' }),
  }),
});
const RenameColumnInput = builder.inputType('RenameColumnInput', {
  fields: (t) => ({
    idempotencyKey: t.string({ required: false, description: idempotencyKeyDescription }),
    columnId: t.id(),
    name: t.string({ description: '1 to 100 characters.' }),
    expectedVersion: t.int({ required: false, description: expectedVersionDescription }),
  }),
});
const MoveColumnInput = builder.inputType('MoveColumnInput', {
  fields: (t) => ({
    idempotencyKey: t.string({ required: false, description: idempotencyKeyDescription }),
    expectedVersion: t.int({ required: false, description: expectedVersionDescription }),
    columnId: t.id(),
    afterColumnId: t.id({ required: false, description: 'Place it right after this column.' }),
    beforeColumnId: t.id({ required: false, description: 'Place it right before this column. With neither, it goes last.' }),
  }),
});
const DeleteColumnInput = builder.inputType('DeleteColumnInput', {
  fields: (t) => ({
    idempotencyKey: t.string({ required: false, description: idempotencyKeyDescription }),
    columnId: t.id({ description: 'The column must hold no cards, archived ones included.' }),
  }),
});

const DeletedColumn = builder.objectRef<{ id: string; name: string }>('DeletedColumn').implement({
  fields: (t) => ({
    columnId: t.id({ resolve: (column) => encodeGlobalID('Column', column.id) }),
    name: t.exposeString('name'),
  }),
});

builder.mutationFields((t) => ({
  createBoard: t.prismaField({
    type: 'Board',
    errors: {},
    args: { input: t.arg({ type: CreateBoardInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) =>
      reload(ctx, 'board', query, await boards.createBoard(ctx.services, mutationActor(ctx, 'createBoard', input), {
        workspaceId: parseId(String(input.workspaceId), 'Workspace', 'input.workspaceId'),
        name: input.name,
      })),
  }),
  renameBoard: t.prismaField({
    type: 'Board',
    errors: {},
    args: { input: t.arg({ type: RenameBoardInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) =>
      reload(ctx, 'board', query, await boards.renameBoard(ctx.services, mutationActor(ctx, 'renameBoard', input), { expectedVersion: input.expectedVersion, boardId: parseId(String(input.boardId), 'Board', 'input.boardId'), name: input.name })),
  }),
  archiveBoard: t.prismaField({
    type: 'Board',
    errors: {},
    args: { input: t.arg({ type: ArchiveBoardInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) =>
      reload(ctx, 'board', query, await boards.archiveBoard(ctx.services, mutationActor(ctx, 'archiveBoard', input), { expectedVersion: input.expectedVersion,
        boardId: parseId(String(input.boardId), 'Board', 'input.boardId'),
        archived: input.archived ?? true,
      })),
  }),
  createColumn: t.prismaField({
    type: 'Column',
    errors: {},
    args: { input: t.arg({ type: CreateColumnInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) =>
      reload(ctx, 'column', query, await columns.createColumn(ctx.services, mutationActor(ctx, 'createColumn', input), {
        boardId: parseId(String(input.boardId), 'Board', 'input.boardId'),
        name: input.name,
        afterColumnId: parseOptionalId(input.afterColumnId as string | null | undefined, 'Column', 'input.afterColumnId'),
      })),
  }),
  renameColumn: t.prismaField({
    type: 'Column',
    errors: {},
    args: { input: t.arg({ type: RenameColumnInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) =>
      reload(ctx, 'column', query, await columns.renameColumn(ctx.services, mutationActor(ctx, 'renameColumn', input), { expectedVersion: input.expectedVersion, columnId: parseId(String(input.columnId), 'Column', 'input.columnId'), name: input.name })),
  }),
  moveColumn: t.prismaField({
    type: 'Column',
    errors: {},
    args: { input: t.arg({ type: MoveColumnInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) =>
      reload(ctx, 'column', query, await columns.moveColumn(ctx.services, mutationActor(ctx, 'moveColumn', input), { expectedVersion: input.expectedVersion,
        columnId: parseId(String(input.columnId), 'Column', 'input.columnId'),
        afterColumnId: parseOptionalId(input.afterColumnId as string | null | undefined, 'Column', 'input.afterColumnId'),
        beforeColumnId: parseOptionalId(input.beforeColumnId as string | null | undefined, 'Column', 'input.beforeColumnId'),
      })),
  }),
  deleteColumn: t.field({
    type: DeletedColumn,
    errors: {},
    args: { input: t.arg({ type: DeleteColumnInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      columns.deleteColumn(ctx.services, mutationActor(ctx, 'deleteColumn', input), { columnId: parseId(String(input.columnId), 'Column', 'input.columnId') }),
  }),
}));
