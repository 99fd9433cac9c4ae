/**
 * The benchmark scenarios. Each starts the servers it needs (once per run),
 * drives them through the load generator and returns a report section with
 * its target and verdict.
 */
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { openDatabase } from '../src/db/client.js';
import { encodeCursor } from '../src/realtime/cursor.js';
import { rawIdOf } from './lib/fixtures.js';
import { count, ms, percentiles, publishPhase, type PhaseResult } from './lib/measure.js';
import type { LoadGenerator } from './lib/processes.js';
import type { Section } from './lib/report.js';
import { moveBodies, startPeer, startTandem, startTandemPostgres, type Target, type TargetName } from './lib/targets.js';

export interface RunContext {
  quick: boolean;
  load: LoadGenerator;
  /** Loopback source addresses for subscriber sockets. */
  addresses: string[];
  /** Servers started so far; the runner stops them at the end. */
  targets: Target[];
  /** False for servers left out with --targets. */
  wants(name: TargetName): boolean;
  log(message: string): void;
}

const subscribersPerBoard = 10;

/** Boards in Tandem's fixture: enough for the capacity scenario's largest step. */
const tandemBoards = (quick: boolean) => (quick ? 200 : 6_000);
const peerBoards = (quick: boolean) => (quick ? 50 : 1_000);

const starting = new Map<TargetName, Promise<Target | { unavailable: string }>>();

/** Returns the named server, starting it on first use. */
async function target(context: RunContext, name: TargetName): Promise<Target | { unavailable: string }> {
  let promise = starting.get(name);
  if (!promise) {
    context.log(`starting ${name}`);
    promise = (async () => {
      const users = context.quick ? 5 : 50;
      const started =
        name === 'tandem'
          ? await startTandem({ boards: tandemBoards(context.quick), users })
          : name === 'tandem-postgresql'
            ? await startTandemPostgres({ boards: 200, users })
            : await startPeer(name, peerBoards(context.quick));
      if ('server' in started) context.targets.push(started);
      return started;
    })();
    starting.set(name, promise);
  }
  return promise;
}

async function available(context: RunContext, name: TargetName): Promise<Target> {
  const result = await target(context, name);
  if (!('server' in result)) throw new Error(`${name} is not available: ${result.unavailable}`);
  return result;
}

/** Subscribes `total` subscriptions spread over the target's boards, `perBoard` on each. */
async function subscribeSpread(context: RunContext, server: Target, total: number, perBoard: number, perSocket = 1) {
  const boards = server.boards.slice(0, Math.ceil(total / perBoard));
  if (boards.length * perBoard < total) throw new Error(`${server.name} has ${server.boards.length} boards, too few for ${total} subscriptions`);
  const subscriptions = Array.from({ length: total }, (_, index) => ({
    boardId: boards[Math.floor(index / perBoard)]!.id,
    token: server.tokens.length ? server.tokens[index % server.tokens.length] : undefined,
  }));
  // Spread each socket's subscriptions over boards rather than packing one board per socket.
  if (perSocket > 1) subscriptions.sort((a, b) => (a.boardId < b.boardId ? -1 : 1));
  const opened = await context.load.subscribe({ protocol: server.protocol, url: server.server.wsUrl, query: server.subscription, subscriptions, localAddresses: context.addresses, perSocket });
  if (opened < total) throw new Error(`${server.name}: only ${opened} of ${total} subscriptions opened`);
  // graphql-ws does not acknowledge a subscribe message; give the server a moment to set the streams up.
  await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 500 + total / 10)));
  return boards;
}

function deliveryRow(label: string, result: PhaseResult): string[] {
  return [
    label,
    count(result.rate),
    count(result.achievedRate),
    count(result.deliveriesPerSecond),
    `${((100 * result.delivered) / Math.max(1, result.expected)).toFixed(1)} %`,
    ms(result.delivery.p50),
    ms(result.delivery.p99),
    `${(100 * result.serverCpu).toFixed(0)} %`,
    `${(100 * result.generatorCpu).toFixed(0)} %`,
  ];
}

const deliveryHeader = ['server', 'moves/s asked', 'moves/s done', 'deliveries/s', 'delivered', 'p50 ms', 'p99 ms', 'server CPU', 'generator CPU'];

