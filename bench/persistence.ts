// `npm run bench:persistence`: the persistence consumer on a real Kafka broker and PostgreSQL. Prints one JSON line:
//   eventsPerSec     the consumer catching up on a pre-filled events topic (decode, project, write, commit)
//   copyLimitPerSec  a bare COPY of as many rows into a table like ledger_entries, in transactions of the same size
//                    (events per consumer transaction)
//   ratioVsCopy      eventsPerSec / copyLimitPerSec
//   lagMsP99         record appended to Kafka -> its batch committed in Postgres, with 10,000 events/s offered
//   consumerCpuUsPerEvent, pgCpuUsPerEvent  CPU time of this process (the consumer: kafkajs, decode, project, COPY
//                    text) and of its PostgreSQL backend per event while catching up; copyPgCpuUsPerRow the backend's
//                    per row of the bare COPY. CPU time moves much less than wall time when other processes load
//                    the machine: cpuRatioVsCopy = copyPgCpuUsPerRow / max(consumer, pg) per event is the steadier
//                    figure (the consumer and its backend run in parallel, so the busier one bounds the rate).
// The topic holds records as the daemon writes them: the events of a batch of commands (--engine-batch, the daemon's
// ENGINE_BATCH_MAX default) packed into records of about 120 KiB with the batch's cmdOffsets header; at the offered
// rate, a batch is what arrived in one 20 ms tick.
// Progress goes to stderr. Options: --commands N (seeded stream, default 100000), --seed, --lag-seconds, --rate,
// --batch (consumer records per transaction), --engine-batch.

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import pino from 'pino';
import type { IHeaders, Kafka, Producer } from 'kafkajs';
import { Engine } from '../engine/core/index.js';
import { ensureTopics } from '../kafka/topics.js';
import { kafkaClient } from '../kafka/client.js';
import { EventRecordPacker, encodeEvent } from '../engine/wire/codec.js';
import { COMMAND_OFFSETS_HEADER, commandOffsetsHeader } from '../kafka/event-stream.js';
import { PersistenceConsumer } from '../persistence/consumer.js';
import { connectPostgres } from '../persistence/db.js';
import { KafkaEventSource } from '../persistence/kafka-source.js';
import { startKafkaBroker } from '../tools/kafka/broker.js';
import { createTestDatabase } from '../testkit/pg.js';
import { intArg, log, parseArgs, round } from './measure.js';
import { STREAMS, generateStream } from './stream.js';

const args = parseArgs(process.argv.slice(2));
const COMMANDS = intArg(args, 'commands', 100_000);
const SEED = intArg(args, 'seed', 1);
const LAG_SECONDS = intArg(args, 'lag-seconds', 20);
const RATE_EVENTS_PER_SEC = intArg(args, 'rate', 10_000);
const BATCH_RECORDS_MAX = intArg(args, 'batch', 2000);
const ENGINE_BATCH_MAX = intArg(args, 'engine-batch', 1000);
/** The daemon's produce request size (engine/daemon/kafka-log.ts produceBytesMax). */
const SEND_BYTES_MAX = 900_000;
const silent = pino({ level: 'silent' });
const LOAD_AT_START = round(os.loadavg()[0], 2);

/**
 * The seeded stream as the daemon encodes it, per command: `texts[i]` is command i's events (encodeEvent, comma-joined)
 * and `eventCounts[i]` how many. Strings only: the 683,395 events as objects (bigint fields and all) would stay live in
 * this process, which runs the consumer, and every major collection of the consumer's heap would mark them again.
 */
interface EncodedCommands {
  readonly texts: string[];
  readonly eventCounts: Int32Array;
}

/** An events-topic record as the daemon writes it: a run of events and its batch's command offsets. */
interface DaemonRecord {
  readonly value: string;
  readonly headers: IHeaders;
}

