import { parse, type ExecutionResult } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBoardStream, type StreamItem } from '../src/realtime/board-stream.js';
import { commitWithEvents } from '../src/realtime/outbox.js';
import { EventType, eventFromRow, type BoardEventRecord } from '../src/realtime/events.js';
import { boardTopic } from '../src/realtime/events.js';
import { createLoaders, forkContext, type Context } from '../src/schema/context.js';
import { schema } from '../src/schema/index.js';
import { executeEvents } from '../src/schema/subscribe.js';
import { graphqlData, socketClient, subscribeSocket } from './support/client.js';
import { createCard, createTeam, mutate, type Team, rawId } from './support/fixtures.js';
import { startServer, type TestServer, waitForListeners } from './support/server.js';

let server: TestServer;
let team: Team;

beforeAll(async () => {
  server = await startServer();
  team = await createTeam(server);
});
afterAll(() => server.stop());



describe('transactional outbox', () => {
  it('rollback logs and publishes nothing', async () => {
    const { db, bus } = server.app.services;
    const boardId = rawId(team.boardId);
    const before = await db.board.findUniqueOrThrow({ where: { id: boardId } });
    const published: BoardEventRecord[] = [];
    const unsubscribe = bus.subscribe(boardTopic(boardId), (event) => published.push(event));

    await expect(
      commitWithEvents(server.app.services, null, async (tx, append) => {
        await tx.board.update({ where: { id: boardId }, data: { name: 'Never committed' } });
        await append(boardId, EventType.BOARD_RENAMED, { name: 'Never committed' });
        throw new Error('fails after the event was appended');
      }),
    ).rejects.toThrow('fails after the event was appended');

    const after = await db.board.findUniqueOrThrow({ where: { id: boardId } });
    expect(after.name).toBe(before.name);
    expect(after.eventSequence).toBe(before.eventSequence);
    expect(await db.boardEvent.count({ where: { boardId, sequence: { gt: before.eventSequence } } })).toBe(0);
    expect(published).toEqual([]);
    unsubscribe();
  });

  it('commit publishes after the row exists', async () => {
    const { db, bus } = server.app.services;
    const boardId = rawId(team.boardId);
    const seen: { sequence: number; rowExists: boolean }[] = [];
    const checks: Promise<void>[] = [];
    const unsubscribe = bus.subscribe(boardTopic(boardId), (event) => {
      checks.push(
        db.boardEvent.count({ where: { boardId, sequence: event.sequence } }).then((count) => {
          seen.push({ sequence: event.sequence, rowExists: count === 1 });
        }),
      );
    });
    await mutate(server, team.owner.token, 'renameBoard', { boardId: team.boardId, name: 'Committed name' }, '... on Board { id }');
    await Promise.all(checks);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.rowExists).toBe(true);
    unsubscribe();
  });
});

