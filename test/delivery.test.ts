import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { useOnResolve, type OnResolveOptions } from '@envelop/on-resolve';
import { createClient, type Client } from 'graphql-ws';
import type { Plugin } from 'graphql-yoga';
import { describe, expect, it, onTestFinished } from 'vitest';
import WebSocket from 'ws';
import type { Settings } from '../src/config.js';
import type { Services } from '../src/domain/services.js';
import { serialisation } from '../src/http/shared-json.js';
import type { Context } from '../src/schema/context.js';
import { graphqlData, scrapeMetrics, socketClient, subscribeSocket, subscribeSse, type Collector, type GraphQLResponse } from './support/client.js';
import { backupTestDatabase } from './support/database.js';
import { createCard, createTeam, mutate, type Team } from './support/fixtures.js';
import { startServer, type StartOptions, type TestServer } from './support/server.js';

/**
 * A resolver hook installed with `useOnResolve`, limited to one server.
 * useOnResolve wraps the resolvers of the schema object in place, and every
 * app in this process shares that one schema, so a hook stays installed after
 * its server stops. It runs only for operations of the server it is bound to.
 */
function resolverHook(hook: (options: OnResolveOptions<Context>) => void | Promise<void>) {
  let target: Services | undefined;
  const plugin = useOnResolve<Context>((options) => {
    if (target === undefined || options.context.services !== target) return;
    return hook(options);
  }) as Plugin;
  return {
    plugin,
    bind(server: TestServer) {
      target = server.app.services;
    },
  };
}

/** Starts a server with startServer and stops it when the test finishes. */
async function startTestServer(options: { overrides?: Partial<Settings> } & StartOptions = {}): Promise<TestServer> {
  const server = await startServer(options.overrides, options);
  onTestFinished(() => server.stop());
  return server;
}