/** Returns true when the step kept its rate, delivered every event, and kept p99 under `p99Limit`. */
function keptUp(result: PhaseResult, p99Limit: number): boolean {
  return result.failed === 0 && result.skipped === 0 && result.achievedRate >= 0.97 * result.rate && result.delivered >= 0.999 * result.expected && result.delivery.p99 <= p99Limit;
}

// ---------------------------------------------------------------------------

async function fanOut(context: RunContext): Promise<Section> {
  const subscribers = context.quick ? 100 : 2_000;
  // Steps about 20 % apart, so that a server's best step is within a fifth of what it can do.
  const rates = context.quick ? [20] : [25, 30, 36, 43, 52, 62, 75, 90, 110, 130, 160, 200, 250, 300, 400, 500, 600, 800, 1_000, 1_300, 1_600];
  const seconds = context.quick ? 1 : 6;
  const rows: string[][] = [];
  const best = new Map<string, PhaseResult | undefined>();
  const firstStep = new Map<string, PhaseResult>();
  for (const name of (['ws-ceiling', 'mercurius', 'yoga', 'tandem'] as const).filter(context.wants)) {
    const server = await available(context, name);
    const board = server.boards[0]!;
    await subscribeSpread(context, server, subscribers, subscribers);
    const bodies = moveBodies(server, [board], 50);
    let passed: PhaseResult | undefined;
    for (const rate of rates) {
      const result = await publishPhase(context.load, server, bodies, rate, seconds, [subscribers]);
      context.log(`fan-out ${name} at ${rate}/s: ${count(result.deliveriesPerSecond)} deliveries/s, p99 ${ms(result.delivery.p99)} ms, server CPU ${(100 * result.serverCpu).toFixed(0)} %`);
      rows.push(deliveryRow(server.label, result));
      if (!firstStep.has(name)) firstStep.set(name, result);
      if (!keptUp(result, 100)) break;
      passed = result;
    }
    best.set(name, passed);
    await context.load.closeSockets();
  }
  // A server with no passing step is compared by its first step, which the summary states.
  const rate = (name: string) => (best.get(name) ?? firstStep.get(name))?.deliveriesPerSecond ?? 0;
  const describe = (name: string) => `${count(rate(name))}/s${best.get(name) ? '' : ' (no step passed; first step shown)'}`;
  const ceilingRatio = rate('tandem') / Math.max(1, rate('ws-ceiling'));
  const mercuriusRatio = rate('tandem') / Math.max(1, rate('mercurius'));
  return {
    id: 'fan-out',
    title: 'Fan-out: one hot board',
    shape: `${count(subscribers)} subscribers of one board, one WebSocket each; moves published over HTTP at rising fixed rates, ${seconds} s per step, until a step misses p99 under 100 ms, loses an event or cannot keep the rate.`,
    target: 'at least 0.5 × the bare ws ceiling, and at least 1.5 × Mercurius, in deliveries per second with p99 under 100 ms',
    met: best.get('tandem') !== undefined && ceilingRatio >= 0.5 && mercuriusRatio >= 1.5,
    summary: `Tandem delivered ${describe('tandem')}: ${ceilingRatio.toFixed(2)} × the ceiling (${describe('ws-ceiling')}) and ${mercuriusRatio.toFixed(2)} × Mercurius (${describe('mercurius')}); Yoga with createPubSub: ${describe('yoga')}.`,
    tables: [{ header: deliveryHeader, rows }],
  };
}

