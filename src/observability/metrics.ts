import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The transport of a client's operations: a WebSocket (graphql-ws), a
 * streaming HTTP response (Server-Sent Events, or the multipart responses
 * that Apollo Client requests), or a plain HTTP request.
 */
export type Transport = 'websocket' | 'sse' | 'multipart' | 'http';

const transports: readonly Transport[] = ['websocket', 'sse', 'multipart', 'http'];

/** Returns the transport of an HTTP request from its Accept header. */
export function httpTransport(accept: string | null | undefined): Transport {
  if (!accept) return 'http';
  if (/text\/event-stream/i.test(accept)) return 'sse';
  if (/multipart\/mixed/i.test(accept)) return 'multipart';
  return 'http';
}

/** Upper bounds of the delivery lag buckets, in seconds: 1 ms to 10 s. */
const lagBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Upper bounds of the mutation duration buckets, in seconds: 1 ms to 10 s. */
const durationBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Value of the `mutation` label when one operation runs several mutation fields. */
export const severalMutations = '(several)';

function countsByTransport(): Record<Transport, number> {
  return { websocket: 0, sse: 0, multipart: 0, http: 0 };
}

/**
 * The Prometheus metrics of one server, in a registry of its own, so that
 * several servers in one process (as in tests) keep separate counts.
 *
 * Counts that change on every delivered event are plain numbers, read when
 * Prometheus scrapes. In a micro-benchmark on a 2-core machine, a
 * prom-client counter with a label took about 100 ns per increment, which a
 * fan-out of tens of thousands of deliveries per second would notice. The
 * delivery lag is a prom-client histogram (about 220 ns per observation there).
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly openConnections = countsByTransport();
  private readonly openSubscriptions = countsByTransport();
  private readonly delivered = countsByTransport();
  private published = 0;
  private readonly lag: Histogram;
  private readonly replays: Counter;
  private readonly replayedEvents: Counter;
  private readonly slowConsumerEnds: Counter<'transport'>;
  private readonly mutationDuration: Histogram<'mutation'>;
  private readonly errors: Counter<'code'>;
  private readonly socketCloses: Counter<'code'>;

  /** With `processMetrics`, also Node's standard process metrics (CPU, memory, event loop lag, handles). */
  constructor(options: { processMetrics: boolean }) {
    const registers = [this.registry];
    // prom-client calls collect() with the metric as `this`, so these read the fields of this object through `metrics`.
    const metrics = this;
    new Gauge({
      name: 'tandem_open_connections',
      help: 'Open client connections: WebSockets, and streaming HTTP responses (SSE or multipart).',
      labelNames: ['transport'],
      registers,
      collect() {
        for (const transport of transports) if (transport !== 'http') this.set({ transport }, metrics.openConnections[transport]);
      },
    });
    new Gauge({
      name: 'tandem_open_subscriptions',
      help: 'Subscriptions currently running (board events and presence).',
      labelNames: ['transport'],
      registers,
      collect() {
        for (const transport of transports) if (transport !== 'http') this.set({ transport }, metrics.openSubscriptions[transport]);
      },
    });
    new Counter({
      name: 'tandem_events_published_total',
      help: 'Board events committed and published on the bus by this instance.',
      registers,
      collect() {
        this.reset();
        this.inc(metrics.published);
      },
    });
    new Counter({
      name: 'tandem_events_delivered_total',
      help: 'Board events handed to a subscriber: one per event and subscriber, replays included.',
      labelNames: ['transport'],
      registers,
      collect() {
        this.reset();
        for (const transport of transports) if (transport !== 'http') this.inc({ transport }, metrics.delivered[transport]);
      },
    });
    this.lag = new Histogram({
      name: 'tandem_event_delivery_lag_seconds',
      help: "Seconds from an event's commit to its hand-over to a subscriber's transport, for live events (replayed ones are not observed).",
      buckets: lagBuckets,
      registers,
    });
    this.replays = new Counter({ name: 'tandem_replays_total', help: 'Subscriptions that started with a cursor behind the board and replayed the log from it.', registers });
    this.replayedEvents = new Counter({ name: 'tandem_replayed_events_total', help: 'Events the replays of tandem_replays_total read from the log.', registers });
    this.slowConsumerEnds = new Counter({
      name: 'tandem_slow_consumer_ends_total',
      help: 'Subscriptions ended with SLOW_CONSUMER because too many events waited for the client.',
      labelNames: ['transport'],
      registers,
    });
    this.mutationDuration = new Histogram({
      name: 'tandem_mutation_duration_seconds',
      help: `Seconds to execute a mutation operation, by mutation field; "${severalMutations}" when one operation runs several.`,
      labelNames: ['mutation'],
      buckets: durationBuckets,
      registers,
    });
    this.errors = new Counter({
      name: 'tandem_errors_total',
      help: 'Errors sent to clients, by code: GraphQL errors (extensions.code), typed errors in mutation and query results, and HTTP refusals.',
      labelNames: ['code'],
      registers,
    });
    this.socketCloses = new Counter({
      name: 'tandem_websocket_closes_total',
      help: 'WebSockets closed, by the close code the server sent, else the one the client sent (1006: no close frame). docs/PROTOCOL.md lists the codes.',
      labelNames: ['code'],
      registers,
    });
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  connectionOpened(transport: Transport): void {
    this.openConnections[transport] += 1;
  }

  connectionClosed(transport: Transport): void {
    this.openConnections[transport] -= 1;
  }

  socketClosed(code: number): void {
    this.socketCloses.inc({ code: String(code) });
  }

  subscriptionOpened(transport: Transport): void {
    this.openSubscriptions[transport] += 1;
  }

  /** Counts the end of a subscription; `slowConsumer` when it ended with SLOW_CONSUMER. */
  subscriptionEnded(transport: Transport, slowConsumer: boolean): void {
    this.openSubscriptions[transport] -= 1;
    if (slowConsumer) this.slowConsumerEnds.inc({ transport });
  }

  eventsPublished(count: number): void {
    this.published += count;
  }

  /**
   * Counts one event handed to a subscriber's transport. `committedAt` is the
   * event's commit time in milliseconds since the epoch, or undefined for a
   * replayed event, whose lag would measure the client's absence.
   */
  eventDelivered(transport: Transport, committedAt: number | undefined): void {
    this.delivered[transport] += 1;
    if (committedAt !== undefined) this.lag.observe(Math.max(0, Date.now() - committedAt) / 1000);
  }

  replayStarted(events: number): void {
    this.replays.inc();
    this.replayedEvents.inc(events);
  }

  mutationExecuted(mutation: string, seconds: number): void {
    this.mutationDuration.observe({ mutation }, seconds);
  }

  errorSent(code: string): void {
    this.errors.inc({ code });
  }
}

