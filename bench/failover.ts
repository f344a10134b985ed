// Failover benchmark: hot standby engines on a real broker (started here) and Redis (REDIS_URL), and a cold
// restart with a large book. One run prints progress on stderr and exactly one JSON line on stdout.
//
//   npm run bench:failover
//   npm run bench:failover -- --kills 10 --rate 10000 --lease-ms 1500 --resting 1000000 --since 100000
// Options: --seed N, --kills N (10), --rate N (commands/s offered during the kills, 10,000), --lease-ms N (the
// engines' ENGINE_LEASE_MS, its default), --resting N (1,000,000), --since N (100,000), --no-failover, --no-restart,
// --runtime dist,tsx (how the restarted daemon runs, testkit/daemon-process.ts: each in turn, from the same book),
// --log-dir DIR (each engine's whole log, engine-N.log in start order, for a failover's timeline).
//
// failover: a writer and two standbys (ENGINE_LEASE_REDIS_URL) while commands are produced at --rate, paced by a
// timer, one request in flight. The writer is SIGKILLed --kills times, each after a seeded 1-2 s, once both
// standbys follow it; a replacement standby starts right after each kill. failoverMs = the new writer's
// 'first events written as the writer' log time - the kill's wall time (same machine clock). An events consumer
// (deduplicated by seq) matches every commandResult to its command: ordersOver1s counts commands answered more
// than 1 s after they were scheduled, and gatewayUnknownAnswers those answered after the gateway's command timeout
// (gateway/config.ts DEFAULT_OPTIONS.commandTimeoutMs), which the gateway answers as unknown: no gateway runs here,
// this is the count it would have given for the same stream.
//
// restart: --resting non-crossing GTC orders after the setup, a snapshot right after them (ENGINE_SNAPSHOT_EVERY),
// then --since more resting orders; once their events are written, SIGKILL (no clean-stop snapshot). A new engine
// process is spawned with one more command already on the topic: restartMs = spawn to the events topic's high
// watermark moving (a fetchTopicOffsets poll every 20 ms), with the daemon's own log times for its phases. With
// several --runtime values, the restarted engine is killed again and the next one restarts from the same snapshot
// with one more command (replaying one command more). restartMs is the first runtime's: 'dist' by default, the
// compiled daemon as the Docker image runs it; 'tsx' is `npm run engine` from the sources.

import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import type { Admin, Kafka } from 'kafkajs';
import { COMMAND_VERSION } from '../engine/core/index.js';
import type { Command } from '../engine/core/index.js';
import { encodeCommand } from '../engine/wire/codec.js';
import type { CommandInput } from '../engine/wire/codec.js';
import { ENGINE_LEASE_MS_DEFAULT } from '../engine/daemon/config.js';
import { DEFAULT_OPTIONS as GATEWAY_DEFAULTS } from '../gateway/config.js';
import { kafkaClient } from '../kafka/client.js';
import { KafkaCommandWriter } from '../kafka/command-writer.js';
import { EventStreamReader } from '../kafka/event-stream.js';
import { ensureTopics, partitionBounds } from '../kafka/topics.js';
import { Prng } from '../testkit/prng.js';
import { DAEMON_RUNTIMES, REPO_ROOT, sleep, startDaemon } from '../testkit/daemon-process.js';
import type { DaemonProcess, DaemonRuntime } from '../testkit/daemon-process.js';
import { ensureBundles, ensureDist } from '../tools/build/dist.mjs';
import { kafkaVersion, startKafkaBroker } from '../tools/kafka/broker.js';
import { intArg, log, parseArgs, round } from './measure.js';
import { MARKET_ID, STREAMS, generateStream, setupCommands } from './stream.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const GOALS = { failoverMsP99: 3_000, restartMs: 5_000 };
const FIRST_WRITE = 'first events written as the writer';
/** Users of the restart book: 1,100,000 orders stay under the engine's open orders per user (1000). */
const RESTART_USERS = 2_000;

const encoder = new TextEncoder();

