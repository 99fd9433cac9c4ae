/**
 * Peer server: Fastify with Mercurius as a typical app sets it up. Queries
 * and mutations go over HTTP, subscriptions over Mercurius's own WebSocket
 * server on /graphql, and events go through its default in-process emitter
 * (mqemitter). Env MERCURIUS_JIT=1 turns on graphql-jit (off by default),
 * which compiles a query on its second request. It applies to HTTP only,
 * because Mercurius runs subscription events through graphql-js subscribe.
 *
 * Mercurius 16.10 accepts both the graphql-transport-ws subprotocol (the
 * graphql-ws v5+ clients) and the legacy graphql-ws one (see its
 * lib/subscription-protocol.js). It sends every message with an awaited
 * socket.send, so one subscription's events leave one at a time. Events
 * wait in a per-subscription Readable that keeps buffering past its
 * highWaterMark, so a subscriber that falls behind grows memory rather than
 * losing events.
 */
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import mercurius, { type MercuriusContext } from 'mercurius';
import { reportReady } from '../lib/ipc.js';
import { graphqlUrl, readListenOptions } from './listen.js';
import { createPeerContext, createResolvers, typeDefs, type PeerContext } from './schema.js';
import { createSeededStore } from './store.js';

// Adds the cards loader to Mercurius's context type by declaration merging.
declare module 'mercurius' {
  interface MercuriusContext extends PeerContext {}
}

const app = Fastify({ logger: false });

const store = createSeededStore((topic, payload) => app.graphql.pubsub.publish({ topic, payload }));

await app.register(mercurius, {
  schema: typeDefs,
  resolvers: createResolvers<MercuriusContext>(store, (topic, context) => context.pubsub.subscribe(topic)),
  context: () => createPeerContext(store),
  // An object in place of `true` keeps the default emitter and adds the
  // per-connection context, so subscriptions get a cards loader too.
  subscription: { context: () => createPeerContext(store) },
  graphiql: false,
  jit: process.env.MERCURIUS_JIT === '1' ? 1 : 0,
});

const { host, port } = readListenOptions();
await app.listen({ host, port });
reportReady(graphqlUrl(host, (app.server.address() as AddressInfo).port));
