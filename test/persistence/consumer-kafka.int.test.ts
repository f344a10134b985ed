// The whole path on real services: commands topic -> engine daemon -> events topic -> persistence consumer ->
// PostgreSQL. The consumer is SIGKILLed at seeded points while the daemon still produces and restarted each
// time; in the end every row is there exactly once, the reconcile CLI (replaying the commands topic) agrees,
// and a tampered row makes it fail. A stream with a missing event stops the consumer with an error naming it.
// A failure prints the seed; PERSIST_SEED=<seed> replays it.

import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import type { Kafka } from 'kafkajs';
import { ensureTopics } from '../../kafka/topics.js';
import { kafkaClient } from '../../kafka/client.js';
import { decodeEventRecord, encodeCommand } from '../../engine/wire/codec.js';
import type { CommandInput } from '../../engine/wire/codec.js';
import { startKafkaBroker } from '../../tools/kafka/broker.js';
import { Projector } from '../../persistence/projector.js';
import type { SourceRecord } from '../../persistence/projector.js';
import { killPoints, raceTimeout, sleep, startDaemon, waitFor } from '../daemon/recovery-support.js';
import { createTestDatabase } from '../../testkit/pg.js';
import type { TestDatabase } from '../../testkit/pg.js';
import { ledgerViolations } from './ledger-checks.js';
import { spawnTs } from '../../testkit/processes.js';
import { richStream } from './rich-stream.js';

const SEED = Number(process.env.PERSIST_SEED ?? 90210);
const COMMANDS = Number(process.env.PERSIST_COMMANDS ?? 15_000);
const KILLS = Number(process.env.PERSIST_KILLS ?? 6);

async function produce(kafka: Kafka, topic: string, values: (string | Buffer)[]): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  for (let i = 0; i < values.length; i += 2000)
    await producer.send({ topic, acks: -1, messages: values.slice(i, i + 2000).map((value) => ({ value })) });
  await producer.disconnect();
}

/** Every record of a topic (read_committed), until `idleMs` pass without a new one. */
async function readAll(kafka: Kafka, topic: string, idleMs: number): Promise<SourceRecord[]> {
  const consumer = kafka.consumer({ groupId: `test-reader-${randomUUID()}`, maxWaitTimeInMs: 100 });
  const out: SourceRecord[] = [];
  let last = Date.now();
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages)
          out.push({
            offset: Number(m.offset),
            timestampMs: Number(m.timestamp),
            events: decodeEventRecord(m.value ?? new Uint8Array(0)),
          });
        last = Date.now();
      },
    });
    while (Date.now() - last < idleMs) await sleep(100);
  } finally {
    await consumer.disconnect();
  }
  return out;
}

async function storedSeq(db: TestDatabase): Promise<number> {
  try {
    const [r] = await db.sql`SELECT last_seq FROM persistence_position WHERE id = 1`;
    return Number(r?.last_seq ?? 0);
  } catch {
    return 0; // not migrated yet
  }
}

