import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { graphql, graphqlData, socketClient, subscribeSocket, subscribeSse, type Collector, type GraphQLResponse } from './support/client.js';
import { createCard, createTeam, mutate, signUp, type Team, type TestUser } from './support/fixtures.js';
import { queryRows } from './support/database.js';
import { startServer, type TestServer } from './support/server.js';
import type { PresenceSession } from '../src/realtime/presence.js';
import { parseId } from '../src/schema/ids.js';

/** A PresenceSession as the fragment below selects it. */
interface Session {
  id: string;
  user: { id: string; displayName: string } | null;
  focusedCard: { id: string; title: string } | null;
  focusedAt: string | null;
  joinedAt: string;
}

interface PresenceEvent {
  __typename: 'PresenceSnapshot' | 'PresenceJoined' | 'PresenceLeft' | 'PresenceFocusChanged';
  you?: Session;
  sessions?: Session[];
  session?: Session;
}

const sessionFields = `fragment SessionFields on PresenceSession { id user { id displayName } focusedCard { id title } focusedAt joinedAt }`;

const presenceSubscription = `subscription Presence($b: ID!) {
  presence(boardId: $b) {
    __typename
    ... on PresenceSnapshot { you { ...SessionFields } sessions { ...SessionFields } }
    ... on PresenceJoined { session { ...SessionFields } }
    ... on PresenceLeft { session { ...SessionFields } }
    ... on PresenceFocusChanged { session { ...SessionFields } }
  }
}
${sessionFields}`;

const setFocusMutation = `mutation SetFocus($input: SetFocusInput!) {
  setFocus(input: $input) {
    __typename
    ... on Error { code message }
    ... on ValidationError { field }
    ... on MutationSetFocusSuccess { data { ...SessionFields } }
  }
}
${sessionFields}`;

/** Maximum wait, in milliseconds, for a change that the server should send at once. */
const promptMs = 2_000;

/** Lists the presence events a subscriber received, in order, with null for a result that carried errors. */
function presenceEvents(collector: Collector<GraphQLResponse>): (PresenceEvent | null)[] {
  return collector.results.map((result) => (result.data?.presence as PresenceEvent | undefined) ?? null);
}

/** Lists the sessions of the events of one type that a subscriber received, in order. */
function sessionsOf(collector: Collector<GraphQLResponse>, typename: PresenceEvent['__typename']): Session[] {
  return presenceEvents(collector)
    .filter((event): event is PresenceEvent => event?.__typename === typename)
    .map((event) => event.session!);
}

/** Collects the error codes a subscriber received, in results and as protocol errors. */
function errorCodes(collector: Collector<GraphQLResponse>): (string | undefined)[] {
  const inResults = collector.results.flatMap((result) => result.errors ?? []);
  const protocolErrors = collector.errors.flatMap((error) => (Array.isArray(error) ? error : [error])) as NonNullable<GraphQLResponse['errors']>;
  return [...inResults, ...protocolErrors].map((error) => error.extensions?.code);
}

