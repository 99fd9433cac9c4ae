import * as accounts from '../domain/accounts.js';
import { builder } from './builder.js';
import { requireViewer } from './context.js';

/** Users the viewer may see: themself and anyone sharing a workspace with them. */
function visibleUser(viewerId: string) {
  return {
    OR: [{ id: viewerId }, { memberships: { some: { workspace: { memberships: { some: { userId: viewerId } } } } } }],
  };
}

export const UserType = builder.prismaNode('User', {
  id: { field: 'id' },
  nullable: true,
  findUnique: (id, ctx) => ({ id, ...visibleUser(ctx.viewer?.userId ?? '') }),
  fields: (t) => ({
    email: t.exposeString('email'),
    displayName: t.exposeString('displayName'),
  }),
});

const AuthPayload = builder.objectRef<accounts.AuthSession>('AuthPayload').implement({
  description: 'A signed-in session: send accessToken as `Authorization: Bearer`, and trade refreshToken for new tokens before it expires.',
  fields: (t) => ({
    user: t.field({ type: UserType, resolve: (session) => session.user }),
    accessToken: t.exposeString('accessToken'),
    accessTokenExpiresAt: t.expose('accessTokenExpiresAt', { type: 'DateTime' }),
    refreshToken: t.exposeString('refreshToken', { description: 'Single use: each refreshSession returns a new one.' }),
    refreshTokenExpiresAt: t.expose('refreshTokenExpiresAt', { type: 'DateTime' }),
  }),
});

builder.queryField('me', (t) =>
  t.prismaField({
    type: 'User',
    description: 'The signed-in user.',
    errors: {},
    resolve: async (query, _root, _args, ctx) => {
      const viewer = requireViewer(ctx);
      return ctx.db.user.findUniqueOrThrow({ ...query, where: { id: viewer.userId } });
    },
  }),
);

const SignUpInput = builder.inputType('SignUpInput', {
  fields: (t) => ({
    email: t.string(),
    password: t.string({ description: '8 to 200 characters.' }),
    displayName: t.string({ description: '1 to 80 characters.' }),
  }),
});

const SignInInput = builder.inputType('SignInInput', {
  fields: (t) => ({ email: t.string(), password: t.string() }),
});

const RefreshSessionInput = builder.inputType('RefreshSessionInput', {
  fields: (t) => ({ refreshToken: t.string() }),
});

const SignOutInput = builder.inputType('SignOutInput', {
  fields: (t) => ({
    everywhere: t.boolean({ required: false, description: 'Also end every other session of this user. Default false.' }),
  }),
});

const SignOutPayload = builder.objectRef<{ revokedSessions: number }>('SignOutPayload').implement({
  fields: (t) => ({ revokedSessions: t.exposeInt('revokedSessions') }),
});

builder.mutationFields((t) => ({
  signUp: t.field({
    type: AuthPayload,
    errors: {},
    args: { input: t.arg({ type: SignUpInput, required: true }) },
    resolve: (_root, { input }, ctx) => accounts.signUp(ctx.services, input),
  }),
  signIn: t.field({
    type: AuthPayload,
    errors: {},
    args: { input: t.arg({ type: SignInInput, required: true }) },
    resolve: (_root, { input }, ctx) => accounts.signIn(ctx.services, input, ctx.address),
  }),
  refreshSession: t.field({
    type: AuthPayload,
    errors: {},
    args: { input: t.arg({ type: RefreshSessionInput, required: true }) },
    resolve: (_root, { input }, ctx) => accounts.refreshSession(ctx.services, input),
  }),
  signOut: t.field({
    type: SignOutPayload,
    errors: {},
    args: { input: t.arg({ type: SignOutInput, required: false }) },
    resolve: async (_root, { input }, ctx) => {
      const viewer = requireViewer(ctx);
      const revokedSessions = await accounts.signOut(ctx.services, viewer, { everywhere: input?.everywhere });
      // After the commit, so that an instance acting on the notice finds the session revoked.
      ctx.services.bus.publishSignOut({ userId: viewer.userId, sessionId: input?.everywhere ? null : viewer.sessionId });
      return { revokedSessions };
    },
  }),
}));
