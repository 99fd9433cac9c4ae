/**
 * The in-memory boards shared by every peer server. A peer passes in how it
 * publishes events, so moving a card does the same work everywhere and only
 * the delivery path differs between peers.
 */
import { generateKeyBetween, generateNKeysBetween } from 'fractional-indexing';

export interface CardRecord {
  id: string;
  boardId: string;
  columnId: string;
  title: string;
  /** Fractional-index key, as in Tandem. Keys sort as plain strings. */
  position: string;
  version: number;
}

export interface ColumnRecord {
  id: string;
  boardId: string;
  name: string;
  position: string;
  /** The column's cards, kept in position order. */
  cards: CardRecord[];
}

export interface BoardRecord {
  id: string;
  name: string;
  eventSequence: number;
  /** The board's columns, kept in position order. */
  columns: ColumnRecord[];
}

export interface CardMovedEvent {
  sequence: number;
  cursor: string;
  /** ISO 8601 time of publishing; the load generator measures delivery latency from it. */
  occurredAt: string;
  /** A copy of the card as it was when the event was published. */
  card: CardRecord;
}

export type PublishEvent = (topic: string, event: CardMovedEvent) => void;

/** A rejected move: an unknown id, or a target column on another board. */
export class StoreError extends Error {
  constructor(
    message: string,
    readonly code: 'NOT_FOUND' | 'BAD_USER_INPUT',
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

/** Returns the topic that a board's events are published to. */
export function boardTopic(boardId: string): string {
  return `board:${boardId}`;
}

export class BoardStore {
  readonly boards = new Map<string, BoardRecord>();
  readonly columns = new Map<string, ColumnRecord>();
  readonly cards = new Map<string, CardRecord>();

  constructor(private readonly publish: PublishEvent) {}

  /** Adds `board-N` with columns `column-N-C` and cards `card-N-C-K`, all numbered from 1. */
  addBoard(boardNumber: number, columnCount: number, cardsPerColumn: number): BoardRecord {
    const board: BoardRecord = { id: `board-${boardNumber}`, name: `Board ${boardNumber}`, eventSequence: 0, columns: [] };
    const columnPositions = generateNKeysBetween(null, null, columnCount);

    for (let c = 1; c <= columnCount; c++) {
      const column: ColumnRecord = {
        id: `column-${boardNumber}-${c}`,
        boardId: board.id,
        name: `Column ${c}`,
        position: columnPositions[c - 1]!,
        cards: [],
      };
      const cardPositions = generateNKeysBetween(null, null, cardsPerColumn);
      for (let k = 1; k <= cardsPerColumn; k++) {
        const card: CardRecord = {
          id: `card-${boardNumber}-${c}-${k}`,
          boardId: board.id,
          columnId: column.id,
          title: `Card ${boardNumber}-${c}-${k}`,
          position: cardPositions[k - 1]!,
          version: 1,
        };
        column.cards.push(card);
        this.cards.set(card.id, card);
      }
      board.columns.push(column);
      this.columns.set(column.id, column);
    }

    this.boards.set(board.id, board);
    return board;
  }

  /**
   * Moves a card to the end of a column of the same board, bumps the card's
   * version and the board's eventSequence, and publishes a CardMovedEvent to
   * the board's topic. Returns the moved card.
   * @throws StoreError when the card or column does not exist, or the column is on another board.
   */
  moveCard(cardId: string, toColumnId: string): CardRecord {
    const card = this.cards.get(cardId);
    if (!card) throw new StoreError(`Card not found: ${JSON.stringify(cardId)}.`, 'NOT_FOUND');
    const target = this.columns.get(toColumnId);
    if (!target) throw new StoreError(`Column not found: ${JSON.stringify(toColumnId)}.`, 'NOT_FOUND');
    if (target.boardId !== card.boardId) {
      throw new StoreError(`Column ${target.id} is on ${target.boardId}, but card ${card.id} is on ${card.boardId}.`, 'BAD_USER_INPUT');
    }

    const source = this.columns.get(card.columnId)!;
    source.cards.splice(source.cards.indexOf(card), 1);
    card.position = generateKeyBetween(target.cards.at(-1)?.position ?? null, null);
    card.columnId = target.id;
    card.version += 1;
    target.cards.push(card);

    const board = this.boards.get(card.boardId)!;
    board.eventSequence += 1;
    const event: CardMovedEvent = {
      sequence: board.eventSequence,
      cursor: String(board.eventSequence),
      occurredAt: new Date().toISOString(),
      card: { ...card },
    };
    this.publish(boardTopic(board.id), event);
    return card;
  }
}

/**
 * Creates a store with env BOARDS boards (default 100), each with 3 columns
 * of 10 cards.
 * @throws Error when BOARDS is not a positive integer.
 */
export function createSeededStore(publish: PublishEvent): BoardStore {
  const boardCount = Number(process.env.BOARDS ?? '100');
  if (!Number.isInteger(boardCount) || boardCount < 1) {
    throw new Error(`Invalid BOARDS ${JSON.stringify(process.env.BOARDS)}: expected a positive integer.`);
  }
  const store = new BoardStore(publish);
  for (let n = 1; n <= boardCount; n++) store.addBoard(n, 3, 10);
  return store;
}
