import type { Database } from '../db/client.js';
import { createLoaders, type Loaders } from './context.js';

/**
 * Loaders that are created on first use. A subscription's own context
 * rarely executes anything itself (each event runs in a forked context, or
 * reuses a shared result), so an idle subscription has none. It is a class,
 * so that the getters live on its prototype and each instance has two fields.
 */
class LazyLoaders implements Loaders {
  private loaders: Loaders | undefined;

  constructor(private readonly db: Database) {}

  private created(): Loaders {
    return (this.loaders ??= createLoaders(this.db));
  }

  get user() {
    return this.created().user;
  }

  get board() {
    return this.created().board;
  }

  get column() {
    return this.created().column;
  }

  get card() {
    return this.created().card;
  }

  get comment() {
    return this.created().comment;
  }
}

/** Returns loaders that are created on first use (see LazyLoaders). */
export function lazyLoaders(db: Database): Loaders {
  return new LazyLoaders(db);
}
