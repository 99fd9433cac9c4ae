import http from 'node:http';
import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadSettings, type Limits } from '../src/config.js';
import { graphql, socketClient, subscribeSocket, subscribeSse } from './support/client.js';
import { createCard, createTeam, signUp, type Team } from './support/fixtures.js';
import { afterThisTest, waitFor } from './support/processes.js';
import { startServer, type TestServer } from './support/server.js';

const limits: Limits = {
  ...loadSettings({}).limits,
  httpBodyBytes: 4_096,
  socketMessageBytes: 4_096,
  socketInitSeconds: 1,
  subscriptionsPerSocket: 2,
  socketsPerUser: 2,
  depth: 8,
  cost: 300,
  aliases: 3,
  directives: 2,
  tokens: 200,
};

let server: TestServer;
let team: Team;

beforeAll(async () => {
  server = await startServer({ limits });
  team = await createTeam(server);
});
afterAll(() => server.stop());

/** An operation 11 levels deep: workspaces, their boards, each board's workspace and its boards. */
const deepQuery = 'query { workspaces { edges { node { boards { edges { node { workspace { boards { edges { node { id } } } } } } } } } } }';

describe('document limits', () => {
  const cases = [
    { limit: 'GRAPHQL_MAX_DEPTH', query: () => deepQuery, found: /is 11; the limit is 8/ },
    { limit: 'GRAPHQL_MAX_COST', query: () => `query { workspaces(first: 10) { edges { node { id boards(first: 10) { edges { node { id } } } } } } }`, found: /is \d+; the limit is 300/ },
    { limit: 'GRAPHQL_MAX_ALIASES', query: () => 'query { a: me { __typename } b: me { __typename } c: me { __typename } d: me { __typename } }', found: /is 4; the limit is 3/ },
    { limit: 'GRAPHQL_MAX_DIRECTIVES', query: () => 'query { me @include(if: true) { __typename @include(if: true) ... on User { id @skip(if: false) } } }', found: /is 3; the limit is 2/ },
    { limit: 'GRAPHQL_MAX_TOKENS', query: () => `query { ${'me { __typename } '.repeat(60)}}`, found: /is over 200; the limit is 200/ },
  ];

  for (const { limit, query, found } of cases) {
    it(`${limit} over HTTP`, async () => {
      const result = await graphql(server, query(), { id: team.boardId }, team.owner.token);

      expect(result.data).toBeUndefined();
      expect(result.errors, JSON.stringify(result.errors)).toHaveLength(1);
      expect(result.errors![0]!.message).toMatch(found);
      expect(result.errors![0]!.message).toContain(limit);
      expect(result.errors![0]!.extensions).toMatchObject({ code: 'OPERATION_TOO_COMPLEX', limit });
    });
  }

  it('same errors over WebSocket and SSE', async () => {
    const deep = `subscription($boardId: ID!) { boardEvents(boardId: $boardId) { ... on CardCreatedEvent { card { column { board { workspace { boards { edges { node { id } } } } } } } } } }`;
    const client = socketClient(server, team.owner.token);
    afterThisTest(() => client.dispose());
    const socket = subscribeSocket(client, deep, { boardId: team.boardId });
    const sse = subscribeSse(server, deep, { boardId: team.boardId }, team.owner.token);
    await socket.collector.until(() => socket.collector.completed, 'the WebSocket operation to fail');
    await sse.collector.until(() => sse.collector.results.length > 0 || sse.collector.completed, 'the SSE operation to fail');

    const socketErrors = socket.collector.errors[0] as { message: string; extensions: unknown }[];
    const sseErrors = sse.collector.results[0]!.errors!;
    expect(socketErrors.map((error) => error.message)).toEqual(sseErrors.map((error) => error.message));
    expect(socketErrors[0]!.message).toMatch(/depth is \d+; the limit is 8 \(GRAPHQL_MAX_DEPTH\)/);
    expect(socketErrors[0]!.extensions).toMatchObject({ code: 'OPERATION_TOO_COMPLEX', limit: 'GRAPHQL_MAX_DEPTH', max: 8 });
    // Yoga's HTTP status hint is for HTTP responses only.
    expect(socketErrors[0]!.extensions).not.toHaveProperty('http');
    expect(sseErrors[0]!.extensions).toMatchObject({ code: 'OPERATION_TOO_COMPLEX', limit: 'GRAPHQL_MAX_DEPTH', max: 8 });
  });

  it('explains a field merge check cut short', async () => {
    const defaults = await startServer();
    afterThisTest(() => defaults.stop());
    // Within the default token and cost limits, but too many copies of one field for graphql-js to compare them all.
    const repeated = `{ ${'__typename '.repeat(1_000)}}`;

    const http = await graphql(defaults, repeated);
    const client = socketClient(defaults);
    afterThisTest(() => client.dispose());
    const socket = subscribeSocket(client, repeated);
    await socket.collector.done();

    expect(http.errors, JSON.stringify(http.errors)).toHaveLength(1);
    expect(http.errors![0]!.message).toMatch(/repeats the same fields so often .* Select each field once per selection set, or split the operation/);
    expect(http.errors![0]!.extensions).toMatchObject({ code: 'OPERATION_TOO_COMPLEX' });
    const socketErrors = socket.collector.errors[0] as { message: string }[];
    expect(socketErrors.map((error) => error.message)).toEqual(http.errors!.map((error) => error.message));
  });

  it('default limits admit introspection', async () => {
    const defaults = await startServer();
    afterThisTest(() => defaults.stop());

    const result = await graphql(defaults, getIntrospectionQuery());

    expect(result.errors).toBeUndefined();
    expect(result.data.__schema.queryType.name).toBe('Query');
  });
});

