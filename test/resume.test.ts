import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { TandemClient, type BoardEvent, type BoardSubscription, type ReceivedError } from '../sdk/index.js';
import { createTestDatabase, queryRows } from './support/database.js';
import { createCard, createTeam, type Team } from './support/fixtures.js';
import { startServer, testTokenSecret, type TestServer } from './support/server.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tsx = path.join(projectRoot, 'node_modules/.bin/tsx');

/** Cleanup steps of the current test, run after it passes or fails, last registered first. */
const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      await cleanup();
    } catch (error) {
      console.error('cleanup failed', error);
    }
  }
});

// ---------------------------------------------------------------------------
// Waiting

/** Polls `condition` every 10 ms and throws with `describe()` once `timeoutMs` has passed. */
async function waitFor(condition: () => boolean, describe: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// ---------------------------------------------------------------------------
// Server processes

interface ServerProcess {
  child: ChildProcess;
  /** http://127.0.0.1:PORT/graphql, from the 'Tandem started' log line. */
  url: string;
  wsUrl: string;
  port: number;
  /** Exit code of the tsx process once it exits, or null when a signal ended it. */
  exited: Promise<number | null>;
  output(): string;
}

/**
 * Runs src/main.ts in a child process with `env` added, and resolves once it
 * logs 'Tandem started'. The process group is killed when the test ends.
 *
 * tsx runs the server in a second Node process and cannot forward SIGKILL,
 * so the child leads its own process group and kills go to the whole group.
 */
async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(tsx, ['src/main.ts'], {
    cwd: projectRoot,
    env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const server = { child } as ServerProcess;
  cleanups.push(() => killServerProcess(server));

  let output = '';
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let pending = '';
    const timer = setTimeout(() => reject(new Error(`Timed out after 20 s waiting for the server process to start. Output:\n${output}`)), 20_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk;
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        const entry = parseLogLine(line);
        if (entry?.msg === 'Tandem started' && typeof entry.url === 'string') {
          clearTimeout(timer);
          resolve(entry.url);
        }
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server process exited with ${code} before starting:\n${output}`));
    });
  });
  return Object.assign(server, { url, wsUrl: url.replace(/^http/, 'ws'), port: Number(new URL(url).port), exited, output: () => output });
}

function parseLogLine(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** Sends SIGKILL to the server's process group and waits until no process of the group is left. */
async function killServerProcess(server: ServerProcess): Promise<void> {
  const group = server.child.pid;
  if (group === undefined || !groupAlive(group)) return;
  process.kill(-group, 'SIGKILL');
  await waitFor(() => !groupAlive(group), () => `process group ${group} to exit`, 10_000);
}

function groupAlive(group: number): boolean {
  try {
    process.kill(-group, 0);
    return true;
  } catch {
    return false;
  }
}

/** Wraps the URL of a server in another process as a TestServer. The fixtures read only its `url`. */
function httpTarget(url: string): TestServer {
  return { url } as TestServer;
}

// ---------------------------------------------------------------------------
// HTTP mutations

type Outcome = 'succeeded' | 'rejected' | 'no-response';

/**
 * POSTs one mutation whose result is a union and returns how it ended. The
 * outcome is `succeeded` when the result is of `expectedType` and `rejected`
 * when the server responded with anything else. It is `no-response` when the
 * request got no HTTP response, because the server was down or died meanwhile.
 */
async function postMutation(url: string, token: string, query: string, variables: Record<string, unknown>, field: string, expectedType: string): Promise<Outcome> {
  let body: { data?: Record<string, { __typename?: string } | null>; errors?: unknown[] };
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    body = (await response.json()) as typeof body;
  } catch {
    return 'no-response';
  }
  if (body.errors?.length) return 'rejected';
  return body.data?.[field]?.__typename === expectedType ? 'succeeded' : 'rejected';
}

const updateCardMutation = `mutation($input: UpdateCardInput!) { updateCard(input: $input) { __typename ... on Error { code message } } }`;
const moveCardMutation = `mutation($input: MoveCardInput!) { moveCard(input: $input) { __typename ... on Error { code message } } }`;

/** Renames a card (three times in four) or moves it between the two columns. Each success logs one event. */
function changeCard(url: string, team: Team, cards: string[], index: number): Promise<Outcome> {
  const cardId = cards[index % cards.length]!;
  const token = index % 2 === 0 ? team.owner.token : team.member.token;
  if (index % 4 === 3) {
    const toColumnId = Math.floor(index / 4) % 2 === 0 ? team.doneId : team.todoId;
    return postMutation(url, token, moveCardMutation, { input: { cardId, toColumnId } }, 'moveCard', 'Card');
  }
  return postMutation(url, token, updateCardMutation, { input: { cardId, title: `Burst ${index}` } }, 'updateCard', 'Card');
}

interface BurstProgress {
  attempted: number;
  completed: number;
  succeeded: number;
  rejected: number;
  noResponse: number;
}

/**
 * Attempts `total` mutations, each once, with `concurrency` in flight.
 * Before each attempt a worker awaits `gate()`, which lets a test hold new
 * attempts while it restarts the server.
 */
async function runBurst(options: {
  total: number;
  concurrency: number;
  attempt: (index: number) => Promise<Outcome>;
  gate?: () => Promise<void>;
  onCompleted?: (progress: BurstProgress) => void;
  progress?: BurstProgress;
}): Promise<BurstProgress> {
  const progress = options.progress ?? { attempted: 0, completed: 0, succeeded: 0, rejected: 0, noResponse: 0 };
  const worker = async () => {
    while (progress.attempted < options.total) {
      await options.gate?.();
      if (progress.attempted >= options.total) return;
      const index = progress.attempted;
      progress.attempted += 1;
      const outcome = await options.attempt(index);
      progress.completed += 1;
      if (outcome === 'succeeded') progress.succeeded += 1;
      else if (outcome === 'rejected') progress.rejected += 1;
      else progress.noResponse += 1;
      options.onCompleted?.(progress);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return progress;
}

// ---------------------------------------------------------------------------
// The board log in SQLite

interface LogRow {
  sequence: number;
  type: string;
}

/** Database id inside a Relay global id (base64 of `Type:id`). */
function rawId(globalId: string): string {
  return Buffer.from(globalId, 'base64').toString('utf8').split(':')[1]!;
}

/** Reads a board's counter and log from the database, beside the running server. */
async function readBoardLog(databaseUrl: string, boardGlobalId: string): Promise<{ eventSequence: number; rows: LogRow[] }> {
  const boardId = rawId(boardGlobalId);
  const [board] = await queryRows<{ eventSequence: number }>(databaseUrl, 'SELECT "eventSequence" FROM "Board" WHERE "id" = ?', boardId);
  if (!board) throw new Error(`Board ${boardId} not found in ${databaseUrl}`);
  const rows = await queryRows<LogRow>(databaseUrl, 'SELECT "sequence", "type" FROM "BoardEvent" WHERE "boardId" = ? ORDER BY "sequence"', boardId);
  return { eventSequence: board.eventSequence, rows };
}

/** Returns the GraphQL type name of a log type, as in the table of docs/PROTOCOL.md: CARD_UPDATED becomes CardUpdatedEvent. */
function eventTypename(logType: string): string {
  const words = logType.split('_').map((word) => word[0]! + word.slice(1).toLowerCase());
  return `${words.join('')}Event`;
}

// ---------------------------------------------------------------------------
// SDK clients

interface Watcher {
  subscription: BoardSubscription;
  events: BoardEvent[];
  resumes: { reason: string; after: string | undefined; lastDelivered: string | undefined }[];
  expired: ReceivedError[];
  errors: ReceivedError[];
}

/** Creates a TandemClient for `wsUrl` and disposes it when the test ends. */
function sdkClient(wsUrl: string, token: string, clientOptions?: ConstructorParameters<typeof TandemClient>[0]['clientOptions']): TandemClient {
  const client = new TandemClient({ url: wsUrl, webSocketImpl: WebSocket, getAccessToken: () => token, clientOptions });
  cleanups.push(() => client.dispose());
  return client;
}

/** Subscribes to a board through the SDK and records everything its callbacks receive. */
function watchBoard(client: TandemClient, boardId: string, after?: string): Watcher {
  const events: BoardEvent[] = [];
  const resumes: Watcher['resumes'] = [];
  const expired: ReceivedError[] = [];
  const errors: ReceivedError[] = [];
  const subscription = client.subscribeBoard({
    boardId,
    after,
    onEvent: (event) => events.push(event),
    onCursorExpired: (error) => expired.push(error),
    onError: (error) => errors.push(error),
    onResume: (reason, resumeAfter) => resumes.push({ reason, after: resumeAfter, lastDelivered: events.at(-1)?.cursor }),
  });
  cleanups.push(() => subscription.unsubscribe());
  return { subscription, events, resumes, expired, errors };
}

/**
 * Subscribes without `after` and calls `change` until the subscription
 * delivers an event, then unsubscribes and returns that event. Polling covers
 * the time the subscription takes to start, because no client-side signal
 * reports it.
 */
async function captureEvent(client: TandemClient, boardId: string, change: () => Promise<unknown>): Promise<BoardEvent> {
  const probe = watchBoard(client, boardId);
  try {
    const deadline = Date.now() + 10_000;
    while (probe.events.length === 0) {
      if (Date.now() > deadline) throw new Error(`Timed out after 10 s waiting for the first event of a new subscription. Errors: ${JSON.stringify(probe.errors)}`);
      await change();
      await waitFor(() => probe.events.length > 0, () => 'an event', 500).catch(() => {});
    }
    return probe.events[0]!;
  } finally {
    probe.subscription.unsubscribe();
  }
}

/**
 * Asserts that `events` are exactly the sequences `first` to `last`, once
 * each and in order, with one assert per kind of fault.
 */
function expectSequences(label: string, events: BoardEvent[], first: number, last: number): void {
  const sequences = events.map((event) => event.sequence);
  const seen = new Set<number>();
  const duplicates: number[] = [];
  for (const sequence of sequences) {
    if (seen.has(sequence)) duplicates.push(sequence);
    seen.add(sequence);
  }
  const outOfOrder = sequences.filter((sequence, index) => index > 0 && sequence <= sequences[index - 1]!);
  const outside = sequences.filter((sequence) => sequence < first || sequence > last);
  const missing: number[] = [];
  for (let sequence = first; sequence <= last; sequence += 1) {
    if (!seen.has(sequence)) missing.push(sequence);
  }
  expect(duplicates.slice(0, 20), `${label}: duplicate sequences`).toEqual([]);
  expect(outOfOrder.slice(0, 20), `${label}: sequences not above the one before`).toEqual([]);
  expect(outside.slice(0, 20), `${label}: sequences outside ${first}..${last}`).toEqual([]);
  expect(missing.slice(0, 20), `${label}: sequences missing from ${first}..${last}`).toEqual([]);
  expect(sequences.length, `${label}: number of events`).toBe(last - first + 1);
}

/** Asserts that each delivered event's __typename matches the type of its row in the log. */
function expectTypenames(label: string, events: BoardEvent[], rows: LogRow[]): void {
  const typeBySequence = new Map(rows.map((row) => [row.sequence, row.type]));
  const mismatches = events
    .filter((event) => eventTypename(typeBySequence.get(event.sequence) ?? 'NOT_IN_LOG') !== event.__typename)
    .map((event) => `${event.sequence}: got ${event.__typename}, log has ${typeBySequence.get(event.sequence)}`);
  expect(mismatches.slice(0, 20), `${label}: __typename against the log`).toEqual([]);
}

/** Creates `count` cards in the To do column. */
async function createCards(target: TestServer, team: Team, count: number): Promise<string[]> {
  const cards: string[] = [];
  for (let n = 1; n <= count; n += 1) cards.push(await createCard(target, team.owner.token, team.todoId, `Card ${n}`));
  return cards;
}

// ---------------------------------------------------------------------------

describe('board stream resume', () => {
  it('survives SIGKILL during a burst', { timeout: 90_000 }, async () => {
    const databaseUrl = await createTestDatabase();
    const env = { HOST: '127.0.0.1', DATABASE_URL: databaseUrl, TOKEN_SECRET: testTokenSecret };
    let server = await startServerProcess({ ...env, PORT: '0' });
    const { url, wsUrl, port } = server;
    const target = httpTarget(url);

    const team = await createTeam(target);
    const cards = await createCards(target, team, 4);
    let markers = 0;
    const mark = () => changeCard(url, team, cards, 4 * markers++);

    // Every client resumes from one captured cursor, so each must deliver
    // exactly the events after it, however late its subscription starts.
    const start = await captureEvent(sdkClient(wsUrl, team.owner.token), team.boardId, mark);
    const subscribers = [team.owner, team.member, team.viewer];
    const watchers = Array.from({ length: 20 }, (_, n) => watchBoard(sdkClient(wsUrl, subscribers[n % 3]!.token), team.boardId, start.cursor));
    expect(await mark()).toBe('succeeded');
    const beforeBurst = (await readBoardLog(databaseUrl, team.boardId)).eventSequence;
    await waitFor(
      () => watchers.every((watcher) => (watcher.events.at(-1)?.sequence ?? 0) >= beforeBurst),
      () => `all 20 clients to reach sequence ${beforeBurst}; reached ${watchers.map((w) => w.events.at(-1)?.sequence ?? 0).join(',')}`,
      15_000,
    );

    // The worker that completes the 600th mutation kills the server. Attempts
    // in flight then fail, and later attempts wait for the new process on the
    // same port and file.
    let restart: Promise<void> | undefined;
    let killedAt: BurstProgress | undefined;
    const restartServer = async () => {
      await killServerProcess(server);
      server = await startServerProcess({ ...env, PORT: String(port) });
    };
    const progress = await runBurst({
      total: 2_000,
      concurrency: 8,
      attempt: (index) => changeCard(url, team, cards, index),
      gate: () => restart ?? Promise.resolve(),
      onCompleted: (current) => {
        if (!restart && current.completed >= 600) {
          killedAt = { ...current };
          restart = restartServer();
        }
      },
    });
    await restart;

    expect(killedAt, 'the server was killed during the burst').toBeDefined();
    expect(server.url, 'the restarted server URL').toBe(url);
    expect(progress.attempted).toBe(2_000);
    expect(progress.completed).toBe(2_000);
    expect(progress.succeeded, 'mutations that succeeded').toBeGreaterThan(1_900);

    // The database is the truth. Its log has no gaps, and the burst logged one
    // event per success, plus at most one per request whose response the kill
    // swallowed.
    const log = await readBoardLog(databaseUrl, team.boardId);
    const final = log.eventSequence;
    expect(log.rows.map((row) => row.sequence), 'log sequences').toEqual(Array.from({ length: final }, (_, i) => i + 1));
    expect(final - beforeBurst, 'events logged by the burst').toBeGreaterThanOrEqual(progress.succeeded);
    expect(final - beforeBurst, 'events logged by the burst').toBeLessThanOrEqual(progress.succeeded + progress.noResponse);

    await waitFor(
      () => watchers.every((watcher) => (watcher.events.at(-1)?.sequence ?? 0) >= final || watcher.errors.length > 0 || watcher.expired.length > 0),
      () => `all 20 clients to reach sequence ${final}; reached ${watchers.map((w) => w.events.at(-1)?.sequence ?? 0).join(',')}`,
      40_000,
    );
    watchers.forEach((watcher, n) => {
      const label = `client ${n}`;
      expect(watcher.errors, `${label}: onError calls`).toEqual([]);
      expect(watcher.expired, `${label}: onCursorExpired calls`).toEqual([]);
      expectSequences(label, watcher.events, start.sequence + 1, final);
      expectTypenames(label, watcher.events, log.rows);
      expect(
        watcher.resumes.some((resume) => resume.reason === 'disconnected'),
        `${label}: onResume reasons ${watcher.resumes.map((r) => r.reason).join(',')}`,
      ).toBe(true);
      for (const resume of watcher.resumes) expect(resume.after, `${label}: cursor passed to onResume`).toBe(resume.lastDelivered);
    });
  });

  it('resumes after a dropped socket', async () => {
    const server = await startServer();
    cleanups.push(() => server.stop());
    const team = await createTeam(server);
    const cards = await createCards(server, team, 4);
    let markers = 0;
    const mark = () => changeCard(server.url, team, cards, 4 * markers++);
    const start = await captureEvent(sdkClient(server.wsUrl, team.owner.token), team.boardId, mark);

    let socket: WebSocket | undefined;
    let connections = 0;
    const client = sdkClient(server.wsUrl, team.member.token, {
      on: {
        connected: (connected) => {
          socket = connected as WebSocket;
          connections += 1;
        },
      },
    });
    const watcher = watchBoard(client, team.boardId, start.cursor);
    await waitFor(() => socket !== undefined, () => 'the SDK client to connect', 10_000);

    const burst = runBurst({ total: 500, concurrency: 8, attempt: (index) => changeCard(server.url, team, cards, index) });
    await waitFor(() => watcher.events.length >= 150, () => `150 events before the drop; got ${watcher.events.length}`, 20_000);
    const droppedAfter = watcher.events.length;
    socket!.terminate();
    const progress = await burst;

    expect(progress.succeeded).toBe(500);
    const log = await readBoardLog(server.databaseUrl, team.boardId);
    await waitFor(
      () => (watcher.events.at(-1)?.sequence ?? 0) >= log.eventSequence || watcher.errors.length > 0,
      () => `the client to reach sequence ${log.eventSequence}; it reached ${watcher.events.at(-1)?.sequence}`,
      20_000,
    );

    expect(droppedAfter, 'events delivered before the drop').toBeLessThan(log.eventSequence - start.sequence);
    expect(connections, 'WebSocket connections').toBeGreaterThanOrEqual(2);
    expect(watcher.errors).toEqual([]);
    expectSequences('client', watcher.events, start.sequence + 1, log.eventSequence);
    expectTypenames('client', watcher.events, log.rows);
    expect(watcher.resumes[0]?.reason, 'first onResume reason').toBe('disconnected');
    expect(watcher.resumes[0]?.after, 'cursor of the first resume').toBe(watcher.resumes[0]?.lastDelivered);
    expect(watcher.resumes[0]?.after, 'cursor of the first resume').toBeDefined();
  });

  it('expired cursor reaches onCursorExpired', async () => {
    const server = await startServer({ eventRetentionCount: 100 });
    cleanups.push(() => server.stop());
    const team = await createTeam(server);
    const cards = await createCards(server, team, 4);
    let markers = 0;
    const mark = () => changeCard(server.url, team, cards, 4 * markers++);
    const early = await captureEvent(sdkClient(server.wsUrl, team.owner.token), team.boardId, mark);

    // Follows the whole run from the early cursor, pruning included.
    const live = watchBoard(sdkClient(server.wsUrl, team.member.token), team.boardId, early.cursor);
    const progress = await runBurst({ total: 300, concurrency: 8, attempt: (index) => changeCard(server.url, team, cards, index) });
    expect(progress.succeeded).toBe(300);
    const newest = (await readBoardLog(server.databaseUrl, team.boardId)).eventSequence;
    await waitFor(() => (live.events.at(-1)?.sequence ?? 0) >= newest, () => `live client at ${newest}`, 15_000);

    const deleted = await server.app.pruneEventLog();
    expect(deleted, 'events pruned').toBe(newest - 100);
    expect(early.sequence, 'early event sequence').toBeLessThan(newest - 100);

    const stale = watchBoard(sdkClient(server.wsUrl, team.owner.token), team.boardId, early.cursor);
    await waitFor(
      () => stale.expired.length > 0 || stale.errors.length > 0 || stale.events.length > 0,
      () => 'a callback of the subscription with the expired cursor',
      10_000,
    );

    // One more change reaches the live client; the expired one stays silent.
    expect(await mark()).toBe('succeeded');
    await waitFor(() => (live.events.at(-1)?.sequence ?? 0) >= newest + 1, () => `live client at ${newest + 1}`, 10_000);

    expect(stale.expired).toHaveLength(1);
    expect(stale.expired[0]?.extensions?.code).toBe('CURSOR_EXPIRED');
    expect(stale.events, 'events delivered to the expired subscription').toEqual([]);
    expect(stale.errors, 'onError calls').toEqual([]);
    expect(stale.resumes, 'onResume calls').toEqual([]);
    expectSequences('live client', live.events, early.sequence + 1, newest + 1);
  });

  it('cursor at prune boundary replays', async () => {
    const server = await startServer({ eventRetentionCount: 10 });
    cleanups.push(() => server.stop());
    const team = await createTeam(server);
    const cards = await createCards(server, team, 2);
    let markers = 0;
    const mark = () => changeCard(server.url, team, cards, 4 * markers++);
    const early = await captureEvent(sdkClient(server.wsUrl, team.owner.token), team.boardId, mark);

    const live = watchBoard(sdkClient(server.wsUrl, team.owner.token), team.boardId, early.cursor);
    await runBurst({ total: 30, concurrency: 4, attempt: (index) => changeCard(server.url, team, cards, index) });
    const newest = (await readBoardLog(server.databaseUrl, team.boardId)).eventSequence;
    await waitFor(() => (live.events.at(-1)?.sequence ?? 0) >= newest, () => `live client at ${newest}`, 10_000);
    await server.app.pruneEventLog();
    const prunedThrough = newest - 10;
    const cursorOf = (sequence: number) => live.events.find((event) => event.sequence === sequence)!.cursor;

    const client = sdkClient(server.wsUrl, team.member.token);
    const atBoundary = watchBoard(client, team.boardId, cursorOf(prunedThrough));
    const pastBoundary = watchBoard(client, team.boardId, cursorOf(prunedThrough - 1));
    await waitFor(
      () => (atBoundary.events.length >= 10 || atBoundary.expired.length > 0) && (pastBoundary.expired.length > 0 || pastBoundary.events.length > 0),
      () => 'both subscriptions to answer',
      10_000,
    );

    expect(atBoundary.expired, 'cursor of the last pruned event').toEqual([]);
    expectSequences('cursor of the last pruned event', atBoundary.events, prunedThrough + 1, newest);
    expect(pastBoundary.expired[0]?.extensions?.code, 'cursor before the last pruned event').toBe('CURSOR_EXPIRED');
    expect(pastBoundary.events).toEqual([]);
  });

  it('replays missed events, then continues live', async () => {
    const server = await startServer();
    cleanups.push(() => server.stop());
    const team = await createTeam(server);
    const cards = await createCards(server, team, 2);
    let changes = 0;
    const change = async () => expect(await changeCard(server.url, team, cards, changes++)).toBe('succeeded');
    const client = sdkClient(server.wsUrl, team.owner.token);

    // The first subscription starts live; changes continue until it has five events.
    const first = watchBoard(client, team.boardId);
    const firstStartDeadline = Date.now() + 10_000;
    while (first.events.length === 0 && Date.now() < firstStartDeadline) {
      await change();
      await waitFor(() => first.events.length > 0, () => 'an event', 500).catch(() => {});
    }
    while (first.events.length < 5) {
      // Counted before the change, whose event may arrive before its HTTP response.
      const wanted = first.events.length + 1;
      await change();
      await waitFor(() => first.events.length >= wanted, () => `event ${wanted} of the first subscription; errors ${JSON.stringify(first.errors)}, resumes ${JSON.stringify(first.resumes)}, events ${JSON.stringify(first.events)}`, 5_000);
    }
    first.subscription.unsubscribe();
    const cursor = first.subscription.cursor;
    const fifth = first.events[4]!;
    expect(first.events).toHaveLength(5);
    expect(cursor, 'cursor after five events').toBe(fifth.cursor);

    for (let n = 0; n < 10; n += 1) await change();
    const resumed = watchBoard(client, team.boardId, cursor);
    await waitFor(() => resumed.events.length >= 10, () => `10 replayed events; got ${resumed.events.length}`, 10_000);
    for (let n = 0; n < 3; n += 1) await change();
    await waitFor(() => resumed.events.length >= 13, () => `13 events; got ${resumed.events.length}`, 10_000);

    // A last change shows that nothing else arrived before it.
    await change();
    await waitFor(() => resumed.events.length >= 14, () => `the last change; got ${resumed.events.length}`, 10_000);
    expectSequences('resumed subscription', resumed.events, fifth.sequence + 1, fifth.sequence + 14);
    expect((await readBoardLog(server.databaseUrl, team.boardId)).eventSequence).toBe(fifth.sequence + 14);
    expect(first.events, 'events after unsubscribe').toHaveLength(5);
    expect(first.resumes).toEqual([]);
    expect(resumed.resumes).toEqual([]);
    expect(resumed.errors).toEqual([]);
  });
});
