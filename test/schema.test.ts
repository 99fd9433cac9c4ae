import fs from 'node:fs';
import { buildSchema, lexicographicSortSchema, printSchema, type GraphQLObjectType } from 'graphql';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { printSortedSchema } from '../src/schema/index.js';

const run = promisify(execFile);

describe('generated SDK files', () => {
  it('match the schema and operations', { timeout: 60_000 }, async () => {
    // The codegen CLI runs in its own process: inside vitest, its plugins
    // would meet a second copy of graphql and leave the input types out.
    const check = await run(process.execPath, ['node_modules/@graphql-codegen/cli/cjs/bin.js', '--config', 'codegen.ts', '--check'], { env: { ...process.env, NO_COLOR: '1' } }).then(
      () => ({ code: 0, output: '' }),
      (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, output: `${error.stdout}\n${error.stderr}` }),
    );
    // On failure: run `npm run codegen` and commit what it changed.
    expect(check.output.match(/stale files were detected:[\s\S]*/)?.[0] ?? check.output.slice(-500), 'stale generated files').toBe('');
    expect(check.code).toBe(0);
  });
});

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
