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
  const delegate = ctx.db[model] as unknown as { findFirst(args: object): Promise<unknown> };
  const found = await delegate.findFirst({ ...query, where: { id: row.id, ...visibleTo(model, ctx.viewer?.userId ?? '') } });
  if (!found) throw new ForbiddenError('You no longer have access to this object.');
  return found;
}
