import { generateKeyBetween } from 'fractional-indexing';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { graphqlData, socketClient, subscribeSocket, type Collector, type GraphQLResponse } from './support/client.js';
import { createTeam, mutate, signUp, type Team, type TestUser, expectResult, rawId } from './support/fixtures.js';
import { queryRows } from './support/database.js';
import { startServer, type TestServer, waitForListeners, readEventLog } from './support/server.js';

/** Maximum length of a stored position key. A longer key makes the server rebalance the siblings first. */
const maxPositionLength = 50;

/** Fields of each object that carries a version, as read by `node`, returned by a mutation and sent as `current` of a ConflictError. */
const versionedFields: Record<string, string> = {
  Board: '... on Board { id name version archived }',
  Column: '... on Column { id name position version }',
  Card: '... on Card { id title description version archived position column { id } }',
  Comment: '... on Comment { id body version editedAt }',
};
const subjectFields = Object.values(versionedFields).join(' ');
const conflictFields = `... on ConflictError { expectedVersion currentVersion current { __typename ${subjectFields} } }`;
const cardFields = versionedFields.Card!;
const columnFields = versionedFields.Column!;

const boardEventsSubscription = `subscription($boardId: ID!) {
  boardEvents(boardId: $boardId) {
    __typename sequence
    ... on BoardRenamedEvent { name }
    ... on CardCreatedEvent { card { id } }
    ... on CardMovedEvent { position card { id } fromColumn { id } toColumn { id } }
    ... on ColumnMovedEvent { position column { id } }
  }
}`;

let server: TestServer;
let team: Team;

beforeAll(async () => {
  server = await startServer();
  team = await createTeam(server);
});

afterAll(() => server.stop());




/**
 * Opens a live `boardEvents` subscription over graphql-ws and returns once
 * the server listens on the board's topic. It is closed when the test ends.
 */
async function watchBoard(boardId: string, token = team.viewer.token): Promise<Collector<GraphQLResponse>> {
  const listenersBefore = server.app.services.bus.listenerCount();
  const client = socketClient(server, token);
  const { collector, unsubscribe } = subscribeSocket(client, boardEventsSubscription, { boardId });
  onTestFinished(async () => {
    unsubscribe();
    await client.dispose();
    await waitForListeners(server, listenersBefore, 'exactly');
  });
  await waitForListeners(server, listenersBefore + 1, 'exactly');
  return collector;
}

/** Returns the events delivered to `collector` so far, and fails on a result that carries errors. */
function eventsOf(collector: Collector<GraphQLResponse>): any[] {
  return collector.results.map((result, index) => {
    expect(result.errors, `event ${index + 1} carried errors`).toBeUndefined();
    return result.data.boardEvents;
  });
}

/**
 * Renames the board to a unique name and waits until `collector` receives
 * that rename. Events arrive in sequence order, so everything logged
 * before the rename has been delivered by then. Returns the events before it.
 */
async function eventsBeforeMarker(collector: Collector<GraphQLResponse>, boardId: string): Promise<any[]> {
  const marker = `Marker ${Date.now()} ${Math.random()}`;
  expectResult(await mutate(server, team.owner.token, 'renameBoard', { boardId, name: marker }, '... on Board { id }'), 'Board');
  await collector.until(() => collector.results.some((result) => result.data?.boardEvents?.name === marker), `the rename to ${marker}`);
  const events = eventsOf(collector);
  const markerIndex = events.findIndex((event) => event.name === marker);
  expect(events.slice(markerIndex + 1)).toEqual([]);
  return events.slice(0, markerIndex);
}



/** Counts the rows of table Card that match `where`, read straight from the server's database. */
async function countCards(where: string, ...values: unknown[]): Promise<number> {
  const [row] = await queryRows<{ count: number }>(server.databaseUrl, `SELECT COUNT(*) AS "count" FROM "Card" WHERE ${where}`, ...values);
  return row!.count;
}

/** Reads an object by global id with `subjectFields`, as the owner sees it. */
async function readObject(id: string): Promise<any> {
  const data = await graphqlData(server, `query($id: ID!) { node(id: $id) { __typename ${subjectFields} } }`, { id }, team.owner.token);
  expect(data.node, `node ${id}`).not.toBeNull();
  return data.node;
}

interface CardRow {
  id: string;
  title: string;
  position: string;
  version: number;
}

/** Lists a column's cards in column order, 100 per page, through the board query. */
async function columnCards(boardId: string, columnId: string): Promise<CardRow[]> {
  const cards: CardRow[] = [];
  let after: string | null = null;
  while (true) {
    const data: any = await graphqlData(
      server,
      `query($id: ID!, $after: String) { board(id: $id) { __typename ... on Board { columns(first: 100) { edges { node {
        id cards(first: 100, after: $after) { edges { node { id title position version } } pageInfo { hasNextPage endCursor } }
      } } } } } }`,
      { id: boardId, after },
      team.owner.token,
    );
    expectResult(data.board, 'Board');
    const column = data.board.columns.edges.map((edge: any) => edge.node).find((node: any) => node.id === columnId);
    expect(column, `column ${columnId} on board ${boardId}`).toBeDefined();
    cards.push(...column.cards.edges.map((edge: any) => edge.node));
    if (!column.cards.pageInfo.hasNextPage) return cards;
    after = column.cards.pageInfo.endCursor;
  }
}

