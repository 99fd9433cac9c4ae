import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { afterEach, expect } from 'vitest';
import { TandemClient, type TandemClientOptions, type BoardEvent, type BoardSubscription, type ReceivedError } from '../../sdk/index.js';
import { environmentShape } from '../../src/config.js';
import { queryRows } from './database.js';
import { createCard, rawId, type Team } from './fixtures.js';
import { readEventLog, type EventRow, type TestServer } from './server.js';

/*
 * Server processes and SDK clients for the suites that run Tandem as
 * `npm start` does (resume, instances): started per test, and stopped,
 * killed or disposed after it whatever happened.
 */
const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Cleanup steps of the current test, run after it passes or fails, last registered first. */
const cleanups: (() => unknown)[] = [];

/** Runs `cleanup` after the current test, passed or failed; the last registered runs first. */
export function afterThisTest(cleanup: () => unknown): void {
  cleanups.push(cleanup);
}

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
export async function waitFor(condition: () => boolean, describe: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// ---------------------------------------------------------------------------
// Server processes

export interface ServerProcess {
  child: ChildProcess;
  /** http://127.0.0.1:PORT/graphql, from the 'Tandem started' log line. */
  url: string;
  wsUrl: string;
  port: number;
  /** Exit code of the server process once it exits, or null when a signal ended it. */
  exited: Promise<number | null>;
  output(): string;
}

/**
 * Returns the environment for a server process: the test runner's, without
 * the variables that configure Tandem (REDIS_URL, for one, also gives the
 * tests the address of Redis), and with `env` added.
 */
export function serverEnvironment(env: Record<string, string>): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !(name in environmentShape)));
  // Tests send bursts of mutations and failed sign-ins from one address and
  // open many sockets for one user; the limit tests set their own bounds.
  return { ...inherited, LOG_LEVEL: 'info', MUTATION_RATE_LIMIT: '1000000', SIGN_IN_FAILURE_LIMIT: '10000', WS_MAX_CONNECTIONS_PER_USER: '100000', ...env };
}

/**
 * Runs src/main.ts in a child process with `env` added, and resolves once it
 * logs 'Tandem started'. The process group is killed when the test ends.
 *
 * It runs as `npm start` runs it (Node with tsx's loader). The child leads
 * its own process group and kills go to the whole group, so nothing it
 * spawned outlives the test.
 */
