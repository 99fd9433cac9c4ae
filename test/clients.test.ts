import { spawn, spawnSync } from 'node:child_process';
import { ApolloClient, HttpLink, InMemoryCache, gql, split } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { Client as UrqlClient, fetchExchange, subscriptionExchange } from '@urql/core';
import { OperationTypeNode } from 'graphql';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { BoardDocument, CreateCardDocument, possibleTypes as generatedPossibleTypes } from '../sdk/index.js';
import { Collector, graphqlData, socketClient, subscribeSocket } from './support/client.js';
import { createCard, createTeam, expectResult, mutate, type Team } from './support/fixtures.js';
import { startServer, waitForListeners, type TestServer } from './support/server.js';

const boardEventsDocument = `subscription BoardEvents($boardId: ID!, $after: String) {
  boardEvents(boardId: $boardId, after: $after) {
    __typename sequence cursor boardId
    ... on CardCreatedEvent { card { id title } }
    ... on CardMovedEvent { card { id } toColumn { id name } }
  }
}`;
const boardDocument = `query Board($id: ID!) {
  board(id: $id) { __typename ... on Board { id name eventSequence columns { edges { node { id name } } } } }
}`;
const createCardDocument = `mutation CreateCard($input: CreateCardInput!) {
  createCard(input: $input) { __typename ... on Card { id title column { id } } }
}`;
const moveCardDocument = `mutation MoveCard($input: MoveCardInput!) {
  moveCard(input: $input) { __typename ... on Card { id column { id name } } }
}`;

/** Starts a server with a team in beforeAll and stops it in afterAll. Tests read both through the returned getters. */
function useServerWithTeam() {
  let server: TestServer | undefined;
  let team: Team | undefined;
  beforeAll(async () => {
    server = await startServer();
    team = await createTeam(server);
  });
  afterAll(() => server?.stop());
  return { server: () => server!, team: () => team! };
}

/** Reads the board's newest event sequence over plain HTTP, so that a test can predict the next one. */
async function eventSequenceOf(server: TestServer, team: Team): Promise<number> {
  const data = await graphqlData(server, boardDocument, { id: team.boardId }, team.owner.token);
  return expectResult(data.board, 'Board').eventSequence;
}

/** Checks one boardEvents result as every client receives it: no errors, the expected type, board and sequence. */
function expectBoardEvent(result: any, team: Team, typename: string, sequence: number) {
  expect(result.errors, `event carried errors: ${JSON.stringify(result.errors)}`).toBeUndefined();
  const event = result.data.boardEvents;
  expect(event.__typename).toBe(typename);
  expect(event.boardId).toBe(team.boardId);
  expect(event.sequence).toBe(sequence);
  expect(typeof event.cursor).toBe('string');
  return event;
}

/** Observer that feeds `collector`, for clients whose subscribe takes next, error and complete callbacks. */
function observerFor(collector: Collector) {
  return { next: (result: unknown) => collector.push(result), error: (error: unknown) => collector.fail(error), complete: () => collector.complete() };
}

/**
 * Subscribes to the team's board with `subscribe`, moves a new card to Done
 * with `move`, and checks the event that arrives. Then it calls the function
 * that `subscribe` returned and checks that the server released the bus
 * listener and that the lazy WebSocket closed normally.
 */
async function expectOwnMove(server: TestServer, team: Team, socketClosed: Promise<unknown>, subscribe: (events: Collector) => () => void, move: (cardId: string) => Promise<any>) {
  const cardId = await createCard(server, team.owner.token, team.todoId, 'Moved by a client');
  const sequence = await eventSequenceOf(server, team);
  const baseline = server.app.services.bus.listenerCount();
  const events = new Collector();
  const unsubscribe = subscribe(events);
  await waitForListeners(server, baseline + 1, 'exactly');

  const moved = await move(cardId);
  expect(moved.moveCard.column.name).toBe('Done');
  const [result] = await events.count(1);
  const event = expectBoardEvent(result, team, 'CardMovedEvent', sequence + 1);
  expect(event.card.id).toBe(cardId);
  expect(event.toColumn.name).toBe('Done');

  unsubscribe();
  await waitForListeners(server, baseline, 'exactly');
  expect(await socketClosed).toMatchObject({ code: 1000 });
}

/** Creates a lazy graphql-ws client that sends `token`. The `closed` promise settles when its first WebSocket has closed. */
function wsClientFor(server: TestServer, token: string): { client: WsClient; closed: Promise<unknown> } {
  let onClosed: (event: unknown) => void = () => {};
  const closed = new Promise((resolve) => (onClosed = resolve));
  const client = createWsClient({
    url: server.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: true,
    on: { closed: (event) => onClosed(event) },
  });
  return { client, closed };
}

