// Kafka benchmark: the engine daemon on a real broker (started here, with the C2 JIT: fastStartup off), against a
// passthrough of the same shape, and the end-to-end latency at a fixed offered load. One run prints progress on
// stderr and exactly one JSON line on stdout.
//
//   npm run bench:kafka
//   npm run bench:kafka -- --commands 100000 --rates 10000,1000 --seconds 15 --profile /tmp/kafka-prof
// Options: --seed N (20261124), --commands N (100,000), --batch-max N (1000, the daemon's ENGINE_BATCH_MAX
// default), --rates R,R (10000,1000 commands/s), --seconds N (10 per rate), --warmup-seconds N (3), --rounds N (2),
// --no-engine-output (skips both engineOutput runs), --daemon PATH (another entry point to compare with
// engine/daemon/main.ts; same env), --node-flags "..." (for every child; default the daemon's own DAEMON_NODE_FLAGS,
// given to the passthroughs too so the ratio stays fair),
// --profile DIR (every child runs with node --cpu-prof; summaries of the timed part go to stderr; a profiled
// run's numbers are not comparable with an unprofiled one's).
//
// Throughput. A seeded stream (seededCommands from test/daemon/recovery-support.ts) is produced once to a
// commands topic; each run below reads all of it from offset 0 into an events topic of its own, in a child
// process of its own started like the daemon (node --import tsx):
//   passthrough       KafkaCommandLog itself, each command written back unchanged: the shared partition reader
//                     (a fresh group positioned by seek), batches of --batch-max, each appended by the daemon's
//                     idempotent producer (acks=all, no transaction; awaited before the next batch, where the
//                     daemon pipelines), sends of at most SEND_MESSAGES_MAX messages. The daemon's loop with no
//                     engine: the limit of this machine.
//   passthroughNoTxn  a plain kafkajs consumer and an idempotent producer (reference for the passthrough).
//   engineOutput      KafkaCommandLog writing the daemon's own event records (computed before the run): the
//                     daemon minus the engine, i.e. what the output's size costs by itself.
//   daemon            engine/daemon/main.ts, env as in the recovery test.
// A first passthrough warms the broker up and is not reported. Passthrough and daemon then alternate --rounds
// times and the best run of each is reported (other processes only ever slow a run down); every run is listed.
// Rate = commands after the first batch / (record timestamp of the last event - that of the first event): from
// the first append's send to the last one's. cpuUsPerCommand = the child's CPU time (all threads) per command
// over that span: it moves much less than the rate when other processes load the machine.
//
// Latency, for each --rates entry: fresh topics, a fresh daemon, the setup commands, a warm-up (--warmup-seconds
// at up to 5,000/s, then drained), then --seconds at the rate. Commands are produced through KafkaCommandWriter,
// paced by a timer: one request in flight, carrying every command due by the time it leaves. A read_committed
// consumer on the events topic matches each commandResult to its command. Latency = consumed - the command's
// scheduled time, so a producer that falls behind shows in it too. A rate is `sustained` when the producer
// offered and the daemon completed at least 97% of it and every result arrived.
// Everything shares this machine's cores with the broker: the JSON carries CPU use per process (in cores) and the
// 1-minute load average; latencyAtHighestSustained gives a latency figure even when 10,000/s is not sustained.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Admin, Kafka } from 'kafkajs';
import { Engine } from '../engine/core/index.js';
import { DAEMON_NODE_FLAGS } from '../engine/daemon/config.js';
import { KafkaCommandLog, SEND_MESSAGES_MAX } from '../engine/daemon/kafka-log.js';
import { KafkaCommandWriter } from '../kafka/command-writer.js';
import { readEventsTail } from '../kafka/event-stream.js';
import { ensureTopics } from '../kafka/topics.js';
import { kafkaClient } from '../kafka/client.js';
import type { CommandRecord, EventRecord } from '../engine/daemon/log.js';
import { EventRecordPacker, decodeCommand, decodeEventRecord, encodeEvent } from '../engine/wire/codec.js';
import { kafkaVersion, startKafkaBroker } from '../tools/kafka/broker.js';
import type { KafkaBroker } from '../tools/kafka/broker.js';
import { seededCommands } from '../testkit/daemon-process.js';
import { formatSummary, summarizeProfileFile } from './cpu-profile.js';
import { collectGarbage, intArg, log, parseArgs, round } from './measure.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const THIS_FILE = fileURLToPath(import.meta.url);
const GOALS = { ratioVsPassthrough: 0.8, latencyMsP99: 10, atOfferedPerSec: 10_000 };
const PARTITION = 0;
/** Warm-up rate cap: enough to get the daemon's and the consumer's code optimized without a backlog. */
const WARMUP_RATE_MAX = 5_000;
/** A rate is sustained when produced and completed rates reach this share of it. */
const SUSTAINED_SHARE = 0.97;
const POLL_MS = 100;
/** Commands per produce request of the paced producer at most (as in produceAll). */
const PACED_SEND_MAX = 2000;
/** The fixed clock of precomputed events (engineOutput): same digit count as a real append time. */
const PRECOMPUTE_TIME_MS = 1_760_000_000_000;

// ---------------------------------------------------------------------------------------------------------------
// Small helpers

/** Monotonic µs on the clock of V8's CPU profiles (CLOCK_MONOTONIC, the same in every process). */
const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** Resolves after `ms` without keeping the process alive (the loser of a race must not delay the exit). */
const deadline = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

/** User + system CPU seconds of a process (all threads), from /proc; null when it is gone. */
function cpuSecondsOf(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return null;
  }
}