/** The seeded stream (fees on, so every trade posts fees), encoded, and its records as the daemon writes them. */
function seededStream(): { commands: EncodedCommands; records: DaemonRecord[]; events: number } {
  const stream = generateStream({ ...STREAMS.shallow, feeBps: 10, seed: SEED, commands: COMMANDS });
  const engine = new Engine();
  const all = [...stream.setup, ...stream.commands];
  const commands: EncodedCommands = { texts: [], eventCounts: new Int32Array(all.length) };
  const records: DaemonRecord[] = [];
  let events = 0;
  // The daemon packs each engine batch event by event: a command's events may be cut across records.
  for (let first = 0; first < all.length; first += ENGINE_BATCH_MAX) {
    const last = Math.min(all.length, first + ENGINE_BATCH_MAX) - 1;
    const packer = new EventRecordPacker();
    for (let i = first; i <= last; i++) {
      const texts = engine.apply(all[i]).map(encodeEvent);
      for (const text of texts) packer.addEncoded(text);
      commands.texts.push(texts.join(','));
      commands.eventCounts[i] = texts.length;
      events += texts.length;
    }
    const headers = { [COMMAND_OFFSETS_HEADER]: commandOffsetsHeader(first, last) };
    for (const value of packer.take()) records.push({ value, headers });
  }
  return { commands, records, events };
}

/**
 * The records the daemon writes for commands [first, last], as one batch. Used for a lag tick's few hundred events,
 * which fit one record: whole commands are then cut exactly where the daemon cuts them (nowhere).
 */
function daemonRecords(commands: EncodedCommands, first: number, last: number): DaemonRecord[] {
  const packer = new EventRecordPacker();
  for (let i = first; i <= last; i++) packer.addEncoded(commands.texts[i]);
  const headers = { [COMMAND_OFFSETS_HEADER]: commandOffsetsHeader(first, last) };
  return packer.take().map((value) => ({ value, headers }));
}

/** Sends as the daemon does: requests of at most SEND_BYTES_MAX (under the broker's message.max.bytes). */
async function fill(producer: Producer, topic: string, records: readonly DaemonRecord[]): Promise<void> {
  for (let i = 0; i < records.length;) {
    let bytes = 0;
    let end = i;
    while (end < records.length && (end === i || bytes + records[end].value.length <= SEND_BYTES_MAX))
      bytes += records[end++].value.length;
    await producer.send({ topic, acks: -1, messages: records.slice(i, end) });
    i = end;
  }
}

/** A fresh one-partition events topic (ensureTopics also makes an unused commands topic beside it). */
async function createTopic(kafka: Kafka, prefix: string): Promise<string> {
  const topic = `${prefix}-${randomUUID().slice(0, 8)}`;
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, { commandsTopic: `${topic}.unused`, eventsTopic: topic });
  } finally {
    await admin.disconnect();
  }
  return topic;
}

/** User + system CPU µs of a process (all threads), from /proc. */
function cpuUsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000; // utime, stime in clock ticks (USER_HZ = 100)
}

const ownCpuUs = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/** The PostgreSQL backend behind a one-connection client (local server: its /proc entry is readable). */
async function backendPid(sql: ReturnType<typeof connectPostgres>): Promise<number> {
  const [row] = await sql<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
  return row.pid;
}

interface CatchUp {
  readonly eventsPerSec: number;
  readonly eventsPerBatch: number;
  readonly consumerCpuUsPerEvent: number;
  readonly pgCpuUsPerEvent: number;
}

