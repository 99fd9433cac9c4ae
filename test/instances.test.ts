import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateDatabase } from '../src/db/migrate.js';
import { graphql, socketClient, subscribeSocket } from './support/client.js';
import { adminQuery, testDatabase } from './support/database.js';
import { createTeam, type Team } from './support/fixtures.js';
import { PrivatePostgres, PrivateRedis } from './support/private-services.js';
import {
  afterThisTest,
  captureEvent,
  changeCard,
  createCards,
  expectSequences,
  expectTypenames,
  httpTarget,
  killServerProcess,
  readBoardLog,
  runBurst,
  sdkClient,
  startServerProcess,
  waitFor,
  watchBoard,
  type ServerProcess,
} from './support/processes.js';
import { testTokenSecret, type TestServer } from './support/server.js';

/*
 * Several Tandem processes on one PostgreSQL and one Redis, both started by
 * this suite in temporary folders on free ports, so it may stop and restart
 * them. The machine's shared servers are never restarted. It runs in the
 * PostgreSQL project of the suite.
 */

function skipReason(): string | null {
  if (testDatabase !== 'postgresql') return 'it runs in the postgresql project';
  const missing = PrivatePostgres.unavailable() ?? PrivateRedis.unavailable();
  if (missing === null) return null;
  if (process.env.REQUIRE_SERVICES === '1') throw new Error(`REQUIRE_SERVICES=1, but the instances suite cannot run: ${missing}.`);
  console.log(`Skipping the instances suite: ${missing}.`);
  return missing;
}

const presenceTtlSeconds = 2;

