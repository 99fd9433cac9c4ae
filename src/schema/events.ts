import { ValidationError } from '../domain/errors.js';
import { openBoardStream } from '../realtime/board-stream.js';
import { decodeCursor, encodeCursor } from '../realtime/cursor.js';
import { EventType, type BoardEventRecord } from '../realtime/events.js';
import { BoardType, ColumnType } from './boards.js';
import { builder } from './builder.js';
import { CardType, CommentType } from './cards.js';
import { requireViewer } from './context.js';
import { encodeGlobalID, parseId } from './ids.js';
import { UserType } from './users.js';
import { RoleEnum } from './workspaces.js';

/** Payload values read by field name; each event type's fields name keys its payload has. */
type AnyEvent = BoardEventRecord & { payload: Record<string, any> };

export const BoardEventInterface = builder.interfaceRef<BoardEventRecord>('BoardEvent').implement({
  description:
    'One committed change on a board. Objects are read from the database when the event is delivered, so they show the state at delivery, and are null when since deleted.',
  fields: (t) => ({
    sequence: t.exposeInt('sequence', { description: "Position in the board's event log: 1, 2, 3 ... without gaps." }),
    cursor: t.string({
      description: 'Opaque; resumes right after this event.',
      resolve: (event) => encodeCursor(event.boardId, event.sequence),
    }),
    boardId: t.id({ resolve: (event) => encodeGlobalID('Board', event.boardId) }),
    occurredAt: t.expose('createdAt', { type: 'DateTime', description: 'Commit time of the change.' }),
    actor: t.field({
      type: UserType,
      nullable: true,
      description: 'Who made the change.',
      resolve: (event, _args, ctx) => (event.actorId ? ctx.loaders.user.load(event.actorId) : null),
    }),
  }),
});

type EventFieldBuilder = PothosSchemaTypes.ObjectFieldBuilder<typeof builder extends PothosSchemaTypes.SchemaBuilder<infer Types> ? Types : never, AnyEvent>;

/** Declares the GraphQL object type of one event type. */
function eventType(type: EventType, name: string, description: string, fields: (t: EventFieldBuilder) => Record<string, any>) {
  builder.objectRef<AnyEvent>(name).implement({
    description,
    interfaces: [BoardEventInterface],
    isTypeOf: (event) => (event as BoardEventRecord).type === type,
    fields,
  });
}

const card = (t: EventFieldBuilder) =>
  t.field({ type: CardType, nullable: true, resolve: (event, _args, ctx) => ctx.loaders.card.load(event.payload.cardId) });
const user = (t: EventFieldBuilder, description: string) =>
  t.field({ type: UserType, nullable: true, description, resolve: (event, _args, ctx) => ctx.loaders.user.load(event.payload.userId) });
const column = (t: EventFieldBuilder, key: string, description?: string) =>
  t.field({ type: ColumnType, nullable: true, description, resolve: (event, _args, ctx) => ctx.loaders.column.load(event.payload[key]) });
const comment = (t: EventFieldBuilder) =>
  t.field({ type: CommentType, nullable: true, resolve: (event, _args, ctx) => ctx.loaders.comment.load(event.payload.commentId) });
const board = (t: EventFieldBuilder) =>
  t.field({ type: BoardType, nullable: true, resolve: (event, _args, ctx) => ctx.loaders.board.load(event.boardId) });
const text = (t: EventFieldBuilder, key: string, description?: string) =>
  t.string({ description, resolve: (event) => event.payload[key] });
const flag = (t: EventFieldBuilder, key: string, description?: string) =>
  t.boolean({ description, resolve: (event) => event.payload[key] });
const role = (t: EventFieldBuilder, key: 'role' | 'previousRole', description: string) =>
  t.field({ type: RoleEnum, description, resolve: (event) => event.payload[key] });

