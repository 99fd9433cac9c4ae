import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { builder } from './builder.js';
import './errors.js';
import './users.js';
import './workspaces.js';
import './boards.js';
import './cards.js';
import './events.js';

export const schema: GraphQLSchema = builder.toSchema();

/** The schema as SDL in a stable order; committed as schema.graphql. */
export function printSortedSchema(): string {
  return printSchema(lexicographicSortSchema(schema));
}
