/**
 * Server and load generator processes of a benchmark run. Each runs apart
 * from the runner, so that neither's CPU use hides in the other's.
 */
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as hdr from 'hdr-histogram-js';
import type { ControlReply, ControlRequest, ReadyMessage } from './ipc.js';
import type { PublishRequest, PublishResult, SubscribeRequest, WorkerReply, WorkerRequest, WorkerStats } from '../load/protocol.js';

const benchDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Waits for the next message of `child` that passes `accept`, failing if the child exits first. */
function nextMessage<T>(child: ChildProcess, accept: (message: unknown) => message is T, timeoutMs = 600_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`process ${child.pid} did not respond within ${timeoutMs / 1000} s`)), timeoutMs);
    const onMessage = (message: unknown) => {
      if (accept(message)) finish(undefined, message);
    };
    const onExit = (code: number | null, signal: string | null) => finish(new Error(`process ${child.pid} exited (code ${code}, signal ${signal}) before responding`));
    function finish(error: Error | undefined, message?: T) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(message!);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

export interface ServerProcess {
  name: string;
  url: string;
  wsUrl: string;
  child: ChildProcess;
  /** Memory after a full garbage collection. */
  memory(): Promise<NodeJS.MemoryUsage>;
  /** CPU time used so far, in microseconds. */
  cpu(): Promise<NodeJS.CpuUsage>;
  stop(): Promise<void>;
}

/** Starts `script` (relative to bench/) with tsx and --expose-gc, and waits until it listens. */
export async function startServerProcess(name: string, script: string, env: Record<string, string>): Promise<ServerProcess> {
  const child = fork(path.join(benchDir, script), [], {
    // BENCH_CPU_PROFILE=DIR writes a V8 CPU profile of each server there when it exits.
    execArgv: ['--import', 'tsx', '--expose-gc', '--max-old-space-size=8192', ...(process.env.BENCH_CPU_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROFILE}`] : [])],
    env: { ...process.env, LOG_LEVEL: 'warn', NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await nextMessage(child, (message): message is ReadyMessage => (message as ReadyMessage).type === 'ready', 120_000);
  const ask = async <T extends ControlReply['type']>(request: ControlRequest & { type: T }) => {
    const reply = nextMessage(child, (message): message is Extract<ControlReply, { type: T }> => (message as ControlReply).type === request.type);
    child.send(request);
    return reply;
  };
  return {
    name,
    url: ready.url,
    wsUrl: ready.url.replace(/^http/, 'ws'),
    child,
    memory: async () => (await ask({ type: 'memory' })).usage,
    cpu: async () => (await ask({ type: 'cpu' })).usage,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Loopback source addresses for the load generator: 127.0.0.2 and up; Linux routes all of 127/8 to lo. */
export function loopbackAddresses(count: number): string[] {
  return Array.from({ length: count }, (_, index) => `127.0.0.${index + 2}`);
}

export interface DeliveryStats {
  received: number;
  /** Merged delivery latency histogram, in microseconds. */
  histogram: hdr.Histogram;
  open: number;
  /** CPU seconds the load generator used since it started. */
  cpuSeconds: number;
  errors: string[];
}

/** A pool of load generator processes that the runner steers together. */
export class LoadGenerator {
  private readonly workers: ChildProcess[];
  private subscribed = 0;

  constructor(count = Math.max(2, os.availableParallelism())) {
    this.workers = Array.from({ length: count }, () =>
      fork(path.join(benchDir, 'load', 'worker.ts'), [], { execArgv: ['--import', 'tsx', '--max-old-space-size=4096'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
    );
  }

  private async ask<T extends WorkerReply['type']>(worker: ChildProcess, request: WorkerRequest, type: T): Promise<Extract<WorkerReply, { type: T }>> {
    const reply = nextMessage(worker, (message): message is Extract<WorkerReply, { type: T }> | Extract<WorkerReply, { type: 'failed' }> => {
      const kind = (message as WorkerReply).type;
      return kind === type || kind === 'failed';
    });
    worker.send(request);
    const answer = await reply;
    if (answer.type === 'failed') throw new Error(`load generator failed: ${(answer as { message: string }).message}`);
    return answer as Extract<WorkerReply, { type: T }>;
  }

  /** Opens the subscriptions, spread evenly over the workers; returns how many opened. */
  async subscribe(request: Omit<SubscribeRequest, 'type'>): Promise<number> {
    // Whole sockets' worth of subscriptions to each worker in turn.
    const perSocket = request.perSocket ?? 1;
    const shares = this.workers.map(() => [] as SubscribeRequest['subscriptions']);
    for (let index = 0; index < request.subscriptions.length; index += perSocket) {
      shares[(this.subscribed + index / perSocket) % shares.length]!.push(...request.subscriptions.slice(index, index + perSocket));
    }
    this.subscribed += Math.ceil(request.subscriptions.length / perSocket);
    const opened = await Promise.all(this.workers.map((worker, index) => this.ask(worker, { ...request, type: 'subscribe', subscriptions: shares[index]! }, 'subscribed')));
    return opened.reduce((sum, reply) => sum + reply.opened, 0);
  }

  /** Sends requests at `rate` per second, split over the workers, and merges what they measured. */
  async publish(request: Omit<PublishRequest, 'type' | 'offset'>, workers = this.workers.length): Promise<PublishResult & { histogram: hdr.Histogram }> {
    const active = this.workers.slice(0, workers);
    const results = await Promise.all(
      active.map((worker, index) => this.ask(worker, { ...request, type: 'publish', rate: request.rate / active.length, offset: index * 1_000_003 }, 'published')),
    );
    const histogram = hdr.build({ bitBucketSize: 64, numberOfSignificantValueDigits: 3 });
    for (const { result } of results) histogram.add(hdr.decodeFromCompressedBase64(result.responses));
    const sum = (pick: (result: PublishResult) => number) => results.reduce((total, reply) => total + pick(reply.result), 0);
    return {
      sent: sum((result) => result.sent),
      succeeded: sum((result) => result.succeeded),
      failed: sum((result) => result.failed),
      skipped: sum((result) => result.skipped),
      seconds: Math.max(...results.map((reply) => reply.result.seconds)),
      responses: '',
      histogram,
    };
  }

  async reset(): Promise<void> {
    await Promise.all(this.workers.map((worker) => this.ask(worker, { type: 'reset' }, 'reset')));
  }

  async stats(): Promise<DeliveryStats> {
    const replies = await Promise.all(this.workers.map((worker) => this.ask(worker, { type: 'stats' }, 'stats')));
    const all: WorkerStats[] = replies.map((reply) => reply.stats);
    const histogram = hdr.build({ bitBucketSize: 64, numberOfSignificantValueDigits: 3 });
    for (const stats of all) histogram.add(hdr.decodeFromCompressedBase64(stats.deliveries));
    return {
      received: all.reduce((sum, stats) => sum + stats.received, 0),
      histogram,
      open: all.reduce((sum, stats) => sum + stats.open, 0),
      cpuSeconds: all.reduce((sum, stats) => sum + (stats.cpu.user + stats.cpu.system) / 1e6, 0),
      errors: all.flatMap((stats) => stats.errors).slice(0, 10),
    };
  }

  /** Closes every subscriber socket; the workers stay for the next scenario. */
  async closeSockets(): Promise<void> {
    await Promise.all(this.workers.map((worker) => this.ask(worker, { type: 'close' }, 'closed')));
    this.subscribed = 0;
  }

  dispose(): void {
    for (const worker of this.workers) worker.kill();
  }
}
