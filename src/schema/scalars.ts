import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

function parseDate(value: unknown): Date {
  const date = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value) ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) {
    throw new GraphQLError(`Expected an ISO 8601 date-time such as "2026-12-31T17:00:00Z", but got ${JSON.stringify(value)}.`, {
      extensions: { code: 'VALIDATION_FAILED' },
    });
  }
  return date;
}

/** An instant in time, as an ISO 8601 string with a time zone (sent in UTC). */
export const GraphQLDateTime = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'An instant in time, as an ISO 8601 string with a time zone, such as "2026-12-31T17:00:00Z". Sent in UTC.',
  serialize: (value) => (value instanceof Date ? value : new Date(value as string)).toISOString(),
  parseValue: parseDate,
  parseLiteral: (ast) => parseDate(ast.kind === Kind.STRING ? ast.value : undefined),
});