/** Lists the board's columns in board order. */
async function boardColumns(boardId: string): Promise<{ id: string; name: string; position: string; version: number }[]> {
  const data = await graphqlData(
    server,
    'query($id: ID!) { board(id: $id) { __typename ... on Board { columns(first: 100) { edges { node { id name position version } } } } } }',
    { id: boardId },
    team.owner.token,
  );
  expectResult(data.board, 'Board');
  return data.board.columns.edges.map((edge: any) => edge.node);
}

/** Creates a board in the team workspace with the named columns. */
async function createBoardWithColumns(name: string, columnNames: string[]) {
  const board = expectResult(await mutate(server, team.owner.token, 'createBoard', { workspaceId: team.workspaceId, name }, '... on Board { id }'), 'Board');
  const columns: Record<string, string> = {};
  for (const columnName of columnNames) {
    const column = expectResult(await mutate(server, team.owner.token, 'createColumn', { boardId: board.id, name: columnName }, columnFields), 'Column');
    columns[columnName] = column.id;
  }
  return { boardId: board.id as string, columns };
}

async function newCard(user: TestUser, input: Record<string, unknown>) {
  return expectResult(await mutate(server, user.token, 'createCard', input, cardFields), 'Card');
}

/** Asserts that each position is at most maxPositionLength long and sorts strictly after the one before. */
function expectOrderedPositions(positions: string[]) {
  for (const [index, position] of positions.entries()) {
    expect(position.length, `length of position ${index} (${position})`).toBeLessThanOrEqual(maxPositionLength);
    if (index > 0) expect(positions[index - 1]! < position, `position ${index - 1} (${positions[index - 1]}) sorts before ${index} (${position})`).toBe(true);
  }
}

interface ConflictCase {
  mutation: string;
  /** GraphQL type of the object whose version is checked. */
  typename: string;
  /** Event type that a successful run logs. */
  eventType: string;
  /** Who runs the mutation. Only the author can edit a comment. */
  user: () => TestUser;
  /** Creates the object, changes it once so that it is at version 2, and returns its id and the mutation input. */
  prepare: () => Promise<{ objectId: string; input: Record<string, unknown> }>;
  /** Checks the object after the successful run against the object before it. */
  checkChanged: (after: any, before: any) => void;
}

/** Creates a board with columns To do and Done and one card in To do. */
async function cardOnFreshBoard(title: string) {
  const { boardId, columns } = await createBoardWithColumns(`Conflicts ${title}`, ['To do', 'Done']);
  const card = await newCard(team.member, { columnId: columns['To do'], title, description: 'first description' });
  return { boardId, columns, card };
}