/** Every engine process started, so that a failed run does not leave them behind (main's finally kills them). */
const spawned: DaemonProcess[] = [];
function spawnEngine(env: Record<string, string>, runtime: DaemonRuntime = 'tsx'): DaemonProcess {
  const proc = startDaemon(env, runtime);
  spawned.push(proc);
  watchLog(proc);
  if (engineLogDir !== null) {
    // The whole log of each engine, for a failover's timeline (the bench keeps only a few lines of it).
    const file = createWriteStream(path.join(engineLogDir, `engine-${spawned.length - 1}.log`));
    proc.child.stdout?.on('data', (chunk: Buffer) => file.write(chunk));
    proc.child.stderr?.on('data', (chunk: Buffer) => file.write(chunk));
    void proc.exited.then(() => file.end());
  }
  return proc;
}
/** --log-dir: where each engine's log is written whole (engine-N.log, N in start order); null: nowhere. */
let engineLogDir: string | null = null;

/**
 * The first log line of each message of an engine, and its late lease renewals, kept as the lines arrive: the
 * process's output() is a sliding tail (20,000 characters), and a writer's warnings pushed its 'engine promoted to
 * writer' line out of it, so the bench stopped seeing a live writer.
 */
interface LogBook {
  readonly first: Map<string, Record<string, number>>;
  readonly late: Record<string, number>[];
}
const logBooks = new WeakMap<DaemonProcess, LogBook>();
const LATE_RENEWAL = 'lease renewal late: the event loop was busy or starved';

function watchLog(proc: DaemonProcess): void {
  const book: LogBook = { first: new Map(), late: [] };
  logBooks.set(proc, book);
  let partial = '';
  proc.child.stdout?.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      const entry = JSON.parse(line) as Record<string, number> & { msg?: string };
      if (entry.msg === undefined) continue;
      if (entry.msg === LATE_RENEWAL) book.late.push(entry);
      else if (!book.first.has(entry.msg)) book.first.set(entry.msg, entry);
    }
  });
}

const encodeAll = (cmds: readonly Command[]): Uint8Array[] =>
  cmds.map(({ timeMs: _t, ...cmd }) => encoder.encode(encodeCommand(cmd as CommandInput)));

interface Setup {
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly brokers: string;
}

async function freshTopics(s: Setup, name: string): Promise<Record<string, string>> {
  const engineId = `${name}-${randomUUID().slice(0, 8)}`;
  const topics = { commandsTopic: `${engineId}.commands`, eventsTopic: `${engineId}.events` };
  await ensureTopics(s.admin, topics);
  return {
    KAFKA_BROKERS: s.brokers,
    ENGINE_ID: engineId,
    KAFKA_COMMANDS_TOPIC: topics.commandsTopic,
    KAFKA_EVENTS_TOPIC: topics.eventsTopic,
    LOG_LEVEL: 'info',
  };
}

/** The `time` (epoch ms) of the first log line of `proc` carrying `msg`, or null. */
function logTime(proc: DaemonProcess, msg: string): number | null {
  return logField(proc, msg, 'time');
}

/** A numeric field of the first log line of `proc` carrying `msg`, or null. */
function logField(proc: DaemonProcess, msg: string, field: string): number | null {
  return logBooks.get(proc)?.first.get(msg)?.[field] ?? null;
}

/** The log lines of `proc` at warn level or worse, and its stderr lines that are not JSON, shortened. */
function problems(proc: DaemonProcess): string[] {
  return proc
    .output()
    .split('\n')
    .filter((l) => /"level":(40|50|60)/.test(l) || (l.length > 0 && !l.startsWith('{')))
    .slice(-8)
    .map((l) => l.slice(0, 400));
}

/** The late lease renewals an engine logged (engine/daemon/main.ts) since the last call: printed per kill. */
function lateRenewals(proc: DaemonProcess): string[] {
  const late = logBooks.get(proc)?.late.splice(0) ?? [];
  return late.map(
    (l) =>
      `lease renewal late: fired ${l.firedLateMs} ms late, answered in ${l.replyMs} ms, ${l.marginMs} ms of lease left`,
  );
}

async function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await sleep(10);
  }
}

const percentile = (sorted: readonly number[], p: number): number =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

