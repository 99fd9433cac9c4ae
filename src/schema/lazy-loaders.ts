import type { Database } from '../db/client.js';
import { createLoaders, type Loaders } from './context.js';

/**
 * Returns loaders that are created on first use. A subscription's own
 * context rarely executes anything itself (each event runs in a forked
 * context, or reuses a shared result), so an idle subscription has none.
 */
export function lazyLoaders(db: Database): Loaders {
  let loaders: Loaders | undefined;
  const created = () => (loaders ??= createLoaders(db));
  return {
    get user() {
      return created().user;
    },
    get board() {
      return created().board;
    },
    get column() {
      return created().column;
    },
    get card() {
      return created().card;
    },
    get comment() {
      return created().comment;
    },
  };
}
