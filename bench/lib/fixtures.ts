/**
 * Benchmark data, written straight into a migrated Tandem database with
 * Prisma's bulk inserts: users with access tokens, one workspace, and boards
 * of three columns with cards. Going through GraphQL would take minutes for
 * the larger scenarios and measure nothing the benchmarks report.
 */
import { generateNKeysBetween } from 'fractional-indexing';
import { resolveTokenSecret } from '../../src/auth/secret.js';
import { AccessTokens } from '../../src/auth/tokens.js';
import { loadSettings } from '../../src/config.js';
import { dataDirectory, openDatabase } from '../../src/db/client.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { createLogger } from '../../src/observability/logger.js';
import { decodeGlobalID } from '@pothos/plugin-relay';
import { encodeGlobalID } from '../../src/schema/ids.js';

export interface BoardFixture {
  id: string;
  columnIds: string[];
  /** Card ids of each column, in position order. */
  cardIds: string[][];
}

export interface Fixture {
  /** One access token per user, all members of the workspace. */
  tokens: string[];
  boards: BoardFixture[];
}

const columnNames = ['To do', 'Doing', 'Done'];

/**
 * Fills the database at `databaseUrl` with `users` users and `boards`
 * boards of three columns holding `cardsPerColumn` cards each.
 */
export async function createFixture(databaseUrl: string, options: { users: number; boards: number; cardsPerColumn: number }): Promise<Fixture> {
  await migrateDatabase(databaseUrl);
  const settings = loadSettings({ ...process.env, DATABASE_URL: databaseUrl });
  const logger = createLogger('warn');
  const tokens = new AccessTokens(resolveTokenSecret(settings, dataDirectory(databaseUrl), logger), 86_400);
  const db = await openDatabase(databaseUrl);
  try {
    const run = Date.now().toString(36);
    const users = Array.from({ length: options.users }, (_, index) => ({
      id: `bench-user-${run}-${index}`,
      email: `bench-${run}-${index}@example.com`,
      emailKey: `bench-${run}-${index}@example.com`,
      displayName: `Bench user ${index}`,
      // No password sign-in happens: the tokens are issued below.
      passwordHash: 'bench-no-password',
    }));
    await db.user.createMany({ data: users });
    const sessions = users.map((user) => ({ id: `bench-session-${user.id}`, userId: user.id, refreshTokenHash: `bench-${user.id}`, expiresAt: new Date(Date.now() + 86_400_000) }));
    await db.session.createMany({ data: sessions });
    const workspaceId = `bench-workspace-${run}`;
    await db.workspace.create({ data: { id: workspaceId, name: 'Benchmarks' } });
    await db.membership.createMany({ data: users.map((user, index) => ({ workspaceId, userId: user.id, role: index === 0 ? 'OWNER' : 'MEMBER' })) });

    const boards: BoardFixture[] = [];
    const columnPositions = generateNKeysBetween(null, null, columnNames.length);
    const cardPositions = generateNKeysBetween(null, null, options.cardsPerColumn);
    const columnRows: { id: string; boardId: string; name: string; position: string }[] = [];
    const cardRows: { id: string; boardId: string; columnId: string; title: string; position: string; creatorId: string }[] = [];
    for (let b = 0; b < options.boards; b += 1) {
      const board: BoardFixture = { id: `bench-board-${run}-${b}`, columnIds: [], cardIds: [] };
      for (let c = 0; c < columnNames.length; c += 1) {
        const columnId = `${board.id}-column-${c}`;
        board.columnIds.push(columnId);
        columnRows.push({ id: columnId, boardId: board.id, name: columnNames[c]!, position: columnPositions[c]! });
        const cardIds = cardPositions.map((position, k) => {
          const id = `${columnId}-card-${k}`;
          cardRows.push({ id, boardId: board.id, columnId, title: `Card ${k + 1} of ${columnNames[c]}`, position, creatorId: users[0]!.id });
          return id;
        });
        board.cardIds.push(cardIds);
      }
      boards.push(board);
    }
    await db.board.createMany({ data: boards.map((board, index) => ({ id: board.id, workspaceId, name: `Board ${index + 1}` })) });
    for (let start = 0; start < columnRows.length; start += 5_000) await db.column.createMany({ data: columnRows.slice(start, start + 5_000) });
    for (let start = 0; start < cardRows.length; start += 5_000) await db.card.createMany({ data: cardRows.slice(start, start + 5_000) });
    const issued = await Promise.all(users.map((user, index) => tokens.issue(user.id, sessions[index]!.id)));
    return {
      tokens: issued.map((token) => token.token),
      boards: boards.map((board) => ({
        id: encodeGlobalID('Board', board.id),
        columnIds: board.columnIds.map((id) => encodeGlobalID('Column', id)),
        cardIds: board.cardIds.map((ids) => ids.map((id) => encodeGlobalID('Card', id))),
      })),
    };
  } finally {
    await db.$disconnect();
  }
}

/** Returns the database id inside a GraphQL global id. */
export function rawIdOf(globalId: string): string {
  return decodeGlobalID(globalId).id;
}
