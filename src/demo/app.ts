/**
 * The browser demo: sign in, pick a board, add and move cards, and watch
 * other people's changes and presence arrive live. It uses only the SDK in
 * `sdk/`: typed documents over fetch for queries and mutations, and
 * TandemClient over WebSocket for the resuming board stream and presence.
 * The server bundles this file with esbuild (src/http/demo.ts).
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import {
  BoardDocument,
  CreateCardDocument,
  MoveCardDocument,
  RefreshSessionDocument,
  SetFocusDocument,
  SignInDocument,
  SignOutDocument,
  SignUpDocument,
  TandemClient,
  WorkspacesDocument,
  type BoardEvent,
  type BoardSubscription,
  type CardFieldsFragment,
  type PresenceState,
  type PresenceWatch,
  type SessionTokensFragment,
} from '../../sdk/index.js';

const graphqlUrl = '/graphql';
const socketUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${graphqlUrl}`;
/** Per tab, so two tabs of one browser can be two people. */
const sessionKey = 'tandem-demo-session';
/** Refresh the access token when it has less than this left. */
const refreshMarginMs = 60_000;

const cardFields = 'id title description dueAt position version archived column { id }';
const eventSelection = ['CardCreatedEvent', 'CardMovedEvent', 'CardUpdatedEvent', 'CardArchivedEvent']
  .map((type) => `... on ${type} { card { ${cardFields} } }`)
  .join(' ');

interface Column {
  id: string;
  name: string;
}

/** A result that is one of the schema's error types. */
interface ErrorResult {
  __typename: string;
  code: string;
  message: string;
}

const unreachable = 'Cannot reach the Tandem server; check that it is running, then try again.';

class RequestError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  connection: element('connection'),
  viewer: element('viewer'),
  signOut: element<HTMLButtonElement>('sign-out'),
  problem: element('problem'),
  signIn: element('sign-in'),
  signInHeading: element('sign-in-heading'),
  signInForm: element<HTMLFormElement>('sign-in-form'),
  signInSubmit: element<HTMLButtonElement>('sign-in-submit'),
  displayNameField: element('display-name-field'),
  toggleSignUp: element<HTMLButtonElement>('toggle-sign-up'),
  boardPicker: element('board-picker'),
  boardSelect: element<HTMLSelectElement>('board-select'),
  board: element('board'),
  boardName: element('board-name'),
  presence: element<HTMLUListElement>('presence'),
  columns: element('columns'),
};

// ---- Session and requests ----

let session: SessionTokensFragment | undefined = readSession();
let refreshing: Promise<string | undefined> | undefined;

function readSession(): SessionTokensFragment | undefined {
  try {
    return JSON.parse(sessionStorage.getItem(sessionKey) ?? 'null') ?? undefined;
  } catch {
    return undefined;
  }
}

function saveSession(tokens: SessionTokensFragment | undefined): void {
  session = tokens;
  if (tokens) sessionStorage.setItem(sessionKey, JSON.stringify(tokens));
  else sessionStorage.removeItem(sessionKey);
}

/** Returns the access token, refreshing it first when it is about to expire. */
async function accessToken(): Promise<string | undefined> {
  if (!session) return undefined;
  if (Date.parse(session.accessTokenExpiresAt) - Date.now() > refreshMarginMs) return session.accessToken;
  refreshing ??= (async () => {
    try {
      const { refreshSession } = await request(RefreshSessionDocument, { input: { refreshToken: session!.refreshToken } }, false);
      if (refreshSession.__typename !== 'AuthPayload') {
        endSession('Your session has ended; sign in again.');
        return undefined;
      }
      saveSession(refreshSession);
      return refreshSession.accessToken;
    } finally {
      refreshing = undefined;
    }
  })();
  return refreshing;
}

/** Runs a query or mutation over HTTP; throws RequestError with the server's message on failure. */
async function request<Result, Variables>(document: TypedDocumentNode<Result, Variables>, variables: Variables, authenticated = true): Promise<Result> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/graphql-response+json' };
  const token = authenticated ? await accessToken() : undefined;
  if (token) headers.authorization = `Bearer ${token}`;
  let response: Response;
  try {
    response = await fetch(graphqlUrl, { method: 'POST', headers, body: JSON.stringify({ query: print(document), variables }) });
  } catch {
    throw new RequestError(unreachable);
  }
  const body = (await response.json().catch(() => null)) as { data?: Result; errors?: { message: string; extensions?: { code?: string } }[] } | null;
  const error = body?.errors?.[0];
  if (error) throw new RequestError(error.message, error.extensions?.code);
  if (!body?.data) throw new RequestError(`The server responded ${response.status} without data; try again.`);
  return body.data;
}

