import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { graphql, graphqlData, socketClient, subscribeSocket, subscribeSse, type Collector, type GraphQLResponse } from './support/client.js';
import { createCard, createTeam, mutate, signUp, type Team, expectResult, rawId } from './support/fixtures.js';
import { startServer, type TestServer, waitForListeners, readEventLog } from './support/server.js';

/** Every field of every event type, so each test can check the ones its mutation sets. */
const eventFields = `
  __typename sequence cursor boardId occurredAt actor { id displayName }
  ... on BoardRenamedEvent { name board { id name } }
  ... on BoardArchivedEvent { archived board { id archived } }
  ... on ColumnCreatedEvent { column { id name position } }
  ... on ColumnRenamedEvent { name column { id name } }
  ... on ColumnMovedEvent { position column { id name position } }
  ... on ColumnDeletedEvent { columnId name }
  ... on CardCreatedEvent { card { id title column { id name } } }
  ... on CardUpdatedEvent { changedFields card { id title description dueAt } }
  ... on CardMovedEvent { position card { id title position } fromColumn { id name } toColumn { id name } }
  ... on CardArchivedEvent { archived card { id archived } }
  ... on CardAssignedEvent { card { id assignees { id } } assignee { id } }
  ... on CardUnassignedEvent { card { id assignees { id } } assignee { id } }
  ... on CommentAddedEvent { comment { id body author { id } } card { id commentCount } }
  ... on CommentEditedEvent { comment { id body editedAt } card { id } }
  ... on CommentDeletedEvent { commentId card { id commentCount } }
  ... on MemberAddedEvent { role member { id } }
  ... on MemberRemovedEvent { role member { id } }
  ... on MemberRoleChangedEvent { role previousRole member { id } }
`;
const boardEventsSubscription = `subscription($boardId: ID!) { boardEvents(boardId: $boardId) { ${eventFields} } }`;

const workspaceFields = '... on Workspace { id name members { edges { node { role user { id } } } } boards { edges { node { id } } } }';
const membershipFields = '... on Membership { id role user { id email } }';
const boardFields = '... on Board { id name archived version eventSequence workspace { id } columns { edges { node { id } } } }';
const columnFields = '... on Column { id name position version board { id } }';
const cardFields = '... on Card { id title description dueAt archived position version column { id name } creator { id } assignees { id } }';
const commentFields = '... on Comment { id body createdAt editedAt version author { id } card { id } }';

let server: TestServer;
let team: Team;

beforeAll(async () => {
  server = await startServer();
  team = await createTeam(server);
});

afterAll(() => server.stop());




async function eventSequenceOf(boardId: string): Promise<number> {
  const data = await graphqlData(server, 'query($id: ID!) { board(id: $id) { __typename ... on Board { eventSequence } } }', { id: boardId }, team.owner.token);
  expectResult(data.board, 'Board');
  return data.board.eventSequence;
}

/** Lists the board's columns in order, each as `name [card titles in order]`. */
async function boardLayout(boardId: string): Promise<string[]> {
  const data = await graphqlData(
    server,
    'query($id: ID!) { board(id: $id) { __typename ... on Board { columns { edges { node { name cards { edges { node { title } } } } } } } } }',
    { id: boardId },
    team.owner.token,
  );
  expectResult(data.board, 'Board');
  return data.board.columns.edges.map(({ node }: any) => `${node.name} [${node.cards.edges.map((edge: any) => edge.node.title).join(', ')}]`);
}

/** Creates a board in the team workspace with the named columns. Only the columns log events, as sequences 1, 2 ... */
async function createBoardWithColumns(name: string, columnNames: string[]) {
  const board = expectResult(await mutate(server, team.owner.token, 'createBoard', { workspaceId: team.workspaceId, name }, boardFields), 'Board');
  const columns: Record<string, string> = {};
  for (const columnName of columnNames) {
    const column = expectResult(await mutate(server, team.owner.token, 'createColumn', { boardId: board.id, name: columnName }, columnFields), 'Column');
    columns[columnName] = column.id;
  }
  return { boardId: board.id as string, columns };
}

/**
 * A live `boardEvents` subscription over graphql-ws. `next` checks each
 * event's type, board, cursor and that its sequence is exactly one more than
 * the one before, starting right after the board's sequence at subscribe
 * time. The subscription is closed when the test finishes, and closing waits
 * until the server has released its bus listener. Vitest runs onTestFinished
 * callbacks in reverse order by default (sequence.hooks), so subscriptions
 * opened later close first and each close waits for the listener count it
 * started from.
 */
class BoardWatch {
  private consumed = 0;

  private constructor(
    readonly boardId: string,
    readonly startSequence: number,
    readonly collector: Collector<GraphQLResponse>,
    private readonly client: Client,
    private readonly unsubscribe: () => void,
    private readonly listenersBefore: number,
  ) {}

  static async open(boardId: string, token = team.viewer.token): Promise<BoardWatch> {
    const startSequence = await eventSequenceOf(boardId);
    const listenersBefore = server.app.services.bus.listenerCount();
    const client = socketClient(server, token);
    const { collector, unsubscribe } = subscribeSocket(client, boardEventsSubscription, { boardId });
    const watch = new BoardWatch(boardId, startSequence, collector, client, unsubscribe, listenersBefore);
    onTestFinished(() => watch.close());
    await waitForListeners(server, listenersBefore + 1, 'exactly');
    return watch;
  }

  /** Waits for the next event and returns it after the checks every event must pass. */
  async next(typename: string): Promise<any> {
    const index = this.consumed;
    await this.collector.count(index + 1);
    this.consumed += 1;
    const result = this.collector.results[index]!;
    expect(result.errors, `event ${index + 1} carried errors`).toBeUndefined();
    const event = result.data.boardEvents;
    expect(event.__typename).toBe(typename);
    expect(event.sequence).toBe(this.startSequence + index + 1);
    expect(event.boardId).toBe(this.boardId);
    expect(typeof event.cursor).toBe('string');
    expect(event.cursor.length).toBeGreaterThan(0);
    expect(Number.isNaN(Date.parse(event.occurredAt))).toBe(false);
    return event;
  }

