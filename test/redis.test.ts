import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphqlData, socketClient, subscribeSocket, subscribeSse } from './support/client.js';
import { createCard, createTeam, mutate, signUp, type Team, type TestUser } from './support/fixtures.js';
import { afterThisTest } from './support/processes.js';
import { startServer, type TestServer } from './support/server.js';
import { redisUnavailable, testRedisUrl } from './support/services.js';

const skipReason = await redisUnavailable();

function rawId(globalId: string): string {
  return Buffer.from(globalId, 'base64').toString().split(':')[1]!;
}

async function waitUntil(condition: () => boolean | Promise<boolean>, description: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe.skipIf(skipReason !== null)('Redis bus across instances', () => {
  const prefix = `tandem-test-${randomUUID()}:`;
  const redis = new Redis(testRedisUrl);
  let first: TestServer;
  let second: TestServer;
  let team: Team;

  beforeAll(async () => {
    first = await startServer({ redisUrl: testRedisUrl, redisPrefix: prefix });
    // The second instance shares the first one's database, as instances share PostgreSQL.
    second = await startServer({ redisUrl: testRedisUrl, redisPrefix: prefix, databaseUrl: first.settings.databaseUrl });
    team = await createTeam(first);
  });
  afterAll(async () => {
    await second?.stop();
    await first?.stop();
    redis.disconnect();
  });

  const subscription = `subscription($b: ID!) { boardEvents(boardId: $b) { __typename sequence } }`;

  async function subscribeOn(server: TestServer) {
    const before = server.app.services.bus.listenerCount();
    const client = socketClient(server, team.viewer.token);
    const watch = subscribeSocket(client, subscription, { b: team.boardId });
    await waitUntil(() => server.app.services.bus.listenerCount() === before + 1, 'the subscription to start');
    /** Unsubscribes and waits until the server has released the subscription. */
    const close = async () => {
      watch.unsubscribe();
      await client.dispose();
      await waitUntil(() => server.app.services.bus.listenerCount() === before, 'the subscription to be released');
    };
    return { ...watch, close };
  }

  it('delivers changes from the other instance', async () => {
    const watcher = await subscribeOn(first);
    const cardId = await createCard(second, team.member.token, team.todoId, 'Made on the second instance');
    const [result] = await watcher.collector.count(1);
    expect(result!.errors).toBeUndefined();
    expect(result!.data.boardEvents.__typename).toBe('CardCreatedEvent');
    const data = await graphqlData(first, `query($id: ID!) { node(id: $id) { ... on Card { title } } }`, { id: cardId }, team.viewer.token);
    expect(data.node.title).toBe('Made on the second instance');
    await watcher.close();
  });

  it('keeps sequences gap-free across writers', async () => {
    const watcher = await subscribeOn(second);
    const board = await first.app.services.db.board.findUniqueOrThrow({ where: { id: rawId(team.boardId) } });
    const writes = Array.from({ length: 8 }, (_, index) => createCard(index % 2 ? first : second, team.member.token, team.todoId, `Writer ${index}`));
    await Promise.all(writes);
    const results = await watcher.collector.count(8);
    const sequences = results.map((result) => result.data.boardEvents.sequence);
    expect(sequences).toEqual(Array.from({ length: 8 }, (_, index) => board.eventSequence + index + 1));
    const rows = await first.app.services.db.boardEvent.findMany({ where: { boardId: board.id, sequence: { gt: board.eventSequence } }, orderBy: { sequence: 'asc' } });
    expect(rows.map((row) => row.sequence)).toEqual(sequences);
    await watcher.close();
  });

  it('ignores foreign messages on its channels', async () => {
    const watcher = await subscribeOn(first);
    const channel = `${prefix}board:${rawId(team.boardId)}`;
    await redis.publish(channel, 'not json');
    await redis.publish(channel, JSON.stringify({ hello: 'world' }));
    await mutate(second, team.member.token, 'renameBoard', { boardId: team.boardId, name: 'After the noise' }, '... on Board { id }');
    const [result] = await watcher.collector.count(1);
    expect(result!.errors).toBeUndefined();
    expect(result!.data.boardEvents.__typename).toBe('BoardRenamedEvent');
    await watcher.close();
  });

  it('releases the Redis channel on unsubscribe', async () => {
    const channel = `${prefix}board:${rawId(team.boardId)}`;
    const watcher = await subscribeOn(first);
    await waitUntil(async () => ((await redis.pubsub('NUMSUB', channel)) as [string, number])[1] >= 1, 'the channel subscription');
    await watcher.close();
    await waitUntil(async () => ((await redis.pubsub('NUMSUB', channel)) as [string, number])[1] === 0, 'the channel to be released');
  });

  it('reads events lost while disconnected', async () => {
    const watcher = await subscribeOn(first);
    // Cut the first instance's subscriber connection, then commit a change
    // whose message it cannot receive.
    const clients = (await redis.client('LIST')) as string;
    const ids = clients
      .split('\n')
      .filter((line) => line.includes(` name=${prefix}subscriber `))
      .map((line) => /id=(\d+)/.exec(line)?.[1])
      .filter(Boolean) as string[];
    expect(ids.length).toBeGreaterThan(0);
    for (const id of ids) await redis.client('KILL', 'ID', id);
    // ioredis reconnects after 200 ms at the earliest; the change commits before.
    await waitUntil(() => !first.app.services.bus.healthy(), 'the bus to notice the outage');
    const degraded = await fetch(first.url.replace('/graphql', '/ready'));
    expect(degraded.status).toBe(503);
    expect((await degraded.json()).checks.bus).toMatch(/^disconnected/);
    await mutate(second, team.member.token, 'renameBoard', { boardId: team.boardId, name: 'Renamed during the outage' }, '... on Board { id }');

    const [result] = await watcher.collector.count(1, 15_000);
    expect(result!.data.boardEvents.__typename).toBe('BoardRenamedEvent');
    const ready = await fetch(first.url.replace('/graphql', '/ready'));
    expect(ready.status).toBe(200);
    await watcher.close();
  });

  describe('sign-out across instances', () => {
    /** Signs up a viewer of the team's board on the first instance, and signs them in a second time. */
    async function viewerWithTwoSessions(): Promise<{ user: TestUser; secondToken: string }> {
      const user = await signUp(first, 'signing-out');
      await mutate(first, team.owner.token, 'addMember', { workspaceId: team.workspaceId, email: user.email, role: 'VIEWER' }, '... on Membership { id }');
      const signIn = await mutate(first, undefined, 'signIn', { email: user.email, password: 'correct horse battery' }, '... on AuthPayload { accessToken }');
      expect(signIn.__typename).toBe('AuthPayload');
      return { user, secondToken: signIn.accessToken };
    }

    /** Subscribes over WebSocket on `server` and records the socket's close codes. */
    async function socketOn(server: TestServer, token: string) {
      const before = server.app.services.bus.listenerCount();
      const client = socketClient(server, token);
      afterThisTest(() => client.dispose());
      const closeCodes: number[] = [];
      client.on('closed', (event) => closeCodes.push((event as { code: number }).code));
      const watch = subscribeSocket(client, subscription, { b: team.boardId });
      await waitUntil(() => server.app.services.bus.listenerCount() > before, 'the WebSocket subscription to start');
      return { ...watch, closeCodes };
    }

    /** Subscribes over SSE on `server`. */
    async function sseOn(server: TestServer, token: string) {
      const before = server.app.sseSessions.size;
      const sse = subscribeSse(server, subscription, { b: team.boardId }, token);
      sse.opened.catch(() => {});
      afterThisTest(() => sse.close());
      await waitUntil(() => server.app.sseSessions.size > before, 'the SSE subscription to start');
      return sse;
    }

    // Tokens live 15 minutes here, so a stream that ends within the 2 s below was ended by the notice.
    it('signOut closes sockets on the other instance', async () => {
      const { user, secondToken } = await viewerWithTwoSessions();
      const signedOut = await socketOn(second, user.token);
      const otherSession = await socketOn(second, secondToken);

      const result = await mutate(first, user.token, 'signOut', {}, '... on SignOutPayload { revokedSessions }');
      expect(result.revokedSessions).toBe(1);

      await waitUntil(() => signedOut.closeCodes.length > 0, 'the signed-out socket on the other instance to close', 2_000);
      expect(signedOut.closeCodes).toEqual([4403]);
      await createCard(first, team.member.token, team.todoId, 'After one sign-out');
      await otherSession.collector.count(1);
      expect(otherSession.closeCodes).toEqual([]);
    });

    it('signOut everywhere ends SSE and sockets elsewhere', async () => {
      const { user, secondToken } = await viewerWithTwoSessions();
      const base = second.app.sseSessions.size;
      const streams = [await sseOn(second, user.token), await sseOn(second, secondToken)];
      const socket = await socketOn(second, secondToken);
      const bystander = await sseOn(second, team.viewer.token);

      await mutate(first, user.token, 'signOut', { everywhere: true }, '... on SignOutPayload { revokedSessions }');

      for (const [index, stream] of streams.entries()) {
        await stream.collector.done(2_000);
        const errors = stream.collector.results.flatMap((result) => result.errors ?? []);
        expect(errors.map((error) => error.extensions?.code), `stream ${index}`).toEqual(['UNAUTHENTICATED']);
        expect(errors[0]!.message, `stream ${index}`).toMatch(/signed out/);
      }
      await waitUntil(() => socket.closeCodes.length > 0, 'the socket on the other instance to close', 2_000);
      expect(socket.closeCodes).toEqual([4403]);
      await createCard(first, team.member.token, team.todoId, 'After signing out everywhere');
      await bystander.collector.count(1);
      expect(bystander.collector.completed).toBe(false);
      bystander.close();
      await waitUntil(() => second.app.sseSessions.size === base, 'the SSE streams to be released');
    });

    it('ignores malformed sign-out notices', async () => {
      const { user, secondToken } = await viewerWithTwoSessions();
      const target = await socketOn(second, user.token);
      const bystander = await socketOn(second, secondToken);
      const channel = `${prefix}session:signed-out`;
      const userId = rawId(user.id);
      const malformed = ['not json', 'null', '[]', JSON.stringify({ origin: 'test', userId: 5, sessionId: null }), JSON.stringify({ origin: 'test', userId }), JSON.stringify({ userId, sessionId: null })];
      for (const message of malformed) await redis.publish(channel, message);

      // Redis delivers in order, so once this notice is handled the malformed ones were too.
      const sessionId = JSON.parse(Buffer.from(user.token.split('.')[1]!, 'base64url').toString()).sid as string;
      await redis.publish(channel, JSON.stringify({ origin: 'test', userId, sessionId }));

      await waitUntil(() => target.closeCodes.length > 0, 'the notice to close the socket', 2_000);
      expect(target.closeCodes).toEqual([4403]);
      await createCard(first, team.member.token, team.todoId, 'After the malformed notices');
      await bystander.collector.count(1);
      expect(bystander.closeCodes).toEqual([]);
    });
  });
});
