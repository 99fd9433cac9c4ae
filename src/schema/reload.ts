import type { Context } from './context.js';

type Model = 'board' | 'column' | 'card' | 'comment' | 'workspace' | 'membership';

/**
 * Reads a row written by a mutation again, after its commit, with the
 * relations and counts that the client selected (Pothos's `query`). Domain
 * operations return plain rows, which lack counts and may predate the event
 * sequence update.
 */
export async function reload(ctx: Context, model: Model, query: object, row: { id: string }): Promise<any> {
  const delegate = ctx.db[model] as unknown as { findUniqueOrThrow(args: object): Promise<unknown> };
  return delegate.findUniqueOrThrow({ ...query, where: { id: row.id } });
}