  /** Events delivered so far, consumed by `next` or not. */
  get events(): any[] {
    return this.collector.results.map((result) => result.data?.boardEvents);
  }

  async close(): Promise<void> {
    this.unsubscribe();
    await this.client.dispose();
    await waitForListeners(server, this.listenersBefore, 'exactly');
  }
}



/** GraphQL type name of a stored event type: CARD_MOVED is delivered as CardMovedEvent. */
function typenameOf(type: string): string {
  const words = type.toLowerCase().split('_');
  return `${words.map((word) => word[0]!.toUpperCase() + word.slice(1)).join('')}Event`;
}

describe('workspace and member mutations', () => {
  it('createWorkspace returns an owned workspace', async () => {
    const workspace = expectResult(await mutate(server, team.member.token, 'createWorkspace', { name: '  Design  ' }, workspaceFields), 'Workspace');

    expect(workspace.name).toBe('Design');
    expect(workspace.members.edges).toEqual([{ node: { role: 'OWNER', user: { id: team.member.id } } }]);
    expect(workspace.boards.edges).toEqual([]);
    const data = await graphqlData(server, 'query($id: ID!) { workspace(id: $id) { ... on Workspace { viewerRole } } }', { id: workspace.id }, team.member.token);
    expect(data.workspace.viewerRole).toBe('OWNER');
  });

  it('createWorkspace result resolves viewerRole', async () => {
    const result = await graphql(
      server,
      'mutation($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { __typename ... on Workspace { viewerRole } } }',
      { input: { name: 'Role check' } },
      team.member.token,
    );

    expect(result.errors).toBeUndefined();
    expect(result.data.createWorkspace).toEqual({ __typename: 'Workspace', viewerRole: 'OWNER' });
  });

  it('addMember logs an event per board', async () => {
    const newcomer = await signUp(server, 'newcomer');
    const workspace = expectResult(await mutate(server, team.owner.token, 'createWorkspace', { name: 'Two boards' }, '... on Workspace { id }'), 'Workspace');
    const first = expectResult(await mutate(server, team.owner.token, 'createBoard', { workspaceId: workspace.id, name: 'First' }, boardFields), 'Board');
    const second = expectResult(await mutate(server, team.owner.token, 'createBoard', { workspaceId: workspace.id, name: 'Second' }, boardFields), 'Board');
    const firstWatch = await BoardWatch.open(first.id, team.owner.token);
    const secondWatch = await BoardWatch.open(second.id, team.owner.token);

    const membership = expectResult(
      await mutate(server, team.owner.token, 'addMember', { workspaceId: workspace.id, email: newcomer.email, role: 'MEMBER' }, membershipFields),
      'Membership',
    );
    expect(membership.role).toBe('MEMBER');
    expect(membership.user).toEqual({ id: newcomer.id, email: newcomer.email });

    for (const watch of [firstWatch, secondWatch]) {
      const event = await watch.next('MemberAddedEvent');
      expect(event.sequence).toBe(1);
      expect(event.member.id).toBe(newcomer.id);
      expect(event.role).toBe('MEMBER');
      expect(event.actor.id).toBe(team.owner.id);
    }
  });

  it('changeMemberRole logs old and new role', async () => {
    const person = await signUp(server, 'promoted');
    const workspace = expectResult(await mutate(server, team.owner.token, 'createWorkspace', { name: 'Roles' }, '... on Workspace { id }'), 'Workspace');
    const board = expectResult(await mutate(server, team.owner.token, 'createBoard', { workspaceId: workspace.id, name: 'Plan' }, boardFields), 'Board');
    expectResult(await mutate(server, team.owner.token, 'addMember', { workspaceId: workspace.id, email: person.email, role: 'MEMBER' }, membershipFields), 'Membership');
    const watch = await BoardWatch.open(board.id, team.owner.token);

    const membership = expectResult(
      await mutate(server, team.owner.token, 'changeMemberRole', { workspaceId: workspace.id, userId: person.id, role: 'ADMIN' }, membershipFields),
      'Membership',
    );
    expect(membership.role).toBe('ADMIN');
    expect(membership.user.id).toBe(person.id);

    const event = await watch.next('MemberRoleChangedEvent');
    expect(event.sequence).toBe(2);
    expect(event.member.id).toBe(person.id);
    expect(event.role).toBe('ADMIN');
    expect(event.previousRole).toBe('MEMBER');
    expect(event.actor.id).toBe(team.owner.id);
  });

  it('unchanged member role logs nothing', async () => {
    const person = await signUp(server, 'steady');
    const workspace = expectResult(await mutate(server, team.owner.token, 'createWorkspace', { name: 'Steady' }, '... on Workspace { id }'), 'Workspace');
    const board = expectResult(await mutate(server, team.owner.token, 'createBoard', { workspaceId: workspace.id, name: 'Plan' }, boardFields), 'Board');
    expectResult(await mutate(server, team.owner.token, 'addMember', { workspaceId: workspace.id, email: person.email, role: 'VIEWER' }, membershipFields), 'Membership');
    const watch = await BoardWatch.open(board.id, team.owner.token);

    const same = expectResult(
      await mutate(server, team.owner.token, 'changeMemberRole', { workspaceId: workspace.id, userId: person.id, role: 'VIEWER' }, membershipFields),
      'Membership',
    );
    expect(same.role).toBe('VIEWER');
    expectResult(await mutate(server, team.owner.token, 'renameBoard', { boardId: board.id, name: 'Plan B' }, boardFields), 'Board');

    const event = await watch.next('BoardRenamedEvent');
    expect(event.sequence).toBe(watch.startSequence + 1);
    expect(event.name).toBe('Plan B');
  });

  it('removeMember logs MemberRemovedEvent', async () => {
    const person = await signUp(server, 'leaver');
    const workspace = expectResult(await mutate(server, team.owner.token, 'createWorkspace', { name: 'Leaving' }, '... on Workspace { id }'), 'Workspace');
    const board = expectResult(await mutate(server, team.owner.token, 'createBoard', { workspaceId: workspace.id, name: 'Plan' }, boardFields), 'Board');
    expectResult(await mutate(server, team.owner.token, 'addMember', { workspaceId: workspace.id, email: person.email, role: 'MEMBER' }, membershipFields), 'Membership');
    const watch = await BoardWatch.open(board.id, team.owner.token);

    const removed = expectResult(
      await mutate(server, team.owner.token, 'removeMember', { workspaceId: workspace.id, userId: person.id }, '... on RemovedMember { workspaceId userId role }'),
      'RemovedMember',
    );
    expect(removed).toEqual({ __typename: 'RemovedMember', workspaceId: workspace.id, userId: person.id, role: 'MEMBER' });

    const event = await watch.next('MemberRemovedEvent');
    expect(event.member.id).toBe(person.id);
    expect(event.role).toBe('MEMBER');
    expect(event.actor.id).toBe(team.owner.id);

    const data = await graphqlData(server, `query($id: ID!) { workspace(id: $id) { __typename ${workspaceFields} } }`, { id: workspace.id }, team.owner.token);
    expect(data.workspace.members.edges.map(({ node }: any) => node.user.id)).toEqual([team.owner.id]);
  });

  it('removeMember then unassigns cards', async () => {
    const person = await signUp(server, 'assignee');
    const workspace = expectResult(await mutate(server, team.owner.token, 'createWorkspace', { name: 'Handover' }, '... on Workspace { id }'), 'Workspace');
    const board = expectResult(await mutate(server, team.owner.token, 'createBoard', { workspaceId: workspace.id, name: 'Plan' }, boardFields), 'Board');
    const column = expectResult(await mutate(server, team.owner.token, 'createColumn', { boardId: board.id, name: 'To do' }, columnFields), 'Column');
    expectResult(await mutate(server, team.owner.token, 'addMember', { workspaceId: workspace.id, email: person.email, role: 'MEMBER' }, membershipFields), 'Membership');
    const cardId = await createCard(server, team.owner.token, column.id, 'Assigned work');
    expectResult(await mutate(server, team.owner.token, 'assignCard', { cardId, userId: person.id }, cardFields), 'Card');
    const watch = await BoardWatch.open(board.id, team.owner.token);

    expectResult(await mutate(server, team.owner.token, 'removeMember', { workspaceId: workspace.id, userId: person.id }, '... on RemovedMember { role }'), 'RemovedMember');

    const removed = await watch.next('MemberRemovedEvent');
    expect(removed.member.id).toBe(person.id);
    expect(removed.role).toBe('MEMBER');
    const unassigned = await watch.next('CardUnassignedEvent');
    expect(unassigned.card.id).toBe(cardId);
    expect(unassigned.card.assignees).toEqual([]);
    expect(unassigned.assignee.id).toBe(person.id);
    expect(unassigned.actor.id).toBe(team.owner.id);
  });
});

