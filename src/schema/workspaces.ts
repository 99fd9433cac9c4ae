import { Role } from '../db/client.js';
import { requireRole } from '../domain/access.js';
import { NotFoundError } from '../domain/errors.js';
import * as workspaces from '../domain/workspaces.js';
import { builder } from './builder.js';
import { idempotencyKeyDescription, mutationActor } from './mutation-actor.js';
import { requireViewer } from './context.js';
import { reload } from './reload.js';
import { encodeGlobalID, parseId } from './ids.js';

export const RoleEnum = builder.enumType(Role, {
  name: 'Role',
  description: 'OWNER > ADMIN > MEMBER > VIEWER. VIEWER reads and subscribes; MEMBER also edits boards; ADMIN also manages members and archives boards; only an OWNER can grant OWNER.',
});

/** Prisma filter for workspaces the user is a member of. */
export function memberWorkspace(userId: string | undefined) {
  return { memberships: { some: { userId: userId ?? '' } } };
}

builder.prismaNode('Workspace', {
  id: { field: 'id' },
  nullable: true,
  findUnique: (id, ctx) => ({ id, ...memberWorkspace(ctx.viewer?.userId) }),
  fields: (t) => ({
    name: t.exposeString('name'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    viewerRole: t.field({
      type: RoleEnum,
      description: "The signed-in user's role here.",
      select: (_args, ctx) => ({ memberships: { where: { userId: ctx.viewer?.userId ?? '' }, select: { role: true } } }),
      resolve: (workspace) => workspace.memberships[0]!.role,
    }),
    members: t.relatedConnection('memberships', {
      cursor: 'id',
      query: { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] },
    }),
    boards: t.relatedConnection('boards', {
      cursor: 'id',
      args: { includeArchived: t.arg.boolean({ defaultValue: false, description: 'Also list archived boards.' }) },
      query: ({ includeArchived }) => ({
        where: includeArchived ? {} : { archived: false },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      }),
    }),
  }),
});

builder.prismaNode('Membership', {
  id: { field: 'id' },
  nullable: true,
  findUnique: (id, ctx) => ({ id, workspace: memberWorkspace(ctx.viewer?.userId) }),
  fields: (t) => ({
    user: t.relation('user'),
    role: t.expose('role', { type: RoleEnum }),
    joinedAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.queryFields((t) => ({
  workspaces: t.prismaConnection({
    type: 'Workspace',
    cursor: 'id',
    description: 'Workspaces the signed-in user is a member of, oldest first.',
    resolve: (query, _root, _args, ctx) => {
      const viewer = requireViewer(ctx);
      return ctx.db.workspace.findMany({ ...query, where: memberWorkspace(viewer.userId), orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
    },
  }),
  workspace: t.prismaField({
    type: 'Workspace',
    errors: {},
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const viewer = requireViewer(ctx);
      const id = parseId(String(args.id), 'Workspace', 'id');
      const workspace = await ctx.db.workspace.findUnique({ ...query, where: { id } });
      if (!workspace) throw new NotFoundError(`Workspace ${args.id} does not exist.`);
      await requireRole(ctx.db, viewer.userId, id, 'VIEWER', 'read this workspace');
      return workspace;
    },
  }),
}));

const CreateWorkspaceInput = builder.inputType('CreateWorkspaceInput', {
  fields: (t) => ({
    idempotencyKey: t.string({ required: false, description: idempotencyKeyDescription }),
    name: t.string({ description: '1 to 100 characters.' }),
  }),
});
const AddMemberInput = builder.inputType('AddMemberInput', {
  fields: (t) => ({
    idempotencyKey: t.string({ required: false, description: idempotencyKeyDescription }),
    workspaceId: t.id(),
    email: t.string({ description: 'Email of an existing account.' }),
    role: t.field({ type: RoleEnum }),
  }),
});
const ChangeMemberRoleInput = builder.inputType('ChangeMemberRoleInput', {
  fields: (t) => ({
    idempotencyKey: t.string({ required: false, description: idempotencyKeyDescription }),
    workspaceId: t.id(),
    userId: t.id(),
    role: t.field({ type: RoleEnum }),
  }),
});
const RemoveMemberInput = builder.inputType('RemoveMemberInput', {
  fields: (t) => ({
    idempotencyKey: t.string({ required: false, description: idempotencyKeyDescription }),
    workspaceId: t.id(),
    userId: t.id({ description: 'Your own id to leave the workspace.' }),
  }),
});

/** The membership as it was; the row itself is gone, so this is not a node. */
const RemovedMember = builder.objectRef<{ workspaceId: string; userId: string; role: Role }>('RemovedMember').implement({
  fields: (t) => ({
    workspaceId: t.id({ resolve: (member) => encodeGlobalID('Workspace', member.workspaceId) }),
    userId: t.id({ resolve: (member) => encodeGlobalID('User', member.userId) }),
    role: t.expose('role', { type: RoleEnum }),
  }),
});

builder.mutationFields((t) => ({
  createWorkspace: t.prismaField({
    type: 'Workspace',
    errors: {},
    args: { input: t.arg({ type: CreateWorkspaceInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) =>
      reload(ctx, 'workspace', query, await workspaces.createWorkspace(ctx.services, mutationActor(ctx, 'createWorkspace', input), input)),
  }),
  addMember: t.prismaField({
    type: 'Membership',
    errors: {},
    args: { input: t.arg({ type: AddMemberInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) =>
      reload(ctx, 'membership', query, await workspaces.addMember(ctx.services, mutationActor(ctx, 'addMember', input), {
        workspaceId: parseId(String(input.workspaceId), 'Workspace', 'input.workspaceId'),
        email: input.email,
        role: input.role,
      })),
  }),
  changeMemberRole: t.prismaField({
    type: 'Membership',
    errors: {},
    args: { input: t.arg({ type: ChangeMemberRoleInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) =>
      reload(ctx, 'membership', query, await workspaces.changeMemberRole(ctx.services, mutationActor(ctx, 'changeMemberRole', input), {
        workspaceId: parseId(String(input.workspaceId), 'Workspace', 'input.workspaceId'),
        userId: parseId(String(input.userId), 'User', 'input.userId'),
        role: input.role,
      })),
  }),
  removeMember: t.field({
    type: RemovedMember,
    errors: {},
    args: { input: t.arg({ type: RemoveMemberInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      workspaces.removeMember(ctx.services, mutationActor(ctx, 'removeMember', input), {
        workspaceId: parseId(String(input.workspaceId), 'Workspace', 'input.workspaceId'),
        userId: parseId(String(input.userId), 'User', 'input.userId'),
      }),
  }),
}));
