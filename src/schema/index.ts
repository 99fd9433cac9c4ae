import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { builder } from './builder.js';
import './errors.js';
import './users.js';
import './workspaces.js';
import './boards.js';
import './cards.js';
import './events.js';
import './presence.js';

export const schema: GraphQLSchema = builder.toSchema();

/** Prints the schema as SDL in a stable order, as committed in sdk/schema.graphql. */
export function printSortedSchema(): string {
  return printSchema(lexicographicSortSchema(schema));
}