/** Produces values at ratePerSec, each at its scheduled time; one request in flight. Records each schedule. */
async function pacedProduce(
  writer: KafkaCommandWriter,
  values: Uint8Array[],
  ratePerSec: number,
  scheduledMs: Float64Array,
  stop: () => boolean,
): Promise<number> {
  const startMs = performance.now();
  let next = 0;
  while (next < values.length && !stop()) {
    const due = Math.min(values.length, Math.floor(((performance.now() - startMs) * ratePerSec) / 1000));
    if (due <= next) {
      await sleep(2);
      continue;
    }
    const take = Math.min(due, next + 2000);
    for (let i = next; i < take; i++) scheduledMs[i] = startMs + (i * 1000) / ratePerSec;
    await writer.append(values.slice(next, take));
    next = take;
  }
  return next;
}

interface FailoverResult {
  readonly failoverMs: number[];
  /** Per kill: kill to the lease taken and promotion started ('engine promoted to writer'), and the promotion's
   * own time ('promotion done' promoteMs: follow the events topic to its end, write the backlog). */
  readonly toPromotedMs: number[];
  readonly promoteMs: number[];
  /** Per kill: kill to 'writer lease taken' (lease expiry and the election poll), and the promoted standby's own
   * phases ('engine promoted to writer'): the batch in hand, following the events topic, and the backlog size. */
  readonly leaseTakenMs: number[];
  readonly laneMs: number[];
  readonly catchUpMs: number[];
  readonly backlogEvents: number[];
  readonly commands: number;
  readonly achievedPerSec: number;
  readonly ordersOver1s: number;
  readonly gatewayUnknownAnswers: number;
  readonly unanswered: number;
  readonly latencyMsP50: number;
  readonly latencyMsP99: number;
}

