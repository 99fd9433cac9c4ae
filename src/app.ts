import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { createYoga, type Plugin, type YogaInitialContext } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import { authenticate, credentialFromSocket, sessionSignedOut } from './auth/authenticate.js';
import { resolveTokenSecret } from './auth/secret.js';
import { AccessTokens } from './auth/tokens.js';
import type { Settings } from './config.js';
import { dataDirectory, databaseKind, describeDatabase, openDatabase, type QueryListener } from './db/client.js';
import { migrateDatabase } from './db/migrate.js';
import type { Services } from './domain/services.js';
import { serveHealth } from './observability/health.js';
import { InFlightRequests } from './http/in-flight.js';
import { RateLimits } from './domain/rate-limits.js';
import { useMutationRateLimit } from './http/rate-limit-plugin.js';
import { SessionStreams } from './http/session-streams.js';
import { SocketSessions } from './http/socket-sessions.js';
import { useSessionBoundStreams } from './http/sse-sessions.js';
import { BodyTooLargeError, guardSocketMessages, originAllowed, readBody, sendBodyTooLarge, sendError, useDocumentLimits, useNoIntrospection } from './http/limits.js';
import { createLogger, logScope, type Logger } from './observability/logger.js';
import { httpTransport, Metrics, serveMetrics } from './observability/metrics.js';
import { useOperationMetrics } from './observability/operation-metrics.js';
import { StreamRegistry } from './realtime/board-stream.js';
import { createMemoryBus } from './realtime/bus.js';
import { createRedisBus } from './realtime/redis-bus.js';
import { MemoryPresence } from './realtime/presence.js';
import { createRedisPresence } from './realtime/redis-presence.js';
import { pruneEventLog, schedulePruning } from './realtime/retention.js';
import { pruneIdempotencyRecords } from './domain/mutation.js';
import { forkContext, type Context } from './schema/context.js';
import { lazyLoaders } from './schema/lazy-loaders.js';
import { schema } from './schema/index.js';
import { createErrorMasker } from './schema/mask-errors.js';
import { DemoPage } from './http/demo.js';
import { renderLocalGraphiQL, serveGraphiQLAsset } from './http/graphiql.js';
import { replaceResultWithMarker, spliceResultsOnSend } from './http/shared-json.js';
import { ServerSocket } from './http/server-socket.js';
import { nextMessageSink } from './http/socket-sink.js';
import { SharedExecutions, useEventScopedContext } from './schema/subscribe.js';

export const graphqlPath = '/graphql';

export interface AppOptions {
  /** Logger to use instead of one built from settings.logLevel. */
  logger?: Logger;
  /** Called for every SQL statement; tests count them. */
  onQuery?: QueryListener;
  /** Apply pending migrations before opening the database. Default true. */
  migrate?: boolean;
  /**
   * Envelop plugins added after Tandem's own; tests use them to slow or break
   * resolvers. NOTE: a plugin that wraps resolvers changes the schema object,
   * which all apps in the process share, so it outlives this app.
   */
  plugins?: Plugin[];
}

export interface App {
  /** Listens on settings.host and settings.port; returns the GraphQL URL. */
  start(): Promise<{ url: string; port: number }>;
  /**
   * Stops listening, closes every WebSocket with 1001 and cuts every HTTP
   * stream, lets other requests finish within the grace period
   * (SHUTDOWN_GRACE_SECONDS), then closes the bus and the database.
   */
  stop(): Promise<void>;
  /** Subscription executions shared between subscribers; `executions` counts them. */
  sharedExecutions: SharedExecutions;
  /** SSE subscriptions of this process opened with an access token, ended at its expiry or sign-out. */
  sseSessions: SessionStreams;
  /** Runs one pruning pass of the event logs now; returns the number of events deleted. */
  pruneEventLog(now?: Date): Promise<number>;
  services: Services;
}

/**
 * Returns the request's id for its log lines: the client's `X-Request-Id`
 * when it is a plain token of at most 100 characters, else a new UUID. It is
 * sent back in the response's `X-Request-Id`.
 */
function requestIdOf(request: IncomingMessage): string {
  const header = request.headers['x-request-id'];
  return typeof header === 'string' && /^[\w.:-]{1,100}$/.test(header) ? header : randomUUID();
}

/**
 * Drops the `http` extension (status and headers) that Yoga adds to parse
 * and validation errors for its HTTP responses. Over WebSocket it means
 * nothing, and HTTP and SSE clients never see it either.
 */
function withoutHttp(error: GraphQLError): GraphQLError {
  if (!error.extensions.http) return error;
  const { http: _, ...extensions } = error.extensions;
  return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, path: error.path, originalError: error.originalError, extensions });
}

