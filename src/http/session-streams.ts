import type { Actor } from '../domain/services.js';

/** Cause of a stream's end: its access token expired, or its session was signed out. */
export type SessionEnd = 'expired' | 'signed-out';

/** setTimeout's largest delay; a token that lives longer is checked again then. */
const maxTimerMs = 2 ** 31 - 1;

interface Entry {
  sessionId: string;
  /** Ends the stream; returns false when it had ended already. */
  end: (reason: SessionEnd) => boolean;
  /** The pending expiry timer; unset once it fired or the entry was removed. */
  timer?: NodeJS.Timeout;
}

/**
 * Long-lived streams of this process (WebSockets, SSE responses), by user.
 * Each stream is ended once its access token expires, so that none outlives
 * the token that opened it, and when its session is signed out. The owner
 * of a stream ends it in its `end` callback and removes it when it closes.
 */
export class SessionStreams {
  private readonly byUser = new Map<string, Set<Entry>>();
  /** When this process last acted on a sign-out, in milliseconds since the epoch. */
  private lastSignOutAt = Number.NEGATIVE_INFINITY;

  /**
   * `signedOutNow` reads whether a session is signed out. add() calls it for
   * a stream whose session was checked before this process last acted on a
   * sign-out, which may have been that session's.
   */
  constructor(private readonly signedOutNow: (sessionId: string) => Promise<boolean>) {}

  /** Number of streams followed now; leak checks compare it. */
  get size(): number {
    let total = 0;
    for (const entries of this.byUser.values()) total += entries.size;
    return total;
  }

  /** Number of expiry timers pending; leak checks compare it. */
  pendingTimers(): number {
    let total = 0;
    for (const entries of this.byUser.values()) {
      for (const entry of entries) if (entry.timer !== undefined) total += 1;
    }
    return total;
  }

  /** Number of streams of `userId` followed now. */
  countFor(userId: string): number {
    return this.byUser.get(userId)?.size ?? 0;
  }

  /**
   * Follows a stream opened by `viewer` with a token that expires at
   * `expiresAt`, in seconds since the epoch. Without `expiresAt` only a
   * sign-out ends it. `end` is called at most once, never before add()
   * returns. Returns the function that stops following the stream and clears
   * its timer, which may be called again.
   *
   * `sessionCheckedAt` is when authentication found the session signed in,
   * in milliseconds since the epoch. A sign-out acted on between then and
   * now found no stream to end, so the session is read again.
   */
  add(viewer: Actor, expiresAt: number | undefined, end: (reason: SessionEnd) => void, sessionCheckedAt?: number): () => void {
    let entries = this.byUser.get(viewer.userId);
    if (!entries) {
      entries = new Set();
      this.byUser.set(viewer.userId, entries);
    }
    const followed = entries;
    let ended = false;
    const entry: Entry = {
      sessionId: viewer.sessionId,
      end: (reason) => {
        if (ended) return false;
        ended = true;
        clearTimeout(entry.timer);
        entry.timer = undefined;
        end(reason);
        return true;
      },
    };
    if (expiresAt !== undefined) this.endAtExpiry(entry, expiresAt);
    followed.add(entry);
    if (sessionCheckedAt !== undefined && this.lastSignOutAt >= sessionCheckedAt) {
      this.signedOutNow(viewer.sessionId).then(
        (signedOut) => signedOut && entry.end('signed-out'),
        // signedOutNow logs its failures; the stream still ends at its token's expiry.
        () => undefined,
      );
    }
    return () => {
      clearTimeout(entry.timer);
      entry.timer = undefined;
      followed.delete(entry);
      if (followed.size === 0 && this.byUser.get(viewer.userId) === followed) this.byUser.delete(viewer.userId);
    };
  }

  /** Ends the streams of one session, or with `sessionId` null of every session of the user. Returns how many. */
  signedOut(userId: string, sessionId: string | null): number {
    this.lastSignOutAt = Date.now();
    let ended = 0;
    // A copy, because an `end` callback may remove its entry at once.
    for (const entry of [...(this.byUser.get(userId) ?? [])]) {
      if (sessionId !== null && entry.sessionId !== sessionId) continue;
      if (entry.end('signed-out')) ended += 1;
    }
    return ended;
  }

  private endAtExpiry(entry: Entry, expiresAt: number): void {
    const delay = expiresAt * 1000 - Date.now();
    entry.timer =
      delay > maxTimerMs
        ? setTimeout(() => this.endAtExpiry(entry, expiresAt), maxTimerMs).unref()
        : setTimeout(() => entry.end('expired'), Math.max(0, delay)).unref();
  }
}