async function runFailover(
  s: Setup,
  opts: { kills: number; ratePerSec: number; leaseMs: number; seed: number },
): Promise<FailoverResult> {
  const env: Record<string, string> = {
    ...(await freshTopics(s, 'failover')),
    ENGINE_LEASE_REDIS_URL: REDIS_URL,
    ENGINE_LEASE_MS: String(opts.leaseMs),
  };
  // Enough commands for every kill cycle (~8 s each at most) at the rate; the producer stops after the last one.
  const count = opts.ratePerSec * (opts.kills * 8 + 10);
  log(`failover: generating ${count} commands`);
  const stream = generateStream({ ...STREAMS.shallow, seed: opts.seed, commands: count });
  const setup = encodeAll(stream.setup);
  const values = encodeAll(stream.commands);
  const writer = new KafkaCommandWriter(s.kafka, env.KAFKA_COMMANDS_TOPIC);
  await writer.connect();
  for (let i = 0; i < setup.length; i += 2000) await writer.append(setup.slice(i, i + 2000));
  const dirs: string[] = [];
  const start = async (): Promise<DaemonProcess> => {
    const dir = await mkdtemp(path.join(tmpdir(), 'bench-failover-'));
    dirs.push(dir);
    return spawnEngine({ ...env, DATA_DIR: dir });
  };
  const engines = [await start(), await start(), await start()];
  const isWriter = (p: DaemonProcess): boolean => logTime(p, 'engine promoted to writer') !== null;
  const alive = (p: DaemonProcess): boolean => p.child.exitCode === null && p.child.signalCode === null;
  await waitUntil(() => engines.every((e) => e.ready()) && engines.some(isWriter), 120_000, 'engines ready');

  const scheduledMs = new Float64Array(values.length);
  const answeredMs = new Float64Array(values.length);
  const indexById = new Map<string, number>(stream.commands.map((c, i) => [c.id, i]));
  const reader = new EventStreamReader({
    kafka: s.kafka,
    topic: env.KAFKA_EVENTS_TOPIC,
    groupIdPrefix: 'bench-failover',
    batchRecordsMax: 1000,
  });
  const reading = reader.consume({ afterOffset: -1, afterSeq: 0 }, async (records) => {
    const nowMs = performance.now();
    for (const r of records)
      for (const ev of r.events) {
        if (ev.type !== 'commandResult') continue;
        const i = indexById.get(ev.cmdId);
        if (i !== undefined && answeredMs[i] === 0) answeredMs[i] = nowMs;
      }
  });
  let done = false;
  const producedStartMs = performance.now();
  const producing = pacedProduce(writer, values, opts.ratePerSec, scheduledMs, () => done);
  const rng = new Prng(opts.seed);
  const failoverMs: number[] = [];
  const toPromotedMs: number[] = [];
  const promoteMs: number[] = [];
  const phases = {
    leaseTakenMs: [] as number[],
    laneMs: [] as number[],
    catchUpMs: [] as number[],
    backlogEvents: [] as number[],
  };
  for (let kill = 0; kill < opts.kills; kill++) {
    await sleep(rng.int(1000, 2000));
    const current = engines.find((e) => alive(e) && isWriter(e));
    if (current === undefined) throw new Error('no live writer');
    await waitUntil(
      () => engines.filter((e) => e !== current && alive(e) && e.ready()).length >= 2,
      120_000,
      'two standbys following',
    ).catch((err: unknown) => {
      // Say why: each engine's exit and its warnings and worse (a standby that stopped with a code).
      for (const [i, e] of engines.entries())
        log(`engine ${i}: exit ${e.child.exitCode ?? e.child.signalCode}, ${problems(e).join(' | ')}`);
      throw err;
    });
    const killedAt = Date.now();
    current.child.kill('SIGKILL');
    engines.push(await start());
    // Whichever engine takes over: a standby that finds its backlog gone (ENGINE_STANDBY_BACKLOG_LOST) exits and
    // the lease goes on, possibly to the engine just started (then it replays before writing).
    const standbys = engines.filter((e) => e !== current);
    // A writer of an earlier kill (dead now) logged the same line: only a write after this kill counts.
    const wroteAfterKill = (e: DaemonProcess): boolean => (logTime(e, FIRST_WRITE) ?? 0) >= killedAt;
    await waitUntil(() => standbys.some(wroteAfterKill), 120_000, `failover ${kill}`);
    const promoted = standbys.find(wroteAfterKill);
    // With a backlog to write, the first write is logged before the promotion's end: wait for that line too.
    await waitUntil(
      () => promoted === undefined || logTime(promoted, 'promotion done') !== null,
      10_000,
      'promotion done',
    );
    const firstWrite = promoted === undefined ? NaN : (logTime(promoted, FIRST_WRITE) ?? NaN);
    failoverMs.push(firstWrite - killedAt);
    if (promoted !== undefined) {
      toPromotedMs.push((logTime(promoted, 'engine promoted to writer') ?? NaN) - killedAt);
      promoteMs.push(round(logField(promoted, 'promotion done', 'promoteMs') ?? NaN, 1));
      phases.leaseTakenMs.push((logTime(promoted, 'writer lease taken') ?? NaN) - killedAt);
      for (const field of ['laneMs', 'catchUpMs', 'backlogEvents'] as const)
        phases[field].push(logField(promoted, 'engine promoted to writer', field) ?? NaN);
    }
    log(
      `kill ${kill}: failover ${firstWrite - killedAt} ms (lease taken after ${phases.leaseTakenMs.at(-1)} ms, lane ${phases.laneMs.at(-1)} ms, catch-up ${phases.catchUpMs.at(-1)} ms, promoted after ${toPromotedMs.at(-1)} ms, promotion ${promoteMs.at(-1)} ms, backlog ${phases.backlogEvents.at(-1)} events), load ${loadavg()[0].toFixed(1)}`,
    );
    for (const [i, e] of engines.entries()) for (const line of lateRenewals(e)) log(`engine ${i}: ${line}`);
  }
  done = true;
  const produced = await producing;
  const producedSec = (performance.now() - producedStartMs) / 1000;
  // Every produced command's answer, or 30 s more.
  const answered = (): number => answeredMs.subarray(0, produced).filter((x) => x > 0).length;
  const deadline = performance.now() + 30_000;
  while (answered() < produced && performance.now() < deadline) await sleep(100);
  await reader.stop();
  await reading.catch((err: unknown) => log(`events reader: ${String(err)}`));
  for (const e of engines) if (alive(e)) e.child.kill('SIGTERM');
  await Promise.all(engines.map((e) => e.exited));
  await writer.close();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });

  const latencies: number[] = [];
  let unanswered = 0;
  for (let i = 0; i < produced; i++)
    if (answeredMs[i] === 0) unanswered++;
    else latencies.push(answeredMs[i] - scheduledMs[i]);
  latencies.sort((a, b) => a - b);
  const timeoutMs = GATEWAY_DEFAULTS.commandTimeoutMs;
  return {
    failoverMs,
    toPromotedMs,
    promoteMs,
    ...phases,
    commands: produced,
    achievedPerSec: Math.round(produced / producedSec),
    ordersOver1s: latencies.filter((l) => l > 1000).length + unanswered,
    gatewayUnknownAnswers: latencies.filter((l) => l > timeoutMs).length + unanswered,
    unanswered,
    latencyMsP50: round(percentile(latencies, 0.5), 1),
    latencyMsP99: round(percentile(latencies, 0.99), 1),
  };
}