const conflictCases: ConflictCase[] = [
  {
    mutation: 'updateCard',
    typename: 'Card',
    eventType: 'CARD_UPDATED',
    user: () => team.owner,
    prepare: async () => {
      const { card } = await cardOnFreshBoard('Update me');
      expectResult(await mutate(server, team.member.token, 'updateCard', { cardId: card.id, description: 'second description' }, cardFields), 'Card');
      return { objectId: card.id, input: { cardId: card.id, title: 'Updated title' } };
    },
    checkChanged: (card) => expect(card.title).toBe('Updated title'),
  },
  {
    mutation: 'moveCard',
    typename: 'Card',
    eventType: 'CARD_MOVED',
    user: () => team.owner,
    prepare: async () => {
      const { card, columns } = await cardOnFreshBoard('Move me');
      expectResult(await mutate(server, team.member.token, 'updateCard', { cardId: card.id, title: 'Move me now' }, cardFields), 'Card');
      return { objectId: card.id, input: { cardId: card.id, toColumnId: columns.Done } };
    },
    checkChanged: (after, before) => expect(after.column.id).not.toBe(before.column.id),
  },
  {
    mutation: 'archiveCard',
    typename: 'Card',
    eventType: 'CARD_ARCHIVED',
    user: () => team.owner,
    prepare: async () => {
      const { card } = await cardOnFreshBoard('Archive me');
      expectResult(await mutate(server, team.member.token, 'updateCard', { cardId: card.id, title: 'Archive me now' }, cardFields), 'Card');
      return { objectId: card.id, input: { cardId: card.id, archived: true } };
    },
    checkChanged: (card) => expect(card.archived).toBe(true),
  },
  {
    mutation: 'renameColumn',
    typename: 'Column',
    eventType: 'COLUMN_RENAMED',
    user: () => team.owner,
    prepare: async () => {
      const { columns } = await createBoardWithColumns('Conflicts renameColumn', ['Backlog', 'Done']);
      expectResult(await mutate(server, team.member.token, 'renameColumn', { columnId: columns.Backlog, name: 'Icebox' }, columnFields), 'Column');
      return { objectId: columns.Backlog!, input: { columnId: columns.Backlog, name: 'Later' } };
    },
    checkChanged: (column) => expect(column.name).toBe('Later'),
  },
  {
    mutation: 'moveColumn',
    typename: 'Column',
    eventType: 'COLUMN_MOVED',
    user: () => team.owner,
    prepare: async () => {
      const { columns } = await createBoardWithColumns('Conflicts moveColumn', ['Backlog', 'Done']);
      expectResult(await mutate(server, team.member.token, 'renameColumn', { columnId: columns.Backlog, name: 'Icebox' }, columnFields), 'Column');
      return { objectId: columns.Backlog!, input: { columnId: columns.Backlog, afterColumnId: columns.Done } };
    },
    checkChanged: (after, before) => expect(after.position > before.position).toBe(true),
  },
  {
    mutation: 'renameBoard',
    typename: 'Board',
    eventType: 'BOARD_RENAMED',
    user: () => team.owner,
    prepare: async () => {
      const { boardId } = await createBoardWithColumns('Conflicts renameBoard', []);
      expectResult(await mutate(server, team.member.token, 'renameBoard', { boardId, name: 'Renamed once' }, '... on Board { id }'), 'Board');
      return { objectId: boardId, input: { boardId, name: 'Renamed twice' } };
    },
    checkChanged: (board) => expect(board.name).toBe('Renamed twice'),
  },
  {
    mutation: 'editComment',
    typename: 'Comment',
    eventType: 'COMMENT_EDITED',
    user: () => team.member,
    prepare: async () => {
      const { card } = await cardOnFreshBoard('Discuss me');
      const comment = expectResult(await mutate(server, team.member.token, 'addComment', { cardId: card.id, body: 'First take' }, '... on Comment { id }'), 'Comment');
      expectResult(await mutate(server, team.member.token, 'editComment', { commentId: comment.id, body: 'Second take' }, '... on Comment { id }'), 'Comment');
      return { objectId: comment.id, input: { commentId: comment.id, body: 'Third take' } };
    },
    checkChanged: (comment) => expect(comment.body).toBe('Third take'),
  },
];

/** Board id of a card, column or comment. */
async function readBoardIdOf(objectId: string): Promise<string> {
  const data = await graphqlData(
    server,
    `query($id: ID!) { node(id: $id) { ... on Card { board { id } } ... on Column { board { id } } ... on Comment { card { board { id } } } } }`,
    { id: objectId },
    team.owner.token,
  );
  return data.node.board?.id ?? data.node.card.board.id;
}

describe('version conflicts', () => {
  it.each(conflictCases.map((conflictCase) => [conflictCase.mutation, conflictCase] as const))('%s rejects stale versions', async (_name, conflictCase) => {
    const { objectId, input } = await conflictCase.prepare();
    const boardId = conflictCase.typename === 'Board' ? objectId : await readBoardIdOf(objectId);
    const before = await readObject(objectId);
    expect(before.__typename).toBe(conflictCase.typename);
    expect(before.version).toBe(2);
    const logBefore = await readEventLog(server, boardId);

    // A version ahead of the object, or below 1, was never issued: a validation error.
    for (const expectedVersion of [3, 0]) {
      const result = await mutate(server, conflictCase.user().token, conflictCase.mutation, { ...input, expectedVersion }, conflictFields);
      expectResult(result, 'ValidationError');
      expect(result.field).toBe('input.expectedVersion');
      expect(result.message).toMatch(/only reached version 2/);
      expect(await readObject(objectId), `${conflictCase.typename} after the invalid version`).toEqual(before);
      expect(await readEventLog(server, boardId), 'event log after the invalid version').toEqual(logBefore);
    }

    // One version behind, as after a missed change.
    for (const expectedVersion of [1]) {
      const result = await mutate(server, conflictCase.user().token, conflictCase.mutation, { ...input, expectedVersion }, conflictFields);
      expectResult(result, 'ConflictError');
      expect(result.code).toBe('CONFLICT');
      expect(result.expectedVersion).toBe(expectedVersion);
      expect(result.currentVersion).toBe(2);
      expect(result.message).toMatch(/version 2/);
      expect(result.current).toEqual(before);

      expect(await readObject(objectId), `${conflictCase.typename} after the conflict`).toEqual(before);
      expect(await readEventLog(server, boardId), 'event log after the conflict').toEqual(logBefore);
    }

    const result = await mutate(server, conflictCase.user().token, conflictCase.mutation, { ...input, expectedVersion: 2 }, versionedFields[conflictCase.typename]!);
    expectResult(result, conflictCase.typename);
    expect(result.id).toBe(objectId);
    expect(result.version).toBe(3);
    conflictCase.checkChanged(result, before);
    expect(await readObject(objectId)).toEqual(result);

    const added = (await readEventLog(server, boardId)).slice(logBefore.length);
    expect(added.map((row) => row.type)).toEqual([conflictCase.eventType]);
    expect(added[0]!.actorId).toBe(rawId(conflictCase.user().id));
  });
});

