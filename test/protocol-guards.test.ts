import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { socketClient, subscribeSocket, subscribeSse, type GraphQLResponse } from './support/client.js';
import { createTeam, type Team } from './support/fixtures.js';
import { afterThisTest } from './support/processes.js';
import { startServer, type TestServer } from './support/server.js';

let server: TestServer;
let team: Team;

beforeAll(async () => {
  server = await startServer();
  team = await createTeam(server);
});
afterAll(() => server.stop());

interface RawSocket {
  socket: WebSocket;
  /** Messages received, parsed. */
  messages: { type: string; id?: string; payload?: unknown }[];
  closed: Promise<{ code: number; reason: string }>;
  /** Sends raw text frames, all in one write to the TCP socket when there are several. */
  sendFrames(...frames: string[]): void;
}

/** Opens a graphql-transport-ws socket without a client library, to send what a client library never would. */
async function rawSocket(): Promise<RawSocket> {
  const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
  afterThisTest(() => socket.terminate());
  const messages: RawSocket['messages'] = [];
  socket.on('message', (data) => messages.push(JSON.parse(data.toString())));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  const sendFrames = (...frames: string[]) => {
    // Corked, the frames leave in one write.
    const tcp = (socket as unknown as { _socket: import('node:net').Socket })._socket;
    tcp.cork();
    for (const frame of frames) socket.send(frame);
    process.nextTick(() => tcp.uncork());
  };
  return { socket, messages, closed, sendFrames };
}

async function acknowledged(raw: RawSocket): Promise<void> {
  raw.sendFrames(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${team.owner.token}` } }));
  const deadline = Date.now() + 5_000;
  while (!raw.messages.some((message) => message.type === 'connection_ack')) {
    if (Date.now() > deadline) throw new Error(`no connection_ack; got ${JSON.stringify(raw.messages)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const subscribe = (id: string) => JSON.stringify({ id, type: 'subscribe', payload: { query: 'subscription($b: ID!) { boardEvents(boardId: $b) { sequence } }', variables: { b: team.boardId } } });

describe('graphql-ws protocol guards', () => {
  it('subscribe before connection_init closes 4401', async () => {
    const raw = await rawSocket();
    raw.sendFrames(subscribe('early'));

    expect((await raw.closed).code).toBe(4401);
  });

  it('second connection_init closes 4429', async () => {
    const raw = await rawSocket();
    await acknowledged(raw);
    raw.sendFrames(JSON.stringify({ type: 'connection_init', payload: {} }));

    expect((await raw.closed).code).toBe(4429);
  });

  it('reused operation id closes 4409', async () => {
    const raw = await rawSocket();
    await acknowledged(raw);
    raw.sendFrames(subscribe('same'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    raw.sendFrames(subscribe('same'));

    const { code, reason } = await raw.closed;
    expect(code).toBe(4409);
    expect(reason).toMatch(/same/);
  });

  it('id reused within one write closes 4409', async () => {
    const raw = await rawSocket();
    await acknowledged(raw);
    raw.sendFrames(subscribe('twin'), subscribe('twin'));

    expect((await raw.closed).code).toBe(4409);
  });

  const malformed = [
    { case: 'text that is not JSON', frame: '{"type": "subscribe", ' },
    { case: 'an unknown message type', frame: JSON.stringify({ type: 'launch' }) },
    { case: 'a subscribe without an id', frame: JSON.stringify({ type: 'subscribe', payload: { query: '{ __typename }' } }) },
    { case: 'a subscribe without a query', frame: JSON.stringify({ id: 'x', type: 'subscribe', payload: { variables: {} } }) },
    { case: 'a JSON array', frame: '[1, 2, 3]' },
    { case: 'a next message from the client', frame: JSON.stringify({ id: 'x', type: 'next', payload: {} }) },
  ];
  it('string connection_init payload closes 4400', async () => {
    const raw = await rawSocket();
    raw.sendFrames(JSON.stringify({ type: 'connection_init', payload: 'Bearer token' }));

    const { code, reason } = await raw.closed;
    expect(code).toBe(4400);
    expect(reason).toBe('Invalid connection_init: payload must be an object, such as {"authorization": "Bearer <token>"}.');
  });

  for (const { case: name, frame } of malformed) {
    it(`${name} closes 4400`, async () => {
      const raw = await rawSocket();
      await acknowledged(raw);
      raw.sendFrames(frame);

      const { code, reason } = await raw.closed;
      expect(code).toBe(4400);
      expect(reason.length).toBeGreaterThan(0);
      // A close frame's reason is at most 123 bytes.
      expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(123);
    });
  }
});

/**
 * Collects the error messages an operation ended with, whether they came as an
 * `error` message (graphql-ws, before execution) or in a result (SSE, and
 * graphql-ws for errors found while executing, such as a missing variable).
 */
function errorMessages(collector: { errors: unknown[]; results: GraphQLResponse[] }): string[] {
  const fromResults = collector.results.flatMap((result) => result.errors ?? []);
  const fromErrors = collector.errors.flatMap((error) => (Array.isArray(error) ? (error as { message: string }[]) : []));
  return [...fromErrors, ...fromResults].map((error) => error.message);
}

describe('invalid documents', () => {
  const documents = [
    { case: 'a syntax error', query: 'subscription { boardEvents(boardId: "x") { sequence }' },
    { case: 'an unknown field', query: 'subscription($b: ID!) { boardEvents(boardId: $b) { sequence colour } }' },
    { case: 'a missing variable', query: 'subscription($b: ID!) { boardEvents(boardId: $b) { sequence } }', variables: {} },
  ];
  for (const { case: name, query, variables } of documents) {
    it(`${name}: same errors over WebSocket and SSE`, async () => {
      const vars = variables ?? { b: team.boardId };
      const client = socketClient(server, team.owner.token);
      afterThisTest(() => client.dispose());
      const socket = subscribeSocket(client, query, vars);
      const sse = subscribeSse(server, query, vars, team.owner.token);
      await socket.collector.until(() => socket.collector.completed, 'the WebSocket operation to fail');
      await sse.collector.until(() => sse.collector.completed, 'the SSE operation to fail');

      const overSocket = errorMessages(socket.collector);
      expect(overSocket.length).toBeGreaterThan(0);
      expect(overSocket).toEqual(errorMessages(sse.collector));
    });
  }
});
