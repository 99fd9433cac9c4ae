import type { Actor, Services } from '../domain/services.js';
import { TokenError } from './tokens.js';

/** Result of authentication: the viewer, or the reason the presented credential was rejected. */
export interface Authentication {
  viewer: Actor | null;
  /** Set when a token was presented but not accepted; null when none was presented. */
  problem: string | null;
  /** Expiry of the accepted token, in seconds since the epoch. */
  expiresAt?: number;
  /** When the session was found not signed out, in milliseconds since the epoch. */
  sessionCheckedAt?: number;
}

const anonymous: Authentication = { viewer: null, problem: null };

/**
 * Checks a credential given as `Bearer <access token>` (the HTTP header, or
 * the `authorization` field of a WebSocket connection_init payload). A bare
 * token is accepted too. The session must not be signed out.
 */
export async function authenticate(services: Services, credential: unknown): Promise<Authentication> {
  if (credential === undefined || credential === null || credential === '') return anonymous;
  if (typeof credential !== 'string') {
    return { viewer: null, problem: 'The authorization value must be a string of the form `Bearer <access token>`.' };
  }
  if (/^Bearer$/i.test(credential.trim())) {
    return { viewer: null, problem: 'The authorization value has no token after `Bearer`; send `Bearer <access token>`, with the accessToken from signIn or refreshSession.' };
  }
  const match = /^(?:Bearer\s+)?(\S+)$/i.exec(credential.trim());
  if (!match) return { viewer: null, problem: 'The authorization value must have the form `Bearer <access token>`.' };
  try {
    const claims = await services.tokens.verify(match[1]!);
    const sessionCheckedAt = Date.now();
    if (await sessionSignedOut(services, claims.sessionId)) {
      return { viewer: null, problem: 'The session of this access token was signed out; sign in again.' };
    }
    return { viewer: { userId: claims.userId, sessionId: claims.sessionId }, problem: null, expiresAt: claims.expiresAt, sessionCheckedAt };
  } catch (error) {
    if (error instanceof TokenError) return { viewer: null, problem: error.message };
    throw error;
  }
}

/** Returns true when the session is signed out (revoked) or does not exist. */
export async function sessionSignedOut(services: Pick<Services, 'db'>, sessionId: string): Promise<boolean> {
  // Every request checks its session, so this is a raw statement rather than a model query, which Prisma 6.19 compiles anew each time.
  const [session] = await services.db.$queryRaw<{ revokedAt: unknown }[]>`SELECT "revokedAt" FROM "Session" WHERE "id" = ${sessionId}`;
  return !session || session.revokedAt !== null;
}

function pick(record: unknown): unknown {
  if (typeof record !== 'object' || record === null) return undefined;
  const fields = record as Record<string, unknown>;
  return fields.authorization ?? fields.Authorization ?? fields.token;
}

/**
 * Reads the credential of a WebSocket operation: `authorization` (or
 * `Authorization`, or `token`) in the connection_init payload, else the same
 * key in the subscribe message's `extensions.headers`, which is where
 * GraphiQL puts the headers typed into its editor.
 */
export function credentialFromSocket(connectionParams: unknown, extensions?: unknown): unknown {
  return pick(connectionParams) ?? pick((extensions as { headers?: unknown } | undefined)?.headers);
}
