import { generateKeyBetween, generateNKeysBetween } from 'fractional-indexing';

/**
 * Position keys order columns and cards without renumbering: a move writes
 * one row, whose new key sorts between its new neighbours' keys. Keys grow
 * when items keep landing between the same two neighbours. A key longer than
 * this many characters makes the parent rebalance all its children's keys.
 */
export const maxPositionLength = 50;

export function positionBetween(before: string | null | undefined, after: string | null | undefined): string {
  return generateKeyBetween(before ?? null, after ?? null);
}

/** Returns `count` short, evenly spread keys in ascending order. */
export function evenPositions(count: number): string[] {
  return generateNKeysBetween(null, null, count);
}

/**
 * Gives `siblings` (in their current order) short, evenly spread keys,
 * calling `apply` for each one whose key changes.
 */
export async function rebalance(siblings: { id: string; position: string }[], apply: (id: string, position: string) => Promise<void>): Promise<void> {
  const positions = evenPositions(siblings.length);
  for (const [index, sibling] of siblings.entries()) {
    if (sibling.position !== positions[index]) await apply(sibling.id, positions[index]!);
  }
}
