import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { graphql, graphqlData, scrapeMetrics, socketClient, subscribeSocket, subscribeSse, type MetricSamples } from './support/client.js';
import { createCard, createTeam, mutate, type Team } from './support/fixtures.js';
import { afterThisTest } from './support/processes.js';
import { startServer, type TestServer } from './support/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.stop());

const eventsQuery = 'subscription($b: ID!, $after: String) { boardEvents(boardId: $b, after: $after) { sequence } }';

/** Returns how much each named sample grew between two scrapes; a sample missing from a scrape counts as 0. */
function growth(before: MetricSamples, after: MetricSamples, names: string[]): Record<string, number> {
  return Object.fromEntries(names.map((name) => [name, (after.get(name) ?? 0) - (before.get(name) ?? 0)]));
}

/**
 * Scrapes until the named samples have grown by `expected` since `before`,
 * or 5 s have passed, and returns the last growth for the test to compare.
 * Gauges fall back when a client leaves, which the server learns a moment later.
 */
async function growthOnceSettled(before: MetricSamples, expected: Record<string, number>): Promise<Record<string, number>> {
  const names = Object.keys(expected);
  const deadline = Date.now() + 5_000;
  for (;;) {
    const grown = growth(before, await scrapeMetrics(server), names);
    if (names.every((name) => grown[name] === expected[name]) || Date.now() > deadline) return grown;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function boardCursor(team: Team): Promise<string> {
  const { board } = await graphqlData(server, 'query($id: ID!) { board(id: $id) { ... on Board { eventCursor } } }', { id: team.boardId }, team.member.token);
  return board.eventCursor as string;
}

/**
 * Subscribes the member over WebSocket and the viewer over SSE to the
 * team's board, and resolves once one new card has reached both, so both
 * subscriptions are running. They start from the board's cursor, so the
 * card reaches both however long they take to start.
 */
async function subscribeBoth(team: Team) {
  const after = await boardCursor(team);
  const client = socketClient(server, team.member.token);
  afterThisTest(() => client.dispose());
  const socket = subscribeSocket(client, eventsQuery, { b: team.boardId, after });
  const sse = subscribeSse(server, eventsQuery, { b: team.boardId, after }, team.viewer.token);
  afterThisTest(() => sse.close());
  await sse.opened;
  await createCard(server, team.owner.token, team.todoId, 'Seen by both');
  await socket.collector.count(1);
  await sse.collector.count(1);
  return { client, socket, sse };
}

describe('metrics endpoint', () => {
  it('serves the Prometheus text format', async () => {
    const response = await fetch(new URL('/metrics', server.url));

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const body = await response.text();
    expect(body).toContain('# TYPE tandem_event_delivery_lag_seconds histogram');
    expect(body).toContain('# TYPE tandem_mutation_duration_seconds histogram');
    expect(body).toContain('# TYPE tandem_open_connections gauge');
    // Node's standard process metrics come along.
    expect(body).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(body).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
  });

  it('requires METRICS_TOKEN when set', async () => {
    const guarded = await startServer({ metricsToken: 'metrics-token-0123456789' });
    afterThisTest(() => guarded.stop());
    const url = new URL('/metrics', guarded.url);

    const missing = await fetch(url);
    const wrong = await fetch(url, { headers: { authorization: 'Bearer metrics-token-9876543210' } });
    const right = await fetch(url, { headers: { authorization: 'Bearer metrics-token-0123456789' } });

    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
    expect(await missing.text()).toMatch(/Authorization: Bearer <METRICS_TOKEN>/);
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toMatch(/does not match METRICS_TOKEN/);
    expect(right.status).toBe(200);
    expect(await right.text()).toContain('tandem_errors_total{code="UNAUTHENTICATED"} 2');
  });
});

describe('realtime metrics', () => {
  it('counts connections and subscriptions by transport', async () => {
    const team = await createTeam(server);
    const before = await scrapeMetrics(server);
    const { client, socket, sse } = await subscribeBoth(team);
    const open = {
      'tandem_open_connections{transport="websocket"}': 1,
      'tandem_open_connections{transport="sse"}': 1,
      'tandem_open_subscriptions{transport="websocket"}': 1,
      'tandem_open_subscriptions{transport="sse"}': 1,
    };
    expect(await growthOnceSettled(before, open)).toEqual(open);

    socket.unsubscribe();
    await client.dispose();
    sse.close();
    const closed = Object.fromEntries(Object.keys(open).map((name) => [name, 0]));
    expect(await growthOnceSettled(before, closed)).toEqual(closed);
  });

  it('counts published and delivered events', async () => {
    const team = await createTeam(server);
    // The first change may arrive as a replay; the ones after it arrive live.
    const { socket, sse } = await subscribeBoth(team);
    const before = await scrapeMetrics(server);

    for (const title of ['One', 'Two', 'Three']) await createCard(server, team.owner.token, team.todoId, title);
    await socket.collector.count(4);
    await sse.collector.count(4);

    const expected = {
      tandem_events_published_total: 3,
      'tandem_events_delivered_total{transport="websocket"}': 3,
      'tandem_events_delivered_total{transport="sse"}': 3,
      // Live events only, each observed once per subscriber.
      tandem_event_delivery_lag_seconds_count: 6,
    };
    expect(await growthOnceSettled(before, expected)).toEqual(expected);
    const final = await scrapeMetrics(server);
    // Delivered within 10 s of the commit, so the highest finite bucket contains them all.
    expect(growth(before, final, ['tandem_event_delivery_lag_seconds_bucket{le="10"}'])).toEqual({ 'tandem_event_delivery_lag_seconds_bucket{le="10"}': 6 });
  });

  it('counts replays without their lag', async () => {
    const team = await createTeam(server);
    const cursor = await boardCursor(team);
    for (const title of ['Missed 1', 'Missed 2', 'Missed 3']) await createCard(server, team.owner.token, team.todoId, title);
    const before = await scrapeMetrics(server);

    const client = socketClient(server, team.member.token);
    afterThisTest(() => client.dispose());
    const socket = subscribeSocket(client, eventsQuery, { b: team.boardId, after: cursor });
    await socket.collector.count(3);
    await createCard(server, team.owner.token, team.todoId, 'Live');
    await socket.collector.count(4);

    const expected = {
      tandem_replays_total: 1,
      tandem_replayed_events_total: 3,
      'tandem_events_delivered_total{transport="websocket"}': 4,
      tandem_event_delivery_lag_seconds_count: 1,
    };
    expect(await growthOnceSettled(before, expected)).toEqual(expected);
  });

  it('counts WebSocket closes by code', async () => {
    const before = await scrapeMetrics(server);
    const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
    await new Promise((resolve) => socket.once('open', resolve));
    // A subscribe before connection_init closes the socket with 4401.
    socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: '{ __typename }' } }));
    await new Promise((resolve) => socket.once('close', resolve));

    const expected = { 'tandem_websocket_closes_total{code="4401"}': 1 };
    expect(await growthOnceSettled(before, expected)).toEqual(expected);
  });

  it('counts the 1009 of an oversized message', async () => {
    const before = await scrapeMetrics(server);
    const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
    await new Promise((resolve) => socket.once('open', resolve));
    const closed = new Promise<number>((resolve) => socket.once('close', resolve));
    socket.send('x'.repeat(server.settings.limits.socketMessageBytes + 1));

    expect(await closed).toBe(1009);
    // ws ends the connection without waiting for the client's close frame, so the close event on the server reports 1006.
    const expected = { 'tandem_websocket_closes_total{code="1009"}': 1, 'tandem_websocket_closes_total{code="1006"}': 0 };
    expect(await growthOnceSettled(before, expected)).toEqual(expected);
  });
});

