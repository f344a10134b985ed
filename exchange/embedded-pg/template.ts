// A migrated PostgreSQL data directory kept under .cache/embedded-pg/<key>/, copied into a new data directory
// instead of running initdb and every migration there (seconds of WASM on each first start, and each test that
// starts an exchange on a fresh directory). The key covers what the directory's contents follow from: PGlite's
// version (its data format) and every migration file the embedded exchange applies; a change makes a new template.
// The components still run their migrations at start, which then find nothing to do. The template is made in a
// child process (template-worker.ts), so its PGlite's memory leaves with the process.

import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { AUDIT_MIGRATIONS_DIR } from '../../audit/migrate.js';
import { CHAIN_MIGRATIONS_DIR } from '../../chain/migrate.js';
import { repoCacheDir } from '../../config/paths.js';
import { CUSTODY_MIGRATIONS_DIR } from '../../custody/migrate.js';
import { loadMigrations } from '../../db/migrate.js';
import { GATEWAY_MIGRATIONS_DIR } from '../../gateway/migrate.js';
import { MIGRATIONS_DIR as PERSISTENCE_MIGRATIONS_DIR } from '../../persistence/state.js';
import type { TemplateWork } from './template-worker.js';

const require = createRequire(import.meta.url);
const HERE = path.dirname(fileURLToPath(import.meta.url));
/** Everything migrateGateway applies (it applies the persistence, audit, custody and chain schemas too). */
const MIGRATION_DIRS = [
  PERSISTENCE_MIGRATIONS_DIR,
  AUDIT_MIGRATIONS_DIR,
  CUSTODY_MIGRATIONS_DIR,
  CHAIN_MIGRATIONS_DIR,
  GATEWAY_MIGRATIONS_DIR,
];

export async function hasDatabase(dir: string): Promise<boolean> {
  return exists(path.join(dir, 'PG_VERSION'));
}

/**
 * Fills the empty data directory `dir` from the template, making the template first when there is none for the
 * current key. `startParams` are PGlite's, as the exchange opens it.
 */
export async function copyFromTemplate(dir: string, opts: { startParams: string[]; logger: Logger }): Promise<void> {
  const template = path.join(repoCacheDir(HERE, 'embedded-pg'), await templateKey());
  if (!(await hasDatabase(template))) await makeTemplate(template, opts);
  // Copied beside and renamed: a crash half-way leaves no directory that looks like a database.
  const copy = `${dir}.tmp-${process.pid}`;
  await rm(copy, { recursive: true, force: true });
  await cp(template, copy, { recursive: true });
  await rm(dir, { recursive: true, force: true });
  await rename(copy, dir);
}

async function templateKey(): Promise<string> {
  // The package does not export its package.json: read it beside the entry point (dist/index.cjs).
  const manifest = path.join(path.dirname(require.resolve('@electric-sql/pglite')), '..', 'package.json');
  const pglite = JSON.parse(await readFile(manifest, 'utf8')) as { name: string; version: string };
  if (pglite.name !== '@electric-sql/pglite') throw new Error(`${manifest} is not PGlite's package.json`);
  const hash = createHash('sha256').update(pglite.version);
  for (const dir of MIGRATION_DIRS) for (const m of await loadMigrations(dir)) hash.update(`${m.version}:${m.sha256}`);
  return hash.digest('hex').slice(0, 16);
}

/**
 * initdb and every migration in a directory of its own, renamed into place once the database is closed: exchanges
 * starting at once (the tests do) each make one, the first rename wins and the others drop theirs.
 */
async function makeTemplate(template: string, opts: { startParams: string[]; logger: Logger }): Promise<void> {
  const tmp = `${template}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  await runWorker({ dir: tmp, startParams: opts.startParams });
  try {
    await rename(tmp, template);
    opts.logger.info({ template }, 'made the migrated database template');
  } catch (err) {
    if (!(await hasDatabase(template))) throw err;
    await rm(tmp, { recursive: true, force: true });
  }
}

/** template-worker.ts as a child process; resolves when it exited cleanly. */
function runWorker(work: TemplateWork): Promise<void> {
  // The same extension as this module: .ts under tsx (the tests, npm run dev), .js from dist/.
  const ext = path.extname(fileURLToPath(import.meta.url));
  const child = fork(fileURLToPath(new URL(`./template-worker${ext}`, import.meta.url)), [JSON.stringify(work)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`making the database template: exit ${code ?? signal}`)),
    );
  });
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