describe('per-event context', () => {
  const subscription = `subscription($b: ID!) { boardEvents(boardId: $b) { sequence ... on CardUpdatedEvent { card { title } } ... on CardAssignedEvent { card { title assignees { displayName } } } ... on CardUnassignedEvent { card { assignees { displayName } } } } }`;

  it('events show state after their commit', async () => {
    const cardId = await createCard(server, team.owner.token, team.todoId, 'Draft');
    const client = socketClient(server, team.viewer.token);
    const listenersBefore = server.app.services.bus.listenerCount();
    const { collector, unsubscribe } = subscribeSocket(client, subscription, { b: team.boardId });
    await waitForListeners(server, listenersBefore + 1);

    await mutate(server, team.owner.token, 'updateCard', { cardId, title: 'First title' }, '... on Card { id }');
    await collector.count(1);
    await mutate(server, team.owner.token, 'updateCard', { cardId, title: 'Second title' }, '... on Card { id }');
    await collector.count(2);
    await mutate(server, team.owner.token, 'assignCard', { cardId, userId: team.member.id }, '... on Card { id }');
    await collector.count(3);
    await mutate(server, team.owner.token, 'unassignCard', { cardId, userId: team.member.id }, '... on Card { id }');
    const events = (await collector.count(4)).map((result) => result.data.boardEvents);

    expect(events[0].card.title).toBe('First title');
    expect(events[1].card.title).toBe('Second title');
    expect(events[2].card.assignees.map((user: { displayName: string }) => user.displayName)).toEqual(['member']);
    expect(events[3].card.assignees).toEqual([]);
    unsubscribe();
    await client.dispose();
  });

  it('a shared context would serve stale values', async () => {
    // Positive control for the test above: the same two events executed
    // with one context for both show the first title twice.
    const { db } = server.app.services;
    const cardId = await createCard(server, team.owner.token, team.todoId, 'Before');
    const card = await db.card.findUniqueOrThrow({ where: { id: rawId(cardId) } });
    const event = (sequence: number): BoardEventRecord => ({
      boardId: card.boardId,
      sequence,
      type: EventType.CARD_UPDATED,
      payload: { cardId: card.id, changedFields: ['title'] },
      actorId: null,
      createdAt: new Date(),
    });
    const context: Context = {
      services: server.app.services,
      db,
      viewer: null,
      authProblem: null,
      transport: 'websocket',
      loaders: createLoaders(db),
      logger: server.app.services.logger,
    };
    const document = parse(`subscription { boardEvents(boardId: "unused") { ... on CardUpdatedEvent { card { title } } } }`);

    async function titlesWith(fork: (ctx: Context) => Context) {
      await db.card.update({ where: { id: card.id }, data: { title: 'Before' } });
      const titles: string[] = [];
      async function* source() {
        yield { event: event(1), scope: 'OWNER' };
        await db.card.update({ where: { id: card.id }, data: { title: 'After' } });
        yield { event: event(2), scope: 'OWNER' };
      }
      for await (const result of executeEvents(source(), { schema, document, contextValue: context }, fork)) {
        titles.push((result as ExecutionResult<any>).data!.boardEvents.card.title);
      }
      return titles;
    }

    expect(await titlesWith((ctx) => ctx)).toEqual(['Before', 'Before']);
    expect(await titlesWith(forkContext)).toEqual(['Before', 'After']);
  });
});

describe('query batching', () => {
  const boardQuery = `query($id: ID!) {
    board(id: $id) {
      ... on Board {
        name
        columns(first: 10) { edges { node { name cards(first: 100) { edges { node { title commentCount assignees { displayName } creator { displayName } } } } } } }
      }
    }
  }`;

  it('a 50-card board takes few statements', async () => {
    const workspace = await mutate(server, team.owner.token, 'createWorkspace', { name: 'Batching' }, '... on Workspace { id }');
    await mutate(server, team.owner.token, 'addMember', { workspaceId: workspace.id, email: team.member.email, role: 'MEMBER' }, '... on Membership { id }');
    const board = await mutate(server, team.owner.token, 'createBoard', { workspaceId: workspace.id, name: 'Big' }, '... on Board { id }');
    const columns = [];
    for (const name of ['A', 'B']) {
      columns.push((await mutate(server, team.owner.token, 'createColumn', { boardId: board.id, name }, '... on Column { id }')).id);
    }
    for (let i = 0; i < 50; i += 1) {
      const cardId = await createCard(server, team.owner.token, columns[i % 2], `Card ${i}`);
      await mutate(server, team.owner.token, 'assignCard', { cardId, userId: team.member.id }, '... on Card { id }');
      if (i % 5 === 0) await mutate(server, team.owner.token, 'addComment', { cardId, body: `Comment on ${i}` }, '... on Comment { id }');
    }

    server.resetQueries();
    const data = await graphqlData(server, boardQuery, { id: board.id }, team.owner.token);
    const statements = server.queries.length;

    const cards = data.board.columns.edges.flatMap((column: any) => column.node.cards.edges);
    expect(cards).toHaveLength(50);
    expect(cards.every((edge: any) => edge.node.assignees[0].displayName === 'member')).toBe(true);
    expect(cards.filter((edge: any) => edge.node.commentCount === 1)).toHaveLength(10);
    // Authentication (1 statement), the access check (2) and the board with
    // its nested relations: independent of the number of cards.
    expect(statements).toBeLessThanOrEqual(10);

    // Positive control: loading the same cards one by one is counted as one
    // statement per card at least, so the counter would catch an N+1.
    server.resetQueries();
    const ids = await server.app.services.db.card.findMany({ where: { boardId: rawId(board.id) }, select: { id: true } });
    for (const { id } of ids) {
      await server.app.services.db.card.findUnique({ where: { id }, include: { assignees: true } });
    }
    expect(server.queries.length).toBeGreaterThanOrEqual(50);
  });
});

