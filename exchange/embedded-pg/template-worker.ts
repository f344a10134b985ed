// The migrated template's database work (exchange/embedded-pg/template.ts), run as a child process (fork, with
// the parent's node flags: tsx under the tests): PGlite's WASM heap (a few hundred MB once initdb and the
// migrations have run) goes with the process, instead of staying in the exchange's resident memory for the rest
// of its life. A worker thread would do, but tsx's loader does not reach worker threads on Node 20.
import { PGlite } from '@electric-sql/pglite';
import pino from 'pino';
import postgres from 'postgres';
import { migrateGateway } from '../../gateway/migrate.js';
import { EmbeddedPgServer } from './server.js';

export interface TemplateWork {
  /** An empty directory: initdb and every migration run there. */
  readonly dir: string;
  readonly startParams: string[];
}

const work = JSON.parse(process.argv[2]) as TemplateWork;
const db = await PGlite.create({ dataDir: work.dir, startParams: work.startParams });
const server = new EmbeddedPgServer({ db, logger: pino({ level: 'silent' }) });
try {
  await server.start();
  const sql = postgres(server.url, { max: 1, onnotice: () => {} });
  try {
    await migrateGateway(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
} finally {
  await server.stop();
  await db.close();
}
