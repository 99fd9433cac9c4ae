import type { CodegenConfig } from '@graphql-codegen/cli';
import { printSortedSchema } from './src/schema/index.js';

/**
 * `npm run codegen` writes, from the Pothos schema in src/schema:
 * - sdk/schema.graphql, the schema as SDL;
 * - sdk/generated/operations.ts, a typed document (TypedDocumentNode) for
 *   each operation in sdk/operations/*.graphql, from which Apollo Client,
 *   urql and graphql-ws take the types of results and variables, and
 *   sdk/generated/possible-types.ts, the possibleTypes map Apollo's cache needs.
 * Both are committed; test/schema.test.ts fails when either is stale.
 */
const config: CodegenConfig = {
  schema: printSortedSchema(),
  documents: ['sdk/operations/*.graphql'],
  generates: {
    'sdk/schema.graphql': {
      plugins: ['schema-ast'],
      config: { includeDirectives: false, sort: true },
    },
    // Apollo Client's cache needs to know which types implement each interface and union.
    'sdk/generated/possible-types.ts': {
      plugins: ['fragment-matcher'],
      config: { apolloClientVersion: 3, useExplicitTyping: true },
    },
    'sdk/generated/operations.ts': {
      plugins: ['typescript-operations', 'typed-document-node'],
      config: {
        scalars: { DateTime: { input: 'string | Date', output: 'string' } },
        enumsAsTypes: true,
        useTypeImports: true,
        avoidOptionals: { field: true, inputValue: false, object: true, defaultValue: false },
      },
    },
  },
};

export default config;