describe('operation metrics', () => {
  it('times mutations by field', async () => {
    const team = await createTeam(server);
    const before = await scrapeMetrics(server);

    await createCard(server, team.owner.token, team.todoId, 'Timed');
    const both = await graphql(
      server,
      `mutation($a: CreateCardInput!, $b: CreateCardInput!) {
        a: createCard(input: $a) { __typename }
        b: createCard(input: $b) { __typename }
      }`,
      { a: { columnId: team.todoId, title: 'First of two' }, b: { columnId: team.todoId, title: 'Second of two' } },
      team.owner.token,
    );

    expect(both.errors).toBeUndefined();
    const expected = {
      'tandem_mutation_duration_seconds_count{mutation="createCard"}': 1,
      'tandem_mutation_duration_seconds_count{mutation="(several)"}': 1,
      'tandem_mutation_duration_seconds_bucket{le="10",mutation="createCard"}': 1,
    };
    expect(await growthOnceSettled(before, expected)).toEqual(expected);
  });

  it('counts errors by code', async () => {
    const team = await createTeam(server);
    const before = await scrapeMetrics(server);

    // A typed mutation error.
    const blank = await mutate(server, team.owner.token, 'createCard', { columnId: team.todoId, title: '   ' }, '... on Error { code }');
    // A GraphQL error from a field that needs a viewer.
    const anonymous = await graphql(server, '{ workspaces { edges { cursor } } }');
    // A syntax error and a validation error over HTTP, and the same over WebSocket.
    const broken = await graphql(server, '{ viewer {');
    const unknownField = await graphql(server, '{ noSuchField }');
    const client = socketClient(server, team.member.token);
    afterThisTest(() => client.dispose());
    const invalid = subscribeSocket(client, 'subscription { noSuchField }');
    await invalid.collector.done();
    const unparsable = subscribeSocket(client, 'subscription { boardEvents(');
    await unparsable.collector.done();
    // A body over HTTP_MAX_BODY_BYTES.
    const large = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ __typename } # ${'x'.repeat(server.settings.limits.httpBodyBytes)}` }),
    });

    expect(blank.code).toBe('VALIDATION_FAILED');
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(broken.errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    expect(unknownField.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(invalid.collector.errors).toHaveLength(1);
    // The same code as over HTTP, which graphql-ws alone would leave out.
    expect((unparsable.collector.errors[0] as { extensions?: { code?: string } }[])[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    expect(large.status).toBe(413);
    const expected = {
      'tandem_errors_total{code="VALIDATION_FAILED"}': 1,
      'tandem_errors_total{code="UNAUTHENTICATED"}': 1,
      'tandem_errors_total{code="GRAPHQL_PARSE_FAILED"}': 2,
      'tandem_errors_total{code="GRAPHQL_VALIDATION_FAILED"}': 2,
      'tandem_errors_total{code="PAYLOAD_TOO_LARGE"}': 1,
    };
    expect(await growthOnceSettled(before, expected)).toEqual(expected);
  });
});
