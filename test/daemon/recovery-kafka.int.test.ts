// The engine daemon on a real Kafka broker: SIGKILL at seeded points of a 100,000-command stream, a broker
// restart in the middle of a stream, and two daemons on the same partition at once (a zombie). The events topic
// as a consumer sees it (kafka/event-stream.ts: deduplicated by seq) and the final state must equal one
// uninterrupted run, with none lost and none doubled. A failure prints the seed; RECOVERY_SEED=<seed> replays it.

import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import type { Admin, Kafka } from 'kafkajs';
import { ensureTopics } from '../../kafka/topics.js';
import { kafkaClient } from '../../kafka/client.js';
import { readEventsTail } from '../../kafka/event-stream.js';
import { startKafkaBroker } from '../../tools/kafka/broker.js';
import type { KafkaBroker } from '../../tools/kafka/broker.js';
import {
  killPoints,
  raceTimeout,
  referenceRun,
  seededCommands,
  sleep,
  startDaemon,
  verifyAgainstReference,
  waitFor,
} from './recovery-support.js';
import type { StoredCommand } from './recovery-support.js';
import { produceAll, readEventsAsConsumer, readTopic } from './kafka-support.js';

const SEED = Number(process.env.RECOVERY_SEED ?? 20261124);
const COMMANDS = Number(process.env.RECOVERY_COMMANDS ?? 100_000);
const KILLS = Number(process.env.RECOVERY_KILLS ?? 12);
/** Short: the zombie test only needs both daemons to overlap for a while. */
const ZOMBIE_COMMANDS = 20_000;
const PROGRESS_POLL_MS = 100;

interface Topics {
  readonly commandsTopic: string;
  readonly eventsTopic: string;
  readonly engineId: string;
}

/**
 * Polls the events topic's last record: the highest command offset whose batch reached the topic. One-off reads
 * (no consumer lives across a broker restart); while the broker is away the last value stands.
 */
class ProgressWatcher {
  commandOffsetLast = -1;
  private stopped = false;
  private readonly running: Promise<void>;

  constructor(kafka: Kafka, topic: string) {
    this.running = this.loop(kafka, topic);
  }

  private async loop(kafka: Kafka, topic: string): Promise<void> {
    while (!this.stopped) {
      const tail = await readEventsTail(kafka, topic).catch(() => null);
      if (tail?.commandOffsetLast != null && tail.commandOffsetLast > this.commandOffsetLast)
        this.commandOffsetLast = tail.commandOffsetLast;
      await sleep(PROGRESS_POLL_MS);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }
}

interface Scenario {
  readonly broker: KafkaBroker;
  readonly kafka: Kafka;
  /** Polled every 50 ms while waiting for progress: one connection for the whole scenario. */
  readonly admin: Admin;
  readonly topics: Topics;
  readonly dataDir: string;
  readonly stored: StoredCommand[];
  readonly env: Record<string, string>;
  readonly progress: ProgressWatcher;
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
    KAFKA_BROKERS: broker.brokers,
    DATA_DIR: dataDir,
    ENGINE_ID: engineId,
    KAFKA_COMMANDS_TOPIC: topics.commandsTopic,
    KAFKA_EVENTS_TOPIC: topics.eventsTopic,
    ENGINE_SNAPSHOT_EVERY: '7000',
    ENGINE_BATCH_MAX: '500',
  };
  const progress = new ProgressWatcher(kafka, topics.eventsTopic);
  t.teardown(() => progress.stop());
  return { broker, kafka, admin, topics, dataDir, stored, env, progress };
}

/** Runs a daemon to the end of the stream, stops it cleanly, and checks its output against the reference. */
async function finishAndVerify(t: Test, s: Scenario): Promise<void> {
  const reference = referenceRun(s.stored);
  const last = s.stored.length - 1;
  const daemon = startDaemon({ ...s.env, LOG_LEVEL: 'info' });
  await waitFor(
    async () => s.progress.commandOffsetLast >= last,
    240_000,
    () => `final run: ${daemon.output()}`,
  );
  // A SIGTERM before the process has installed its handlers would just kill it: wait until it is consuming.
  await waitFor(
    async () => daemon.ready(),
    60_000,
    () => `final run start: ${daemon.output()}`,
  );
  // Its replay must reach the end first: the snapshot a clean stop leaves is then of the last command.
  await waitFor(
    async () => daemon.output().includes('caught up with the event log'),
    120_000,
    () => `final run replay: ${daemon.output()}`,
  );
  daemon.child.kill('SIGTERM');
  t.equal((await daemon.exited).code, 0, `a clean stop exits 0 ${daemon.output()}`);

  const { records, keptRecords } = await readEventsAsConsumer(
    s.kafka,
    s.topics.eventsTopic,
    reference.events.length,
    120_000,
  );
  const [bounds] = await s.admin.fetchTopicOffsets(s.topics.eventsTopic);
  t.comment(`events topic: ${bounds.high} records, ${keptRecords} of them with events a consumer had not seen`);
  const snapshotsDir = path.join(s.dataDir, 'snapshots', s.topics.engineId);
  await verifyAgainstReference(t, { records, reference, snapshotsDir, lastOffset: last, seed: SEED });
}

