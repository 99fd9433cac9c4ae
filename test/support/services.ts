import { Redis } from 'ioredis';

/** Redis for the tests: REDIS_URL, or the machine's default. */
export const testRedisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Checks that Redis responds to PING. Returns null when it does, or the reason to
 * print when the suite must be skipped. With REQUIRE_SERVICES=1 (set by
 * .ci/run), an unreachable Redis throws instead, failing the suite.
 */
export async function redisUnavailable(): Promise<string | null> {
  const client = new Redis(testRedisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
    return null;
  } catch (error) {
    const reason = `Redis at ${testRedisUrl} is unreachable (${(error as Error).message.replace(/\.$/, '')})`;
    if (process.env.REQUIRE_SERVICES === '1') throw new Error(`REQUIRE_SERVICES=1, but ${reason}.`);
    console.log(`Skipping the Redis suite: ${reason}. Start Redis or set REDIS_URL to run it.`);
    return reason;
  } finally {
    client.disconnect();
  }
}
