import { ConflictError, DomainError, ErrorCode, ForbiddenError, NotFoundError, UnauthenticatedError, ValidationError, type VersionedType } from '../domain/errors.js';
import { BoardType, ColumnType } from './boards.js';
import { CardType, CommentType } from './cards.js';
import { builder } from './builder.js';

export const ErrorCodeEnum = builder.enumType('ErrorCode', {
  description: 'Machine-readable reason of an error, in typed results and in `extensions.code` of GraphQL errors.',
  values: {
    VALIDATION_FAILED: { value: ErrorCode.VALIDATION_FAILED, description: 'An input value is invalid; `field` names it. Fix the input; retrying unchanged fails again.' },
    NOT_FOUND: { value: ErrorCode.NOT_FOUND, description: 'The object does not exist or was deleted.' },
    FORBIDDEN: { value: ErrorCode.FORBIDDEN, description: 'The viewer is not a member, or their role does not allow this.' },
    UNAUTHENTICATED: { value: ErrorCode.UNAUTHENTICATED, description: 'No valid access token: sign in, or refresh an expired token, then retry.' },
    CONFLICT: { value: ErrorCode.CONFLICT, description: 'The object changed since expectedVersion; nothing was changed. `current` contains its state: merge, then retry.' },
    CURSOR_EXPIRED: { value: ErrorCode.CURSOR_EXPIRED, description: 'The cursor is older than the kept event log. Refetch, then subscribe without `after`.' },
    SLOW_CONSUMER: { value: ErrorCode.SLOW_CONSUMER, description: 'The subscriber fell too far behind and was ended. Resubscribe with `after` set to the last cursor received.' },
    DATABASE_UNAVAILABLE: {
      value: ErrorCode.DATABASE_UNAVAILABLE,
      description: 'The database cannot be reached for now. Retry after a few seconds; retry a mutation with the same idempotencyKey so it applies once.',
    },
    RATE_LIMITED: {
      value: ErrorCode.RATE_LIMITED,
      description: 'Too many mutations or failed sign-ins for now; nothing was changed. Retry after `extensions.retryAfterSeconds`.',
    },
    INTERNAL_SERVER_ERROR: { value: ErrorCode.INTERNAL_SERVER_ERROR, description: 'An unexpected failure inside the server; it is logged there. Retrying may succeed.' },
  },
});

export const ErrorInterface = builder.interfaceRef<DomainError>('Error').implement({
  description: 'An expected failure: nothing was changed and no event was logged.',
  fields: (t) => ({
    code: t.field({ type: ErrorCodeEnum, resolve: (error) => error.code }),
    message: t.exposeString('message', { description: 'What went wrong and what to do, for people.' }),
  }),
});

builder.objectType(ValidationError, {
  name: 'ValidationError',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    field: t.exposeString('field', { description: 'Path of the invalid input value, such as `input.title`.' }),
  }),
});

builder.objectType(NotFoundError, { name: 'NotFoundError', interfaces: [ErrorInterface] });

/** The GraphQL type of a conflict's current object, attached where the union can read it. */
const conflictTypename = Symbol('conflictTypename');

const ConflictSubject = builder.unionType('ConflictSubject', {
  description: 'The object a ConflictError is about, as it is now.',
  types: [BoardType, ColumnType, CardType, CommentType],
  resolveType: (value) => (value as unknown as { [conflictTypename]: VersionedType })[conflictTypename],
});

builder.objectType(ConflictError, {
  name: 'ConflictError',
  interfaces: [ErrorInterface],
  description: 'The object changed since expectedVersion, so nothing was changed.',
  fields: (t) => ({
    expectedVersion: t.exposeInt('expectedVersion', { description: 'The version the client sent.' }),
    currentVersion: t.int({ resolve: (error) => error.current.version }),
    current: t.field({
      type: ConflictSubject,
      description: 'The object as it is now: merge the change into it and retry with its version.',
      resolve: (error) => Object.assign(Object.create(null), error.current, { [conflictTypename]: error.typename }),
    }),
  }),
});
builder.objectType(ForbiddenError, { name: 'ForbiddenError', interfaces: [ErrorInterface] });
builder.objectType(UnauthenticatedError, { name: 'UnauthenticatedError', interfaces: [ErrorInterface] });