/** Non-crossing GTC orders of one lot, buys below 9,000 ticks and sells above 11,000, spread over the users. */
function restingOrders(from: number, count: number): Command[] {
  const cmds: Command[] = [];
  for (let i = from; i < from + count; i++) {
    const side = i % 2 === 0 ? 'buy' : 'sell';
    const level = (i >> 1) % 1000;
    cmds.push({
      v: COMMAND_VERSION,
      id: `r${i}`,
      timeMs: 0,
      type: 'placeOrder',
      userId: 1 + (i % RESTART_USERS),
      marketId: MARKET_ID,
      side,
      orderType: 'limit',
      price: BigInt(side === 'buy' ? 9_000 - level : 11_000 + level),
      quantity: 1n,
      timeInForce: 'GTC',
      stp: 'none',
    });
  }
  return cmds;
}

interface RestartResult {
  readonly runtime: DaemonRuntime;
  readonly restartMs: number;
  readonly recoveredMs: number | null;
  readonly caughtUpMs: number | null;
  readonly snapshotOffset: number | null;
  readonly commandsSinceSnapshot: number | null;
  readonly restingOrders: number;
  readonly buildSec: number;
  /** The restarted daemon's own start-up phases (its log fields), ms. */
  readonly phases: Record<string, number | null>;
}

/** Start-up phase fields the daemon logs (engine/daemon/main.ts and daemon.ts), by message. */
const RESTART_PHASES: ReadonlyArray<[string, string, string]> = [
  ['engine starting', 'moduleLoadMs', 'moduleLoadMs'],
  ['engine starting', 'logOpenMs', 'logOpenMs'],
  ['engine daemon recovered', 'resumePointMs', 'resumePointMs'],
  ['engine daemon recovered', 'snapshotReadMs', 'snapshotReadMs'],
  ['engine daemon recovered', 'restoreMs', 'restoreMs'],
  ['engine daemon recovered', 'invariantsMs', 'loadInvariantsMs'],
  ['engine daemon caught up with the event log', 'replayMs', 'replayMs'],
  ['engine daemon caught up with the event log', 'invariantsMs', 'invariantsMs'],
  ['engine daemon caught up with the event log', 'sinceProcessStartMs', 'caughtUpSinceProcessStartMs'],
  ['first events written', 'sinceProcessStartMs', 'firstWriteSinceProcessStartMs'],
  ['engine daemon caught up with the event log', 'cpuSinceProcessStartMs', 'caughtUpCpuMs'],
  ['first events written', 'cpuSinceProcessStartMs', 'firstWriteCpuMs'],
];

interface RestartBook {
  readonly env: Record<string, string>;
  readonly dataDir: string;
  /** Offset of the last command on the topic. */
  last: number;
  readonly buildSec: number;
  readonly restingOrders: number;
}