/** The consumer catching up on the whole stream: events/s, the events of its average transaction, CPU per event. */
async function catchUp(
  kafka: Kafka,
  producer: Producer,
  records: readonly DaemonRecord[],
  events: number,
): Promise<CatchUp> {
  const topic = await createTopic(kafka, 'bench-persist');
  await fill(producer, topic, records);
  const db = await createTestDatabase('bench_persist');
  const sql = connectPostgres(db.url, { max: 1 });
  try {
    const source = new KafkaEventSource({ kafka, topic, groupId: 'bench' });
    let doneMs = 0;
    // Monotonic µs, the clock of node --cpu-prof profiles: the window to summarize (bench/cpu-profile.ts).
    let doneUs = 0n;
    let doneCpuUs = { own: 0, pg: 0 };
    const pgPid = await backendPid(sql);
    const consumer = new PersistenceConsumer({
      sql,
      source,
      logger: silent,
      batchRecordsMax: BATCH_RECORDS_MAX,
      onCommitted: ({ rows }) => {
        if (rows.position.lastSeq >= events) {
          doneMs = performance.now();
          doneUs = process.hrtime.bigint() / 1000n;
          doneCpuUs = { own: ownCpuUs(), pg: cpuUsOf(pgPid) };
          void consumer.stop();
        }
      },
    });
    const t0 = performance.now();
    const t0Us = process.hrtime.bigint() / 1000n;
    const cpu0 = { own: ownCpuUs(), pg: cpuUsOf(pgPid) };
    await consumer.run();
    // The first batch's own time counts too: measured from the consumer's start (after migrations and topics).
    log(
      `caught up on ${events} events in ${round(doneMs - t0)} ms (${consumer.batchesWritten} batches; monotonic us ${t0Us}-${doneUs})`,
    );
    return {
      eventsPerSec: (events / (doneMs - t0)) * 1000,
      eventsPerBatch: Math.round(events / consumer.batchesWritten),
      consumerCpuUsPerEvent: (doneCpuUs.own - cpu0.own) / events,
      pgCpuUsPerEvent: (doneCpuUs.pg - cpu0.pg) / events,
    };
  } finally {
    await sql.end({ timeout: 5 });
    await db.drop();
  }
}

/** A bare COPY of `rows` rows into a ledger_entries-like table: rows/s and the backend's CPU µs per row. */
async function copyLimit(rows: number, perTx: number): Promise<{ perSec: number; pgCpuUsPerRow: number }> {
  const db = await createTestDatabase('bench_copy');
  const sql = connectPostgres(db.url, { max: 1 });
  try {
    await sql`CREATE TABLE copy_probe (seq bigint NOT NULL, n smallint NOT NULL, asset_id integer NOT NULL, debit_kind smallint NOT NULL,
      debit_user bigint NOT NULL, credit_kind smallint NOT NULL, credit_user bigint NOT NULL, amount numeric(78,0) NOT NULL CHECK (amount > 0),
      reason text NOT NULL, ref_id text NOT NULL, posted_at timestamptz NOT NULL, PRIMARY KEY (seq, n))`;
    const at = new Date(1_700_000_000_000).toISOString();
    const pgPid = await backendPid(sql);
    const t0 = performance.now();
    const pg0 = cpuUsOf(pgPid);
    for (let i = 0; i < rows; i += perTx) {
      let text = '';
      for (let j = i; j < Math.min(rows, i + perTx); j++)
        text += `${j}\t0\t2\t2\t${j % 1000}\t1\t${(j + 7) % 1000}\t${1000n + BigInt(j)}\ttrade\t${j}\t${at}\n`;
      await sql.begin(async (tx) => {
        const stream = await tx`COPY copy_probe FROM STDIN`.writable();
        stream.end(text);
        await new Promise((resolve, reject) => stream.on('finish', resolve).on('error', reject));
      });
    }
    return { perSec: (rows / (performance.now() - t0)) * 1000, pgCpuUsPerRow: (cpuUsOf(pgPid) - pg0) / rows };
  } finally {
    await sql.end({ timeout: 5 });
    await db.drop();
  }
}

/**
 * Offers `RATE_EVENTS_PER_SEC` events/s: every 20 ms the commands due make one batch, written as the daemon writes
 * it; records append -> commit per record.
 */
