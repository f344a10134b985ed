// The gateway's schema and the ones it reads and writes: persistence (users, orders, balances, ...), chain
// (deposit address slots) and its own (accounts, sessions, API keys; needs `users`). Each is idempotent and
// recorded per component by db/migrate.ts, so the persistence consumer and the chain service applying theirs too
// is harmless.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Sql } from 'postgres';
import { migrate } from '../db/migrate.js';
import { migrateChain } from '../chain/migrate.js';
import { migratePersistence } from '../persistence/state.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const GATEWAY_MIGRATIONS_DIR = path.join(HERE, 'migrations');

export async function migrateGateway(sql: Sql): Promise<{ persistence: number[]; chain: number[]; gateway: number[] }> {
  const persistence = await migratePersistence(sql);
  const chain = await migrateChain(sql);
  const gateway = await migrate(sql, { component: 'gateway', dir: GATEWAY_MIGRATIONS_DIR });
  return { persistence, chain, gateway };
}