describe('concurrent moves', () => {
  it('only one concurrent move wins', async () => {
    const { boardId, columns } = await createBoardWithColumns('Race', ['To do', 'Doing', 'Done']);
    const card = await newCard(team.owner, { columnId: columns['To do'], title: 'Contested' });
    const events = await watchBoard(boardId);
    const winners: string[] = [];

    for (let round = 0; round < 10; round += 1) {
      const before = await readObject(card.id);
      const [targetA, targetB] = Object.values(columns).filter((columnId) => columnId !== before.column.id);
      const logBefore = await readEventLog(server, boardId);

      const results = await Promise.all([
        mutate(server, team.owner.token, 'moveCard', { cardId: card.id, toColumnId: targetA, expectedVersion: before.version }, `${cardFields} ${conflictFields}`),
        mutate(server, team.member.token, 'moveCard', { cardId: card.id, toColumnId: targetB, expectedVersion: before.version }, `${cardFields} ${conflictFields}`),
      ]);

      const typenames = results.map((result) => result.__typename).sort();
      expect(typenames, `round ${round}: ${JSON.stringify(results)}`).toEqual(['Card', 'ConflictError']);
      const winnerIndex = results.findIndex((result) => result.__typename === 'Card');
      const winner = results[winnerIndex];
      const loser = results[1 - winnerIndex];
      const winnerTarget = winnerIndex === 0 ? targetA! : targetB!;
      winners.push(winnerTarget);

      expect(winner.version).toBe(before.version + 1);
      expect(winner.column.id).toBe(winnerTarget);
      expect(loser.code).toBe('CONFLICT');
      expect(loser.expectedVersion).toBe(before.version);
      expect(loser.currentVersion).toBe(before.version + 1);
      expect(loser.current.__typename).toBe('Card');
      expect(loser.current.id).toBe(card.id);
      expect(loser.current.version).toBe(before.version + 1);
      expect(loser.current.column.id).toBe(winnerTarget);

      const after = await readObject(card.id);
      expect(after.column.id).toBe(winnerTarget);
      expect(after.version).toBe(before.version + 1);

      const added = (await readEventLog(server, boardId)).slice(logBefore.length);
      expect(added.map((row) => row.type), `round ${round} event log`).toEqual(['CARD_MOVED']);
      expect(added[0]!.payload).toMatchObject({ cardId: rawId(card.id), fromColumnId: rawId(before.column.id), toColumnId: rawId(winnerTarget) });
    }

    const delivered = await eventsBeforeMarker(events, boardId);
    expect(delivered.map((event) => event.__typename)).toEqual(winners.map(() => 'CardMovedEvent'));
    expect(delivered.map((event) => event.card.id)).toEqual(winners.map(() => card.id));
    expect(delivered.map((event) => event.toColumn.id)).toEqual(winners);
  });
});

describe('field-level merging', () => {
  it('concurrent edits of different fields merge', async () => {
    const { boardId, columns } = await createBoardWithColumns('Merge', ['To do']);
    const card = await newCard(team.owner, { columnId: columns['To do'], title: 'Title 0', description: 'Description 0' });

    for (let round = 1; round <= 5; round += 1) {
      const before = await readObject(card.id);
      const logBefore = await readEventLog(server, boardId);

      const [titleResult, descriptionResult] = await Promise.all([
        mutate(server, team.owner.token, 'updateCard', { cardId: card.id, title: `Title ${round}` }, cardFields),
        mutate(server, team.member.token, 'updateCard', { cardId: card.id, description: `Description ${round}` }, cardFields),
      ]);
      expectResult(titleResult, 'Card');
      expectResult(descriptionResult, 'Card');

      const after = await readObject(card.id);
      expect(after.title, `round ${round}`).toBe(`Title ${round}`);
      expect(after.description, `round ${round}`).toBe(`Description ${round}`);
      expect(after.version).toBe(before.version + 2);

      const added = (await readEventLog(server, boardId)).slice(logBefore.length);
      expect(added.map((row) => row.type)).toEqual(['CARD_UPDATED', 'CARD_UPDATED']);
      expect(added.map((row) => row.payload.changedFields).sort()).toEqual([['description'], ['title']]);
    }
  });
});

