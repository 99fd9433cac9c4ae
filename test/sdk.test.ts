import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { TandemClient, type BoardEvent, type ReceivedError } from '../sdk/index.js';
import { graphqlData } from './support/client.js';
import { createCard, createTeam, mutate, type Team } from './support/fixtures.js';
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

  it('follows eventCursor without a gap', async () => {
    await createCard(server, team.owner.token, team.todoId, 'Before the read');
    const read = await graphqlData(server, 'query($id: ID!) { board(id: $id) { ... on Board { eventSequence eventCursor } } }', { id: team.boardId }, team.owner.token);
    await createCard(server, team.owner.token, team.todoId, 'After the read');
    const client = new TandemClient({ url: server.wsUrl, webSocketImpl: WebSocket, getAccessToken: () => team.owner.token });
    const events: BoardEvent[] = [];
    client.subscribeBoard({ boardId: team.boardId, after: read.board.eventCursor, selection: '... on CardCreatedEvent { card { title } }', onEvent: (event) => events.push(event) });
    await waitUntil(() => events.length > 0, 'the replayed event');
    expect(events[0]!.sequence).toBe(read.board.eventSequence + 1);
    expect(events[0]!.card).toEqual({ title: 'After the read' });
    await client.dispose();
  });

  describe('watchPresence', () => {
    /** Creates a client whose sockets the test can drop, with a short retry delay. */
    function clientFor(token: string) {
      const sockets: WebSocket[] = [];
      const client = new TandemClient({
        url: server.wsUrl,
        webSocketImpl: WebSocket,
        getAccessToken: () => token,
        retryDelayMs: 10,
        clientOptions: { on: { connected: (socket) => sockets.push(socket as WebSocket) } },
      });
      return { client, sockets };
    }

    it('keeps presence across a dropped socket', async () => {
      const owner = clientFor(team.owner.token);
      const member = clientFor(team.member.token);
      const ownerWatch = owner.client.watchPresence({ boardId: team.boardId, onChange: () => {} });
      const memberWatch = member.client.watchPresence({ boardId: team.boardId, onChange: () => {} });
      const displayNames = (state: typeof ownerWatch.state) => state.sessions.map((session) => session.user?.displayName).sort();
      await waitUntil(() => ownerWatch.state.sessions.length === 2 && memberWatch.state.sessions.length === 2, 'both sessions on both sides');
      expect(displayNames(ownerWatch.state)).toEqual(['member', 'owner']);
      expect(ownerWatch.state.sessions.find((session) => session.id === ownerWatch.state.you)?.user?.displayName).toBe('owner');

      // The member's socket drops: the SDK subscribes again and gets a new session.
      const before = memberWatch.state.you;
      member.sockets[0]!.terminate();
      await waitUntil(
        () => memberWatch.state.you !== before && ownerWatch.state.sessions.some((session) => session.id === memberWatch.state.you),
        'the member back under a new session',
      );
      expect(ownerWatch.state.sessions.map((session) => session.id)).not.toContain(before);
      expect(displayNames(memberWatch.state)).toEqual(['member', 'owner']);

      const cardId = await createCard(server, team.member.token, team.todoId, 'Focused');
      await mutate(server, team.member.token, 'setFocus', { boardId: team.boardId, cardId, presenceId: memberWatch.state.you }, '');
      await waitUntil(() => ownerWatch.state.sessions.some((session) => session.focusedCard?.id === cardId), 'the focus change');

      memberWatch.unsubscribe();
      await waitUntil(() => ownerWatch.state.sessions.length === 1, 'the member leaving');
      await Promise.all([owner.client.dispose(), member.client.dispose()]);
    });

    it('reports a forbidden board', async () => {
      const outsider = clientFor(team.outsider.token);
      const errors: ReceivedError[] = [];
      outsider.client.watchPresence({ boardId: team.boardId, onChange: () => {}, onError: (error) => errors.push(error) });
      await waitUntil(() => errors.length > 0, 'onError');
      expect(errors[0]!.extensions?.code).toBe('FORBIDDEN');
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(outsider.sockets).toHaveLength(1);
      await outsider.client.dispose();
    });
  });
});