/** The book: setup, --resting orders, a snapshot, --since more orders, all events written; then SIGKILL. */
async function buildBook(s: Setup, opts: { resting: number; since: number }): Promise<RestartBook> {
  const buildStartMs = performance.now();
  const env = await freshTopics(s, 'restart');
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bench-restart-'));
  const setup = encodeAll(setupCommands(RESTART_USERS, 0));
  env.DATA_DIR = dataDir;
  env.ENGINE_SNAPSHOT_EVERY = String(setup.length + opts.resting);
  const writer = new KafkaCommandWriter(s.kafka, env.KAFKA_COMMANDS_TOPIC);
  await writer.connect();
  let last = -1;
  const total = setup.length + opts.resting + opts.since;
  for (let i = 0; i < setup.length; i += 1000) last = (await writer.append(setup.slice(i, i + 1000))).pop() ?? last;
  for (let i = 0; i < opts.resting + opts.since; i += 1000) {
    const n = Math.min(1000, opts.resting + opts.since - i);
    last = (await writer.append(encodeAll(restingOrders(i, n)))).pop() ?? last;
    if (i % 100_000 === 0) log(`restart: ${i} of ${opts.resting + opts.since} orders produced`);
  }
  await writer.close();
  log(`restart: ${total} commands on the topic; the first engine applies them`);
  const first = spawnEngine(env);
  await waitUntil(() => first.output().includes('"msg":"snapshot written"'), 900_000, 'the snapshot after the book');
  // Every command's events written: the last command's result is the last record (one record per batch here).
  let stableSince = performance.now();
  let high = await eventsHigh(s, env);
  while (performance.now() - stableSince < 3_000) {
    await sleep(500);
    const now = await eventsHigh(s, env);
    if (now !== high) [high, stableSince] = [now, performance.now()];
  }
  first.child.kill('SIGKILL');
  await first.exited;
  const buildSec = (performance.now() - buildStartMs) / 1000;
  log(`restart: book built in ${round(buildSec, 1)} s`);
  return { env, dataDir, last, buildSec: round(buildSec, 1), restingOrders: opts.resting + opts.since };
}

const eventsHigh = async (s: Setup, env: Record<string, string>): Promise<number> =>
  (await partitionBounds(s.admin, env.KAFKA_EVENTS_TOPIC)).high;

/** One cold restart of the book's engine with `runtime`, after one more command; killed once it has written. */
async function restartOnce(s: Setup, book: RestartBook, runtime: DaemonRuntime, k: number): Promise<RestartResult> {
  const writer = new KafkaCommandWriter(s.kafka, book.env.KAFKA_COMMANDS_TOPIC);
  await writer.connect();
  const id = `after-restart-${k}`;
  const cmd = { v: COMMAND_VERSION, id, type: 'cancelAll', userId: 1 + k } as CommandInput;
  book.last = (await writer.append([encoder.encode(encodeCommand(cmd))])).pop() ?? book.last;
  await writer.close();
  const high = await eventsHigh(s, book.env);
  log(`restart: restarting (${runtime})`);
  const spawnedAt = Date.now();
  const spawnedMs = performance.now();
  const restarted = spawnEngine(book.env, runtime);
  while ((await eventsHigh(s, book.env)) === high) {
    if (restarted.child.exitCode !== null) throw new Error(`the restarted engine exited: ${restarted.output()}`);
    await sleep(20);
  }
  const restartMs = Math.round(performance.now() - spawnedMs);
  // The daemon logs its first write's phase line just after the append is acknowledged: give it a moment.
  for (let i = 0; i < 100 && !restarted.output().includes('"msg":"first events written"'); i++) await sleep(20);
  restarted.child.kill('SIGKILL');
  await restarted.exited;
  const snapshotOffset = logField(restarted, 'engine daemon recovered', 'snapshotOffset');
  const since = (t: number | null): number | null => (t === null ? null : t - spawnedAt);
  return {
    runtime,
    restartMs,
    recoveredMs: since(logTime(restarted, 'engine daemon recovered')),
    caughtUpMs: since(logTime(restarted, 'engine daemon caught up with the event log')),
    snapshotOffset,
    commandsSinceSnapshot: snapshotOffset === null ? null : book.last - snapshotOffset,
    restingOrders: book.restingOrders,
    buildSec: book.buildSec,
    phases: Object.fromEntries(RESTART_PHASES.map(([msg, field, name]) => [name, logField(restarted, msg, field)])),
  };
}

