// Opens (creating on first use: initdb takes a few seconds) the embedded PostgreSQL in `dir` and serves it on
// loopback. stop() closes client connections, then the database cleanly (a checkpoint: the next open needs no
// recovery).

import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import type { Logger } from 'pino';
import { EmbeddedPgServer } from './server.js';

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
  await mkdir(opts.dir, { recursive: true });
  const db = await PGlite.create({ dataDir: opts.dir });
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