describe('board mutations', () => {
  it('createBoard starts an empty log', async () => {
    const board = expectResult(await mutate(server, team.member.token, 'createBoard', { workspaceId: team.workspaceId, name: '  Launch  ' }, boardFields), 'Board');

    expect(board.name).toBe('Launch');
    expect(board.archived).toBe(false);
    expect(board.eventSequence).toBe(0);
    expect(board.workspace.id).toBe(team.workspaceId);
    expect(board.columns.edges).toEqual([]);

    const watch = await BoardWatch.open(board.id);
    expect(watch.startSequence).toBe(0);
    expectResult(await mutate(server, team.member.token, 'createColumn', { boardId: board.id, name: 'Ideas' }, columnFields), 'Column');
    const event = await watch.next('ColumnCreatedEvent');
    expect(event.sequence).toBe(1);
  });

  it('renameBoard logs BoardRenamedEvent', async () => {
    const created = expectResult(await mutate(server, team.owner.token, 'createBoard', { workspaceId: team.workspaceId, name: 'Old name' }, boardFields), 'Board');
    const watch = await BoardWatch.open(created.id);

    const renamed = expectResult(await mutate(server, team.member.token, 'renameBoard', { boardId: created.id, name: 'New name' }, boardFields), 'Board');
    expect(renamed.name).toBe('New name');
    expect(renamed.version).toBe(created.version + 1);

    const event = await watch.next('BoardRenamedEvent');
    expect(event.name).toBe('New name');
    expect(event.board).toEqual({ id: created.id, name: 'New name' });
    expect(event.actor.id).toBe(team.member.id);
  });

  it('archiveBoard archives and restores', async () => {
    const created = expectResult(await mutate(server, team.owner.token, 'createBoard', { workspaceId: team.workspaceId, name: 'Shelved' }, boardFields), 'Board');
    const watch = await BoardWatch.open(created.id);

    const archived = expectResult(await mutate(server, team.owner.token, 'archiveBoard', { boardId: created.id }, boardFields), 'Board');
    expect(archived.archived).toBe(true);
    const archivedEvent = await watch.next('BoardArchivedEvent');
    expect(archivedEvent.archived).toBe(true);
    expect(archivedEvent.board).toEqual({ id: created.id, archived: true });
    expect(archivedEvent.actor.id).toBe(team.owner.id);

    // An archived board is read-only, and the rejected rename must not use a sequence number.
    const rejected = await mutate(server, team.owner.token, 'renameBoard', { boardId: created.id, name: 'Too late' }, boardFields);
    expectResult(rejected, 'ValidationError');
    expect(rejected.code).toBe('VALIDATION_FAILED');

    const restored = expectResult(await mutate(server, team.owner.token, 'archiveBoard', { boardId: created.id, archived: false }, boardFields), 'Board');
    expect(restored.archived).toBe(false);
    expect(restored.name).toBe('Shelved');
    const restoredEvent = await watch.next('BoardArchivedEvent');
    expect(restoredEvent.archived).toBe(false);
    expect(restoredEvent.board).toEqual({ id: created.id, archived: false });
  });
  it('board results show the new sequence', async () => {
    const created = expectResult(await mutate(server, team.owner.token, 'createBoard', { workspaceId: team.workspaceId, name: 'Counted' }, boardFields), 'Board');

    const renamed = expectResult(await mutate(server, team.owner.token, 'renameBoard', { boardId: created.id, name: 'Counted again' }, boardFields), 'Board');
    expect.soft(renamed.eventSequence, 'eventSequence in the renameBoard result').toBe(1);
    const archived = expectResult(await mutate(server, team.owner.token, 'archiveBoard', { boardId: created.id }, boardFields), 'Board');
    expect.soft(archived.eventSequence, 'eventSequence in the archiveBoard result').toBe(2);
    const restored = expectResult(await mutate(server, team.owner.token, 'archiveBoard', { boardId: created.id, archived: false }, boardFields), 'Board');
    expect.soft(restored.eventSequence, 'eventSequence in the restoring archiveBoard result').toBe(3);

    expect(await eventSequenceOf(created.id)).toBe(3);
  });
});

