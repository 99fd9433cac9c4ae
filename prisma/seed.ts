/**
 * Adds a demo workspace: two users, a board with three columns and a few
 * cards, assignments and comments. Run with `npm run seed`; it reads the same
 * settings as the server (DATABASE_URL and so on). Running it again changes
 * nothing and prints the sign-in details again.
 *
 * NOTE: the events it logs reach subscribers of a running server only when
 * they resume from the log; the in-process bus does not cross processes.
 */
import path from 'node:path';
import { resolveTokenSecret } from '../src/auth/secret.js';
import { AccessTokens } from '../src/auth/tokens.js';
import { ConfigError, loadSettings } from '../src/config.js';
import { RateLimits } from '../src/domain/rate-limits.js';
import { dataDirectory, openDatabase } from '../src/db/client.js';
import { migrateDatabase } from '../src/db/migrate.js';
import { signIn, signUp } from '../src/domain/accounts.js';
import { createBoard } from '../src/domain/boards.js';
import { addComment } from '../src/domain/comments.js';
import { assignCard, createCard } from '../src/domain/cards.js';
import { createColumn } from '../src/domain/columns.js';
import type { Services } from '../src/domain/services.js';
import { addMember, createWorkspace } from '../src/domain/workspaces.js';
import { createLogger } from '../src/observability/logger.js';
import { Metrics } from '../src/observability/metrics.js';
import { encodeGlobalID } from '../src/schema/ids.js';
import { StreamRegistry } from '../src/realtime/board-stream.js';
import { createMemoryBus } from '../src/realtime/bus.js';
import { MemoryPresence } from '../src/realtime/presence.js';

const password = 'tandem-demo-password';
const people = [
  { email: 'ada@example.com', displayName: 'Ada Lovelace' },
  { email: 'grace@example.com', displayName: 'Grace Hopper' },
];

async function main() {
  const settings = loadSettings();
  const logger = createLogger(settings.logLevel === 'info' ? 'warn' : settings.logLevel);
  await migrateDatabase(settings.databaseUrl);
  const db = await openDatabase(settings.databaseUrl);
  const services: Services = {
    db,
    bus: createMemoryBus((error) => logger.error({ err: error }, 'event bus listener failed')),
    logger,
    tokens: new AccessTokens(resolveTokenSecret(settings, dataDirectory(settings.databaseUrl), logger), settings.accessTokenTtlSeconds),
    refreshTokenTtlSeconds: settings.refreshTokenTtlSeconds,
    streams: new StreamRegistry(),
    presence: new MemoryPresence(),
    subscriptionQueueLimit: settings.subscriptionQueueLimit,
    rateLimits: new RateLimits({ ...settings.rateLimits, redisPrefix: settings.redisPrefix }, logger),
    metrics: new Metrics({ processMetrics: false }),
  };

  const existing = await db.user.findUnique({ where: { emailKey: people[0]!.email } });
  if (existing) {
    process.stdout.write('The demo data is already there.\n');
  } else {
    const [ada, grace] = await Promise.all(people.map((person) => signUp(services, { ...person, password })));
    const adaActor = { userId: ada!.user.id, sessionId: '' };
    const graceActor = { userId: grace!.user.id, sessionId: '' };
    const workspace = await createWorkspace(services, adaActor, { name: 'Demo workspace' });
    await addMember(services, adaActor, { workspaceId: workspace.id, email: grace!.user.email, role: 'MEMBER' });
    const board = await createBoard(services, adaActor, { workspaceId: workspace.id, name: 'Launch plan' });
    const columns: Record<string, string> = {};
    for (const name of ['To do', 'Doing', 'Done']) {
      columns[name] = (await createColumn(services, adaActor, { boardId: board.id, name })).id;
    }
    const cards: [string, string, typeof adaActor][] = [
      ['To do', 'Write the release notes', adaActor],
      ['To do', 'Book the launch call', graceActor],
      ['To do', 'Translate the landing page', graceActor],
      ['Doing', 'Fix the sign-in redirect', adaActor],
      ['Doing', 'Load-test the board API', graceActor],
      ['Done', 'Pick a name', adaActor],
    ];
    for (const [column, title, actor] of cards) {
      const card = await createCard(services, actor, { columnId: columns[column]!, title });
      await assignCard(services, actor, { cardId: card.id, userId: actor.userId });
      if (column === 'Doing') {
        await addComment(services, actor === adaActor ? graceActor : adaActor, { cardId: card.id, body: 'How is this going?' });
      }
    }
    process.stdout.write('Added the demo workspace "Demo workspace" with the board "Launch plan".\n');
  }

  // Sign in once to prove the details work, and print a token for GraphiQL.
  const session = await signIn(services, { email: people[0]!.email, password });
  const board = await db.board.findFirstOrThrow({ where: { name: 'Launch plan', workspace: { name: 'Demo workspace' } } });
  process.stdout.write(`\nSign in as either user with the password "${password}":\n`);
  for (const person of people) process.stdout.write(`  ${person.displayName.padEnd(14)} ${person.email}\n`);
  process.stdout.write(`\nThe board "Launch plan" has the id ${encodeGlobalID('Board', board.id)}.\n`);
  process.stdout.write(`\nAn access token for ${people[0]!.email}, valid for ${settings.accessTokenTtlSeconds} seconds:\n${session.accessToken}\n`);
  await db.$disconnect();
}

main().catch((error) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(`Seeding failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  }
  process.exit(1);
});