async function latency(context: RunContext): Promise<Section> {
  const counts = context.quick ? [100] : [1_000, 2_500, 5_000];
  const rate = context.quick ? 50 : 200;
  const seconds = context.quick ? 1 : 10;
  const rows: string[][] = [];
  const chart: Section['chart'] = { counts, series: [] };
  let tandemAt1000: PhaseResult | undefined;
  for (const name of (['tandem', 'mercurius', 'yoga', 'ws-ceiling'] as const).filter(context.wants)) {
    const server = await available(context, name);
    const p50: number[] = [];
    const p99: number[] = [];
    for (const total of counts) {
      const boards = await subscribeSpread(context, server, total, subscribersPerBoard);
      const result = await publishPhase(context.load, server, moveBodies(server, boards, 4), rate, seconds, [subscribersPerBoard]);
      context.log(`latency ${name} at ${total} subscribers: p50 ${ms(result.delivery.p50)} ms, p99 ${ms(result.delivery.p99)} ms`);
      rows.push(deliveryRow(`${server.label}, ${count(total)} subscribers`, result));
      p50.push(result.delivery.p50);
      p99.push(result.delivery.p99);
      if (name === 'tandem' && total === 1_000) tandemAt1000 = result;
      await context.load.closeSockets();
    }
    chart.series.push({ label: server.label, p50, p99 });
  }
  return {
    id: 'latency',
    title: 'Latency from commit to delivery',
    shape: `Subscribers in boards of ${subscribersPerBoard} (one WebSocket each), ${rate} moves/s spread over those boards for ${seconds} s. Latency is the time an event arrived at the load generator minus the \`occurredAt\` its server stamped at commit (millisecond resolution).`,
    target: 'p99 at most 25 ms at 1,000 subscribers',
    met: tandemAt1000 !== undefined && keptUp(tandemAt1000, 25),
    summary: tandemAt1000
      ? `Tandem at 1,000 subscribers: p50 ${ms(tandemAt1000.delivery.p50)} ms, p99 ${ms(tandemAt1000.delivery.p99)} ms, at ${count(tandemAt1000.achievedRate)} of the ${count(rate)} moves/s asked.`
      : 'Tandem was not measured at 1,000 subscribers in this run.',
    tables: [{ header: ['server and subscribers', ...deliveryHeader.slice(1)], rows }],
    chart,
  };
}

async function memory(context: RunContext): Promise<Section> {
  const total = context.quick ? 500 : 10_000;
  const rows: string[][] = [];
  let tandemPerConnection = Infinity;
  for (const name of (['tandem', 'mercurius', 'yoga', 'ws-ceiling'] as const).filter(context.wants)) {
    const server = await available(context, name);
    const before = await server.server.memory();
    await subscribeSpread(context, server, total, subscribersPerBoard);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const after = await server.server.memory();
    const perConnection = (after.rss - before.rss) / total;
    const heapPerConnection = (after.heapUsed + after.external - before.heapUsed - before.external) / total;
    if (name === 'tandem') tandemPerConnection = perConnection;
    context.log(`memory ${name}: ${(perConnection / 1024).toFixed(1)} KB RSS per connection`);
    rows.push([server.label, count(total), `${(perConnection / 1024).toFixed(1)} KB`, `${(heapPerConnection / 1024).toFixed(1)} KB`, `${(after.rss / 2 ** 20).toFixed(0)} MB`]);
    await context.load.closeSockets();
  }
  return {
    id: 'memory',
    title: 'Memory per idle subscriber',
    shape: `${count(total)} idle WebSockets, each holding one board subscription, in boards of ${subscribersPerBoard}. Process memory (RSS) and JavaScript heap plus external memory after two full garbage collections, before and after.`,
    target: 'at most 16 KB of process memory per connection',
    met: tandemPerConnection <= 16 * 1024,
    summary: `Tandem: ${(tandemPerConnection / 1024).toFixed(1)} KB of RSS per connection.`,
    tables: [{ header: ['server', 'connections', 'RSS per connection', 'heap + external per connection', 'RSS after'], rows }],
  };
}

async function capacity(context: RunContext): Promise<Section> {
  // One process may hold at most its open-file limit in sockets (20,000 on the
  // benchmark machine), so each socket carries five subscriptions, as an app
  // watching several boards would.
  const perSocket = 5;
  const levels = context.quick ? [1_000] : [10_000, 20_000, 30_000, 40_000, 50_000, 60_000];
  const rate = context.quick ? 50 : 200;
  const seconds = context.quick ? 1 : 8;
  const server = await available(context, 'tandem');
  const rows: string[][] = [];
  let subscribed = 0;
  let best = 0;
  let lastRate = 0;
  for (const level of levels) {
    const extra = level - subscribed;
    const boards = server.boards.slice(subscribed / subscribersPerBoard, level / subscribersPerBoard);
    const subscriptions = Array.from({ length: extra }, (_, index) => ({ boardId: boards[index % boards.length]!.id, token: server.tokens[index % server.tokens.length] }));
    const opened = await context.load.subscribe({ protocol: 'graphql-ws', url: server.server.wsUrl, query: server.subscription, subscriptions, localAddresses: context.addresses, perSocket });
    subscribed += opened;
    await new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 1_000 + extra / 5)));
    const all = server.boards.slice(0, level / subscribersPerBoard);
    const result = await publishPhase(context.load, server, moveBodies(server, all, 1), rate, seconds, [subscribersPerBoard]);
    const memoryUse = await server.server.memory();
    lastRate = result.achievedRate;
    context.log(`capacity at ${count(level)} subscriptions: p99 ${ms(result.delivery.p99)} ms, RSS ${(memoryUse.rss / 2 ** 20).toFixed(0)} MB`);
    rows.push([count(level), count(level / perSocket), ...deliveryRow('', result).slice(1), `${(memoryUse.rss / 2 ** 20).toFixed(0)} MB`]);
    // Later steps still show memory and latency when one misses the target.
    if (keptUp(result, 25) && best === subscribed - extra) best = level;
    if (opened < extra) break;
  }
  return {
    id: 'capacity',
    title: 'Capacity: subscriptions held with the latency target met',
    shape: `Subscriptions added in steps, ${perSocket} per WebSocket over boards of ${subscribersPerBoard}; at each step ${rate} moves/s for ${seconds} s; the step passes when p99 stays at most 25 ms with every event delivered.`,
    target: 'at least 50,000 subscriptions',
    met: best >= 50_000,
    summary: `${best > 0 ? `Tandem met the target up to ${count(best)} subscriptions` : 'Tandem met the target at no step'} and held ${count(subscribed)} in all; at the last step it kept ${count(lastRate)} of the ${count(rate)} moves/s asked.`,
    tables: [{ header: ['subscriptions', 'sockets', ...deliveryHeader.slice(1), 'server RSS'], rows }],
  };
}

