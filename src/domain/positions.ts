import { generateKeyBetween } from 'fractional-indexing';

/**
 * Position keys order columns and cards without renumbering: a move writes
 * one row, whose new key sorts between its new neighbours' keys.
 */
export function positionBetween(before: string | null | undefined, after: string | null | undefined): string {
  return generateKeyBetween(before ?? null, after ?? null);
}