describe('Apollo Client', () => {
  const context = useServerWithTeam();
  let apollo: ApolloClient;
  let sockets: WsClient;
  let socketClosed: Promise<unknown>;

  beforeAll(() => {
    const { owner } = context.team();
    ({ client: sockets, closed: socketClosed } = wsClientFor(context.server(), owner.token));
    const httpLink = new HttpLink({ uri: context.server().url, fetch, headers: { authorization: `Bearer ${owner.token}` } });
    const link = split(({ operationType }) => operationType === OperationTypeNode.SUBSCRIPTION, new GraphQLWsLink(sockets), httpLink);
    apollo = new ApolloClient({ link, cache: new InMemoryCache({ possibleTypes: generatedPossibleTypes.possibleTypes }) });
  });
  afterAll(async () => {
    apollo?.stop();
    await sockets?.dispose();
  });

  it('queries board columns', async () => {
    const team = context.team();
    // The SDK's typed document: `data` is typed from it, with no cast.
    const { data } = await apollo.query({ query: BoardDocument, variables: { id: team.boardId } });

    expect(data?.board.__typename).toBe('Board');
    if (data?.board.__typename !== 'Board') return;
    expect(data.board.id).toBe(team.boardId);
    expect(data.board.columns.edges.map((edge) => edge.node.name)).toEqual(['To do', 'Done']);
  });

  it('creates a card', async () => {
    const team = context.team();
    const { data } = await apollo.mutate({ mutation: CreateCardDocument, variables: { input: { columnId: team.todoId, title: 'From Apollo' } } });

    expect(data?.createCard.__typename).toBe('Card');
    if (data?.createCard.__typename !== 'Card') return;
    expect(data.createCard.title).toBe('From Apollo');
    expect(data.createCard.column.id).toBe(team.todoId);
  });

  it('receives its own move', async () => {
    await expectOwnMove(
      context.server(),
      context.team(),
      socketClosed,
      (events) => {
        const subscription = apollo.subscribe({ query: gql(boardEventsDocument), variables: { boardId: context.team().boardId } }).subscribe(observerFor(events));
        return () => {
          subscription.unsubscribe();
          apollo.stop();
        };
      },
      async (cardId) => (await apollo.mutate<any>({ mutation: gql(moveCardDocument), variables: { input: { cardId, toColumnId: context.team().doneId } } })).data,
    );
  });
});

describe('urql', () => {
  const context = useServerWithTeam();
  let urql: UrqlClient;
  let sockets: WsClient;
  let socketClosed: Promise<unknown>;

  beforeAll(() => {
    const { owner } = context.team();
    ({ client: sockets, closed: socketClosed } = wsClientFor(context.server(), owner.token));
    urql = new UrqlClient({
      url: context.server().url,
      fetchOptions: { headers: { authorization: `Bearer ${owner.token}` } },
      exchanges: [
        fetchExchange,
        subscriptionExchange({
          forwardSubscription: (request) => ({
            subscribe: (sink) => ({ unsubscribe: sockets.subscribe({ ...request, query: request.query ?? '' }, sink) }),
          }),
        }),
      ],
    });
  });
  afterAll(() => sockets?.dispose());

  it('queries board columns', async () => {
    const team = context.team();
    const result = await urql.query(BoardDocument, { id: team.boardId }).toPromise();

    expect(result.error).toBeUndefined();
    expect(result.data?.board.__typename).toBe('Board');
    if (result.data?.board.__typename !== 'Board') return;
    expect(result.data.board.columns.edges.map((edge) => edge.node.name)).toEqual(['To do', 'Done']);
  });

  it('creates a card', async () => {
    const team = context.team();
    const result = await urql.mutation(createCardDocument, { input: { columnId: team.todoId, title: 'From urql' } }).toPromise();

    expect(result.error).toBeUndefined();
    expect(result.data.createCard.__typename).toBe('Card');
    expect(result.data.createCard.title).toBe('From urql');
  });

  it('receives its own move', async () => {
    await expectOwnMove(
      context.server(),
      context.team(),
      socketClosed,
      (events) => urql.subscription(boardEventsDocument, { boardId: context.team().boardId }).subscribe((result) => events.push(result)).unsubscribe,
      async (cardId) => {
        const result = await urql.mutation(moveCardDocument, { input: { cardId, toColumnId: context.team().doneId } }).toPromise();
        expect(result.error).toBeUndefined();
        return result.data;
      },
    );
  });
});

