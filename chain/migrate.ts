// The chain service's schema: its migrations, applied by every process that needs its tables (the service, the
// gateway, the embedded exchange).

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Sql } from 'postgres';
import { migrate } from '../db/migrate.js';

export const CHAIN_MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

/** Applies the chain service's pending migrations; returns the versions applied. */
export function migrateChain(sql: Sql): Promise<number[]> {
  return migrate(sql, { component: 'chain', dir: CHAIN_MIGRATIONS_DIR });
}
