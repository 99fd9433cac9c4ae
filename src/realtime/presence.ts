import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { NotFoundError, SlowConsumerError } from '../domain/errors.js';
import { streamIterator } from './iterator.js';

/** One open presence subscription: a user viewing a board in one tab or client. */
export interface PresenceSession {
  id: string;
  boardId: string;
  userId: string;
  joinedAt: Date;
  /** The card this session is editing, or null. */
  focusCardId: string | null;
  focusedAt: Date | null;
}

/** A presence stream; `end(error)` ends it from outside, as when access is revoked. */
export interface PresenceStream extends AsyncIterableIterator<PresenceChange> {
  end(error?: Error): void;
}

export type PresenceChange =
  | { type: 'SNAPSHOT'; you: PresenceSession; sessions: PresenceSession[] }
  | { type: 'JOINED' | 'LEFT' | 'FOCUS_CHANGED'; session: PresenceSession };

/**
 * Registry of the sessions viewing each board, in the memory of this process.
 * Presence is ephemeral: it is never written to the database or the event
 * log. A session leaves when its subscription ends for any reason.
 */
export class PresenceRegistry {
  private readonly sessions = new Map<string, PresenceSession>();
  private readonly target = new EventTarget();

  constructor() {
    setMaxListeners(0, this.target);
  }

  /** Sessions on the board, oldest first. */
  list(boardId: string): PresenceSession[] {
    return [...this.sessions.values()].filter((session) => session.boardId === boardId);
  }

  /** Number of sessions on all boards; leak checks compare it. */
  get size(): number {
    return this.sessions.size;
  }

  /**
   * Sets the focus of the user's sessions on the board: the one named by
   * `sessionId`, or all of them when it is omitted. Returns those sessions
   * as they are now; only the ones whose focus changed emit FOCUS_CHANGED.
   *
   * @throws NotFoundError when the user has no such session on the board.
   */
  setFocus(userId: string, boardId: string, cardId: string | null, sessionId?: string): PresenceSession[] {
    const mine = this.list(boardId).filter((session) => session.userId === userId && (sessionId === undefined || session.id === sessionId));
    if (mine.length === 0) {
      throw new NotFoundError(
        sessionId === undefined
          ? 'You have no presence on this board; subscribe to presence(boardId) first.'
          : `Presence session ${sessionId} is not one of yours on this board.`,
      );
    }
    const now = new Date();
    for (const session of mine) {
      if (session.focusCardId === cardId) continue;
      session.focusCardId = cardId;
      session.focusedAt = cardId === null ? null : now;
      this.emit({ type: 'FOCUS_CHANGED', session: { ...session } });
    }
    return mine.map((session) => ({ ...session }));
  }

  /**
   * Joins the board and returns a stream that starts with a snapshot of the
   * board's sessions, then yields joins, leaves and focus changes. Ending the
   * stream (return(), a closed socket, an aborted request) leaves at once.
   * More than `queueLimit` undelivered changes end it with SLOW_CONSUMER.
   */
  join(boardId: string, userId: string, queueLimit: number): PresenceStream {
    const you: PresenceSession = { id: randomUUID(), boardId, userId, joinedAt: new Date(), focusCardId: null, focusedAt: null };
    const queue: PresenceChange[] = [{ type: 'SNAPSHOT', you: { ...you }, sessions: [...this.list(boardId), you].map((session) => ({ ...session })) }];
    let wake: (() => void) | undefined;
    let failure: Error | undefined;
    let finished = false;

    const listener = (message: Event) => {
      const change = (message as CustomEvent<PresenceChange>).detail;
      queue.push(change);
      if (queue.length > queueLimit) {
        failure = new SlowConsumerError(`More than ${queueLimit} presence changes were waiting for this subscriber, so it was ended. Subscribe again for a new snapshot.`);
        finish();
      }
      wake?.();
    };
    // Announced before this stream listens, since its snapshot already lists it.
    this.sessions.set(you.id, you);
    this.emit({ type: 'JOINED', session: { ...you } });
    this.target.addEventListener(boardId, listener);

    const finish = () => {
      if (finished) return;
      finished = true;
      queue.length = 0;
      this.target.removeEventListener(boardId, listener);
      if (this.sessions.delete(you.id)) this.emit({ type: 'LEFT', session: { ...you } });
      wake?.();
    };

    const next = async (): Promise<IteratorResult<PresenceChange>> => {
      while (!finished && queue.length === 0) {
        await new Promise<void>((resolve) => {
          wake = () => {
            wake = undefined;
            resolve();
          };
        });
      }
      if (finished) {
        if (failure) throw failure;
        return { value: undefined, done: true };
      }
      return { value: queue.shift()!, done: false };
    };
    const end = (error?: Error) => {
      failure ??= error;
      finish();
    };
    return Object.assign(streamIterator(next, finish), { end });
  }

  private emit(change: PresenceChange & { session: PresenceSession }): void {
    this.target.dispatchEvent(new CustomEvent(change.session.boardId, { detail: change }));
  }
}
