import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

// Date, time (seconds and fraction optional) and a required zone: Z or ±hh:mm.
const dateTimePattern = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/i;

/**
 * Parses an ISO 8601 date-time with a time zone. Dates that do not exist
 * (February 30) are rejected rather than rolled over, as `new Date` would.
 */
function parseDate(value: unknown): Date {
  const match = typeof value === 'string' ? dateTimePattern.exec(value) : null;
  const [, year, month, day, hour, minute, second = '0', zoneHour = '0', zoneMinute = '0'] = match ?? [];
  const calendar = match ? new Date(Date.UTC(Number(year), Number(month) - 1, Number(day))) : undefined;
  const valid =
    calendar !== undefined &&
    calendar.getUTCFullYear() === Number(year) &&
    calendar.getUTCMonth() === Number(month) - 1 &&
    calendar.getUTCDate() === Number(day) &&
    Number(hour) < 24 &&
    Number(minute) < 60 &&
    Number(second) < 60 &&
    Number(zoneHour) < 24 &&
    Number(zoneMinute) < 60;
  if (!valid) {
    throw new GraphQLError(
      `Expected an ISO 8601 date-time with a time zone, such as "2026-12-31T17:00:00Z" or "2026-12-31T18:00:00+01:00", but got ${JSON.stringify(value)}.`,
      { extensions: { code: 'VALIDATION_FAILED' } },
    );
  }
  return new Date(value as string);
}

/** An instant in time, as an ISO 8601 string with a time zone (sent in UTC). */
export const GraphQLDateTime = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'An instant in time, as an ISO 8601 string with a time zone, such as "2026-12-31T17:00:00Z". Sent in UTC.',
  serialize: (value) => (value instanceof Date ? value : new Date(value as string)).toISOString(),
  parseValue: parseDate,
  parseLiteral: (ast) => parseDate(ast.kind === Kind.STRING ? ast.value : undefined),
});
