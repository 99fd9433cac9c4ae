/**
 * The servers a benchmark run measures, and how the load generator talks to
 * each: Tandem on SQLite (and on PostgreSQL for writes), and the peers.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { BoardStore } from '../peers/store.js';
import { createFixture, type BoardFixture, type Fixture } from './fixtures.js';
import { startServerProcess, type ServerProcess } from './processes.js';

export type TargetName = 'tandem' | 'tandem-postgresql' | 'ws-ceiling' | 'mercurius' | 'yoga';

export interface Target {
  name: TargetName;
  /** Name shown in the report. */
  label: string;
  server: ServerProcess;
  /** Tandem's database, for scenarios that prepare data directly. */
  databaseUrl?: string;
  protocol: 'graphql-ws' | 'raw';
  boards: BoardFixture[];
  /** Access tokens for Tandem; empty for peers, which have no authentication. */
  tokens: string[];
  subscription: string;
  /** Body of a move of `cardId` to `toColumnId`. */
  moveBody(cardId: string, toColumnId: string): string;
  /** Text every successful move response contains. */
  moveSucceeded: string;
  boardQuery(boardId: string): string;
  boardQuerySucceeded: string;
  cleanup(): Promise<void>;
}

const cardFields = 'id title position version column { id }';

const tandemShape = {
  protocol: 'graphql-ws' as const,
  subscription: `subscription Events($boardId: ID!) { boardEvents(boardId: $boardId) { __typename sequence cursor occurredAt ... on CardMovedEvent { card { ${cardFields} } } } }`,
  moveBody: (cardId: string, toColumnId: string) =>
    JSON.stringify({ query: 'mutation Move($input: MoveCardInput!) { moveCard(input: $input) { __typename ... on Card { id version } ... on Error { code message } } }', variables: { input: { cardId, toColumnId } } }),
  moveSucceeded: '"__typename":"Card"',
  boardQuery: (boardId: string) =>
    JSON.stringify({
      query: `query Board($id: ID!) { board(id: $id) { __typename ... on Board { id name eventSequence columns { edges { node { id name position cards { edges { node { ${cardFields} } } } } } } } } }`,
      variables: { id: boardId },
    }),
  boardQuerySucceeded: '"__typename":"Board"',
};

const peerShape = {
  subscription: `subscription Events($boardId: ID!) { boardEvents(boardId: $boardId) { sequence cursor occurredAt card { ${cardFields} } } }`,
  moveBody: (cardId: string, toColumnId: string) =>
    JSON.stringify({ query: 'mutation Move($input: MoveCardInput!) { moveCard(input: $input) { id version } }', variables: { input: { cardId, toColumnId } } }),
  moveSucceeded: '"moveCard":{',
  boardQuery: (boardId: string) =>
    JSON.stringify({
      query: `query Board($id: ID!) { board(id: $id) { id name eventSequence columns { edges { node { id name position cards { edges { node { ${cardFields} } } } } } } } }`,
      variables: { id: boardId },
    }),
  boardQuerySucceeded: '"board":{',
};

/** A token secret for the run, so the fixture's tokens and the server agree. */
const tokenSecret = randomBytes(32).toString('hex');

/**
 * The peers have no per-user limits, and the load generator uses a few users
 * for thousands of sockets and moves, so Tandem runs without those limits too.
 */
const unlimited = { MUTATION_RATE_LIMIT: '1000000', WS_MAX_CONNECTIONS_PER_USER: '100000' };

export interface TandemOptions {
  boards: number;
  users: number;
  cardsPerColumn?: number;
  env?: Record<string, string>;
}

/** Starts Tandem on a fresh SQLite file filled with a fixture. */
export async function startTandem(options: TandemOptions): Promise<Target> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-bench-'));
  const databaseUrl = `file:${path.join(dir, 'bench.db')}`;
  process.env.TOKEN_SECRET = tokenSecret;
  const fixture = await createFixture(databaseUrl, { users: options.users, boards: options.boards, cardsPerColumn: options.cardsPerColumn ?? 10 });
  const server = await startServerProcess('tandem', 'servers/tandem.ts', { DATABASE_URL: databaseUrl, TOKEN_SECRET: tokenSecret, PORT: '0', HOST: '127.0.0.1', ...unlimited, ...options.env });
  return tandemTarget('tandem', 'Tandem (SQLite)', server, fixture, databaseUrl, async () => fs.rmSync(dir, { recursive: true, force: true }));
}