describe('graphql-sse client', () => {
  const context = useServerWithTeam();

  function sseClient() {
    const client = createSseClient({
      url: context.server().url,
      headers: { authorization: `Bearer ${context.team().owner.token}` },
      retryAttempts: 0,
    });
    onTestFinished(() => client.dispose());
    return client;
  }

  it('runs a query', async () => {
    const team = context.team();
    const results = new Collector();
    sseClient().subscribe({ query: boardDocument, variables: { id: team.boardId } }, observerFor(results));
    await results.done();

    expect(results.errors).toEqual([]);
    expect(results.results).toHaveLength(1);
    expect((results.results[0] as any).data.board.columns.edges).toHaveLength(2);
  });

  it('receives a created card', async () => {
    const server = context.server();
    const team = context.team();
    const sequence = await eventSequenceOf(server, team);
    const baseline = server.app.services.bus.listenerCount();
    const events = new Collector();
    const dispose = sseClient().subscribe({ query: boardEventsDocument, variables: { boardId: team.boardId } }, observerFor(events));
    await waitForListeners(server, baseline + 1, 'exactly');

    const cardId = await createCard(server, team.member.token, team.todoId, 'Over SSE');
    const [result] = await events.count(1);
    const event = expectBoardEvent(result, team, 'CardCreatedEvent', sequence + 1);
    expect(event.card).toEqual({ id: cardId, title: 'Over SSE' });

    dispose();
    await waitForListeners(server, baseline, 'exactly');
    expect(events.errors).toEqual([]);
  });
});

describe('graphql-ws client', () => {
  const context = useServerWithTeam();

  it('replays after a cursor in order', async () => {
    const server = context.server();
    const team = context.team();
    const baseline = server.app.services.bus.listenerCount();
    const live = subscribeSocket(socketClient(server, team.owner.token), boardEventsDocument, { boardId: team.boardId });
    onTestFinished(() => live.unsubscribe());
    await waitForListeners(server, baseline + 1, 'exactly');
    for (const title of ['One', 'Two', 'Three', 'Four']) await createCard(server, team.member.token, team.todoId, title);
    const [first] = await live.collector.count(4);
    const start = first!.data.boardEvents;

    const resumed = subscribeSocket(socketClient(server, team.viewer.token), boardEventsDocument, { boardId: team.boardId, after: start.cursor });
    onTestFinished(() => resumed.unsubscribe());
    await resumed.collector.count(3);
    await createCard(server, team.member.token, team.todoId, 'Five');
    const results = await resumed.collector.count(4);

    const events = results.map((result, index) => expectBoardEvent(result, team, 'CardCreatedEvent', start.sequence + 1 + index));
    expect(events.map((event) => event.card.title)).toEqual(['Two', 'Three', 'Four', 'Five']);
  });
});

describe('curl over SSE', () => {
  const context = useServerWithTeam();
  const curlFound = spawnSync('curl', ['--version']).status === 0;

  /** Skips the test with a printed reason when curl is missing, or fails it when REQUIRE_SERVICES=1. */
  function requireCurl(skip: (note: string) => never) {
    if (curlFound) return;
    const reason = 'curl is not on PATH';
    if (process.env.REQUIRE_SERVICES === '1') throw new Error(`REQUIRE_SERVICES=1, but ${reason}. Install curl to run this test.`);
    console.log(`Skipping a curl test: ${reason}.`);
    skip(reason);
  }

  /**
   * Runs curl with `args` and collects the data of each `event: next` it
   * prints. `stop` kills curl and waits for it to exit; the test also calls it
   * when it finishes.
   */
  function runCurl(args: string[]) {
    const events = new Collector();
    const curl = spawn('curl', ['-sN', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<void>((resolve) => curl.once('exit', () => resolve()));
    const stop = async () => {
      if (curl.exitCode === null && curl.signalCode === null) curl.kill();
      await exited;
    };
    onTestFinished(stop);
    let buffer = '';
    let eventName = '';
    curl.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, end).replace(/\r$/, '');
        buffer = buffer.slice(end + 1);
        if (line.startsWith('event:')) eventName = line.slice('event:'.length).trim();
        if (line.startsWith('data:') && eventName === 'next') events.push(JSON.parse(line.slice('data:'.length)));
        if (line === '') eventName = '';
      }
    });
    void exited.then(() => events.complete());
    return { events, stop };
  }

  /** Subscribes with curl, creates a card, and checks that curl prints its event and that killing curl releases the bus listener. */
  async function expectCreatedCardEvent(args: (team: Team) => string[]) {
    const server = context.server();
    const team = context.team();
    const sequence = await eventSequenceOf(server, team);
    const baseline = server.app.services.bus.listenerCount();
    const { events, stop } = runCurl(args(team));
    await waitForListeners(server, baseline + 1, 'exactly');

    const cardId = await createCard(server, team.member.token, team.todoId, 'Seen by curl');
    const [result] = await events.count(1);
    const event = expectBoardEvent(result, team, 'CardCreatedEvent', sequence + 1);
    expect(event.card.id).toBe(cardId);

    await stop();
    await waitForListeners(server, baseline, 'exactly');
  }

  it('GET stream receives event', async ({ skip }) => {
    requireCurl(skip);
    await expectCreatedCardEvent((team) => {
      const url = new URL(context.server().url);
      url.searchParams.set('query', boardEventsDocument);
      url.searchParams.set('variables', JSON.stringify({ boardId: team.boardId }));
      return ['-H', 'Accept: text/event-stream', '-H', `Authorization: Bearer ${team.viewer.token}`, url.href];
    });
  });

  it('README POST form receives event', async ({ skip }) => {
    requireCurl(skip);
    await expectCreatedCardEvent((team) => {
      const body = JSON.stringify({ query: boardEventsDocument, variables: { boardId: team.boardId } });
      return [context.server().url, '-H', 'accept: text/event-stream', '-H', 'content-type: application/json', '-H', `authorization: Bearer ${team.viewer.token}`, '-d', body];
    });
  });
});

