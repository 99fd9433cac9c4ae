import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { createTestDatabase } from './support/database.js';
import type { BoardEvent, ReceivedError } from '../sdk/index.js';
import { encodeCursor } from '../src/realtime/cursor.js';
import { createCard, createTeam, mutate, rawId } from './support/fixtures.js';
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
  type BurstProgress,
} from './support/processes.js';
import { startServer, testTokenSecret } from './support/server.js';

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
    afterThisTest(() => server.stop());
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
    afterThisTest(() => server.stop());
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
    afterThisTest(() => server.stop());
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
    afterThisTest(() => server.stop());
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

  it('replays a long log in batched reads', async () => {
    const server = await startServer();
    afterThisTest(() => server.stop());
    const team = await createTeam(server);
    const cardId = await createCard(server, team.owner.token, team.todoId, 'Moved back and forth');
    const start = (await readBoardLog(server.databaseUrl, team.boardId)).eventSequence;
    const moves = 120;
    for (let n = 0; n < moves; n += 1) {
      const moved = await mutate(server, team.owner.token, 'moveCard', { cardId, toColumnId: n % 2 === 0 ? team.doneId : team.todoId }, '... on Card { id }');
      expect(moved.__typename).toBe('Card');
    }

    server.queries.length = 0;
    const client = sdkClient(server.wsUrl, team.owner.token);
    const replayed = { events: [] as BoardEvent[], errors: [] as ReceivedError[] };
    client.subscribeBoard({
      boardId: team.boardId,
      after: encodeCursor(rawId(team.boardId), start),
      selection: '... on CardMovedEvent { card { title column { id } } }',
      onEvent: (event) => replayed.events.push(event),
      onError: (error) => replayed.errors.push(error),
    });
    await waitFor(() => replayed.events.length >= moves, () => `${moves} replayed events; got ${replayed.events.length}`, 10_000);
    expectSequences('replay', replayed.events, start + 1, start + moves);
    expect(replayed.events.every((event) => (event.card as { title: string }).title === 'Moved back and forth')).toBe(true);
    // Events already in the log are executed in groups with one set of
    // loaders, so their cards are read a few times, not once per event.
    const cardReads = server.queries.filter((query) => /FROM\s+[`"]?(main[`"]?\.)?[`"]?(public[`"]?\.)?[`"]?Card[`"]?\s/i.test(query) && !/Membership/.test(query));
    expect(cardReads.length).toBeLessThan(moves / 4);
    expect(replayed.errors).toEqual([]);
  });
});