/**
 * Returns a syntax error of a WebSocket operation with the code that Yoga
 * gives it over HTTP, which Yoga adds to HTTP requests only, and counts it:
 * Yoga's error masking, which counts it over HTTP, is not on this path.
 */
function parseFailure(error: GraphQLError, metrics: Metrics): GraphQLError {
  const code = error.extensions.code ?? 'GRAPHQL_PARSE_FAILED';
  metrics.errorSent(String(code));
  if (error.extensions.code !== undefined) return error;
  return new GraphQLError(error.message, { source: error.source, positions: error.positions, originalError: error.originalError, extensions: { ...error.extensions, code } });
}

/** Extra fields of the initial context when an operation arrives over WebSocket. */
interface SocketContext {
  connectionParams?: Record<string, unknown>;
  /** The Node request, which Yoga passes along over HTTP. */
  req?: IncomingMessage;
}

/**
 * Adapts pino to Yoga's logger: Yoga passes errors and strings as arguments.
 * Yoga also logs every GraphQL error it sends. Those go to debug, because
 * expected errors are the client's business and the error masker has
 * already logged each unexpected one.
 */
function yogaLogger(logger: Logger) {
  const forward = (level: 'debug' | 'info' | 'warn' | 'error') => (...args: unknown[]) => {
    const [first, ...rest] = args;
    if (first instanceof GraphQLError) logger.debug({ err: first }, first.message);
    else if (first instanceof Error) logger[level]({ err: first }, rest.map(String).join(' ') || first.message);
    else logger[level](args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' '));
  };
  return { debug: forward('debug'), info: forward('info'), warn: forward('warn'), error: forward('error') };
}

const graphiqlWelcome = `# Welcome to Tandem's GraphiQL.
#
# 1. Run signIn (or signUp) and copy accessToken.
# 2. In the Headers tab below, enter {"Authorization": "Bearer <accessToken>"}.
# 3. Query workspaces and boards, subscribe to boardEvents, run mutations.
#
# The contract is in docs/PROTOCOL.md of the Tandem repository.

mutation SignIn {
  signIn(input: { email: "ada@example.com", password: "tandem-demo-password" }) {
    ... on AuthPayload { accessToken }
    ... on Error { code message }
  }
}
`;

/** Thrown by start() when the server cannot listen; the message names the setting to change. */
export class ListenError extends Error {
  override name = 'ListenError';
}

function listenError(error: NodeJS.ErrnoException, settings: Settings): Error {
  const where = `${settings.host}:${settings.port}`;
  if (error.code === 'EADDRINUSE') {
    return new ListenError(`Port ${settings.port} on ${settings.host} is already in use; stop the other process or set PORT to a free port.`, { cause: error });
  }
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN') {
    return new ListenError(`Cannot listen on ${where}: HOST=${settings.host} is not an address of this machine; use localhost, 0.0.0.0 or one of its addresses.`, { cause: error });
  }
  if (error.code === 'EACCES') {
    return new ListenError(`Not allowed to listen on ${where}; ports below 1024 need privileges, so set PORT to 1024 or above.`, { cause: error });
  }
  return error;
}

/**
 * Builds the server: database, bus, GraphQL over HTTP, SSE and WebSocket on
 * one path. Nothing listens until start().
 */