describe('inserts between neighbours', () => {
  /** Creates a board whose column Main contains W, X, Y, Z in that order, and whose column Side contains M1 and M2. */
  async function neighbourBoard(name: string) {
    const { boardId, columns } = await createBoardWithColumns(name, ['Main', 'Side']);
    const ids: Record<string, string> = {};
    for (const title of ['W', 'X', 'Y', 'Z']) ids[title] = (await newCard(team.owner, { columnId: columns.Main, title })).id;
    for (const title of ['M1', 'M2']) ids[title] = (await newCard(team.owner, { columnId: columns.Side, title })).id;
    return { boardId, columns, ids };
  }

  /** Asserts that the column shows `expectedTitles` in order, where a set matches its members in any order. */
  function expectLayout(cards: CardRow[], expectedTitles: (string | Set<string>)[]) {
    const titles = cards.map((card) => card.title);
    let index = 0;
    for (const expected of expectedTitles) {
      if (typeof expected === 'string') {
        expect(titles[index], `card ${index} of ${JSON.stringify(titles)}`).toBe(expected);
        index += 1;
      } else {
        const group = titles.slice(index, index + expected.size);
        expect(new Set(group), `cards ${index} to ${index + expected.size - 1} of ${JSON.stringify(titles)}`).toEqual(expected);
        index += expected.size;
      }
    }
    expect(titles.length).toBe(index);
  }

  it('concurrent creates land between neighbours', async () => {
    const { boardId, columns, ids } = await neighbourBoard('Inserts');
    const before = await columnCards(boardId, columns.Main!);
    const logBefore = await readEventLog(server, boardId);

    const created = await Promise.all([
      newCard(team.owner, { columnId: columns.Main, title: 'A1', afterCardId: ids.X }),
      newCard(team.member, { columnId: columns.Main, title: 'A2', afterCardId: ids.X }),
    ]);
    expect(created[0].id).not.toBe(created[1].id);

    const after = await columnCards(boardId, columns.Main!);
    expectLayout(after, ['W', 'X', new Set(['A1', 'A2']), 'Y', 'Z']);
    expect(await columnCards(boardId, columns.Main!), 'the same column read again').toEqual(after);
    expectOrderedPositions(after.map((card) => card.position));
    expect(new Set(after.map((card) => card.position)).size).toBe(after.length);
    // No renumbering: the cards that were there keep their keys and versions.
    expect(after.filter((card) => !card.title.startsWith('A'))).toEqual(before);

    const added = (await readEventLog(server, boardId)).slice(logBefore.length);
    expect(added.map((row) => row.type)).toEqual(['CARD_CREATED', 'CARD_CREATED']);
  });

  it('concurrent moves land between neighbours', async () => {
    const { boardId, columns, ids } = await neighbourBoard('Moves');
    const before = await columnCards(boardId, columns.Main!);
    const logBefore = await readEventLog(server, boardId);

    const moved = await Promise.all([
      mutate(server, team.owner.token, 'moveCard', { cardId: ids.M1, toColumnId: columns.Main, afterCardId: ids.X }, cardFields),
      mutate(server, team.member.token, 'moveCard', { cardId: ids.M2, toColumnId: columns.Main, afterCardId: ids.X }, cardFields),
    ]);
    for (const result of moved) expect(expectResult(result, 'Card').column.id).toBe(columns.Main);

    const after = await columnCards(boardId, columns.Main!);
    expectLayout(after, ['W', 'X', new Set(['M1', 'M2']), 'Y', 'Z']);
    expect(await columnCards(boardId, columns.Main!), 'the same column read again').toEqual(after);
    expectOrderedPositions(after.map((card) => card.position));
    expect(new Set(after.map((card) => card.position)).size).toBe(after.length);
    expect(after.filter((card) => !card.title.startsWith('M'))).toEqual(before);
    expect(await columnCards(boardId, columns.Side!)).toEqual([]);

    const added = (await readEventLog(server, boardId)).slice(logBefore.length);
    expect(added.map((row) => row.type)).toEqual(['CARD_MOVED', 'CARD_MOVED']);
    expect(added.map((row) => row.payload.cardId).sort()).toEqual([rawId(ids.M1!), rawId(ids.M2!)].sort());
  });
});