async function writes(context: RunContext): Promise<Section> {
  const rates = context.quick ? [100] : [250, 500, 1_000, 2_000, 3_000, 4_000];
  const seconds = context.quick ? 1 : 5;
  const rows: string[][] = [];
  const best = new Map<string, number>();
  const firstStep = new Map<string, PhaseResult>();
  const notes: string[] = [];
  for (const name of (['tandem', 'tandem-postgresql'] as const).filter(context.wants)) {
    const result = await target(context, name);
    if (!('server' in result)) {
      notes.push(`${name} not measured: ${result.unavailable}.`);
      continue;
    }
    const boards = result.boards.slice(0, 200);
    const bodies = moveBodies(result, boards, 4);
    for (const rate of rates) {
      const phase = await publishPhase(context.load, result, bodies, rate, seconds, [0]);
      context.log(`writes ${name} at ${rate}/s: ${count(phase.achievedRate)}/s done, p99 ${ms(phase.response.p99)} ms, server CPU ${(100 * phase.serverCpu).toFixed(0)} %`);
      rows.push([result.label, count(rate), count(phase.achievedRate), count(phase.failed), count(phase.skipped), ms(phase.response.p50), ms(phase.response.p99), `${(100 * phase.serverCpu).toFixed(0)} %`, ms(phase.serverCpuPerRequestMs), `${(100 * phase.generatorCpu).toFixed(0)} %`]);
      if (phase.errors.length) notes.push(`${result.label} at ${rate}/s: ${phase.errors[0]}`);
      if (!firstStep.has(name)) firstStep.set(name, phase);
      const passed = phase.failed === 0 && phase.skipped === 0 && phase.achievedRate >= 0.97 * rate && phase.response.p99 <= 250;
      if (!passed) break;
      best.set(name, phase.achievedRate);
    }
  }
  const sqlite = best.get('tandem') ?? 0;
  const outcome = (name: string) =>
    best.has(name) ? `${count(best.get(name)!)} moves/s` : firstStep.has(name) ? `no step passed (${count(firstStep.get(name)!.achievedRate)} of ${count(firstStep.get(name)!.rate)} moves/s asked at the first)` : 'not measured';
  return {
    id: 'writes',
    title: 'Writes: card moves through GraphQL',
    shape: `moveCard mutations over HTTP at rising fixed rates, ${seconds} s per step, spread over 200 boards; each commits the move and its event and publishes it. A step passes when the rate is kept with no error and a response p99 at most 250 ms.`,
    target: 'at least 3,000 moves/s on SQLite; PostgreSQL reported',
    met: sqlite >= 3_000,
    summary: `Tandem on SQLite: ${outcome('tandem')}; on PostgreSQL: ${outcome('tandem-postgresql')}.`,
    tables: [{ header: ['server', 'moves/s asked', 'moves/s done', 'failed', 'skipped', 'response p50 ms', 'response p99 ms', 'server CPU', 'server CPU ms per move', 'generator CPU'], rows }],
    notes,
  };
}