describe('statements per move', () => {
  // A move is the hottest write path. Every statement in it is raw SQL: a
  // Prisma 6.19 model query costs several times as much (docs/BENCHMARKS.md).
  it('a move runs only raw statements', async () => {
    const cardId = await createCard(server, team.owner.token, team.todoId, 'Counted');
    server.resetQueries();
    const moved = await mutate(server, team.owner.token, 'moveCard', { cardId, toColumnId: team.doneId }, '... on Card { id version }');
    expect(moved).toMatchObject({ __typename: 'Card', version: 2 });
    const statements = server.queries.filter((query) => !/^(BEGIN|COMMIT)/i.test(query.trim()));
    const list = statements.join('\n');
    // The session check, the lock (returning board and role), the card, the
    // target column, the last card, the update, the sequence, the event
    // insert and the response.
    expect(statements.length, list).toBeLessThanOrEqual(9);
    // Prisma's model queries name tables with their schema ("main"."Card"
    // on SQLite, "public"."Card" on PostgreSQL); the raw statements do not.
    expect(statements.filter((query) => /"(main|public)"\./.test(query)), list).toEqual([]);
  });
});

describe('board stream start', () => {
  it('holds events committed while starting', async () => {
    const { db, bus, logger } = server.app.services;
    const boardId = rawId(team.boardId);
    let committedDuringStart: number | undefined;
    // The stream's first read of the board returns only after another
    // change has committed and been published.
    const racingDb = new Proxy(db, {
      get(target, property, receiver) {
        if (property !== 'board') return Reflect.get(target, property, receiver);
        return {
          findUnique: async (args: Parameters<typeof db.board.findUnique>[0]) => {
            const board = await db.board.findUnique(args);
            if (committedDuringStart === undefined) {
              await mutate(server, team.owner.token, 'renameBoard', { boardId: team.boardId, name: 'Renamed while starting' }, '... on Board { eventSequence }');
              committedDuringStart = (await db.board.findUniqueOrThrow({ where: { id: boardId } })).eventSequence;
            }
            return board;
          },
        };
      },
    });

    const stream = await openBoardStream({ db: racingDb, bus, logger, boardId, userId: rawId(team.owner.id), queueLimit: 100 });
    const first = await Promise.race([
      stream.next(),
      new Promise<'timed out'>((resolve) => setTimeout(() => resolve('timed out'), 2000).unref()),
    ]);
    await stream.return!();

    expect(first).not.toBe('timed out');
    const item = (first as IteratorResult<StreamItem>).value;
    expect(item.event.sequence).toBe(committedDuringStart);
    expect(item.event.type).toBe(EventType.BOARD_RENAMED);
  });
});

describe('event log', () => {
  it('rows decode to delivered records', async () => {
    const { db } = server.app.services;
    const row = await db.boardEvent.findFirstOrThrow({ where: { boardId: rawId(team.boardId) }, orderBy: { sequence: 'desc' } });
    const record = eventFromRow(row);
    expect(record.sequence).toBe(row.sequence);
    expect(typeof record.payload).toBe('object');
  });
});
