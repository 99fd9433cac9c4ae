import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { refreshingAccessToken, TandemClient, type BoardEvent, type ReceivedError } from '../sdk/index.js';
import { graphqlData, socketClient, subscribeSocket, subscribeSse, type Collector, type GraphQLResponse } from './support/client.js';
import { createCard, createTeam, mutate, signUp, type TestUser } from './support/fixtures.js';
import { afterThisTest, waitFor } from './support/processes.js';
import { startServer, type TestServer } from './support/server.js';
import { sessionSignedOut } from '../src/auth/authenticate.js';
import { SessionStreams } from '../src/http/session-streams.js';

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

  it('ends a stream that registers after its sign-out', async () => {
    let checksStarted = 0;
    let checksDone = 0;
    const streams = new SessionStreams(async (sessionId) => {
      checksStarted += 1;
      const signedOut = await sessionSignedOut(server.app.services, sessionId);
      checksDone += 1;
      return signedOut;
    });
    const actorOf = async (user: TestUser) => {
      const claims = await server.app.services.tokens.verify(user.token);
      return { userId: claims.userId, sessionId: claims.sessionId };
    };
    const leaving = await actorOf(await signUp(server, 'leaving'));
    const staying = await actorOf(await signUp(server, 'staying'));

    // Both streams authenticated here, then the sign-out committed and was
    // acted on while they were still on their way to the registry.
    const sessionCheckedAt = Date.now();
    await server.app.services.db.session.update({ where: { id: leaving.sessionId }, data: { revokedAt: new Date() } });
    streams.signedOut(leaving.userId, leaving.sessionId);
    const ends: string[] = [];
    streams.add(leaving, undefined, (reason) => ends.push(`leaving: ${reason}`), sessionCheckedAt);
    streams.add(staying, undefined, (reason) => ends.push(`staying: ${reason}`), sessionCheckedAt);

    expect(ends).toEqual([]);
    await waitFor(() => checksDone === 2, () => `both sessions to be read again; ${checksDone} done`, 2_000);
    expect(ends).toEqual(['leaving: signed-out']);

    // A stream authenticated after the last sign-out is not read again.
    streams.add(staying, undefined, (reason) => ends.push(`later: ${reason}`), Date.now() + 1);
    expect(checksStarted).toBe(2);
  });
});

const boardEvents = 'subscription($b: ID!) { boardEvents(boardId: $b) { sequence ... on CardCreatedEvent { card { title } } } }';

/** Counts of what a server keeps for its SSE subscriptions; each must return to its start value once they end. */
function holdings(target: TestServer) {
  return { streams: target.app.sseSessions.size, timers: target.app.sseSessions.pendingTimers(), busListeners: target.app.services.bus.listenerCount() };
}

/** Opens an SSE subscription to the board's events and waits until it is live. */
async function openSse(target: TestServer, token: string, boardId: string) {
  const before = holdings(target);
  const sse = subscribeSse(target, boardEvents, { b: boardId }, token);
  // Closing before the response headers arrive rejects `opened`; the collector reports the rest.
  sse.opened.catch(() => {});
  afterThisTest(() => sse.close());
  await waitFor(
    () => target.app.sseSessions.size > before.streams && target.app.services.bus.listenerCount() > before.busListeners,
    () => `the SSE subscription to go live; ${JSON.stringify(holdings(target))}`,
    5_000,
  );
  return sse;
}

function errorsOf(collector: Collector<GraphQLResponse>) {
  return collector.results.flatMap((result) => result.errors ?? []);
}

function titlesOf(collector: Collector<GraphQLResponse>): string[] {
  return collector.results.flatMap((result) => (result.data?.boardEvents.card ? [result.data.boardEvents.card.title as string] : []));
}

describe('SSE subscription lifetime', () => {
  it('ends at token expiry with UNAUTHENTICATED', { timeout: 15_000 }, async () => {
    const team = await createTeam(server);
    const base = holdings(server);
    const opened = Date.now();
    const sse = await openSse(server, team.member.token, team.boardId);
    await createCard(server, team.owner.token, team.todoId, 'Before expiry');
    await sse.collector.count(1);

    await sse.collector.done(5_000);

    expect(Date.now() - opened).toBeLessThan(4_500);
    expect(titlesOf(sse.collector)).toEqual(['Before expiry']);
    const errors = errorsOf(sse.collector);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.extensions?.code).toBe('UNAUTHENTICATED');
    expect(errors[0]!.extensions?.reason).toBe('TOKEN_EXPIRED');
    expect(errors[0]!.message).toMatch(/access token of this subscription expired/);
    expect(errors[0]!.message).toMatch(/fresh access token .*`after` set to the cursor of the last event received/);
    await waitFor(() => JSON.stringify(holdings(server)) === JSON.stringify(base), () => `the stream's timer and listeners to go; ${JSON.stringify(holdings(server))}`, 2_000);
  });
});

