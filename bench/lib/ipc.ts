/**
 * The control channel between the benchmark runner and a server it started
 * (Tandem or a peer): the server reports that it listens, and responds to
 * requests for its memory and CPU use over Node's IPC channel.
 */

/** A request from the runner to a server process. */
export type ControlRequest = { type: 'memory' } | { type: 'cpu' };

/** A server's response to a ControlRequest. */
export type ControlReply =
  | { type: 'memory'; usage: NodeJS.MemoryUsage }
  | { type: 'cpu'; usage: NodeJS.CpuUsage };

/** The first message of a server: its GraphQL (or WebSocket) URL. */
export interface ReadyMessage {
  type: 'ready';
  url: string;
}

/**
 * Tells the runner that the server listens at `url`, then responds to
 * its control requests. A memory request runs a full garbage collection first
 * when the process was started with --expose-gc.
 */
export function reportReady(url: string): void {
  if (!process.send) {
    process.stdout.write(`${JSON.stringify({ type: 'ready', url })}\n`);
    return;
  }
  process.send({ type: 'ready', url } satisfies ReadyMessage);
  process.on('message', (request: ControlRequest) => {
    if (request.type === 'memory') {
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      gc?.();
      process.send!({ type: 'memory', usage: process.memoryUsage() } satisfies ControlReply);
    } else if (request.type === 'cpu') {
      process.send!({ type: 'cpu', usage: process.cpuUsage() } satisfies ControlReply);
    }
  });
  // The runner going away ends the server too.
  process.on('disconnect', () => process.exit(0));
}
