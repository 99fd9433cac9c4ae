import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import { ValidationError } from '../domain/errors.js';

export { encodeGlobalID };

/**
 * Decodes a global id of the expected type into the database id.
 *
 * @throws ValidationError naming `field` when the id is malformed or of another type.
 */
export function parseId(value: string, typename: string, field: string): string {
  let decoded: { typename: string; id: string };
  try {
    decoded = decodeGlobalID(value);
  } catch {
    throw new ValidationError(field, `${field} is not a valid ${typename} id; use an id returned by this API.`);
  }
  if (decoded.typename !== typename || decoded.id.length === 0) {
    throw new ValidationError(field, `${field} must be a ${typename} id, but got a ${decoded.typename || 'malformed'} id.`);
  }
  return decoded.id;
}

export function parseOptionalId(value: string | null | undefined, typename: string, field: string): string | undefined {
  return value == null ? undefined : parseId(value, typename, field);
}