t.test('persistence on Kafka', async (t) => {
  const broker = await startKafkaBroker();
  t.teardown(() => broker.stop());
  const kafka = kafkaClient([broker.brokers], 'persistence-test');
  const admin = kafka.admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());

  t.test(`${COMMANDS} commands, consumer SIGKILLed at ${KILLS} points, seed ${SEED}`, async (t) => {
    const id = `p-${randomUUID().slice(0, 8)}`;
    const topics = { commandsTopic: `${id}.commands`, eventsTopic: `${id}.events` };
    await ensureTopics(admin, topics);
    const stream = richStream(SEED, COMMANDS);
    const expectedSeq = stream.engine.eventSeq;
    await produce(
      kafka,
      topics.commandsTopic,
      stream.commands.map(({ timeMs: _t, ...c }) => encodeCommand(c as CommandInput)),
    );
    const db = await createTestDatabase('persist_kafka');
    t.teardown(() => db.drop());
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'persist-kafka-'));
    t.teardown(() => rm(dataDir, { recursive: true, force: true }));
    const env = {
      KAFKA_BROKERS: broker.brokers,
      KAFKA_COMMANDS_TOPIC: topics.commandsTopic,
      KAFKA_EVENTS_TOPIC: topics.eventsTopic,
      DATABASE_URL: db.url,
    };
    const daemon = startDaemon({ ...env, DATA_DIR: dataDir, ENGINE_ID: id, ENGINE_BATCH_MAX: '200' });
    t.teardown(() => (daemon.child.exitCode === null ? void daemon.child.kill('SIGKILL') : undefined));

    let killedMidStream = 0;
    for (const point of killPoints(SEED, KILLS)) {
      const consumer = spawnTs('persistence/main.ts', { ...env, PERSISTENCE_BATCH_MAX: '40' });
      const target = Math.floor(point * expectedSeq);
      await waitFor(
        async () => (await storedSeq(db)) >= target || consumer.child.exitCode !== null,
        120_000,
        () => `progress to seq ${target}: ${consumer.output()}`,
      );
      await sleep(Math.floor(point * 1000) % 23);
      consumer.child.kill('SIGKILL');
      const exit = await consumer.exited;
      t.equal(
        exit.signal,
        'SIGKILL',
        `killed near seq ${target} ${exit.signal === 'SIGKILL' ? '' : consumer.output()}`,
      );
      if ((await storedSeq(db)) < expectedSeq) killedMidStream++;
      const v = await ledgerViolations(db.sql);
      t.same(
        v,
        { unbalancedAssets: [], balancesVsEntries: [], balancesVsLedger: [] },
        'the ledger balances at the kill point',
      );
    }
    t.ok(killedMidStream >= Math.min(3, KILLS), `${killedMidStream} kills before the end of the stream`);

    const last = spawnTs('persistence/main.ts', { ...env, LOG_LEVEL: 'info' });
    await waitFor(
      async () => (await storedSeq(db)) >= expectedSeq || last.child.exitCode !== null,
      120_000,
      () => `final run: ${last.output()}`,
    );
    await waitFor(
      async () => last.output().includes('persistence consuming'),
      30_000,
      () => last.output(),
    );
    last.child.kill('SIGTERM');
    t.equal((await last.exited).code, 0, `a clean stop exits 0 ${last.output().slice(-2000)}`);
    daemon.child.kill('SIGTERM');
    await daemon.exited;

    // What one uninterrupted projection of the topic makes: every table must hold exactly that.
    const reference = new Projector();
    const records = await readAll(kafka, topics.eventsTopic, 1500);
    const all = reference.project(records);
    t.equal(reference.position.lastSeq, expectedSeq, 'the daemon produced the whole stream');
    const [c] =
      await db.sql`SELECT (SELECT count(*) FROM trades)::int AS trades, (SELECT count(*) FROM orders)::int AS orders,
      (SELECT count(*) FROM ledger_entries)::int AS entries, (SELECT count(*) FROM deposits)::int AS deposits,
      (SELECT count(*) FROM withdrawals)::int AS withdrawals, (SELECT count(*) FROM order_rejections)::int AS rejections,
      (SELECT count(DISTINCT seq)::int FROM trades) AS trade_seqs, (SELECT last_seq FROM persistence_position)::int AS seq`;
    t.same(
      c,
      {
        trades: all.trades.length,
        orders: all.newOrders.length,
        entries: all.entries.length,
        deposits: all.deposits.length,
        withdrawals: all.withdrawals.length,
        rejections: all.rejections.length,
        trade_seqs: all.trades.length,
        seq: expectedSeq,
      },
      'no missing and no duplicated rows',
    );
    const [ids] = await db.sql`SELECT min(trade_id)::int AS lo, max(trade_id)::int AS hi FROM trades`;
    t.same(ids, { lo: 1, hi: all.trades.length }, 'trade ids are 1..n');

    const ok = spawnTs('persistence/reconcile.ts', env);
    t.equal((await ok.exited).code, 0, `reconcile agrees ${ok.output().slice(-2000)}`);
    const [victim] = await db.sql`SELECT user_id, asset_id FROM balances WHERE held > 0 ORDER BY user_id LIMIT 1`;
    await db.sql`UPDATE balances SET held = held - 1 WHERE user_id = ${victim.user_id} AND asset_id = ${victim.asset_id}`;
    const bad = spawnTs('persistence/reconcile.ts', env);
    t.equal((await bad.exited).code, 1, 'reconcile fails on a tampered row');
    t.match(
      bad.output(),
      `"userId":${victim.user_id},"assetId":${victim.asset_id},"account":"held"`,
      'and names the difference',
    );
  });

  t.test('an event it cannot apply stops the consumer with an error naming it', async (t) => {
    const topic = `p-${randomUUID().slice(0, 8)}.events`;
    await ensureTopics(admin, { commandsTopic: `${topic}.unused`, eventsTopic: topic });
    const stream = richStream(SEED, 300);
    const { encodeEventRecords } = await import('../../engine/wire/codec.js');
    const values = stream.records.filter((_, i) => i !== 150).flatMap((r) => encodeEventRecords(r.events));
    await produce(kafka, topic, values);
    const db = await createTestDatabase('persist_bad');
    t.teardown(() => db.drop());
    const consumer = spawnTs('persistence/main.ts', {
      KAFKA_BROKERS: broker.brokers,
      KAFKA_EVENTS_TOPIC: topic,
      DATABASE_URL: db.url,
    });
    const exit = await Promise.race([consumer.exited, raceTimeout(60_000).then(() => null)]);
    if (exit === null) consumer.child.kill('SIGKILL');
    t.equal(exit?.code, 1, `exits 1 ${consumer.output().slice(-1500)}`);
    const missing = stream.records[151].events[0];
    t.match(
      consumer.output(),
      `event seq ${missing.seq} (${missing.type}, cmdId "${missing.cmdId}")`,
      'names the event',
    );
    t.match(consumer.output(), 'EVENTS_SEQ_GAP', 'with its code (the shared events reader finds the gap)');
    t.equal(await storedSeq(db), stream.records[149].events.at(-1)?.seq, 'everything before it was stored');
  });
});
