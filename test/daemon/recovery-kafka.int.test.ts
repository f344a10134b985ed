// The engine daemon on a real Kafka broker: SIGKILL at seeded points of a 100,000-command stream, and a broker
// restart in the middle of a stream. The committed events (read_committed) and the final state must equal one
// uninterrupted run, with none lost and none doubled. A failure prints the seed; RECOVERY_SEED=<seed> replays it.

import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import type { Admin, Kafka } from 'kafkajs';
import { ensureTopics, fetchCommittedOffset, kafkaClient } from '../../engine/daemon/kafka-log.js';
import { startKafkaBroker } from '../../tools/kafka/broker.js';
import type { KafkaBroker } from '../../tools/kafka/broker.js';
import { killPoints, referenceRun, seededCommands, sleep, startDaemon, verifyAgainstReference, waitFor } from './recovery-support.js';
import type { StoredCommand } from './recovery-support.js';
import { decodeEventRecord } from '../../engine/wire/codec.js';

const SEED = Number(process.env.RECOVERY_SEED ?? 20261124);
const COMMANDS = Number(process.env.RECOVERY_COMMANDS ?? 100_000);
const KILLS = Number(process.env.RECOVERY_KILLS ?? 12);
const READ_GRACE_MS = 2_000;

interface Topics {
  readonly commandsTopic: string;
  readonly eventsTopic: string;
  readonly engineId: string;
}

async function produceAll(kafka: Kafka, topic: string, values: Uint8Array[]): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  for (let i = 0; i < values.length; i += 2000) {
    await producer.send({ topic, acks: -1, messages: values.slice(i, i + 2000).map((v) => ({ value: Buffer.from(v) })) });
  }
  await producer.disconnect();
}

/**
 * Reads a topic from the start (read_committed) until `count` items arrived (`itemsOf` a record: 1 for a command,
 * its events for an events record), then goes on for a grace period: items past the expected count (a doubled
 * batch) must be seen, not cut off.
 */
async function readTopic(kafka: Kafka, topic: string, count: number, timeoutMs: number, itemsOf: (value: Buffer) => number = () => 1): Promise<StoredCommand[]> {
  const consumer = kafka.consumer({ groupId: `test-reader-${randomUUID()}`, maxWaitTimeInMs: 100 });
  const records: StoredCommand[] = [];
  let items = 0;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let done: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (done = resolve));
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          records.push({ value: m.value ?? new Uint8Array(0), timestampMs: Number(m.timestamp) });
          items += itemsOf(m.value ?? Buffer.alloc(0));
        }
        if (items >= count) done();
      },
    });
    await Promise.race([finished, sleep(timeoutMs).then(() => Promise.reject(new Error(`read ${items} of ${count} items of ${topic} in ${timeoutMs} ms`)))]);
    await sleep(READ_GRACE_MS);
  } finally {
    await consumer.disconnect();
  }
  return records;
}

const committedOffsetOf = (s: Scenario): Promise<number> => fetchCommittedOffset(s.admin, `${s.topics.engineId}.engine`, s.topics.commandsTopic);

interface Scenario {
  readonly broker: KafkaBroker;
  readonly kafka: Kafka;
  /** Polled every 50 ms while waiting for progress: one connection for the whole scenario. */
  readonly admin: Admin;
  readonly topics: Topics;
  readonly dataDir: string;
  readonly stored: StoredCommand[];
  readonly env: Record<string, string>;
}

async function prepare(t: Test, broker: KafkaBroker, count: number): Promise<Scenario> {
  const engineId = `engine-${randomUUID().slice(0, 8)}`;
  const topics = { commandsTopic: `${engineId}.commands`, eventsTopic: `${engineId}.events`, engineId };
  const kafka = kafkaClient([broker.brokers], 'recovery-test');
  const admin = kafka.admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  await ensureTopics(admin, topics);
  const values = seededCommands(SEED, count);
  await produceAll(kafka, topics.commandsTopic, values);
  const stored = await readTopic(kafka, topics.commandsTopic, values.length, 120_000);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'engine-kafka-recovery-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const env = {
    KAFKA_BROKERS: broker.brokers, DATA_DIR: dataDir, ENGINE_ID: engineId,
    KAFKA_COMMANDS_TOPIC: topics.commandsTopic, KAFKA_EVENTS_TOPIC: topics.eventsTopic,
    ENGINE_SNAPSHOT_EVERY: '7000', ENGINE_BATCH_MAX: '500',
  };
  return { broker, kafka, admin, topics, dataDir, stored, env };
}

