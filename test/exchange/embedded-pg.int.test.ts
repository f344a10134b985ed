// The embedded PostgreSQL (PGlite behind exchange/embedded-pg/server.ts) with the components' real SQL: the
// persistence migrations and consumer (COPY FROM STDIN, temp staging tables, advisory locks, cursors) with the
// ledger checked after every batch and reconciled with the engine, the chain migrations and its advisory lock,
// several pools at once (what broke pglite-socket's own server), a client that dies inside a transaction, the
// connection limit, and a reopen that resumes at the stored position.

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import pino from 'pino';
import postgres from 'postgres';
import { CHAIN_MIGRATIONS_DIR, migrateChain } from '../../chain/migrate.js';
import { loadMigrations } from '../../db/migrate.js';
import { ArrayEventSource } from '../../persistence/array-source.js';
import { PersistenceConsumer } from '../../persistence/consumer.js';
import { connectPostgres } from '../../persistence/db.js';
import { reconcile } from '../../persistence/reconcile-core.js';
import { loadProjector } from '../../persistence/state.js';
import { startEmbeddedPostgres } from '../../exchange/embedded-pg/start.js';
import { ledgerViolations } from '../persistence/ledger-checks.js';
import { richStream } from '../persistence/rich-stream.js';

const SEED = Number(process.env.PERSIST_SEED ?? 7002);
const logger = pino({ level: 'silent' });

t.test(`persistence and chain SQL on the embedded PostgreSQL, resumed after a reopen (seed ${SEED})`, async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'embedded-pg-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const s = richStream(SEED, 4000);
  const half = Math.floor(s.records.length / 2);

  let pg = await startEmbeddedPostgres({ dir, logger });
  let sql = connectPostgres(pg.url, { max: 1 });
  const chainSql = postgres(pg.url, { max: 4, onnotice: () => {} });
  // A new data directory is a copy of the migrated template (exchange/embedded-pg/template.ts): every chain
  // migration ran on PGlite when the template was made, and applying them again finds nothing to do.
  const chainVersions = (await loadMigrations(CHAIN_MIGRATIONS_DIR)).map((m) => m.version);
  const recorded = await chainSql<{ version: number }[]>`
    SELECT version FROM schema_migrations WHERE component = 'chain' ORDER BY version`;
  t.same(
    recorded.map((r) => r.version),
    chainVersions,
    'the new database holds every chain migration',
  );
  t.same(await migrateChain(chainSql), [], 'and migrating again applies nothing');
  const [{ shared_buffers }] = await chainSql<{ shared_buffers: string }[]>`SHOW shared_buffers`;
  t.equal(shared_buffers, '32MB', 'a 32 MB buffer cache (the WASM heap keeps every page it touched)');
  const reserved = await chainSql.reserve();
  const [{ ok }] = await reserved`SELECT pg_try_advisory_lock(${0x63686e}, 1337) AS ok`;
  t.equal(ok, true, 'a session advisory lock is taken (the chain service holds one for its life)');

  // Other pools read while the consumer writes: cursors, transactions, plain queries, all interleaved.
  let noiseStop = false;
  let noiseQueries = 0;
  const noise = (async () => {
    while (!noiseStop) {
      await Promise.all([
        chainSql`SELECT count(*)::int AS n FROM chain_deposits`,
        chainSql.begin(async (tx) => {
          await tx`SELECT pg_advisory_xact_lock(${0x63686164})`;
          await tx`SELECT 1`;
        }),
        chainSql`SELECT relname FROM pg_class LIMIT 40`.cursor(7, () => undefined),
      ]);
      noiseQueries += 3;
    }
  })();
  const violations: unknown[] = [];
  let batches = 0;
  const first = new PersistenceConsumer({
    sql,
    source: new ArrayEventSource(s.records.slice(0, half)),
    logger,
    batchRecordsMax: 250,
    onCommitted: async () => {
      batches++;
      const v = await ledgerViolations(sql);
      if (v.unbalancedAssets.length + v.balancesVsEntries.length + v.balancesVsLedger.length > 0)
        violations.push({ batch: batches, ...v });
    },
  });
  await first.run();
  noiseStop = true;
  await noise;
  t.ok(batches >= 5, `${batches} batches written by COPY FROM STDIN`);
  t.ok(noiseQueries > 0, `${noiseQueries} queries of other pools ran in between`);
  t.same(violations, [], 'the ledger balanced after every batch');
  reserved.release();
  await chainSql.end({ timeout: 5 });
  await sql.end({ timeout: 5 });
  await pg.stop();

  pg = await startEmbeddedPostgres({ dir, logger });
  sql = connectPostgres(pg.url, { max: 1 });
  t.teardown(async () => {
    await sql.end({ timeout: 5 });
    await pg.stop();
  });
  const resumed = await loadProjector(sql);
  t.equal(resumed.position.sourceOffset, s.records[half - 1].offset, 'the reopened database has the stored position');
  // The whole stream again: the first half is recognised as applied and only the rest is written.
  const second = new PersistenceConsumer({
    sql,
    source: new ArrayEventSource(s.records),
    logger,
    batchRecordsMax: 500,
  });
  await second.run();
  const expected = s.records.slice(half).reduce((n, r) => n + r.events.length, 0);
  t.equal(second.eventsWritten, expected, 'after the reopen, only the second half is written');
  const report = await reconcile(sql, s.engine);
  t.same(report.differences, [], 'PostgreSQL balances = ledger = engine');
  const [c] =
    await sql`SELECT (SELECT count(*) FROM trades)::int AS trades, (SELECT last_seq FROM persistence_position)::int AS seq`;
  t.equal(c.seq, s.engine.eventSeq, "the position is the engine's last event");
  t.equal(c.trades, s.records.flatMap((r) => r.events).filter((e) => e.type === 'trade').length, 'one row per trade');
});

