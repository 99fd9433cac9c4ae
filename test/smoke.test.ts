import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { socketClient, subscribeSocket } from './support/client.js';
import { createCard, createTeam, mutate, type Team } from './support/fixtures.js';
import { startServer, type TestServer, waitForListeners } from './support/server.js';

describe('smoke', () => {
  let server: TestServer;
  let team: Team;
  beforeAll(async () => {
    server = await startServer();
    team = await createTeam(server);
  });
  afterAll(() => server.stop());

  it('delivers a moved card to a WebSocket subscriber', async () => {
    const cardId = await createCard(server, team.owner.token, team.todoId, 'First');
    const client = socketClient(server, team.viewer.token);
    const { collector, unsubscribe } = subscribeSocket(
      client,
      `subscription($b: ID!) { boardEvents(boardId: $b) { __typename sequence cursor actor { displayName } ... on CardMovedEvent { card { id title column { name } } fromColumn { name } toColumn { name } } } }`,
      { b: team.boardId },
    );
    // The subscription is live once the server has processed subscribe.
    // Retrying a first mutation until an event arrives would hide bugs, so
    // the test waits for the board's listener instead.
    await waitForListeners(server, 1);
    const moved = await mutate(server, team.member.token, 'moveCard', { cardId, toColumnId: team.doneId }, '... on Card { id column { name } }');
    expect(moved.column.name).toBe('Done');
    const [event] = await collector.count(1);
    expect(event!.errors).toBeUndefined();
    expect(event!.data.boardEvents.__typename).toBe('CardMovedEvent');
    expect(event!.data.boardEvents.toColumn.name).toBe('Done');
    expect(event!.data.boardEvents.actor.displayName).toBe('member');
    unsubscribe();
    await client.dispose();
  });
});

describe('websocket operations', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.stop());

  it('syntax error spares the socket', async () => {
    const team = await createTeam(server);
    const closes: number[] = [];
    let connections = 0;
    const client = createClient({
      url: server.wsUrl,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${team.owner.token}` },
      on: { connected: () => (connections += 1), closed: (event) => closes.push((event as { code: number }).code) },
    });
    const live = subscribeSocket(client, 'subscription($b: ID!) { boardEvents(boardId: $b) { sequence } }', { b: team.boardId });
    await waitForListeners(server, 1);
    const broken = subscribeSocket(client, '{ nope');
    await broken.collector.done();

    expect(broken.collector.errors).toHaveLength(1);
    expect(JSON.stringify(broken.collector.errors[0])).toMatch(/Syntax Error/);
    const next = subscribeSocket(client, '{ __typename }');
    const [result] = await next.collector.count(1);
    expect(result!.data).toEqual({ __typename: 'Query' });
    expect(connections).toBe(1);
    expect(closes).toEqual([]);
    expect(live.collector.completed).toBe(false);
    live.unsubscribe();
    await client.dispose();
  });
});