/** Runs a daemon to the end of the stream, stops it cleanly, and checks its output against the reference. */
async function finishAndVerify(t: Test, s: Scenario): Promise<void> {
  const reference = referenceRun(s.stored);
  const last = s.stored.length - 1;
  const daemon = startDaemon({ ...s.env, LOG_LEVEL: 'info' });
  await waitFor(async () => (await committedOffsetOf(s).catch(() => -1)) >= last, 240_000, () => `final run: ${daemon.output()}`);
  // A SIGTERM before the process has installed its handlers would just kill it: wait until it is consuming.
  await waitFor(async () => daemon.ready(), 60_000, () => `final run start: ${daemon.output()}`);
  daemon.child.kill('SIGTERM');
  t.equal((await daemon.exited).code, 0, `a clean stop exits 0 ${daemon.output()}`);

  const eventsIn = (value: Buffer): number => decodeEventRecord(value).length;
  const records = (await readTopic(s.kafka, s.topics.eventsTopic, reference.events.length, 120_000, eventsIn)).map((r) => new TextDecoder().decode(r.value));
  const snapshotsDir = path.join(s.dataDir, 'snapshots', s.topics.engineId);
  await verifyAgainstReference(t, { records, reference, snapshotsDir, lastOffset: last, seed: SEED });
}

t.test('engine daemon on Kafka', async (t) => {
  const brokerDir = await mkdtemp(path.join(os.tmpdir(), 'engine-kafka-broker-'));
  t.teardown(() => rm(brokerDir, { recursive: true, force: true }));
  // The data dir outlives a stop so the broker can be restarted on it.
  const broker = await startKafkaBroker({ dataDir: brokerDir, removeDataDirOnStop: false, extraConfig: { 'message.max.bytes': '8388608' } });
  t.teardown(() => broker.stop());

  t.test(`${COMMANDS} commands, SIGKILL at ${KILLS} points, seed ${SEED}`, async (t) => {
    const s = await prepare(t, broker, COMMANDS);
    for (const point of killPoints(SEED, KILLS)) {
      const daemon = startDaemon(s.env);
      const target = Math.floor(point * s.stored.length);
      await waitFor(async () => (await committedOffsetOf(s).catch(() => -1)) >= target || daemon.child.exitCode !== null, 120_000, () => `progress to ${target}: ${daemon.output()}`);
      await sleep(Math.floor(point * 1000) % 37);
      daemon.child.kill('SIGKILL');
      const exit = await daemon.exited;
      t.equal(exit.signal, 'SIGKILL', `killed at offset ~${target} (seed ${SEED}) ${exit.signal === 'SIGKILL' ? '' : daemon.output()}`);
    }
    await finishAndVerify(t, s);
  });

  t.test('a broker restart in the middle of a stream loses nothing', async (t) => {
    const s = await prepare(t, broker, 30_000);
    const daemon = startDaemon(s.env);
    await waitFor(async () => (await committedOffsetOf(s).catch(() => -1)) >= 8_000, 120_000, () => daemon.output());
    await broker.stop();
    await sleep(2_000);
    const restarted = await startKafkaBroker({ dataDir: brokerDir, removeDataDirOnStop: false, port: broker.port, controllerPort: broker.controllerPort, extraConfig: { 'message.max.bytes': '8388608' } });
    t.teardown(() => restarted.stop());
    // The same daemon process must reconnect and carry on to the end of the stream.
    await waitFor(async () => (await committedOffsetOf(s).catch(() => -1)) >= s.stored.length - 1, 240_000, () => `after the broker restart: ${daemon.output()}`);
    t.equal(daemon.child.exitCode, null, 'the daemon never exited');
    daemon.child.kill('SIGTERM');
    const exit = await Promise.race([daemon.exited, sleep(60_000).then(() => null)]);
    t.equal(exit?.code, 0, `after a broker restart the daemon still stops cleanly and in bounded time ${exit?.code === 0 ? '' : daemon.output()}`);
    if (exit === null) daemon.child.kill('SIGKILL');
    await finishAndVerify(t, s);
  });
});