describe('column mutations', () => {
  it('createColumn appends or inserts after', async () => {
    const { boardId, columns } = await createBoardWithColumns('Columns', ['To do', 'Done']);
    const watch = await BoardWatch.open(boardId);

    const later = expectResult(await mutate(server, team.member.token, 'createColumn', { boardId, name: 'Later' }, columnFields), 'Column');
    expect(later.name).toBe('Later');
    expect(later.board.id).toBe(boardId);
    const laterEvent = await watch.next('ColumnCreatedEvent');
    expect(laterEvent.column).toEqual({ id: later.id, name: 'Later', position: later.position });
    expect(laterEvent.actor.id).toBe(team.member.id);
    expect(await boardLayout(boardId)).toEqual(['To do []', 'Done []', 'Later []']);

    const doing = expectResult(
      await mutate(server, team.member.token, 'createColumn', { boardId, name: 'Doing', afterColumnId: columns['To do'] }, columnFields),
      'Column',
    );
    const doingEvent = await watch.next('ColumnCreatedEvent');
    expect(doingEvent.column).toEqual({ id: doing.id, name: 'Doing', position: doing.position });
    expect(await boardLayout(boardId)).toEqual(['To do []', 'Doing []', 'Done []', 'Later []']);
  });

  it('renameColumn logs ColumnRenamedEvent', async () => {
    const { boardId, columns } = await createBoardWithColumns('Renames', ['Backlog']);
    const watch = await BoardWatch.open(boardId);

    const renamed = expectResult(await mutate(server, team.member.token, 'renameColumn', { columnId: columns.Backlog, name: 'Icebox' }, columnFields), 'Column');
    expect(renamed.id).toBe(columns.Backlog);
    expect(renamed.name).toBe('Icebox');
    expect(renamed.version).toBe(2);

    const event = await watch.next('ColumnRenamedEvent');
    expect(event.name).toBe('Icebox');
    expect(event.column).toEqual({ id: columns.Backlog, name: 'Icebox' });
    expect(event.actor.id).toBe(team.member.id);
  });

  it('moveColumn places after and before', async () => {
    const { boardId, columns } = await createBoardWithColumns('Moves', ['A', 'B', 'C', 'D']);
    const watch = await BoardWatch.open(boardId);

    const afterA = expectResult(await mutate(server, team.member.token, 'moveColumn', { columnId: columns.D, afterColumnId: columns.A }, columnFields), 'Column');
    const afterEvent = await watch.next('ColumnMovedEvent');
    expect(afterEvent.column).toEqual({ id: columns.D, name: 'D', position: afterA.position });
    expect(afterEvent.position).toBe(afterA.position);
    expect(await boardLayout(boardId)).toEqual(['A []', 'D []', 'B []', 'C []']);

    const beforeC = expectResult(await mutate(server, team.member.token, 'moveColumn', { columnId: columns.A, beforeColumnId: columns.C }, columnFields), 'Column');
    const beforeEvent = await watch.next('ColumnMovedEvent');
    expect(beforeEvent.column).toEqual({ id: columns.A, name: 'A', position: beforeC.position });
    expect(beforeEvent.position).toBe(beforeC.position);
    expect(await boardLayout(boardId)).toEqual(['D []', 'B []', 'A []', 'C []']);
  });

  it('deleteColumn removes an empty column', async () => {
    const { boardId, columns } = await createBoardWithColumns('Deletes', ['Keep', 'Drop']);
    const watch = await BoardWatch.open(boardId);

    const deleted = await mutate(server, team.member.token, 'deleteColumn', { columnId: columns.Drop }, '... on DeletedColumn { columnId name }');
    expect(deleted).toEqual({ __typename: 'DeletedColumn', columnId: columns.Drop, name: 'Drop' });

    const event = await watch.next('ColumnDeletedEvent');
    expect(event.columnId).toBe(columns.Drop);
    expect(event.name).toBe('Drop');
    expect(event.actor.id).toBe(team.member.id);
    expect(await boardLayout(boardId)).toEqual(['Keep []']);
  });

  it('deleteColumn rejects a column with cards', async () => {
    const { boardId, columns } = await createBoardWithColumns('Full column', ['Busy']);
    const cardId = await createCard(server, team.member.token, columns.Busy!, 'Archived but present');
    expectResult(await mutate(server, team.member.token, 'archiveCard', { cardId }, cardFields), 'Card');
    const watch = await BoardWatch.open(boardId);

    const rejected = await mutate(server, team.member.token, 'deleteColumn', { columnId: columns.Busy }, '... on DeletedColumn { columnId }');
    expectResult(rejected, 'ValidationError');
    expect(rejected.field).toBe('input.columnId');
    expect(await boardLayout(boardId)).toEqual(['Busy []']);

    expectResult(await mutate(server, team.member.token, 'renameColumn', { columnId: columns.Busy, name: 'Still here' }, columnFields), 'Column');
    const event = await watch.next('ColumnRenamedEvent');
    expect(event.name).toBe('Still here');
  });
});