/** Returns the result unless it is one of the schema's error types, which it throws. */
function expectType<Result extends { __typename: string }, Name extends Result['__typename']>(result: Result, typename: Name): Extract<Result, { __typename: Name }> {
  if (result.__typename === typename) return result as Extract<Result, { __typename: Name }>;
  const error = result as unknown as ErrorResult;
  throw new RequestError(error.message ?? `Unexpected ${result.__typename}.`, error.code);
}

// ---- Messages ----

function showProblem(message: string | undefined): void {
  ui.problem.textContent = message ?? '';
  ui.problem.hidden = !message;
}

/** Runs an action started by the user and shows what went wrong, if anything. */
async function attempt(action: () => Promise<void>): Promise<void> {
  try {
    showProblem(undefined);
    await action();
  } catch (error) {
    showProblem(error instanceof Error ? error.message : String(error));
  }
}

// ---- Signing in ----

let signingUp = false;

ui.toggleSignUp.addEventListener('click', () => {
  signingUp = !signingUp;
  showProblem(undefined);
  ui.displayNameField.hidden = !signingUp;
  ui.displayNameField.querySelector('input')!.required = signingUp;
  ui.signInHeading.textContent = signingUp ? 'Create an account' : 'Sign in';
  // The server's minimum; signing in accepts any length, so old passwords still work.
  ui.signInForm.querySelector<HTMLInputElement>('input[name="password"]')!.minLength = signingUp ? 8 : 1;
  ui.signInSubmit.textContent = signingUp ? 'Create account' : 'Sign in';
  ui.toggleSignUp.textContent = signingUp ? 'Have an account? Sign in' : 'New here? Create an account';
});

ui.signInForm.addEventListener('submit', (submit) => {
  submit.preventDefault();
  const form = new FormData(ui.signInForm);
  const email = String(form.get('email'));
  const password = String(form.get('password'));
  void attempt(async () => {
    ui.signInSubmit.disabled = true;
    try {
      const tokens = signingUp
        ? expectType((await request(SignUpDocument, { input: { email, password, displayName: String(form.get('displayName')) } }, false)).signUp, 'AuthPayload')
        : expectType((await request(SignInDocument, { input: { email, password } }, false)).signIn, 'AuthPayload');
      saveSession(tokens);
      ui.signInForm.reset();
      await showBoards();
    } finally {
      ui.signInSubmit.disabled = false;
    }
  });
});

ui.signOut.addEventListener('click', () => {
  void attempt(async () => {
    await request(SignOutDocument, {}).catch(() => undefined);
    endSession(undefined);
  });
});

function endSession(message: string | undefined): void {
  saveSession(undefined);
  closeBoard();
  void client?.dispose();
  client = undefined;
  ui.connection.hidden = true;
  ui.viewer.textContent = '';
  ui.signOut.hidden = true;
  ui.boardPicker.hidden = true;
  ui.signIn.hidden = false;
  showProblem(message);
}

// ---- Live connection ----

let client: TandemClient | undefined;

function liveClient(): TandemClient {
  if (client) return client;
  const created = new TandemClient({ url: socketUrl, getAccessToken: accessToken, clientOptions: { keepAlive: 10_000 } });
  // A client disposed at sign-out still reports its socket closing; only the current one may change the badge.
  created.ws.on('connected', () => created === client && showConnection(true));
  created.ws.on('closed', () => created === client && showConnection(false));
  client = created;
  return created;
}

function showConnection(live: boolean): void {
  if (live && ui.problem.textContent === unreachable) showProblem(undefined);
  ui.connection.hidden = false;
  ui.connection.textContent = live ? 'Live' : 'Reconnecting…';
  ui.connection.classList.toggle('live', live);
}

// ---- Board state ----