async function runRestarts(
  s: Setup,
  opts: { resting: number; since: number; runtimes: readonly DaemonRuntime[] },
): Promise<RestartResult[]> {
  // The compiled daemon runs from dist/: brought up to date before the book, off every measured path.
  if (opts.runtimes.includes('dist')) {
    log(`restart: dist/ ${JSON.stringify(await ensureDist(REPO_ROOT))}`);
    log(`restart: bundle ${JSON.stringify(await ensureBundles(REPO_ROOT))}`);
  }
  const book = await buildBook(s, opts);
  try {
    const results: RestartResult[] = [];
    for (const [k, runtime] of opts.runtimes.entries()) results.push(await restartOnce(s, book, runtime, k));
    return results;
  } finally {
    await rm(book.dataDir, { recursive: true, force: true });
  }
}

function runtimesArg(args: Map<string, string>): DaemonRuntime[] {
  const runtimes = (args.get('runtime') ?? 'dist,tsx').split(',') as DaemonRuntime[];
  for (const r of runtimes)
    if (!DAEMON_RUNTIMES.includes(r)) throw new Error(`--runtime: ${r} is not one of ${DAEMON_RUNTIMES.join(', ')}`);
  return runtimes;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const seed = intArg(args, 'seed', 20261203);
  const kills = intArg(args, 'kills', 10);
  const ratePerSec = intArg(args, 'rate', 10_000);
  const leaseMs = intArg(args, 'lease-ms', ENGINE_LEASE_MS_DEFAULT);
  engineLogDir = args.get('log-dir') ?? null;
  if (engineLogDir !== null) await mkdir(engineLogDir, { recursive: true });
  const startedMs = performance.now();
  log(`failover bench: ${cpus().length} cores, load ${loadavg()[0].toFixed(2)}`);
  const broker = await startKafkaBroker({ extraConfig: { 'message.max.bytes': '8388608' } });
  const kafka = kafkaClient([broker.brokers], 'bench-failover');
  const admin = kafka.admin();
  await admin.connect();
  const s = { kafka, admin, brokers: broker.brokers };
  try {
    const loadBefore = loadavg()[0];
    const failover = args.has('no-failover') ? null : await runFailover(s, { kills, ratePerSec, leaseMs, seed });
    const loadAfterFailover = loadavg()[0];
    const restarts = args.has('no-restart')
      ? []
      : await runRestarts(s, {
          resting: intArg(args, 'resting', 1_000_000),
          since: intArg(args, 'since', 100_000),
          runtimes: runtimesArg(args),
        });
    const restart = restarts.length === 0 ? null : restarts[0];
    const sorted = [...(failover?.failoverMs ?? [])].sort((a, b) => a - b);
    const out = {
      bench: 'failover',
      node: process.version,
      kafka: kafkaVersion(),
      cores: cpus().length,
      loadAvg1: round(loadBefore),
      loadAvg1AfterFailover: round(loadAfterFailover),
      loadAvg1End: round(loadavg()[0]),
      seed,
      leaseMs,
      kills: sorted.length,
      offeredPerSec: failover === null ? null : ratePerSec,
      failoverMsP50: failover === null ? null : percentile(sorted, 0.5),
      failoverMsP99: failover === null ? null : percentile(sorted, 0.99),
      failoverMs: failover?.failoverMs ?? null,
      gatewayUnknownAnswers: failover?.gatewayUnknownAnswers ?? null,
      ordersOver1s: failover?.ordersOver1s ?? null,
      failoverRun: failover,
      restartMs: restart?.restartMs ?? null,
      restart,
      restarts: restarts.slice(1),
      goals: GOALS,
      commit: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim(),
      wallSec: round((performance.now() - startedMs) / 1000, 1),
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    for (const p of spawned) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await admin.disconnect().catch(() => undefined);
    await broker.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
