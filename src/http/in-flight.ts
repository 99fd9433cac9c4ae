import type { IncomingMessage, ServerResponse } from 'node:http';
import { httpTransport } from '../observability/metrics.js';


/**
 * The HTTP requests in progress on a server, for a graceful stop. A stop
 * ends the streams at once, because they never finish on their own and
 * their clients reconnect. It gives the other requests time to finish.
 */
export class InFlightRequests {
  private readonly requests = new Map<ServerResponse, { streaming: boolean }>();
  private idle: (() => void) | undefined;

  /** Counts `request` until its response has been sent or its connection closed. */
  track(request: IncomingMessage, response: ServerResponse): void {
    // Responses that stay open: GraphQL over SSE, and the multipart responses that Apollo Client requests.
    this.requests.set(response, { streaming: httpTransport(request.headers.accept) !== 'http' });
    const done = () => {
      this.requests.delete(response);
      if (this.pending() === 0) this.idle?.();
    };
    response.once('finish', done);
    response.once('close', done);
  }

  /** Number of requests in flight that are not streams. */
  pending(): number {
    let count = 0;
    for (const { streaming } of this.requests.values()) if (!streaming) count += 1;
    return count;
  }

  /**
   * Cuts every open stream's connection. The client sees its connection end
   * and reconnects, to another instance if there is one. An orderly
   * `complete` would instead tell it that the subscription is over.
   */
  endStreams(): void {
    for (const [response, { streaming }] of this.requests) if (streaming) response.socket?.destroy();
  }

  /** Resolves once no request other than a stream is in flight, or after `timeoutMs`; returns whether all finished. */
  async settled(timeoutMs: number): Promise<boolean> {
    if (this.pending() === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      new Promise<boolean>((resolve) => (this.idle = () => resolve(true))),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    this.idle = undefined;
    return finished;
  }
}
