/** Messages between the benchmark runner and its load generator processes. */

export interface SubscribeRequest {
  type: 'subscribe';
  /** `graphql-ws` speaks graphql-transport-ws; `raw` only reads frames (the bare ws ceiling). */
  protocol: 'graphql-ws' | 'raw';
  /** WebSocket URL. */
  url: string;
  /** The subscription document; its variables are `{ boardId }`. */
  query: string;
  /** The token of the first subscription of each socket authenticates it. */
  subscriptions: { boardId: string; token?: string }[];
  /** Subscriptions carried by one socket. Default 1. */
  perSocket?: number;
  /** Loopback source addresses, used in turn, so that many sockets do not run out of ports. */
  localAddresses: string[];
  /** Handshakes in progress at once. Default 200. */
  parallel?: number;
}

export interface PublishRequest {
  type: 'publish';
  /** HTTP URL of the GraphQL endpoint. */
  url: string;
  /** Request bodies, used in turn from `offset`. */
  bodies: { json: string; token?: string }[];
  offset: number;
  /** Requests per second. */
  rate: number;
  durationMs: number;
  /** A response counts as a success only when it contains this text. */
  expect?: string;
  /** Keep-alive connections. Default 64. */
  connections?: number;
  /** Requests waiting for a response before further ones are skipped. Default 2,000. */
  maxInFlight?: number;
}

export type WorkerRequest = SubscribeRequest | PublishRequest | { type: 'reset' } | { type: 'stats' } | { type: 'close' };

export interface PublishResult {
  sent: number;
  succeeded: number;
  failed: number;
  /** Requests not sent because too many were waiting for responses: the target could not keep up. */
  skipped: number;
  seconds: number;
  /** Response times in microseconds, an HDR histogram in compressed base64. */
  responses: string;
}

export interface WorkerStats {
  /** Events received since the last reset. */
  received: number;
  /** Delivery latencies in microseconds, an HDR histogram in compressed base64. */
  deliveries: string;
  /** Sockets still open. */
  open: number;
  cpu: NodeJS.CpuUsage;
  errors: string[];
}

export type WorkerReply =
  | { type: 'subscribed'; opened: number }
  | { type: 'published'; result: PublishResult }
  | { type: 'reset' }
  | { type: 'stats'; stats: WorkerStats }
  | { type: 'closed' }
  | { type: 'failed'; message: string };
