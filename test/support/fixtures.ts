import { decodeGlobalID } from '@pothos/plugin-relay';
import { expect } from 'vitest';
import { graphql, graphqlData } from './client.js';
import type { TestServer } from './server.js';

export interface TestUser {
  id: string;
  email: string;
  token: string;
  refreshToken: string;
}

let counter = 0;

export async function signUp(server: TestServer, name = 'user'): Promise<TestUser> {
  counter += 1;
  const email = `${name}-${counter}-${Date.now()}@example.com`;
  const data = await graphqlData(
    server,
    `mutation($input: SignUpInput!) { signUp(input: $input) { __typename ... on AuthPayload { accessToken refreshToken user { id } } ... on Error { message } } }`,
    { input: { email, password: 'correct horse battery', displayName: name } },
  );
  expect(data.signUp.__typename).toBe('AuthPayload');
  return { id: data.signUp.user.id, email, token: data.signUp.accessToken, refreshToken: data.signUp.refreshToken };
}

/** Runs a mutation whose result is a union, and returns the result object. */
export async function mutate(server: TestServer, token: string | undefined, field: string, input: unknown, selection: string) {
  const inputType = `${field[0]!.toUpperCase()}${field.slice(1)}Input`;
  const result = await graphql(
    server,
    `mutation($input: ${inputType}!) { ${field}(input: $input) { __typename ... on Error { code message } ... on ValidationError { field } ${selection} } }`,
    { input },
    token,
  );
  if (result.errors) throw new Error(`${field} failed: ${JSON.stringify(result.errors)}`);
  return result.data[field];
}

export interface Team {
  owner: TestUser;
  member: TestUser;
  viewer: TestUser;
  outsider: TestUser;
  workspaceId: string;
  boardId: string;
  todoId: string;
  doneId: string;
}

/** Creates a workspace with an OWNER, a MEMBER and a VIEWER, a board with columns To do and Done, and a user outside it. */
export async function createTeam(server: TestServer): Promise<Team> {
  const [owner, member, viewer, outsider] = await Promise.all([
    signUp(server, 'owner'),
    signUp(server, 'member'),
    signUp(server, 'viewer'),
    signUp(server, 'outsider'),
  ]);
  const workspace = await mutate(server, owner.token, 'createWorkspace', { name: 'Team' }, '... on Workspace { id }');
  await mutate(server, owner.token, 'addMember', { workspaceId: workspace.id, email: member.email, role: 'MEMBER' }, '... on Membership { id }');
  await mutate(server, owner.token, 'addMember', { workspaceId: workspace.id, email: viewer.email, role: 'VIEWER' }, '... on Membership { id }');
  const board = await mutate(server, owner.token, 'createBoard', { workspaceId: workspace.id, name: 'Roadmap' }, '... on Board { id }');
  const todo = await mutate(server, owner.token, 'createColumn', { boardId: board.id, name: 'To do' }, '... on Column { id }');
  const done = await mutate(server, owner.token, 'createColumn', { boardId: board.id, name: 'Done' }, '... on Column { id }');
  return { owner, member, viewer, outsider, workspaceId: workspace.id, boardId: board.id, todoId: todo.id, doneId: done.id };
}

export async function createCard(server: TestServer, token: string, columnId: string, title: string): Promise<string> {
  const card = await mutate(server, token, 'createCard', { columnId, title }, '... on Card { id }');
  expect(card.__typename).toBe('Card');
  return card.id;
}

/** Asserts that `result` is a `typename` and returns it. A failure shows the whole result, error message included. */
export function expectResult(result: any, typename: string) {
  expect(result.__typename, `result was ${JSON.stringify(result)}`).toBe(typename);
  return result;
}

/** Database id inside a GraphQL global id. */
export function rawId(globalId: string): string {
  return decodeGlobalID(globalId).id;
}
