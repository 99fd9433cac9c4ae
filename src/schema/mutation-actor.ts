import { createHash } from 'node:crypto';
import { ValidationError } from '../domain/errors.js';
import type { Actor } from '../domain/services.js';
import { idempotencyWindowSeconds } from '../domain/mutation.js';
import { requireViewer, type Context } from './context.js';

export const idempotencyKeyDescription = `Makes retries safe: a retry with the same key within ${idempotencyWindowSeconds / 3600} hours returns the first result and changes nothing more. 1 to 200 characters, unique per user; another input with the same key is rejected.`;

export const expectedVersionDescription = 'Change nothing and return a ConflictError with the current state unless the object is still at this version.';

/** Orders object keys by UTF-16 code units, independent of locale. */
function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/** Serialises a value with object keys sorted, so equal inputs hash equally. */
function stableJson(value: unknown): string {
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => compareKeys(a, b));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${stableJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/**
 * Returns the viewer as the actor of mutation `operation`, with the input's
 * idempotency key and a hash of the rest of the input when a key is given.
 *
 * @throws UnauthenticatedError, or ValidationError for a malformed key.
 */
export function mutationActor(ctx: Context, operation: string, input: { idempotencyKey?: string | null }): Actor {
  const viewer = requireViewer(ctx);
  const { idempotencyKey: key, ...rest } = input;
  if (key == null) return viewer;
  if (key.length === 0 || key.length > 200) {
    throw new ValidationError('input.idempotencyKey', 'input.idempotencyKey must be 1 to 200 characters long, such as a UUID.');
  }
  const requestHash = createHash('sha256').update(stableJson(rest)).digest('base64url');
  return { ...viewer, idempotency: { key, operation, requestHash } };
}