/** Polls `condition` until it holds, and throws with `describe()` after `timeoutMs`. */
async function eventually(condition: () => boolean | Promise<boolean>, describe: () => string | Promise<string>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms: ${await describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Lists the server's presence sessions on a board given by its GraphQL id, which the registry keys by database id. */
function presentOn(server: TestServer, boardId: string): Promise<PresenceSession[]> {
  return server.app.services.presence.list(parseId(boardId, 'Board', 'boardId'));
}

/** Waits until the server's presence registry contains `expected` sessions in total. */
async function waitForPresenceSize(server: TestServer, expected: number, timeoutMs = 5_000): Promise<void> {
  await eventually(
    () => server.app.services.presence.size === expected,
    () => `expected ${expected} presence session(s), found ${server.app.services.presence.size}`,
    timeoutMs,
  );
}

/** Waits until the subscriber received a PresenceLeft for `sessionId`, and returns the time it arrived. */
async function waitForLeft(collector: Collector<GraphQLResponse>, sessionId: string, timeoutMs = promptMs): Promise<number> {
  await collector.until(() => sessionsOf(collector, 'PresenceLeft').some((session) => session.id === sessionId), `PresenceLeft for ${sessionId}`, timeoutMs);
  return Date.now();
}

interface Presence {
  client: Client;
  collector: Collector<GraphQLResponse>;
  unsubscribe: () => void;
  you: Session;
  sessions: Session[];
}

/** Subscribes to presence over its own WebSocket and waits for the snapshot. */
async function joinOverSocket(server: TestServer, user: TestUser, boardId: string, client = socketClient(server, user.token)): Promise<Presence> {
  const { collector, unsubscribe } = subscribeSocket(client, presenceSubscription, { b: boardId });
  await collector.until(() => collector.results.length > 0 || collector.completed, 'the presence snapshot');
  const first = collector.results[0];
  if (!first || first.errors || first.data?.presence.__typename !== 'PresenceSnapshot') {
    throw new Error(`Expected a PresenceSnapshot first, got ${JSON.stringify(first ?? collector.errors)}`);
  }
  const snapshot = first.data.presence as PresenceEvent;
  return { client, collector, unsubscribe, you: snapshot.you!, sessions: snapshot.sessions! };
}

async function setFocus(server: TestServer, user: TestUser, input: Record<string, unknown>) {
  const result = await graphql(server, setFocusMutation, { input }, user.token);
  expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
  return result.data.setFocus;
}

/** Creates a board with one column in the team's workspace, so presence on it starts empty. */
async function createBoard(server: TestServer, team: Team, name: string): Promise<{ boardId: string; columnId: string }> {
  const board = await mutate(server, team.owner.token, 'createBoard', { workspaceId: team.workspaceId, name }, '... on Board { id }');
  expect(board.__typename).toBe('Board');
  const column = await mutate(server, team.owner.token, 'createColumn', { boardId: board.id, name: 'To do' }, '... on Column { id }');
  expect(column.__typename).toBe('Column');
  return { boardId: board.id, columnId: column.id };
}

describe('presence', () => {
  let server: TestServer;
  let team: Team;
  const clients: Client[] = [];

  /** Creates a graphql-ws client that afterAll disposes if the test did not. */
  function client(user?: TestUser): Client {
    const created = socketClient(server, user?.token);
    clients.push(created);
    return created;
  }

  beforeAll(async () => {
    server = await startServer();
    team = await createTeam(server);
  });
  afterAll(async () => {
    await Promise.all(clients.map((created) => created.dispose()));
    await server.stop();
  });

  it('first viewer sees only itself', async () => {
    const { boardId } = await createBoard(server, team, 'Join alone');
    const sizeBefore = server.app.services.presence.size;

    const owner = await joinOverSocket(server, team.owner, boardId, client(team.owner));

    expect(owner.sessions).toHaveLength(1);
    expect(owner.sessions[0]).toEqual(owner.you);
    expect(owner.you.user).toEqual({ id: team.owner.id, displayName: 'owner' });
    expect(owner.you.focusedCard).toBeNull();
    expect(owner.you.focusedAt).toBeNull();
    expect(Number.isNaN(Date.parse(owner.you.joinedAt))).toBe(false);
    expect(server.app.services.presence.size).toBe(sizeBefore + 1);

    owner.unsubscribe();
    await waitForPresenceSize(server, sizeBefore);
  });

  it('second viewer is announced', async () => {
    const { boardId } = await createBoard(server, team, 'Join second');
    const owner = await joinOverSocket(server, team.owner, boardId, client(team.owner));

    const member = await joinOverSocket(server, team.member, boardId, client(team.member));
    await owner.collector.count(2);

    expect(presenceEvents(owner.collector).map((event) => event?.__typename)).toEqual(['PresenceSnapshot', 'PresenceJoined']);
    const joined = sessionsOf(owner.collector, 'PresenceJoined')[0]!;
    expect(joined.id).toBe(member.you.id);
    expect(joined.user).toEqual({ id: team.member.id, displayName: 'member' });
    expect(member.you.user?.id).toBe(team.member.id);
    // Oldest first, so the owner who joined first comes first.
    expect(member.sessions.map((session) => session.id)).toEqual([owner.you.id, member.you.id]);
    expect(member.sessions.map((session) => session.user?.id)).toEqual([team.owner.id, team.member.id]);
    expect(member.sessions[1]).toEqual(member.you);
    expect(presenceEvents(member.collector)).toHaveLength(1);

    owner.unsubscribe();
    member.unsubscribe();
  });

  it('second tab is separate session', async () => {
    const { boardId } = await createBoard(server, team, 'Two tabs');
    const sizeBefore = server.app.services.presence.size;
    const firstTab = await joinOverSocket(server, team.owner, boardId, client(team.owner));

    const secondTab = await joinOverSocket(server, team.owner, boardId, client(team.owner));

    expect(secondTab.you.id).not.toBe(firstTab.you.id);
    expect(secondTab.sessions.map((session) => session.id)).toEqual([firstTab.you.id, secondTab.you.id]);
    expect(secondTab.sessions.map((session) => session.user?.id)).toEqual([team.owner.id, team.owner.id]);
    await firstTab.collector.count(2);
    expect(sessionsOf(firstTab.collector, 'PresenceJoined').map((session) => session.id)).toEqual([secondTab.you.id]);
    expect(server.app.services.presence.size).toBe(sizeBefore + 2);

    // A third viewer lists each of the owner's tabs once.
    const member = await joinOverSocket(server, team.member, boardId, client(team.member));
    expect(member.sessions.map((session) => session.id)).toEqual([firstTab.you.id, secondTab.you.id, member.you.id]);

    firstTab.unsubscribe();
    secondTab.unsubscribe();
    member.unsubscribe();
    await waitForPresenceSize(server, sizeBefore);
  });

  it('focus reaches every subscriber', async () => {
    const { boardId, columnId } = await createBoard(server, team, 'Focus');
    const cardId = await createCard(server, team.owner.token, columnId, 'Write the spec');
    const firstTab = await joinOverSocket(server, team.owner, boardId, client(team.owner));
    const secondTab = await joinOverSocket(server, team.owner, boardId, client(team.owner));
    const member = await joinOverSocket(server, team.member, boardId, client(team.member));
    const before = Date.now();

    const focused = await setFocus(server, team.owner, { boardId, cardId });

    expect(focused.__typename).toBe('MutationSetFocusSuccess');
    const changedIds = (focused.data as Session[]).map((session) => session.id).sort();
    expect(changedIds).toEqual([firstTab.you.id, secondTab.you.id].sort());
    for (const session of focused.data as Session[]) {
      expect(session.focusedCard).toEqual({ id: cardId, title: 'Write the spec' });
      expect(session.focusedAt).not.toBeNull();
    }
    for (const [name, viewer] of [['firstTab', firstTab], ['secondTab', secondTab], ['member', member]] as const) {
      await viewer.collector.until(() => sessionsOf(viewer.collector, 'PresenceFocusChanged').length >= 2, `${name} to get two focus changes`, promptMs);
      const changes = sessionsOf(viewer.collector, 'PresenceFocusChanged');
      expect(changes.map((session) => session.id).sort(), name).toEqual(changedIds);
      for (const session of changes) {
        expect(session.focusedCard, name).toEqual({ id: cardId, title: 'Write the spec' });
        expect(session.user?.id, name).toBe(team.owner.id);
        const focusedAt = Date.parse(session.focusedAt ?? '');
        expect(focusedAt, name).toBeGreaterThanOrEqual(before - 1_000);
        expect(focusedAt, name).toBeLessThanOrEqual(Date.now() + 1_000);
      }
    }

    // A viewer who joins later finds the focus in its snapshot.
    const late = await joinOverSocket(server, team.viewer, boardId, client(team.viewer));
    const ownerSessions = late.sessions.filter((session) => session.user?.id === team.owner.id);
    expect(ownerSessions.map((session) => session.focusedCard?.id)).toEqual([cardId, cardId]);

    for (const viewer of [firstTab, secondTab, member, late]) viewer.unsubscribe();
  });

  it('focus by presenceId changes one session', async () => {
    const { boardId, columnId } = await createBoard(server, team, 'Focus one tab');
    const cardId = await createCard(server, team.owner.token, columnId, 'Review');
    const markerCardId = await createCard(server, team.owner.token, columnId, 'Marker');
    const firstTab = await joinOverSocket(server, team.owner, boardId, client(team.owner));
    const secondTab = await joinOverSocket(server, team.owner, boardId, client(team.owner));
    const member = await joinOverSocket(server, team.member, boardId, client(team.member));

    const focused = await setFocus(server, team.owner, { boardId, cardId, presenceId: firstTab.you.id });
    // The member's focus comes after the owner's on every stream, so once it
    // arrives, any change to the owner's second tab would have arrived too.
    await setFocus(server, team.member, { boardId, cardId: markerCardId });

    expect(focused.__typename).toBe('MutationSetFocusSuccess');
    expect((focused.data as Session[]).map((session) => session.id)).toEqual([firstTab.you.id]);
    expect(focused.data[0].focusedCard.id).toBe(cardId);
    for (const [name, viewer] of [['firstTab', firstTab], ['secondTab', secondTab], ['member', member]] as const) {
      await viewer.collector.until(
        () => sessionsOf(viewer.collector, 'PresenceFocusChanged').some((session) => session.id === member.you.id),
        `${name} to get the member's focus change`,
        promptMs,
      );
      const changes = sessionsOf(viewer.collector, 'PresenceFocusChanged');
      expect(changes.map((session) => [session.id, session.focusedCard?.id]), name).toEqual([
        [firstTab.you.id, cardId],
        [member.you.id, markerCardId],
      ]);
    }

    for (const viewer of [firstTab, secondTab, member]) viewer.unsubscribe();
  });

  it('clearing focus sends null card', async () => {
    const { boardId, columnId } = await createBoard(server, team, 'Clear focus');
    const cardId = await createCard(server, team.owner.token, columnId, 'Draft');
    const firstTab = await joinOverSocket(server, team.owner, boardId, client(team.owner));
    const secondTab = await joinOverSocket(server, team.owner, boardId, client(team.owner));
    const member = await joinOverSocket(server, team.member, boardId, client(team.member));
    await setFocus(server, team.owner, { boardId, cardId });
    await member.collector.until(() => sessionsOf(member.collector, 'PresenceFocusChanged').length >= 2, 'the two focus changes', promptMs);

    // cardId omitted clears one tab, cardId null clears the other.
    const omitted = await setFocus(server, team.owner, { boardId, presenceId: firstTab.you.id });
    const nulled = await setFocus(server, team.owner, { boardId, cardId: null, presenceId: secondTab.you.id });

    expect(omitted.__typename).toBe('MutationSetFocusSuccess');
    expect(omitted.data).toHaveLength(1);
    expect(omitted.data[0].id).toBe(firstTab.you.id);
    expect(omitted.data[0].focusedCard).toBeNull();
    expect(omitted.data[0].focusedAt).toBeNull();
    expect(nulled.__typename).toBe('MutationSetFocusSuccess');
    expect(nulled.data).toHaveLength(1);
    expect(nulled.data[0].id).toBe(secondTab.you.id);
    expect(nulled.data[0].focusedCard).toBeNull();
    await member.collector.until(() => sessionsOf(member.collector, 'PresenceFocusChanged').length >= 4, 'the two cleared focuses', promptMs);
    const cleared = sessionsOf(member.collector, 'PresenceFocusChanged').slice(2);
    expect(cleared.map((session) => session.id)).toEqual([firstTab.you.id, secondTab.you.id]);
    for (const session of cleared) {
      expect(session.focusedCard).toBeNull();
      expect(session.focusedAt).toBeNull();
    }

    for (const viewer of [firstTab, secondTab, member]) viewer.unsubscribe();
  });

  it('focus on foreign card is rejected', async () => {
    const { boardId, columnId } = await createBoard(server, team, 'Own board');
    const other = await createBoard(server, team, 'Other board');
    const foreignCardId = await createCard(server, team.owner.token, other.columnId, 'Elsewhere');
    const markerCardId = await createCard(server, team.owner.token, columnId, 'Marker');
    const owner = await joinOverSocket(server, team.owner, boardId, client(team.owner));
    const member = await joinOverSocket(server, team.member, boardId, client(team.member));

    const rejected = await setFocus(server, team.owner, { boardId, cardId: foreignCardId });
    await setFocus(server, team.member, { boardId, cardId: markerCardId });

    expect(rejected.__typename).toBe('ValidationError');
    expect(rejected.code).toBe('VALIDATION_FAILED');
    expect(rejected.field).toBe('input.cardId');
    await owner.collector.until(() => sessionsOf(owner.collector, 'PresenceFocusChanged').length >= 1, "the member's focus change", promptMs);
    expect(sessionsOf(owner.collector, 'PresenceFocusChanged').map((session) => session.id)).toEqual([member.you.id]);
    expect((await presentOn(server, boardId)).find((session) => session.id === owner.you.id)?.focusCardId).toBeNull();

    owner.unsubscribe();
    member.unsubscribe();
  });

  it('focus without presence is not found', async () => {
    const { boardId, columnId } = await createBoard(server, team, 'Absent');
    const cardId = await createCard(server, team.owner.token, columnId, 'Nobody here');
    const owner = await joinOverSocket(server, team.owner, boardId, client(team.owner));

    const absent = await setFocus(server, team.member, { boardId, cardId });
    const othersSession = await setFocus(server, team.member, { boardId, cardId, presenceId: owner.you.id });

    expect(absent.__typename).toBe('NotFoundError');
    expect(absent.code).toBe('NOT_FOUND');
    expect(othersSession.__typename).toBe('NotFoundError');
    expect(othersSession.code).toBe('NOT_FOUND');
    expect((await presentOn(server, boardId)).map((session) => session.focusCardId)).toEqual([null]);

    owner.unsubscribe();
  });

  it('unsubscribe leaves at once', async () => {
    const { boardId } = await createBoard(server, team, 'Unsubscribe');
    const { boardId: otherBoardId } = await createBoard(server, team, 'Unsubscribe elsewhere');
    const owner = await joinOverSocket(server, team.owner, boardId, client(team.owner));
    // Two subscriptions on one socket, so ending one leaves the socket open.
    const memberClient = client(team.member);
    const member = await joinOverSocket(server, team.member, boardId, memberClient);
    const memberElsewhere = await joinOverSocket(server, team.member, otherBoardId, memberClient);
    const sizeBefore = server.app.services.presence.size;

    const started = Date.now();
    member.unsubscribe();

    const leftAt = await waitForLeft(owner.collector, member.you.id);
    expect(leftAt - started).toBeLessThan(promptMs);
    expect(sessionsOf(owner.collector, 'PresenceLeft')[0]!.user?.id).toBe(team.member.id);
    await waitForPresenceSize(server, sizeBefore - 1);
    expect((await presentOn(server, otherBoardId)).map((session) => session.id)).toEqual([memberElsewhere.you.id]);
    expect(memberElsewhere.collector.completed).toBe(false);

    owner.unsubscribe();
    memberElsewhere.unsubscribe();
  });

  it('closed socket leaves at once', async () => {
    const { boardId } = await createBoard(server, team, 'Close socket');
    const owner = await joinOverSocket(server, team.owner, boardId, client(team.owner));
    const member = await joinOverSocket(server, team.member, boardId, socketClient(server, team.member.token));
    const sizeBefore = server.app.services.presence.size;

    const started = Date.now();
    // dispose() closes the WebSocket with 1000 Normal Closure.
    await member.client.dispose();

    const leftAt = await waitForLeft(owner.collector, member.you.id);
    expect(leftAt - started).toBeLessThan(promptMs);
    await waitForPresenceSize(server, sizeBefore - 1);

    owner.unsubscribe();
  });

  it('aborted SSE request leaves', async () => {
    const { boardId } = await createBoard(server, team, 'Abort SSE');
    const owner = await joinOverSocket(server, team.owner, boardId, client(team.owner));
    const sizeBefore = server.app.services.presence.size;
    const member = subscribeSse(server, presenceSubscription, { b: boardId }, team.member.token);
    await member.opened;
    await member.collector.count(1);
    const snapshot = member.collector.results[0]!.data?.presence as PresenceEvent;
    expect(snapshot.__typename).toBe('PresenceSnapshot');
    expect(snapshot.sessions!.map((session) => session.id)).toEqual([owner.you.id, snapshot.you!.id]);
    await owner.collector.until(() => sessionsOf(owner.collector, 'PresenceJoined').length === 1, 'the SSE viewer to join', promptMs);
    expect(server.app.services.presence.size).toBe(sizeBefore + 1);

    const started = Date.now();
    member.close();

    const leftAt = await waitForLeft(owner.collector, snapshot.you!.id);
    expect(leftAt - started).toBeLessThan(promptMs);
    await waitForPresenceSize(server, sizeBefore);

    owner.unsubscribe();
  });

  it('outsider subscription is forbidden', async () => {
    const { boardId } = await createBoard(server, team, 'Members only');
    const owner = await joinOverSocket(server, team.owner, boardId, client(team.owner));
    const sizeBefore = server.app.services.presence.size;

    const outsider = subscribeSocket(client(team.outsider), presenceSubscription, { b: boardId });
    await outsider.collector.until(() => outsider.collector.results.length > 0 || outsider.collector.completed, 'the outsider to get an answer');

    expect(errorCodes(outsider.collector)).toEqual(['FORBIDDEN']);
    expect(outsider.collector.results.every((result) => result.data == null)).toBe(true);
    expect(server.app.services.presence.size).toBe(sizeBefore);
    // A member joining afterwards is the first join the owner receives.
    const member = await joinOverSocket(server, team.member, boardId, client(team.member));
    await owner.collector.until(() => sessionsOf(owner.collector, 'PresenceJoined').length >= 1, "the member's join", promptMs);
    expect(presenceEvents(owner.collector).map((event) => event?.__typename)).toEqual(['PresenceSnapshot', 'PresenceJoined']);
    expect(sessionsOf(owner.collector, 'PresenceJoined')[0]!.id).toBe(member.you.id);

    outsider.unsubscribe();
    owner.unsubscribe();
    member.unsubscribe();
  });

  it('anonymous subscription is unauthenticated', async () => {
    const { boardId } = await createBoard(server, team, 'Anonymous');
    const sizeBefore = server.app.services.presence.size;

    const overSocket = subscribeSocket(client(), presenceSubscription, { b: boardId });
    const overSse = subscribeSse(server, presenceSubscription, { b: boardId });
    await overSocket.collector.until(() => overSocket.collector.results.length > 0 || overSocket.collector.completed, 'the WebSocket answer');
    await overSse.collector.until(() => overSse.collector.results.length > 0 || overSse.collector.completed, 'the SSE answer');

    expect(errorCodes(overSocket.collector)).toEqual(['UNAUTHENTICATED']);
    expect(errorCodes(overSse.collector)).toEqual(['UNAUTHENTICATED']);
    expect(server.app.services.presence.size).toBe(sizeBefore);
    expect(await presentOn(server, boardId)).toEqual([]);

    overSocket.unsubscribe();
    overSse.close();
  });

  it('removed member loses presence', async () => {
    const { boardId } = await createBoard(server, team, 'Removal');
    const leaver = await signUp(server, 'leaver');
    const added = await mutate(server, team.owner.token, 'addMember', { workspaceId: team.workspaceId, email: leaver.email, role: 'MEMBER' }, '... on Membership { id }');
    expect(added.__typename).toBe('Membership');
    const owner = await joinOverSocket(server, team.owner, boardId, client(team.owner));
    const leaving = await joinOverSocket(server, leaver, boardId, client(leaver));
    const sizeBefore = server.app.services.presence.size;

    const removed = await mutate(server, team.owner.token, 'removeMember', { workspaceId: team.workspaceId, userId: leaver.id }, '... on RemovedMember { userId }');

    expect(removed.__typename).toBe('RemovedMember');
    await leaving.collector.done(promptMs);
    expect(errorCodes(leaving.collector)).toEqual(['FORBIDDEN']);
    expect(presenceEvents(leaving.collector).slice(1)).toEqual([null]);
    await waitForLeft(owner.collector, leaving.you.id);
    await waitForPresenceSize(server, sizeBefore - 1);
    expect((await presentOn(server, boardId)).map((session) => session.id)).toEqual([owner.you.id]);

    owner.unsubscribe();
  });

  it('presence never touches event log', async () => {
    const { boardId, columnId } = await createBoard(server, team, 'No log');
    const cardId = await createCard(server, team.owner.token, columnId, 'Focused');
    const logBefore = await logSize(server, boardId);
    const boardQuery = `query($b: ID!) { board(id: $b) { ... on Board { eventSequence version } } }`;
    const boardBefore = (await graphqlData(server, boardQuery, { b: boardId }, team.owner.token)).board;
    expect(boardBefore.eventSequence).toBe(logBefore.eventSequence);

    const owner = await joinOverSocket(server, team.owner, boardId, client(team.owner));
    const secondTab = await joinOverSocket(server, team.owner, boardId, socketClient(server, team.owner.token));
    const member = await joinOverSocket(server, team.member, boardId, client(team.member));
    await setFocus(server, team.owner, { boardId, cardId });
    await setFocus(server, team.member, { boardId, cardId, presenceId: member.you.id });
    await setFocus(server, team.owner, { boardId, presenceId: owner.you.id });
    await member.collector.until(() => sessionsOf(member.collector, 'PresenceFocusChanged').length >= 4, 'four focus changes', promptMs);
    member.unsubscribe();
    await secondTab.client.dispose();
    await owner.collector.until(() => sessionsOf(owner.collector, 'PresenceLeft').length >= 2, 'two leaves', promptMs);
    owner.unsubscribe();
    await eventually(
      async () => (await presentOn(server, boardId)).length === 0,
      async () => `the board to have no presence; found ${(await presentOn(server, boardId)).length} session(s)`,
    );

    expect(await logSize(server, boardId)).toEqual(logBefore);
    const boardAfter = (await graphqlData(server, boardQuery, { b: boardId }, team.owner.token)).board;
    expect(boardAfter).toEqual(boardBefore);
  });
});

/** Reads the board's eventSequence and its BoardEvent row count straight from the server's database. */
async function logSize(server: TestServer, boardId: string): Promise<{ eventSequence: number; rows: number }> {
  const databaseId = parseId(boardId, 'Board', 'boardId');
  const [board] = await queryRows<{ eventSequence: number }>(server.databaseUrl, 'SELECT "eventSequence" FROM "Board" WHERE "id" = ?', databaseId);
  const [events] = await queryRows<{ rows: number }>(server.databaseUrl, 'SELECT COUNT(*) AS "rows" FROM "BoardEvent" WHERE "boardId" = ?', databaseId);
  if (!board) throw new Error(`Board ${boardId} was not found in ${server.databaseUrl}`);
  return { eventSequence: board.eventSequence, rows: events!.rows };
}

describe('presence keepalive', () => {
  const keepAliveSeconds = 1;
  let server: TestServer;
  let team: Team;

  beforeAll(async () => {
    server = await startServer({ keepAliveSeconds });
    team = await createTeam(server);
  });
  afterAll(() => server.stop());

  it('silent client leaves after keepalive', async () => {
    const observerClient = socketClient(server, team.owner.token);
    const observer = await joinOverSocket(server, team.owner, team.boardId, observerClient);

    // A client that sends no pongs, like a laptop that lost its network.
    const silent = new WebSocket(server.wsUrl, 'graphql-transport-ws', { autoPong: false });
    const messages: { type: string; id?: string; payload?: any }[] = [];
    let pings = 0;
    let closeCode: number | undefined;
    silent.on('message', (data) => messages.push(JSON.parse(String(data))));
    silent.on('ping', () => {
      pings += 1;
    });
    silent.on('close', (code) => {
      closeCode = code;
    });
    await new Promise<void>((resolve, reject) => {
      silent.once('open', () => resolve());
      silent.once('error', reject);
    });
    const openedAt = Date.now();
    silent.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${team.member.token}` } }));
    await eventually(() => messages.some((message) => message.type === 'connection_ack'), () => `connection_ack; got ${JSON.stringify(messages)}`);
    silent.send(JSON.stringify({ id: 'presence-1', type: 'subscribe', payload: { query: presenceSubscription, variables: { b: team.boardId } } }));
    await eventually(() => messages.some((message) => message.type === 'next'), () => `the snapshot; got ${JSON.stringify(messages)}`);
    const snapshot = messages.find((message) => message.type === 'next')!.payload.data.presence as PresenceEvent;
    expect(snapshot.__typename).toBe('PresenceSnapshot');
    const silentId = snapshot.you!.id;
    expect((await presentOn(server, team.boardId)).map((session) => session.id)).toEqual([observer.you.id, silentId]);

    const leftAt = await waitForLeft(observer.collector, silentId, 5_000);

    const elapsed = leftAt - openedAt;
    expect(elapsed).toBeGreaterThanOrEqual(keepAliveSeconds * 1_000);
    expect(elapsed).toBeLessThan(2 * keepAliveSeconds * 1_000 + 1_500);
    expect(pings).toBeGreaterThanOrEqual(1);
    await eventually(() => closeCode !== undefined, () => 'the silent socket to close');
    // The server terminated the socket without a close frame.
    expect(closeCode).toBe(1006);
    await waitForPresenceSize(server, 1);
    // The observer's client sends pongs, so it stays.
    expect((await presentOn(server, team.boardId)).map((session) => session.id)).toEqual([observer.you.id]);
    expect(observer.collector.completed).toBe(false);

    observer.unsubscribe();
    await observerClient.dispose();
  });
});
