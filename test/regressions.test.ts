import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replaceResultWithMarker, spliceResult } from '../src/http/shared-json.js';
import { schema } from '../src/schema/index.js';
import { executeEvents } from '../src/schema/subscribe.js';
import { forkContext, type Context } from '../src/schema/context.js';
import { createCard, createTeam, mutate, type Team } from './support/fixtures.js';
import { startServer, type TestServer } from './support/server.js';

let server: TestServer;
let team: Team;

beforeAll(async () => {
  server = await startServer();
  team = await createTeam(server);
});
afterAll(() => server.stop());

describe('archived cards', () => {
  it('comments on them stay unchanged', async () => {
    const cardId = await createCard(server, team.member.token, team.todoId, 'Soon archived');
    const comment = await mutate(server, team.member.token, 'addComment', { cardId, body: 'Before archiving' }, '... on Comment { id }');
    await mutate(server, team.owner.token, 'archiveCard', { cardId }, '... on Card { archived }');

    const edited = await mutate(server, team.member.token, 'editComment', { commentId: comment.id, body: 'After archiving' }, '... on Comment { body }');
    expect(edited.__typename).toBe('ValidationError');
    expect(edited.field).toBe('input.commentId');
    const deleted = await mutate(server, team.member.token, 'deleteComment', { commentId: comment.id }, '... on DeletedComment { commentId }');
    expect(deleted.__typename).toBe('ValidationError');
    expect(await server.app.services.db.comment.count({ where: { body: 'Before archiving' } })).toBe(1);
  });
});

describe('DateTime', () => {
  it('accepts years below 100', async () => {
    const cardId = await createCard(server, team.member.token, team.todoId, 'Ancient');
    const card = await mutate(server, team.member.token, 'updateCard', { cardId, dueAt: '0050-06-01T00:00:00Z' }, '... on Card { dueAt }');
    expect(card.dueAt).toBe('0050-06-01T00:00:00.000Z');
  });
});

describe('shared WebSocket results', () => {
  it('an unsent message leaves nothing behind', () => {
    const replacer = replaceResultWithMarker as (key: string, value: unknown) => unknown;
    const skipped = JSON.stringify({ id: '1', type: 'next', payload: { data: { n: 1 } } }, replacer);
    const sent = JSON.stringify({ id: '2', type: 'next', payload: { data: { n: 2 } } }, replacer);
    expect(spliceResult(sent)).toBe('{"id":"2","type":"next","payload":{"data":{"n":2}}}');
    // The first message never reached send(); its marker no longer resolves.
    expect(spliceResult(skipped)).toBe(skipped);
  });
});

describe('executeEvents', () => {
  it('releases a source that failed', async () => {
    let released = false;
    const source: AsyncIterableIterator<unknown> = {
      next: async () => {
        throw new Error('the source failed');
      },
      return: async () => {
        released = true;
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]() {
        return source;
      },
    };
    // forkContext fills in fresh loaders.
    const context: Context = forkContext({ services: server.app.services, db: server.app.services.db, viewer: null, authProblem: null, loaders: undefined as never, logger: server.app.services.logger, transport: 'sse' });
    const results = executeEvents(source, { schema, document: parse('subscription { boardEvents(boardId: "x") { sequence } }'), contextValue: context }, forkContext);
    const first = await results.next();
    expect(first.done).toBe(false);
    expect(JSON.stringify(first.value)).toMatch(/the source failed/);
    expect((await results.next()).done).toBe(true);
    expect(released).toBe(true);
  });
});
