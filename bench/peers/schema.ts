/**
 * The part of Tandem's schema that the benchmarks exercise, with resolvers
 * over a BoardStore. Tandem wraps results in unions, but the load generator
 * sends peers plain queries, so the schema here has none. Mercurius and Yoga
 * share it, and each passes in how a subscription listens to a topic.
 */
import DataLoader from 'dataloader';
import { GraphQLError } from 'graphql';
import { boardTopic, StoreError, type BoardRecord, type BoardStore, type CardMovedEvent, type CardRecord, type ColumnRecord } from './store.js';

export const typeDefs = /* GraphQL */ `
  type Column {
    id: ID!
    name: String!
    position: String!
    cards: CardConnection!
  }
  type Card {
    id: ID!
    title: String!
    position: String!
    version: Int!
    column: Column!
  }
  type CardEdge {
    node: Card!
  }
  type CardConnection {
    edges: [CardEdge!]!
  }
  type ColumnEdge {
    node: Column!
  }
  type ColumnConnection {
    edges: [ColumnEdge!]!
  }
  type Board {
    id: ID!
    name: String!
    eventSequence: Int!
    columns: ColumnConnection!
  }
  type CardMovedEvent {
    sequence: Int!
    cursor: String!
    occurredAt: String!
    card: Card
  }
  input MoveCardInput {
    cardId: ID!
    toColumnId: ID!
  }
  type Query {
    board(id: ID!): Board
  }
  type Mutation {
    moveCard(input: MoveCardInput!): Card
  }
  type Subscription {
    boardEvents(boardId: ID!): CardMovedEvent!
  }
`;

/** The part of the GraphQL context that the shared resolvers read. */
export interface PeerContext {
  /** Loads the cards of columns by column id, batched per tick. */
  cardsLoader: DataLoader<string, CardRecord[]>;
}

/** Creates the per-request context. */
export function createPeerContext(store: BoardStore): PeerContext {
  const cardsLoader = new DataLoader<string, CardRecord[]>(
    async (columnIds) => columnIds.map((id) => store.columns.get(id)?.cards ?? new Error(`Column not found: ${id}.`)),
    // A subscription keeps its context for its whole life, so a cache would
    // return stale cards there. A board query loads each column once, so the
    // cache would never hit anyway. The loader is there to batch.
    { cache: false },
  );
  return { cardsLoader };
}

/** Returns an async iterable of the events published to `topic`, through the framework's own pub/sub. */
export type SubscribeToTopic<TContext> = (
  topic: string,
  context: TContext,
) => AsyncIterable<CardMovedEvent> | Promise<AsyncIterable<CardMovedEvent>>;

interface MoveCardArgs {
  input: { cardId: string; toColumnId: string };
}

function connection<T>(nodes: readonly T[]): { edges: { node: T }[] } {
  return { edges: nodes.map((node) => ({ node })) };
}

/** Creates resolvers in the graphql-tools shape, which both Mercurius and Yoga accept. */
export function createResolvers<TContext extends PeerContext>(store: BoardStore, subscribeToTopic: SubscribeToTopic<TContext>) {
  return {
    Query: {
      board: (_root: unknown, args: { id: string }) => store.boards.get(args.id) ?? null,
    },
    Mutation: {
      moveCard: (_root: unknown, { input }: MoveCardArgs) => {
        try {
          return store.moveCard(input.cardId, input.toColumnId);
        } catch (error) {
          if (error instanceof StoreError) throw new GraphQLError(error.message, { extensions: { code: error.code } });
          throw error;
        }
      },
    },
    Subscription: {
      boardEvents: {
        subscribe: (_root: unknown, args: { boardId: string }, context: TContext) => {
          if (!store.boards.has(args.boardId)) {
            throw new GraphQLError(`Board not found: ${JSON.stringify(args.boardId)}.`, { extensions: { code: 'NOT_FOUND' } });
          }
          return subscribeToTopic(boardTopic(args.boardId), context);
        },
        resolve: (event: CardMovedEvent) => event,
      },
    },
    Board: {
      columns: (board: BoardRecord) => connection(board.columns),
    },
    Column: {
      cards: async (column: ColumnRecord, _args: unknown, context: TContext) => connection(await context.cardsLoader.load(column.id)),
    },
    Card: {
      column: (card: CardRecord) => store.columns.get(card.columnId),
    },
  };
}
