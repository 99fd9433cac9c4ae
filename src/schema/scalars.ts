import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

// Date, time (seconds and fraction optional) and a required zone: Z or ±hh:mm.
const dateTimePattern = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/i;

/**
 * Parses an ISO 8601 date-time with a time zone. Dates that do not exist
 * (February 30) are rejected rather than rolled over, as `new Date` would.
 */
function parseDate(value: unknown): Date {
  const match = typeof value === 'string' ? dateTimePattern.exec(value) : null;
  if (!match) {
    throw invalidDate(`Expected an ISO 8601 date-time with a time zone, such as "2026-12-31T17:00:00Z" or "2026-12-31T18:00:00+01:00", but got ${JSON.stringify(value)}.`);
  }
  const [, year, month, day, hour, minute, second = '0', zoneHour = '0', zoneMinute = '0'] = match;
  // setUTCFullYear, unlike Date.UTC, does not map years 0 to 99 to 1900 to 1999.
  const calendar = new Date(0);
  calendar.setUTCFullYear(Number(year), Number(month) - 1, Number(day));
  const dayExists = calendar.getUTCFullYear() === Number(year) && calendar.getUTCMonth() === Number(month) - 1 && calendar.getUTCDate() === Number(day);
  if (!dayExists) throw invalidDate(`${JSON.stringify(value)} names a day that does not exist (${year}-${month}-${day}).`);
  const timeValid = Number(hour) < 24 && Number(minute) < 60 && Number(second) < 60 && Number(zoneHour) < 24 && Number(zoneMinute) < 60;
  if (!timeValid) throw invalidDate(`${JSON.stringify(value)} has a time or time zone out of range; hours go to 23, minutes and seconds to 59.`);
  return new Date(value as string);
}

function invalidDate(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'VALIDATION_FAILED' } });
}

/** An instant in time, as an ISO 8601 string with a time zone (sent in UTC). */
export const GraphQLDateTime = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'An instant in time, as an ISO 8601 string with a time zone, such as "2026-12-31T17:00:00Z". Sent in UTC.',
  serialize: (value) => (value instanceof Date ? value : new Date(value as string)).toISOString(),
  parseValue: parseDate,
  parseLiteral: (ast) => parseDate(ast.kind === Kind.STRING ? ast.value : undefined),
});