let boardId: string | undefined;
let columns: Column[] = [];
const cards = new Map<string, CardFieldsFragment>();
let presence: PresenceState = { you: undefined, sessions: [] };
let events: BoardSubscription | undefined;
let presenceWatch: PresenceWatch | undefined;
let reloadTimer: ReturnType<typeof setTimeout> | undefined;

async function showBoards(): Promise<void> {
  ui.signIn.hidden = true;
  ui.viewer.textContent = session ? `Signed in as ${session.user.displayName}` : '';
  ui.signOut.hidden = false;
  const { workspaces } = await request(WorkspacesDocument, {});
  ui.boardSelect.replaceChildren();
  for (const { node: workspace } of workspaces.edges) {
    const group = document.createElement('optgroup');
    group.label = workspace.name;
    for (const { node: board } of workspace.boards.edges) group.append(new Option(board.name, board.id));
    ui.boardSelect.append(group);
  }
  const wanted = new URLSearchParams(location.hash.slice(1)).get('board');
  const ids = [...ui.boardSelect.options].map((option) => option.value);
  if (ids.length === 0) {
    ui.boardPicker.hidden = true;
    showProblem('You are not on any board yet. Ask an admin of a workspace to add you (the addMember mutation), then reload; or sign in as one of the seeded users.');
    return;
  }
  ui.boardPicker.hidden = false;
  ui.boardSelect.value = wanted && ids.includes(wanted) ? wanted : ids[0]!;
  await openBoard(ui.boardSelect.value);
}

ui.boardSelect.addEventListener('change', () => void attempt(() => openBoard(ui.boardSelect.value)));

/** Loads the board, then follows its events from the cursor the load returned, so nothing falls in between. */
async function openBoard(id: string): Promise<void> {
  closeBoard();
  boardId = id;
  history.replaceState(null, '', `#board=${encodeURIComponent(id)}`);
  const after = await loadBoard();
  if (boardId !== id || after === undefined) return;
  const live = liveClient();
  events = live.subscribeBoard({
    boardId: id,
    after,
    selection: eventSelection,
    onEvent: applyEvent,
    onCursorExpired: () => void attempt(() => openBoard(id)),
    onError: (error) => showProblem(error.message),
  });
  presenceWatch = live.watchPresence({
    boardId: id,
    onChange: (state) => {
      const rejoined = state.you !== presence.you;
      presence = state;
      // After a reconnect this tab is a new presence session: tell the others again what it is looking at.
      if (rejoined) sendFocus();
      render();
    },
    onError: (error) => showProblem(error.message),
  });
  ui.board.hidden = false;
}

/** Reads the board into the local state; returns the cursor to follow events from. */
async function loadBoard(): Promise<string | undefined> {
  const id = boardId!;
  const board = expectType((await request(BoardDocument, { id })).board, 'Board');
  if (boardId !== id) return undefined;
  ui.boardName.textContent = board.name;
  columns = board.columns.edges.map(({ node }) => ({ id: node.id, name: node.name }));
  // An event may have brought a newer version of a card while this read was on its way.
  const previous = new Map(cards);
  cards.clear();
  for (const { node: column } of board.columns.edges) {
    for (const { node: card } of column.cards.edges) {
      const known = previous.get(card.id);
      cards.set(card.id, known && known.version > card.version ? known : card);
    }
  }
  render();
  return board.eventCursor;
}

function closeBoard(): void {
  events?.unsubscribe();
  presenceWatch?.unsubscribe();
  events = undefined;
  presenceWatch = undefined;
  boardId = undefined;
  columns = [];
  cards.clear();
  presence = { you: undefined, sessions: [] };
  ui.board.hidden = true;
}

/**
 * Events carry the objects they are about as they are now. Card events
 * replace the card; any other change (columns, the board) reloads the board
 * while the event stream keeps running.
 */
function applyEvent(event: BoardEvent): void {
  const card = event.card as CardFieldsFragment | null | undefined;
  if (event.__typename.startsWith('Card') && card !== undefined) {
    if (card) cards.set(card.id, card);
    render();
    return;
  }
  if (event.__typename.startsWith('Column') || event.__typename.startsWith('Board')) {
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(() => void attempt(async () => void (await loadBoard())), 100);
  }
}

// ---- Rendering ----

function byPosition(a: CardFieldsFragment, b: CardFieldsFragment): number {
  if (a.position !== b.position) return a.position < b.position ? -1 : 1;
  if (a.id === b.id) return 0;
  return a.id < b.id ? -1 : 1;
}

