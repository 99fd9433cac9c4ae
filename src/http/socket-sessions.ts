import type { WebSocket } from 'ws';
import type { Actor } from '../domain/services.js';

/** Close code of a WebSocket whose access token expired: refresh the token and reconnect; subscriptions resume from their cursors. */
export const tokenExpiredCloseCode = 4001;

/** Close code of a WebSocket whose session was signed out, the code graphql-ws uses for a rejected token. */
const signedOutCloseCode = 4403;

/** setTimeout's largest delay; a token that lives longer is checked again then. */
const maxTimerMs = 2 ** 31 - 1;

interface Tracked {
  socket: WebSocket;
  userId: string;
  sessionId: string;
  timer: NodeJS.Timeout;
}

/**
 * The signed-in WebSockets of this process. Each is closed when its access
 * token expires, so that no socket outlives the token that opened it, and
 * at once when its session is signed out on this process.
 */
export class SocketSessions {
  private readonly sockets = new Set<Tracked>();

  /** Follows `socket`, opened by `viewer` with a token that expires at `expiresAt` (seconds since the epoch), until it closes. */
  track(socket: WebSocket, viewer: Actor, expiresAt: number): void {
    const tracked: Tracked = { socket, userId: viewer.userId, sessionId: viewer.sessionId, timer: this.expiryTimer(socket, expiresAt) };
    this.sockets.add(tracked);
    socket.once('close', () => {
      clearTimeout(tracked.timer);
      this.sockets.delete(tracked);
    });
  }

  /** Closes the sockets of one session, or with `sessionId` null of every session of the user, with 4403. Returns how many. */
  signedOut(userId: string, sessionId: string | null): number {
    let closed = 0;
    for (const tracked of this.sockets) {
      if (tracked.userId !== userId || (sessionId !== null && tracked.sessionId !== sessionId)) continue;
      tracked.socket.close(signedOutCloseCode, 'This session was signed out; sign in again.');
      closed += 1;
    }
    return closed;
  }

  private expiryTimer(socket: WebSocket, expiresAt: number): NodeJS.Timeout {
    const delay = expiresAt * 1000 - Date.now();
    if (delay > maxTimerMs) return setTimeout(() => this.replaceTimer(socket, expiresAt), maxTimerMs).unref();
    return setTimeout(() => socket.close(tokenExpiredCloseCode, 'The access token expired; reconnect with a fresh one. Subscriptions resume from their cursors.'), Math.max(0, delay)).unref();
  }

  private replaceTimer(socket: WebSocket, expiresAt: number): void {
    for (const tracked of this.sockets) if (tracked.socket === socket) tracked.timer = this.expiryTimer(socket, expiresAt);
  }
}