/** POSTs `body` with or without a Content-Length header; resolves with the status and the parsed response. */
function post(body: string, declareLength: boolean): Promise<{ status: number; json: any }> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const request = http.request({
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(declareLength ? { 'content-length': Buffer.byteLength(body) } : { 'transfer-encoding': 'chunked' }) },
    });
    request.on('response', (response) => {
      let text = '';
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, json: JSON.parse(text) }));
    });
    // The server may close the connection before the whole body is sent.
    request.on('error', reject);
    // Two writes, so that a chunked body arrives in two chunks.
    request.write(body.slice(0, 100));
    request.end(body.slice(100));
  });
}

describe('HTTP body size', () => {
  const oversized = JSON.stringify({ query: '{ __typename }', variables: { padding: 'x'.repeat(5_000) } });

  it('refuses a declared body over the limit', async () => {
    const { status, json } = await post(oversized, true);

    expect(status).toBe(413);
    expect(json.errors[0].message).toMatch(/^The request body is \d+ bytes; the limit is 4096 bytes \(HTTP_MAX_BODY_BYTES\)/);
    expect(json.errors[0].extensions).toEqual({ code: 'PAYLOAD_TOO_LARGE', limit: 'HTTP_MAX_BODY_BYTES', max: 4_096 });
  });

  it('refuses a chunked body over the limit', async () => {
    const { status, json } = await post(oversized, false);

    expect(status).toBe(413);
    expect(json.errors[0].message).toMatch(/over 4096 bytes/);
  });

  it('survives a client that leaves mid-body', async () => {
    const url = new URL(server.url);
    const request = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': 1_000 } });
    request.on('error', () => {});
    request.write('{"query": "{ __typename }", "variables": {');
    await new Promise((resolve) => setTimeout(resolve, 100));
    request.destroy();
    await new Promise((resolve) => setTimeout(resolve, 200));

    // The server is still up; an unhandled rejection would also fail the run.
    const { status } = await post(JSON.stringify({ query: '{ __typename }' }), true);
    expect(status).toBe(200);
  });

  it('serves a body within the limit', async () => {
    const { status, json } = await post(JSON.stringify({ query: '{ __typename }' }), false);

    expect(status).toBe(200);
    expect(json).toEqual({ data: { __typename: 'Query' } });
  });
});

/** Opens a raw graphql-transport-ws socket; resolves once it is open. */
async function rawSocket(): Promise<{ socket: WebSocket; closed: Promise<{ code: number; reason: string }> }> {
  const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
  afterThisTest(() => socket.terminate());
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  return { socket, closed };
}

describe('WebSocket limits', () => {
  it('closes 1009 on a message over the limit', async () => {
    const { socket, closed } = await rawSocket();
    socket.send(JSON.stringify({ type: 'connection_init', payload: { padding: 'x'.repeat(5_000) } }));

    expect((await closed).code).toBe(1009);
  });

  it('closes 4408 without connection_init', async () => {
    const { closed } = await rawSocket();
    const opened = Date.now();

    expect((await closed).code).toBe(4408);
    expect(Date.now() - opened).toBeLessThan(3_000);
  });

  it('refuses a subscription past the limit', async () => {
    const client = socketClient(server, team.owner.token);
    afterThisTest(() => client.dispose());
    const query = 'subscription($boardId: ID!) { boardEvents(boardId: $boardId) { sequence } }';
    const first = subscribeSocket(client, query, { boardId: team.boardId });
    const second = subscribeSocket(client, query, { boardId: team.boardId });
    const third = subscribeSocket(client, query, { boardId: team.boardId });

    await third.collector.until(() => third.collector.completed, 'the third subscription to be refused');
    const errors = third.collector.errors[0] as { message: string; extensions: unknown }[];
    expect(errors[0]!.message).toMatch(/has 2 operations open, the most one socket may have \(WS_MAX_SUBSCRIPTIONS\)/);
    expect(errors[0]!.extensions).toEqual({ code: 'TOO_MANY_SUBSCRIPTIONS', limit: 'WS_MAX_SUBSCRIPTIONS', max: 2 });

    // The socket stays up: the first two still get events, and a freed place can be taken.
    const cards: string[] = [];
    const add = async () => cards.push(await createCard(server, team.owner.token, team.todoId, `Card ${cards.length}`));
    for (let attempt = 0; first.collector.results.length === 0 || second.collector.results.length === 0; attempt += 1) {
      expect(attempt, 'events on the two open subscriptions').toBeLessThan(20);
      await add();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    first.unsubscribe();
    const fourth = subscribeSocket(client, query, { boardId: team.boardId });
    for (let attempt = 0; fourth.collector.results.length === 0; attempt += 1) {
      expect(attempt, 'an event on the subscription that took the freed place').toBeLessThan(20);
      expect(fourth.collector.errors).toEqual([]);
      await add();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });

  it('closes 1008 past the sockets per user', async () => {
    const user = await signUp(server, 'many-sockets');
    const open = async () => {
      const raw = await rawSocket();
      raw.socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${user.token}` } }));
      const acknowledged = new Promise<boolean>((resolve) => raw.socket.once('message', (data) => resolve(JSON.parse(data.toString()).type === 'connection_ack')));
      return { ...raw, acknowledged };
    };
    const first = await open();
    const second = await open();
    expect(await first.acknowledged).toBe(true);
    expect(await second.acknowledged).toBe(true);

    const third = await open();
    const { code, reason } = await third.closed;
    expect(code).toBe(1008);
    expect(reason).toMatch(/WS_MAX_CONNECTIONS_PER_USER=2/);

    // A closed socket frees its place.
    first.socket.close();
    await first.closed;
    const fourth = await open();
    expect(await fourth.acknowledged).toBe(true);
  });
});
