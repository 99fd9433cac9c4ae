import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { TandemClient, type ReceivedError } from '../sdk/index.js';
import { createTeam, type Team } from './support/fixtures.js';
import { startServer, type TestServer } from './support/server.js';

let server: TestServer;
let team: Team;

beforeAll(async () => {
  server = await startServer();
  team = await createTeam(server);
});
afterAll(() => server.stop());

async function waitUntil(condition: () => boolean, description: string) {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('TandemClient', () => {
  it('rejected token stops with onError', async () => {
    const errors: ReceivedError[] = [];
    const resumes: string[] = [];
    const client = new TandemClient({ url: server.wsUrl, webSocketImpl: WebSocket, getAccessToken: () => 'not-a-token', retryDelayMs: 10 });
    client.subscribeBoard({
      boardId: team.boardId,
      onEvent: () => {},
      onError: (error) => errors.push(error),
      onResume: (reason) => resumes.push(reason),
    });

    await waitUntil(() => errors.length > 0, 'onError');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.extensions?.code).toBe('UNAUTHENTICATED');
    expect(errors[0]!.extensions?.closeCode).toBe(4403);
    // The close reason carries the server's explanation.
    expect(errors[0]!.message).toMatch(/access token is invalid/);
    expect(resumes).toEqual([]);
    await client.dispose();
  });

  it('dispose ends without resuming', async () => {
    const resumes: string[] = [];
    let connections = 0;
    const client = new TandemClient({
      url: server.wsUrl,
      webSocketImpl: WebSocket,
      getAccessToken: () => team.owner.token,
      clientOptions: { on: { connected: () => (connections += 1) } },
    });
    const subscription = client.subscribeBoard({ boardId: team.boardId, onEvent: () => {}, onResume: (reason) => resumes.push(reason) });
    await waitUntil(() => connections === 1, 'the connection');

    await client.dispose();
    // A resume would reconnect at once (the first retry delay is 250 ms at most).
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(resumes).toEqual([]);
    expect(connections).toBe(1);
    expect(subscription.cursor).toBeUndefined();
  });
});
