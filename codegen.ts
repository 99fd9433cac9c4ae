import type { CodegenConfig } from '@graphql-codegen/cli';
import { printSortedSchema } from './src/schema/index.js';

/**
 * `npm run codegen` writes sdk/schema.graphql from the Pothos schema in src/schema.
 * The file is committed; test/schema.test.ts fails when it is stale.
 */
const config: CodegenConfig = {
  schema: printSortedSchema(),
  generates: {
    'sdk/schema.graphql': {
      plugins: ['schema-ast'],
      config: { includeDirectives: false, sort: true },
    },
  },
};

export default config;