/** CPU use of the broker, the child and this process over a window, in cores (CPU seconds per wall second). */
class CpuWindow {
  private readonly t0 = performance.now();
  private readonly own0 = process.cpuUsage();
  private readonly broker0: number | null;
  private readonly child0: number | null;

  constructor(
    private readonly brokerPid: number,
    private readonly childPid?: number,
  ) {
    this.broker0 = cpuSecondsOf(brokerPid);
    this.child0 = cpuSecondsOf(childPid);
  }

  end(): {
    wallSec: number;
    brokerCores: number | null;
    childCores: number | null;
    childCpuSec: number | null;
    benchCores: number;
  } {
    const wallSec = (performance.now() - this.t0) / 1000;
    const cores = (a: number | null, b: number | null): number | null =>
      a === null || b === null ? null : round((b - a) / wallSec);
    const own = process.cpuUsage(this.own0);
    const child1 = cpuSecondsOf(this.childPid);
    return {
      childCpuSec: this.child0 === null || child1 === null ? null : child1 - this.child0,
      wallSec: round(wallSec, 3),
      brokerCores: cores(this.broker0, cpuSecondsOf(this.brokerPid)),
      childCores: cores(this.child0, cpuSecondsOf(this.childPid)),
      benchCores: round((own.user + own.system) / 1e6 / wallSec),
    };
  }
}

interface NodeChild {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

/** A node child started like the daemon (node --import tsx), with --cpu-prof when profiling. */
function spawnNode(
  script: string,
  args: string[],
  env: Record<string, string>,
  nodeFlags: string[],
  profile: { dir: string; name: string } | null,
): NodeChild {
  // A directory per child: tsx's loader thread writes a profile too, and a fixed file name would let it win.
  const profArgs = profile === null ? [] : ['--cpu-prof', `--cpu-prof-dir=${path.join(profile.dir, profile.name)}`];
  const child = spawn(process.execPath, [...nodeFlags, ...profArgs, '--import', 'tsx', script, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  liveChildren.add(child);
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      liveChildren.delete(child);
      resolve({ code, signal });
    }),
  );
  return { child, exited, output: () => output };
}

/** Children still running; killed if this process exits (a failed run must not leave a daemon behind). */
const liveChildren = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