describe('Relay conventions', () => {
  const context = useServerWithTeam();
  const cardFields = 'id title description position version archived column { id } creator { id }';

  it('node refetches a card', async () => {
    const server = context.server();
    const team = context.team();
    const cardId = await createCard(server, team.owner.token, team.todoId, 'Refetched');
    const boardQuery = `query($id: ID!) { board(id: $id) { ... on Board { columns { edges { node { id cards { edges { node { ${cardFields} } } } } } } } } }`;
    const board = await graphqlData(server, boardQuery, { id: team.boardId }, team.viewer.token);
    const todo = board.board.columns.edges.find((edge: any) => edge.node.id === team.todoId).node;
    const fromBoard = todo.cards.edges.find((edge: any) => edge.node.id === cardId).node;

    const refetched = await graphqlData(server, `query($id: ID!) { node(id: $id) { __typename ... on Card { ${cardFields} } } }`, { id: cardId }, team.viewer.token);

    expect(refetched.node).toEqual({ __typename: 'Card', ...fromBoard });
  });

  it('nodes keeps order with nulls', async () => {
    const server = context.server();
    const team = context.team();
    const other = await createTeam(server);
    const cardId = await createCard(server, team.owner.token, team.todoId, 'Kept');
    const foreignCardId = await createCard(server, other.owner.token, other.todoId, 'Foreign');
    const comment = expectResult(await mutate(server, team.owner.token, 'addComment', { cardId, body: 'Gone soon' }, '... on Comment { id }'), 'Comment');
    expectResult(await mutate(server, team.owner.token, 'deleteComment', { commentId: comment.id }, '... on DeletedComment { commentId }'), 'DeletedComment');
    const column = expectResult(await mutate(server, team.owner.token, 'createColumn', { boardId: team.boardId, name: 'Temporary' }, '... on Column { id }'), 'Column');
    expectResult(await mutate(server, team.owner.token, 'deleteColumn', { columnId: column.id }, '... on DeletedColumn { columnId }'), 'DeletedColumn');
    const ids = [team.doneId, comment.id, cardId, foreignCardId, column.id, team.boardId];

    const data = await graphqlData(server, `query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`, { ids }, team.owner.token);

    expect(data.nodes).toEqual([
      { __typename: 'Column', id: team.doneId },
      null,
      { __typename: 'Card', id: cardId },
      null,
      null,
      { __typename: 'Board', id: team.boardId },
    ]);
  });

  it('pages cards exactly once', async () => {
    const server = context.server();
    const team = context.team();
    const column = expectResult(await mutate(server, team.owner.token, 'createColumn', { boardId: team.boardId, name: 'Paged' }, '... on Column { id }'), 'Column');
    const created: string[] = [];
    for (let n = 1; n <= 5; n += 1) created.push(await createCard(server, team.owner.token, column.id, `Page ${n}`));

    const pageQuery = `query($id: ID!, $after: String) {
      node(id: $id) { ... on Column { cards(first: 2, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } } }
    }`;
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    while (pages < 10) {
      pages += 1;
      const data: any = await graphqlData(server, pageQuery, { id: column.id, after }, team.viewer.token);
      const { edges, pageInfo } = data.node.cards;
      expect(edges.length, `size of page ${pages}`).toBeLessThanOrEqual(2);
      seen.push(...edges.map((edge: any) => edge.node.id));
      if (!pageInfo.hasNextPage) break;
      expect(pageInfo.endCursor).toBe(edges.at(-1).cursor);
      after = pageInfo.endCursor;
    }

    expect(seen).toEqual(created);
    expect(pages).toBe(3);
  });
});