describe('position rebalancing', () => {
  it('long card keys rebalance the column', async () => {
    const { boardId, columns } = await createBoardWithColumns('Rebalance cards', ['Stack']);
    const columnId = columns.Stack!;
    const x = await newCard(team.owner, { columnId, title: 'X' });
    const y = await newCard(team.owner, { columnId, title: 'Y' });

    // Each card goes right after X, so its key lies between X and the card
    // inserted before it. The keys grow by about one character every six inserts.
    const expectedOrder = [x.id, y.id];
    let nextPosition: string = y.position;
    while (generateKeyBetween(x.position, nextPosition).length <= maxPositionLength) {
      const card = await newCard(team.owner, { columnId, title: `N${expectedOrder.length - 1}`, afterCardId: x.id });
      expect(card.position.length).toBeLessThanOrEqual(maxPositionLength);
      expect(card.position > x.position, `${card.position} sorts after X at ${x.position}`).toBe(true);
      expect(card.position < nextPosition, `${card.position} sorts before ${nextPosition}`).toBe(true);
      expectedOrder.splice(1, 0, card.id);
      nextPosition = card.position;
      expect(expectedOrder.length, 'inserts before the keys grew past the limit').toBeLessThan(1000);
    }

    const before = await columnCards(boardId, columnId);
    expect(before.map((card) => card.id)).toEqual(expectedOrder);
    expectOrderedPositions(before.map((card) => card.position));
    expect(Math.max(...before.map((card) => card.position.length))).toBeGreaterThan(maxPositionLength - 5);
    const logBefore = await readEventLog(server, boardId);
    expect(logBefore.filter((row) => row.type === 'CARD_MOVED'), 'moves logged before the keys grew past the limit').toEqual([]);
    const events = await watchBoard(boardId);

    const trigger = await newCard(team.member, { columnId, title: 'Trigger', afterCardId: x.id });

    const after = await columnCards(boardId, columnId);
    expect(after.map((card) => card.id)).toEqual([x.id, trigger.id, ...expectedOrder.slice(1)]);
    expectOrderedPositions(after.map((card) => card.position));
    const afterById = new Map(after.map((card) => [card.id, card]));
    for (const card of before) {
      expect(afterById.get(card.id)!.position.length, `new position of ${card.title}`).toBeLessThanOrEqual(5);
    }

    // Every card whose key changed got one CARD_MOVED within the column and
    // one more version, in column order, followed by the CARD_CREATED, all
    // in one run of sequences. A card whose key happened to stay keeps its version.
    const rekeyed = before.filter((card) => afterById.get(card.id)!.position !== card.position);
    expect(rekeyed.length, 'cards that got a new key').toBeGreaterThan(before.length - 2);
    for (const card of before) {
      const bump = rekeyed.includes(card) ? 1 : 0;
      expect(afterById.get(card.id)!.version, `version of ${card.title}`).toBe(card.version + bump);
    }
    const added = (await readEventLog(server, boardId)).slice(logBefore.length);
    expect(added.map((row) => row.sequence)).toEqual(added.map((_row, index) => logBefore.length + index + 1));
    expect(added.map((row) => row.type)).toEqual([...rekeyed.map(() => 'CARD_MOVED'), 'CARD_CREATED']);
    expect(added.every((row) => row.actorId === rawId(team.member.id))).toBe(true);
    expect(added.slice(0, -1).map((row) => row.payload)).toEqual(
      rekeyed.map((card) => ({ cardId: rawId(card.id), fromColumnId: rawId(columnId), toColumnId: rawId(columnId), position: afterById.get(card.id)!.position })),
    );
    expect(added.at(-1)!.payload).toEqual({ cardId: rawId(trigger.id), columnId: rawId(columnId) });

    await events.count(rekeyed.length + 1, 20_000);
    const delivered = await eventsBeforeMarker(events, boardId);
    expect(delivered.map((event) => event.__typename)).toEqual([...rekeyed.map(() => 'CardMovedEvent'), 'CardCreatedEvent']);
    for (const [index, card] of rekeyed.entries()) {
      const event = delivered[index];
      expect(event.card.id).toBe(card.id);
      expect(event.fromColumn.id).toBe(columnId);
      expect(event.toColumn.id).toBe(columnId);
      expect(event.position).toBe(afterById.get(card.id)!.position);
    }
    expect(delivered.at(-1).card.id).toBe(trigger.id);
  });

  it('long column keys rebalance the board', async () => {
    const { boardId, columns } = await createBoardWithColumns('Rebalance columns', ['A', 'B', 'C', 'D', 'E']);
    const positions = new Map((await boardColumns(boardId)).map((column) => [column.id, column.position]));

    // Moving the third column right after A puts its key between A and the
    // second column. Alternating B and C halves that gap with every move.
    let order = ['A', 'B', 'C', 'D', 'E'].map((name) => columns[name]!);
    const anchor = order[0]!;
    let moves = 0;
    while (generateKeyBetween(positions.get(anchor)!, positions.get(order[1]!)!).length <= maxPositionLength) {
      const [, second, third, ...rest] = order;
      const moved = expectResult(await mutate(server, team.owner.token, 'moveColumn', { columnId: third, afterColumnId: anchor }, columnFields), 'Column');
      expect(moved.position.length).toBeLessThanOrEqual(maxPositionLength);
      expect(moved.position > positions.get(anchor)!, `${moved.position} sorts after A`).toBe(true);
      expect(moved.position < positions.get(second!)!, `${moved.position} sorts before the second column`).toBe(true);
      positions.set(third!, moved.position);
      order = [anchor, third!, second!, ...rest];
      moves += 1;
      expect(moves, 'moves before the keys grew past the limit').toBeLessThan(1000);
    }

    const before = await boardColumns(boardId);
    expect(before.map((column) => column.id)).toEqual(order);
    expectOrderedPositions(before.map((column) => column.position));
    const logBefore = await readEventLog(server, boardId);
    const events = await watchBoard(boardId);
    const [, second, mover, ...rest] = order;

    const moved = expectResult(await mutate(server, team.member.token, 'moveColumn', { columnId: mover, afterColumnId: anchor }, columnFields), 'Column');
    expect(moved.version).toBe(before.find((column) => column.id === mover)!.version + 1);

    const after = await boardColumns(boardId);
    expect(after.map((column) => column.id)).toEqual([anchor, mover, second, ...rest]);
    expectOrderedPositions(after.map((column) => column.position));
    const siblings = before.filter((column) => column.id !== mover);
    const afterById = new Map(after.map((column) => [column.id, column]));
    for (const column of siblings) {
      expect(afterById.get(column.id)!.position.length, `new position of column ${column.name}`).toBeLessThanOrEqual(5);
    }

    // Every other column whose key changed got one COLUMN_MOVED and one more
    // version, then the moved column got its own COLUMN_MOVED.
    const rekeyed = siblings.filter((column) => afterById.get(column.id)!.position !== column.position);
    expect(rekeyed.length, 'columns that got a new key').toBeGreaterThan(siblings.length - 2);
    for (const column of siblings) {
      const bump = rekeyed.includes(column) ? 1 : 0;
      expect(afterById.get(column.id)!.version, `version of column ${column.name}`).toBe(column.version + bump);
    }
    const added = (await readEventLog(server, boardId)).slice(logBefore.length);
    expect(added.map((row) => row.sequence)).toEqual(added.map((_row, index) => logBefore.length + index + 1));
    expect(added.map((row) => row.type)).toEqual([...rekeyed.map(() => 'COLUMN_MOVED'), 'COLUMN_MOVED']);
    expect(added.map((row) => row.payload)).toEqual(
      [...rekeyed.map((column) => column.id), mover!].map((id) => ({ columnId: rawId(id), position: afterById.get(id)!.position })),
    );

    const delivered = await eventsBeforeMarker(events, boardId);
    expect(delivered.map((event) => event.__typename)).toEqual(added.map(() => 'ColumnMovedEvent'));
    expect(delivered.map((event) => event.column.id)).toEqual([...rekeyed.map((column) => column.id), mover]);
    expect(delivered.map((event) => event.position)).toEqual(added.map((row) => row.payload.position));
  });
});

