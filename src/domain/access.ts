import { Prisma, type Board, type Role, type Transaction, type Database } from '../db/client.js';
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
  return { role: checkRole(membership?.role ?? null, minimum, action) };
}

/**
 * Returns `role` when it is `minimum` or above.
 *
 * @throws ForbiddenError when `role` is null (not a member) or below `minimum`.
 */
function checkRole(role: Role | null, minimum: Role, action: string): Role {
  if (!role) throw new ForbiddenError('You are not a member of this workspace.');
  if (!hasRole(role, minimum)) throw new ForbiddenError(`Your role ${role} cannot ${action}; that needs ${minimum} or higher.`);
  return role;
}

/**
 * Loads a board the user may read (any member).
 *
 * @throws NotFoundError, ForbiddenError
 */
export async function readableBoard(db: Database | Transaction, userId: string, boardId: string): Promise<Board> {
  // Raw, as it runs for every board read (see requireRole); `SELECT *` gives a model query's row shape.
  const [board] = await db.$queryRaw<Board[]>`SELECT * FROM "Board" WHERE "id" = ${boardId}`;
  if (!board) throw new NotFoundError(`Board ${boardId} does not exist.`);
  await requireRole(db, userId, board.workspaceId, 'VIEWER', 'read this board');
  return board;
}

/**
 * The board a write is about: named by id, or through one of its cards or
 * columns. A card or column never changes board, so its board can be found
 * before the lock is taken.
 */
export type BoardOf = { board: string } | { card: string } | { column: string };

function boardIdOf(of: BoardOf): Prisma.Sql {
  if ('card' in of) return Prisma.sql`(SELECT "boardId" FROM "Card" WHERE "id" = ${of.card})`;
  if ('column' in of) return Prisma.sql`(SELECT "boardId" FROM "Column" WHERE "id" = ${of.column})`;
  return Prisma.sql`${of.board}`;
}

function missing(of: BoardOf): NotFoundError {
  if ('card' in of) return new NotFoundError(`Card ${of.card} does not exist.`);
  if ('column' in of) return new NotFoundError(`Column ${of.column} does not exist.`);
  return new NotFoundError(`Board ${of.board} does not exist.`);
}

/**
 * Takes the board row's write lock until the transaction ends, so the writes
 * to one board run one at a time, as they do on SQLite: every read after it
 * returns the board as the previous writer left it. On PostgreSQL this makes a
 * version check and a position computed from neighbours safe against
 * concurrent writers on other connections and instances. The statement
 * changes nothing and runs unchanged on both databases.
 *
 * It returns the locked board with `userId`'s role in its workspace (null
 * when not a member), or undefined when there is no such board. Lock, board
 * and role are one statement: this runs for every change.
 */
export async function lockBoard(tx: Transaction, of: BoardOf, userId = ''): Promise<(Board & { viewerRole: Role | null }) | undefined> {
  const [board] = await tx.$queryRaw<(Board & { viewerRole: Role | null })[]>`UPDATE "Board" SET "eventSequence" = "eventSequence" WHERE "id" = ${boardIdOf(of)} RETURNING *, (SELECT CAST("role" AS TEXT) FROM "Membership" WHERE "workspaceId" = "Board"."workspaceId" AND "userId" = ${userId}) AS "viewerRole"`;
  return board;
}

/**
 * Locks (see lockBoard) and loads a board whose content the user may change:
 * MEMBER or above, and the board is not archived. Read the objects to change
 * after this call, never before, so they are current.
 *
 * @throws NotFoundError (naming the card or column when given one), ForbiddenError, ValidationError
 */
export async function writableBoard(tx: Transaction, userId: string, of: BoardOf, field: string): Promise<Board> {
  const locked = await lockBoard(tx, of, userId);
  if (!locked) throw missing(of);
  const { viewerRole, ...board } = locked;
  checkRole(viewerRole, 'MEMBER', 'change this board');
  if (board.archived) {
    throw new ValidationError(field, 'The board is archived; unarchive it before changing it.');
  }
  return board;
}