/** Polls `condition` on every turn of the event loop until it holds, and fails after `timeoutMs` with `description()`. */
async function waitUntil(condition: () => boolean, description: () => string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${description()}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Waits until the bus has exactly `count` listeners, which shows that the test's subscriptions are live. */
async function waitForListeners(server: TestServer, count: number, timeoutMs = 10_000): Promise<void> {
  const { bus } = server.app.services;
  await waitUntil(() => bus.listenerCount() === count, () => `${count} bus listener(s); found ${bus.listenerCount()}`, timeoutMs);
}

async function eventSequenceOf(server: TestServer, token: string, boardId: string): Promise<number> {
  const data = await graphqlData(server, 'query($id: ID!) { board(id: $id) { __typename ... on Board { eventSequence } } }', { id: boardId }, token);
  expect(data.board.__typename).toBe('Board');
  return data.board.eventSequence;
}

async function updateCard(server: TestServer, token: string, input: Record<string, unknown>): Promise<void> {
  const card = await mutate(server, token, 'updateCard', input, '... on Card { id }');
  expect(card.__typename, `updateCard returned ${JSON.stringify(card)}`).toBe('Card');
}

/** Runs `count` tasks, at most `concurrency` at a time, and waits for all. */
async function runConcurrently(count: number, concurrency: number, task: (index: number) => Promise<void>): Promise<void> {
  let nextIndex = 0;
  const worker = async () => {
    while (nextIndex < count) {
      const index = nextIndex;
      nextIndex += 1;
      await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

/** Returns the sequences of a collector's results in arrival order, with -1 for a result without an event. */
function sequencesOf(collector: Collector<GraphQLResponse>): number[] {
  return collector.results.map((result) => result.data?.boardEvents?.sequence ?? -1);
}

/** Returns the integers from `first` to `last`, both included. */
function range(first: number, last: number): number[] {
  return Array.from({ length: last - first + 1 }, (_, index) => first + index);
}

/** Closes a graphql-ws client when the test finishes. */
function disposeAfterTest(client: Client): Client {
  onTestFinished(() => client.dispose());
  return client;
}

/** A decoded graphql-transport-ws message. */
interface WireMessage {
  type: string;
  id?: string;
  payload?: any;
}

/**
 * A WebSocket client that speaks graphql-transport-ws by hand, so a test can
 * stop reading from the socket or drop the connection without a close frame.
 */
class RawSocket {
  readonly messages: WireMessage[] = [];
  readonly errors: Error[] = [];
  closed = false;
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.messages.push(JSON.parse(String(data)) as WireMessage);
      this.notify();
    });
    socket.on('error', (error) => {
      this.errors.push(error);
      this.notify();
    });
    socket.on('close', () => {
      this.closed = true;
      this.notify();
    });
  }

  /** Connects and sends connection_init with `token`, then waits for the server's connection_ack. */
  static async open(server: TestServer, token: string): Promise<RawSocket> {
    const raw = new RawSocket(new WebSocket(server.wsUrl, 'graphql-transport-ws'));
    await once(raw.socket, 'open');
    raw.send({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } });
    await raw.waitFor(() => raw.messages.some((message) => message.type === 'connection_ack'), 'connection_ack');
    return raw;
  }

  send(message: WireMessage): void {
    this.socket.send(JSON.stringify(message));
  }

  subscribe(id: string, query: string, variables: Record<string, unknown>): void {
    this.send({ id, type: 'subscribe', payload: { query, variables } });
  }

  /** Messages of operation `id`, in arrival order. */
  messagesOf(id: string): WireMessage[] {
    return this.messages.filter((message) => message.id === id);
  }

  async waitFor(condition: () => boolean, description: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      const left = deadline - Date.now();
      if (left <= 0) {
        const types = this.messages.map((message) => message.type).join(', ');
        throw new Error(`Timed out after ${timeoutMs} ms waiting for ${description}, after ${this.messages.length} message(s): ${types.slice(0, 500)}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private notify(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}

/** Subscribes over graphql-ws and waits until the operation has ended, for subscriptions the server is expected to reject. */
async function rejectedSubscription(client: Client, query: string, variables: Record<string, unknown>): Promise<Collector<GraphQLResponse>> {
  const { collector } = subscribeSocket(client, query, variables);
  await collector.done();
  return collector;
}

const sequenceQuery = 'subscription($b: ID!, $after: String) { boardEvents(boardId: $b, after: $after) { sequence cursor } }';

describe('event delivery', () => {
  it('random resolver delays keep order', async () => {
    // Delays every field of the event types (sequence, cursor, card ...), so
    // events that execute concurrently would finish out of order.
    const delays = resolverHook(async ({ info }) => {
      if (!info.parentType.getInterfaces().some((type) => type.name === 'BoardEvent')) return;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
    });
    const server = await startTestServer({ plugins: [delays.plugin] });
    delays.bind(server);
    const team = await createTeam(server);
    const cardId = await createCard(server, team.owner.token, team.todoId, 'Ordered');
    const start = await eventSequenceOf(server, team.owner.token, team.boardId);
    const query = `subscription($b: ID!) { boardEvents(boardId: $b) {
      __typename sequence cursor actor { id } ... on CardUpdatedEvent { changedFields card { id title column { name } } }
    } }`;

    const base = server.app.services.bus.listenerCount();
    const client = disposeAfterTest(socketClient(server, team.viewer.token));
    const socket = subscribeSocket(client, query, { b: team.boardId });
    const sse = subscribeSse(server, query, { b: team.boardId }, team.member.token);
    onTestFinished(() => sse.close());
    await waitForListeners(server, base + 2);

    const changes = 100;
    await runConcurrently(changes, 10, (index) => updateCard(server, team.owner.token, { cardId, title: `Title ${index}` }));

    const expected = range(start + 1, start + changes);
    await socket.collector.count(changes);
    await sse.collector.count(changes);
    expect(socket.collector.results.filter((result) => result.errors)).toEqual([]);
    expect(sse.collector.results.filter((result) => result.errors)).toEqual([]);
    expect(sequencesOf(socket.collector)).toEqual(expected);
    expect(sequencesOf(sse.collector)).toEqual(expected);
  });

  it('stalled reader ends with SLOW_CONSUMER', async () => {
    const limit = 20;
    const server = await startTestServer({ overrides: { subscriptionQueueLimit: limit } });
    const { streams, bus } = server.app.services;
    const team = await createTeam(server);
    const cardId = await createCard(server, team.owner.token, team.todoId, 'Large');
    const start = await eventSequenceOf(server, team.owner.token, team.boardId);

    // Eight copies of the 10,000-character description make each event about
    // 80 kB, so the kernel's socket buffers fill after fewer changes.
    const copies = Array.from({ length: 8 }, (_, index) => `copy${index}: card { description }`).join(' ');
    const largeQuery = `subscription($b: ID!) { boardEvents(boardId: $b) { sequence ... on CardUpdatedEvent { ${copies} } } }`;

    const baseListeners = bus.listenerCount();
    const baseStreams = streams.size;
    const stalled = await RawSocket.open(server, team.viewer.token);
    onTestFinished(() => stalled.socket.terminate());
    stalled.subscribe('stalled', largeQuery, { b: team.boardId });
    const client = disposeAfterTest(socketClient(server, team.member.token));
    const normal = subscribeSocket(client, sequenceQuery, { b: team.boardId });
    await waitForListeners(server, baseListeners + 2);
    expect(streams.size).toBe(baseStreams + 2);
    stalled.socket.pause();

    const samples: { queued: number; streams: number }[] = [];
    const sample = () => samples.push({ queued: streams.queued(), streams: streams.size });
    const sampler = setInterval(sample, 1);
    onTestFinished(() => clearInterval(sampler));

    // Changes go in batches smaller than the limit, and each batch waits for
    // the normal subscriber, so only the stalled one can fall behind. The
    // burst goes on until the server has dropped the stalled stream, then
    // 20 more changes show that the normal subscriber is unaffected.
    const batch = 10;
    const maxChanges = 1_000;
    let changes = 0;
    let extraChanges = 0;
    while (changes < maxChanges && extraChanges < 20) {
      if (streams.size < baseStreams + 2) extraChanges += batch;
      await runConcurrently(batch, batch, (index) =>
        updateCard(server, team.owner.token, { cardId, description: `${changes + index} `.padEnd(10_000, 'x') }),
      );
      changes += batch;
      sample();
      await normal.collector.count(changes, 5_000);
      sample();
    }
    clearInterval(sampler);

    // The server ended the stalled stream without waiting for its client to read.
    expect(streams.size, `the stalled stream was still open after ${changes} changes`).toBe(baseStreams + 1);
    expect(bus.listenerCount()).toBe(baseListeners + 1);

    expect(normal.collector.results.filter((result) => result.errors)).toEqual([]);
    expect(sequencesOf(normal.collector)).toEqual(range(start + 1, start + changes));
    expect(normal.collector.completed).toBe(false);

    const overLimit = samples.filter((entry) => entry.queued > limit * entry.streams);
    expect(overLimit).toEqual([]);
    await waitUntil(() => streams.queued() === 0, () => `no queued events; found ${streams.queued()}`);

    stalled.socket.resume();
    await stalled.waitFor(() => stalled.messagesOf('stalled').some((message) => message.type === 'complete'), 'complete of the stalled subscription');
    const messages = stalled.messagesOf('stalled');
    const last = messages.at(-1)!;
    const failure = messages.at(-2)!;
    expect(last.type).toBe('complete');
    expect(failure.type).toBe('next');
    expect(failure.payload.errors?.[0]?.extensions?.code).toBe('SLOW_CONSUMER');
    const delivered = messages.slice(0, -2);
    expect(delivered.every((message) => message.type === 'next' && !message.payload.errors)).toBe(true);
    expect(delivered.map((message) => message.payload.data.boardEvents.sequence)).toEqual(range(start + 1, start + delivered.length));
    expect(delivered.length).toBeLessThan(changes);
    expect(stalled.closed).toBe(false);

    const metrics = await scrapeMetrics(server);
    expect(metrics.get('tandem_slow_consumer_ends_total{transport="websocket"}')).toBe(1);
    expect(metrics.get('tandem_errors_total{code="SLOW_CONSUMER"}')).toBe(1);
  });

  it('member removal ends every board', async () => {
    const server = await startTestServer();
    const team = await createTeam(server);
    const second = await mutate(server, team.owner.token, 'createBoard', { workspaceId: team.workspaceId, name: 'Second' }, '... on Board { id }');
    const secondColumn = await mutate(server, team.owner.token, 'createColumn', { boardId: second.id, name: 'Backlog' }, '... on Column { id }');
    const boards = [
      { boardId: team.boardId as string, columnId: team.todoId },
      { boardId: second.id as string, columnId: secondColumn.id as string },
    ];
    const query = 'subscription($b: ID!) { boardEvents(boardId: $b) { __typename sequence ... on MemberRemovedEvent { member { id } } } }';

    const base = server.app.services.bus.listenerCount();
    const memberClient = disposeAfterTest(socketClient(server, team.member.token));
    const viewerClient = disposeAfterTest(socketClient(server, team.viewer.token));
    const watches = boards.map((board) => ({
      ...board,
      member: subscribeSocket(memberClient, query, { b: board.boardId }).collector,
      viewer: subscribeSocket(viewerClient, query, { b: board.boardId }).collector,
    }));
    await waitForListeners(server, base + 4);

    // Before the removal: one card per board, with the member assigned, so
    // removeMember logs CARD_UNASSIGNED events after MEMBER_REMOVED.
    for (const watch of watches) {
      const cardId = await createCard(server, team.owner.token, watch.columnId, 'Assigned');
      const assigned = await mutate(server, team.owner.token, 'assignCard', { cardId, userId: team.member.id }, '... on Card { id }');
      expect(assigned.__typename).toBe('Card');
      await watch.member.count(2);
    }

    const removed = await mutate(server, team.owner.token, 'removeMember', { workspaceId: team.workspaceId, userId: team.member.id }, '... on RemovedMember { userId }');
    expect(removed.__typename).toBe('RemovedMember');
    for (const watch of watches) {
      await createCard(server, team.owner.token, watch.columnId, 'After removal');
    }

    for (const watch of watches) {
      // The viewer sees CARD_CREATED, CARD_ASSIGNED, MEMBER_REMOVED,
      // CARD_UNASSIGNED and CARD_CREATED: everything the member must miss.
      await watch.viewer.count(5);
      const types = watch.viewer.results.map((result) => result.data?.boardEvents?.__typename);
      expect(types).toEqual(['CardCreatedEvent', 'CardAssignedEvent', 'MemberRemovedEvent', 'CardUnassignedEvent', 'CardCreatedEvent']);
      const removal = watch.viewer.results[2]!.data.boardEvents;
      expect(removal.member.id).toBe(team.member.id);

      await watch.member.done();
      expect(watch.member.errors).toEqual([]);
      expect(watch.member.results).toHaveLength(3);
      expect(sequencesOf(watch.member).slice(0, 2)).toEqual([removal.sequence - 2, removal.sequence - 1]);
      const ending = watch.member.results[2]!;
      expect(ending.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(ending.data?.boardEvents ?? null).toBeNull();
    }
    await waitForListeners(server, base + 2);
  });

  describe('cursor errors', () => {
    it('malformed cursor fails validation', async () => {
      const server = await startTestServer();
      const team = await createTeam(server);
      const client = disposeAfterTest(socketClient(server, team.viewer.token));
      const randomText = Buffer.from(`random text ${randomBytes(12).toString('hex')}`).toString('base64');

      for (const after of ['garbage', randomText]) {
        const collector = await rejectedSubscription(client, sequenceQuery, { b: team.boardId, after });
        expect(collector.results, `after: ${after}`).toHaveLength(1);
        const error = collector.results[0]!.errors?.[0];
        expect(error?.extensions?.code, `after: ${after}`).toBe('VALIDATION_FAILED');
        expect(error?.extensions?.field, `after: ${after}`).toBe('after');
      }
      expect(server.app.services.streams.size).toBe(0);
    });

    it('cursor of another board fails', async () => {
      const server = await startTestServer();
      const team = await createTeam(server);
      const other = await mutate(server, team.owner.token, 'createBoard', { workspaceId: team.workspaceId, name: 'Other' }, '... on Board { id }');
      const client = disposeAfterTest(socketClient(server, team.viewer.token));
      const base = server.app.services.bus.listenerCount();
      const { collector } = subscribeSocket(client, sequenceQuery, { b: other.id });
      await waitForListeners(server, base + 1);
      await mutate(server, team.owner.token, 'createColumn', { boardId: other.id, name: 'Elsewhere' }, '... on Column { id }');
      const [event] = await collector.count(1);
      const otherCursor = event!.data.boardEvents.cursor as string;

      const rejected = await rejectedSubscription(client, sequenceQuery, { b: team.boardId, after: otherCursor });
      expect(rejected.results).toHaveLength(1);
      const error = rejected.results[0]!.errors?.[0];
      expect(error?.extensions?.code).toBe('VALIDATION_FAILED');
      expect(error?.extensions?.field).toBe('after');

      // Control: the same cursor resumes its own board.
      const resumed = subscribeSocket(client, sequenceQuery, { b: other.id, after: otherCursor });
      await waitForListeners(server, base + 2);
      await mutate(server, team.owner.token, 'renameBoard', { boardId: other.id, name: 'Other, renamed' }, '... on Board { id }');
      await resumed.collector.count(1);
      expect(sequencesOf(resumed.collector)).toEqual([event!.data.boardEvents.sequence + 1]);
    });

    it('pruned cursor is expired', async () => {
      const server = await startTestServer({ overrides: { eventRetentionCount: 100 } });
      const team = await createTeam(server);
      const cardId = await createCard(server, team.owner.token, team.todoId, 'Busy');
      const client = disposeAfterTest(socketClient(server, team.viewer.token));
      const base = server.app.services.bus.listenerCount();
      const { collector, unsubscribe } = subscribeSocket(client, sequenceQuery, { b: team.boardId });
      await waitForListeners(server, base + 1);
      const changes = 300;
      await runConcurrently(changes, 5, (index) => updateCard(server, team.owner.token, { cardId, title: `Busy ${index}` }));
      const events = (await collector.count(changes)).map((result) => result.data.boardEvents as { sequence: number; cursor: string });
      unsubscribe();
      await waitForListeners(server, base);

      const deleted = await server.app.pruneEventLog();
      const newest = events.at(-1)!.sequence;
      expect(deleted).toBe(newest - 100);

      const expired = await rejectedSubscription(client, sequenceQuery, { b: team.boardId, after: events[5]!.cursor });
      expect(expired.results).toHaveLength(1);
      expect(expired.results[0]!.errors?.[0]?.extensions?.code).toBe('CURSOR_EXPIRED');

      // Control: a cursor inside the kept log replays the rest of it in order.
      const kept = events.at(-50)!;
      const replay = subscribeSocket(client, sequenceQuery, { b: team.boardId, after: kept.cursor });
      await replay.collector.count(49);
      expect(replay.collector.results.filter((result) => result.errors)).toEqual([]);
      expect(sequencesOf(replay.collector)).toEqual(range(kept.sequence + 1, newest));
    });

    it('cursor ahead of log fails', async () => {
      // A server restored from an earlier copy of the database has a shorter
      // log than the one that issued the cursor.
      const server = await startTestServer();
      const team = await createTeam(server);
      const backup = await backupTestDatabase(server.databaseUrl);
      const restoredSequence = await eventSequenceOf(server, team.owner.token, team.boardId);

      const client = disposeAfterTest(socketClient(server, team.viewer.token));
      const base = server.app.services.bus.listenerCount();
      const { collector } = subscribeSocket(client, sequenceQuery, { b: team.boardId });
      await waitForListeners(server, base + 1);
      for (let index = 0; index < 3; index += 1) {
        await mutate(server, team.owner.token, 'renameBoard', { boardId: team.boardId, name: `Ahead ${index}` }, '... on Board { id }');
      }
      const [, , newest] = await collector.count(3);
      const aheadCursor = newest!.data.boardEvents.cursor as string;

      const restored = await startTestServer({ databaseFrom: backup });
      expect(await eventSequenceOf(restored, team.owner.token, team.boardId)).toBe(restoredSequence);
      const restoredClient = disposeAfterTest(socketClient(restored, team.viewer.token));
      const rejected = await rejectedSubscription(restoredClient, sequenceQuery, { b: team.boardId, after: aheadCursor });
      expect(rejected.results).toHaveLength(1);
      const error = rejected.results[0]!.errors?.[0];
      expect(error?.extensions?.code).toBe('VALIDATION_FAILED');
      expect(error?.extensions?.field).toBe('after');
      expect(restored.app.services.streams.size).toBe(0);
    });
  });

  it('listener churn leaves no leaks', async () => {
    const server = await startTestServer();
    const { bus, streams } = server.app.services;
    const team = await createTeam(server);
    const baseListeners = bus.listenerCount();
    const baseStreams = streams.size;
    const leaks = () => `baseline of ${baseListeners} listener(s) and ${baseStreams} stream(s); found ${bus.listenerCount()} and ${streams.size}`;
    const atBaseline = () => bus.listenerCount() === baseListeners && streams.size === baseStreams;

    // 1,000 cycles on one socket. Every fourth subscription is dropped at
    // once, possibly before the server has opened its stream. The others are
    // dropped once live.
    let connections = 0;
    const client = disposeAfterTest(
      createClient({
        url: server.wsUrl,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${team.viewer.token}` },
        retryAttempts: 0,
        lazy: false,
        on: { connected: () => (connections += 1) },
      }),
    );
    for (let cycle = 0; cycle < 1_000; cycle += 1) {
      const { unsubscribe } = subscribeSocket(client, sequenceQuery, { b: team.boardId });
      if (cycle % 4 === 3) {
        unsubscribe();
        continue;
      }
      await waitUntil(() => bus.listenerCount() > baseListeners, () => `cycle ${cycle} to go live; ${leaks()}`);
      unsubscribe();
      await waitUntil(atBaseline, () => `cycle ${cycle} to release its stream; ${leaks()}`);
    }
    expect(connections).toBe(1);

    // 100 SSE requests in batches of 10. In each batch, 3 are aborted at
    // once and 7 once live.
    for (let batch = 0; batch < 10; batch += 1) {
      const requests = Array.from({ length: 10 }, () => subscribeSse(server, sequenceQuery, { b: team.boardId }, team.viewer.token));
      for (const request of requests) request.opened.catch(() => {});
      for (const request of requests.slice(0, 3)) request.close();
      await waitUntil(() => bus.listenerCount() >= baseListeners + 7, () => `7 live SSE subscriptions in batch ${batch}; ${leaks()}`);
      for (const request of requests.slice(3)) request.close();
      await waitUntil(atBaseline, () => `SSE batch ${batch} to release its streams; ${leaks()}`);
    }

    // 50 sockets dropped without a close frame: 40 while an event is on its
    // way to them, and 10 right after sending subscribe.
    const cardId = await createCard(server, team.owner.token, team.todoId, 'Churn');
    const sockets = await Promise.all(Array.from({ length: 50 }, () => RawSocket.open(server, team.viewer.token)));
    sockets.forEach((raw, index) => raw.subscribe(`churn-${index}`, sequenceQuery, { b: team.boardId }));
    for (const raw of sockets.slice(40)) raw.socket.terminate();
    await waitUntil(() => bus.listenerCount() >= baseListeners + 40, () => `40 live raw subscriptions; ${leaks()}`);
    const change = updateCard(server, team.owner.token, { cardId, title: 'Churning' });
    for (const raw of sockets.slice(0, 40)) raw.socket.terminate();
    await change;

    await waitUntil(atBaseline, () => `every stream to be released; ${leaks()}`);
    expect(bus.listenerCount()).toBe(baseListeners);
    expect(streams.size).toBe(baseStreams);
    expect(streams.queued()).toBe(0);
  });

  it('1,000 subscribers share executions', async () => {
    const server = await startTestServer();
    const { bus } = server.app.services;
    const team = await createTeam(server);
    const cardId = await createCard(server, team.owner.token, team.todoId, 'Shared');
    const start = await eventSequenceOf(server, team.owner.token, team.boardId);
    const query = 'subscription($b: ID!) { boardEvents(boardId: $b) { sequence cursor ... on CardUpdatedEvent { card { id title } } } }';
    const variables = { b: team.boardId };

    const base = bus.listenerCount();
    const clients = Array.from({ length: 10 }, () => disposeAfterTest(socketClient(server, team.owner.token)));
    const owners = Array.from({ length: 1_000 }, (_, index) => subscribeSocket(clients[index % clients.length]!, query, variables).collector);
    await waitForListeners(server, base + 1_000, 20_000);

    const executionsBefore = server.app.sharedExecutions.executions;
    const serialisedBefore = serialisation.results;
    const changes = 5;
    for (let index = 0; index < changes; index += 1) {
      await updateCard(server, team.owner.token, { cardId, title: `Shared ${index}` });
    }
    const expected = range(start + 1, start + changes);
    for (const owner of owners) await owner.count(changes);
    const wrong = owners.filter((owner) => JSON.stringify(sequencesOf(owner)) !== JSON.stringify(expected));
    expect(wrong.length, `subscribers with other sequences than ${expected}`).toBe(0);
    const executions = server.app.sharedExecutions.executions - executionsBefore;
    const serialised = serialisation.results - serialisedBefore;
    expect(executions).toBeGreaterThanOrEqual(changes);
    expect(executions).toBeLessThanOrEqual(2 * changes);
    // Soft, so that the checks of other scopes below still run when sharing fails here.
    expect.soft(serialised, 'WebSocket result serialisations for 5 events to 1,000 subscribers').toBeGreaterThanOrEqual(changes);
    expect.soft(serialised, 'WebSocket result serialisations for 5 events to 1,000 subscribers').toBeLessThanOrEqual(2 * changes);

    // A VIEWER and a MEMBER with the same document are two more scopes, each
    // executed once per event. An outsider is rejected and gets nothing.
    const viewerClient = disposeAfterTest(socketClient(server, team.viewer.token));
    const memberClient = disposeAfterTest(socketClient(server, team.member.token));
    const outsiderClient = disposeAfterTest(socketClient(server, team.outsider.token));
    const viewer = subscribeSocket(viewerClient, query, variables).collector;
    const member = subscribeSocket(memberClient, query, variables).collector;
    const outsider = subscribeSocket(outsiderClient, query, variables).collector;
    await waitForListeners(server, base + 1_002);
    await outsider.done();

    const scopedBefore = server.app.sharedExecutions.executions;
    const scopedSerialisedBefore = serialisation.results;
    for (let index = 0; index < changes; index += 1) {
      await updateCard(server, team.owner.token, { cardId, title: `Scoped ${index}` });
    }
    const scopedExpected = range(start + changes + 1, start + 2 * changes);
    await viewer.count(changes);
    await member.count(changes);
    for (const owner of owners) await owner.count(2 * changes);
    expect(sequencesOf(viewer)).toEqual(scopedExpected);
    expect(sequencesOf(member)).toEqual(scopedExpected);
    const scopedExecutions = server.app.sharedExecutions.executions - scopedBefore;
    const scopedSerialised = serialisation.results - scopedSerialisedBefore;
    expect(scopedExecutions).toBeGreaterThanOrEqual(3 * changes);
    expect(scopedExecutions).toBeLessThanOrEqual(2 * 3 * changes);
    expect.soft(scopedSerialised, 'WebSocket result serialisations for 5 events in 3 scopes').toBeLessThanOrEqual(2 * 3 * changes);

    expect(outsider.results).toHaveLength(1);
    expect(outsider.results[0]!.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(outsider.results[0]!.data?.boardEvents ?? null).toBeNull();
  });

  it('failing query ends only itself', async () => {
    // Throws in the `broken` alias from the second event on. The other
    // subscription does not select that alias.
    let firstSequence = Number.POSITIVE_INFINITY;
    const breaker = resolverHook(({ info, root }) => {
      if (info.path.key !== 'broken') return;
      if ((root as { sequence: number }).sequence > firstSequence) throw new Error('resolver failed on purpose');
    });
    const server = await startTestServer({ plugins: [breaker.plugin] });
    breaker.bind(server);
    const team = await createTeam(server);
    const start = await eventSequenceOf(server, team.owner.token, team.boardId);
    firstSequence = start + 1;

    let connections = 0;
    let closes = 0;
    const client = disposeAfterTest(
      createClient({
        url: server.wsUrl,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${team.viewer.token}` },
        retryAttempts: 0,
        on: { connected: () => (connections += 1), closed: () => (closes += 1) },
      }),
    );
    const base = server.app.services.bus.listenerCount();
    const failing = subscribeSocket(client, 'subscription($b: ID!) { boardEvents(boardId: $b) { sequence broken: sequence } }', { b: team.boardId }).collector;
    const healthy = subscribeSocket(client, 'subscription($b: ID!) { boardEvents(boardId: $b) { sequence cursor } }', { b: team.boardId }).collector;
    await waitForListeners(server, base + 2);

    const rename = (index: number) => mutate(server, team.owner.token, 'renameBoard', { boardId: team.boardId, name: `Name ${index}` }, '... on Board { id }');
    await rename(0);
    await rename(1);
    await failing.done();
    await waitForListeners(server, base + 1);
    for (let index = 2; index < 5; index += 1) await rename(index);
    await healthy.count(5);

    expect(failing.errors).toEqual([]);
    expect(failing.results).toHaveLength(2);
    expect(failing.results[0]!.errors).toBeUndefined();
    expect(failing.results[0]!.data.boardEvents).toEqual({ sequence: start + 1, broken: start + 1 });
    const error = failing.results[1]!.errors?.[0];
    expect(error?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    expect(error?.path).toEqual(['boardEvents', 'broken']);

    expect(healthy.results.filter((result) => result.errors)).toEqual([]);
    expect(sequencesOf(healthy)).toEqual(range(start + 1, start + 5));
    expect(healthy.completed).toBe(false);
    expect(connections).toBe(1);
    expect(closes).toBe(0);
  });
});
