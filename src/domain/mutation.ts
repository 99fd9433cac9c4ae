import { Prisma, type Transaction } from '../db/client.js';
import { commitWithEvents } from '../realtime/outbox.js';
import type { AppendEvent } from '../realtime/events.js';
import { ConflictError, ValidationError, type VersionedType } from './errors.js';
import type { Actor, Services } from './services.js';

/** How long a used idempotency key keeps returning its first result, in seconds: 24 hours. */
export const idempotencyWindowSeconds = 86_400;

/**
 * Runs a mutation in one transaction with its events (see commitWithEvents).
 *
 * With `actor.idempotency`, the first run stores its result under the key in
 * the same transaction. A retry with the key inside the window returns that
 * stored result without running `work`, so it changes nothing and logs no
 * event. The key with another operation or input is a ValidationError.
 */
export async function runMutation<T>(services: Services, actor: Actor, work: (tx: Transaction, append: AppendEvent) => Promise<T>): Promise<T> {
  const idempotency = actor.idempotency;
  if (!idempotency) return commitWithEvents(services, actor.userId, work);

  const attempt = () =>
    commitWithEvents(services, actor.userId, async (tx, append) => {
      const where = { userId_key: { userId: actor.userId, key: idempotency.key } };
      const existing = await tx.idempotencyRecord.findUnique({ where });
      if (existing && existing.createdAt.getTime() > Date.now() - idempotencyWindowSeconds * 1000) {
        if (existing.operation !== idempotency.operation || existing.requestHash !== idempotency.requestHash) {
          throw new ValidationError(
            'input.idempotencyKey',
            existing.operation === idempotency.operation
              ? `This idempotency key was already used for ${existing.operation} with other input; use a new key for a new request.`
              : `This idempotency key was already used for ${existing.operation}; use a new key for a new request.`,
          );
        }
        services.logger.debug({ userId: actor.userId, key: idempotency.key, operation: idempotency.operation }, 'idempotent retry returned the stored result');
        return JSON.parse(existing.result) as T;
      }
      if (existing) await tx.idempotencyRecord.delete({ where });
      const result = await work(tx, append);
      await tx.idempotencyRecord.create({
        data: { userId: actor.userId, key: idempotency.key, operation: idempotency.operation, requestHash: idempotency.requestHash, result: JSON.stringify(result) },
      });
      return result;
    });

  try {
    return await attempt();
  } catch (error) {
    // Of two concurrent first tries with one key, the loser's insert fails on
    // the primary key and its transaction rolls back. Its retry then finds
    // the winner's record.
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') return attempt();
    throw error;
  }
}

/**
 * Checks the client's expectedVersion against the object read in the
 * transaction; null or undefined skips the check.
 *
 * @throws ConflictError carrying the current object when the versions differ.
 */
// The read-then-write is atomic because the object was read after its
// board's lock (lockBoard): no other writer can change it before the commit.
export function checkVersion(typename: VersionedType, current: { id: string; version: number }, expectedVersion: number | null | undefined): void {
  if (expectedVersion == null || current.version === expectedVersion) return;
  if (expectedVersion < 1 || expectedVersion > current.version) {
    throw new ValidationError(
      'input.expectedVersion',
      `input.expectedVersion is ${expectedVersion}, but the ${typename.toLowerCase()} has only reached version ${current.version}; pass a version you read from the server.`,
    );
  }
  throw new ConflictError(typename, current, expectedVersion);
}

/** Deletes idempotency records older than the window; returns how many. */
export async function pruneIdempotencyRecords(services: Pick<Services, 'db'>, now = new Date()): Promise<number> {
  const { count } = await services.db.idempotencyRecord.deleteMany({
    where: { createdAt: { lt: new Date(now.getTime() - idempotencyWindowSeconds * 1000) } },
  });
  return count;
}