/** Brings the DOM in line with the state, reusing elements so focus and typed text survive. */
function render(): void {
  const sections = new Map([...ui.columns.querySelectorAll<HTMLElement>('section.column')].map((section) => [section.dataset.columnId!, section]));
  for (const [id, section] of sections) if (!columns.some((column) => column.id === id)) section.remove();
  const columnsKey = columns.map((column) => `${column.id}:${column.name}`).join('|');
  columns.forEach((column, position) => {
    const section = sections.get(column.id) ?? columnSection(column);
    // Moved only when out of place: moving an element takes the focus out of it.
    if (ui.columns.children[position] !== section) ui.columns.insertBefore(section, ui.columns.children[position] ?? null);
    const list = section.querySelector<HTMLUListElement>('ul.cards')!;
    const inColumn = [...cards.values()].filter((card) => card.column.id === column.id && !card.archived).sort(byPosition);
    section.querySelector('h3 .name')!.textContent = column.name;
    section.querySelector('h3 .count')!.textContent = ` (${inColumn.length})`;
    const items = new Map([...list.children].map((item) => [(item as HTMLElement).dataset.cardId!, item as HTMLLIElement]));
    for (const [id, item] of items) {
      const card = cards.get(id);
      if (!card || card.column.id !== column.id || card.archived) item.remove();
    }
    inColumn.forEach((card, index) => {
      const item = ui.columns.querySelector<HTMLLIElement>(`li.card[data-card-id="${CSS.escape(card.id)}"]`) ?? document.createElement('li');
      fillCard(item, card, columnsKey);
      if (list.children[index] !== item) list.insertBefore(item, list.children[index] ?? null);
    });
  });
  renderPresence();
}

function columnSection(column: Column): HTMLElement {
  const section = document.createElement('section');
  section.className = 'column';
  section.dataset.columnId = column.id;
  const heading = document.createElement('h3');
  heading.append(Object.assign(document.createElement('span'), { className: 'name' }), Object.assign(document.createElement('span'), { className: 'count' }));
  const list = document.createElement('ul');
  list.className = 'cards';
  const form = document.createElement('form');
  form.className = 'add-card';
  // No maxLength: the server's error gives the limit, rather than the browser cutting the title silently.
  const input = Object.assign(document.createElement('input'), { name: 'title', placeholder: 'New card' });
  input.setAttribute('aria-label', `New card in ${column.name}`);
  form.append(input, Object.assign(document.createElement('button'), { type: 'submit', textContent: 'Add' }));
  form.addEventListener('submit', (submit) => {
    submit.preventDefault();
    const title = input.value.trim();
    if (!title) {
      showProblem('A card needs a title; type one, then press Add.');
      return;
    }
    // Cleared now, so the next title can be typed while this one is saved.
    input.value = '';
    void attempt(async () => {
      try {
        const card = expectType((await request(CreateCardDocument, { input: { columnId: column.id, title, idempotencyKey: crypto.randomUUID() } })).createCard, 'Card');
        cards.set(card.id, card);
        render();
      } catch (error) {
        // Give the refused title back, unless something new was typed meanwhile.
        if (!input.value) input.value = title;
        throw error;
      }
    });
  });
  // Drag a card onto a column to move it to that column's end, or onto a card to put it before that card.
  section.addEventListener('dragover', (drag) => {
    if (!drag.dataTransfer?.types.includes('text/x-tandem-card')) return;
    drag.preventDefault();
    section.classList.add('drop-target');
  });
  section.addEventListener('dragleave', () => section.classList.remove('drop-target'));
  section.addEventListener('drop', (drop) => {
    drop.preventDefault();
    section.classList.remove('drop-target');
    const cardId = drop.dataTransfer?.getData('text/x-tandem-card');
    const before = (drop.target as HTMLElement).closest<HTMLElement>('li.card')?.dataset.cardId;
    if (cardId && before !== cardId) void attempt(() => moveCard(cardId, column.id, before));
  });
  section.append(heading, list, form);
  return section;
}

