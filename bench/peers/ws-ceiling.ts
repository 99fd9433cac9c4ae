/**
 * Peer server: the ceiling, an upper bound on delivery speed for this
 * machine. It runs no GraphQL. A WebSocket to /graphql?boardId=board-1
 * receives the events of board-1, and one without boardId receives the
 * events of every board. The server sends nothing at connect and ignores
 * what clients send, so there is no graphql-ws handshake. A POST to /graphql
 * with the moveCard body that the load generator sends to the GraphQL peers
 * reads `variables.input` directly (the query text is ignored) and moves the
 * card. Each event is serialised once as a graphql-ws `next` message and
 * framed once, and the same frame bytes are written to every subscriber's
 * TCP socket.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import * as ws from 'ws';
import { WebSocket, WebSocketServer } from 'ws';
import { reportReady } from '../lib/ipc.js';
import { graphqlUrl, readListenOptions } from './listen.js';
import { boardTopic, createSeededStore, StoreError, type CardMovedEvent, type CardRecord } from './store.js';

interface FrameOptions {
  fin: boolean;
  opcode: number;
  mask: boolean;
  readOnly: boolean;
  rsv1: boolean;
}

// ws 8 exports Sender from its ESM entry point, but @types/ws 8.18 does not declare it.
const { Sender } = ws as unknown as { Sender: { frame(data: Buffer, options: FrameOptions): Buffer[] } };

const maxBodyBytes = 1024 * 1024;

/** Subscribers of one board, keyed by boardTopic(boardId). */
const boardSubscribers = new Map<string, Set<WebSocket>>();
/** Subscribers that named no board. */
const allBoardSubscribers = new Set<WebSocket>();

/** Returns the card as JSON-ready data. With no selection set, the ceiling sends every scalar of the card and the column id. */
function cardData(card: CardRecord) {
  return { id: card.id, title: card.title, position: card.position, version: card.version, column: { id: card.columnId } };
}

/** Writes one already-framed message to a client's TCP socket, skipping ws's Sender. */
function writeFrame(client: WebSocket, frame: Buffer): void {
  if (client.readyState !== WebSocket.OPEN) return;
  // This bypasses the Sender's queue. That is safe because this server sends
  // no other data frames, and with compression off no frame waits on
  // deflate. ws writes its pong and close frames synchronously and whole, so
  // no two frames interleave on the socket. ws 8 keeps the socket in the
  // undeclared `_socket` field.
  (client as unknown as { _socket: Socket })._socket.write(frame);
}

function broadcast(topic: string, event: CardMovedEvent): void {
  const boardClients = boardSubscribers.get(topic);
  if (!boardClients?.size && allBoardSubscribers.size === 0) return;

  const boardEvents = { sequence: event.sequence, cursor: event.cursor, occurredAt: event.occurredAt, card: cardData(event.card) };
  const message = JSON.stringify({ id: 'ceiling', type: 'next', payload: { data: { boardEvents } } });
  // `readOnly` has no effect here because ws copies or changes the data only when masking, and server frames are unmasked.
  const frame = Buffer.concat(Sender.frame(Buffer.from(message), { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false }));

  for (const client of boardClients ?? []) writeFrame(client, frame);
  for (const client of allBoardSubscribers) writeFrame(client, frame);
}

const store = createSeededStore(broadcast);

/** A request that the ceiling rejects, with its HTTP status. */
class BadRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  response.end(JSON.stringify(body));
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBodyBytes) throw new BadRequestError(413, `Request body is larger than ${maxBodyBytes} bytes.`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Returns the moveCard input of a JSON request body. @throws BadRequestError when the body is not JSON or has no such input. */
function parseMoveCardInput(text: string): { cardId: string; toColumnId: string } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new BadRequestError(400, `Invalid JSON body: ${(error as Error).message}`);
  }
  const input = (body as { variables?: { input?: { cardId?: unknown; toColumnId?: unknown } } } | null)?.variables?.input;
  if (typeof input?.cardId !== 'string' || typeof input.toColumnId !== 'string') {
    throw new BadRequestError(
      400,
      'Missing string variables.input.cardId or variables.input.toColumnId. The ceiling serves only moveCard, with its input in variables.',
    );
  }
  return { cardId: input.cardId, toColumnId: input.toColumnId };
}

async function handleRequest(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
  if (path !== '/graphql') throw new BadRequestError(404, `Not found: ${path}. The ceiling serves only /graphql.`);
  if (request.method !== 'POST') throw new BadRequestError(405, `Method ${request.method} is not allowed on /graphql: send a POST.`);

  const input = parseMoveCardInput(await readBody(request));
  try {
    const card = store.moveCard(input.cardId, input.toColumnId);
    sendJson(response, 200, { data: { moveCard: cardData(card) } });
  } catch (error) {
    if (!(error instanceof StoreError)) throw error;
    // Shaped like a GraphQL field error, which GraphQL servers return with status 200.
    sendJson(response, 200, { data: { moveCard: null }, errors: [{ message: error.message, path: ['moveCard'], extensions: { code: error.code } }] });
  }
}

const server = createServer((request, response) => {
  handleRequest(request, response).catch((error: unknown) => {
    if (error instanceof BadRequestError) {
      const headers: Record<string, string> = error.status === 405 ? { allow: 'POST' } : {};
      sendJson(response, error.status, { errors: [{ message: error.message }] }, headers);
      return;
    }
    console.error(`ws-ceiling: ${request.method} ${request.url} failed:`, error);
    if (response.headersSent) response.destroy();
    else sendJson(response, 500, { errors: [{ message: 'Internal server error. See the server log.' }] });
  });
});

// Compression stays off (also the ws default for servers) because the shared
// frame is written uncompressed, with RSV1 clear.
const sockets = new WebSocketServer({ server, path: '/graphql', perMessageDeflate: false });

sockets.on('connection', (client, request) => {
  const boardId = new URL(request.url ?? '/', 'http://127.0.0.1').searchParams.get('boardId');
  if (boardId !== null && !store.boards.has(boardId)) {
    // The close reason is limited to 123 bytes.
    client.close(4404, `Board not found: ${boardId}`.slice(0, 120));
    return;
  }

  let clients = allBoardSubscribers;
  if (boardId !== null) {
    const topic = boardTopic(boardId);
    clients = boardSubscribers.get(topic) ?? new Set();
    boardSubscribers.set(topic, clients);
  }
  clients.add(client);
  client.on('close', () => clients.delete(client));
  client.on('error', (error) => console.error(`ws-ceiling: WebSocket error (boardId ${boardId ?? 'none'}):`, error.message));
});

const { host, port } = readListenOptions();
server.listen(port, host, () => {
  reportReady(graphqlUrl(host, (server.address() as AddressInfo).port));
});
