// The custody controls' schema (custody/migrations, component `custody`): applied by the chain service and the
// gateway (chain/migrate.ts applies it with the audit log's and the chain's own).

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Sql } from 'postgres';
import { migrate } from '../db/migrate.js';

export const CUSTODY_MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

export function migrateCustody(sql: Sql): Promise<number[]> {
  return migrate(sql, { component: 'custody', dir: CUSTODY_MIGRATIONS_DIR });
}
