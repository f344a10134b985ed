// The audit log's schema (audit/migrations, component `audit`), applied by every process that appends to it or
// reads it: the gateway and the chain service (chain/migrate.ts applies it with the chain's own).

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Sql } from 'postgres';
import { migrate } from '../db/migrate.js';

export const AUDIT_MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

export function migrateAudit(sql: Sql): Promise<number[]> {
  return migrate(sql, { component: 'audit', dir: AUDIT_MIGRATIONS_DIR });
}
