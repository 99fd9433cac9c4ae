import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { TestServer } from './server.js';

export interface GraphQLResponse<T = any> {
  data?: T;
  errors?: { message: string; path?: string[]; extensions?: { code?: string; field?: string; reason?: string } }[];
}

/** POSTs one operation over HTTP, as a browser or curl would. */
export async function graphql<T = any>(server: TestServer, query: string, variables?: Record<string, unknown>, token?: string): Promise<GraphQLResponse<T>> {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as GraphQLResponse<T>;
}

/** Like graphql(), but fails the test on GraphQL errors and returns the data. */
export async function graphqlData<T = any>(server: TestServer, query: string, variables?: Record<string, unknown>, token?: string): Promise<T> {
  const result = await graphql<T>(server, query, variables, token);
  if (result.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
  return result.data as T;
}

/**
 * Collects the results of one subscription and lets a test wait for a
 * number of them, without sleeping.
 */
export class Collector<T = any> {
  readonly results: T[] = [];
  readonly errors: unknown[] = [];
  completed = false;
  private waiters: (() => void)[] = [];

  push(result: T): void {
    this.results.push(result);
    this.notify();
  }

  fail(error: unknown): void {
    this.errors.push(error);
    this.completed = true;
    this.notify();
  }

  complete(): void {
    this.completed = true;
    this.notify();
  }

  private notify(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /** Resolves once `condition` holds; rejects after `timeoutMs` with what arrived so far. */
  async until(condition: () => boolean, description: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`Timed out waiting for ${description}; got ${this.results.length} result(s): ${JSON.stringify(this.results).slice(0, 2000)}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async count(n: number, timeoutMs?: number): Promise<T[]> {
    await this.until(() => this.results.length >= n, `${n} result(s)`, timeoutMs);
    return this.results.slice(0, n);
  }

  async done(timeoutMs?: number): Promise<void> {
    await this.until(() => this.completed, 'the subscription to complete', timeoutMs);
  }
}

/** Creates a graphql-ws client for `server` that sends `token` in connection_init. */
export function socketClient(server: TestServer, token?: string): Client {
  return createClient({
    url: server.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : undefined,
    retryAttempts: 0,
    lazy: true,
  });
}

/** Subscribes over graphql-ws; resolves once the server has acknowledged the connection. */
export function subscribeSocket<T = any>(client: Client, query: string, variables?: Record<string, unknown>) {
  const collector = new Collector<GraphQLResponse<T>>();
  const unsubscribe = client.subscribe<T>(
    { query, variables },
    {
      next: (result) => collector.push(result as GraphQLResponse<T>),
      error: (error) => collector.fail(error),
      complete: () => collector.complete(),
    },
  );
  return { collector, unsubscribe };
}

/**
 * Subscribes over Server-Sent Events with fetch, as a browser's EventSource
 * or curl would, and parses the `next` and `complete` events.
 */
export function subscribeSse<T = any>(server: TestServer, query: string, variables: Record<string, unknown>, token?: string) {
  const collector = new Collector<GraphQLResponse<T>>();
  const abort = new AbortController();
  const opened = (async () => {
    const response = await fetch(server.url, {
      method: 'POST',
      signal: abort.signal,
      headers: {
        accept: 'text/event-stream',
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ query, variables }),
    });
    if (!response.body) throw new Error(`SSE request failed with status ${response.status}`);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    void (async () => {
      let buffer = '';
      try {
        while (true) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (event === 'next' && data) collector.push(JSON.parse(data));
            if (event === 'complete') collector.complete();
          }
        }
        collector.complete();
      } catch (error) {
        if (!abort.signal.aborted) collector.fail(error);
        else collector.complete();
      }
    })();
    return response;
  })();
  return { collector, opened, close: () => abort.abort() };
}

/** Samples of one scrape of `/metrics`, by metric name with its labels as Prometheus writes them, such as `tandem_errors_total{code="NOT_FOUND"}`. */
export type MetricSamples = Map<string, number>;

/** Scrapes the server's `/metrics` and parses Prometheus's text format. */
export async function scrapeMetrics(server: Pick<TestServer, 'url'>, token?: string): Promise<MetricSamples> {
  const response = await fetch(new URL('/metrics', server.url), { headers: token ? { authorization: `Bearer ${token}` } : {} });
  if (response.status !== 200) throw new Error(`GET /metrics returned ${response.status}: ${await response.text()}`);
  const samples: MetricSamples = new Map();
  for (const line of (await response.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}
