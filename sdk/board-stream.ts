import { print } from 'graphql';
import { createClient, type Client, type ClientOptions } from 'graphql-ws';
import { PresenceDocument, type PresenceSubscription } from './generated/operations.js';

/** One board event as the SDK hands it to the application: at least these fields, plus the selection. */
export interface BoardEvent {
  __typename: string;
  sequence: number;
  cursor: string;
  [field: string]: unknown;
}

/** A GraphQL error as received in a result. */
export interface ReceivedError {
  message: string;
  extensions?: { code?: string; [key: string]: unknown };
}

export interface BoardSubscriptionOptions {
  boardId: string;
  /** Fields to select on each event, inside `boardEvents { ... }`. `__typename sequence cursor` are always added. */
  selection?: string;
  /** Cursor of the last event the application already has; the stream starts right after it. */
  after?: string;
  /** Receives every event once, in sequence order, across reconnects. */
  onEvent(event: BoardEvent): void;
  /**
   * Called when the cursor is older than the server's kept log (CURSOR_EXPIRED).
   * Events were missed: read the board again, then subscribe after its `eventCursor`.
   * The subscription has ended.
   */
  onCursorExpired?(error: ReceivedError): void;
  /**
   * Called with an error that retrying cannot fix (FORBIDDEN, NOT_FOUND,
   * VALIDATION_FAILED, UNAUTHENTICATED when the socket was closed with 4403).
   * The subscription has ended.
   */
  onError?(error: ReceivedError): void;
  /** Called before each resubscription, with the reason and the cursor it resumes from. */
  onResume?(reason: string, after: string | undefined): void;
}

export interface BoardSubscription {
  /** Cursor of the last event delivered, to persist and pass as `after` later. */
  readonly cursor: string | undefined;
  /** Stops the subscription; no event is delivered after it returns. */
  unsubscribe(): void;
}

/** One presence session (a browser tab, say) as watchPresence reports it. */
export interface PresenceSession {
  id: string;
  user: { id: string; displayName: string } | null;
  focusedCard: { id: string } | null;
}

/** The sessions on a board now. */
export interface PresenceState {
  /** This client's own session, one of `sessions`; undefined until the first snapshot. */
  you: string | undefined;
  /** Every session on the board, in the order they joined; yours included. */
  sessions: PresenceSession[];
}

export interface PresenceWatchOptions {
  boardId: string;
  /** Called with the whole state after every change, and after each resubscription's snapshot. */
  onChange(state: PresenceState): void;
  /** Called with an error that retrying cannot fix (FORBIDDEN, NOT_FOUND, UNAUTHENTICATED ...); the watch has ended. */
  onError?(error: ReceivedError): void;
}

export interface PresenceWatch {
  /** The latest state, as last passed to onChange. */
  readonly state: PresenceState;
  /** Leaves the board: the other sessions see this one leave. */
  unsubscribe(): void;
}

/** Error codes after which the SDK resubscribes from its cursor. */
const resumableCodes = new Set(['SLOW_CONSUMER', 'DATABASE_UNAVAILABLE', 'INTERNAL_SERVER_ERROR']);

export interface TandemClientOptions {
  /**
   * WebSocket URL, such as ws://localhost:4000/graphql, or a function called
   * for every connection that returns one, for instance to pick another
   * instance after one failed.
   */
  url: ClientOptions['url'];
  /**
   * Returns the current access token, or a promise of it; called for every
   * (re)connection. Refresh an expiring token here (refreshSession), since a
   * rejected token ends the subscriptions with onError (UNAUTHENTICATED).
   */
  getAccessToken?: () => string | undefined | Promise<string | undefined>;
  /** WebSocket implementation outside browsers, such as the `ws` package. */
  webSocketImpl?: unknown;
  /** First delay before resubscribing after a failure, in milliseconds; doubles up to 10 s, with jitter. Default 250. */
  retryDelayMs?: number;
  /** Passed to graphql-ws's createClient; the SDK sets `url`, `webSocketImpl`, `retryAttempts` and `connectionParams` itself. */
  clientOptions?: Partial<ClientOptions>;
}

/**
 * A Tandem client on graphql-ws whose board subscriptions survive
 * disconnects. Each remembers the cursor of the last event it delivered, and
 * after a dropped socket, a server restart or SLOW_CONSUMER it subscribes
 * again with `after`, so the application receives one unbroken, ordered stream
 * without duplicates.
 */
export class TandemClient {
  /** The underlying graphql-ws client, for queries and mutations over the same socket. */
  readonly ws: Client;
  private readonly retryDelayMs: number;
  private readonly subscriptions = new Set<BoardSubscription>();
  private readonly watches = new Set<PresenceWatch>();
  private disposed = false;

  constructor(options: TandemClientOptions) {
    this.retryDelayMs = options.retryDelayMs ?? 250;
    this.ws = createClient({
      lazy: true,
      ...options.clientOptions,
      url: options.url,
      webSocketImpl: options.webSocketImpl,
      // The SDK resubscribes itself, with a fresh cursor; graphql-ws's own
      // retry would resend the original variables.
      retryAttempts: 0,
      connectionParams: async () => {
        const token = await options.getAccessToken?.();
        return token ? { authorization: `Bearer ${token}` } : {};
      },
    });
  }

  /** Delay before the next attempt after `failures` failed ones: doubling up to 10 s, with jitter. */
  private retryDelay(failures: number): number {
    return Math.min(10_000, this.retryDelayMs * 2 ** Math.min(failures, 10)) * (0.5 + Math.random() / 2);
  }

