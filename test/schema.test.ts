import fs from 'node:fs';
import { buildSchema, lexicographicSortSchema, printSchema, type GraphQLObjectType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { printSortedSchema } from '../src/schema/index.js';

describe('sdk/schema.graphql', () => {
  it('matches the schema in the code', () => {
    const committed = printSchema(lexicographicSortSchema(buildSchema(fs.readFileSync('sdk/schema.graphql', 'utf8'))));
    // On failure: run `npm run codegen` and commit sdk/schema.graphql.
    expect(committed).toBe(printSortedSchema());
  });

  it('names every root field of the contract', () => {
    const sdl = printSortedSchema();
    const schema = buildSchema(sdl);
    const fields = (name: 'Query' | 'Mutation' | 'Subscription') => Object.keys((schema.getType(name) as GraphQLObjectType).getFields()).sort();
    expect(fields('Query')).toEqual(['board', 'me', 'node', 'nodes', 'workspace', 'workspaces']);
    expect(fields('Mutation')).toEqual(
      [
        'addComment', 'addMember', 'archiveBoard', 'archiveCard', 'assignCard', 'changeMemberRole', 'createBoard', 'createCard',
        'createColumn', 'createWorkspace', 'deleteColumn', 'deleteComment', 'editComment', 'moveCard', 'moveColumn',
        'refreshSession', 'removeMember', 'renameBoard', 'renameColumn', 'setFocus', 'signIn', 'signOut', 'signUp', 'unassignCard', 'updateCard',
      ].sort(),
    );
    expect(fields('Subscription')).toEqual(['boardEvents', 'presence']);
  });
});
