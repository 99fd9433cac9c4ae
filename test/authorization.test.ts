import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphqlData, socketClient, subscribeSocket, type Collector, type GraphQLResponse } from './support/client.js';
import { createCard, createTeam, mutate, signUp, type Team, type TestUser } from './support/fixtures.js';
import { startServer, type TestServer } from './support/server.js';

type Role = 'owner' | 'admin' | 'member' | 'viewer' | 'outsider';
const roles: Role[] = ['owner', 'admin', 'member', 'viewer', 'outsider'];

const boardEventsSubscription = `subscription($b: ID!) {
  boardEvents(boardId: $b) {
    __typename
    sequence
    ... on CardCreatedEvent { card { id title } }
  }
}`;

/** Everything an operation in a workspace could change, read by its OWNER. */
const workspaceStateQuery = `query($w: ID!) {
  workspace(id: $w) {
    __typename
    ... on Workspace {
      name
      members(first: 100) { edges { node { id role user { id } } } }
      boards(first: 20, includeArchived: true) {
        edges { node {
          id name archived version eventSequence
          columns(first: 20) { edges { node {
            id name position version
            cards(first: 50, includeArchived: true) { edges { node {
              id title description dueAt archived version position
              assignees { id }
              comments(first: 20) { edges { node { id body version } } }
            } } }
          } } }
        } }
      }
    }
  }
}`;

/** A workspace of its own for one row of the table, so the rows cannot disturb each other. */
interface Arena {
  workspaceId: string;
  boardId: string;
  columnA: string;
  columnB: string;
}

interface TableRow {
  mutation: string;
  /** Typename of the success member of the result union. */
  success: string;
  allowed: Role[];
  /** Creates what the mutation acts on, as the OWNER, and returns its input. */
  prepare: (arena: Arena) => Promise<Record<string, unknown>>;
}