describe('card mutations', () => {
  it('createCard returns the new card', async () => {
    const { boardId, columns } = await createBoardWithColumns('Cards', ['To do']);
    const watch = await BoardWatch.open(boardId);

    const card = expectResult(
      await mutate(
        server,
        team.member.token,
        'createCard',
        { columnId: columns['To do'], title: '  Write spec  ', description: 'Cover the edge cases', dueAt: '2026-12-31T17:00:00Z' },
        cardFields,
      ),
      'Card',
    );
    expect(card.title).toBe('Write spec');
    expect(card.description).toBe('Cover the edge cases');
    expect(card.dueAt).toBe('2026-12-31T17:00:00.000Z');
    expect(card.archived).toBe(false);
    expect(card.column).toEqual({ id: columns['To do'], name: 'To do' });
    expect(card.creator.id).toBe(team.member.id);
    expect(card.assignees).toEqual([]);

    const event = await watch.next('CardCreatedEvent');
    expect(event.card).toEqual({ id: card.id, title: 'Write spec', column: { id: columns['To do'], name: 'To do' } });
    expect(event.actor.id).toBe(team.member.id);

    const second = expectResult(await mutate(server, team.member.token, 'createCard', { columnId: columns['To do'], title: 'Review spec' }, cardFields), 'Card');
    expect(second.description).toBe('');
    expect(second.dueAt).toBeNull();
    const secondEvent = await watch.next('CardCreatedEvent');
    expect(secondEvent.card.id).toBe(second.id);
    expect(await boardLayout(boardId)).toEqual(['To do [Write spec, Review spec]']);
  });

  it('updateCard changes only named fields', async () => {
    const { boardId, columns } = await createBoardWithColumns('Updates', ['To do']);
    const created = expectResult(
      await mutate(server, team.member.token, 'createCard', { columnId: columns['To do'], title: 'Draft', description: 'Keep me', dueAt: '2026-06-01T09:00:00Z' }, cardFields),
      'Card',
    );
    const watch = await BoardWatch.open(boardId);

    const updated = expectResult(await mutate(server, team.member.token, 'updateCard', { cardId: created.id, title: 'Final' }, cardFields), 'Card');
    expect(updated.title).toBe('Final');
    expect(updated.description).toBe('Keep me');
    expect(updated.dueAt).toBe('2026-06-01T09:00:00.000Z');
    expect(updated.version).toBe(created.version + 1);

    const event = await watch.next('CardUpdatedEvent');
    expect(event.changedFields).toEqual(['title']);
    expect(event.card).toEqual({ id: created.id, title: 'Final', description: 'Keep me', dueAt: '2026-06-01T09:00:00.000Z' });
    expect(event.actor.id).toBe(team.member.id);
  });

  it('updateCard with null dueAt clears', async () => {
    const { boardId, columns } = await createBoardWithColumns('Due dates', ['To do']);
    const created = expectResult(
      await mutate(server, team.member.token, 'createCard', { columnId: columns['To do'], title: 'Dated', description: 'Notes', dueAt: '2026-06-01T09:00:00Z' }, cardFields),
      'Card',
    );
    const watch = await BoardWatch.open(boardId);

    const cleared = expectResult(await mutate(server, team.member.token, 'updateCard', { cardId: created.id, dueAt: null }, cardFields), 'Card');
    expect(cleared.dueAt).toBeNull();
    expect(cleared.title).toBe('Dated');
    expect(cleared.description).toBe('Notes');

    const event = await watch.next('CardUpdatedEvent');
    expect(event.changedFields).toEqual(['dueAt']);
    expect(event.card).toEqual({ id: created.id, title: 'Dated', description: 'Notes', dueAt: null });
  });

  it('moveCard to another column', async () => {
    const { boardId, columns } = await createBoardWithColumns('Card moves', ['A', 'B']);
    const a1 = await createCard(server, team.member.token, columns.A!, 'a1');
    await createCard(server, team.member.token, columns.A!, 'a2');
    await createCard(server, team.member.token, columns.B!, 'b1');
    const watch = await BoardWatch.open(boardId);

    const moved = expectResult(await mutate(server, team.member.token, 'moveCard', { cardId: a1, toColumnId: columns.B }, cardFields), 'Card');
    expect(moved.column).toEqual({ id: columns.B, name: 'B' });

    const event = await watch.next('CardMovedEvent');
    expect(event.card).toEqual({ id: a1, title: 'a1', position: moved.position });
    expect(event.fromColumn).toEqual({ id: columns.A, name: 'A' });
    expect(event.toColumn).toEqual({ id: columns.B, name: 'B' });
    expect(event.position).toBe(moved.position);
    expect(event.actor.id).toBe(team.member.id);
    expect(await boardLayout(boardId)).toEqual(['A [a2]', 'B [b1, a1]']);
  });

  it('moveCard after and before cards', async () => {
    const { boardId, columns } = await createBoardWithColumns('Card order', ['A', 'B']);
    const x = await createCard(server, team.member.token, columns.A!, 'x');
    const b1 = await createCard(server, team.member.token, columns.B!, 'b1');
    await createCard(server, team.member.token, columns.B!, 'b2');
    await createCard(server, team.member.token, columns.B!, 'b3');
    const watch = await BoardWatch.open(boardId);

    const afterB1 = expectResult(await mutate(server, team.member.token, 'moveCard', { cardId: x, toColumnId: columns.B, afterCardId: b1 }, cardFields), 'Card');
    const afterEvent = await watch.next('CardMovedEvent');
    expect(afterEvent.fromColumn.id).toBe(columns.A);
    expect(afterEvent.toColumn.id).toBe(columns.B);
    expect(afterEvent.position).toBe(afterB1.position);
    expect(await boardLayout(boardId)).toEqual(['A []', 'B [b1, x, b2, b3]']);

    const beforeB1 = expectResult(await mutate(server, team.member.token, 'moveCard', { cardId: x, toColumnId: columns.B, beforeCardId: b1 }, cardFields), 'Card');
    const beforeEvent = await watch.next('CardMovedEvent');
    expect(beforeEvent.fromColumn.id).toBe(columns.B);
    expect(beforeEvent.toColumn.id).toBe(columns.B);
    expect(beforeEvent.position).toBe(beforeB1.position);
    expect(await boardLayout(boardId)).toEqual(['A []', 'B [x, b1, b2, b3]']);
  });

  it('archiveCard hides and restores card', async () => {
    const { boardId, columns } = await createBoardWithColumns('Card archive', ['To do']);
    await createCard(server, team.member.token, columns['To do']!, 'first');
    const middle = await createCard(server, team.member.token, columns['To do']!, 'middle');
    await createCard(server, team.member.token, columns['To do']!, 'last');
    const watch = await BoardWatch.open(boardId);

    const archived = expectResult(await mutate(server, team.member.token, 'archiveCard', { cardId: middle }, cardFields), 'Card');
    expect(archived.archived).toBe(true);
    const archivedEvent = await watch.next('CardArchivedEvent');
    expect(archivedEvent.archived).toBe(true);
    expect(archivedEvent.card).toEqual({ id: middle, archived: true });
    expect(archivedEvent.actor.id).toBe(team.member.id);
    expect(await boardLayout(boardId)).toEqual(['To do [first, last]']);

    const restored = expectResult(await mutate(server, team.member.token, 'archiveCard', { cardId: middle, archived: false }, cardFields), 'Card');
    expect(restored.archived).toBe(false);
    const restoredEvent = await watch.next('CardArchivedEvent');
    expect(restoredEvent.archived).toBe(false);
    expect(restoredEvent.card).toEqual({ id: middle, archived: false });
    expect(await boardLayout(boardId)).toEqual(['To do [first, middle, last]']);
  });

  it('assignCard logs CardAssignedEvent', async () => {
    const { boardId, columns } = await createBoardWithColumns('Assign', ['To do']);
    const cardId = await createCard(server, team.member.token, columns['To do']!, 'Owned work');
    const watch = await BoardWatch.open(boardId);

    const assigned = expectResult(await mutate(server, team.owner.token, 'assignCard', { cardId, userId: team.member.id }, cardFields), 'Card');
    expect(assigned.assignees).toEqual([{ id: team.member.id }]);

    const event = await watch.next('CardAssignedEvent');
    expect(event.card).toEqual({ id: cardId, assignees: [{ id: team.member.id }] });
    expect(event.assignee.id).toBe(team.member.id);
    expect(event.actor.id).toBe(team.owner.id);
  });

  it('repeated assignCard logs no event', async () => {
    const { boardId, columns } = await createBoardWithColumns('Assign twice', ['To do']);
    const cardId = await createCard(server, team.member.token, columns['To do']!, 'Owned work');
    const watch = await BoardWatch.open(boardId);

    expectResult(await mutate(server, team.owner.token, 'assignCard', { cardId, userId: team.member.id }, cardFields), 'Card');
    const first = await watch.next('CardAssignedEvent');

    const again = expectResult(await mutate(server, team.owner.token, 'assignCard', { cardId, userId: team.member.id }, cardFields), 'Card');
    expect(again.assignees).toEqual([{ id: team.member.id }]);
    expectResult(await mutate(server, team.owner.token, 'updateCard', { cardId, title: 'Renamed work' }, cardFields), 'Card');

    const following = await watch.next('CardUpdatedEvent');
    expect(following.sequence).toBe(first.sequence + 1);
    expect((await readEventLog(server, boardId)).filter((row) => row.type === 'CARD_ASSIGNED')).toHaveLength(1);
  });

  it('unassignCard logs CardUnassignedEvent', async () => {
    const { boardId, columns } = await createBoardWithColumns('Unassign', ['To do']);
    const cardId = await createCard(server, team.member.token, columns['To do']!, 'Shared work');
    expectResult(await mutate(server, team.owner.token, 'assignCard', { cardId, userId: team.member.id }, cardFields), 'Card');
    expectResult(await mutate(server, team.owner.token, 'assignCard', { cardId, userId: team.owner.id }, cardFields), 'Card');
    const watch = await BoardWatch.open(boardId);

    const unassigned = expectResult(await mutate(server, team.owner.token, 'unassignCard', { cardId, userId: team.member.id }, cardFields), 'Card');
    expect(unassigned.assignees).toEqual([{ id: team.owner.id }]);

    const event = await watch.next('CardUnassignedEvent');
    expect(event.card).toEqual({ id: cardId, assignees: [{ id: team.owner.id }] });
    expect(event.assignee.id).toBe(team.member.id);
    expect(event.actor.id).toBe(team.owner.id);
  });
  it('card results resolve commentCount', async () => {
    const { columns } = await createBoardWithColumns('Comment counts', ['A', 'B']);
    const created = await graphql(
      server,
      'mutation($input: CreateCardInput!) { createCard(input: $input) { __typename ... on Card { id commentCount } } }',
      { input: { columnId: columns.A, title: 'Counted' } },
      team.member.token,
    );
    expect.soft(created.errors, 'createCard errors').toBeUndefined();
    expect.soft(created.data?.createCard?.commentCount, 'createCard commentCount').toBe(0);

    const cardId = await createCard(server, team.member.token, columns.A!, 'Commented');
    expectResult(await mutate(server, team.member.token, 'addComment', { cardId, body: 'One comment' }, commentFields), 'Comment');
    const cases: [field: string, inputType: string, input: Record<string, unknown>][] = [
      ['updateCard', 'UpdateCardInput', { cardId, title: 'Still commented' }],
      ['moveCard', 'MoveCardInput', { cardId, toColumnId: columns.B }],
      ['assignCard', 'AssignCardInput', { cardId, userId: team.member.id }],
      ['unassignCard', 'UnassignCardInput', { cardId, userId: team.member.id }],
      ['archiveCard', 'ArchiveCardInput', { cardId }],
    ];
    for (const [field, inputType, input] of cases) {
      const result = await graphql(
        server,
        `mutation($input: ${inputType}!) { ${field}(input: $input) { __typename ... on Card { commentCount } } }`,
        { input },
        team.member.token,
      );
      expect.soft(result.errors, `${field} errors`).toBeUndefined();
      expect.soft(result.data?.[field]?.commentCount, `${field} commentCount`).toBe(1);
    }
  });
});

