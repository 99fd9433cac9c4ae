import { Prisma } from '../db/client.js';
import { ForbiddenError } from '../domain/errors.js';
import type { Context } from './context.js';

type Model = 'board' | 'column' | 'card' | 'comment' | 'workspace' | 'membership';

/** Prisma filters that keep only rows in workspaces the user is a member of. */
function visibleTo(model: Model, userId: string): object {
  const workspace = { memberships: { some: { userId } } };
  switch (model) {
    case 'workspace':
      return workspace;
    case 'membership':
    case 'board':
      return { workspace };
    case 'column':
    case 'card':
      return { board: { workspace } };
    case 'comment':
      return { card: { board: { workspace } } };
  }
}

const table: Record<Model, string> = { board: 'Board', column: 'Column', card: 'Card', comment: 'Comment', workspace: 'Workspace', membership: 'Membership' };

/** Joins from a model's table to the board it belongs to, for the raw read in reload. */
const boardOf: Partial<Record<Model, string>> = {
  board: '"Board"',
  column: '"Column" JOIN "Board" ON "Board"."id" = "Column"."boardId"',
  card: '"Card" JOIN "Board" ON "Board"."id" = "Card"."boardId"',
  comment: '"Comment" JOIN "Card" ON "Card"."id" = "Comment"."cardId" JOIN "Board" ON "Board"."id" = "Card"."boardId"',
};

/**
 * Reads a row written by a mutation again, after its commit, with the
 * relations and counts that the client selected (Pothos's `query`). Domain
 * operations return plain rows, which lack counts and may predate the event
 * sequence update.
 *
 * The read is limited to the viewer's workspaces, because an idempotent
 * retry returns a stored result without running the mutation's own checks.
 *
 * @throws ForbiddenError when the viewer can no longer see the object.
 */
export async function reload(ctx: Context, model: Model, query: object, row: { id: string }): Promise<any> {
  const userId = ctx.viewer?.userId ?? '';
  // A selection of scalar fields only (no relation or count to include) is
  // read with one raw statement: every mutation ends with this read, and a
  // model query costs several times as much in Prisma 6.19.
  if (Object.keys(query).length === 0 && model in boardOf) {
    const [found] = await ctx.db.$queryRaw<unknown[]>`SELECT ${Prisma.raw(`"${table[model]}"`)}.* FROM ${Prisma.raw(boardOf[model]!)} JOIN "Membership" ON "Membership"."workspaceId" = "Board"."workspaceId" AND "Membership"."userId" = ${userId} WHERE ${Prisma.raw(`"${table[model]}"`)}."id" = ${row.id}`;
    if (!found) throw new ForbiddenError('You no longer have access to this object.');
    return found;
  }
  const delegate = ctx.db[model] as unknown as { findFirst(args: object): Promise<unknown> };
  const found = await delegate.findFirst({ ...query, where: { id: row.id, ...visibleTo(model, userId) } });
  if (!found) throw new ForbiddenError('You no longer have access to this object.');
  return found;
}