describe('authorization', () => {
  let server: TestServer;
  let team: Team;
  let admin: TestUser;
  const arenas = new Map<string, Arena>();

  beforeAll(async () => {
    server = await startServer();
    team = await createTeam(server);
    admin = await signUp(server, 'admin');
    const added = await mutate(server, team.owner.token, 'addMember', { workspaceId: team.workspaceId, email: admin.email, role: 'ADMIN' }, '');
    expect(added.__typename).toBe('Membership');
  });
  afterAll(() => server.stop());

  function user(role: Role): TestUser {
    return role === 'admin' ? admin : team[role];
  }

  async function arenaFor(key: string): Promise<Arena> {
    const cached = arenas.get(key);
    if (cached) return cached;
    const owner = team.owner.token;
    const workspace = await mutate(server, owner, 'createWorkspace', { name: `Arena ${key}` }, '... on Workspace { id }');
    for (const [member, role] of [[admin, 'ADMIN'], [team.member, 'MEMBER'], [team.viewer, 'VIEWER']] as const) {
      const added = await mutate(server, owner, 'addMember', { workspaceId: workspace.id, email: member.email, role }, '');
      expect(added.__typename).toBe('Membership');
    }
    const board = await mutate(server, owner, 'createBoard', { workspaceId: workspace.id, name: 'Board' }, '... on Board { id }');
    const columnA = await mutate(server, owner, 'createColumn', { boardId: board.id, name: 'A' }, '... on Column { id }');
    const columnB = await mutate(server, owner, 'createColumn', { boardId: board.id, name: 'B' }, '... on Column { id }');
    const arena = { workspaceId: workspace.id, boardId: board.id, columnA: columnA.id, columnB: columnB.id };
    arenas.set(key, arena);
    return arena;
  }

  async function workspaceState(workspaceId: string) {
    return graphqlData(server, workspaceStateQuery, { w: workspaceId }, team.owner.token);
  }

  async function freshBoard(arena: Arena): Promise<string> {
    const board = await mutate(server, team.owner.token, 'createBoard', { workspaceId: arena.workspaceId, name: 'Spare board' }, '... on Board { id }');
    return board.id;
  }

  async function freshColumn(arena: Arena): Promise<string> {
    const column = await mutate(server, team.owner.token, 'createColumn', { boardId: arena.boardId, name: 'Spare column' }, '... on Column { id }');
    return column.id;
  }

  async function commentBy(author: TestUser, arena: Arena): Promise<string> {
    const cardId = await createCard(server, team.owner.token, arena.columnA, 'Discussed');
    const comment = await mutate(server, author.token, 'addComment', { cardId, body: 'First thought' }, '... on Comment { id }');
    expect(comment.__typename).toBe('Comment');
    return comment.id;
  }

  async function freshMember(arena: Arena, role: string): Promise<TestUser> {
    const newcomer = await signUp(server, 'newcomer');
    const added = await mutate(server, team.owner.token, 'addMember', { workspaceId: arena.workspaceId, email: newcomer.email, role }, '');
    expect(added.__typename).toBe('Membership');
    return newcomer;
  }

  const contentEditors: Role[] = ['owner', 'admin', 'member'];
  const managers: Role[] = ['owner', 'admin'];

  const table: TableRow[] = [
    { mutation: 'createBoard', success: 'Board', allowed: contentEditors, prepare: async (a) => ({ workspaceId: a.workspaceId, name: 'New board' }) },
    { mutation: 'renameBoard', success: 'Board', allowed: contentEditors, prepare: async (a) => ({ boardId: await freshBoard(a), name: 'Renamed' }) },
    { mutation: 'archiveBoard', success: 'Board', allowed: managers, prepare: async (a) => ({ boardId: await freshBoard(a) }) },
    { mutation: 'createColumn', success: 'Column', allowed: contentEditors, prepare: async (a) => ({ boardId: a.boardId, name: 'New column' }) },
    { mutation: 'renameColumn', success: 'Column', allowed: contentEditors, prepare: async (a) => ({ columnId: await freshColumn(a), name: 'Renamed' }) },
    {
      mutation: 'moveColumn',
      success: 'Column',
      allowed: contentEditors,
      prepare: async (a) => ({ columnId: await freshColumn(a), beforeColumnId: a.columnA }),
    },
    { mutation: 'deleteColumn', success: 'DeletedColumn', allowed: contentEditors, prepare: async (a) => ({ columnId: await freshColumn(a) }) },
    { mutation: 'createCard', success: 'Card', allowed: contentEditors, prepare: async (a) => ({ columnId: a.columnA, title: 'New card' }) },
    {
      mutation: 'updateCard',
      success: 'Card',
      allowed: contentEditors,
      prepare: async (a) => ({ cardId: await createCard(server, team.owner.token, a.columnA, 'Draft'), title: 'Edited' }),
    },
    {
      mutation: 'moveCard',
      success: 'Card',
      allowed: contentEditors,
      prepare: async (a) => ({ cardId: await createCard(server, team.owner.token, a.columnA, 'Travelling'), toColumnId: a.columnB }),
    },
    {
      mutation: 'archiveCard',
      success: 'Card',
      allowed: contentEditors,
      prepare: async (a) => ({ cardId: await createCard(server, team.owner.token, a.columnA, 'Old news') }),
    },
    {
      mutation: 'assignCard',
      success: 'Card',
      allowed: contentEditors,
      prepare: async (a) => ({ cardId: await createCard(server, team.owner.token, a.columnA, 'Needs someone'), userId: team.member.id }),
    },
    {
      mutation: 'unassignCard',
      success: 'Card',
      allowed: contentEditors,
      prepare: async (a) => {
        const cardId = await createCard(server, team.owner.token, a.columnA, 'Handed over');
        const assigned = await mutate(server, team.owner.token, 'assignCard', { cardId, userId: team.member.id }, '');
        expect(assigned.__typename).toBe('Card');
        return { cardId, userId: team.member.id };
      },
    },
    {
      mutation: 'addComment',
      success: 'Comment',
      allowed: contentEditors,
      prepare: async (a) => ({ cardId: await createCard(server, team.owner.token, a.columnA, 'Open question'), body: 'An answer' }),
    },
    // The comments of these two rows are written by the MEMBER.
    {
      mutation: 'editComment',
      success: 'Comment',
      allowed: ['member'],
      prepare: async (a) => ({ commentId: await commentBy(team.member, a), body: 'Second thought' }),
    },
    {
      mutation: 'deleteComment',
      success: 'DeletedComment',
      allowed: ['owner', 'admin', 'member'],
      prepare: async (a) => ({ commentId: await commentBy(team.member, a) }),
    },
    {
      mutation: 'addMember',
      success: 'Membership',
      allowed: managers,
      prepare: async (a) => ({ workspaceId: a.workspaceId, email: (await signUp(server, 'candidate')).email, role: 'VIEWER' }),
    },
    {
      mutation: 'changeMemberRole',
      success: 'Membership',
      allowed: managers,
      prepare: async (a) => ({ workspaceId: a.workspaceId, userId: (await freshMember(a, 'VIEWER')).id, role: 'MEMBER' }),
    },
    {
      mutation: 'removeMember',
      success: 'RemovedMember',
      allowed: managers,
      prepare: async (a) => ({ workspaceId: a.workspaceId, userId: (await freshMember(a, 'VIEWER')).id }),
    },
  ];

  const cases = table.flatMap((row) =>
    roles.map((role) => ({ row, role, outcome: row.allowed.includes(role) ? 'allowed' : 'forbidden' })),
  );

  for (const { row, role, outcome } of cases) {
    it(`${row.mutation} as ${role} is ${outcome}`, async () => {
      const arena = await arenaFor(row.mutation);
      const input = await row.prepare(arena);
      const before = await workspaceState(arena.workspaceId);

      const result = await mutate(server, user(role).token, row.mutation, input, '');

      const after = await workspaceState(arena.workspaceId);
      if (outcome === 'allowed') {
        expect(result.__typename, JSON.stringify(result)).toBe(row.success);
        expect(after).not.toEqual(before);
      } else {
        expect(result.__typename, JSON.stringify(result)).toBe('ForbiddenError');
        expect(result.code).toBe('FORBIDDEN');
        expect(result.message).not.toBe('');
        expect(after).toEqual(before);
      }
    });
  }

  it("member deleting others' comment is forbidden", async () => {
    const arena = await arenaFor('comment-ownership');
    const commentId = await commentBy(team.owner, arena);
    const before = await workspaceState(arena.workspaceId);

    const result = await mutate(server, team.member.token, 'deleteComment', { commentId }, '');

    expect(result.__typename).toBe('ForbiddenError');
    expect(await workspaceState(arena.workspaceId)).toEqual(before);
  });

  it("admin editing others' comment is forbidden", async () => {
    const arena = await arenaFor('comment-ownership');
    const commentId = await commentBy(team.member, arena);
    const before = await workspaceState(arena.workspaceId);

    const result = await mutate(server, admin.token, 'editComment', { commentId, body: 'Rewritten by someone else' }, '');

    expect(result.__typename).toBe('ForbiddenError');
    expect(await workspaceState(arena.workspaceId)).toEqual(before);
  });

  it('viewer reads the board', async () => {
    const cardId = await createCard(server, team.member.token, team.todoId, 'Visible to viewers');

    const data = await graphqlData(
      server,
      `query($b: ID!) { board(id: $b) { __typename ... on Board { name columns { edges { node { name cards { edges { node { id title } } } } } } } } }`,
      { b: team.boardId },
      team.viewer.token,
    );

    expect(data.board.__typename).toBe('Board');
    expect(data.board.name).toBe('Roadmap');
    const columns = data.board.columns.edges.map((edge: any) => edge.node);
    expect(columns.map((column: any) => column.name)).toEqual(['To do', 'Done']);
    expect(columns[0].cards.edges.map((edge: any) => edge.node.id)).toContain(cardId);
  });

  it('viewer receives board events', async () => {
    const client = socketClient(server, team.viewer.token);
    const listenersBefore = server.app.services.bus.listenerCount();
    const { collector, unsubscribe } = subscribeSocket(client, boardEventsSubscription, { b: team.boardId });
    await waitForListeners(server, listenersBefore + 1);

    const cardId = await createCard(server, team.member.token, team.todoId, 'Seen live');

    const [event] = await collector.count(1);
    expect(event!.errors).toBeUndefined();
    expect(event!.data.boardEvents.__typename).toBe('CardCreatedEvent');
    expect(event!.data.boardEvents.card).toEqual({ id: cardId, title: 'Seen live' });
    unsubscribe();
    await client.dispose();
  });

  it('outsider board query is forbidden', async () => {
    const data = await graphqlData(server, `query($id: ID!) { board(id: $id) { __typename ... on Error { code } ... on Board { name } } }`, { id: team.boardId }, team.outsider.token);

    expect(data.board).toEqual({ __typename: 'ForbiddenError', code: 'FORBIDDEN' });
  });

  it('outsider workspace query is forbidden', async () => {
    const data = await graphqlData(
      server,
      `query($id: ID!) { workspace(id: $id) { __typename ... on Error { code } ... on Workspace { name } } }`,
      { id: team.workspaceId },
      team.outsider.token,
    );

    expect(data.workspace).toEqual({ __typename: 'ForbiddenError', code: 'FORBIDDEN' });
  });

  it('node returns null for outsiders', async () => {
    const cardId = await createCard(server, team.owner.token, team.todoId, 'Private card');
    const comment = await mutate(server, team.owner.token, 'addComment', { cardId, body: 'Private remark' }, '... on Comment { id }');
    const members = await graphqlData(server, `query($w: ID!) { workspace(id: $w) { ... on Workspace { members { edges { node { id } } } } } }`, { w: team.workspaceId }, team.owner.token);
    const membershipId = members.workspace.members.edges[0].node.id;
    const ids = { workspace: team.workspaceId, board: team.boardId, column: team.todoId, card: cardId, comment: comment.id, membership: membershipId };
    const nodeQuery = `query($id: ID!) { node(id: $id) { __typename id } }`;

    for (const [kind, id] of Object.entries(ids)) {
      const seenByOwner = await graphqlData(server, nodeQuery, { id }, team.owner.token);
      expect(seenByOwner.node?.id, `${kind} as owner`).toBe(id);
      const seenByOutsider = await graphqlData(server, nodeQuery, { id }, team.outsider.token);
      expect(seenByOutsider.node, `${kind} as outsider`).toBeNull();
    }
    const many = await graphqlData(server, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids: Object.values(ids) }, team.outsider.token);
    expect(many.nodes).toEqual(Object.values(ids).map(() => null));
  });

  it('workspaces lists only own memberships', async () => {
    // The team's VIEWER also joined every arena, so a new VIEWER of the team only is needed.
    const reader = await signUp(server, 'reader');
    await mutate(server, team.owner.token, 'addMember', { workspaceId: team.workspaceId, email: reader.email, role: 'VIEWER' }, '');
    const own = await mutate(server, team.outsider.token, 'createWorkspace', { name: 'Outside' }, '... on Workspace { id }');
    const listQuery = `{ workspaces(first: 100) { edges { node { id } } } }`;

    const outsiderList = await graphqlData(server, listQuery, {}, team.outsider.token);
    const readerList = await graphqlData(server, listQuery, {}, reader.token);

    expect(outsiderList.workspaces.edges.map((edge: any) => edge.node.id)).toEqual([own.id]);
    expect(readerList.workspaces.edges.map((edge: any) => edge.node.id)).toEqual([team.workspaceId]);
  });

  it('outsider subscription is forbidden', async () => {
    const listenersBefore = server.app.services.bus.listenerCount();
    const outsiderClient = socketClient(server, team.outsider.token);
    const outsider = subscribeSocket(outsiderClient, boardEventsSubscription, { b: team.boardId });
    await outsider.collector.until(() => outsider.collector.results.length > 0 || outsider.collector.completed, 'the outsider to get an answer');

    expect(errorCodes(outsider.collector)).toEqual(['FORBIDDEN']);
    expect(outsider.collector.results.every((result) => result.data == null)).toBe(true);
    expect(server.app.services.bus.listenerCount()).toBe(listenersBefore);

    // A member's subscription on the same board proves that changes were
    // delivered while the outsider's connection was still open.
    const memberClient = socketClient(server, team.member.token);
    const member = subscribeSocket(memberClient, boardEventsSubscription, { b: team.boardId });
    await waitForListeners(server, listenersBefore + 1);
    const cardId = await createCard(server, team.member.token, team.todoId, 'Members only');
    const [event] = await member.collector.count(1);
    expect(event!.data.boardEvents.card.id).toBe(cardId);

    const outsiderAnswers = outsider.collector.results.length + outsider.collector.errors.length;
    expect(outsiderAnswers).toBe(1);
    expect(JSON.stringify(outsider.collector.results)).not.toContain('Members only');

    member.unsubscribe();
    outsider.unsubscribe();
    await memberClient.dispose();
    await outsiderClient.dispose();
  });

  it("removal ends the member's subscription", async () => {
    const leaver = await signUp(server, 'leaver');
    const added = await mutate(server, team.owner.token, 'addMember', { workspaceId: team.workspaceId, email: leaver.email, role: 'MEMBER' }, '');
    expect(added.__typename).toBe('Membership');
    const listenersBefore = server.app.services.bus.listenerCount();
    const leaverClient = socketClient(server, leaver.token);
    const witnessClient = socketClient(server, team.viewer.token);
    const leaving = subscribeSocket(leaverClient, boardEventsSubscription, { b: team.boardId });
    const witness = subscribeSocket(witnessClient, boardEventsSubscription, { b: team.boardId });
    await waitForListeners(server, listenersBefore + 2);

    const beforeId = await createCard(server, team.owner.token, team.todoId, 'Before removal');
    const [seen] = await leaving.collector.count(1);
    expect(seen!.data.boardEvents.card.id).toBe(beforeId);

    const removed = await mutate(server, team.owner.token, 'removeMember', { workspaceId: team.workspaceId, userId: leaver.id }, '');
    expect(removed.__typename).toBe('RemovedMember');
    await leaving.collector.done();
    expect(leaving.collector.results).toHaveLength(2);
    expect(errorCodes(leaving.collector)).toEqual(['FORBIDDEN']);
    expect(leaving.collector.results[1]!.data ?? null).toBeNull();
    await waitForListeners(server, listenersBefore + 1, 'down');

    const afterId = await createCard(server, team.owner.token, team.todoId, 'After removal');
    await witness.collector.until(
      () => witness.collector.results.some((result) => result.data?.boardEvents.card?.id === afterId),
      'the witness to see the card created after the removal',
    );
    expect(leaving.collector.results).toHaveLength(2);
    expect(JSON.stringify(leaving.collector.results)).not.toContain('After removal');

    witness.unsubscribe();
    await leaverClient.dispose();
    await witnessClient.dispose();
  });

  it('removal withholds its own unassign events', async () => {
    // Removing a member unassigns them in the same transaction, so those
    // events are committed when they are no longer a member.
    const leaver = await signUp(server, 'assignee');
    await mutate(server, team.owner.token, 'addMember', { workspaceId: team.workspaceId, email: leaver.email, role: 'MEMBER' }, '');
    const cardId = await createCard(server, team.owner.token, team.todoId, 'Secret assignment');
    const assigned = await mutate(server, team.owner.token, 'assignCard', { cardId, userId: leaver.id }, '');
    expect(assigned.__typename).toBe('Card');
    const listenersBefore = server.app.services.bus.listenerCount();
    const leaverClient = socketClient(server, leaver.token);
    const leaving = subscribeSocket(
      leaverClient,
      `subscription($b: ID!) { boardEvents(boardId: $b) { __typename sequence ... on CardUnassignedEvent { card { id title } } } }`,
      { b: team.boardId },
    );
    await waitForListeners(server, listenersBefore + 1);

    const removed = await mutate(server, team.owner.token, 'removeMember', { workspaceId: team.workspaceId, userId: leaver.id }, '');
    expect(removed.__typename).toBe('RemovedMember');

    await leaving.collector.done();
    expect(errorCodes(leaving.collector)).toEqual(['FORBIDDEN']);
    expect(leaving.collector.results.map((result) => result.data?.boardEvents.__typename ?? 'error')).toEqual(['error']);
    expect(JSON.stringify(leaving.collector.results)).not.toContain('Secret assignment');
    await leaverClient.dispose();
  });

  it('admin cannot grant OWNER', async () => {
    const arena = await arenaFor('owner-rule');
    const candidate = await signUp(server, 'candidate');
    const before = await workspaceState(arena.workspaceId);

    const addAsOwner = await mutate(server, admin.token, 'addMember', { workspaceId: arena.workspaceId, email: candidate.email, role: 'OWNER' }, '');
    const promote = await mutate(server, admin.token, 'changeMemberRole', { workspaceId: arena.workspaceId, userId: team.member.id, role: 'OWNER' }, '');
    const promoteSelf = await mutate(server, admin.token, 'changeMemberRole', { workspaceId: arena.workspaceId, userId: admin.id, role: 'OWNER' }, '');

    expect(addAsOwner.__typename).toBe('ForbiddenError');
    expect(promote.__typename).toBe('ForbiddenError');
    expect(promoteSelf.__typename).toBe('ForbiddenError');
    expect(await workspaceState(arena.workspaceId)).toEqual(before);
  });

  it('admin cannot demote or remove OWNER', async () => {
    const arena = await arenaFor('owner-rule');
    const before = await workspaceState(arena.workspaceId);

    const demote = await mutate(server, admin.token, 'changeMemberRole', { workspaceId: arena.workspaceId, userId: team.owner.id, role: 'MEMBER' }, '');
    const remove = await mutate(server, admin.token, 'removeMember', { workspaceId: arena.workspaceId, userId: team.owner.id }, '');

    expect(demote.__typename).toBe('ForbiddenError');
    expect(remove.__typename).toBe('ForbiddenError');
    expect(await workspaceState(arena.workspaceId)).toEqual(before);
  });

  it('owner can grant OWNER', async () => {
    const arena = await arenaFor('second-owner');

    const promote = await mutate(server, team.owner.token, 'changeMemberRole', { workspaceId: arena.workspaceId, userId: admin.id, role: 'OWNER' }, '... on Membership { role }');

    expect(promote).toMatchObject({ __typename: 'Membership', role: 'OWNER' });
  });

  it('last OWNER cannot leave', async () => {
    const arena = await arenaFor('last-owner');
    const before = await workspaceState(arena.workspaceId);

    const leave = await mutate(server, team.owner.token, 'removeMember', { workspaceId: arena.workspaceId, userId: team.owner.id }, '');

    expect(leave.__typename).toBe('ValidationError');
    expect(leave.field).toBe('input.userId');
    expect(await workspaceState(arena.workspaceId)).toEqual(before);
  });

  it('last OWNER cannot be demoted', async () => {
    const arena = await arenaFor('last-owner');
    const before = await workspaceState(arena.workspaceId);

    const demote = await mutate(server, team.owner.token, 'changeMemberRole', { workspaceId: arena.workspaceId, userId: team.owner.id, role: 'ADMIN' }, '');

    expect(demote.__typename).toBe('ValidationError');
    expect(demote.field).toBe('input.role');
    expect(await workspaceState(arena.workspaceId)).toEqual(before);
  });

  it('one of two OWNERs can leave', async () => {
    const arena = await arenaFor('two-owners');
    const promote = await mutate(server, team.owner.token, 'changeMemberRole', { workspaceId: arena.workspaceId, userId: admin.id, role: 'OWNER' }, '');
    expect(promote.__typename).toBe('Membership');

    const leave = await mutate(server, team.owner.token, 'removeMember', { workspaceId: arena.workspaceId, userId: team.owner.id }, '... on RemovedMember { role }');

    expect(leave).toMatchObject({ __typename: 'RemovedMember', role: 'OWNER' });
    const state = await graphqlData(server, `query($w: ID!) { workspace(id: $w) { __typename } }`, { w: arena.workspaceId }, team.owner.token);
    expect(state.workspace.__typename).toBe('ForbiddenError');
  });
});

/** Codes of every error a subscription reported, whether in a result or as a protocol error. */
function errorCodes(collector: Collector<GraphQLResponse>): (string | undefined)[] {
  const inResults = collector.results.flatMap((result) => result.errors ?? []);
  const asProtocolErrors = collector.errors.flatMap((error) => (Array.isArray(error) ? error : [error])) as GraphQLResponse['errors'] & object;
  return [...inResults, ...asProtocolErrors].map((error) => error.extensions?.code);
}

/** Waits until the bus has `count` listeners, or at most `count` with direction 'down'. */
async function waitForListeners(server: TestServer, count: number, direction: 'up' | 'down' = 'up') {
  const reached = () => (direction === 'up' ? server.app.services.bus.listenerCount() >= count : server.app.services.bus.listenerCount() <= count);
  const deadline = Date.now() + 5000;
  while (!reached()) {
    if (Date.now() > deadline) {
      throw new Error(`Expected ${count} bus listener(s), but there are ${server.app.services.bus.listenerCount()} after 5 s.`);
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
}