describe('comment mutations', () => {
  it('addComment logs CommentAddedEvent', async () => {
    const { boardId, columns } = await createBoardWithColumns('Comments', ['To do']);
    const cardId = await createCard(server, team.owner.token, columns['To do']!, 'Discuss');
    const watch = await BoardWatch.open(boardId);

    const comment = expectResult(await mutate(server, team.member.token, 'addComment', { cardId, body: '  Looks good  ' }, commentFields), 'Comment');
    expect(comment.body).toBe('Looks good');
    expect(comment.author.id).toBe(team.member.id);
    expect(comment.card.id).toBe(cardId);
    expect(comment.editedAt).toBeNull();

    const event = await watch.next('CommentAddedEvent');
    expect(event.comment).toEqual({ id: comment.id, body: 'Looks good', author: { id: team.member.id } });
    expect(event.card).toEqual({ id: cardId, commentCount: 1 });
    expect(event.actor.id).toBe(team.member.id);
  });

  it('editComment sets editedAt', async () => {
    const { boardId, columns } = await createBoardWithColumns('Edits', ['To do']);
    const cardId = await createCard(server, team.owner.token, columns['To do']!, 'Discuss');
    const added = expectResult(await mutate(server, team.member.token, 'addComment', { cardId, body: 'Frist' }, commentFields), 'Comment');
    const watch = await BoardWatch.open(boardId);

    const edited = expectResult(await mutate(server, team.member.token, 'editComment', { commentId: added.id, body: 'First' }, commentFields), 'Comment');
    expect(edited.body).toBe('First');
    expect(edited.editedAt).not.toBeNull();
    expect(Date.parse(edited.editedAt)).toBeGreaterThanOrEqual(Date.parse(added.createdAt));
    expect(edited.createdAt).toBe(added.createdAt);
    expect(edited.version).toBe(added.version + 1);

    const event = await watch.next('CommentEditedEvent');
    expect(event.comment).toEqual({ id: added.id, body: 'First', editedAt: edited.editedAt });
    expect(event.card.id).toBe(cardId);
    expect(event.actor.id).toBe(team.member.id);
  });

  it('deleteComment logs CommentDeletedEvent', async () => {
    const { boardId, columns } = await createBoardWithColumns('Deleted comments', ['To do']);
    const cardId = await createCard(server, team.owner.token, columns['To do']!, 'Discuss');
    const added = expectResult(await mutate(server, team.member.token, 'addComment', { cardId, body: 'Never mind' }, commentFields), 'Comment');
    const watch = await BoardWatch.open(boardId);

    const deleted = await mutate(server, team.member.token, 'deleteComment', { commentId: added.id }, '... on DeletedComment { commentId cardId }');
    expect(deleted).toEqual({ __typename: 'DeletedComment', commentId: added.id, cardId });

    const event = await watch.next('CommentDeletedEvent');
    expect(event.commentId).toBe(added.id);
    expect(event.card).toEqual({ id: cardId, commentCount: 0 });
    expect(event.actor.id).toBe(team.member.id);
  });
});

