// Two engines, each owning half of the markets on commands and events topics of its own (a partition each), against
// one engine with all of the same commands: does a second engine add throughput here? (docs/scaling.md.) A real
// broker is started here. One run prints progress on stderr and exactly one JSON line on stdout.
//
//   npm run bench:two-engines
//   npm run bench:two-engines -- --commands 200000
// Options: --commands N per engine (200,000), --seed N.
//
// Each engine's stream is seededCommands (test/daemon's seeded stream: setup, one market, 50 users) with a seed of its
// own: engines share nothing, so their markets are disjoint by construction. The streams are produced first; then
// the daemons (engine/daemon/main.ts, no lease) start at once and the run ends when each events topic's last record
// covers its last command. Rate = all commands / wall time from the daemons' spawn to the last one done (polled
// every 200 ms), spawn and recovery included in both arms alike. `one` runs a single daemon on the two streams
// concatenated on one topic; the second stream's command ids are prefixed so it applies them all (its asset, market
// and deposit setup is then rejected as already done, and its orders trade in the same market as the first's).

import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import type { Admin, Kafka } from 'kafkajs';
import { kafkaClient } from '../kafka/client.js';
import { KafkaCommandWriter } from '../kafka/command-writer.js';
import { readEventsTail } from '../kafka/event-stream.js';
import { ensureTopics } from '../kafka/topics.js';
import { REPO_ROOT, seededCommands, sleep, startDaemon } from '../testkit/daemon-process.js';
import { kafkaVersion, startKafkaBroker } from '../tools/kafka/broker.js';
import { intArg, log, parseArgs, round } from './measure.js';

interface Arm {
  readonly env: Record<string, string>;
  readonly lastOffset: number;
}

async function prepareArm(kafka: Kafka, admin: Admin, brokers: string, values: Uint8Array[]): Promise<Arm> {
  const engineId = `two-${randomUUID().slice(0, 8)}`;
  const topics = { commandsTopic: `${engineId}.commands`, eventsTopic: `${engineId}.events` };
  await ensureTopics(admin, topics);
  const writer = new KafkaCommandWriter(kafka, topics.commandsTopic);
  await writer.connect();
  let lastOffset = -1;
  for (let i = 0; i < values.length; i += 1000)
    lastOffset = (await writer.append(values.slice(i, i + 1000))).pop() ?? lastOffset;
  await writer.close();
  const env = {
    KAFKA_BROKERS: brokers,
    ENGINE_ID: engineId,
    KAFKA_COMMANDS_TOPIC: topics.commandsTopic,
    KAFKA_EVENTS_TOPIC: topics.eventsTopic,
    DATA_DIR: await mkdtemp(path.join(tmpdir(), 'bench-two-engines-')),
    LOG_LEVEL: 'warn',
  };
  return { env, lastOffset };
}

/** Runs one daemon per arm at once; the wall seconds until every arm's events cover its last command. */
async function runArms(kafka: Kafka, arms: readonly Arm[]): Promise<number> {
  const startedMs = performance.now();
  const daemons = arms.map((a) => startDaemon(a.env));
  const done = arms.map(() => false);
  while (done.some((d) => !d)) {
    await sleep(200);
    for (let i = 0; i < arms.length; i++) {
      if (done[i]) continue;
      const tail = await readEventsTail(kafka, arms[i].env.KAFKA_EVENTS_TOPIC).catch(() => null);
      done[i] = (tail?.commandOffsetLast ?? -1) >= arms[i].lastOffset;
      if (daemons[i].child.exitCode !== null) throw new Error(`a daemon exited: ${daemons[i].output()}`);
    }
  }
  const wallSec = (performance.now() - startedMs) / 1000;
  for (const d of daemons) d.child.kill('SIGTERM');
  await Promise.all(daemons.map((d) => d.exited));
  for (const a of arms) await rm(a.env.DATA_DIR, { recursive: true, force: true });
  return wallSec;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const perEngine = intArg(args, 'commands', 200_000);
  const seed = intArg(args, 'seed', 20261203);
  const startedMs = performance.now();
  const loadStart = loadavg()[0];
  const broker = await startKafkaBroker({ extraConfig: { 'message.max.bytes': '8388608' } });
  const kafka = kafkaClient([broker.brokers], 'bench-two-engines');
  const admin = kafka.admin();
  await admin.connect();
  try {
    const a = seededCommands(seed, perEngine);
    // Ids of their own, so that the single engine, which gets both streams, applies every command of the second too.
    const b = seededCommands(seed + 1, perEngine).map((v) =>
      new TextEncoder().encode(new TextDecoder().decode(v).replace('"id":"', '"id":"b-')),
    );
    log(`two engines: ${a.length} + ${b.length} commands; ${cpus().length} cores, load ${loadStart.toFixed(2)}`);
    const one = await prepareArm(kafka, admin, broker.brokers, [...a, ...b]);
    const two = [await prepareArm(kafka, admin, broker.brokers, a), await prepareArm(kafka, admin, broker.brokers, b)];
    const total = a.length + b.length;
    const oneSec = await runArms(kafka, [one]);
    log(`one engine: ${total} commands in ${oneSec.toFixed(1)} s, load ${loadavg()[0].toFixed(1)}`);
    const twoSec = await runArms(kafka, two);
    log(`two engines: ${total} commands in ${twoSec.toFixed(1)} s, load ${loadavg()[0].toFixed(1)}`);
    const out = {
      bench: 'two-engines',
      node: process.version,
      kafka: kafkaVersion(),
      cores: cpus().length,
      loadAvg1: round(loadStart),
      loadAvg1End: round(loadavg()[0]),
      seed,
      commands: total,
      oneEngineCommandsPerSec: Math.round(total / oneSec),
      twoEnginesCommandsPerSec: Math.round(total / twoSec),
      ratioTwoVsOne: round(oneSec / twoSec, 3),
      commit: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim(),
      wallSec: round((performance.now() - startedMs) / 1000, 1),
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    await admin.disconnect().catch(() => undefined);
    await broker.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