/** Starts Tandem on a new PostgreSQL database with Redis, the several-instance shape; null when PostgreSQL is unreachable. */
export async function startTandemPostgres(options: TandemOptions): Promise<Target | { unavailable: string }> {
  const adminUrl = process.env.POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
  const name = `tandem_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3_000 });
  try {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
  } catch (error) {
    return { unavailable: `PostgreSQL at ${adminUrl} is unreachable (${(error as Error).message})` };
  } finally {
    await admin.end().catch(() => {});
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  process.env.TOKEN_SECRET = tokenSecret;
  const fixture = await createFixture(url.href, { users: options.users, boards: options.boards, cardsPerColumn: options.cardsPerColumn ?? 10 });
  const env: Record<string, string> = { DATABASE_URL: url.href, TOKEN_SECRET: tokenSecret, PORT: '0', HOST: '127.0.0.1', DATABASE_POOL_SIZE: '20', ...unlimited, ...options.env };
  if (process.env.BENCH_REDIS_URL !== '') {
    env.REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
    env.REDIS_KEY_PREFIX = `${name}:`;
  }
  const server = await startServerProcess('tandem-postgresql', 'servers/tandem.ts', env);
  return tandemTarget('tandem-postgresql', env.REDIS_URL ? 'Tandem (PostgreSQL + Redis)' : 'Tandem (PostgreSQL)', server, fixture, url.href, async () => {
    const cleanup = new pg.Client({ connectionString: adminUrl });
    await cleanup.connect();
    await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await cleanup.end();
  });
}

function tandemTarget(name: TargetName, label: string, server: ServerProcess, fixture: Fixture, databaseUrl: string, cleanup: () => Promise<void>): Target {
  return { name, label, server, databaseUrl, boards: fixture.boards, tokens: fixture.tokens, ...tandemShape, cleanup };
}

/** Starts a peer from bench/peers/ with `boards` boards in memory, and reads their ids back over GraphQL. */
export async function startPeer(name: 'ws-ceiling' | 'mercurius' | 'yoga', boards: number): Promise<Target> {
  const server = await startServerProcess(name, `peers/${name}.ts`, { PORT: '0', HOST: '127.0.0.1', BOARDS: String(boards) });
  const labels = { 'ws-ceiling': 'bare ws broadcast (ceiling)', mercurius: 'Mercurius', yoga: 'GraphQL Yoga + createPubSub' };
  const target: Target = {
    name,
    label: labels[name],
    server,
    protocol: name === 'ws-ceiling' ? 'raw' : 'graphql-ws',
    boards: [],
    tokens: [],
    ...peerShape,
    cleanup: async () => {},
  };
  target.boards = await Promise.all(Array.from({ length: boards }, (_, index) => readPeerBoard(target, `board-${index + 1}`)));
  return target;
}

async function readPeerBoard(target: Target, id: string): Promise<BoardFixture> {
  if (target.name === 'ws-ceiling') {
    // The ceiling has no GraphQL to ask; the store it seeds lays its boards out the same way.
    const board = new BoardStore(() => {}).addBoard(Number(id.slice('board-'.length)), 3, 10);
    return { id, columnIds: board.columns.map((column) => column.id), cardIds: board.columns.map((column) => column.cards.map((card) => card.id)) };
  }
  const response = await fetch(target.server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: target.boardQuery(id) });
  const body = (await response.json()) as { data?: { board: { columns: { edges: { node: { id: string; cards: { edges: { node: { id: string } }[] } } }[] } } } };
  const board = body.data?.board;
  if (!board) throw new Error(`${target.name} has no board ${id}: ${JSON.stringify(body)}`);
  return {
    id,
    columnIds: board.columns.edges.map((edge) => edge.node.id),
    cardIds: board.columns.edges.map((edge) => edge.node.cards.edges.map((card) => card.node.id)),
  };
}

/**
 * Move bodies over `boards`, round-robin across boards so that consecutive
 * moves rarely touch the same board: each card moves to the next column,
 * `rounds` times.
 */
export function moveBodies(target: Target, boards: BoardFixture[], rounds = 4): { json: string; token?: string }[] {
  const bodies: { json: string; token?: string }[] = [];
  const cardsPerBoard = Math.max(...boards.map((board) => board.cardIds.flat().length));
  for (let round = 0; round < rounds; round += 1) {
    for (let card = 0; card < cardsPerBoard; card += 1) {
      boards.forEach((board, boardIndex) => {
        const all = board.cardIds.flatMap((ids, column) => ids.map((id) => ({ id, column })));
        const pick = all[card % all.length]!;
        const toColumn = board.columnIds[(pick.column + round + 1) % board.columnIds.length]!;
        bodies.push({ json: target.moveBody(pick.id, toColumn), token: target.tokens[(boardIndex + card) % Math.max(1, target.tokens.length)] });
      });
    }
  }
  return bodies;
}
