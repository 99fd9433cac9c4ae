import type { WebSocket } from 'ws';
import type { Actor } from '../domain/services.js';

/** Close code of a WebSocket whose access token expired: refresh the token and reconnect; subscriptions resume from their cursors. */
const tokenExpiredCloseCode = 4001;

/** Close code of a WebSocket whose session was signed out, the code graphql-ws uses for a rejected token. */
const signedOutCloseCode = 4403;

/** setTimeout's largest delay; a token that lives longer is checked again then. */
const maxTimerMs = 2 ** 31 - 1;

interface Tracked {
  socket: WebSocket;
  sessionId: string;
  timer?: NodeJS.Timeout;
}

/**
 * The signed-in WebSockets of this process, by user. A user may have at
 * most `maxPerUser` open. Each socket is closed when its access token
 * expires, so that no socket outlives the token that opened it, and at once
 * when its session is signed out on this process.
 */
export class SocketSessions {
  private readonly byUser = new Map<string, Set<Tracked>>();

  constructor(private readonly maxPerUser: number) {}

  /**
   * Follows `socket`, opened by `viewer` with a token that expires at
   * `expiresAt` (seconds since the epoch), until it closes. Returns false,
   * following nothing, when the user has `maxPerUser` sockets open already.
   */
  admit(socket: WebSocket, viewer: Actor, expiresAt: number | undefined): boolean {
    let open = this.byUser.get(viewer.userId);
    if (open && open.size >= this.maxPerUser) return false;
    if (!open) {
      open = new Set();
      this.byUser.set(viewer.userId, open);
    }
    const tracked: Tracked = { socket, sessionId: viewer.sessionId };
    if (expiresAt !== undefined) this.closeAtExpiry(tracked, expiresAt);
    open.add(tracked);
    const sockets = open;
    socket.once('close', () => {
      clearTimeout(tracked.timer);
      sockets.delete(tracked);
      if (sockets.size === 0 && this.byUser.get(viewer.userId) === sockets) this.byUser.delete(viewer.userId);
    });
    return true;
  }

  /** Closes the sockets of one session, or with `sessionId` null of every session of the user, with 4403. Returns how many. */
  signedOut(userId: string, sessionId: string | null): number {
    let closed = 0;
    for (const tracked of this.byUser.get(userId) ?? []) {
      if (sessionId !== null && tracked.sessionId !== sessionId) continue;
      tracked.socket.close(signedOutCloseCode, 'This session was signed out; sign in again.');
      closed += 1;
    }
    return closed;
  }

  private closeAtExpiry(tracked: Tracked, expiresAt: number): void {
    const delay = expiresAt * 1000 - Date.now();
    tracked.timer =
      delay > maxTimerMs
        ? setTimeout(() => this.closeAtExpiry(tracked, expiresAt), maxTimerMs).unref()
        : setTimeout(() => tracked.socket.close(tokenExpiredCloseCode, 'The access token expired; reconnect with a fresh one. Subscriptions resume from their cursors.'), Math.max(0, delay)).unref();
  }
}
