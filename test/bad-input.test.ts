import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql, graphqlData, socketClient, subscribeSocket, type Collector, type GraphQLResponse } from './support/client.js';
import { createCard, createTeam, mutate, type Team } from './support/fixtures.js';
import { startServer, type TestServer, waitForListeners } from './support/server.js';

const errorCodeOf: Record<string, string> = {
  ValidationError: 'VALIDATION_FAILED',
  NotFoundError: 'NOT_FOUND',
  ForbiddenError: 'FORBIDDEN',
};

/** Everything in a workspace that a mutation could change, read by a member. */
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
              comments(first: 20) { edges { node { id body version editedAt } } }
            } } }
          } } }
        } }
      }
    }
  }
}`;

const boardEventsSubscription = `subscription($b: ID!) {
  boardEvents(boardId: $b) { __typename sequence ... on ColumnRenamedEvent { name } }
}`;

/**
 * A live subscription on one board, plus a column whose renames prove that
 * the board logged nothing else in between.
 */
interface Watcher {
  label: string;
  boardId: string;
  markerColumnId: string;
  token: string;
  collector: Collector<GraphQLResponse>;
}

describe('bad input', () => {
  let server: TestServer;
  let team: Team;
  let rival: Team;
  let sideBoardId: string;
  let sideColumnId: string;
  let cardId: string;
  let otherCardId: string;
  let archivedCardId: string;
  let commentId: string;
  let rivalCardId: string;
  let rivalCommentId: string;
  const watchers: Watcher[] = [];
  const closers: (() => Promise<void>)[] = [];
  let markerCount = 0;

  beforeAll(async () => {
    server = await startServer();
    team = await createTeam(server);
    rival = await createTeam(server);
    const owner = team.owner.token;

    const sideBoard = await mutate(server, owner, 'createBoard', { workspaceId: team.workspaceId, name: 'Side project' }, '... on Board { id }');
    sideBoardId = sideBoard.id;
    const sideColumn = await mutate(server, owner, 'createColumn', { boardId: sideBoardId, name: 'Backlog' }, '... on Column { id }');
    sideColumnId = sideColumn.id;

    cardId = await createCard(server, owner, team.todoId, 'Write the plan');
    otherCardId = await createCard(server, owner, team.todoId, 'Review the plan');
    archivedCardId = await createCard(server, owner, team.doneId, 'Shipped long ago');
    const archived = await mutate(server, owner, 'archiveCard', { cardId: archivedCardId }, '');
    expect(archived.__typename).toBe('Card');
    const comment = await mutate(server, team.member.token, 'addComment', { cardId, body: 'Looks good' }, '... on Comment { id }');
    commentId = comment.id;

    rivalCardId = await createCard(server, rival.owner.token, rival.todoId, 'Rival plan');
    const rivalComment = await mutate(server, rival.owner.token, 'addComment', { cardId: rivalCardId, body: 'Rival remark' }, '... on Comment { id }');
    rivalCommentId = rivalComment.id;

    const boards = [
      { label: 'team board', boardId: team.boardId, token: owner },
      { label: 'side board', boardId: sideBoardId, token: owner },
      { label: 'rival board', boardId: rival.boardId, token: rival.owner.token },
    ];
    const listenersBefore = server.app.services.bus.listenerCount();
    for (const board of boards) {
      const marker = await mutate(server, board.token, 'createColumn', { boardId: board.boardId, name: 'Marker' }, '... on Column { id }');
      const client = socketClient(server, board.token);
      const { collector, unsubscribe } = subscribeSocket(client, boardEventsSubscription, { b: board.boardId });
      closers.push(async () => {
        unsubscribe();
        await client.dispose();
      });
      watchers.push({ ...board, markerColumnId: marker.id, collector });
    }
    await waitForListeners(server, listenersBefore + boards.length);
  });

  afterAll(async () => {
    for (const close of closers) await close();
    await server.stop();
  });

  async function readState() {
    const [teamState, rivalState, ownerWorkspaces] = await Promise.all([
      graphqlData(server, workspaceStateQuery, { w: team.workspaceId }, team.owner.token),
      graphqlData(server, workspaceStateQuery, { w: rival.workspaceId }, rival.owner.token),
      graphqlData(server, `{ workspaces(first: 100) { edges { node { id name } } } }`, {}, team.owner.token),
    ]);
    return { teamState, rivalState, ownerWorkspaces };
  }

  function sequenceOf(state: Awaited<ReturnType<typeof readState>>, boardId: string): number {
    const boards = [...state.teamState.workspace.boards.edges, ...state.rivalState.workspace.boards.edges].map((edge: any) => edge.node);
    const board = boards.find((candidate: any) => candidate.id === boardId);
    if (!board) throw new Error(`Board ${boardId} is missing from the state read before the request.`);
    return board.eventSequence;
  }

  /**
   * Renames each watched board's marker column and checks that the rename
   * is the first event after `before`, so the request in between logged
   * nothing on any of these boards.
   */
  async function expectNoEventsSince(before: Awaited<ReturnType<typeof readState>>) {
    for (const watcher of watchers) {
      const sequenceBefore = sequenceOf(before, watcher.boardId);
      markerCount += 1;
      const name = `Marker ${markerCount}`;
      const renamed = await mutate(server, watcher.token, 'renameColumn', { columnId: watcher.markerColumnId, name }, '');
      expect(renamed.__typename).toBe('Column');

      await watcher.collector.until(
        () => watcher.collector.results.some((result) => result.data?.boardEvents.name === name),
        `the ${watcher.label} to deliver the rename to ${name}`,
      );
      expect(watcher.collector.errors, watcher.label).toEqual([]);
      const since = watcher.collector.results.filter((result) => result.data?.boardEvents.sequence > sequenceBefore);
      expect(since.map((result) => result.data!.boardEvents), watcher.label).toEqual([
        { __typename: 'ColumnRenamedEvent', sequence: sequenceBefore + 1, name },
      ]);
    }
  }

  /** Sends a request that must be rejected, and checks that it changed nothing and logged no event. */
  async function withoutEffect<T>(send: () => Promise<T>): Promise<T> {
    const before = await readState();
    const result = await send();
    expect(await readState()).toEqual(before);
    await expectNoEventsSince(before);
    return result;
  }

  function expectTypedError(result: any, typename: string, field?: string) {
    expect(result.__typename, JSON.stringify(result)).toBe(typename);
    expect(result.code).toBe(errorCodeOf[typename]);
    expect(result.message.trim()).not.toBe('');
    if (field !== undefined) expect(result.field).toBe(field);
  }

  /** Rows of one text input each, keyed by the mutation that takes it. */
  function textInputs() {
    return {
      createWorkspace: (text: string) => ({ name: text }),
      createBoard: (text: string) => ({ workspaceId: team.workspaceId, name: text }),
      renameBoard: (text: string) => ({ boardId: team.boardId, name: text }),
      createColumn: (text: string) => ({ boardId: team.boardId, name: text }),
      renameColumn: (text: string) => ({ columnId: team.todoId, name: text }),
      createCard: (text: string) => ({ columnId: team.todoId, title: text }),
      updateCard: (text: string) => ({ cardId, title: text }),
      addComment: (text: string) => ({ cardId, body: text }),
      editComment: (text: string) => ({ commentId, body: text }),
    } as Record<string, (text: string) => Record<string, unknown>>;
  }

  const textFields: Record<string, string> = {
    createWorkspace: 'name',
    createBoard: 'name',
    renameBoard: 'name',
    createColumn: 'name',
    renameColumn: 'name',
    createCard: 'title',
    updateCard: 'title',
    addComment: 'body',
    editComment: 'body',
  };

  const blankCases = Object.entries(textFields).flatMap(([mutation, field]) => [
    { mutation, field, kind: 'empty', text: '' },
    { mutation, field, kind: 'whitespace-only', text: ' \t\n\u00a0\u3000 ' },
  ]);

  for (const { mutation, field, kind, text } of blankCases) {
    it(`${mutation} rejects ${kind} ${field}`, async () => {
      const input = textInputs()[mutation]!(text);

      const result = await withoutEffect(() => mutate(server, team.member.token, mutation, input, ''));

      expectTypedError(result, 'ValidationError', `input.${field}`);
      expect(result.message).toContain(field);
    });
  }

  const tooLongCases = [
    ...['createWorkspace', 'createBoard', 'renameBoard', 'createColumn', 'renameColumn'].map((mutation) => ({ mutation, field: 'name', max: 100 })),
    { mutation: 'createCard', field: 'title', max: 200 },
    { mutation: 'updateCard', field: 'title', max: 200 },
    { mutation: 'createCard', field: 'description', max: 10_000 },
    { mutation: 'updateCard', field: 'description', max: 10_000 },
    { mutation: 'addComment', field: 'body', max: 10_000 },
    { mutation: 'editComment', field: 'body', max: 10_000 },
  ];

  for (const { mutation, field, max } of tooLongCases) {
    it(`${mutation} rejects overlong ${field}`, async () => {
      const text = 'x'.repeat(max + 1);
      const input =
        field === 'description'
          ? { ...(mutation === 'createCard' ? { columnId: team.todoId, title: 'Long read' } : { cardId }), description: text }
          : textInputs()[mutation]!(text);

      const result = await withoutEffect(() => mutate(server, team.member.token, mutation, input, ''));

      expectTypedError(result, 'ValidationError', `input.${field}`);
      expect(result.message).toContain(String(max));
    });
  }

  const garbage = 'nope';
  const keylessCardId = Buffer.from('Card:').toString('base64');
  const keylessColumnId = Buffer.from('Column:').toString('base64');

  // Inputs are functions because the ids exist only once beforeAll has run.
  const idCases = [
    { mutation: 'updateCard', field: 'cardId', kind: 'garbage', input: () => ({ cardId: garbage, title: 'Edited' }) },
    { mutation: 'updateCard', field: 'cardId', kind: 'keyless', input: () => ({ cardId: keylessCardId, title: 'Edited' }) },
    { mutation: 'updateCard', field: 'cardId', kind: 'Column', input: () => ({ cardId: team.todoId, title: 'Edited' }) },
    { mutation: 'addComment', field: 'cardId', kind: 'garbage', input: () => ({ cardId: garbage, body: 'Hello' }) },
    { mutation: 'addComment', field: 'cardId', kind: 'keyless', input: () => ({ cardId: keylessCardId, body: 'Hello' }) },
    { mutation: 'addComment', field: 'cardId', kind: 'Column', input: () => ({ cardId: team.todoId, body: 'Hello' }) },
    { mutation: 'moveCard', field: 'cardId', kind: 'Column', input: () => ({ cardId: team.todoId, toColumnId: team.doneId }) },
    { mutation: 'moveCard', field: 'toColumnId', kind: 'garbage', input: () => ({ cardId, toColumnId: garbage }) },
    { mutation: 'moveCard', field: 'toColumnId', kind: 'Card', input: () => ({ cardId, toColumnId: otherCardId }) },
    { mutation: 'moveCard', field: 'afterCardId', kind: 'Column', input: () => ({ cardId, toColumnId: team.todoId, afterCardId: team.doneId }) },
    { mutation: 'createCard', field: 'columnId', kind: 'Card', input: () => ({ columnId: cardId, title: 'Misplaced' }) },
    { mutation: 'createCard', field: 'columnId', kind: 'keyless', input: () => ({ columnId: keylessColumnId, title: 'Misplaced' }) },
    { mutation: 'renameBoard', field: 'boardId', kind: 'garbage', input: () => ({ boardId: garbage, name: 'Renamed' }) },
    { mutation: 'deleteComment', field: 'commentId', kind: 'Card', input: () => ({ commentId: cardId }) },
    {
      mutation: 'addMember',
      field: 'workspaceId',
      kind: 'Board',
      input: () => ({ workspaceId: team.boardId, email: team.outsider.email, role: 'VIEWER' }),
    },
    { mutation: 'assignCard', field: 'userId', kind: 'garbage', input: () => ({ cardId, userId: garbage }) },
  ];

  for (const { mutation, field, kind, input } of idCases) {
    it(`${mutation} rejects ${kind} ${field}`, async () => {
      const result = await withoutEffect(() => mutate(server, team.owner.token, mutation, input(), ''));

      expectTypedError(result, 'ValidationError', `input.${field}`);
      expect(result.message).toContain(field);
    });
  }

  it('board query rejects malformed id', async () => {
    const data = await withoutEffect(() =>
      graphqlData(server, `query($id: ID!) { board(id: $id) { __typename ... on Error { code message } ... on ValidationError { field } } }`, { id: garbage }, team.owner.token),
    );

    expectTypedError(data.board, 'ValidationError', 'id');
  });

  it('subscription rejects malformed board id', async () => {
    const listenersBefore = server.app.services.bus.listenerCount();
    const client = socketClient(server, team.owner.token);
    const { collector } = subscribeSocket(client, boardEventsSubscription, { b: keylessCardId });

    await collector.done();

    const errors = [...collector.results.flatMap((result) => result.errors ?? []), ...collector.errors.flat()] as { extensions?: { code?: string } }[];
    expect(errors.map((error) => error.extensions?.code)).toEqual(['VALIDATION_FAILED']);
    expect(server.app.services.bus.listenerCount()).toBe(listenersBefore);
    await client.dispose();
  });

  // The team's OWNER acts on the rival workspace, of which they are not a member.
  const foreignCases = [
    { mutation: 'updateCard', input: () => ({ cardId: rivalCardId, title: 'Taken over' }) },
    { mutation: 'moveCard', input: () => ({ cardId: rivalCardId, toColumnId: rival.doneId }) },
    { mutation: 'archiveCard', input: () => ({ cardId: rivalCardId }) },
    { mutation: 'addComment', input: () => ({ cardId: rivalCardId, body: 'Hello from outside' }) },
    { mutation: 'editComment', input: () => ({ commentId: rivalCommentId, body: 'Rewritten from outside' }) },
    { mutation: 'deleteComment', input: () => ({ commentId: rivalCommentId }) },
    { mutation: 'createCard', input: () => ({ columnId: rival.todoId, title: 'Planted' }) },
    { mutation: 'renameColumn', input: () => ({ columnId: rival.todoId, name: 'Renamed' }) },
    { mutation: 'deleteColumn', input: () => ({ columnId: rival.doneId }) },
    { mutation: 'renameBoard', input: () => ({ boardId: rival.boardId, name: 'Renamed' }) },
    { mutation: 'archiveBoard', input: () => ({ boardId: rival.boardId }) },
    { mutation: 'createBoard', input: () => ({ workspaceId: rival.workspaceId, name: 'Planted' }) },
    { mutation: 'addMember', input: () => ({ workspaceId: rival.workspaceId, email: team.member.email, role: 'VIEWER' }) },
    { mutation: 'removeMember', input: () => ({ workspaceId: rival.workspaceId, userId: rival.member.id }) },
  ];

  for (const { mutation, input } of foreignCases) {
    it(`${mutation} in another workspace is forbidden`, async () => {
      const result = await withoutEffect(() => mutate(server, team.owner.token, mutation, input(), ''));

      expectTypedError(result, 'ForbiddenError');
    });
  }

  it('card cannot move to another workspace', async () => {
    const result = await withoutEffect(() => mutate(server, team.owner.token, 'moveCard', { cardId, toColumnId: rival.todoId }, ''));

    expectTypedError(result, 'ValidationError', 'input.toColumnId');
  });

  it('card cannot move to another board', async () => {
    const result = await withoutEffect(() => mutate(server, team.member.token, 'moveCard', { cardId, toColumnId: sideColumnId }, ''));

    expectTypedError(result, 'ValidationError', 'input.toColumnId');
  });

  it('anchor card from another workspace is rejected', async () => {
    const result = await withoutEffect(() =>
      mutate(server, team.member.token, 'moveCard', { cardId, toColumnId: team.todoId, afterCardId: rivalCardId }, ''),
    );

    expectTypedError(result, 'ValidationError', 'input.afterCardId');
  });

  it('assigning an outsider is rejected', async () => {
    const result = await withoutEffect(() => mutate(server, team.member.token, 'assignCard', { cardId, userId: team.outsider.id }, ''));

    expectTypedError(result, 'ValidationError', 'input.userId');
  });

  it('moveCard rejects both anchors', async () => {
    const result = await withoutEffect(() =>
      mutate(server, team.member.token, 'moveCard', { cardId, toColumnId: team.todoId, afterCardId: otherCardId, beforeCardId: otherCardId }, ''),
    );

    expectTypedError(result, 'ValidationError');
    expect(['input.afterCardId', 'input.beforeCardId']).toContain(result.field);
  });

  it('comment on archived card is rejected', async () => {
    const result = await withoutEffect(() => mutate(server, team.member.token, 'addComment', { cardId: archivedCardId, body: 'Too late' }, ''));

    expectTypedError(result, 'ValidationError', 'input.cardId');
    expect(result.message).toMatch(/archived/);
  });

  it('updateCard without fields is rejected', async () => {
    const result = await withoutEffect(() => mutate(server, team.member.token, 'updateCard', { cardId }, ''));

    expectTypedError(result, 'ValidationError', 'input');
    expect(result.message).toMatch(/title/);
  });

  it('deleteColumn rejects a column with cards', async () => {
    const result = await withoutEffect(() => mutate(server, team.member.token, 'deleteColumn', { columnId: team.todoId }, ''));

    expectTypedError(result, 'ValidationError', 'input.columnId');
  });

  it('deleteColumn counts archived cards too', async () => {
    const column = await mutate(server, team.member.token, 'createColumn', { boardId: team.boardId, name: 'Attic' }, '... on Column { id }');
    const storedId = await createCard(server, team.member.token, column.id, 'Stored away');
    const archived = await mutate(server, team.member.token, 'archiveCard', { cardId: storedId }, '');
    expect(archived.__typename).toBe('Card');

    const result = await withoutEffect(() => mutate(server, team.member.token, 'deleteColumn', { columnId: column.id }, ''));

    expectTypedError(result, 'ValidationError', 'input.columnId');
  });

  it('addMember rejects unknown email', async () => {
    const result = await withoutEffect(() =>
      mutate(server, team.owner.token, 'addMember', { workspaceId: team.workspaceId, email: 'nobody-here@example.com', role: 'MEMBER' }, ''),
    );

    expectTypedError(result, 'NotFoundError');
    expect(result.message).toContain('nobody-here@example.com');
  });

  it('addMember rejects an existing member', async () => {
    const result = await withoutEffect(() =>
      mutate(server, team.owner.token, 'addMember', { workspaceId: team.workspaceId, email: team.viewer.email.toUpperCase(), role: 'ADMIN' }, ''),
    );

    expectTypedError(result, 'ValidationError', 'input.email');
  });

  it('addMember rejects malformed email', async () => {
    const result = await withoutEffect(() =>
      mutate(server, team.owner.token, 'addMember', { workspaceId: team.workspaceId, email: 'not an email', role: 'MEMBER' }, ''),
    );

    expectTypedError(result, 'ValidationError', 'input.email');
  });

  const badDates = [
    { kind: 'a word', value: 'tomorrow' },
    { kind: 'month 13', value: '2026-13-01T10:00:00Z' },
    { kind: 'February 30', value: '2026-02-30T10:00:00Z' },
    { kind: 'no time zone', value: '2026-12-31T17:00:00' },
    { kind: 'an empty string', value: '' },
    { kind: 'a number', value: 1_767_225_600_000 },
  ];

  for (const { kind, value } of badDates) {
    it(`createCard rejects dueAt as ${kind}`, async () => {
      const response = await withoutEffect(() =>
        graphql(
          server,
          `mutation($input: CreateCardInput!) { createCard(input: $input) { __typename } }`,
          { input: { columnId: team.todoId, title: 'Dated', dueAt: value } },
          team.member.token,
        ),
      );

      expect(response.data ?? null).toBeNull();
      expect(response.errors?.map((error) => error.extensions?.code)).toEqual(['VALIDATION_FAILED']);
    });
  }

  it('updateCard rejects dueAt as a word', async () => {
    const response = await withoutEffect(() =>
      graphql(
        server,
        `mutation($input: UpdateCardInput!) { updateCard(input: $input) { __typename } }`,
        { input: { cardId, dueAt: 'next week' } },
        team.member.token,
      ),
    );

    expect(response.data ?? null).toBeNull();
    expect(response.errors?.map((error) => error.extensions?.code)).toEqual(['VALIDATION_FAILED']);
  });

  it('dueAt literal must be a date', async () => {
    const response = await withoutEffect(() =>
      graphql(server, `mutation { updateCard(input: { cardId: "${cardId}", dueAt: "soon" }) { __typename } }`, {}, team.member.token),
    );

    expect(response.data ?? null).toBeNull();
    expect(response.errors?.map((error) => error.extensions?.code)).toEqual(['VALIDATION_FAILED']);
  });

  it('broken query gets a 400', async () => {
    // The accept header application/graphql-response+json requests the
    // status codes of the GraphQL over HTTP specification. With plain
    // application/json, that specification lets a server send 200.
    const query = `mutation { createCard(input: { columnId: "${team.todoId}", title: "Half sent" }) { __typename `;
    const response = await withoutEffect(() =>
      fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${team.member.token}` },
        body: JSON.stringify({ query }),
      }),
    );

    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    const body = await response.json();
    expect(body.errors?.length).toBeGreaterThan(0);
    expect(body.errors[0].message).toMatch(/Syntax Error/);
    const next = await graphqlData(server, `{ me { __typename } }`, {}, team.member.token);
    expect(next.me.__typename).toBe('User');
  });

  it('non-JSON body gets a 400', async () => {
    const body = `{"query": "mutation { createCard(input: { columnId: \\"${team.todoId}\\", title: \\"Half sent\\" }) { __typename } }"`;
    const response = await withoutEffect(() =>
      fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${team.member.token}` },
        body,
      }),
    );

    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    const answer = await response.json();
    expect(answer.errors?.length).toBeGreaterThan(0);
    const next = await graphqlData(server, `{ me { __typename } }`, {}, team.member.token);
    expect(next.me.__typename).toBe('User');
  });

  async function readCard(id: string) {
    const data = await graphqlData(server, `query($id: ID!) { node(id: $id) { ... on Card { title description } } }`, { id }, team.viewer.token);
    return data.node;
  }

  it('unicode title round-trips exactly', async () => {
    const title = 'Ünïcødé ✓ 日本語 עברית مرحبا 🚀👩‍💻 e\u0301';

    const created = await mutate(server, team.member.token, 'createCard', { columnId: team.todoId, title }, '... on Card { id title }');

    expect(created.__typename).toBe('Card');
    expect(created.title).toBe(title);
    expect((await readCard(created.id)).title).toBe(title);
  });

  it('markup-like title is stored verbatim', async () => {
    const title = `<script>alert(1)</script> '; DROP TABLE "Card"; -- \\n`;

    const created = await mutate(server, team.member.token, 'createCard', { columnId: team.todoId, title }, '... on Card { id title }');

    expect(created.__typename).toBe('Card');
    expect((await readCard(created.id)).title).toBe(title);
  });

  it('200-character title is accepted', async () => {
    const title = 'a'.repeat(199) + 'z';

    const created = await mutate(server, team.member.token, 'createCard', { columnId: team.todoId, title }, '... on Card { id title }');

    expect(created.__typename).toBe('Card');
    expect((await readCard(created.id)).title).toBe(title);
  });

  it('padded 200-character title is trimmed', async () => {
    const title = 'b'.repeat(200);

    const created = await mutate(server, team.member.token, 'createCard', { columnId: team.todoId, title: `  ${title}\n` }, '... on Card { id title }');

    expect(created.__typename).toBe('Card');
    expect((await readCard(created.id)).title).toBe(title);
  });

  it('200 emoji title is accepted', async () => {
    // The schema documents the limit in characters. Each of these emoji is
    // one character (code point) but two UTF-16 code units.
    const title = '🚀'.repeat(200);

    const created = await mutate(server, team.member.token, 'createCard', { columnId: team.todoId, title }, '... on Card { id title }');

    expect(created.__typename, JSON.stringify(created)).toBe('Card');
    expect((await readCard(created.id)).title).toBe(title);
  });

  it('100-character names are accepted', async () => {
    const name = 'n'.repeat(100);

    const board = await mutate(server, team.member.token, 'createBoard', { workspaceId: team.workspaceId, name }, '... on Board { name }');
    const column = await mutate(server, team.member.token, 'createColumn', { boardId: sideBoardId, name }, '... on Column { name }');

    expect(board).toMatchObject({ __typename: 'Board', name });
    expect(column).toMatchObject({ __typename: 'Column', name });
  });

  it('10,000-character description is accepted', async () => {
    const description = 'd'.repeat(10_000);

    const created = await mutate(server, team.member.token, 'createCard', { columnId: team.todoId, title: 'Long read', description }, '... on Card { id }');

    expect(created.__typename).toBe('Card');
    expect((await readCard(created.id)).description).toBe(description);
  });
});