async function stopChild(c: NodeChild, what: string): Promise<void> {
  if (c.child.exitCode !== null || c.child.signalCode !== null) return;
  // The daemon runs at LOG_LEVEL=warn: anything it printed (commit retries, say) belongs next to its numbers.
  if (c.output().trim() !== '') log(`  ${what} printed: ${c.output().trim().slice(0, 1000)}`);
  c.child.kill('SIGTERM');
  const exit = await Promise.race([c.exited, deadline(60_000).then(() => null)]);
  if (exit === null) {
    c.child.kill('SIGKILL');
    await c.exited;
    throw new Error(`${what} ignored SIGTERM for 60 s: ${c.output()}`);
  }
  if (exit.code !== 0) throw new Error(`${what} exited with ${exit.code ?? exit.signal}: ${c.output()}`);
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${describe()}`);
    await sleep(POLL_MS);
  }
}

/** The last command offset whose events reached `eventsTopic` (its last record's header), or -1. */
async function writtenOffset(kafka: Kafka, eventsTopic: string): Promise<number> {
  return (await readEventsTail(kafka, eventsTopic))?.commandOffsetLast ?? -1;
}

async function produceAll(kafka: Kafka, topic: string, values: Uint8Array[]): Promise<void> {
  const writer = new KafkaCommandWriter(kafka, topic);
  await writer.connect();
  for (let i = 0; i < values.length; i += 2000) await writer.append(values.slice(i, i + 2000));
  await writer.close();
}

interface Edge {
  readonly offset: number;
  readonly timestampMs: number;
  readonly value: Buffer;
}

/**
 * The first committed record of a topic and the last one (read_committed), found by seeking: reading a whole
 * events topic back would take longer than producing it.
 */
async function readEdges(kafka: Kafka, admin: Admin, topic: string): Promise<{ first: Edge; last: Edge }> {
  const [p] = await admin.fetchTopicOffsets(topic);
  const high = Number(p.high);
  const first = await readFrom(kafka, topic, 0, () => true);
  // The last data record sits at high - 1, or at high - 2 before a transaction's commit marker: the last record
  // of the batch that reaches either.
  const tail = await readFrom(
    kafka,
    topic,
    Math.max(0, high - 3000),
    (e, isBatchEnd) => isBatchEnd && e.offset >= high - 2,
  );
  return { first, last: tail };
}

async function readFrom(
  kafka: Kafka,
  topic: string,
  fromOffset: number,
  isWanted: (e: Edge, isBatchEnd: boolean) => boolean,
): Promise<Edge> {
  const consumer = kafka.consumer({ groupId: `bench-edges-${randomUUID()}`, maxWaitTimeInMs: 50 });
  consumer.on(consumer.events.GROUP_JOIN, () =>
    consumer.seek({ topic, partition: PARTITION, offset: String(fromOffset) }),
  );
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let found: (e: Edge) => void = () => undefined;
    const result = new Promise<Edge>((resolve) => (found = resolve));
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (let i = 0; i < batch.messages.length; i++) {
          const m = batch.messages[i];
          const e = { offset: Number(m.offset), timestampMs: Number(m.timestamp), value: m.value ?? Buffer.alloc(0) };
          if (isWanted(e, i === batch.messages.length - 1)) return found(e);
        }
      },
    });
    return await Promise.race([
      result,
      deadline(30_000).then(() =>
        Promise.reject(new Error(`no wanted record in ${topic} from offset ${fromOffset} in 30 s`)),
      ),
    ]);
  } finally {
    await consumer.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Child: the passthroughs

type PassthroughMode = 'txn' | 'notxn' | 'events';

/**
 * The daemon's events for each command of the stream, computed by an engine here (engineOutput's payload): one
 * string per command, its encoded events joined by commas, packed per batch as the daemon packs them.
 */
interface PrecomputedEvents {
  readonly texts: string[];
  readonly eventCount: number;
}

function precomputeEvents(values: Uint8Array[]): PrecomputedEvents {
  const engine = new Engine();
  const texts: string[] = [];
  let eventCount = 0;
  values.forEach((value, i) => {
    const decoded = decodeCommand(value, PRECOMPUTE_TIME_MS + i);
    const events = decoded.ok
      ? engine.apply(decoded.command)
      : engine.applyInvalid(decoded.id, PRECOMPUTE_TIME_MS + i, decoded.code);
    texts.push(events.map(encodeEvent).join(','));
    eventCount += events.length;
  });
  return { texts, eventCount };
}

/** A batch's event records from the precomputed texts, packed as the daemon packs them (cut between commands here). */
function recordsOf(p: PrecomputedEvents, batch: CommandRecord[]): EventRecord[] {
  const packer = new EventRecordPacker();
  for (const r of batch) packer.addEncoded(p.texts[r.offset]);
  return packer.take().map((value) => ({ key: '', value }));
}

interface ChildReport {
  readonly firstBatch: number;
  /** process.hrtime at the first and the last commit, in µs: the profile window. */
  readonly windowUs: [number, number];
  /** Wall ms from the end of the first commit to the end of the last one. */
  readonly commitSpanMs: number;
  readonly cpuSec: number;
}

async function runPassthroughChild(args: Map<string, string>): Promise<void> {
  const mode = args.get('mode') as PassthroughMode;
  const brokers = [args.get('brokers') as string];
  const commandsTopic = args.get('commands-topic') as string;
  const eventsTopic = args.get('events-topic') as string;
  const groupId = args.get('group') as string;
  const count = intArg(args, 'count', 0);
  const batchMax = intArg(args, 'batch-max', 1000);
  const events =
    mode === 'events'
      ? precomputeEvents(seededCommands(intArg(args, 'seed', 0), intArg(args, 'stream-commands', 0)))
      : null;
  if (events !== null && events.texts.length !== count)
    throw new Error(`precomputed ${events.texts.length} commands' events, the topic holds ${count}`);
  collectGarbage();

  let firstBatch = 0;
  let firstMs = 0;
  let firstUs = 0;
  let cpu0 = process.cpuUsage();
  const done = (records: CommandRecord[]): boolean => {
    if (firstBatch === 0) {
      firstBatch = records.length;
      firstMs = performance.now();
      firstUs = nowUs();
      cpu0 = process.cpuUsage();
    }
    return records[records.length - 1].offset >= count - 1;
  };
  const report = (): void => {
    const cpu = process.cpuUsage(cpu0);
    const r: ChildReport = {
      firstBatch,
      windowUs: [firstUs, nowUs()],
      commitSpanMs: performance.now() - firstMs,
      cpuSec: (cpu.user + cpu.system) / 1e6,
    };
    process.stdout.write(`${JSON.stringify(r)}\n`);
  };

  if (mode === 'notxn') {
    await passthroughNoTxn({ brokers, commandsTopic, eventsTopic, groupId, batchMax }, (records) => {
      if (!done(records)) return false;
      report();
      return true;
    });
    process.exit(0);
  }
  const commandLog = new KafkaCommandLog({
    brokers,
    clientId: groupId,
    commandsTopic,
    eventsTopic,
    groupIdPrefix: groupId,
  });
  await commandLog.connect();
  await commandLog.consume(0, batchMax, async (records) => {
    // kafkajs takes a Buffer value as well as a string one: the passthrough's bytes go out as they came in.
    const out: EventRecord[] =
      events === null
        ? records.map((r) => ({ key: '', value: r.value as unknown as string }))
        : recordsOf(events, records);
    await commandLog.commit(out, records[records.length - 1].offset, records[0].offset);
    if (done(records)) {
      report();
      // stop() waits for the batch in hand, i.e. this one: it must not be awaited from inside it.
      setImmediate(() => void commandLog.stop());
    }
  });
  process.exit(0);
}

