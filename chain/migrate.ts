// The chain service's schema: its migrations, applied by every process that needs its tables (the service, the
// gateway, the embedded exchange), after the audit log's (the service appends to it).

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Sql } from 'postgres';
import { migrate } from '../db/migrate.js';
import { migrateAudit } from '../audit/migrate.js';

export const CHAIN_MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

/** Applies the audit log's and the chain service's pending migrations; returns the chain versions applied. */
export async function migrateChain(sql: Sql): Promise<number[]> {
  await migrateAudit(sql);
  return migrate(sql, { component: 'chain', dir: CHAIN_MIGRATIONS_DIR });
}