eventType(EventType.BOARD_RENAMED, 'BoardRenamedEvent', 'The board got a new name.', (t) => ({
  board: board(t),
  name: text(t, 'name', 'The name given by this change.'),
}));
eventType(EventType.BOARD_ARCHIVED, 'BoardArchivedEvent', 'The board was archived, or restored when `archived` is false.', (t) => ({
  board: board(t),
  archived: flag(t, 'archived'),
}));
eventType(EventType.COLUMN_CREATED, 'ColumnCreatedEvent', 'A column was added.', (t) => ({ column: column(t, 'columnId') }));
eventType(EventType.COLUMN_RENAMED, 'ColumnRenamedEvent', 'A column got a new name.', (t) => ({
  column: column(t, 'columnId'),
  name: text(t, 'name', 'The name given by this change.'),
}));
eventType(EventType.COLUMN_MOVED, 'ColumnMovedEvent', 'A column moved to a new place on the board.', (t) => ({
  column: column(t, 'columnId'),
  position: text(t, 'position', 'The position key given by this change.'),
}));
eventType(EventType.COLUMN_DELETED, 'ColumnDeletedEvent', 'An empty column was deleted.', (t) => ({
  columnId: t.id({ resolve: (event) => encodeGlobalID('Column', event.payload.columnId) }),
  name: text(t, 'name', 'Its name when it was deleted.'),
}));
eventType(EventType.CARD_CREATED, 'CardCreatedEvent', 'A card was added to a column.', (t) => ({ card: card(t) }));
eventType(EventType.CARD_UPDATED, 'CardUpdatedEvent', "A card's title, description or due date changed.", (t) => ({
  card: card(t),
  changedFields: t.stringList({ description: 'Names of the fields this change set.', resolve: (event) => event.payload.changedFields }),
}));
eventType(EventType.CARD_MOVED, 'CardMovedEvent', 'A card moved within its column or to another column of the board.', (t) => ({
  card: card(t),
  fromColumn: column(t, 'fromColumnId', 'The column it left.'),
  toColumn: column(t, 'toColumnId', 'The column it moved to.'),
  position: text(t, 'position', 'The position key given by this change.'),
}));
eventType(EventType.CARD_ARCHIVED, 'CardArchivedEvent', 'A card was archived, or restored when `archived` is false.', (t) => ({
  card: card(t),
  archived: flag(t, 'archived'),
}));
eventType(EventType.CARD_ASSIGNED, 'CardAssignedEvent', 'A member was assigned to a card.', (t) => ({
  card: card(t),
  assignee: user(t, 'The member assigned.'),
}));
eventType(EventType.CARD_UNASSIGNED, 'CardUnassignedEvent', 'A member was unassigned from a card.', (t) => ({
  card: card(t),
  assignee: user(t, 'The member unassigned.'),
}));
eventType(EventType.COMMENT_ADDED, 'CommentAddedEvent', 'A comment was added to a card.', (t) => ({ comment: comment(t), card: card(t) }));
eventType(EventType.COMMENT_EDITED, 'CommentEditedEvent', "A comment's body was edited.", (t) => ({ comment: comment(t), card: card(t) }));
eventType(EventType.COMMENT_DELETED, 'CommentDeletedEvent', 'A comment was deleted.', (t) => ({
  commentId: t.id({ resolve: (event) => encodeGlobalID('Comment', event.payload.commentId) }),
  card: card(t),
}));
eventType(EventType.MEMBER_ADDED, 'MemberAddedEvent', 'Someone joined the workspace of this board.', (t) => ({
  member: user(t, 'The new member.'),
  role: role(t, 'role', 'Their role.'),
}));
eventType(EventType.MEMBER_REMOVED, 'MemberRemovedEvent', 'Someone left, or was removed from, the workspace of this board.', (t) => ({
  member: user(t, 'The former member.'),
  role: role(t, 'role', 'The role they had.'),
}));
eventType(EventType.MEMBER_ROLE_CHANGED, 'MemberRoleChangedEvent', "A member's role in the workspace changed.", (t) => ({
  member: user(t, 'The member.'),
  role: role(t, 'role', 'The new role.'),
  previousRole: role(t, 'previousRole', 'The role before.'),
}));

builder.subscriptionField('boardEvents', (t) =>
  t.field({
    type: BoardEventInterface,
    description:
      'Every change committed on the board, in sequence order, each once: from now on, or with `after` first every logged event after that cursor. Ends with an error carrying FORBIDDEN when the viewer leaves the workspace, CURSOR_EXPIRED when the cursor is older than the kept log, and SLOW_CONSUMER when the client falls too far behind.',
    args: {
      boardId: t.arg.id({ required: true }),
      after: t.arg.string({ required: false, description: 'The cursor of the last event the client received; replay starts right after it.' }),
    },
    subscribe: async (_root, args, ctx) => {
      const viewer = requireViewer(ctx);
      const boardId = parseId(String(args.boardId), 'Board', 'boardId');
      let after: number | undefined;
      if (args.after != null) {
        const cursor = decodeCursor(args.after);
        if (!cursor) throw new ValidationError('after', 'after is not a cursor issued by this server; pass the cursor field of a received event.');
        if (cursor.boardId !== boardId) throw new ValidationError('after', 'The cursor belongs to another board; pass a cursor received on this board.');
        after = cursor.sequence;
      }
      return openBoardStream({
        db: ctx.db,
        bus: ctx.services.bus,
        logger: ctx.logger,
        boardId,
        userId: viewer.userId,
        after,
        queueLimit: ctx.services.subscriptionQueueLimit,
        registry: ctx.services.streams,
        metrics: ctx.services.metrics,
        signal: ctx.signal,
      });
    },
    resolve: (item) => item.event,
  }),
);
