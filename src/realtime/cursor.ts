/**
 * Event cursors are opaque to clients. Inside, a cursor is the base64url of
 * `v1:<boardId>:<sequence>`; it resumes right after that event.
 */
export function encodeCursor(boardId: string, sequence: number): string {
  return Buffer.from(`v1:${boardId}:${sequence}`).toString('base64url');
}

/** Returns the board and sequence of a cursor, or null when it is not one this server issued. */
export function decodeCursor(cursor: string): { boardId: string; sequence: number } | null {
  const match = /^v1:([^:]+):(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) return null;
  return { boardId: match[1]!, sequence: Number(match[2]) };
}
