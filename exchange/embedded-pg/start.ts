// Opens the embedded PostgreSQL in `dir` and serves it on loopback. A new `dir` is filled from the migrated
// template (template.ts) rather than by initdb and the migrations. stop() closes client connections, then the database cleanly (a checkpoint: the next open needs no
// recovery).

import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { Logger } from 'pino';
import { EmbeddedPgServer } from './server.js';
import { copyFromTemplate, hasDatabase } from './template.js';

/**
 * PGlite's own start parameters plus a 32 MB buffer cache (PostgreSQL's default is 128 MB): the demo's data is a few
 * megabytes, and the WASM heap keeps every page it ever touched, so the smaller cache is RSS the process never takes.
 */
const START_PARAMS = [...PGlite.defaultStartParams, '-c', 'shared_buffers=32MB'];

export interface EmbeddedPostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres (no password: loopback only). */
  readonly url: string;
  readonly server: EmbeddedPgServer;
  stop(): Promise<void>;
}

export async function startEmbeddedPostgres(opts: {
  dir: string;
  logger: Logger;
  port?: number;
  onFatal?: (err: unknown) => void;
}): Promise<EmbeddedPostgres> {
  await mkdir(path.dirname(opts.dir), { recursive: true });
  if (!(await hasDatabase(opts.dir)))
    await copyFromTemplate(opts.dir, { startParams: START_PARAMS, logger: opts.logger });
  const db = await PGlite.create({ dataDir: opts.dir, startParams: START_PARAMS });
  const server = new EmbeddedPgServer({ db, logger: opts.logger, port: opts.port, onFatal: opts.onFatal });
  try {
    await server.start();
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
  let stopping: Promise<void> | null = null;
  return {
    url: server.url,
    server,
    stop: () =>
      (stopping ??= (async () => {
        await server.stop();
        await db.close();
      })()),
  };
}