async function replay(context: RunContext): Promise<Section> {
  const events = context.quick ? 500 : 10_000;
  const server = await available(context, 'tandem');
  const board = server.boards[server.boards.length - 1]!;
  const token = server.tokens[0]!;
  // One real move gives a real event row; copies of it make the log long fast.
  const moved = await fetch(server.server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: server.moveBody(board.cardIds[0]![0]!, board.columnIds[1]!),
  });
  if (!(await moved.text()).includes(server.moveSucceeded)) throw new Error('replay: the first move failed');
  const boardId = rawIdOf(board.id);
  const db = await openDatabase(server.databaseUrl!);
  try {
    const first = await db.boardEvent.findFirstOrThrow({ where: { boardId }, orderBy: { sequence: 'desc' } });
    const rows = Array.from({ length: events }, (_, index) => ({ boardId, sequence: first.sequence + 1 + index, type: first.type, payload: first.payload, actorId: first.actorId }));
    for (let start = 0; start < rows.length; start += 5_000) await db.boardEvent.createMany({ data: rows.slice(start, start + 5_000) });
    await db.board.update({ where: { id: boardId }, data: { eventSequence: first.sequence + events } });
    const timings: number[] = [];
    for (let run = 0; run < (context.quick ? 1 : 3); run += 1) {
      const client = createClient({ url: server.server.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, lazy: false });
      await new Promise<void>((resolve) => client.on('connected', () => resolve()));
      const startedAt = performance.now();
      let received = 0;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`replay stalled: ${received} of ${events} events after 60 s`)), 60_000);
        const stop = client.subscribe(
          { query: server.subscription.replace('($boardId: ID!)', '($boardId: ID!, $after: String)').replace('(boardId: $boardId)', '(boardId: $boardId, after: $after)'), variables: { boardId: board.id, after: encodeCursor(boardId, first.sequence) } },
          {
            next: (result) => {
              if (result.errors) return reject(new Error(JSON.stringify(result.errors)));
              received += 1;
              if (received === events) {
                clearTimeout(timer);
                stop();
                resolve();
              }
            },
            error: reject,
            complete: () => {},
          },
        );
      });
      timings.push(performance.now() - startedAt);
      await client.dispose();
    }
    timings.sort((a, b) => a - b);
    const median = timings[Math.floor(timings.length / 2)]!;
    context.log(`replay of ${count(events)} events: median ${ms(median)} ms`);
    return {
      id: 'replay',
      title: 'Replay to a resuming client',
      shape: `A board log of ${count(events)} card-move events after the client's cursor; one graphql-ws client subscribes with \`after\` and times the arrival of the last one. Three runs, median.`,
      target: 'at most 1 second for 10,000 events',
      met: !context.quick && median <= 1_000,
      summary: `${count(events)} events replayed in ${ms(median)} ms (runs: ${timings.map(ms).join(', ')} ms).`,
      tables: [{ header: ['events', 'median ms', 'fastest ms', 'slowest ms', 'events/s'], rows: [[count(events), ms(median), ms(timings[0]!), ms(timings[timings.length - 1]!), count(events / (median / 1000))]] }],
    };
  } finally {
    await db.$disconnect();
  }
}

