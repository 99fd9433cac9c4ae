import { readableBoard } from '../domain/access.js';
import { ForbiddenError, NotFoundError, ValidationError } from '../domain/errors.js';
import { boardTopic, EventType } from '../realtime/events.js';
import type { PresenceChange, PresenceSession } from '../realtime/presence.js';
import { CardType } from './cards.js';
import { builder } from './builder.js';
import { requireViewer } from './context.js';
import { encodeGlobalID, parseId, parseOptionalId } from './ids.js';
import { UserType } from './users.js';

const PresenceSessionType = builder.objectRef<PresenceSession>('PresenceSession').implement({
  description: 'One open presence subscription: a user viewing the board in one tab or client.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Opaque id of this presence session; pass it to setFocus to focus only this tab.' }),
    boardId: t.id({ resolve: (session) => encodeGlobalID('Board', session.boardId) }),
    user: t.field({ type: UserType, nullable: true, resolve: (session, _args, ctx) => ctx.loaders.user.load(session.userId) }),
    joinedAt: t.expose('joinedAt', { type: 'DateTime' }),
    focusedCard: t.field({
      type: CardType,
      nullable: true,
      description: 'The card this session is editing, or null.',
      resolve: (session, _args, ctx) => (session.focusCardId ? ctx.loaders.card.load(session.focusCardId) : null),
    }),
    focusedAt: t.expose('focusedAt', { type: 'DateTime', nullable: true }),
  }),
});

type Snapshot = Extract<PresenceChange, { type: 'SNAPSHOT' }>;
type SessionChange = Exclude<PresenceChange, Snapshot>;

const PresenceSnapshot = builder.objectRef<Snapshot>('PresenceSnapshot').implement({
  description: 'The first event of a presence subscription: every session on the board now, this one included.',
  isTypeOf: (change) => (change as PresenceChange).type === 'SNAPSHOT',
  fields: (t) => ({
    you: t.field({ type: PresenceSessionType, resolve: (change) => change.you }),
    sessions: t.field({ type: [PresenceSessionType], resolve: (change) => change.sessions }),
  }),
});

function sessionChange(name: string, type: SessionChange['type'], description: string) {
  return builder.objectRef<SessionChange>(name).implement({
    description,
    isTypeOf: (change) => (change as PresenceChange).type === type,
    fields: (t) => ({ session: t.field({ type: PresenceSessionType, resolve: (change) => change.session }) }),
  });
}

const PresenceJoined = sessionChange('PresenceJoined', 'JOINED', 'A session started viewing the board.');
const PresenceLeft = sessionChange('PresenceLeft', 'LEFT', 'A session stopped viewing the board: it unsubscribed, closed, or stopped answering keepalive pings.');
const PresenceFocusChanged = sessionChange('PresenceFocusChanged', 'FOCUS_CHANGED', 'A session focused another card, or none.');

const PresenceEvent = builder.unionType('PresenceEvent', {
  types: [PresenceSnapshot, PresenceJoined, PresenceLeft, PresenceFocusChanged],
});

builder.subscriptionField('presence', (t) =>
  t.field({
    type: PresenceEvent,
    description:
      'Who is viewing the board: first a snapshot, then joins, leaves and focus changes. Subscribing makes the viewer present until the subscription ends. Never logged.',
    args: { boardId: t.arg.id({ required: true }) },
    subscribe: async (_root, args, ctx) => {
      const viewer = requireViewer(ctx);
      const boardId = parseId(String(args.boardId), 'Board', 'boardId');
      await readableBoard(ctx.db, viewer.userId, boardId);
      const stream = await ctx.services.presence.join(boardId, viewer.userId, ctx.services.subscriptionQueueLimit, ctx.signal);
      // Removal from the workspace ends presence on its boards at once.
      const stopWatching = ctx.services.bus.subscribe(boardTopic(boardId), (event) => {
        if (event.type === EventType.MEMBER_REMOVED && (event.payload as { userId: string }).userId === viewer.userId) {
          stream.end(new ForbiddenError('You were removed from this workspace; your presence has ended.'));
        }
      });
      const release = stream.return!.bind(stream);
      stream.return = async () => {
        stopWatching();
        return release();
      };
      const end = stream.end.bind(stream);
      stream.end = (error) => {
        stopWatching();
        end(error);
      };
      return stream;
    },
    resolve: (change) => change,
  }),
);

const SetFocusInput = builder.inputType('SetFocusInput', {
  fields: (t) => ({
    boardId: t.id(),
    cardId: t.id({ required: false, description: 'The card being edited; null or omitted clears the focus.' }),
    presenceId: t.id({ required: false, description: 'Only this presence session of yours; default: all your sessions on the board.' }),
  }),
});

builder.mutationField('setFocus', (t) =>
  t.field({
    type: [PresenceSessionType],
    errors: {},
    description: 'Shows which card you are editing to everyone subscribed to presence on the board. Returns the sessions it applies to, as they are now; only those whose focus changed are announced.',
    args: { input: t.arg({ type: SetFocusInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const viewer = requireViewer(ctx);
      const boardId = parseId(String(input.boardId), 'Board', 'input.boardId');
      await readableBoard(ctx.db, viewer.userId, boardId);
      const cardId = parseOptionalId(input.cardId as string | null | undefined, 'Card', 'input.cardId') ?? null;
      if (cardId) {
        const card = await ctx.db.card.findUnique({ where: { id: cardId }, select: { boardId: true } });
        if (!card) throw new NotFoundError(`Card ${cardId} does not exist.`);
        if (card.boardId !== boardId) throw new ValidationError('input.cardId', 'input.cardId is a card of another board.');
      }
      return ctx.services.presence.setFocus(viewer.userId, boardId, cardId, (input.presenceId as string | null | undefined) ?? undefined);
    },
  }),
);