/** KafkaCommandLog's consumer loop and send chunks with a plain idempotent producer: no transaction, no offsets. */
async function passthroughNoTxn(
  opts: { brokers: string[]; commandsTopic: string; eventsTopic: string; groupId: string; batchMax: number },
  onCommitted: (records: CommandRecord[]) => boolean,
): Promise<void> {
  const kafka = kafkaClient(opts.brokers, opts.groupId);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const consumer = kafka.consumer({
    groupId: `${opts.groupId}.reader.${randomUUID()}`,
    maxWaitTimeInMs: 50,
    sessionTimeout: 30_000,
  });
  let nextOffset = 0;
  consumer.on(consumer.events.GROUP_JOIN, () =>
    consumer.seek({ topic: opts.commandsTopic, partition: PARTITION, offset: String(nextOffset) }),
  );
  await consumer.connect();
  await consumer.subscribe({ topic: opts.commandsTopic, fromBeginning: true });
  let finished: () => void = () => undefined;
  const allDone = new Promise<void>((resolve) => (finished = resolve));
  let stopped = false;
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
      const records = batch.messages.filter((m) => Number(m.offset) >= nextOffset);
      for (let i = 0; i < records.length; i += opts.batchMax) {
        if (!isRunning() || isStale() || stopped) return;
        const chunk = records.slice(i, i + opts.batchMax);
        for (let j = 0; j < chunk.length; j += SEND_MESSAGES_MAX) {
          const messages = chunk
            .slice(j, j + SEND_MESSAGES_MAX)
            .map((m) => ({ key: '', value: m.value, partition: PARTITION }));
          await producer.send({ topic: opts.eventsTopic, acks: -1, messages });
        }
        nextOffset = Number(chunk[chunk.length - 1].offset) + 1;
        resolveOffset(String(nextOffset - 1));
        await heartbeat();
        const asRecords = chunk.map((m) => ({
          offset: Number(m.offset),
          value: m.value ?? Buffer.alloc(0),
          timestampMs: Number(m.timestamp),
        }));
        if (onCommitted(asRecords)) {
          stopped = true;
          finished();
          return;
        }
      }
    },
  });
  await allDone;
  await consumer.disconnect();
  await producer.disconnect();
}

// ---------------------------------------------------------------------------------------------------------------
// Parent: throughput

interface Setup {
  readonly broker: KafkaBroker;
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly tag: string;
  readonly seed: number;
  /** The `count` given to seededCommands (it adds setup and malformed records). */
  readonly streamCommands: number;
  readonly batchMax: number;
  /** The daemon's entry point (engine/daemon/main.ts unless --daemon names a variant to compare). */
  readonly daemonScript: string;
  /** Extra node flags for every child (daemon and passthroughs alike, so the ratio stays fair). */
  readonly nodeFlags: string[];
  readonly profileDir: string | null;
  readonly profiles: Profiled[];
}

interface Profiled {
  /** The child's profile directory: one file per thread, the main thread's has thread id 0 in its name. */
  readonly dir: string;
  /** The timed part of the child's life; start-up and shutdown are left out of the summary. */
  windowUs?: [number, number];
}

interface ThroughputRun {
  readonly commandsPerSec: number;
  /** Commands inside the timed span: all but the first batch. */
  readonly timedCommands: number;
  readonly spanMs: number;
  readonly events: number | null;
  /**
   * The child's CPU time (all its threads: GC helpers too) per timed command. Less sensitive than the rate to other
   * processes taking the machine's cores, so it is the better number to compare runs made at different loads.
   */
  readonly cpuUsPerCommand: number | null;
  readonly cpu: { childCores: number | null; brokerCores: number | null };
}

function profileFor(s: Setup, name: string): { dir: string; name: string } | null {
  if (s.profileDir === null) return null;
  s.profiles.push({ dir: path.join(s.profileDir, name) });
  return { dir: s.profileDir, name };
}

function setProfileWindow(s: Setup, windowUs: [number, number]): void {
  if (s.profileDir !== null) s.profiles[s.profiles.length - 1].windowUs = windowUs;
}

/** Rate from the events' record timestamps: commands after the first batch over first-to-last event. */
function rateFromEdges(
  first: Edge,
  last: Edge,
  commands: number,
  firstBatch: number,
): { commandsPerSec: number; timedCommands: number; spanMs: number } {
  const spanMs = last.timestampMs - first.timestampMs;
  const timedCommands = commands - firstBatch;
  return { commandsPerSec: Math.round((timedCommands / spanMs) * 1000), timedCommands, spanMs };
}

async function runPassthrough(
  s: Setup,
  name: string,
  mode: PassthroughMode,
  commandsTopic: string,
  commands: number,
): Promise<ThroughputRun> {
  const eventsTopic = `${s.tag}.${name}.events`;
  await ensureTopics(s.admin, { commandsTopic, eventsTopic });
  const args = [
    '--role',
    'passthrough',
    '--mode',
    mode,
    '--brokers',
    s.broker.brokers,
    '--commands-topic',
    commandsTopic,
    '--events-topic',
    eventsTopic,
    '--group',
    `${s.tag}.${name}`,
    '--count',
    String(commands),
    '--batch-max',
    String(s.batchMax),
    '--seed',
    String(s.seed),
    '--stream-commands',
    String(s.streamCommands),
  ];
  const child = spawnNode(THIS_FILE, args, {}, s.nodeFlags, profileFor(s, name));
  const cpu = new CpuWindow(s.broker.pid);
  const exit = await Promise.race([child.exited, deadline(240_000).then(() => null)]);
  const window = cpu.end();
  if (exit === null || exit.code !== 0) {
    child.child.kill('SIGKILL');
    throw new Error(
      `${name} ${exit === null ? 'did not finish in 240 s' : `exited with ${exit.code ?? exit.signal}`}: ${child.output()}`,
    );
  }
  const report = JSON.parse(child.output().trim().split('\n').pop() as string) as ChildReport;
  if (s.profileDir !== null) s.profiles[s.profiles.length - 1].windowUs = report.windowUs;
  const { first, last } = await readEdges(s.kafka, s.admin, eventsTopic);
  const rate = rateFromEdges(first, last, commands, report.firstBatch);
  if (report.firstBatch !== s.batchMax)
    log(`  note: ${name}'s first batch held ${report.firstBatch} commands, not ${s.batchMax}`);
  const childCores = round(report.cpuSec / (report.commitSpanMs / 1000));
  // The broker's share is over the child's whole life (start-up included), so it reads low.
  const cpuUsPerCommand = Math.round((report.cpuSec * 1e6) / rate.timedCommands);
  log(
    `  ${name}: ${rate.commandsPerSec} commands/s (${rate.timedCommands} in ${rate.spanMs} ms; child ${childCores} cores, ${cpuUsPerCommand} µs CPU/command; broker >= ${window.brokerCores} cores)`,
  );
  return { ...rate, events: null, cpuUsPerCommand, cpu: { childCores, brokerCores: window.brokerCores } };
}