t.test('engine daemon on Kafka', async (t) => {
  const brokerDir = await mkdtemp(path.join(os.tmpdir(), 'engine-kafka-broker-'));
  t.teardown(() => rm(brokerDir, { recursive: true, force: true }));
  // The data dir outlives a stop so the broker can be restarted on it.
  const broker = await startKafkaBroker({
    dataDir: brokerDir,
    removeDataDirOnStop: false,
    extraConfig: { 'message.max.bytes': '8388608' },
  });
  t.teardown(() => broker.stop());

  t.test(`${COMMANDS} commands, SIGKILL at ${KILLS} points, seed ${SEED}`, async (t) => {
    const s = await prepare(t, broker, COMMANDS);
    for (const point of killPoints(SEED, KILLS)) {
      const daemon = startDaemon(s.env);
      const target = Math.floor(point * s.stored.length);
      await waitFor(
        async () => s.progress.commandOffsetLast >= target || daemon.child.exitCode !== null,
        120_000,
        () => `progress to ${target}: ${daemon.output()}`,
      );
      await sleep(Math.floor(point * 1000) % 37);
      daemon.child.kill('SIGKILL');
      const exit = await daemon.exited;
      t.equal(
        exit.signal,
        'SIGKILL',
        `killed at offset ~${target} (seed ${SEED}) ${exit.signal === 'SIGKILL' ? '' : daemon.output()}`,
      );
    }
    await finishAndVerify(t, s);
  });

  t.test('two daemons on the same partition at once (a zombie), then one killed: every event once', async (t) => {
    const s = await prepare(t, broker, ZOMBIE_COMMANDS);
    const zombieDir = await mkdtemp(path.join(os.tmpdir(), 'engine-kafka-zombie-'));
    t.teardown(() => rm(zombieDir, { recursive: true, force: true }));
    // Same engine id and topics, snapshots of its own; both start from the events topic's (empty) tail and write
    // the whole stream, interleaved, until the first is killed half-way.
    const first = startDaemon({ ...s.env, LOG_LEVEL: 'info' });
    const zombie = startDaemon({ ...s.env, DATA_DIR: zombieDir, LOG_LEVEL: 'info' });
    await waitFor(
      async () => first.ready() && zombie.ready(),
      60_000,
      () => `start: ${first.output()} ${zombie.output()}`,
    );
    t.comment(`both daemons consuming at command offset ${s.progress.commandOffsetLast} of ${s.stored.length}`);
    await waitFor(
      async () => s.progress.commandOffsetLast >= ZOMBIE_COMMANDS / 2 || first.child.exitCode !== null,
      120_000,
      () => first.output(),
    );
    first.child.kill('SIGKILL');
    t.equal((await first.exited).signal, 'SIGKILL', `the first daemon was killed while both ran ${first.output()}`);
    await waitFor(
      async () => s.progress.commandOffsetLast >= s.stored.length - 1,
      240_000,
      () => `the zombie to the end: ${zombie.output()}`,
    );
    zombie.child.kill('SIGTERM');
    t.equal((await zombie.exited).code, 0, `the zombie stops cleanly ${zombie.output()}`);
    await finishAndVerify(t, s);
  });

  t.test('a broker restart in the middle of a stream loses nothing', async (t) => {
    const s = await prepare(t, broker, 30_000);
    const daemon = startDaemon(s.env);
    await waitFor(
      async () => s.progress.commandOffsetLast >= 8_000,
      120_000,
      () => daemon.output(),
    );
    await broker.stop();
    await sleep(2_000);
    const restarted = await startKafkaBroker({
      dataDir: brokerDir,
      removeDataDirOnStop: false,
      port: broker.port,
      controllerPort: broker.controllerPort,
      extraConfig: { 'message.max.bytes': '8388608' },
    });
    t.teardown(() => restarted.stop());
    // The same daemon process must reconnect and carry on to the end of the stream.
    await waitFor(
      async () => s.progress.commandOffsetLast >= s.stored.length - 1,
      240_000,
      () => `after the broker restart: ${daemon.output()}`,
    );
    t.equal(daemon.child.exitCode, null, 'the daemon never exited');
    daemon.child.kill('SIGTERM');
    const exit = await Promise.race([daemon.exited, raceTimeout(60_000).then(() => null)]);
    t.equal(
      exit?.code,
      0,
      `after a broker restart the daemon still stops cleanly and in bounded time ${exit?.code === 0 ? '' : daemon.output()}`,
    );
    if (exit === null) daemon.child.kill('SIGKILL');
    await finishAndVerify(t, s);
  });
});