export async function createApp(settings: Settings, options: AppOptions = {}): Promise<App> {
  const logger = options.logger ?? createLogger(settings.logLevel);
  const tokenSecret = resolveTokenSecret(settings, dataDirectory(settings.databaseUrl), logger);
  if (options.migrate !== false) {
    const applied = await migrateDatabase(settings.databaseUrl);
    if (applied.length > 0) logger.info({ migrations: applied, database: describeDatabase(settings.databaseUrl) }, 'applied pending migrations');
  }
  if (databaseKind(settings.databaseUrl) === 'postgresql' && !settings.redisUrl) {
    logger.warn('DATABASE_URL names PostgreSQL, but REDIS_URL is unset: events and presence stay inside this process. Set REDIS_URL when several processes share the database.');
  }
  const db = await openDatabase(settings.databaseUrl, {
    onQuery: options.onQuery,
    poolSize: settings.databasePoolSize,
    // Only the message: pg attaches its whole client object to the error.
    onConnectionError: (error) => logger.warn({ reason: error.message }, 'a database connection failed; it is replaced on next use'),
  });
  const bus = settings.redisUrl
    ? await createRedisBus({ url: settings.redisUrl, prefix: settings.redisPrefix, logger })
    : createMemoryBus((error, topic) => logger.error({ err: error, topic }, 'event bus listener failed'));
  const services: Services = {
    db,
    bus,
    logger,
    tokens: new AccessTokens(tokenSecret, settings.accessTokenTtlSeconds),
    refreshTokenTtlSeconds: settings.refreshTokenTtlSeconds,
    streams: new StreamRegistry(),
    presence: settings.redisUrl
      ? await createRedisPresence({ url: settings.redisUrl, prefix: settings.redisPrefix, ttlSeconds: settings.presenceTtlSeconds, logger })
      : new MemoryPresence(),
    subscriptionQueueLimit: settings.subscriptionQueueLimit,
    rateLimits: new RateLimits({ ...settings.rateLimits, redisUrl: settings.redisUrl, redisPrefix: settings.redisPrefix }, logger),
    metrics: new Metrics({ processMetrics: true }),
  };
  const { metrics } = services;

  const sharedExecutions = new SharedExecutions();
  const signedOutNow = (sessionId: string) =>
    sessionSignedOut(services, sessionId).catch((error: unknown) => {
      logger.warn({ err: error, sessionId }, 'reading a session again after a sign-out failed; its streams end when their access token expires');
      return false;
    });
  const sseSessions = new SessionStreams(signedOutNow);
  const yoga = createYoga<SocketContext, Context>({
    schema,
    graphqlEndpoint: graphqlPath,
    landingPage: false,
    graphiql: settings.graphiql ? { title: 'Tandem', subscriptionsProtocol: 'WS', defaultQuery: graphiqlWelcome } : false,
    renderGraphiQL: renderLocalGraphiQL,
    logging: yogaLogger(logger),
    maskedErrors: { maskError: createErrorMasker(logger, settings.nodeEnv !== 'production', metrics) },
    // An allowed origin is echoed back; any other gets no CORS headers, so browsers block the response.
    cors: (request) =>
      originAllowed(request.headers.get('origin') ?? undefined, request.headers.get('host') ?? undefined, settings.corsOrigins) ? { origin: '*' } : false,
    plugins: [...useDocumentLimits(settings.limits, settings.nodeEnv === 'production'), ...(settings.introspection ? [] : [useNoIntrospection()]), useOperationMetrics(metrics), useMutationRateLimit(), useEventScopedContext(forkContext, sharedExecutions), useSessionBoundStreams(sseSessions), ...(options.plugins ?? [])],
    context: async (initial: YogaInitialContext & SocketContext) => {
      const credential = initial.connectionParams
        ? credentialFromSocket(initial.connectionParams, initial.params?.extensions)
        : initial.request.headers.get('authorization');
      const auth = await authenticate(services, credential);
      return {
        services,
        db,
        viewer: auth.viewer,
        accessTokenExpiresAt: auth.expiresAt,
        sessionCheckedAt: auth.sessionCheckedAt,
        authProblem: auth.problem,
        loaders: lazyLoaders(db),
        logger,
        signal: initial.connectionParams ? undefined : initial.request.signal,
        address: initial.req?.socket.remoteAddress,
        transport: initial.connectionParams ? 'websocket' : httpTransport(initial.request.headers.get('accept')),
      } satisfies Context;
    },
  });

  const demo = settings.demoApp ? new DemoPage(logger) : undefined;
  const inFlight = new InFlightRequests();
  let stopping = false;
  const server = createServer((request, response) => {
    const requestId = requestIdOf(request);
    response.setHeader('x-request-id', requestId);
    logScope.run({ requestId }, () =>
      handle(request, response).catch((error: unknown) => {
        logger.error({ err: error, url: request.url }, 'request handling failed');
        response.destroy();
      }),
    );
  });
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    inFlight.track(request, response);
    if (await serveHealth(request, response, services, () => stopping)) return;
    if (await serveMetrics(request, response, metrics, settings.metricsToken)) return;
    if (stopping) {
      // A request that reached a connection opened before the stop.
      sendError(response, 503, { message: 'The server is shutting down; send the request again.', extensions: { code: 'SHUTTING_DOWN' } }, { 'retry-after': '1' });
      metrics.errorSent('SHUTTING_DOWN');
      return;
    }
    if (settings.graphiql && serveGraphiQLAsset(request, response)) return;
    if (demo && (await demo.serve(request, response))) return;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      try {
        // Yoga takes a body read already from `body`, as it does from body parsers.
        (request as IncomingMessage & { body?: Buffer }).body = await readBody(request, settings.limits.httpBodyBytes);
      } catch (error) {
        if (error instanceof BodyTooLargeError) {
          logger.info({ url: request.url, limit: settings.limits.httpBodyBytes }, 'request body over the limit');
          sendBodyTooLarge(response, error, settings.limits.httpBodyBytes);
          metrics.errorSent('PAYLOAD_TOO_LARGE');
        } else {
          // The client went away before sending its whole body.
          logger.debug({ err: error, url: request.url }, 'reading the request body failed');
          response.destroy();
        }
        return;
      }
    }
    const transport = httpTransport(request.headers.accept);
    if (transport !== 'http') {
      metrics.connectionOpened(transport);
      response.once('close', () => metrics.connectionClosed(transport));
    }
    void yoga(request, response);
  };
  const socketSessions = new SocketSessions(settings.limits.socketsPerUser, signedOutNow);
  // Notices come from every instance, this one included.
  // A stream that authenticated before a notice and registers after it is
  // read again when it registers (SessionStreams.add).
  bus.onSignOut(({ userId, sessionId }) => {
    const closed = socketSessions.signedOut(userId, sessionId);
    const ended = sseSessions.signedOut(userId, sessionId);
    if (closed > 0 || ended > 0) logger.info({ userId, sessionId, closedSockets: closed, endedSseStreams: ended }, 'ended the streams of a signed-out session');
  });
  // Upgrades are routed by hand (noServer), so errors of the HTTP server,
  // such as a port in use, are not re-emitted on the WebSocket server.
  // A message over maxPayload closes its socket with 1009 (message too big).
  const sockets = new WebSocketServer({ noServer: true, maxPayload: settings.limits.socketMessageBytes, WebSocket: ServerSocket });
  server.on('upgrade', (request, socket, head) => {
    if (new URL(request.url ?? '/', 'http://localhost').pathname !== graphqlPath) {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    if (!originAllowed(request.headers.origin, request.headers.host, settings.corsOrigins)) {
      logger.info({ origin: request.headers.origin }, 'WebSocket upgrade rejected: origin not in CORS_ORIGINS');
      const body = `The origin ${request.headers.origin} is not allowed; add it to CORS_ORIGINS on the server.`;
      socket.end(`HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
      return;
    }
    // The upgrade request is not passed on: graphql-ws would keep it, with
    // all its headers, for as long as the socket is open, and nothing reads it.
    sockets.handleUpgrade(request, socket, head, (client) => sockets.emit('connection', client));
  });
  // Registered before graphql-ws's own connection listener, so it runs first.
  sockets.on('connection', spliceResultsOnSend);
  sockets.on('connection', (socket) => guardSocketMessages(socket, logger, settings.limits.socketMessageBytes));
  sockets.on('connection', (socket) => {
    metrics.connectionOpened('websocket');
    socket.once('close', (code: number) => {
      metrics.connectionClosed('websocket');
      metrics.socketClosed((socket as ServerSocket).sentCloseCode ?? code);
    });
  });
  // Registered last, so its wrapper runs first: every event of the socket, graphql-ws's handling included, logs with its id.
  sockets.on('connection', (socket) => {
    const scope = { socketId: randomUUID() };
    const emit = socket.emit.bind(socket);
    socket.emit = ((event: string | symbol, ...args: unknown[]) => logScope.run(scope, () => emit(event, ...args))) as typeof socket.emit;
  });
  const socketServer = useServer<Record<string, unknown>>(
    {
      onConnect: async (ctx) => {
        const credential = credentialFromSocket(ctx.connectionParams);
        if (credential === undefined) return true;
        const auth = await authenticate(services, credential);
        if (auth.viewer && !socketSessions.admit(ctx.extra.socket, auth.viewer, auth.expiresAt, auth.sessionCheckedAt)) {
          logger.info({ userId: auth.viewer.userId, limit: settings.limits.socketsPerUser }, 'WebSocket rejected: too many connections for this user');
          ctx.extra.socket.close(1008, `Too many open connections for this user (WS_MAX_CONNECTIONS_PER_USER=${settings.limits.socketsPerUser}); close one first.`);
          return false;
        }
        if (auth.problem === null) return true;
        logger.info({ problem: auth.problem }, 'WebSocket connection refused');
        // Closing here gives the client the reason; a close frame's reason is limited to 123 bytes.
        ctx.extra.socket.close(4403, auth.problem.slice(0, 120));
        return false;
      },
      onSubscribe: async (ctx, id, payload) => {
        // graphql-ws has registered this operation already, so it is counted.
        const open = Object.keys(ctx.subscriptions).length;
        if (open > settings.limits.subscriptionsPerSocket) {
          metrics.errorSent('TOO_MANY_SUBSCRIPTIONS');
          return [
            new GraphQLError(
              `This socket has ${open - 1} operations open, the most one socket may have (WS_MAX_SUBSCRIPTIONS). Complete one first, or open another socket.`,
              { extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', limit: 'WS_MAX_SUBSCRIPTIONS', max: settings.limits.subscriptionsPerSocket } },
            ),
          ];
        }
        const enveloped = yoga.getEnveloped({
          socket: ctx.extra.socket,
          params: payload,
          connectionParams: ctx.connectionParams ?? {},
        });
        let document;
        try {
          document = enveloped.parse(payload.query);
        } catch (error) {
          // Returned, a syntax error fails this operation only; thrown, it would close the socket with 4500.
          if (error instanceof GraphQLError) return [parseFailure(withoutHttp(error), metrics)];
          throw error;
        }
        const errors = enveloped.validate(enveloped.schema, document);
        if (errors.length > 0) return errors.map(withoutHttp);
        const args: ExecutionArgs = {
          schema: enveloped.schema,
          document,
          contextValue: await enveloped.contextFactory(),
          variableValues: payload.variables,
          operationName: payload.operationName,
          // `sink` lets a board subscription write its messages itself (see pushEvents).
          rootValue: { execute: enveloped.execute, subscribe: enveloped.subscribe, sink: nextMessageSink(ctx.extra.socket, id) },
        };
        return args;
      },
      connectionInitWaitTimeout: settings.limits.socketInitSeconds * 1000,
      jsonMessageReplacer: replaceResultWithMarker,
      // Send the result object itself; graphql-ws would otherwise copy it
      // into a new payload for every message.
      onNext: (_ctx, _id, _payload, _args, result) => result,
      execute: (args) => (args.rootValue as { execute: (a: ExecutionArgs) => never }).execute(args),
      subscribe: (args) => (args.rootValue as { subscribe: (a: ExecutionArgs) => never }).subscribe(args),
    },
    sockets,
    settings.keepAliveSeconds * 1000,
  );

  const retention = { maxAgeSeconds: settings.eventRetentionSeconds, maxEventsPerBoard: settings.eventRetentionCount };
  let stopPruning: (() => Promise<void>) | undefined;
  let stopped: Promise<void> | undefined;

  return {
    services,
    sharedExecutions,
    sseSessions,
    pruneEventLog: (now) => pruneEventLog(db, retention, logger, now),
    start: () =>
      new Promise((resolve, reject) => {
        server.once('error', (error: NodeJS.ErrnoException) => reject(listenError(error, settings)));
        server.listen(settings.port, settings.host, () => {
          server.off('error', reject);
          const { port } = server.address() as AddressInfo;
          const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
          const url = `http://${host}:${port}${graphqlPath}`;
          // Event logs and expired idempotency keys are pruned at start, then
          // every 10 minutes: cheap when nothing is due.
          const prune = async () => {
            await pruneEventLog(db, retention, logger);
            await pruneIdempotencyRecords(services);
          };
          stopPruning = schedulePruning(prune, logger, 10 * 60_000);
          logger.info({ url, database: describeDatabase(settings.databaseUrl), bus: settings.redisUrl ? 'redis' : 'memory' }, 'Tandem started');
          resolve({ url, port });
        });
      }),
    stop: () => {
      stopped ??= (async () => {
        stopping = true;
        const deadline = Date.now() + settings.shutdownGraceSeconds * 1000;
        // Accepts no more connections; the callback runs once every connection has ended.
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        // Closes every WebSocket with 1001 (going away): clients reconnect,
        // to another instance if there is one, and resume from their cursors.
        const socketsClosed = Promise.resolve(socketServer.dispose()).catch((error: unknown) => logger.warn({ err: error }, 'closing the WebSocket server failed'));
        inFlight.endStreams();
        server.closeIdleConnections();
        if (!(await inFlight.settled(deadline - Date.now()))) {
          logger.warn({ requests: inFlight.pending(), graceSeconds: settings.shutdownGraceSeconds }, 'requests still in flight at the end of the grace period; cutting them');
        }
        server.closeAllConnections();
        // Sockets whose clients have not returned the close frame by the deadline are cut.
        await Promise.race([socketsClosed, new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())))]);
        for (const client of sockets.clients) client.terminate();
        await socketsClosed;
        await closed;
        await stopPruning?.();
        await services.presence.close();
        await services.rateLimits.close();
        await bus.close();
        await db.$disconnect();
        logger.info('Tandem stopped');
      })();
      return stopped;
    },
  };
}