t.test(
  'a client that dies inside a transaction frees the session; the connection limit answers with an error',
  async (t) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'embedded-pg-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const pg = await startEmbeddedPostgres({ dir, logger });
    t.teardown(() => pg.stop());
    const a = postgres(pg.url, { max: 1, onnotice: () => {} });
    const b = postgres(pg.url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
    await a`CREATE TABLE t (x int)`;
    // a opens a transaction, writes, and its connection dies before COMMIT.
    const reserved = await a.reserve();
    await reserved`BEGIN`;
    await reserved`INSERT INTO t VALUES (1)`;
    const waiting = b`INSERT INTO t VALUES (2) RETURNING x`.execute(); // waits: a owns the session
    await waitFor(() => pg.server.stats.waiting === 1, 10_000);
    t.equal(pg.server.stats.waiting, 1, 'the other client waits while the transaction is open');
    await new Promise((r) => setTimeout(r, 200));
    t.equal(pg.server.stats.waiting, 1, 'and goes on waiting');
    await a.end({ timeout: 0 });
    const [row] = await waiting;
    t.equal(row.x, 2, 'the waiting client ran once the dead one was rolled back');
    const rows = await b`SELECT x FROM t ORDER BY x`;
    t.same(
      rows.map((r) => r.x),
      [2],
      "the dead client's uncommitted row is gone",
    );
    await b.end({ timeout: 5 });

    const many = postgres(pg.url, { max: 40, onnotice: () => {} });
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, () =>
        many.begin(async (tx) => {
          await tx`SELECT pg_sleep(0.01)`;
        }),
      ),
    );
    const refused = results
      .filter((r) => r.status === 'rejected')
      .map((r) => (r as PromiseRejectedResult).reason as { code?: string });
    t.ok(refused.length > 0, `${refused.length} connections over the limit (32) were refused`);
    t.ok(
      refused.every((e) => e.code === '53300'),
      'with too_many_connections (53300), not a dropped socket',
    );
    await many.end({ timeout: 5 });
  },
);

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}