export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: projectRoot,
    env: serverEnvironment({ NODE_ENV: 'test', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const server = { child } as ServerProcess;
  afterThisTest(() => killServerProcess(server));

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
export async function killServerProcess(server: ServerProcess): Promise<void> {
  const group = server.child.pid;
  if (group === undefined || !groupAlive(group)) return;
  process.kill(-group, 'SIGKILL');
  await waitFor(() => !groupAlive(group), () => `process group ${group} to exit`, 10_000);
}

/** True while any process of the process group `group` runs. */
export function groupAlive(group: number): boolean {
  try {
    process.kill(-group, 0);
    return true;
  } catch {
    return false;
  }
}

/** Wraps the URL of a server in another process as a TestServer. The fixtures read only its `url`. */
export function httpTarget(url: string): TestServer {
  return { url } as TestServer;
}

// ---------------------------------------------------------------------------
// HTTP mutations

export type Outcome = 'succeeded' | 'rejected' | 'no-response';

/**
 * POSTs one mutation whose result is a union and returns how it ended. The
 * outcome is `succeeded` when the result is of `expectedType` and `rejected`
 * when the server responded with anything else. It is `no-response` when the
 * request got no HTTP response, because the server was down or died meanwhile.
 */
export async function postMutation(url: string, token: string, query: string, variables: Record<string, unknown>, field: string, expectedType: string): Promise<Outcome> {
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

export const updateCardMutation = `mutation($input: UpdateCardInput!) { updateCard(input: $input) { __typename ... on Error { code message } } }`;
export const moveCardMutation = `mutation($input: MoveCardInput!) { moveCard(input: $input) { __typename ... on Error { code message } } }`;

/** Renames a card (three times in four) or moves it between the two columns. Each success logs one event. */
export function changeCard(url: string, team: Team, cards: string[], index: number): Promise<Outcome> {
  const cardId = cards[index % cards.length]!;
  const token = index % 2 === 0 ? team.owner.token : team.member.token;
  if (index % 4 === 3) {
    const toColumnId = Math.floor(index / 4) % 2 === 0 ? team.doneId : team.todoId;
    return postMutation(url, token, moveCardMutation, { input: { cardId, toColumnId } }, 'moveCard', 'Card');
  }
  return postMutation(url, token, updateCardMutation, { input: { cardId, title: `Burst ${index}` } }, 'updateCard', 'Card');
}

export interface BurstProgress {
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
export async function runBurst(options: {
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
// The board log

/** Reads a board's counter and its event log from the database, beside the running server. */
export async function readBoardLog(databaseUrl: string, boardGlobalId: string): Promise<{ eventSequence: number; rows: EventRow[] }> {
  const boardId = rawId(boardGlobalId);
  const [board] = await queryRows<{ eventSequence: number }>(databaseUrl, 'SELECT "eventSequence" FROM "Board" WHERE "id" = ?', boardId);
  if (!board) throw new Error(`Board ${boardId} not found in ${databaseUrl}`);
  return { eventSequence: board.eventSequence, rows: await readEventLog({ databaseUrl }, boardGlobalId) };
}

/** Returns the GraphQL type name of a log type, as in the table of docs/PROTOCOL.md: CARD_UPDATED becomes CardUpdatedEvent. */
function eventTypename(logType: string): string {
  const words = logType.split('_').map((word) => word[0]! + word.slice(1).toLowerCase());
  return `${words.join('')}Event`;
}

// ---------------------------------------------------------------------------
// SDK clients

export interface Watcher {
  subscription: BoardSubscription;
  events: BoardEvent[];
  resumes: { reason: string; after: string | undefined; lastDelivered: string | undefined }[];
  expired: ReceivedError[];
  errors: ReceivedError[];
}

/** Creates a TandemClient for `wsUrl` and disposes it when the test ends. */
export function sdkClient(wsUrl: TandemClientOptions['url'], token: string, clientOptions?: ConstructorParameters<typeof TandemClient>[0]['clientOptions']): TandemClient {
  const client = new TandemClient({ url: wsUrl, webSocketImpl: WebSocket, getAccessToken: () => token, clientOptions });
  afterThisTest(() => client.dispose());
  return client;
}

/** Subscribes to a board through the SDK and records everything its callbacks receive. */
export function watchBoard(client: TandemClient, boardId: string, after?: string): Watcher {
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
  afterThisTest(() => subscription.unsubscribe());
  return { subscription, events, resumes, expired, errors };
}

/**
 * Subscribes without `after` and calls `change` until the subscription
 * delivers an event, then unsubscribes and returns that event. Polling covers
 * the time the subscription takes to start, because no client-side signal
 * reports it.
 */
export async function captureEvent(client: TandemClient, boardId: string, change: () => Promise<unknown>): Promise<BoardEvent> {
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
export function expectSequences(label: string, events: BoardEvent[], first: number, last: number): void {
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
export function expectTypenames(label: string, events: BoardEvent[], rows: EventRow[]): void {
  const typeBySequence = new Map(rows.map((row) => [row.sequence, row.type]));
  const mismatches = events
    .filter((event) => eventTypename(typeBySequence.get(event.sequence) ?? 'NOT_IN_LOG') !== event.__typename)
    .map((event) => `${event.sequence}: got ${event.__typename}, log has ${typeBySequence.get(event.sequence)}`);
  expect(mismatches.slice(0, 20), `${label}: __typename against the log`).toEqual([]);
}

/** Creates `count` cards in the To do column. */
export async function createCards(target: TestServer, team: Team, count: number): Promise<string[]> {
  const cards: string[] = [];
  for (let n = 1; n <= count; n += 1) cards.push(await createCard(target, team.owner.token, team.todoId, `Card ${n}`));
  return cards;
}

// ---------------------------------------------------------------------------