function fillCard(item: HTMLLIElement, card: CardFieldsFragment, columnsKey: string): void {
  const key = `${card.version}|${columnsKey}`;
  if (item.dataset.key !== key && !item.contains(document.activeElement)) {
    item.dataset.key = key;
    item.className = 'card';
    item.dataset.cardId = card.id;
    item.draggable = true;
    item.tabIndex = 0;
    const title = Object.assign(document.createElement('span'), { className: 'title', textContent: card.title });
    const select = document.createElement('select');
    select.setAttribute('aria-label', `Move "${card.title}" to column`);
    for (const column of columns) select.append(new Option(column.name, column.id, false, column.id === card.column.id));
    select.addEventListener('change', () => {
      void attempt(async () => {
        try {
          await moveCard(card.id, select.value, undefined);
        } finally {
          // After a refused move, show the column the card is still in.
          select.value = cards.get(card.id)?.column.id ?? card.column.id;
        }
      });
    });
    const editing = Object.assign(document.createElement('span'), { className: 'editing' });
    item.replaceChildren(title, select, editing);
  }
  const focusedBy = presence.sessions.filter((entry) => entry.id !== presence.you && entry.focusedCard?.id === card.id);
  const editing = item.querySelector('.editing')!;
  editing.textContent = focusedBy.length > 0 ? `${focusedBy.map((entry) => entry.user?.displayName ?? 'Someone').join(', ')} looking at this` : '';
}

ui.columns.addEventListener('dragstart', (drag) => {
  const item = (drag.target as HTMLElement).closest<HTMLElement>('li.card');
  if (!item || !drag.dataTransfer) return;
  drag.dataTransfer.setData('text/x-tandem-card', item.dataset.cardId!);
  drag.dataTransfer.effectAllowed = 'move';
});

// Show the others which card this session is on; the server announces it as a focus change.
let focusedCard: string | null = null;
let sentFocus: { session: string; cardId: string | null } | undefined;
ui.columns.addEventListener('focusin', (focus) => setFocus((focus.target as HTMLElement).closest<HTMLElement>('li.card')?.dataset.cardId ?? null));
ui.columns.addEventListener('focusout', (focus) => {
  if (!(focus.relatedTarget instanceof HTMLElement && focus.relatedTarget.closest('li.card'))) setFocus(null);
});

function setFocus(cardId: string | null): void {
  focusedCard = cardId;
  sendFocus();
}

/** Sends the focused card for the current presence session, once it exists, unless it was sent already. */
function sendFocus(): void {
  const session = presence.you;
  if (!boardId || !session) return;
  const newSession = sentFocus?.session !== session;
  if (!newSession && sentFocus?.cardId === focusedCard) return;
  sentFocus = { session, cardId: focusedCard };
  // A new session starts without focus, so there is nothing to clear.
  if (newSession && focusedCard === null) return;
  void request(SetFocusDocument, { input: { boardId, cardId: focusedCard, presenceId: session } }).catch(() => {
    sentFocus = undefined;
  });
}

async function moveCard(cardId: string, toColumnId: string, beforeCardId: string | undefined): Promise<void> {
  const card = cards.get(cardId);
  if (!card) return;
  const result = (await request(MoveCardDocument, { input: { cardId, toColumnId, beforeCardId, expectedVersion: card.version } })).moveCard;
  if (result.__typename === 'ConflictError') {
    // Someone else changed the card first; its event brings the new state.
    render();
    throw new RequestError(`Someone changed "${card.title}" just before you; it is shown as it is now. Move it again if you still want to.`, 'CONFLICT');
  }
  const moved = expectType(result, 'Card');
  if ((cards.get(moved.id)?.version ?? 0) < moved.version) cards.set(moved.id, moved);
  render();
}

function renderPresence(): void {
  ui.presence.replaceChildren(
    ...presence.sessions.map((entry) => {
      const item = document.createElement('li');
      item.dataset.sessionId = entry.id;
      item.textContent = `${entry.user?.displayName ?? 'Someone'}${entry.id === presence.you ? ' (you)' : ''}`;
      return item;
    }),
  );
}

// ---- Start ----

if (session) {
  showBoards().catch((error: unknown) => {
    // A session that the server no longer accepts is forgotten; any other failure keeps it for the next try.
    if (error instanceof RequestError && error.code === 'UNAUTHENTICATED') saveSession(undefined);
    ui.signIn.hidden = false;
    showProblem(error instanceof Error ? error.message : String(error));
  });
} else {
  ui.signIn.hidden = false;
}
