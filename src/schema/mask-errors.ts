import { GraphQLError } from 'graphql';
import { isDatabaseUnavailable } from '../db/client.js';
import { DomainError, ErrorCode, RateLimitedError, ValidationError } from '../domain/errors.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';

/**
 * Builds Yoga's `maskError`. Expected domain errors reach the client with
 * their message and `extensions.code`. GraphQL's own errors (syntax,
 * validation, variables) pass unchanged. Anything else is logged once with
 * its cause and reaches the client as INTERNAL_SERVER_ERROR, with its
 * message only when `exposeDetails` is on.
 */
export function createErrorMasker(logger: Logger, exposeDetails: boolean, metrics: Metrics) {
  const mask = maskerOf(logger, exposeDetails);
  return (error: unknown): Error => {
    const masked = mask(error);
    metrics.errorSent(String((masked as GraphQLError).extensions?.code ?? 'GRAPHQL_ERROR'));
    return masked;
  };
}

function maskerOf(logger: Logger, exposeDetails: boolean) {
  return (error: unknown): Error => {
    const original = error instanceof GraphQLError ? error.originalError : error;
    if (error instanceof GraphQLError && (!original || original instanceof GraphQLError)) return error;

    const located = error instanceof GraphQLError ? { nodes: error.nodes, source: error.source, positions: error.positions, path: error.path } : {};
    if (original instanceof DomainError) {
      const extensions: Record<string, unknown> = { code: original.code };
      if (original instanceof ValidationError) extensions.field = original.field;
      if (original instanceof RateLimitedError) {
        extensions.retryAfterSeconds = original.retryAfterSeconds;
        // Yoga turns `http` into the response status and headers, then drops it.
        extensions.http = { status: 429, headers: { 'retry-after': String(original.retryAfterSeconds) } };
      }
      return new GraphQLError(original.message, { ...located, extensions });
    }
    if (isDatabaseUnavailable(original)) {
      logger.warn({ reason: original instanceof Error ? original.message : String(original), path: located.path?.join('.') }, 'the database is unreachable');
      return new GraphQLError('The database is unreachable right now, so this operation did not run. Retry in a few seconds; retry a mutation with the same idempotencyKey to be sure it applies once.', {
        ...located,
        // Yoga turns `http` into the response status and headers, then drops it.
        extensions: { code: ErrorCode.DATABASE_UNAVAILABLE, http: { status: 503, headers: { 'retry-after': '2' } } },
      });
    }
    logger.error({ err: original, path: located.path?.join('.') }, 'unexpected error while executing an operation');
    const message = exposeDetails && original instanceof Error ? `Unexpected error: ${original.message}` : 'Unexpected error.';
    return new GraphQLError(message, { ...located, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } });
  };
}
