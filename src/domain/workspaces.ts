import { runMutation } from './mutation.js';
import type { Role, Transaction } from '../db/client.js';
import { EventType, type AppendEvent, type EventPayloads } from '../realtime/events.js';
import { requireRole } from './access.js';
import { ForbiddenError, NotFoundError, ValidationError } from './errors.js';
import type { Actor, Services } from './services.js';
import { emailAddress, Limits, requiredText } from './validate.js';

export async function createWorkspace(services: Services, actor: Actor, input: { name: string }) {
  const name = requiredText('input.name', input.name, Limits.name);
  const workspace = await runMutation(services, actor, (tx) =>
    tx.workspace.create({ data: { name, memberships: { create: { userId: actor.userId, role: 'OWNER' } } } }),
  );
  services.logger.info({ workspaceId: workspace.id, userId: actor.userId }, 'workspace created');
  return workspace;
}

/** Logs one event per board of the workspace: membership shows on every board. */
async function appendToEveryBoard<T extends EventType>(
  tx: Transaction,
  append: AppendEvent,
  workspaceId: string,
  type: T,
  payload: EventPayloads[T],
) {
  // In id order, so two transactions locking several boards cannot deadlock.
  const boards = await tx.board.findMany({ where: { workspaceId }, select: { id: true }, orderBy: { id: 'asc' } });
  for (const board of boards) await append(board.id, type, payload);
}

/**
 * Takes the workspace row's write lock until the transaction ends, so
 * membership changes to one workspace run one at a time (the last-OWNER rule
 * counts owners, which two concurrent removals could otherwise both pass).
 * Like lockBoard, it changes nothing and runs on both databases.
 */
async function lockWorkspace(tx: Transaction, workspaceId: string): Promise<void> {
  await tx.$executeRaw`UPDATE "Workspace" SET "name" = "name" WHERE "id" = ${workspaceId}`;
}

/** Only an OWNER may hand out or take away the OWNER role. */
function checkOwnerRule(actorRole: Role, role: Role) {
  if (role === 'OWNER' && actorRole !== 'OWNER') {
    throw new ForbiddenError('Only an OWNER can grant the OWNER role or change an OWNER.');
  }
}

async function countOwners(tx: Transaction, workspaceId: string) {
  return tx.membership.count({ where: { workspaceId, role: 'OWNER' } });
}

export async function addMember(services: Services, actor: Actor, input: { workspaceId: string; email: string; role: Role }) {
  const { emailKey } = emailAddress('input.email', input.email);
  return runMutation(services, actor, async (tx, append) => {
    await lockWorkspace(tx, input.workspaceId);
    const own = await requireRole(tx, actor.userId, input.workspaceId, 'ADMIN', 'manage members');
    checkOwnerRule(own.role, input.role);
    const user = await tx.user.findUnique({ where: { emailKey } });
    if (!user) throw new NotFoundError(`No account uses ${input.email.trim()}; ask them to sign up first.`);
    const existing = await tx.membership.findUnique({ where: { workspaceId_userId: { workspaceId: input.workspaceId, userId: user.id } } });
    if (existing) throw new ValidationError('input.email', `${input.email.trim()} is already a member, as ${existing.role}; use changeMemberRole instead.`);
    const membership = await tx.membership.create({ data: { workspaceId: input.workspaceId, userId: user.id, role: input.role } });
    await appendToEveryBoard(tx, append, input.workspaceId, EventType.MEMBER_ADDED, { userId: user.id, role: input.role });
    return membership;
  });
}

async function targetMembership(tx: Transaction, workspaceId: string, userId: string) {
  const membership = await tx.membership.findUnique({ where: { workspaceId_userId: { workspaceId, userId } } });
  if (!membership) throw new NotFoundError(`User ${userId} is not a member of this workspace.`);
  return membership;
}

export async function changeMemberRole(services: Services, actor: Actor, input: { workspaceId: string; userId: string; role: Role }) {
  return runMutation(services, actor, async (tx, append) => {
    await lockWorkspace(tx, input.workspaceId);
    const own = await requireRole(tx, actor.userId, input.workspaceId, 'ADMIN', 'manage members');
    const target = await targetMembership(tx, input.workspaceId, input.userId);
    checkOwnerRule(own.role, target.role);
    checkOwnerRule(own.role, input.role);
    if (target.role === input.role) return target;
    if (target.role === 'OWNER' && (await countOwners(tx, input.workspaceId)) === 1) {
      throw new ValidationError('input.role', 'This is the last OWNER of the workspace; make someone else OWNER first.');
    }
    const membership = await tx.membership.update({ where: { id: target.id }, data: { role: input.role } });
    await appendToEveryBoard(tx, append, input.workspaceId, EventType.MEMBER_ROLE_CHANGED, {
      userId: input.userId,
      role: input.role,
      previousRole: target.role,
    });
    return membership;
  });
}

/**
 * Removes a member (ADMIN or above, or the member themself leaving). They
 * are unassigned from the workspace's cards, with an event for each card.
 */
export async function removeMember(services: Services, actor: Actor, input: { workspaceId: string; userId: string }) {
  return runMutation(services, actor, async (tx, append) => {
    const leaving = input.userId === actor.userId;
    await lockWorkspace(tx, input.workspaceId);
    const own = await requireRole(tx, actor.userId, input.workspaceId, leaving ? 'VIEWER' : 'ADMIN', 'remove members');
    const target = await targetMembership(tx, input.workspaceId, input.userId);
    if (!leaving) checkOwnerRule(own.role, target.role);
    if (target.role === 'OWNER' && (await countOwners(tx, input.workspaceId)) === 1) {
      throw new ValidationError('input.userId', 'This is the last OWNER of the workspace; make someone else OWNER first.');
    }
    await tx.membership.delete({ where: { id: target.id } });
    // MEMBER_REMOVED comes first on every board: the removed member's streams
    // end at it, so they never receive the unassignments that follow.
    await appendToEveryBoard(tx, append, input.workspaceId, EventType.MEMBER_REMOVED, { userId: input.userId, role: target.role });
    const cards = await tx.card.findMany({
      where: { board: { workspaceId: input.workspaceId }, assignees: { some: { id: input.userId } } },
      select: { id: true, boardId: true },
    });
    for (const card of cards) {
      await tx.card.update({ where: { id: card.id }, data: { assignees: { disconnect: { id: input.userId } }, version: { increment: 1 } } });
      await append(card.boardId, EventType.CARD_UNASSIGNED, { cardId: card.id, userId: input.userId });
    }
    services.logger.info({ workspaceId: input.workspaceId, userId: input.userId, by: actor.userId }, 'member removed');
    return target;
  });
}