describe('idempotent retries', () => {
  let keyCounter = 0;
  /** Returns a key unique within this run, as a client would make with a UUID. */
  function newKey(label: string): string {
    keyCounter += 1;
    return `${label}-${keyCounter}-${Date.now()}`;
  }

  async function countCardEvents(boardId: string, type: string, cardId: string): Promise<number> {
    return (await readEventLog(server, boardId)).filter((row) => row.type === type && row.payload.cardId === rawId(cardId)).length;
  }

  it('retried createCard returns same card', async () => {
    const { boardId, columns } = await createBoardWithColumns('Retries create', ['To do']);
    const input = { columnId: columns['To do'], title: 'Exactly once', idempotencyKey: newKey('create') };

    const first = await newCard(team.owner, input);
    const retry = await newCard(team.owner, input);

    expect(retry).toEqual(first);
    expect(await countCards('"columnId" = ?', rawId(columns['To do']!))).toBe(1);
    expect((await readEventLog(server, boardId)).filter((row) => row.type === 'CARD_CREATED')).toHaveLength(1);
  });

  it('retried moveCard changes nothing more', async () => {
    const { boardId, columns } = await createBoardWithColumns('Retries move', ['To do', 'Done']);
    const card = await newCard(team.owner, { columnId: columns['To do'], title: 'Move once' });
    const input = { cardId: card.id, toColumnId: columns.Done, idempotencyKey: newKey('move') };

    const first = expectResult(await mutate(server, team.owner.token, 'moveCard', input, cardFields), 'Card');
    expect(first.column.id).toBe(columns.Done);
    expect(first.version).toBe(card.version + 1);
    const retry = expectResult(await mutate(server, team.owner.token, 'moveCard', input, cardFields), 'Card');
    expect(retry).toEqual(first);
    expect(await countCardEvents(boardId, 'CARD_MOVED', card.id)).toBe(1);

    // Someone moves the card back, so a late retry of the first move must not undo that.
    expectResult(await mutate(server, team.member.token, 'moveCard', { cardId: card.id, toColumnId: columns['To do'] }, cardFields), 'Card');
    const lateRetry = expectResult(await mutate(server, team.owner.token, 'moveCard', input, cardFields), 'Card');
    expect(lateRetry.id).toBe(card.id);
    const now = await readObject(card.id);
    expect(now.column.id).toBe(columns['To do']);
    expect(now.version).toBe(card.version + 2);
    expect(await countCardEvents(boardId, 'CARD_MOVED', card.id)).toBe(2);
  });

  it('reused key with other input fails', async () => {
    const { boardId, columns } = await createBoardWithColumns('Retries reuse', ['To do', 'Done']);
    const key = newKey('reuse');
    const card = await newCard(team.owner, { columnId: columns['To do'], title: 'Original', idempotencyKey: key });
    const logBefore = await readEventLog(server, boardId);

    const otherTitle = await mutate(server, team.owner.token, 'createCard', { columnId: columns['To do'], title: 'Different', idempotencyKey: key }, cardFields);
    expectResult(otherTitle, 'ValidationError');
    expect(otherTitle.code).toBe('VALIDATION_FAILED');
    expect(otherTitle.field).toBe('input.idempotencyKey');
    expect(otherTitle.message).toMatch(/already used/);
    expect(otherTitle.message).toMatch(/new key/);

    const otherOperation = await mutate(server, team.owner.token, 'moveCard', { cardId: card.id, toColumnId: columns.Done, idempotencyKey: key }, cardFields);
    expectResult(otherOperation, 'ValidationError');
    expect(otherOperation.field).toBe('input.idempotencyKey');
    expect(otherOperation.message).toMatch(/already used/);

    expect(await countCards('"boardId" = ?', rawId(boardId))).toBe(1);
    expect(await readObject(card.id)).toEqual(card);
    expect(await readEventLog(server, boardId)).toEqual(logBefore);
  });

  it('retry after removal is forbidden', async () => {
    const leaver = await signUp(server, 'leaver');
    const workspace = expectResult(await mutate(server, team.owner.token, 'createWorkspace', { name: 'Temporary access' }, '... on Workspace { id }'), 'Workspace');
    expectResult(await mutate(server, team.owner.token, 'addMember', { workspaceId: workspace.id, email: leaver.email, role: 'MEMBER' }, '... on Membership { id }'), 'Membership');
    const board = expectResult(await mutate(server, team.owner.token, 'createBoard', { workspaceId: workspace.id, name: 'Plans' }, '... on Board { id }'), 'Board');
    const column = expectResult(await mutate(server, team.owner.token, 'createColumn', { boardId: board.id, name: 'To do' }, '... on Column { id }'), 'Column');
    const input = { columnId: column.id, title: 'Made while a member', idempotencyKey: newKey('removed') };
    const created = expectResult(await mutate(server, leaver.token, 'createCard', input, '... on Card { id }'), 'Card');
    expectResult(await mutate(server, team.owner.token, 'removeMember', { workspaceId: workspace.id, userId: leaver.id }, '... on RemovedMember { role }'), 'RemovedMember');

    // The stored result must not show the card to someone who lost access.
    const retry = await mutate(server, leaver.token, 'createCard', input, '... on Card { id title }');
    expectResult(retry, 'ForbiddenError');
    expect(retry.title).toBeUndefined();
    expect(created.id).toBeTruthy();
  });

  it('keys are scoped per user', async () => {
    const { boardId, columns } = await createBoardWithColumns('Retries users', ['To do']);
    const input = { columnId: columns['To do'], title: 'Same words', idempotencyKey: newKey('shared') };

    const owners = await newCard(team.owner, input);
    const members = await newCard(team.member, input);

    expect(members.id).not.toBe(owners.id);
    expect(members.position > owners.position).toBe(true);
    expect(await countCards('"boardId" = ?', rawId(boardId))).toBe(2);
    expect((await readEventLog(server, boardId)).filter((row) => row.type === 'CARD_CREATED').map((row) => row.actorId)).toEqual([rawId(team.owner.id), rawId(team.member.id)]);
  });

  it('concurrent duplicates create one card', async () => {
    const { boardId, columns } = await createBoardWithColumns('Retries concurrent', ['To do']);

    for (let round = 0; round < 5; round += 1) {
      const input = { columnId: columns['To do'], title: `Twin ${round}`, idempotencyKey: newKey('twin') };
      const [first, second] = await Promise.all([newCard(team.owner, input), newCard(team.owner, input)]);

      expect(second.id, `round ${round}`).toBe(first.id);
      expect(await countCards('"boardId" = ? AND "title" = ?', rawId(boardId), `Twin ${round}`)).toBe(1);
      expect(await countCardEvents(boardId, 'CARD_CREATED', first.id)).toBe(1);
    }
    expect(await countCards('"boardId" = ?', rawId(boardId))).toBe(5);
  });

  it('empty and oversized keys fail', async () => {
    const { boardId, columns } = await createBoardWithColumns('Retries keys', ['To do']);

    for (const idempotencyKey of ['', 'k'.repeat(201)]) {
      const result = await mutate(server, team.owner.token, 'createCard', { columnId: columns['To do'], title: 'Keyed badly', idempotencyKey }, cardFields);
      expectResult(result, 'ValidationError');
      expect(result.code).toBe('VALIDATION_FAILED');
      expect(result.field).toBe('input.idempotencyKey');
      expect(result.message).toMatch(/1 to 200 characters/);
    }
    expect(await countCards('"boardId" = ?', rawId(boardId))).toBe(0);
    expect((await readEventLog(server, boardId)).filter((row) => row.type === 'CARD_CREATED')).toEqual([]);

    const longest = await newCard(team.owner, { columnId: columns['To do'], title: 'Keyed at the limit', idempotencyKey: 'k'.repeat(200) });
    expect(await countCards('"boardId" = ?', rawId(boardId))).toBe(1);
    expect(longest.title).toBe('Keyed at the limit');
  });
});
