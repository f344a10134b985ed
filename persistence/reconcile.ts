// `npm run reconcile`: checks PostgreSQL against the ledger and the engine. The engine is rebuilt by replaying
// the commands topic (from the newest engine snapshot in SNAPSHOT_DIR that is not past the stored position, if
// given) up to the event seq the consumer stored. Exit 0 when everything agrees, 1 with the differences (one
// JSON line each) when not, 2 on bad configuration or when the comparison could not be made.

import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { kafkaClient } from '../kafka/client.js';
import type { CommandRecord } from '../engine/daemon/log.js';
import { SnapshotStore } from '../engine/daemon/snapshot-store.js';
import { Engine, restore } from '../engine/core/index.js';
import { ConfigError, readPersistenceConfig } from './config.js';
import { connectPostgres } from './db.js';
import { reconcile } from './reconcile-core.js';
import { replayToSeq } from './replay.js';

const PARTITION = 0;
const IDLE_END_MS = 5_000;

/** The commands topic from `fromOffset` on, ending after IDLE_END_MS without a new record (the log's end). */
async function* readCommands(kafka: Kafka, topic: string, fromOffset: number): AsyncGenerator<CommandRecord> {
  const consumer = kafka.consumer({ groupId: `reconcile.${randomUUID()}`, maxWaitTimeInMs: 200 });
  const queue: CommandRecord[] = [];
  let wake: (() => void) | null = null;
  let lastArrivalMs = Date.now();
  await consumer.connect();
  try {
    consumer.on(consumer.events.GROUP_JOIN, () =>
      consumer.seek({ topic, partition: PARTITION, offset: String(fromOffset) }),
    );
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages)
          queue.push({
            offset: Number(m.offset),
            value: m.value ?? new Uint8Array(0),
            timestampMs: Number(m.timestamp),
          });
        lastArrivalMs = Date.now();
        wake?.();
        // Back-pressure: the replay is slower than the fetch.
        while (queue.length > 50_000) await new Promise((r) => setTimeout(r, 20));
      },
    });
    for (;;) {
      const r = queue.shift();
      if (r !== undefined) {
        yield r;
        continue;
      }
      if (Date.now() - lastArrivalMs > IDLE_END_MS) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 200);
      });
    }
  } finally {
    await consumer.disconnect();
  }
}

async function startingPoint(
  snapshotDir: string | null,
  targetSeq: number,
): Promise<{ engine: Engine; offset: number }> {
  if (snapshotDir === null) return { engine: new Engine(), offset: -1 };
  for await (const s of new SnapshotStore({ dir: snapshotDir }).loadAll()) {
    const engine = restore(s.bytes);
    if (engine.eventSeq <= targetSeq) return { engine, offset: s.offset };
  }
  return { engine: new Engine(), offset: -1 };
}

async function main(): Promise<number> {
  const config = readPersistenceConfig();
  const sql = connectPostgres(config.databaseUrl, { max: 2 });
  try {
    const [pos] = await sql`SELECT last_seq FROM persistence_position WHERE id = 1`;
    const targetSeq = Number(pos.last_seq);
    const start = await startingPoint(config.snapshotDir, targetSeq);
    const kafka = kafkaClient(config.kafkaBrokers, 'reconcile');
    const engine = await replayToSeq(readCommands(kafka, config.commandsTopic, start.offset + 1), targetSeq, start);
    const report = await reconcile(sql, engine);
    for (const d of report.differences) console.log(JSON.stringify({ difference: d }));
    console.log(
      JSON.stringify({
        lastSeq: report.lastSeq,
        engineSeq: report.engineSeq,
        accountsChecked: report.accountsChecked,
        differences: report.differences.length,
      }),
    );
    return report.differences.length === 0 && report.lastSeq === report.engineSeq ? 0 : 1;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

main()
  .then((code) => process.exit(code))
  .catch((err) => {
    console.error(`reconcile: ${err instanceof ConfigError ? '' : 'failed: '}${(err as Error).message}`);
    process.exit(2);
  });