function daemonEnv(
  s: Setup,
  engineId: string,
  commandsTopic: string,
  eventsTopic: string,
  dataDir: string,
): Record<string, string> {
  return {
    KAFKA_BROKERS: s.broker.brokers,
    DATA_DIR: dataDir,
    ENGINE_ID: engineId,
    KAFKA_COMMANDS_TOPIC: commandsTopic,
    KAFKA_EVENTS_TOPIC: eventsTopic,
    ENGINE_BATCH_MAX: String(s.batchMax),
  };
}

async function runDaemon(s: Setup, name: string, commandsTopic: string, commands: number): Promise<ThroughputRun> {
  const engineId = `${s.tag}.${name}`;
  const eventsTopic = `${engineId}.events`;
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bench-kafka-daemon-'));
  try {
    const daemon = spawnNode(
      s.daemonScript,
      [],
      daemonEnv(s, engineId, commandsTopic, eventsTopic, dataDir),
      s.nodeFlags,
      profileFor(s, name),
    );
    const offset = (): Promise<number> => writtenOffset(s.kafka, eventsTopic).catch(() => -1);
    const alive = (): boolean => daemon.child.exitCode === null;
    let firstSeen = -1;
    await waitFor(
      async () => (firstSeen = await offset()) >= 0 || !alive(),
      120_000,
      () => `daemon's first commit: ${daemon.output()}`,
    );
    const cpu = new CpuWindow(s.broker.pid, daemon.child.pid);
    const fromUs = nowUs();
    await waitFor(
      async () => (await offset()) >= commands - 1 || !alive(),
      240_000,
      () => `daemon at the end of the stream: ${daemon.output()}`,
    );
    const window = cpu.end();
    setProfileWindow(s, [fromUs, nowUs()]);
    if (!alive()) throw new Error(`the daemon exited early: ${daemon.output()}`);
    await stopChild(daemon, 'the daemon');
    const { first, last } = await readEdges(s.kafka, s.admin, eventsTopic);
    const rate = rateFromEdges(first, last, commands, Math.min(s.batchMax, commands));
    const events = lastEvent(last.value).seq;
    // The CPU window runs from the first poll that saw a commit (at offset firstSeen) to the one that saw the last.
    const cpuUsPerCommand =
      window.childCpuSec === null ? null : Math.round((window.childCpuSec * 1e6) / (commands - 1 - firstSeen));
    log(
      `  ${name}: ${rate.commandsPerSec} commands/s (${rate.timedCommands} in ${rate.spanMs} ms; ${events} events; daemon ${window.childCores} cores, ${cpuUsPerCommand} µs CPU/command; broker ${window.brokerCores} cores)`,
    );
    return {
      ...rate,
      events,
      cpuUsPerCommand,
      cpu: { childCores: window.childCores, brokerCores: window.brokerCores },
    };
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Parent: latency

interface LatencyRun {
  readonly offeredPerSec: number;
  readonly producedPerSec: number;
  readonly achievedPerSec: number;
  readonly sustained: boolean;
  readonly commands: number;
  readonly missing: number;
  readonly produceRequests: number;
  readonly latencyMs: { p50: number; p90: number; p99: number; p999: number; max: number };
  /** Where the time goes (record timestamps: 1 ms resolution): scheduled -> appended to the commands topic ->
   * the daemon's send of the result -> consumed. p50 / p99 of each leg. */
  readonly legsMs: { produce: [number, number]; engine: [number, number]; deliver: [number, number] };
  readonly cpu: { daemonCores: number | null; brokerCores: number | null; benchCores: number };
}

/** Arrival times of each command's result, indexed like the values; filled by an events consumer. */
class ResultTracker {
  readonly receivedMs: Float64Array;
  readonly appendedEpochMs: Float64Array;
  readonly daemonSentEpochMs: Float64Array;
  /** 1 for commands whose result can be matched (a command with no readable id gets a result with an empty one). */
  readonly tracked: Uint8Array;
  private readonly indexById = new Map<string, number>();

  constructor(values: Uint8Array[]) {
    this.receivedMs = new Float64Array(values.length);
    this.appendedEpochMs = new Float64Array(values.length);
    this.daemonSentEpochMs = new Float64Array(values.length);
    this.tracked = new Uint8Array(values.length);
    const decoder = new TextDecoder();
    values.forEach((v, i) => {
      const id = idOf(decoder.decode(v));
      if (id === null || this.indexById.has(id)) return;
      this.indexById.set(id, i);
      this.tracked[i] = 1;
    });
  }

  onBatch(messages: { key: Buffer | null; value: Buffer | null; timestamp: string }[], nowMs: number): void {
    for (const m of messages) {
      if (m.value === null) continue;
      for (const ev of decodeEventRecord(m.value)) {
        if (ev.type !== 'commandResult') continue;
        const i = this.indexById.get(ev.cmdId);
        if (i === undefined || this.receivedMs[i] > 0) continue;
        this.receivedMs[i] = nowMs;
        this.daemonSentEpochMs[i] = Number(m.timestamp);
        this.appendedEpochMs[i] = ev.timeMs;
      }
    }
  }

  allReceived(from: number, to: number): boolean {
    for (let i = from; i < to; i++) if (this.tracked[i] === 1 && this.receivedMs[i] === 0) return false;
    return true;
  }
}

function lastEvent(v: Buffer): { seq: number; timeMs: number } {
  const events = decodeEventRecord(v);
  return events[events.length - 1];
}

function idOf(text: string): string | null {
  try {
    const id = (JSON.parse(text) as { id?: unknown }).id;
    return typeof id === 'string' && id !== '' ? id : null;
  } catch {
    return null;
  }
}

/**
 * Produces values[from, to) at `ratePerSec`, each command at its own scheduled time; one request in flight, each
 * carrying every command due when it leaves (the adaptive batching a gateway in front of Kafka would do).
 */
async function pacedProduce(
  writer: KafkaCommandWriter,
  values: Uint8Array[],
  from: number,
  to: number,
  ratePerSec: number,
  scheduledMs: Float64Array,
): Promise<{ requests: number; lastAckMs: number }> {
  const t0 = performance.now() + 2;
  for (let i = from; i < to; i++) scheduledMs[i] = t0 + ((i - from) * 1000) / ratePerSec;
  let next = from;
  let requests = 0;
  while (next < to) {
    const now = performance.now();
    let end = next;
    // Bounded: a producer that fell behind (a loaded machine) would otherwise exceed the broker's request size.
    while (end < to && end - next < PACED_SEND_MAX && scheduledMs[end] <= now) end++;
    if (end === next) {
      await sleep(1);
      continue;
    }
    await writer.append(values.slice(next, end));
    requests++;
    next = end;
  }
  return { requests, lastAckMs: performance.now() };
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

async function runLatency(
  s: Setup,
  values: Uint8Array[],
  setupCount: number,
  ratePerSec: number,
  seconds: number,
  warmupSeconds: number,
): Promise<LatencyRun> {
  const engineId = `${s.tag}.latency-${ratePerSec}`;
  const topics = { commandsTopic: `${engineId}.commands`, eventsTopic: `${engineId}.events` };
  await ensureTopics(s.admin, topics);
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bench-kafka-latency-'));
  const tracker = new ResultTracker(values);
  const scheduledMs = new Float64Array(values.length);
  const consumer = s.kafka.consumer({ groupId: `${engineId}.latency-reader`, maxWaitTimeInMs: 50 });
  const writer = new KafkaCommandWriter(s.kafka, topics.commandsTopic);
  const daemon = spawnNode(
    s.daemonScript,
    [],
    daemonEnv(s, engineId, topics.commandsTopic, topics.eventsTopic, dataDir),
    s.nodeFlags,
    profileFor(s, `daemon-latency-${ratePerSec}`),
  );
  try {
    let joined: () => void = () => undefined;
    const isJoined = new Promise<void>((resolve) => (joined = resolve));
    consumer.on(consumer.events.GROUP_JOIN, () => joined());
    await consumer.connect();
    await consumer.subscribe({ topic: topics.eventsTopic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => tracker.onBatch(batch.messages, performance.now()),
    });
    await isJoined;
    await writer.connect();
    const drained = (from: number, to: number, timeoutMs: number, what: string): Promise<void> =>
      waitFor(
        async () => {
          if (daemon.child.exitCode !== null) throw new Error(`the daemon exited: ${daemon.output()}`);
          return tracker.allReceived(from, to);
        },
        timeoutMs,
        () => `${what} at ${ratePerSec}/s: ${daemon.output()}`,
      );

    for (let i = 0; i < setupCount; i += 2000) await writer.append(values.slice(i, Math.min(setupCount, i + 2000)));
    await drained(0, setupCount, 120_000, 'setup results');
    const warmupRate = Math.min(ratePerSec, WARMUP_RATE_MAX);
    const warmupEnd = setupCount + warmupRate * warmupSeconds;
    await pacedProduce(writer, values, setupCount, warmupEnd, warmupRate, scheduledMs);
    await drained(setupCount, warmupEnd, 60_000, 'warm-up results');

    const end = warmupEnd + ratePerSec * seconds;
    if (end > values.length) throw new Error(`the latency stream holds ${values.length} commands, ${end} needed`);
    log(`  ${ratePerSec}/s for ${seconds} s (after ${warmupSeconds} s of warm-up at ${warmupRate}/s)`);
    const cpu = new CpuWindow(s.broker.pid, daemon.child.pid);
    const fromUs = nowUs();
    const { requests, lastAckMs } = await pacedProduce(writer, values, warmupEnd, end, ratePerSec, scheduledMs);
    const window = cpu.end();
    setProfileWindow(s, [fromUs, nowUs()]);
    // A daemon that cannot keep up drains its backlog here; what it could not finish in time counts as missing.
    await drained(warmupEnd, end, Math.max(20_000, seconds * 4_000), 'measured results').catch((err: Error) =>
      log(`  ${err.message.slice(0, 200)}`),
    );
    return latencyStats(tracker, scheduledMs, warmupEnd, end, ratePerSec, requests, lastAckMs, window);
  } finally {
    await stopChild(daemon, `the latency daemon (${ratePerSec}/s)`).catch((err: Error) =>
      log(`  ${err.message.slice(0, 500)}`),
    );
    await consumer.disconnect();
    await writer.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

function latencyStats(
  tracker: ResultTracker,
  scheduledMs: Float64Array,
  from: number,
  to: number,
  ratePerSec: number,
  requests: number,
  lastAckMs: number,
  window: ReturnType<CpuWindow['end']>,
): LatencyRun {
  const latencies: number[] = [];
  const legs = { produce: [] as number[], engine: [] as number[], deliver: [] as number[] };
  let missing = 0;
  let lastReceivedMs = 0;
  for (let i = from; i < to; i++) {
    if (tracker.tracked[i] === 0) continue;
    const received = tracker.receivedMs[i];
    if (received === 0) {
      missing++;
      continue;
    }
    latencies.push(received - scheduledMs[i]);
    lastReceivedMs = Math.max(lastReceivedMs, received);
    const scheduledEpoch = performance.timeOrigin + scheduledMs[i];
    legs.produce.push(tracker.appendedEpochMs[i] - scheduledEpoch);
    legs.engine.push(tracker.daemonSentEpochMs[i] - tracker.appendedEpochMs[i]);
    legs.deliver.push(performance.timeOrigin + received - tracker.daemonSentEpochMs[i]);
  }
  const sorted = Float64Array.from(latencies).sort();
  const p5099 = (xs: number[]): [number, number] => {
    const s = Float64Array.from(xs).sort();
    return [round(percentile(s, 0.5), 1), round(percentile(s, 0.99), 1)];
  };
  const commands = to - from;
  const producedPerSec = Math.round((commands / (lastAckMs - scheduledMs[from])) * 1000);
  const achievedPerSec = Math.round((latencies.length / (lastReceivedMs - scheduledMs[from])) * 1000);
  const sustained =
    missing === 0 && producedPerSec >= SUSTAINED_SHARE * ratePerSec && achievedPerSec >= SUSTAINED_SHARE * ratePerSec;
  const run: LatencyRun = {
    offeredPerSec: ratePerSec,
    producedPerSec,
    achievedPerSec,
    sustained,
    commands,
    missing,
    produceRequests: requests,
    latencyMs: {
      p50: round(percentile(sorted, 0.5)),
      p90: round(percentile(sorted, 0.9)),
      p99: round(percentile(sorted, 0.99)),
      p999: round(percentile(sorted, 0.999)),
      max: round(sorted[sorted.length - 1] ?? NaN),
    },
    legsMs: { produce: p5099(legs.produce), engine: p5099(legs.engine), deliver: p5099(legs.deliver) },
    cpu: { daemonCores: window.childCores, brokerCores: window.brokerCores, benchCores: window.benchCores },
  };
  log(
    `  ${ratePerSec}/s: produced ${producedPerSec}/s, completed ${achievedPerSec}/s, sustained ${sustained}, missing ${missing}; latency p50 ${run.latencyMs.p50} ms, p99 ${run.latencyMs.p99} ms, max ${run.latencyMs.max} ms`,
  );
  log(
    `    legs p50/p99 ms: produce ${run.legsMs.produce.join('/')}, engine ${run.legsMs.engine.join('/')}, deliver ${run.legsMs.deliver.join('/')}; cores: daemon ${run.cpu.daemonCores}, broker ${run.cpu.brokerCores}, bench ${run.cpu.benchCores}`,
  );
  return run;
}

// ---------------------------------------------------------------------------------------------------------------
// Main

/** Takes `--node-flags VALUE` out of argv first: its value starts with -- itself, which parseArgs reads as a flag. */
function takeNodeFlags(argv: string[]): { rest: string[]; nodeFlags: string[] } {
  const at = argv.indexOf('--node-flags');
  if (at < 0) return { rest: argv, nodeFlags: [...DAEMON_NODE_FLAGS] };
  const value = argv[at + 1] ?? '';
  return { rest: [...argv.slice(0, at), ...argv.slice(at + 2)], nodeFlags: value.split(' ').filter((f) => f !== '') };
}

async function main(): Promise<void> {
  const { rest, nodeFlags } = takeNodeFlags(process.argv.slice(2));
  const args = parseArgs(rest);
  if (args.get('role') === 'passthrough') return runPassthroughChild(args);
  const seed = intArg(args, 'seed', 20261124);
  const streamCommands = intArg(args, 'commands', 100_000);
  const batchMax = intArg(args, 'batch-max', 1000);
  const rates = (args.get('rates') ?? '10000,1000').split(',').map((r) => Number(r.replace(/_/g, '')));
  if (rates.some((r) => !Number.isSafeInteger(r) || r <= 0))
    throw new Error(`--rates must be positive integers, got ${args.get('rates')}`);
  const seconds = intArg(args, 'seconds', 10);
  const rounds = Math.max(1, intArg(args, 'rounds', 2));
  const warmupSeconds = intArg(args, 'warmup-seconds', 3);
  const profileDir = args.has('profile') ? path.resolve(args.get('profile') as string) : null;
  const withEngineOutput = !args.has('no-engine-output');
  const daemonScript = path.resolve(args.get('daemon') ?? path.join(REPO_ROOT, 'engine/daemon/main.ts'));
  const startedMs = performance.now();

  log(
    `kafka bench: seed ${seed}, ${streamCommands} commands, batches of ${batchMax}, rates ${rates.join(', ')}/s; ${cpus().length} cores, load ${loadavg()[0].toFixed(2)}`,
  );
  const values = seededCommands(seed, streamCommands);
  const eventsPerCommand = precomputeEvents(values).eventCount / values.length;
  const latencySeed = seed + 1;
  const latencyNeeded = Math.max(...rates.map((r) => Math.min(r, WARMUP_RATE_MAX) * warmupSeconds + r * seconds));
  const latencyValues = seededCommands(latencySeed, latencyNeeded);
  const setupCount = latencyValues.findIndex((v) => !(idOf(new TextDecoder().decode(v)) ?? '').startsWith('setup-'));

  log('starting a Kafka broker (C2 JIT)');
  const broker = await startKafkaBroker({ fastStartup: false });
  const kafka = kafkaClient([broker.brokers], 'bench-kafka');
  const admin = kafka.admin();
  try {
    await admin.connect();
    log(`broker ${broker.brokers} ready in ${broker.startupMs} ms`);
    const s: Setup = {
      broker,
      kafka,
      admin,
      tag: `bench-${randomUUID().slice(0, 8)}`,
      seed,
      streamCommands,
      batchMax,
      daemonScript,
      nodeFlags,
      profileDir,
      profiles: [],
    };
    const commandsTopic = `${s.tag}.commands`;
    await ensureTopics(admin, { commandsTopic, eventsTopic: `${s.tag}.unused.events` });
    await produceAll(kafka, commandsTopic, values);
    const commands = values.length;
    log(`throughput: ${commands} commands (${eventsPerCommand.toFixed(2)} events each) on ${commandsTopic}`);

    await runPassthrough(s, 'warmup', 'txn', commandsTopic, commands);
    // Passthrough and daemon alternate, best of --rounds each: other processes on the machine only slow a run down.
    const passthroughs: ThroughputRun[] = [];
    const daemons: ThroughputRun[] = [];
    for (let round = 1; round <= rounds; round++) {
      passthroughs.push(await runPassthrough(s, `passthrough-${round}`, 'txn', commandsTopic, commands));
      daemons.push(await runDaemon(s, `daemon-${round}`, commandsTopic, commands));
    }
    const noTxn = await runPassthrough(s, 'passthrough-notxn', 'notxn', commandsTopic, commands);
    const engineOutput = withEngineOutput
      ? await runPassthrough(s, 'engine-output', 'events', commandsTopic, commands)
      : null;
    const best = (runs: ThroughputRun[]): number => Math.max(...runs.map((r) => r.commandsPerSec));
    const passthroughPerSec = best(passthroughs);
    const commandsPerSec = best(daemons);

    log(`latency: ${latencyValues.length - setupCount} commands of seed ${latencySeed} available`);
    const latency: LatencyRun[] = [];
    for (const rate of rates)
      latency.push(await runLatency(s, latencyValues, setupCount, rate, seconds, warmupSeconds));
    const atGoal = latency.find((l) => l.offeredPerSec === GOALS.atOfferedPerSec) ?? latency[0];
    const highestSustained = latency.filter((l) => l.sustained).sort((a, b) => b.offeredPerSec - a.offeredPerSec)[0];

    const out = {
      bench: 'kafka',
      node: process.version,
      kafka: kafkaVersion(),
      cores: cpus().length,
      loadAvg1: round(loadavg()[0]),
      seed,
      commands,
      batchMax,
      eventsPerCommand: round(eventsPerCommand),
      eventsPerCommandDaemon: daemons[0].events === null ? null : round(daemons[0].events / commands),
      commandsPerSec,
      passthroughPerSec,
      ratioVsPassthrough: round(commandsPerSec / passthroughPerSec, 3),
      passthroughNoTxnPerSec: noTxn.commandsPerSec,
      daemonCpuUsPerCommand: Math.min(...daemons.map((r) => r.cpuUsPerCommand ?? Infinity)),
      passthroughCpuUsPerCommand: Math.min(...passthroughs.map((r) => r.cpuUsPerCommand ?? Infinity)),
      engineOutputPerSec: engineOutput?.commandsPerSec ?? null,
      latencyOfferedPerSec: atGoal.offeredPerSec,
      latencyAchievedPerSec: atGoal.achievedPerSec,
      latencySustained: atGoal.sustained,
      latencyMsP50: atGoal.latencyMs.p50,
      latencyMsP99: atGoal.latencyMs.p99,
      // The highest measured rate the daemon kept up with, so a latency figure exists even when 10,000/s is too much.
      latencyAtHighestSustained:
        highestSustained === undefined
          ? null
          : {
              offeredPerSec: highestSustained.offeredPerSec,
              p50: highestSustained.latencyMs.p50,
              p99: highestSustained.latencyMs.p99,
            },
      goals: GOALS,
      throughput: { rounds, passthrough: passthroughs, daemon: daemons, passthroughNoTxn: noTxn, engineOutput },
      daemon: path.relative(REPO_ROOT, daemonScript),
      nodeFlags,
      latency: latency.map((l) => ({ ...l, seed: latencySeed, seconds, warmupSeconds })),
      profiled: profileDir !== null,
      wallSec: round((performance.now() - startedMs) / 1000, 1),
    };
    if (profileDir !== null) await printProfiles(s.profiles);
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    await admin.disconnect().catch(() => undefined);
    const stopMs = performance.now();
    await broker.stop();
    log(`broker stopped in ${Math.round(performance.now() - stopMs)} ms`);
  }
}

async function printProfiles(expected: Profiled[]): Promise<void> {
  for (const { dir, windowUs } of expected) {
    // Node names profiles CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile; the main thread is thread 0.
    const main = (await readdir(dir).catch(() => [] as string[])).find((f) =>
      /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(f),
    );
    if (main === undefined) {
      log(`no main-thread profile in ${dir}`);
      continue;
    }
    const file = path.join(dir, main);
    const title = `${path.basename(dir)}: ${file}${windowUs === undefined ? '' : ' (timed window only)'}`;
    process.stderr.write(`\n${formatSummary(title, await summarizeProfileFile(file, 20, windowUs))}\n`);
  }
}

await main();