/**
 * Makes one of each card, column, comment and board change on the board, one
 * after another, and returns the type name and actor expected for each event
 * in commit order.
 */
async function runMixedChanges(boardId: string, columns: Record<string, string>) {
  const owner = team.owner.token;
  const member = team.member.token;
  const cardId = await createCard(server, member, columns.A!, 'Mixed');
  expectResult(await mutate(server, owner, 'updateCard', { cardId, description: 'Details' }, cardFields), 'Card');
  expectResult(await mutate(server, member, 'moveCard', { cardId, toColumnId: columns.B }, cardFields), 'Card');
  expectResult(await mutate(server, owner, 'assignCard', { cardId, userId: team.member.id }, cardFields), 'Card');
  const comment = expectResult(await mutate(server, member, 'addComment', { cardId, body: 'On it' }, commentFields), 'Comment');
  expectResult(await mutate(server, member, 'editComment', { commentId: comment.id, body: 'Done' }, commentFields), 'Comment');
  expectResult(await mutate(server, owner, 'deleteComment', { commentId: comment.id }, '... on DeletedComment { commentId }'), 'DeletedComment');
  expectResult(await mutate(server, owner, 'unassignCard', { cardId, userId: team.member.id }, cardFields), 'Card');
  expectResult(await mutate(server, member, 'archiveCard', { cardId }, cardFields), 'Card');
  expectResult(await mutate(server, member, 'renameColumn', { columnId: columns.A, name: 'A2' }, columnFields), 'Column');
  expectResult(await mutate(server, member, 'moveColumn', { columnId: columns.A, afterColumnId: columns.B }, columnFields), 'Column');
  expectResult(await mutate(server, owner, 'renameBoard', { boardId, name: 'Mixed board' }, boardFields), 'Board');
  return [
    { typename: 'CardCreatedEvent', actorId: team.member.id },
    { typename: 'CardUpdatedEvent', actorId: team.owner.id },
    { typename: 'CardMovedEvent', actorId: team.member.id },
    { typename: 'CardAssignedEvent', actorId: team.owner.id },
    { typename: 'CommentAddedEvent', actorId: team.member.id },
    { typename: 'CommentEditedEvent', actorId: team.member.id },
    { typename: 'CommentDeletedEvent', actorId: team.owner.id },
    { typename: 'CardUnassignedEvent', actorId: team.owner.id },
    { typename: 'CardArchivedEvent', actorId: team.member.id },
    { typename: 'ColumnRenamedEvent', actorId: team.member.id },
    { typename: 'ColumnMovedEvent', actorId: team.member.id },
    { typename: 'BoardRenamedEvent', actorId: team.owner.id },
  ];
}

