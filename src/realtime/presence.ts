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

export type SessionChange = Extract<PresenceChange, { session: PresenceSession }>;

/**
 * Who is viewing which board. Presence is ephemeral: it is never written to
 * the database or the event log. A session leaves when its subscription ends
 * for any reason; across instances, a session whose instance vanished leaves
 * once its entry expires.
 */
export interface PresenceRegistry {
  /**
   * Joins the board and returns a stream that starts with a snapshot of the
   * board's sessions, then yields joins, leaves and focus changes. Ending the
   * stream (return(), a closed socket, an aborted request) leaves at once.
   * More than `queueLimit` undelivered changes end it with SLOW_CONSUMER.
   */
  join(boardId: string, userId: string, queueLimit: number, signal?: AbortSignal): Promise<PresenceStream>;
  /**
   * Sets the focus of the user's sessions on the board: the one named by
   * `sessionId`, or all of them when it is omitted. Returns those sessions
   * as they are now; only the ones whose focus changed emit FOCUS_CHANGED.
   *
   * @throws NotFoundError when the user has no such session on the board.
   */
  setFocus(userId: string, boardId: string, cardId: string | null, sessionId?: string): Promise<PresenceSession[]>;
  /** Sessions on the board, oldest first. */
  list(boardId: string): Promise<PresenceSession[]>;
  /** Number of sessions open on this instance; leak checks compare it. */
  readonly size: number;
  close(): Promise<void>;
}

export function newSession(boardId: string, userId: string): PresenceSession {
  return { id: randomUUID(), boardId, userId, joinedAt: new Date(), focusCardId: null, focusedAt: null };
}

export function noSessionError(sessionId: string | undefined): NotFoundError {
  return new NotFoundError(
    sessionId === undefined
      ? 'You have no presence on this board; subscribe to presence(boardId) first.'
      : `Presence session ${sessionId} is not one of yours on this board.`,
  );
}

/** Changes the focus of `session` in place; returns false when it already had that focus. */
export function applyFocus(session: PresenceSession, cardId: string | null, now = new Date()): boolean {
  if (session.focusCardId === cardId) return false;
  session.focusCardId = cardId;
  session.focusedAt = cardId === null ? null : now;
  return true;
}

/**
 * Builds one subscriber's stream: the snapshot first, then the changes
 * `deliver` is given. A join of a session the subscriber already has, or
 * a leave of one it never had, is dropped, so a change that crosses the
 * snapshot on its way is not shown twice. `resync` compares the sessions as
 * they are with what the subscriber has received and delivers the difference.
 * `finish` runs once when the stream ends, for whatever reason.
 */
export function presenceStream(
  you: PresenceSession,
  sessions: PresenceSession[],
  queueLimit: number,
  finish: () => void,
): { stream: PresenceStream; deliver: (change: SessionChange) => void; resync: (sessions: PresenceSession[]) => void } {
  /** The last state sent to the subscriber for each session it has. */
  const known = new Map(sessions.map((session) => [session.id, { ...session }]));
  const queue: PresenceChange[] = [{ type: 'SNAPSHOT', you: { ...you }, sessions: sessions.map((session) => ({ ...session })) }];
  let wake: (() => void) | undefined;
  let failure: Error | undefined;
  let finished = false;

  const end = (error?: Error) => {
    if (finished) return;
    failure ??= error;
    finished = true;
    queue.length = 0;
    finish();
    wake?.();
  };
  const deliver = (change: SessionChange) => {
    if (finished) return;
    const id = change.session.id;
    if (change.type === 'JOINED' ? known.has(id) : !known.has(id)) return;
    if (change.type === 'LEFT') known.delete(id);
    else known.set(id, { ...change.session });
    queue.push(change);
    if (queue.length > queueLimit) {
      end(new SlowConsumerError(`More than ${queueLimit} presence changes were waiting for this subscriber, so it was ended. Subscribe again for a new snapshot.`));
    }
    wake?.();
  };
  const resync = (current: PresenceSession[]) => {
    const present = new Map(current.map((session) => [session.id, session]));
    for (const [id, sent] of known) {
      if (!present.has(id)) deliver({ type: 'LEFT', session: sent });
    }
    for (const session of current) {
      const sent = known.get(session.id);
      if (!sent) deliver({ type: 'JOINED', session: { ...session } });
      else if (sent.focusCardId !== session.focusCardId) deliver({ type: 'FOCUS_CHANGED', session: { ...session } });
    }
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
  const stream = Object.assign(
    streamIterator(next, () => end()),
    { end },
  );
  return { stream, deliver, resync };
}

/** Ends the stream when `signal` aborts, also when it already has. */
export function endOnAbort(stream: PresenceStream, signal: AbortSignal | undefined): void {
  if (!signal) return;
  if (signal.aborted) stream.end();
  else signal.addEventListener('abort', () => stream.end(), { once: true });
}

/** Presence of one instance, in its memory: the single-instance default. */
export class MemoryPresence implements PresenceRegistry {
  private readonly sessions = new Map<string, PresenceSession>();
  private readonly target = new EventTarget();

  constructor() {
    setMaxListeners(0, this.target);
  }

  async list(boardId: string): Promise<PresenceSession[]> {
    return this.sessionsOf(boardId).map((session) => ({ ...session }));
  }

  get size(): number {
    return this.sessions.size;
  }

  async setFocus(userId: string, boardId: string, cardId: string | null, sessionId?: string): Promise<PresenceSession[]> {
    const mine = this.sessionsOf(boardId).filter((session) => session.userId === userId && (sessionId === undefined || session.id === sessionId));
    if (mine.length === 0) throw noSessionError(sessionId);
    const now = new Date();
    for (const session of mine) {
      if (applyFocus(session, cardId, now)) this.emit({ type: 'FOCUS_CHANGED', session: { ...session } });
    }
    return mine.map((session) => ({ ...session }));
  }

  async join(boardId: string, userId: string, queueLimit: number, signal?: AbortSignal): Promise<PresenceStream> {
    const you = newSession(boardId, userId);
    const listener = (message: Event) => deliver((message as CustomEvent<SessionChange>).detail);
    const { stream, deliver } = presenceStream(you, [...this.sessionsOf(boardId), you], queueLimit, () => {
      this.target.removeEventListener(boardId, listener);
      if (this.sessions.delete(you.id)) this.emit({ type: 'LEFT', session: { ...you } });
    });
    this.sessions.set(you.id, you);
    this.emit({ type: 'JOINED', session: { ...you } });
    this.target.addEventListener(boardId, listener);
    endOnAbort(stream, signal);
    return stream;
  }

  async close(): Promise<void> {}

  private sessionsOf(boardId: string): PresenceSession[] {
    return [...this.sessions.values()].filter((session) => session.boardId === boardId);
  }

  private emit(change: SessionChange): void {
    this.target.dispatchEvent(new CustomEvent(change.session.boardId, { detail: change }));
  }
}
