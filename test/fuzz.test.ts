import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createTestDatabase } from './support/database.js';
import { createTeam } from './support/fixtures.js';
import { httpTarget, startServerProcess, type ServerProcess } from './support/processes.js';
import { testTokenSecret, type TestServer } from './support/server.js';

/** A small deterministic random generator (mulberry32), so a failing case can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

type Kind = 'garbage' | 'binary' | 'bad-shape' | 'early-subscribe' | 'bad-document';

/** The documented response to each kind of frame (docs/PROTOCOL.md). */
const expected: Record<Kind, (outcome: Outcome) => boolean> = {
  garbage: (outcome) => outcome.close === 4400,
  binary: (outcome) => outcome.close === 4400,
  'bad-shape': (outcome) => outcome.close === 4400,
  'early-subscribe': (outcome) => outcome.close === 4401,
  // A subscribe with a broken document fails that operation only, and the
  // socket stays up. The failure is an `error` message when found before
  // execution, else a `next` carrying errors.
  'bad-document': (outcome) => outcome.close === undefined && (outcome.message === 'error' || (outcome.message === 'next' && outcome.errors === true)),
};

interface Outcome {
  close?: number;
  message?: string;
  /** Whether a `next` message carried errors. */
  errors?: boolean;
}

function frameOf(kind: Kind, next: () => number, boardId: string): string | Buffer {
  const text = (length: number) => Array.from({ length }, () => String.fromCharCode(32 + Math.floor(next() * 95))).join('');
  switch (kind) {
    case 'garbage':
      // Text that is not JSON: random characters, cut JSON, or bare words.
      return [text(1 + Math.floor(next() * 200)), `{"type":"subscribe","id":"${text(5)}`, 'null', '"ping"', '42'][Math.floor(next() * 5)]!;
    case 'binary':
      return Buffer.from(Array.from({ length: 1 + Math.floor(next() * 300) }, () => Math.floor(next() * 256)));
    case 'bad-shape':
      return JSON.stringify(
        [
          { type: text(6) },
          { type: 'subscribe', payload: { query: '{ __typename }' } },
          { type: 'subscribe', id: '', payload: { query: '{ __typename }' } },
          { type: 'subscribe', id: 7, payload: { query: '{ __typename }' } },
          { type: 'subscribe', id: text(4), payload: { query: 42 } },
          { type: 'subscribe', id: text(4) },
          { type: 'complete' },
          { type: 'next', id: text(4), payload: {} },
          [1, 2, 3],
          { id: text(3) },
        ][Math.floor(next() * 10)],
      );
    case 'early-subscribe':
      return JSON.stringify({ type: 'subscribe', id: text(6), payload: { query: '{ __typename }' } });
    case 'bad-document':
      return JSON.stringify({
        type: 'subscribe',
        id: `op-${text(6)}`,
        payload: {
          query: [
            text(1 + Math.floor(next() * 120)),
            'subscription { boardEvents(boardId: 1) { sequence } }',
            'subscription($b: ID!) { boardEvents(boardId: $b) { nothingHere } }',
            `subscription { boardEvents(boardId: "${boardId}") { sequence ... on CardMovedEvent { card { ${'column { board { workspace { boards { edges { node { '.repeat(4)}id ${'} } } } } } '.repeat(4)}} } } }`,
            '{ __schema { types { name } } } fragment F on Query { ...F }',
          ][Math.floor(next() * 5)],
          variables: next() < 0.5 ? { b: boardId } : { b: 42 },
        },
      });
  }
}

/** Opens a socket, optionally acknowledges it, sends one frame and waits for the first response: a message or the close. */
async function send(server: ServerProcess, token: string, kind: Kind, frame: string | Buffer): Promise<Outcome> {
  const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
  try {
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    const answer = new Promise<Outcome>((resolve) => {
      socket.on('message', (data) => {
        const { type, payload } = JSON.parse(data.toString()) as { type: string; payload?: { errors?: unknown[] } };
        if (type !== 'connection_ack' && type !== 'ping' && type !== 'pong') resolve({ message: type, errors: (payload?.errors?.length ?? 0) > 0 });
      });
      socket.once('close', (code) => resolve({ close: code }));
      setTimeout(() => resolve({}), 3_000);
    });
    if (kind !== 'early-subscribe') {
      const acknowledged = new Promise((resolve) => socket.once('message', resolve));
      socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
      await acknowledged;
    }
    socket.send(frame, { binary: Buffer.isBuffer(frame) });
    return await answer;
  } finally {
    socket.terminate();
  }
}

function residentKilobytes(pid: number): number {
  const line = fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((entry) => entry.startsWith('VmRSS:'));
  return Number(line?.replace(/\D/g, '') ?? 0);
}

describe('fuzzed WebSocket frames', () => {
  it('answers 2,000 bad frames and stays up', { timeout: 180_000 }, async () => {
    const server = await startServerProcess({ HOST: '127.0.0.1', PORT: '0', DATABASE_URL: await createTestDatabase(), TOKEN_SECRET: testTokenSecret });
    const team = await createTeam({ ...httpTarget(server.url), wsUrl: server.wsUrl } as TestServer);
    const pid = server.child.pid!;
    const kinds: Kind[] = ['garbage', 'binary', 'bad-shape', 'early-subscribe', 'bad-document'];
    const seed = 20261205;
    const next = random(seed);
    const run = async (count: number) => {
      const wrong: string[] = [];
      const cases = Array.from({ length: count }, () => {
        const kind = kinds[Math.floor(next() * kinds.length)]!;
        return { kind, frame: frameOf(kind, next, team.boardId) };
      });
      // Twenty sockets at a time.
      for (let start = 0; start < cases.length; start += 20) {
        const outcomes = await Promise.all(cases.slice(start, start + 20).map(({ kind, frame }) => send(server, team.owner.token, kind, frame)));
        outcomes.forEach((outcome, index) => {
          const { kind, frame } = cases[start + index]!;
          if (!expected[kind](outcome)) wrong.push(`${kind} ${JSON.stringify(outcome)} for ${Buffer.isBuffer(frame) ? `${frame.length} binary bytes` : frame.slice(0, 120)}`);
        });
      }
      return wrong;
    };

    // A first round warms the server up, so the memory comparison starts from its working size.
    expect(await run(200), `seed ${seed}`).toEqual([]);
    const before = residentKilobytes(pid);
    const wrong = await run(2_000);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const after = residentKilobytes(pid);

    expect(wrong, `seed ${seed}`).toEqual([]);
    const health = await fetch(server.url.replace('/graphql', '/health'));
    expect(health.status).toBe(200);
    // The sockets are gone; what the server kept for them must be too, within a margin for the heap's own growth.
    expect(after - before, `RSS ${before} KB before, ${after} KB after`).toBeLessThan(40_000);
  });
});
