// Hot standby engines on one real Kafka broker and Redis (the writer lease): the writer killed at seeded points
// while commands flow (SIGKILL, and once a SIGSTOP past the election, so it resumes as a zombie), with two
// standbys at all times and only one promoted each time; and a standby fed a different command (the test-only
// fault hook) stops with ENGINE_STANDBY_DIVERGED. The events topic as consumers read it (deduplicated by seq) and
// the final state must equal one uninterrupted run. One broker for the file, fresh topics per test, short streams:
// the file must stay well under 90 s. A failure prints the seed; STANDBY_SEED=<seed> replays it.

import t from 'tap';
import type { Test } from 'tap';
import type { Kafka } from 'kafkajs';
import { restore } from '../../engine/core/index.js';
import { SnapshotStore, stateHash } from '../../engine/daemon/snapshot-store.js';
import { readEventsTail } from '../../kafka/event-stream.js';
import { startKafkaBroker } from '../../tools/kafka/broker.js';
import { Prng } from '../../testkit/prng.js';
import { produceAll, readEventsAsConsumer, readTopic } from './kafka-support.js';
import { eventsOfRecords, referenceRun, seededCommands, sleep, waitFor } from './recovery-support.js';
import { alive, failOver, prepareStandbys, snapshotsDirOf, startEngine, waitReady } from './standby-support.js';
import type { StandbyEngine, StandbySetup } from './standby-support.js';

const SEED = Number(process.env.STANDBY_SEED ?? 20261203);
const KILLS = Number(process.env.STANDBY_KILLS ?? 10);
/** At most this many commands: the stream flows until the last kill, then stops. */
const COMMANDS_MAX = 100_000;
/** Commands per second while the writer is killed: a real stream, small enough to verify quickly. */
const RATE_PER_SEC = 1_000;
/** Early in the stream: the faulty standby stops before the first kill could promote it. */
const FAULT_OFFSET = 600;

/** Produces the commands at RATE_PER_SEC in small sends, as gateways would, until told to stop; returns how many. */
async function producePaced(kafka: Kafka, topic: string, values: Uint8Array[], stop: () => boolean): Promise<number> {
  const perSend = RATE_PER_SEC / 20;
  let i = 0;
  for (; i < values.length && !stop(); i += perSend) {
    const startedMs = performance.now();
    await produceAll(kafka, topic, values.slice(i, i + perSend));
    await sleep(Math.max(0, 50 - (performance.now() - startedMs)));
  }
  return Math.min(i, values.length);
}

/** Waits for the events topic's last record to cover the last command. */
async function waitForEnd(s: StandbySetup, lastOffset: number, describe: () => string): Promise<void> {
  await waitFor(
    async () =>
      ((await readEventsTail(s.kafka, s.eventsTopic).catch(() => null))?.commandOffsetLast ?? -1) >= lastOffset,
    120_000,
    describe,
  );
}

/** The events as consumers see them and the final writer's state equal one uninterrupted run. */
async function verify(t: Test, s: StandbySetup, writer: StandbyEngine, lastOffset: number): Promise<void> {
  const stored = await readTopic(s.kafka, s.commandsTopic, lastOffset + 1, 60_000);
  const reference = referenceRun(stored);
  const { records } = await readEventsAsConsumer(s.kafka, s.eventsTopic, reference.events.length, 60_000);
  const events = eventsOfRecords(records);
  t.equal(events.length, reference.events.length, `as many events as one uninterrupted run (seed ${SEED})`);
  const firstDiff = events.findIndex((e, i) => e !== reference.events[i]);
  t.equal(firstDiff, -1, `events equal the uninterrupted run's, byte for byte (first difference at ${firstDiff})`);
  const newest = await new SnapshotStore({ dir: snapshotsDirOf(s, writer) }).loadNewest();
  t.equal(newest?.offset, lastOffset, "the last writer's clean stop leaves a snapshot of the last command");
  t.equal(newest === null ? null : stateHash(restore(newest.bytes)), reference.stateHash, 'the same state hash');
}

t.test('hot standby engines on Kafka', async (t) => {
  const broker = await startKafkaBroker({ extraConfig: { 'message.max.bytes': '8388608' } });
  t.teardown(() => broker.stop());

  t.test(`the writer killed at ${KILLS} seeded points (one SIGSTOP zombie), two standbys, seed ${SEED}`, async (t) => {
    const s = await prepareStandbys(t, broker);
    const rng = new Prng(SEED);
    const startedMs = performance.now();
    const phase = (what: string): void => t.comment(`${what} at ${Math.round(performance.now() - startedMs)} ms`);
    const values = seededCommands(SEED, COMMANDS_MAX);
    let killsDone = false;
    const engines: StandbyEngine[] = [];
    for (const name of ['e0', 'e1', 'e2', 'e3']) engines.push(await startEngine(t, s, name));
    await waitFor(
      async () => engines.some((e) => e.promoted),
      60_000,
      () => `no writer elected: ${engines.map((e) => e.proc.output()).join('\n')}`,
    );
    // A fifth engine, started once a writer holds the lease so that it stays a standby, is fed one different
    // command early in the stream: it must stop on its own.
    const faulty = await startEngine(t, s, 'faulty', { ENGINE_TEST_STANDBY_FAULT_OFFSET: String(FAULT_OFFSET) });
    for (const e of [...engines, faulty]) await waitReady(e);
    t.notOk(faulty.promoted, 'the faulty engine is a standby');
    phase('writer elected');
    const producing = producePaced(s.kafka, s.commandsTopic, values, () => killsDone);
    const faultyExit = await faulty.proc.exited;
    t.equal(
      faultyExit.code,
      1,
      `a standby fed a different command stops ${faultyExit.code === 1 ? '' : faulty.proc.output()}`,
    );
    t.match(faulty.proc.output(), /"code":"ENGINE_STANDBY_DIVERGED"/, 'with an alert carrying the stable code');
    t.notOk(faulty.promoted, 'it never wrote');
    phase('faulty standby stopped');
    const zombieAt = rng.int(0, KILLS - 1);
    for (let kill = 0; kill < KILLS; kill++) {
      await sleep(rng.int(100, 700)); // a seeded point of the stream
      const writer = engines.find((e) => e.promoted && alive(e));
      if (writer === undefined) throw new Error('no live writer');
      // At least two standbys following the writer at every kill; a third one may still be starting.
      await waitFor(
        async () => engines.filter((e) => e !== writer && alive(e) && e.proc.ready()).length >= 2,
        60_000,
        () => 'fewer than two standbys ready',
      );
      await failOver(t, s, engines, writer, { freeze: kill === zombieAt, kill });
    }
    killsDone = true;
    phase('kills done');
    const count = await producing;
    t.comment(`${count} commands in all`);
    await waitForEnd(s, count - 1, () => engines.map((e) => e.proc.output()).join('\n'));
    phase('all events written');
    const live = engines.filter(alive);
    t.equal(live.length, 4, 'no other standby stopped on its own (no divergence, no lost lease)');
    t.equal(
      engines.filter((e) => e.promoted).length,
      KILLS + 1,
      'one promotion per failover: never two standbys promoted at once',
    );
    const writer = live.find((e) => e.promoted);
    // A SIGTERM before a process installed its handlers would just kill it: the last replacement may be starting.
    for (const e of live) await waitReady(e);
    for (const e of live) e.proc.child.kill('SIGTERM');
    for (const e of live) t.equal((await e.proc.exited).code, 0, `${e.name} stops cleanly`);
    phase('stopped');
    if (writer === undefined) throw new Error('no writer at the end');
    await verify(t, s, writer, count - 1);
  });
});
