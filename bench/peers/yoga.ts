/**
 * Peer server: GraphQL Yoga as a typical app sets it up. Queries and
 * mutations go over HTTP, subscriptions over graphql-ws (graphql-transport-ws
 * protocol) on a `ws` server sharing the HTTP server and the /graphql path.
 * Events go through Yoga's default in-process createPubSub, and every
 * subscriber's event is executed on its own, with no sharing between
 * subscribers (unlike Tandem).
 */
import { setMaxListeners } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphQLError } from 'graphql';
import { createPubSub, createSchema, createYoga } from 'graphql-yoga';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { reportReady } from '../lib/ipc.js';
import { graphqlUrl, readListenOptions } from './listen.js';
import { createPeerContext, createResolvers, typeDefs, type PeerContext } from './schema.js';
import { createSeededStore, type CardMovedEvent } from './store.js';

type BoardTopics = Record<`board:${string}`, [CardMovedEvent]>;

// The in-memory EventTarget that createPubSub would make itself, but with
// Node's warning at more than 10 listeners per topic turned off: a benchmark
// subscribes thousands of clients to one board.
// NOTE: Yoga's default per-subscription queue ends the process when full. With
// @graphql-yoga/subscription 5.1.1, a subscription that falls 1024 events
// behind makes publish throw RepeaterOverflowError inside the EventTarget
// listener, which Node rethrows as an uncaught exception, so this process
// exits with code 1 under sustained overload.
const eventTarget = new EventTarget();
setMaxListeners(0, eventTarget);
const pubSub = createPubSub<BoardTopics>({ eventTarget });
const store = createSeededStore((topic, event) => pubSub.publish(topic as `board:${string}`, event));

const yoga = createYoga({
  schema: createSchema<PeerContext>({
    typeDefs,
    resolvers: createResolvers<PeerContext>(store, (topic) => pubSub.subscribe(topic as `board:${string}`)),
  }),
  context: () => createPeerContext(store),
  graphiql: false,
  landingPage: false,
  logging: false,
});

type Enveloped = ReturnType<typeof yoga.getEnveloped>;

/** The execute and subscribe of Yoga's plugin chain, passed to graphql-ws through rootValue. */
interface EnvelopedRoot {
  execute: Enveloped['execute'];
  subscribe: Enveloped['subscribe'];
}

const server = createServer(yoga);
const sockets = new WebSocketServer({ server, path: yoga.graphqlEndpoint });

// graphql-ws parses, validates and executes through Yoga's plugin chain
// (getEnveloped), so both transports build the context the same way.
useServer(
  {
    onSubscribe: async (ctx, _id, payload) => {
      const enveloped = yoga.getEnveloped({ ...ctx, req: ctx.extra.request, socket: ctx.extra.socket, params: payload });
      let document;
      try {
        document = enveloped.parse(payload.query);
      } catch (error) {
        // A returned syntax error fails only this operation, but a thrown one makes graphql-ws close the socket.
        if (error instanceof GraphQLError) return [error];
        throw error;
      }
      const errors = enveloped.validate(enveloped.schema, document);
      if (errors.length > 0) return errors;
      const root: EnvelopedRoot = { execute: enveloped.execute, subscribe: enveloped.subscribe };
      return {
        schema: enveloped.schema,
        document,
        contextValue: await enveloped.contextFactory(),
        variableValues: payload.variables,
        operationName: payload.operationName,
        rootValue: root,
      };
    },
    execute: (args) => (args.rootValue as EnvelopedRoot).execute(args),
    subscribe: (args) => (args.rootValue as EnvelopedRoot).subscribe(args),
  },
  sockets,
);

const { host, port } = readListenOptions();
server.listen(port, host, () => {
  reportReady(graphqlUrl(host, (server.address() as AddressInfo).port));
});
