import type { Role, Transaction, Database } from '../db/client.js';
import { ForbiddenError, NotFoundError, ValidationError } from './errors.js';

const rank: Record<Role, number> = { VIEWER: 1, MEMBER: 2, ADMIN: 3, OWNER: 4 };

/** True when `role` is `minimum` or above: OWNER > ADMIN > MEMBER > VIEWER. */
export function hasRole(role: Role, minimum: Role): boolean {
  return rank[role] >= rank[minimum];
}

/**
 * Returns the user's role in the workspace. It runs on every read and write
 * of a board, so it is a raw statement: Prisma 6.19 compiles each model
 * query anew, at several times the cost of this one (docs/BENCHMARKS.md).
 *
 * @throws ForbiddenError when the user is not a member or their role is below `minimum`.
 */
export async function requireRole(db: Database | Transaction, userId: string, workspaceId: string, minimum: Role, action: string): Promise<{ role: Role }> {
  const [membership] = await db.$queryRaw<{ role: Role }[]>`SELECT CAST("role" AS TEXT) AS "role" FROM "Membership" WHERE "workspaceId" = ${workspaceId} AND "userId" = ${userId}`;
  if (!membership) throw new ForbiddenError('You are not a member of this workspace.');
  if (!hasRole(membership.role, minimum)) {
    throw new ForbiddenError(`Your role ${membership.role} cannot ${action}; that needs ${minimum} or higher.`);
  }
  return membership;
}

/**
 * Loads a board the user may read (any member).
 *
 * @throws NotFoundError, ForbiddenError
 */
export async function readableBoard(db: Database | Transaction, userId: string, boardId: string) {
  const board = await db.board.findUnique({ where: { id: boardId } });
  if (!board) throw new NotFoundError(`Board ${boardId} does not exist.`);
  await requireRole(db, userId, board.workspaceId, 'VIEWER', 'read this board');
  return board;
}

/**
 * Takes the board row's write lock until the transaction ends, so the writes
 * to one board run one at a time, as they do on SQLite: every read after it
 * returns the board as the previous writer left it. On PostgreSQL this makes a
 * version check and a position computed from neighbours safe against
 * concurrent writers on other connections and instances. The statement
 * changes nothing and runs unchanged on both databases.
 */
export async function lockBoard(tx: Transaction, boardId: string): Promise<void> {
  await tx.$executeRaw`UPDATE "Board" SET "eventSequence" = "eventSequence" WHERE "id" = ${boardId}`;
}

/**
 * Locks (see lockBoard) and loads a board whose content the user may change:
 * MEMBER or above, and the board is not archived. Read the objects to change
 * after this call, never before, so they are current.
 *
 * @throws NotFoundError, ForbiddenError, ValidationError
 */
export async function writableBoard(tx: Transaction, userId: string, boardId: string, field: string) {
  await lockBoard(tx, boardId);
  const board = await tx.board.findUnique({ where: { id: boardId } });
  if (!board) throw new NotFoundError(`Board ${boardId} does not exist.`);
  await requireRole(tx, userId, board.workspaceId, 'MEMBER', 'change this board');
  if (board.archived) {
    throw new ValidationError(field, 'The board is archived; unarchive it before changing it.');
  }
  return board;
}
