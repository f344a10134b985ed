// Versioned SQL migrations, applied in order at start. Each component (persistence, chain, ...) keeps its own
// directory of files named `NNNN_name.sql`; what was applied is recorded per component with the file's SHA-256,
// so applying twice is a no-op and an applied file that changed afterwards is refused rather than half-trusted.

import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Sql } from 'postgres';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sha256: string;
  readonly text: string;
}

export class MigrationError extends Error {
  constructor(
    readonly code:
      'MIGRATION_CHANGED' | 'MIGRATION_BAD_NAME' | 'MIGRATION_DUPLICATE_VERSION' | 'MIGRATION_UNKNOWN_APPLIED',
    message: string,
  ) {
    super(message);
    this.name = 'MigrationError';
  }
}

const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;
// Any constant works; it serialises concurrent starters (two gateways, a consumer) on one database.
const LOCK_KEY = 0x6d696772;

export async function loadMigrations(dir: string): Promise<Migration[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.sql')).sort();
  const out: Migration[] = [];
  for (const file of names) {
    const m = FILE_NAME.exec(file);
    if (m === null)
      throw new MigrationError(
        'MIGRATION_BAD_NAME',
        `${join(dir, file)}: migration files are named NNNN_lower_snake.sql`,
      );
    const text = await readFile(join(dir, file), 'utf8');
    const version = Number(m[1]);
    if (out.length > 0 && out[out.length - 1].version === version) {
      throw new MigrationError('MIGRATION_DUPLICATE_VERSION', `${dir}: two migrations with version ${m[1]}`);
    }
    out.push({ version, name: m[2], sha256: createHash('sha256').update(text).digest('hex'), text });
  }
  return out;
}

/**
 * Applies the component's pending migrations in one transaction with their records: all of them or none.
 * Returns the versions applied by this call (empty when the database was up to date).
 */
export async function migrate(sql: Sql, opts: { component: string; dir: string }): Promise<number[]> {
  const migrations = await loadMigrations(opts.dir);
  return sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${LOCK_KEY})`;
    await tx`CREATE TABLE IF NOT EXISTS schema_migrations (
      component text NOT NULL,
      version integer NOT NULL,
      name text NOT NULL,
      sha256 text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (component, version))`;
    const rows = await tx<{ version: number; name: string; sha256: string }[]>`
      SELECT version, name, sha256 FROM schema_migrations WHERE component = ${opts.component} ORDER BY version`;
    const known = new Map(migrations.map((m) => [m.version, m]));
    for (const row of rows) {
      const m = known.get(row.version);
      if (m === undefined) {
        throw new MigrationError(
          'MIGRATION_UNKNOWN_APPLIED',
          `${opts.component}: applied migration ${row.version} (${row.name}) is not in ${opts.dir}`,
        );
      }
      if (m.sha256 !== row.sha256) {
        throw new MigrationError(
          'MIGRATION_CHANGED',
          `${opts.component}: migration ${row.version}_${row.name} changed after it was applied; add a new migration instead`,
        );
      }
    }
    const done = new Set(rows.map((r) => r.version));
    const applied: number[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await tx.unsafe(m.text);
      await tx`INSERT INTO schema_migrations (component, version, name, sha256) VALUES (${opts.component}, ${m.version}, ${m.name}, ${m.sha256})`;
      applied.push(m.version);
    }
    return applied;
  });
}
