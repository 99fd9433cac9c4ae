import DataLoader from 'dataloader';
import { Prisma, type Board, type Card, type Column, type Comment, type Database, type User } from '../db/client.js';
import { UnauthenticatedError } from '../domain/errors.js';
import type { Actor, Services } from '../domain/services.js';
import type { Logger } from '../observability/logger.js';
import type { Transport } from '../observability/metrics.js';

/** Batching loaders; a fresh set per request and per subscription event, so nothing cached outlives them. */
export interface Loaders {
  user: DataLoader<string, User | null>;
  board: DataLoader<string, Board | null>;
  column: DataLoader<string, Column | null>;
  card: DataLoader<string, Card | null>;
  comment: DataLoader<string, Comment | null>;
}

/** Rows per batched read, far below the bound-parameter limits of SQLite and PostgreSQL. */
const maxBatchSize = 500;

/**
 * Creates a loader that reads a table's rows by id, one statement per tick,
 * giving null for ids that no longer exist. It is a raw statement because it
 * runs for every delivered event and every board read: a Prisma 6.19 model
 * query costs several times as much (docs/BENCHMARKS.md). `SELECT *` returns
 * the same row shape as a model query, on SQLite and PostgreSQL alike.
 */
function loaderById<T extends { id: string }>(db: Database, table: 'User' | 'Board' | 'Column' | 'Card' | 'Comment'): DataLoader<string, T | null> {
  return new DataLoader(
    async (ids) => {
      const rows = await db.$queryRaw<T[]>`SELECT * FROM ${Prisma.raw(`"${table}"`)} WHERE "id" IN (${Prisma.join(ids)})`;
      const byId = new Map(rows.map((row) => [row.id, row]));
      return ids.map((id) => byId.get(id) ?? null);
    },
    { maxBatchSize },
  );
}

export function createLoaders(db: Database): Loaders {
  return {
    user: loaderById<User>(db, 'User'),
    board: loaderById<Board>(db, 'Board'),
    column: loaderById<Column>(db, 'Column'),
    card: loaderById<Card>(db, 'Card'),
    comment: loaderById<Comment>(db, 'Comment'),
  };
}

/** The GraphQL context of one operation (and, forked, of one subscription event). */
export interface Context {
  services: Services;
  db: Database;
  /** The signed-in user, or null. */
  viewer: Actor | null;
  /**
   * Expiry of the access token that authenticated `viewer`, in seconds since
   * the epoch; unset without a viewer. SSE subscriptions end then.
   */
  accessTokenExpiresAt?: number;
  /** When authentication found the viewer's session signed in, in milliseconds since the epoch; unset without a viewer. */
  sessionCheckedAt?: number;
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
  /** The client's network address over HTTP, for limits kept per address. Unset over WebSocket. */
  address?: string;
  /** The transport the operation arrived over; the metrics count by it, and SSE streams end with their session. */
  transport: Transport;
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