describe('event stream', () => {
  it('events arrive in commit order', async () => {
    const { boardId, columns } = await createBoardWithColumns('Order', ['A', 'B']);
    const watch = await BoardWatch.open(boardId);

    const expected = await runMixedChanges(boardId, columns);

    for (const { typename, actorId } of expected) {
      const event = await watch.next(typename);
      expect(event.actor.id).toBe(actorId);
    }
    const cursors = watch.events.map((event) => event.cursor);
    expect(new Set(cursors).size).toBe(expected.length);
  });

  it('concurrent changes arrive without gaps', async () => {
    const { boardId, columns } = await createBoardWithColumns('Concurrent', ['Inbox']);
    const watch = await BoardWatch.open(boardId);

    const titles = Array.from({ length: 8 }, (_, index) => `card ${index + 1}`);
    const cardIds = await Promise.all(titles.map((title) => createCard(server, team.member.token, columns.Inbox!, title)));

    const delivered: string[] = [];
    for (let index = 0; index < titles.length; index += 1) {
      const event = await watch.next('CardCreatedEvent');
      delivered.push(event.card.id);
    }
    expect([...delivered].sort()).toEqual([...cardIds].sort());

    const rows = (await readEventLog(server, boardId)).filter((row) => row.sequence > watch.startSequence);
    expect(rows.map((row) => row.sequence)).toEqual(watch.events.map((event) => event.sequence));
    expect(rows.map((row) => row.payload.cardId)).toEqual(delivered.map(rawId));
  });

  it('SSE delivers same sequence numbers', async () => {
    const { boardId, columns } = await createBoardWithColumns('Over SSE', ['A', 'B']);
    const watch = await BoardWatch.open(boardId);
    const listenersBefore = server.app.services.bus.listenerCount();
    const sse = subscribeSse(server, boardEventsSubscription, { boardId }, team.viewer.token);
    onTestFinished(async () => {
      sse.close();
      await waitForListeners(server, listenersBefore, 'exactly');
    });
    await waitForListeners(server, listenersBefore + 1, 'exactly');

    const expected = await runMixedChanges(boardId, columns);
    for (const { typename } of expected) await watch.next(typename);
    await sse.collector.count(expected.length);

    const response = await sse.opened;
    expect(response.status).toBe(200);
    expect(sse.collector.results.map((result) => result.errors)).toEqual(expected.map(() => undefined));
    const overSse = sse.collector.results.map((result) => result.data.boardEvents);
    expect(overSse.map((event) => event.sequence)).toEqual(watch.events.map((event) => event.sequence));
    expect(overSse.map((event) => event.__typename)).toEqual(expected.map((event) => event.typename));
    expect(overSse.map((event) => event.cursor)).toEqual(watch.events.map((event) => event.cursor));
  });

  it('event log rows match delivery', async () => {
    const { boardId, columns } = await createBoardWithColumns('Logged', ['A', 'B']);
    const watch = await BoardWatch.open(boardId);

    const expected = await runMixedChanges(boardId, columns);
    for (const { typename } of expected) await watch.next(typename);

    const rows = await readEventLog(server, boardId);
    const delivered = watch.events;
    // The two createColumn calls in createBoardWithColumns are events 1 and 2.
    expect(rows.map((row) => row.sequence)).toEqual([1, 2, ...delivered.map((event) => event.sequence)]);
    expect(rows.slice(0, 2).map((row) => row.type)).toEqual(['COLUMN_CREATED', 'COLUMN_CREATED']);

    const logged = rows.slice(2);
    expect(logged.map((row) => typenameOf(row.type))).toEqual(delivered.map((event) => event.__typename));
    expect(logged.map((row) => row.actorId)).toEqual(delivered.map((event) => rawId(event.actor.id)));

    const payloads = logged.map((row) => row.payload);
    const cardId = rawId(delivered[0].card.id);
    expect(payloads[0]).toEqual({ cardId, columnId: rawId(columns.A!) });
    expect(payloads[1]).toEqual({ cardId, changedFields: ['description'] });
    expect(payloads[2]).toMatchObject({ cardId, fromColumnId: rawId(columns.A!), toColumnId: rawId(columns.B!) });
    expect(payloads[2].position).toBe(delivered[2].position);
    expect(payloads[3]).toEqual({ cardId, userId: rawId(team.member.id) });
    expect(payloads[9]).toEqual({ columnId: rawId(columns.A!), name: 'A2' });
    expect(payloads[11]).toEqual({ name: 'Mixed board' });
  });
});
