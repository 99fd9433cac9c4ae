import { spawn } from 'node:child_process';
import http from 'node:http';
import { createClient, type Client } from 'graphql-ws';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { subscribeSse } from './support/client.js';
import { createTestDatabase, testDatabase } from './support/database.js';
import { createCard, createTeam } from './support/fixtures.js';
import { afterThisTest, groupAlive, httpTarget, serverEnvironment, startServerProcess, waitFor, type ServerProcess } from './support/processes.js';
import { testTokenSecret, type TestServer } from './support/server.js';

const boardEvents = 'subscription($boardId: ID!) { boardEvents(boardId: $boardId) { sequence } }';

async function start(graceSeconds: number): Promise<ServerProcess> {
  return startServerProcess({ HOST: '127.0.0.1', PORT: '0', DATABASE_URL: await createTestDatabase(), TOKEN_SECRET: testTokenSecret, SHUTDOWN_GRACE_SECONDS: String(graceSeconds) });
}

/** Sends SIGTERM and resolves with the exit code and the milliseconds the process took to exit. */
async function terminate(server: ServerProcess): Promise<{ code: number | null; ms: number }> {
  const sent = Date.now();
  server.child.kill('SIGTERM');
  const code = await server.exited;
  return { code, ms: Date.now() - sent };
}

/**
 * Starts a moveCard request whose body is only half sent, so the server has
 * the request in flight until `finish` sends the rest.
 */
function halfSentMove(server: ServerProcess, token: string, cardId: string, toColumnId: string) {
  const body = JSON.stringify({
    query: 'mutation($input: MoveCardInput!) { moveCard(input: $input) { __typename ... on Card { version } } }',
    variables: { input: { cardId, toColumnId } },
  });
  const url = new URL(server.url);
  const request = http.request({
    host: url.hostname,
    port: url.port,
    path: url.pathname,
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${token}` },
  });
  const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
    request.on('response', (incoming) => {
      let text = '';
      incoming.on('data', (chunk) => (text += chunk));
      incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, text }));
    });
    request.on('error', reject);
  });
  // Until finish() or the server cuts it, the request counts as in flight.
  request.write(body.slice(0, 20));
  return { response, finish: () => request.end(body.slice(20)) };
}

describe('graceful stop', () => {
  it('closes 100 subscriptions with 1001', { timeout: 60_000 }, async () => {
    const server = await start(10);
    const target = { ...httpTarget(server.url), wsUrl: server.wsUrl } as TestServer;
    const team = await createTeam(target);
    const closeCodes: number[] = [];
    const received = new Set<number>();
    const clients: Client[] = [];
    for (let index = 0; index < 100; index += 1) {
      const client = createClient({
        url: server.wsUrl,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${team.owner.token}` },
        retryAttempts: 0,
        on: { closed: (event) => closeCodes.push((event as { code: number }).code) },
      });
      client.subscribe({ query: boardEvents, variables: { boardId: team.boardId } }, { next: () => received.add(index), error: () => {}, complete: () => {} });
      clients.push(client);
    }
    afterThisTest(() => Promise.all(clients.map((client) => client.dispose())));
    // A subscription is live once it has received an event; cards are added until all have.
    for (let attempt = 0; received.size < 100; attempt += 1) {
      expect(attempt, `all 100 subscribers to get an event; ${received.size} did`).toBeLessThan(50);
      await createCard(target, team.owner.token, team.todoId, `Card ${attempt}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }

    const stopped = await terminate(server);

    expect(stopped.code).toBe(0);
    expect(stopped.ms).toBeLessThan(10_000);
    await waitFor(() => closeCodes.length === 100, () => `100 close events; got ${closeCodes.length}`, 5_000);
    expect(closeCodes.filter((code) => code !== 1001)).toEqual([]);
    expect(server.output()).toMatch(/Tandem stopped/);
  });

  it('finishes a mutation in flight', { timeout: 60_000 }, async () => {
    const server = await start(10);
    const target = httpTarget(server.url);
    const team = await createTeam(target);
    const cardId = await createCard(target, team.owner.token, team.todoId, 'Moved during the stop');
    const move = halfSentMove(server, team.owner.token, cardId, team.doneId);
    await new Promise((resolve) => setTimeout(resolve, 200));

    const stopping = terminate(server);
    await waitFor(() => /"stopping"/.test(server.output()), () => 'the server to log that it is stopping', 5_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    move.finish();
    const { status, text } = await move.response;
    const stopped = await stopping;

    expect(status).toBe(200);
    expect(JSON.parse(text)).toEqual({ data: { moveCard: { __typename: 'Card', version: 2 } } });
    expect(stopped.code).toBe(0);
  });

  it('cuts SSE streams at once', { timeout: 60_000 }, async () => {
    const server = await start(10);
    const target = httpTarget(server.url);
    const team = await createTeam(target);
    const { collector } = subscribeSse(target, boardEvents, { boardId: team.boardId }, team.owner.token);
    await createCard(target, team.owner.token, team.todoId, 'Streamed');
    await collector.count(1, 10_000);

    const stopped = await terminate(server);

    // Well inside the 10 s grace period: a stream never finishes by itself, so the stop does not wait for it.
    expect(stopped.ms).toBeLessThan(5_000);
    expect(stopped.code).toBe(0);
  });

  it('cuts requests after the grace period', { timeout: 60_000 }, async () => {
    const server = await start(1);
    const target = httpTarget(server.url);
    const team = await createTeam(target);
    const cardId = await createCard(target, team.owner.token, team.todoId, 'Never sent in full');
    const move = halfSentMove(server, team.owner.token, cardId, team.doneId);
    move.response.catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 200));

    const stopped = await terminate(server);

    expect(stopped.code).toBe(0);
    expect(stopped.ms).toBeGreaterThanOrEqual(900);
    expect(stopped.ms).toBeLessThan(5_000);
    expect(server.output()).toMatch(/requests still in flight at the end of the grace period/);
  });

  it.runIf(testDatabase === 'sqlite')('npm start passes SIGTERM on', { timeout: 60_000 }, async () => {
    const child = spawn('npm', ['start'], {
      env: serverEnvironment({ HOST: '127.0.0.1', PORT: '0', DATABASE_URL: await createTestDatabase(), TOKEN_SECRET: testTokenSecret }),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    afterThisTest(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // The group has exited.
      }
    });
    let output = '';
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    await waitFor(() => /Tandem started/.test(output), () => `npm start to start the server; output:\n${output}`, 30_000);

    child.kill('SIGTERM');

    await waitFor(() => /Tandem stopped/.test(output), () => `the server to stop; output:\n${output}`, 15_000);
    await waitFor(() => !groupAlive(child.pid!), () => 'every process of npm start to exit', 10_000);
  });
});
