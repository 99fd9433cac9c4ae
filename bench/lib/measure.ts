/** Steps shared by the scenarios: a publish phase with delivery stats, and percentile helpers. */
import type { Histogram } from 'hdr-histogram-js';
import type { LoadGenerator } from './processes.js';
import type { Target } from './targets.js';

export interface Percentiles {
  p50: number;
  p99: number;
  max: number;
}

/** Percentiles in milliseconds of a histogram recorded in microseconds. */
export function percentiles(histogram: Histogram): Percentiles {
  if (histogram.totalCount === 0) return { p50: NaN, p99: NaN, max: NaN };
  return {
    p50: histogram.getValueAtPercentile(50) / 1000,
    p99: histogram.getValueAtPercentile(99) / 1000,
    max: histogram.maxValue / 1000,
  };
}

export interface PhaseResult {
  /** Publish rate asked for, per second. */
  rate: number;
  /** Mutations that succeeded, per second. */
  achievedRate: number;
  succeeded: number;
  failed: number;
  skipped: number;
  /** Events delivered; `expected` is what every subscriber should have got. */
  delivered: number;
  expected: number;
  deliveriesPerSecond: number;
  delivery: Percentiles;
  response: Percentiles;
  /** CPU use of the server and of the load generator, as a share of one core. */
  serverCpu: number;
  generatorCpu: number;
  /** Server CPU time per successful mutation, in milliseconds, deliveries included. */
  serverCpuPerRequestMs: number;
  errors: string[];
}

/**
 * Publishes moves at `rate` for `seconds`, waits for deliveries to drain,
 * and collects what the subscribers measured. `subscribersPerBoard` maps a
 * board id to its subscriber count, to compute how many deliveries were due.
 */
export async function publishPhase(
  load: LoadGenerator,
  target: Target,
  bodies: { json: string; token?: string }[],
  rate: number,
  seconds: number,
  subscribersPerBody: number[],
): Promise<PhaseResult> {
  await load.reset();
  const before = await load.stats();
  const serverBefore = await target.server.cpu();
  const started = performance.now();
  const published = await load.publish({ url: target.server.url, bodies, rate, durationMs: seconds * 1000, expect: target.moveSucceeded });
  // Deliveries still on their way: wait until the count stops growing, at most 5 s.
  let after = await load.stats();
  for (let waited = 0; waited < 5_000; waited += 200) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const next = await load.stats();
    if (next.received === after.received) break;
    after = next;
  }
  const elapsed = (performance.now() - started) / 1000;
  const serverAfter = await target.server.cpu();
  const serverCpuSeconds = (serverAfter.user + serverAfter.system - serverBefore.user - serverBefore.system) / 1e6;
  // Each worker sends bodies from its own offset, so the expected count is estimated from the average fan-out.
  const averageFanOut = subscribersPerBody.reduce((sum, count) => sum + count, 0) / Math.max(1, subscribersPerBody.length);
  return {
    rate,
    achievedRate: published.succeeded / published.seconds,
    succeeded: published.succeeded,
    failed: published.failed,
    skipped: published.skipped,
    delivered: after.received,
    expected: Math.round(published.succeeded * averageFanOut),
    deliveriesPerSecond: after.received / published.seconds,
    delivery: percentiles(after.histogram),
    response: percentiles(published.histogram),
    serverCpu: serverCpuSeconds / elapsed,
    serverCpuPerRequestMs: (1000 * serverCpuSeconds) / Math.max(1, published.succeeded),
    generatorCpu: (after.cpuSeconds - before.cpuSeconds) / elapsed,
    errors: after.errors,
  };
}

/** Formats a number of milliseconds for tables. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value < 10 ? value.toFixed(1) : value.toFixed(0);
}

/** Formats a count with thousands separators. */
export function count(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}
