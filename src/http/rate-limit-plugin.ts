import { getOperationAST, GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { ErrorCode, RateLimitedError } from '../domain/errors.js';
import type { Context } from '../schema/context.js';

/**
 * Envelop plugin that counts every mutation operation against its user (or,
 * signed out, its address). Past MUTATION_RATE_LIMIT it returns a
 * RATE_LIMITED error, HTTP status 429 and Retry-After instead of running it.
 */
export function useMutationRateLimit(): Plugin {
  return {
    async onExecute({ args, setResultAndStopExecution }) {
      if (getOperationAST(args.document, args.operationName)?.operation !== 'mutation') return;
      const ctx = args.contextValue as unknown as Context;
      const key = ctx.viewer ? `user:${ctx.viewer.userId}` : `address:${ctx.address ?? 'unknown'}`;
      try {
        await ctx.services.rateLimits.countMutation(key);
      } catch (error) {
        if (!(error instanceof RateLimitedError)) throw error;
        ctx.logger.info({ key, retryAfterSeconds: error.retryAfterSeconds }, 'mutation rejected: rate limit reached');
        setResultAndStopExecution({
          errors: [
            new GraphQLError(error.message, {
              extensions: {
                code: ErrorCode.RATE_LIMITED,
                retryAfterSeconds: error.retryAfterSeconds,
                // Yoga turns `http` into the response status and headers, then drops it.
                http: { status: 429, headers: { 'retry-after': String(error.retryAfterSeconds) } },
              },
            }),
          ],
        });
      }
    },
  };
}
