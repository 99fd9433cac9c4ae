import type { WebSocket } from 'ws';
import type { Actor } from '../domain/services.js';
import { SessionStreams } from './session-streams.js';

/** Close code of a WebSocket whose access token expired: refresh the token and reconnect; subscriptions resume from their cursors. */
const tokenExpiredCloseCode = 4001;

/** Close code of a WebSocket whose session was signed out, the code graphql-ws uses for a rejected token. */
const signedOutCloseCode = 4403;

/**
 * The signed-in WebSockets of this process, by user. A user may have at
 * most `maxPerUser` open. Each socket is closed with 4001 when its access
 * token expires, so that no socket outlives the token that opened it, and
 * with 4403 at once when its session is signed out.
 */
export class SocketSessions {
  private readonly sockets: SessionStreams;

  /** `signedOutNow` reads whether a session is signed out (see SessionStreams). */
  constructor(
    private readonly maxPerUser: number,
    signedOutNow: (sessionId: string) => Promise<boolean>,
  ) {
    this.sockets = new SessionStreams(signedOutNow);
  }

  /**
   * Follows `socket`, opened by `viewer` with a token that expires at
   * `expiresAt` (seconds since the epoch), until it closes. Returns false,
   * following nothing, when the user has `maxPerUser` sockets open already.
   * `sessionCheckedAt` is as for SessionStreams.add().
   */
  admit(socket: WebSocket, viewer: Actor, expiresAt: number | undefined, sessionCheckedAt?: number): boolean {
    if (this.sockets.countFor(viewer.userId) >= this.maxPerUser) return false;
    const remove = this.sockets.add(viewer, expiresAt, (reason) => {
      if (reason === 'expired') socket.close(tokenExpiredCloseCode, 'The access token expired; reconnect with a fresh one. Subscriptions resume from their cursors.');
      else socket.close(signedOutCloseCode, 'This session was signed out; sign in again.');
    }, sessionCheckedAt);
    socket.once('close', remove);
    return true;
  }

  /** Closes the sockets of one session, or with `sessionId` null of every session of the user, with 4403. Returns how many. */
  signedOut(userId: string, sessionId: string | null): number {
    return this.sockets.signedOut(userId, sessionId);
  }
}