async function queries(context: RunContext): Promise<Section> {
  const rates = context.quick ? [100] : [250, 500, 1_000, 2_000, 4_000, 8_000];
  const seconds = context.quick ? 1 : 5;
  const rows: string[][] = [];
  const best = new Map<string, number>();
  const firstStep = new Map<string, { rate: number; achieved: number }>();
  for (const name of (['tandem', 'yoga', 'mercurius'] as const).filter(context.wants)) {
    const server = await available(context, name);
    const bodies = server.boards.slice(0, 50).map((board, index) => ({ json: server.boardQuery(board.id), token: server.tokens[index % Math.max(1, server.tokens.length)] }));
    for (const rate of rates) {
      const cpuBefore = await server.server.cpu();
      const published = await context.load.publish({ url: server.server.url, bodies, rate, durationMs: seconds * 1000, expect: server.boardQuerySucceeded });
      const cpuAfter = await server.server.cpu();
      const achieved = published.succeeded / published.seconds;
      const response = percentiles(published.histogram);
      const cpuPerQueryMs = (cpuAfter.user + cpuAfter.system - cpuBefore.user - cpuBefore.system) / 1000 / Math.max(1, published.succeeded);
      context.log(`queries ${name} at ${rate}/s: ${count(achieved)}/s, p99 ${ms(response.p99)} ms, server CPU ${ms(cpuPerQueryMs)} ms per query`);
      rows.push([server.label, count(rate), count(achieved), count(published.failed), count(published.skipped), ms(response.p50), ms(response.p99), ms(cpuPerQueryMs)]);
      if (!firstStep.has(name)) firstStep.set(name, { rate, achieved });
      if (published.failed > 0 || published.skipped > 0 || achieved < 0.97 * rate || response.p99 > 100) break;
      best.set(name, achieved);
    }
  }
  const tandem = best.get('tandem') ?? 0;
  const mercurius = best.get('mercurius') ?? 0;
  return {
    id: 'queries',
    title: 'Queries: a board over HTTP',
    shape: `The board query (3 columns of 10 cards, with their fields) over HTTP POST at rising fixed rates, ${seconds} s per step, over 50 boards. A step passes when the rate is kept with no error and p99 at most 100 ms. Yoga and Mercurius serve the same shape from memory, resolving cards through a DataLoader.`,
    target: 'at least Mercurius on the same query',
    met: tandem >= mercurius && tandem > 0,
    summary: `Tandem kept ${tandem ? `${count(tandem)} queries/s` : `no step (${count(firstStep.get('tandem')?.achieved ?? 0)} of ${count(firstStep.get('tandem')?.rate ?? 0)} queries/s asked at the first)`}; Mercurius ${count(mercurius)} queries/s.`,
    tables: [{ header: ['server', 'queries/s asked', 'queries/s done', 'failed', 'skipped', 'p50 ms', 'p99 ms', 'server CPU ms per query'], rows }],
  };
}

/**
 * Server CPU time of a request that does nothing: `{ __typename }` over HTTP
 * POST, with an access token for Tandem. It is the cost of the HTTP and
 * GraphQL layers alone, the least any request can take, so it shows which
 * request rates a server can reach at all.
 */
async function floor(context: RunContext): Promise<Section> {
  const rate = context.quick ? 200 : 1_000;
  const seconds = context.quick ? 1 : 5;
  const rows: string[][] = [];
  const costs = new Map<string, number>();
  const cpuMs = async (server: Target) => {
    const used = await server.server.cpu();
    return (used.user + used.system) / 1000;
  };
  for (const name of (['tandem', 'yoga', 'mercurius'] as const).filter(context.wants)) {
    const server = await available(context, name);
    const bodies = [{ json: JSON.stringify({ query: '{ __typename }' }), token: server.tokens[0] }];
    // A first round lets the JIT compile the request path, so the measured round shows the steady cost.
    await context.load.publish({ url: server.server.url, bodies, rate, durationMs: seconds * 1000, expect: '"__typename":"Query"' });
    // What the server spends idle over the same time (timers, keep-alives) is not the requests' cost.
    const idleStart = await cpuMs(server);
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    const idleMs = (await cpuMs(server)) - idleStart;
    const start = await cpuMs(server);
    const published = await context.load.publish({ url: server.server.url, bodies, rate, durationMs: seconds * 1000, expect: '"__typename":"Query"' });
    const cpuPerRequestMs = ((await cpuMs(server)) - start - idleMs) / Math.max(1, published.succeeded);
    const response = percentiles(published.histogram);
    context.log(`floor ${name}: ${ms(cpuPerRequestMs)} ms of server CPU per request`);
    costs.set(server.label, cpuPerRequestMs);
    rows.push([server.label, count(published.succeeded), count(published.failed), ms(response.p50), ms(cpuPerRequestMs), count(1000 / cpuPerRequestMs)]);
  }
  return {
    id: 'floor',
    title: 'Floor: the cost of an empty request',
    shape: `\`{ __typename }\` over HTTP POST at ${rate} requests/s for ${seconds} s, after a first round as long to warm up (Tandem with an access token, so its session check is included). Server CPU per request, less what the server spends idle over as long, and the request rate one core could serve at that cost.`,
    target: 'none; it bounds the writes and queries targets',
    met: null,
    summary: [...costs].map(([label, cost]) => `${label} ${ms(cost)} ms`).join(', ') || 'not measured',
    tables: [{ header: ['server', 'requests', 'failed', 'p50 ms', 'server CPU ms per request', 'requests/s per core at that cost'], rows }],
  };
}

export const scenarios = { 'fan-out': fanOut, latency, memory, capacity, writes, replay, queries, floor };
export type ScenarioName = keyof typeof scenarios;
