/**
 * Expected failures of domain operations. The GraphQL layer turns each into a
 * typed result (mutations) or an error with `extensions.code` (subscriptions);
 * anything else thrown is unexpected, masked for clients and logged.
 */

/** Machine-readable error codes sent to clients. */
export const ErrorCode = {
  /** An input value is invalid; `field` names it. Fix the input; do not retry as is. */
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  /** The object does not exist (or was deleted). */
  NOT_FOUND: 'NOT_FOUND',
  /** The caller is signed in but their role does not allow this. */
  FORBIDDEN: 'FORBIDDEN',
  /** No valid access token: sign in, or refresh an expired token. */
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  /**
   * The object changed since the version the client gave as expectedVersion;
   * nothing was changed. The error carries the current state: merge, then retry.
   */
  CONFLICT: 'CONFLICT',
  /**
   * The subscription's cursor points before the oldest event still kept, so
   * events after it are gone. Refetch the board and subscribe without `after`.
   */
  CURSOR_EXPIRED: 'CURSOR_EXPIRED',
  /**
   * The subscriber fell too far behind and its subscription was ended. Resume
   * with `after` set to the cursor of the last event received.
   */
  SLOW_CONSUMER: 'SLOW_CONSUMER',
  /**
   * The database cannot be reached (a PostgreSQL restart or failover). Retry
   * after a short wait; a mutation retried with the same idempotencyKey is
   * applied at most once, even if the failed attempt committed.
   */
  DATABASE_UNAVAILABLE: 'DATABASE_UNAVAILABLE',
  /**
   * The user (or, signed out, the address) ran more mutations or failed more
   * sign-ins than the window allows; nothing was changed. Retry after
   * `retryAfterSeconds`.
   */
  RATE_LIMITED: 'RATE_LIMITED',
  /** Something failed inside the server; the details are in its log. Retrying may help. */
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export abstract class DomainError extends Error {
  abstract readonly code: ErrorCode;
}

export class ValidationError extends DomainError {
  override name = 'ValidationError';
  readonly code = ErrorCode.VALIDATION_FAILED;
  /** Path of the offending input field, such as `input.title`. */
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

export class NotFoundError extends DomainError {
  override name = 'NotFoundError';
  readonly code = ErrorCode.NOT_FOUND;
}

export class ForbiddenError extends DomainError {
  override name = 'ForbiddenError';
  readonly code = ErrorCode.FORBIDDEN;
}

export class UnauthenticatedError extends DomainError {
  override name = 'UnauthenticatedError';
  readonly code = ErrorCode.UNAUTHENTICATED;
}

export class CursorExpiredError extends DomainError {
  override name = 'CursorExpiredError';
  readonly code = ErrorCode.CURSOR_EXPIRED;
}

export class SlowConsumerError extends DomainError {
  override name = 'SlowConsumerError';
  readonly code = ErrorCode.SLOW_CONSUMER;
}

/** Names of the objects that carry a version. */
export type VersionedType = 'Board' | 'Column' | 'Card' | 'Comment';

export class ConflictError extends DomainError {
  override name = 'ConflictError';
  readonly code = ErrorCode.CONFLICT;
  /**
   * @param typename which kind of object `current` is
   * @param current the object as it is now, read in the failed transaction
   */
  constructor(
    readonly typename: VersionedType,
    readonly current: { id: string; version: number },
    readonly expectedVersion: number,
  ) {
    super(`The ${typename.toLowerCase()} is at version ${current.version}, not ${expectedVersion}: someone changed it meanwhile. Nothing was changed; merge with the current state and retry.`);
  }
}

/** Too many mutations or failed sign-ins in the current window. */
export class RateLimitedError extends DomainError {
  override name = 'RateLimitedError';
  readonly code = ErrorCode.RATE_LIMITED;

  constructor(readonly retryAfterSeconds: number, message: string) {
    super(message);
  }
}
