import DataLoader from 'dataloader';
import type { Board, Card, Column, Comment, Database, User } from '../db/client.js';
import { UnauthenticatedError } from '../domain/errors.js';
import type { Actor, Services } from '../domain/services.js';
import type { Logger } from '../observability/logger.js';

/** Batching loaders; a fresh set per request and per subscription event, so nothing cached outlives them. */
export interface Loaders {
  user: DataLoader<string, User | null>;
  board: DataLoader<string, Board | null>;
  column: DataLoader<string, Column | null>;
  card: DataLoader<string, Card | null>;
  comment: DataLoader<string, Comment | null>;
}

/** Creates a loader that batches one `findMany` by id per tick, giving null for ids that no longer exist. */
function loaderById<T extends { id: string }>(findMany: (ids: string[]) => Promise<T[]>): DataLoader<string, T | null> {
  return new DataLoader(async (ids) => {
    const rows = await findMany([...ids]);
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id) ?? null);
  });
}

export function createLoaders(db: Database): Loaders {
  return {
    user: loaderById((ids) => db.user.findMany({ where: { id: { in: ids } } })),
    board: loaderById((ids) => db.board.findMany({ where: { id: { in: ids } } })),
    column: loaderById((ids) => db.column.findMany({ where: { id: { in: ids } } })),
    card: loaderById((ids) => db.card.findMany({ where: { id: { in: ids } } })),
    comment: loaderById((ids) => db.comment.findMany({ where: { id: { in: ids } } })),
  };
}

/** The GraphQL context of one operation (and, forked, of one subscription event). */
export interface Context {
  services: Services;
  db: Database;
  /** The signed-in user, or null. */
  viewer: Actor | null;
  /** Reason a presented token was rejected, shown by resolvers that need a viewer. */
  authProblem: string | null;
  loaders: Loaders;
  logger: Logger;
  /**
   * Aborts when the HTTP client goes away (an SSE stream closed). A
   * subscription still starting when that happens ends as soon as it has
   * started. Unset over WebSocket, where graphql-ws ends such operations.
   */
  signal?: AbortSignal;
}

/** Returns the signed-in user. @throws UnauthenticatedError saying how to sign in or why the token failed. */
export function requireViewer(ctx: Context): Actor {
  if (ctx.viewer) return ctx.viewer;
  throw new UnauthenticatedError(
    ctx.authProblem ??
      'Sign in first: send an access token as the header `Authorization: Bearer <token>`, or over WebSocket as {"authorization": "Bearer <token>"} in the connection_init payload.',
  );
}

/** Copies `ctx` with new loaders, for resolving one subscription event. */
export function forkContext(ctx: Context): Context {
  return { ...ctx, loaders: createLoaders(ctx.db) };
}