  subscribeBoard(options: BoardSubscriptionOptions): BoardSubscription {
    const query = `subscription TandemBoardEvents($boardId: ID!, $after: String) {
      boardEvents(boardId: $boardId, after: $after) { __typename sequence cursor ${options.selection ?? ''} }
    }`;
    let cursor = options.after;
    let lastSequence = -1;
    let stopped = false;
    let failures = 0;
    let dispose: (() => void) | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;

    const stop = () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      this.subscriptions.delete(subscription);
      dispose?.();
    };

    const resume = (reason: string, immediately: boolean) => {
      if (stopped) return;
      options.onResume?.(reason, cursor);
      const delay = immediately ? 0 : this.retryDelay(failures);
      failures += 1;
      timer = setTimeout(start, delay);
    };

    const start = () => {
      if (stopped || this.disposed) return;
      let ended = false;
      dispose = this.ws.subscribe<{ boardEvents: BoardEvent }>(
        { query, variables: { boardId: options.boardId, after: cursor ?? null } },
        {
          next: (result) => {
            if (stopped || ended) return;
            const error = result.errors?.[0] as ReceivedError | undefined;
            if (error) {
              ended = true;
              const code = error.extensions?.code;
              if (code === 'CURSOR_EXPIRED') {
                stopped = true;
                options.onCursorExpired?.(error);
              } else if (code && resumableCodes.has(code)) {
                resume(code, code === 'SLOW_CONSUMER');
              } else {
                stopped = true;
                options.onError?.(error);
              }
              return;
            }
            const event = result.data?.boardEvents;
            if (!event || event.sequence <= lastSequence) return;
            failures = 0;
            lastSequence = event.sequence;
            cursor = event.cursor;
            options.onEvent(event);
          },
          error: (failure: unknown) => {
            if (ended) return;
            ended = true;
            const close = failure as { code?: number; reason?: string };
            if (close.code === 4403) {
              // The server rejected the access token; retrying with it cannot help.
              stopped = true;
              options.onError?.({
                message: close.reason || 'The server rejected the access token; sign in or refresh it, then subscribe again.',
                extensions: { code: 'UNAUTHENTICATED', closeCode: 4403 },
              });
              return;
            }
            // A closed or failed socket: resubscribe from the cursor.
            resume('disconnected', false);
          },
          complete: () => {
            // The server ended the stream without an error (it is stopping).
            if (!ended) resume('completed', false);
            ended = true;
          },
        },
      );
    };

    const subscription: BoardSubscription = {
      get cursor() {
        return cursor;
      },
      unsubscribe: stop,
    };
    this.subscriptions.add(subscription);
    start();
    return subscription;
  }

  /**
   * Makes this client present on a board and keeps the list of who else is,
   * across reconnects: after a dropped socket it subscribes again, and the
   * new snapshot replaces the old list.
   */
  watchPresence(options: PresenceWatchOptions): PresenceWatch {
    const query = print(PresenceDocument);
    let state: PresenceState = { you: undefined, sessions: [] };
    let stopped = false;
    let failures = 0;
    let dispose: (() => void) | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;

    const publish = (sessions: PresenceSession[], you = state.you) => {
      state = { you, sessions };
      options.onChange(state);
    };
    const apply = (event: PresenceSubscription['presence']) => {
      switch (event.__typename) {
        case 'PresenceSnapshot':
          return publish(event.sessions, event.you.id);
        case 'PresenceJoined':
          if (state.sessions.some((session) => session.id === event.session.id)) return;
          return publish([...state.sessions, { ...event.session, focusedCard: null }]);
        case 'PresenceLeft':
          return publish(state.sessions.filter((session) => session.id !== event.session.id));
        case 'PresenceFocusChanged':
          return publish(state.sessions.map((session) => (session.id === event.session.id ? { ...session, focusedCard: event.session.focusedCard } : session)));
      }
    };
    const fail = (error: ReceivedError) => {
      stopped = true;
      this.watches.delete(watch);
      options.onError?.(error);
    };

    const start = () => {
      if (stopped || this.disposed) return;
      let ended = false;
      const retry = () => {
        if (ended || stopped) return;
        ended = true;
        timer = setTimeout(start, this.retryDelay(failures));
        failures += 1;
      };
      dispose = this.ws.subscribe<PresenceSubscription>(
        { query, variables: { boardId: options.boardId } },
        {
          next: (result) => {
            if (stopped || ended) return;
            const error = result.errors?.[0] as ReceivedError | undefined;
            if (error) {
              const code = error.extensions?.code;
              if (code && resumableCodes.has(code)) retry();
              else {
                ended = true;
                fail(error);
              }
              return;
            }
            if (!result.data) return;
            failures = 0;
            apply(result.data.presence);
          },
          error: (failure: unknown) => {
            if (ended || stopped) return;
            const close = failure as { code?: number; reason?: string };
            if (close.code === 4403) {
              ended = true;
              fail({ message: close.reason || 'The server rejected the access token; sign in again.', extensions: { code: 'UNAUTHENTICATED', closeCode: 4403 } });
              return;
            }
            retry();
          },
          complete: retry,
        },
      );
    };

    const watch: PresenceWatch = {
      get state() {
        return state;
      },
      unsubscribe: () => {
        stopped = true;
        if (timer) clearTimeout(timer);
        this.watches.delete(watch);
        dispose?.();
      },
    };
    this.watches.add(watch);
    start();
    return watch;
  }

  /** Ends every subscription without resuming, and closes the socket. */
  async dispose(): Promise<void> {
    this.disposed = true;
    for (const subscription of [...this.subscriptions]) subscription.unsubscribe();
    for (const watch of [...this.watches]) watch.unsubscribe();
    await this.ws.dispose();
  }
}
