/**
 * One load generator process. The runner forks several and steers them over
 * IPC (see protocol.ts). A worker keeps WebSocket subscribers open, spread over
 * loopback source addresses, and records each event's delivery latency:
 * the time it arrived minus the `occurredAt` its server stamped at commit.
 * It also sends GraphQL requests over HTTP at a fixed rate (not flat out).
 */
import http from 'node:http';
import * as hdr from 'hdr-histogram-js';
import WebSocket from 'ws';
import type { PublishResult, SubscribeRequest, WorkerReply, WorkerRequest, WorkerStats, PublishRequest } from './protocol.js';

const newHistogram = () => hdr.build({ bitBucketSize: 64, numberOfSignificantValueDigits: 3 });

let deliveries = newHistogram();
let received = 0;
let errors: string[] = [];
const sockets: WebSocket[] = [];

const send = (reply: WorkerReply) => process.send!(reply);
const now = () => performance.timeOrigin + performance.now();

/** Reads `occurredAt` from a message without parsing the whole JSON. */
function occurredAt(message: string): number | undefined {
  const at = message.indexOf('"occurredAt":"');
  if (at < 0) return undefined;
  return Date.parse(message.slice(at + 14, message.indexOf('"', at + 14)));
}

function recordError(text: string): void {
  if (errors.length < 20) errors.push(text.slice(0, 300));
}

/**
 * Opens sockets carrying `perSocket` subscriptions each (graphql-ws
 * multiplexes them); resolves once each socket is connected and its
 * subscribe messages are sent. Returns the number of subscriptions sent.
 */
async function subscribe(request: SubscribeRequest): Promise<number> {
  const start = sockets.length;
  const perSocket = request.protocol === 'raw' ? 1 : (request.perSocket ?? 1);
  const groups: SubscribeRequest['subscriptions'][] = [];
  for (let index = 0; index < request.subscriptions.length; index += perSocket) groups.push(request.subscriptions.slice(index, index + perSocket));
  let opened = 0;
  const openOne = (index: number) =>
    new Promise<void>((resolve) => {
      const group = groups[index]!;
      const subscription = group[0]!;
      const slot = start + index;
      const localAddress = request.localAddresses[slot % request.localAddresses.length];
      const url = request.protocol === 'raw' ? `${request.url}?boardId=${encodeURIComponent(subscription.boardId)}` : request.url;
      const socket = new WebSocket(url, request.protocol === 'raw' ? [] : ['graphql-transport-ws'], { localAddress, perMessageDeflate: false });
      sockets.push(socket);
      let settled = false;
      const done = (subscribed = 0) => {
        if (settled) return;
        settled = true;
        opened += subscribed;
        resolve();
      };
      socket.on('open', () => {
        if (request.protocol === 'raw') return done(1);
        socket.send(JSON.stringify({ type: 'connection_init', payload: subscription.token ? { authorization: `Bearer ${subscription.token}` } : {} }));
      });
      socket.on('message', (data) => {
        const text = data.toString();
        if (text.startsWith('{"type":"connection_ack"') || text.includes('"type":"connection_ack"')) {
          group.forEach((member, position) => {
            socket.send(JSON.stringify({ id: String(position + 1), type: 'subscribe', payload: { query: request.query, variables: { boardId: member.boardId } } }));
          });
          return done(group.length);
        }
        const at = occurredAt(text);
        if (at !== undefined) {
          deliveries.recordValue(Math.max(1, Math.round((now() - at) * 1000)));
          received += 1;
        } else if (text.includes('"type":"ping"')) {
          socket.send('{"type":"pong"}');
        } else if (!text.includes('"type":"pong"')) {
          recordError(`subscriber ${slot}: ${text}`);
        }
      });
      socket.on('error', (error) => {
        recordError(`subscriber ${slot}: ${error.message}`);
        done();
      });
      socket.on('close', (code, reason) => {
        if (code !== 1000) recordError(`subscriber ${slot} closed: ${code} ${reason.toString()}`);
        done();
      });
    });
  // A bounded number of handshakes at a time, so the server's accept queue is not flooded.
  const parallel = request.parallel ?? 200;
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, groups.length) }, async () => {
      while (next < groups.length) await openOne(next++);
    }),
  );
  return opened;
}

/** Sends requests at `rate` per second for `durationMs`, cycling through `bodies`. */
async function publish(request: PublishRequest): Promise<PublishResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: request.connections ?? 64 });
  const target = new URL(request.url);
  const responses = newHistogram();
  let sent = 0;
  let succeeded = 0;
  let failed = 0;
  let skipped = 0;
  let inFlight = 0;
  const maxInFlight = request.maxInFlight ?? 2_000;
  const started = now();

  const sendOne = (index: number) => {
    const body = request.bodies[index % request.bodies.length]!;
    const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body.json) };
    if (body.token) headers.authorization = `Bearer ${body.token}`;
    const sentAt = now();
    inFlight += 1;
    const outgoing = http.request({ host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        inFlight -= 1;
        responses.recordValue(Math.max(1, Math.round((now() - sentAt) * 1000)));
        const text = Buffer.concat(chunks).toString();
        if (response.statusCode === 200 && !text.includes('"errors"') && (!request.expect || text.includes(request.expect))) succeeded += 1;
        else {
          failed += 1;
          recordError(`HTTP ${response.statusCode}: ${text}`);
        }
      });
    });
    outgoing.on('error', (error) => {
      inFlight -= 1;
      failed += 1;
      recordError(error.message);
    });
    outgoing.end(body.json);
  };

  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const elapsed = now() - started;
      const due = Math.min(Math.floor((elapsed / 1000) * request.rate), Math.floor((request.durationMs / 1000) * request.rate));
      while (sent + skipped < due) {
        if (inFlight >= maxInFlight) {
          skipped += 1;
          continue;
        }
        sendOne(request.offset + sent + skipped);
        sent += 1;
      }
      if (elapsed >= request.durationMs) {
        clearInterval(tick);
        resolve();
      }
    }, 2);
  });
  // Wait for the responses still on their way, up to 10 s.
  const deadline = now() + 10_000;
  while (inFlight > 0 && now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  agent.destroy();
  return {
    sent,
    succeeded,
    failed,
    skipped,
    seconds: (now() - started) / 1000,
    responses: hdr.encodeIntoCompressedBase64(responses),
  };
}

function stats(): WorkerStats {
  return {
    received,
    deliveries: hdr.encodeIntoCompressedBase64(deliveries),
    open: sockets.filter((socket) => socket.readyState === WebSocket.OPEN).length,
    cpu: process.cpuUsage(),
    errors,
  };
}

process.on('message', async (request: WorkerRequest) => {
  try {
    switch (request.type) {
      case 'subscribe':
        send({ type: 'subscribed', opened: await subscribe(request) });
        break;
      case 'publish':
        send({ type: 'published', result: await publish(request) });
        break;
      case 'reset':
        deliveries = newHistogram();
        received = 0;
        errors = [];
        send({ type: 'reset' });
        break;
      case 'stats':
        send({ type: 'stats', stats: stats() });
        break;
      case 'close':
        for (const socket of sockets) socket.terminate();
        sockets.length = 0;
        send({ type: 'closed' });
        break;
    }
  } catch (error) {
    send({ type: 'failed', message: (error as Error).stack ?? String(error) });
  }
});
process.on('disconnect', () => process.exit(0));