describe('SSE subscriptions and sign-out', () => {
  // Tokens here live 15 minutes, so none expires during a test.
  let longLived: TestServer;
  beforeAll(async () => {
    longLived = await startServer();
  });
  afterAll(() => longLived.stop());

  async function signIn(user: TestUser): Promise<string> {
    const result = await mutate(longLived, undefined, 'signIn', { email: user.email, password: 'correct horse battery' }, '... on AuthPayload { accessToken }');
    expect(result.__typename).toBe('AuthPayload');
    return result.accessToken;
  }

  it('signOut ends only that session', async () => {
    const team = await createTeam(longLived);
    const base = holdings(longLived);
    const secondSession = await signIn(team.member);
    const signedOut = await openSse(longLived, team.member.token, team.boardId);
    const otherSession = await openSse(longLived, secondSession, team.boardId);
    const otherUser = await openSse(longLived, team.owner.token, team.boardId);

    const result = await mutate(longLived, team.member.token, 'signOut', {}, '... on SignOutPayload { revokedSessions }');
    expect(result.revokedSessions).toBe(1);

    await signedOut.collector.done(2_000);
    const errors = errorsOf(signedOut.collector);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.extensions?.code).toBe('UNAUTHENTICATED');
    expect(errors[0]!.extensions?.reason).toBe('SIGNED_OUT');
    expect(errors[0]!.message).toMatch(/session of this access token was signed out/);
    await createCard(longLived, team.owner.token, team.todoId, 'After sign-out');
    await otherSession.collector.until(() => titlesOf(otherSession.collector).includes('After sign-out'), 'the other session to get the card');
    await otherUser.collector.until(() => titlesOf(otherUser.collector).includes('After sign-out'), 'the other user to get the card');
    expect(otherSession.collector.completed).toBe(false);
    expect(otherUser.collector.completed).toBe(false);
    expect(titlesOf(signedOut.collector)).toEqual([]);

    otherSession.close();
    otherUser.close();
    await waitFor(() => JSON.stringify(holdings(longLived)) === JSON.stringify(base), () => `every stream's timer and listeners to go; ${JSON.stringify(holdings(longLived))}`, 2_000);
  });

  it('signOut everywhere ends every session', async () => {
    const team = await createTeam(longLived);
    const secondSession = await signIn(team.member);
    const streams = [await openSse(longLived, team.member.token, team.boardId), await openSse(longLived, secondSession, team.boardId)];

    await mutate(longLived, team.member.token, 'signOut', { everywhere: true }, '... on SignOutPayload { revokedSessions }');

    for (const [index, stream] of streams.entries()) {
      await stream.collector.done(2_000);
      expect(errorsOf(stream.collector).map((error) => error.extensions?.code), `stream ${index}`).toEqual(['UNAUTHENTICATED']);
    }
  });

  it('releases timers and listeners however a stream ends', async () => {
    const team = await createTeam(longLived);
    const base = holdings(longLived);
    const backToBase = (description: string) =>
      waitFor(() => JSON.stringify(holdings(longLived)) === JSON.stringify(base), () => `${description}; holding ${JSON.stringify(holdings(longLived))}, started with ${JSON.stringify(base)}`, 5_000);

    // Closed by the client: some at once, some once live.
    const early = Array.from({ length: 3 }, () => subscribeSse(longLived, boardEvents, { b: team.boardId }, team.viewer.token));
    for (const request of early) {
      request.opened.catch(() => {});
      request.close();
    }
    const live = [];
    for (let index = 0; index < 4; index += 1) live.push(await openSse(longLived, team.viewer.token, team.boardId));
    expect(longLived.app.sseSessions.pendingTimers()).toBeGreaterThanOrEqual(base.timers + 4);
    for (const request of live) request.close();
    await backToBase('streams closed by the client to be released');

    // Ended by an error: the subscriber is removed from the workspace.
    const leaving = await openSse(longLived, team.member.token, team.boardId);
    await mutate(longLived, team.owner.token, 'removeMember', { workspaceId: team.workspaceId, userId: team.member.id }, '');
    await leaving.collector.done(2_000);
    expect(errorsOf(leaving.collector).map((error) => error.extensions?.code)).toEqual(['FORBIDDEN']);
    await backToBase('a stream ended by FORBIDDEN to be released');

    // Ended by its session.
    const signingOut = await openSse(longLived, team.viewer.token, team.boardId);
    await mutate(longLived, team.viewer.token, 'signOut', {}, '... on SignOutPayload { revokedSessions }');
    await signingOut.collector.done(2_000);
    await backToBase('a signed-out stream to be released');
  });
});