/**
 * The error counter of the operation running now. Typed errors in results are
 * reported by the Pothos errors plugin, whose hook gets the error but no
 * context, and the schema is shared by every server in the process. Each
 * server runs its executions inside this scope so that the hook reaches its
 * own metrics.
 */
export const errorMetricsScope = new AsyncLocalStorage<Metrics>();

/**
 * Responds to `GET /metrics` with the metrics in Prometheus's text format.
 * With `token` set, the request must carry `Authorization: Bearer <token>`,
 * else it gets 401. Returns false for other paths.
 */
export async function serveMetrics(request: IncomingMessage, response: ServerResponse, metrics: Metrics, token: string | undefined): Promise<boolean> {
  if ((request.url ?? '').split('?')[0] !== '/metrics') return false;
  if (token !== undefined && !bearerMatches(request.headers.authorization, token)) {
    metrics.errorSent('UNAUTHENTICATED');
    const problem =
      request.headers.authorization === undefined
        ? 'The metrics need the header Authorization: Bearer <METRICS_TOKEN>.'
        : 'The bearer token in Authorization does not match METRICS_TOKEN; send the value the server was started with.';
    response.writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Bearer realm="metrics"' }).end(`${problem}\n`);
    return true;
  }
  const body = await metrics.registry.metrics();
  response.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' }).end(body);
  return true;
}

/** Compares in constant time, so response times do not reveal how much of the token matched. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const presented = Buffer.from(/^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1] ?? '');
  const expected = Buffer.from(token);
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}
