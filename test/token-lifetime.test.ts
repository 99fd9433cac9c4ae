import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { refreshingAccessToken, TandemClient, type BoardEvent, type ReceivedError } from '../sdk/index.js';
import { graphqlData, socketClient, subscribeSocket } from './support/client.js';
import { createCard, createTeam, mutate, signUp } from './support/fixtures.js';
import { afterThisTest, waitFor } from './support/processes.js';
import { startServer, type TestServer } from './support/server.js';

let server: TestServer;

// Access tokens live 3 s here, so that several expire during a test. Each test
// makes its own team, whose tokens are fresh when it starts.
beforeAll(async () => {
  server = await startServer({ accessTokenTtlSeconds: 3 });
});
afterAll(() => server.stop());

describe('access token lifetime', () => {
  it('SDK refreshes and resumes across expiry', { timeout: 30_000 }, async () => {
    const team = await createTeam(server);
    const closeCodes: number[] = [];
    const refreshed: string[] = [];
    // The member both subscribes and, through the same refreshing token, adds the cards.
    const accessToken = refreshingAccessToken({
      httpUrl: server.url,
      tokens: { accessToken: team.member.token, refreshToken: team.member.refreshToken },
      marginSeconds: 1,
      onRefresh: (tokens) => refreshed.push(tokens.refreshToken),
    });
    const client = new TandemClient({
      url: server.wsUrl,
      webSocketImpl: WebSocket,
      retryDelayMs: 10,
      getAccessToken: accessToken,
      clientOptions: { on: { closed: (event) => closeCodes.push((event as { code: number }).code) } },
    });
    afterThisTest(() => client.dispose());
    const events: BoardEvent[] = [];
    const errors: ReceivedError[] = [];
    // Starting from the board's cursor, no card made below can be missed, however long the subscription takes to open.
    const { board } = await graphqlData(server, 'query($id: ID!) { board(id: $id) { ... on Board { eventCursor } } }', { id: team.boardId }, team.member.token);
    client.subscribeBoard({ boardId: team.boardId, after: board.eventCursor, onEvent: (event) => events.push(event), onError: (error) => errors.push(error) });

    // Cards made over about 7 s, across at least two token lifetimes.
    for (let index = 0; index < 14; index += 1) {
      await createCard(server, await accessToken(), team.todoId, `Card ${index}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    await waitFor(() => events.length >= 14, () => `14 events; got ${events.length}`, 10_000);

    expect(errors).toEqual([]);
    expect(closeCodes).toContain(4001);
    expect(refreshed.length).toBeGreaterThanOrEqual(1);
    // One unbroken stream: consecutive sequences, no duplicate.
    const sequences = events.map((event) => event.sequence);
    expect(sequences).toEqual(Array.from({ length: sequences.length }, (_, index) => sequences[0]! + index));
  });

  it('closes a socket 4001 when its token expires', { timeout: 15_000 }, async () => {
    const user = await signUp(server, 'short-lived');
    const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
    afterThisTest(() => socket.terminate());
    const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${user.token}` } }));
    const opened = Date.now();

    const { code, reason } = await closed;

    expect(code).toBe(4001);
    expect(reason).toMatch(/access token expired/);
    expect(Date.now() - opened).toBeLessThan(4_500);
  });
});

describe('sign-out', () => {
  it("closes the session's sockets at once", async () => {
    const team = await createTeam(server);
    const user = team.member;
    const client = socketClient(server, user.token);
    afterThisTest(() => client.dispose());
    const codes: number[] = [];
    client.on('closed', (event) => codes.push((event as { code: number }).code));
    const { collector } = subscribeSocket(client, 'subscription($b: ID!) { boardEvents(boardId: $b) { sequence } }', { b: team.boardId });
    for (let attempt = 0; collector.results.length === 0; attempt += 1) {
      expect(attempt, 'an event before the sign-out').toBeLessThan(20);
      await createCard(server, team.owner.token, team.todoId, 'Before sign-out');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    await mutate(server, user.token, 'signOut', {}, '... on SignOutPayload { revokedSessions }');

    await waitFor(() => codes.length > 0, () => 'the socket to close', 2_000);
    expect(codes).toEqual([4403]);
  });
});
