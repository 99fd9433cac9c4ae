import { createApp, ListenError } from './app.js';
import { ConfigError, loadSettings } from './config.js';
import { createLogger } from './observability/logger.js';
import { DatabaseUnreachableError } from './db/client.js';
import { MigrationError } from './db/migrate.js';
import { BusConnectionError } from './realtime/redis-bus.js';

async function main(): Promise<void> {
  let settings;
  try {
    settings = loadSettings();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\nSee the settings table in README.md.\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(settings.logLevel);
  try {
    const app = await createApp(settings, { logger });
    try {
      await app.start();
    } catch (error) {
      await app.stop();
      throw error;
    }
    const shutdown = (signal: string) => {
      // A second signal gets Node's default handling, which ends the process at once.
      process.off('SIGINT', shutdown);
      process.off('SIGTERM', shutdown);
      logger.info({ signal, graceSeconds: settings.shutdownGraceSeconds }, 'stopping');
      app.stop().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'stop failed');
          process.exit(1);
        },
      );
    };
    process.on('SIGINT', shutdown);
    process.on('SIGTERM', shutdown);
  } catch (error) {
    const expected = [ConfigError, MigrationError, ListenError, BusConnectionError, DatabaseUnreachableError];
    if (expected.some((type) => error instanceof type)) {
      logger.fatal((error as Error).message);
    } else {
      logger.fatal({ err: error }, 'failed to start');
    }
    process.exit(1);
  }
}

await main();
