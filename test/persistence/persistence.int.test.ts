// Persistence against a real PostgreSQL: migrations, a seeded stream written batch by batch with the ledger
// checked after every batch, reconciliation with the engine (and a tampered row making it fail), and a
// uint256-max amount stored and read back exactly.

import { cp, mkdtemp, rm, appendFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import pino from 'pino';
import { Engine, UINT256_MAX } from '../../engine/core/index.js';
import type { Command, EngineEvent } from '../../engine/core/index.js';
import { migrate } from '../../db/migrate.js';
import { ArrayEventSource } from '../../persistence/array-source.js';
import { PersistenceConsumer } from '../../persistence/consumer.js';
import { connectPostgres } from '../../persistence/db.js';
import type { SourceRecord } from '../../persistence/projector.js';
import type { EventSource } from '../../persistence/source.js';
import { reconcile } from '../../persistence/reconcile-core.js';
import { COMPONENT, MIGRATIONS_DIR, migratePersistence } from '../../persistence/state.js';
import { createTestDatabase } from '../../testkit/pg.js';
import { ledgerViolations } from './ledger-checks.js';
import { richStream } from './rich-stream.js';

const SEED = Number(process.env.PERSIST_SEED ?? 7001);
const logger = pino({ level: 'silent' });

t.test('migrations: from empty, again (no-op), and a changed file is refused', async (t) => {
  const db = await createTestDatabase('persist_mig');
  t.teardown(() => db.drop());
  t.same(await migratePersistence(db.sql), [1, 2, 3, 4], 'applies every migration on an empty database, in order');
  t.same(await migratePersistence(db.sql), [], 'a second run applies nothing');
  const [pos] = await db.sql`SELECT last_seq FROM persistence_position`;
  t.equal(Number(pos.last_seq), 0, 'the position starts at seq 0');
  // 0004 replaced the foreign keys to ledger_account_kinds with CHECKs: a kind outside 1..5 is still refused.
  const entry = (debitKind: number, creditKind: number) => db.sql`
    INSERT INTO ledger_entries VALUES (1, 0, 1, ${debitKind}, 0, ${creditKind}, 7, 5, 'deposit', 'd1', now())`;
  await t.rejects(entry(6, 1), { code: '23514' }, 'an entry debiting kind 6 is refused');
  await t.rejects(entry(5, 0), { code: '23514' }, 'an entry crediting kind 0 is refused');
  await t.rejects(
    db.sql`INSERT INTO ledger_balances VALUES (6, 0, 1, 0, 1)`,
    { code: '23514' },
    'a balance of kind 6 is refused',
  );
  await entry(5, 1);
  t.pass('a custody -> available entry is taken');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'persist-mig-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await cp(MIGRATIONS_DIR, dir, { recursive: true });
  await appendFile(path.join(dir, '0001_persistence.sql'), '\n-- edited\n');
  await t.rejects(migrate(db.sql, { component: COMPONENT, dir }), { code: 'MIGRATION_CHANGED' });
});

t.test(`a seeded stream written and reconciled, ledger checked after every batch (seed ${SEED})`, async (t) => {
  const db = await createTestDatabase('persist_stream');
  t.teardown(() => db.drop());
  const sql = connectPostgres(db.url, { max: 1 });
  t.teardown(() => sql.end({ timeout: 5 }));
  const s = richStream(SEED, 12_000);
  let batches = 0;
  const violations: unknown[] = [];
  const consumer = new PersistenceConsumer({
    sql,
    source: new ArrayEventSource(s.records),
    logger,
    batchRecordsMax: 500,
    onCommitted: async () => {
      batches++;
      const v = await ledgerViolations(db.sql);
      if (v.unbalancedAssets.length + v.balancesVsEntries.length + v.balancesVsLedger.length > 0)
        violations.push({ batch: batches, ...v });
    },
  });
  await consumer.run();
  t.ok(batches >= 20, `${batches} batches`);
  t.same(violations, [], 'the ledger balanced and matched the balances after every batch');

  const [counts] =
    await db.sql`SELECT (SELECT count(*) FROM trades)::int AS trades, (SELECT count(*) FROM orders)::int AS orders,
    (SELECT count(*) FROM order_rejections)::int AS rejections, (SELECT max(last_seq) FROM persistence_position)::int AS seq`;
  const all = s.records.flatMap((r) => r.events);
  t.equal(counts.trades, all.filter((e) => e.type === 'trade').length, 'one row per trade');
  t.equal(counts.orders, all.filter((e) => e.type === 'orderAccepted').length, 'one row per accepted order');
  t.equal(counts.rejections, all.filter((e) => e.type === 'orderRejected').length, 'one row per rejected order');
  t.equal(counts.seq, s.engine.eventSeq, 'the position is the last event');
  const [open] =
    await db.sql`SELECT count(*)::int AS n FROM orders WHERE status IN ('pendingTrigger', 'new', 'partiallyFilled')`;
  t.equal(open.n, s.engine.orders.size, 'open orders in Postgres are the engine open orders');

  const statuses = await db.sql`SELECT market_id, status FROM markets ORDER BY market_id`;
  t.same(
    statuses.map((r) => [r.market_id, r.status]),
    s.engine.markets.flatMap((m) => (m === undefined ? [] : [[m.marketId, m.status]])),
    'market status as the engine last set it',
  );
  const frozen = await db.sql`SELECT user_id FROM users WHERE frozen ORDER BY user_id`;
  const engineFrozen = [...s.engine.accounts.values()]
    .filter((a) => a.frozen)
    .map((a) => a.userId)
    .sort((a, b) => a - b);
  t.same(
    frozen.map((r) => Number(r.user_id)),
    engineFrozen,
    'frozen users as the engine last set them',
  );
  t.ok(
    all.some((e) => e.type === 'marketStatusChanged') && all.some((e) => e.type === 'userFrozenChanged' && e.frozen),
    'the stream exercised the venue controls',
  );

  const report = await reconcile(db.sql, s.engine);
  t.same(report.differences, [], 'Postgres balances = ledger = engine');
  t.ok(report.accountsChecked > 40, `${report.accountsChecked} accounts checked`);

  const [victim] =
    await db.sql`SELECT user_id, asset_id FROM balances WHERE available > 0 ORDER BY user_id, asset_id LIMIT 1`;
  await db.sql`UPDATE balances SET available = available + 1 WHERE user_id = ${victim.user_id} AND asset_id = ${victim.asset_id}`;
  const tampered = await reconcile(db.sql, s.engine);
  t.equal(tampered.differences.length, 1, 'a tampered balance is one difference');
  t.match(tampered.differences[0], { userId: Number(victim.user_id), assetId: victim.asset_id, account: 'available' });

  // A consumer restarted on the finished database applies nothing twice, even when its source sends every record
  // again from the start (the ArrayEventSource itself would skip what is at or below the stored offset).
  await db.sql`UPDATE balances SET available = available - 1 WHERE user_id = ${victim.user_id} AND asset_id = ${victim.asset_id}`;
  const everything = new ArrayEventSource(s.records);
  const redeliver: EventSource = {
    consume: (_after, n, onBatch) => everything.consume(-1, n, onBatch),
    stop: () => everything.stop(),
  };
  const again = new PersistenceConsumer({ sql, source: redeliver, logger, batchRecordsMax: 777 });
  await again.run();
  t.equal(again.eventsWritten, 0, 'a full redelivery writes nothing');
  t.same((await reconcile(db.sql, s.engine)).differences, [], 'still reconciled');
});

t.test('a uint256-max amount is stored and read back exactly', async (t) => {
  const db = await createTestDatabase('persist_u256');
  t.teardown(() => db.drop());
  const sql = connectPostgres(db.url, { max: 1 });
  t.teardown(() => sql.end({ timeout: 5 }));
  const e = new Engine();
  const ms = 1_760_000_000_000;
  const cmds: Command[] = [
    { v: 1, id: 'a', timeMs: ms, type: 'addAsset', assetId: 1, symbol: 'WEI', decimals: 18 },
    { v: 1, id: 'd', timeMs: ms, type: 'deposit', userId: 7, assetId: 1, amount: UINT256_MAX, depositId: 'max' },
    {
      v: 1,
      id: 'w',
      timeMs: ms,
      type: 'requestWithdrawal',
      userId: 7,
      assetId: 1,
      amount: UINT256_MAX - 1n,
      withdrawalId: 'w-max',
      destination: '0xabc',
    },
  ];
  const records: SourceRecord[] = cmds.map((c, i) => ({
    offset: i,
    timestampMs: ms,
    events: e.apply(c) as EngineEvent[],
  }));
  t.ok(
    records.every((r) => (r.events.at(-1) as { status: string }).status === 'accepted'),
    'the engine accepted them',
  );
  await new PersistenceConsumer({ sql, source: new ArrayEventSource(records), logger, batchRecordsMax: 10 }).run();
  const [dep] = await db.sql`SELECT amount::text AS amount FROM deposits WHERE deposit_id = 'max'`;
  t.equal(BigInt(dep.amount), UINT256_MAX, 'deposit amount');
  const [bal] =
    await db.sql`SELECT available::text AS available, pending::text AS pending FROM balances WHERE user_id = 7`;
  t.equal(BigInt(bal.available), 1n, 'available');
  t.equal(BigInt(bal.pending), UINT256_MAX - 1n, 'pending');
  const [custody] = await db.sql`SELECT balance::text AS balance FROM ledger_balances WHERE kind = 5 AND asset_id = 1`;
  t.equal(BigInt(custody.balance), UINT256_MAX, 'custody');
  t.same((await reconcile(db.sql, e)).differences, [], 'reconciled');
  await t.rejects(
    db.sql`INSERT INTO deposits VALUES ('over', 7, 1, ${(UINT256_MAX * 10n).toString()}, 'credited', 999, now())`,
    { code: '22003' },
    'NUMERIC(78,0) refuses more digits',
  );
});