describe.skipIf(skipReason() !== null)('several instances', () => {
  let postgres: PrivatePostgres;
  let redis: PrivateRedis;
  let databaseUrl: string;

  beforeAll(async () => {
    [postgres, redis] = await Promise.all([PrivatePostgres.create(), PrivateRedis.create()]);
    await adminQuery('CREATE DATABASE tandem', postgres.url());
    databaseUrl = postgres.url('tandem');
    await migrateDatabase(databaseUrl);
  }, 120_000);

  afterAll(async () => {
    await redis?.stop();
    await postgres?.destroy();
  });

  /** Starts `count` instances sharing the database, Redis and a key prefix of this test's own. */
  async function startInstances(count: number): Promise<ServerProcess[]> {
    const env = {
      HOST: '127.0.0.1',
      PORT: '0',
      DATABASE_URL: databaseUrl,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: `tandem-instances-${randomUUID()}:`,
      TOKEN_SECRET: testTokenSecret,
      PRESENCE_TTL_SECONDS: String(presenceTtlSeconds),
    };
    return Promise.all(Array.from({ length: count }, () => startServerProcess(env)));
  }

  const target = (instance: ServerProcess): TestServer => ({ ...httpTarget(instance.url), wsUrl: instance.wsUrl }) as TestServer;

  async function readiness(instance: ServerProcess): Promise<{ status: number; body: { status: string; checks: Record<string, string> } }> {
    const response = await fetch(instance.url.replace('/graphql', '/ready'));
    return { status: response.status, body: await response.json() };
  }

  /** Runs `total` card changes, spread over the given instances with `concurrency` in flight, and asserts they all succeeded. */
  async function writeThrough(instances: ServerProcess[], team: Team, cards: string[], total: number, concurrency: number, offset = 0) {
    const progress = await runBurst({ total, concurrency, attempt: (index) => changeCard(instances[index % instances.length]!.url, team, cards, offset + index) });
    expect(progress.succeeded, `changes that succeeded of ${total}`).toBe(total);
  }

  /** Waits until every watcher has reached the board's newest sequence, then checks each against the log. */
  async function expectEveryEvent(watchers: ReturnType<typeof watchBoard>[], team: Team, first: number) {
    const log = await readBoardLog(databaseUrl, team.boardId);
    expect(log.rows.map((row) => row.sequence), 'log sequences').toEqual(Array.from({ length: log.eventSequence }, (_, i) => i + 1));
    await waitFor(
      () => watchers.every((watcher) => (watcher.events.at(-1)?.sequence ?? 0) >= log.eventSequence || watcher.errors.length > 0),
      () => `every watcher to reach ${log.eventSequence}; reached ${watchers.map((w) => w.events.at(-1)?.sequence ?? 0).join(',')}`,
      30_000,
    );
    watchers.forEach((watcher, n) => {
      expect(watcher.errors, `watcher ${n}: onError calls`).toEqual([]);
      expectSequences(`watcher ${n}`, watcher.events, first, log.eventSequence);
      expectTypenames(`watcher ${n}`, watcher.events, log.rows);
    });
  }

  it('delivers across instances with eight writers', { timeout: 90_000 }, async () => {
    const instances = await startInstances(3);
    const [a, b, c] = instances as [ServerProcess, ServerProcess, ServerProcess];
    const team = await createTeam(target(a));
    const cards = await createCards(target(b), team, 4);
    let marks = 0;
    const start = await captureEvent(sdkClient(c.wsUrl, team.owner.token), team.boardId, () => changeCard(c.url, team, cards, 4 * marks++));
    // Watchers on every instance, each from the same cursor.
    const watchers = instances.flatMap((instance) => [team.owner, team.viewer].map((user) => watchBoard(sdkClient(instance.wsUrl, user.token), team.boardId, start.cursor)));

    // Eight writers, half through A and half through B, on one board.
    await writeThrough([a, b], team, cards, 400, 8);
    await expectEveryEvent(watchers, team, start.sequence + 1);
  });

  it('resumes on another instance after SIGKILL', { timeout: 90_000 }, async () => {
    const [a, b] = await startInstances(2);
    const team = await createTeam(target(b!));
    const cards = await createCards(target(b!), team, 4);
    let marks = 0;
    const start = await captureEvent(sdkClient(b!.wsUrl, team.owner.token), team.boardId, () => changeCard(b!.url, team, cards, 4 * marks++));
    // Like clients behind a load balancer: each connection goes to a live instance.
    let live = a!;
    const watchers = Array.from({ length: 6 }, () => watchBoard(sdkClient(() => live.wsUrl, team.member.token), team.boardId, start.cursor));

    let killed: Promise<void> | undefined;
    const progress = await runBurst({
      total: 600,
      concurrency: 4,
      attempt: (index) => changeCard(b!.url, team, cards, index),
      onCompleted: (current) => {
        if (!killed && current.completed >= 200) {
          killed = killServerProcess(a!).then(() => {
            live = b!;
          });
        }
      },
    });
    await killed;
    expect(progress.succeeded).toBe(600);
    await expectEveryEvent(watchers, team, start.sequence + 1);
    for (const watcher of watchers) expect(watcher.resumes.map((resume) => resume.reason)).toContain('disconnected');
  });

  it('loses nothing when Redis restarts mid-stream', { timeout: 90_000 }, async () => {
    const [a, b] = await startInstances(2);
    const team = await createTeam(target(a!));
    const cards = await createCards(target(a!), team, 4);
    let marks = 0;
    const start = await captureEvent(sdkClient(a!.wsUrl, team.owner.token), team.boardId, () => changeCard(b!.url, team, cards, 4 * marks++));
    const watchers = Array.from({ length: 4 }, () => watchBoard(sdkClient(a!.wsUrl, team.viewer.token), team.boardId, start.cursor));

    await writeThrough([b!], team, cards, 50, 2);
    await redis.stop();
    // Mutations still commit while Redis is down, and readiness reports what is wrong.
    await writeThrough([b!], team, cards, 50, 2, 50);
    for (const instance of [a!, b!]) {
      const ready = await readiness(instance);
      expect(ready.status).toBe(503);
      expect(ready.body.checks.bus).toMatch(/^disconnected/);
      expect(ready.body.checks.database).toBe('ok');
    }
    await redis.start();
    await writeThrough([b!], team, cards, 50, 2, 100);
    await expectEveryEvent(watchers, team, start.sequence + 1);
    for (const instance of [a!, b!]) expect((await readiness(instance)).status).toBe(200);
  });

  it('answers DATABASE_UNAVAILABLE while PostgreSQL restarts', { timeout: 90_000 }, async () => {
    const [a] = await startInstances(1);
    const team = await createTeam(target(a!));
    const cards = await createCards(target(a!), team, 2);
    let marks = 0;
    const start = await captureEvent(sdkClient(a!.wsUrl, team.owner.token), team.boardId, () => changeCard(a!.url, team, cards, 4 * marks++));
    const watcher = watchBoard(sdkClient(a!.wsUrl, team.viewer.token), team.boardId, start.cursor);

    await postgres.stop();
    afterThisTest(() => postgres.start().catch(() => undefined));
    const query = 'mutation($input: UpdateCardInput!) { updateCard(input: $input) { __typename } }';
    const response = await fetch(a!.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${team.owner.token}` },
      body: JSON.stringify({ query, variables: { input: { cardId: cards[0], title: 'During the outage' } } }),
    });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('2');
    const body = await response.json();
    expect(body.errors[0].extensions.code).toBe('DATABASE_UNAVAILABLE');
    expect(body.errors[0].message).toMatch(/database is unreachable.*Retry/);
    const ready = await readiness(a!);
    expect(ready.status).toBe(503);
    expect(ready.body.checks.database).toMatch(/^unreachable/);
    expect(a!.child.exitCode, 'the server process is still running').toBeNull();

    await postgres.start();
    // The same process recovers: broken connections are replaced on next use.
    await writeThrough([a!], team, cards, 20, 2);
    expect((await readiness(a!)).status).toBe(200);
    await expectEveryEvent([watcher], team, start.sequence + 1);
    const log = await readBoardLog(databaseUrl, team.boardId);
    expect(log.rows.some((row) => row.type === 'CARD_UPDATED'), 'changes after the restart are logged').toBe(true);
  });

  it('shares presence and expires a crashed instance', { timeout: 60_000 }, async () => {
    const [a, b] = await startInstances(2);
    const team = await createTeam(target(a!));
    const subscription = `subscription($b: ID!) { presence(boardId: $b) {
      __typename
      ... on PresenceSnapshot { you { id } sessions { id user { id } } }
      ... on PresenceJoined { session { id user { id } } }
      ... on PresenceLeft { session { id user { id } } }
      ... on PresenceFocusChanged { session { id focusedCard { id } } }
    } }`;
    const ownerClient = socketClient(target(a!), team.owner.token);
    afterThisTest(() => ownerClient.dispose());
    const owner = subscribeSocket(ownerClient, subscription, { b: team.boardId });
    await owner.collector.count(1);
    const memberClient = socketClient(target(b!), team.member.token);
    afterThisTest(() => memberClient.dispose());
    const member = subscribeSocket(memberClient, subscription, { b: team.boardId });
    const [memberSnapshot] = await member.collector.count(1);
    const memberSession = memberSnapshot!.data.presence.you.id as string;

    // Each session lists the other, though they are on different instances.
    expect(memberSnapshot!.data.presence.sessions.map((session: { user: { id: string } }) => session.user.id).sort()).toEqual([team.owner.id, team.member.id].sort());
    await owner.collector.until(() => owner.collector.results.some((r) => r.data?.presence.__typename === 'PresenceJoined' && r.data.presence.session.id === memberSession), 'the member to join');

    // A focus set through instance A reaches the member's session held by B.
    const cardId = (await createCards(target(a!), team, 1))[0]!;
    const focus = await graphql(
      target(a!),
      'mutation($input: SetFocusInput!) { setFocus(input: $input) { __typename ... on MutationSetFocusSuccess { data { id focusedCard { id } } } } }',
      { input: { boardId: team.boardId, cardId } },
      team.member.token,
    );
    expect(focus.errors).toBeUndefined();
    expect(focus.data.setFocus).toEqual({ __typename: 'MutationSetFocusSuccess', data: [{ id: memberSession, focusedCard: { id: cardId } }] });
    for (const watcher of [owner, member]) {
      await watcher.collector.until(() => watcher.collector.results.some((r) => r.data?.presence.__typename === 'PresenceFocusChanged' && r.data.presence.session.focusedCard?.id === cardId), 'the focus change');
    }

    // B dies without a word: its session expires, and A announces the leave.
    const killedAt = Date.now();
    await killServerProcess(b!);
    await owner.collector.until(
      () => owner.collector.results.some((r) => r.data?.presence.__typename === 'PresenceLeft' && r.data.presence.session.id === memberSession),
      'the crashed instance’s session to leave',
      15_000,
    );
    const elapsed = (Date.now() - killedAt) / 1000;
    // Documented bound: the TTL plus a third of it, plus scheduling slack.
    expect(elapsed).toBeLessThan(presenceTtlSeconds * (4 / 3) + 1.5);
  });
});