async function lagP99(kafka: Kafka, producer: Producer, commands: EncodedCommands): Promise<number> {
  const topic = await createTopic(kafka, 'bench-persist-lag');
  const db = await createTestDatabase('bench_lag');
  const sql = connectPostgres(db.url, { max: 1 });
  const lags: number[] = [];
  try {
    const consumer = new PersistenceConsumer({
      sql,
      source: new KafkaEventSource({ kafka, topic, groupId: 'bench-lag', maxWaitTimeMs: 20 }),
      logger: silent,
      batchRecordsMax: BATCH_RECORDS_MAX,
      onCommitted: ({ records, committedMs }) => {
        for (const r of records) lags.push(committedMs - r.timestampMs);
      },
    });
    const running = consumer.run();
    const tickMs = 20;
    const startMs = Date.now();
    let next = 0;
    let offered = 0;
    let sentRecords = 0;
    while (Date.now() - startMs < LAG_SECONDS * 1000 && next < commands.texts.length) {
      const due = ((Date.now() - startMs) / 1000) * RATE_EVENTS_PER_SEC;
      const first = next;
      while (offered < due && next < commands.texts.length) offered += commands.eventCounts[next++];
      if (next > first) {
        const batch = daemonRecords(commands, first, next - 1);
        await fill(producer, topic, batch);
        sentRecords += batch.length;
      }
      await new Promise((r) => setTimeout(r, Math.max(0, tickMs - ((Date.now() - startMs) % tickMs))));
    }
    await waitUntil(() => lags.length >= sentRecords, 60_000);
    await consumer.stop();
    await running;
    log(`lag: ${lags.length} records, ${round(offered / LAG_SECONDS)} events/s offered`);
  } finally {
    await sql.end({ timeout: 5 });
    await db.drop();
  }
  lags.sort((a, b) => a - b);
  return lags[Math.min(lags.length - 1, Math.floor(lags.length * 0.99))];
}

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('the consumer did not catch up in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function main(): Promise<void> {
  log(`generating ${COMMANDS} commands (seed ${SEED})`);
  const { commands, records, events } = seededStream();
  log(`${events} events in ${records.length} records; starting a Kafka broker`);
  const broker = await startKafkaBroker();
  try {
    const kafka = kafkaClient([broker.brokers], 'bench-persistence');
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const caught = await catchUp(kafka, producer, records, events);
      const { eventsPerSec, eventsPerBatch } = caught;
      const copy = await copyLimit(events, eventsPerBatch);
      const copyLimitPerSec = copy.perSec;
      log(`COPY limit ${round(copyLimitPerSec)} rows/s (${eventsPerBatch} rows per transaction)`);
      const lagMsP99 = await lagP99(kafka, producer, commands);
      console.log(
        JSON.stringify({
          bench: 'persistence',
          seed: SEED,
          commands: COMMANDS,
          events,
          records: records.length,
          eventsPerBatch,
          eventsPerSec: Math.round(eventsPerSec),
          copyLimitPerSec: Math.round(copyLimitPerSec),
          ratioVsCopy: round(eventsPerSec / copyLimitPerSec, 3),
          consumerCpuUsPerEvent: round(caught.consumerCpuUsPerEvent, 2),
          pgCpuUsPerEvent: round(caught.pgCpuUsPerEvent, 2),
          copyPgCpuUsPerRow: round(copy.pgCpuUsPerRow, 2),
          cpuRatioVsCopy: round(copy.pgCpuUsPerRow / Math.max(caught.consumerCpuUsPerEvent, caught.pgCpuUsPerEvent), 3),
          lagMsP99: round(lagMsP99, 1),
          lagOfferedEventsPerSec: RATE_EVENTS_PER_SEC,
          loadAvg1mAtStart: LOAD_AT_START,
        }),
      );
    } finally {
      await producer.disconnect();
    }
  } finally {
    await broker.stop();
  }
}

main()
  .then(() => process.exit(0))
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
