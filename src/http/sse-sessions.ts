import { GraphQLError, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { ErrorCode } from '../domain/errors.js';
import type { Actor } from '../domain/services.js';
import type { Context } from '../schema/context.js';
import type { SessionEnd, SessionStreams } from './session-streams.js';

/** Builds the last result of an SSE subscription that its session ended. */
function sessionEndedResult(reason: SessionEnd): ExecutionResult {
  const message =
    reason === 'expired'
      ? 'The access token of this subscription expired, so it ended. Subscribe again with a fresh access token from refreshSession, with `after` set to the cursor of the last event received.'
      : 'The session of this access token was signed out, so this subscription ended; sign in again.';
  // `reason` lets a client tell the two apart without reading the message: refresh after one, sign in after the other.
  const extensions = { code: ErrorCode.UNAUTHENTICATED, reason: reason === 'expired' ? 'TOKEN_EXPIRED' : 'SIGNED_OUT' };
  return { errors: [new GraphQLError(message, { extensions })] };
}

/**
 * Wraps the results of one subscription so that it ends when `viewer`'s
 * access token expires at `expiresAt` or the session signs out, also when
 * it signed out after `sessionCheckedAt` but before the stream was followed. Then the
 * source is released at once, the client gets one result with an
 * UNAUTHENTICATED error, and the stream completes. The stream leaves
 * `streams` when it ends for any reason, including the client's return().
 */
export function endWithSession(
  results: AsyncIterator<ExecutionResult>,
  viewer: Actor,
  expiresAt: number,
  streams: SessionStreams,
  sessionCheckedAt?: number,
): AsyncIterableIterator<ExecutionResult> {
  const finished = { value: undefined, done: true } as const;
  let done = false;
  /** The last result, once the session ended the stream. */
  let ending: ExecutionResult | undefined;
  /** The source's return(), started when the session ended the stream. */
  let released: Promise<unknown> | undefined;
  let wake!: () => void;
  const ended = new Promise<undefined>((resolve) => {
    wake = () => resolve(undefined);
  });

  const remove = streams.add(viewer, expiresAt, (reason) => {
    ending = sessionEndedResult(reason);
    remove();
    // Released now, not at the client's next pull, so the source's bus listener goes at once.
    released = Promise.resolve(results.return?.());
    // A rejection surfaces in next(), which awaits it. This only marks it handled until then.
    released.catch(() => {});
    wake();
  }, sessionCheckedAt);

  const wrapped: AsyncIterableIterator<ExecutionResult> = {
    async next() {
      if (done) return finished;
      if (ending === undefined) {
        const pending = results.next();
        // Once the session wins the race, this pull is abandoned.
        pending.catch(() => {});
        let step: IteratorResult<ExecutionResult> | undefined;
        try {
          step = await Promise.race([pending, ended]);
        } catch (error) {
          done = true;
          remove();
          throw error;
        }
        if (step !== undefined) {
          if (step.done) {
            done = true;
            remove();
          }
          return step;
        }
      }
      done = true;
      await released;
      return { value: ending!, done: false };
    },
    async return() {
      done = true;
      remove();
      await results.return?.();
      return finished;
    },
    async throw(error) {
      done = true;
      remove();
      await results.return?.();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return wrapped;
    },
  };
  return wrapped;
}

function isAsyncIterator(value: unknown): value is AsyncIterableIterator<ExecutionResult> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value && 'next' in value;
}

/**
 * Envelop plugin that ends each HTTP (SSE) subscription opened with an
 * access token when that token expires or its session signs out, through
 * `endWithSession`. WebSocket operations are left alone, because the socket
 * itself is closed then (SocketSessions).
 */
export function useSessionBoundStreams(streams: SessionStreams): Plugin {
  return {
    onSubscribe() {
      return {
        onSubscribeResult({ args, result, setResult }) {
          const ctx = args.contextValue as unknown as Context;
          if (ctx.transport === 'websocket' || ctx.viewer === null || ctx.accessTokenExpiresAt === undefined) return;
          if (!isAsyncIterator(result)) return;
          setResult(endWithSession(result, ctx.viewer, ctx.accessTokenExpiresAt, streams, ctx.sessionCheckedAt));
        },
      };
    },
  };
}
