// What bench/kafka.ts's runs share: child processes started like the daemon and their CPU use, reading a topic's
// first and last records, the precomputed engine output, and the run set-up (bench/README.md, "Kafka").

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Admin, Kafka } from 'kafkajs';
import { Engine } from '../engine/core/index.js';
import { readEventsTail } from '../kafka/event-stream.js';
import { decodeCommand, decodeEventRecord, encodeEvent } from '../engine/wire/codec.js';
import type { KafkaBroker } from '../tools/kafka/broker.js';
import { REPO_ROOT, sleep } from '../testkit/daemon-process.js';

export { REPO_ROOT, sleep };
export { produceAll } from '../testkit/kafka-commands.js';
import { log, round } from './measure.js';

export const PARTITION = 0;
const POLL_MS = 100;
/** The fixed clock of precomputed events (engineOutput): same digit count as a real append time. */
const PRECOMPUTE_TIME_MS = 1_760_000_000_000;

/** Monotonic µs on the clock of V8's CPU profiles (CLOCK_MONOTONIC, the same in every process). */
export const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);
/** Resolves after `ms` without keeping the process alive (the loser of a race must not delay the exit). */
export const deadline = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

/** User + system CPU seconds of a process (all threads), from /proc; null when it is gone. */
export function cpuSecondsOf(pid: number | undefined): number | null {
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
export class CpuWindow {
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

export interface NodeChild {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

/** A node child started like the daemon (node --import tsx), with --cpu-prof when profiling. */
export function spawnNode(
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

export async function stopChild(c: NodeChild, what: string): Promise<void> {
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

export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${describe()}`);
    await sleep(POLL_MS);
  }
}

/** The last command offset whose events reached `eventsTopic` (its last record's header), or -1. */
export async function writtenOffset(kafka: Kafka, eventsTopic: string): Promise<number> {
  return (await readEventsTail(kafka, eventsTopic))?.commandOffsetLast ?? -1;
}

export interface Edge {
  readonly offset: number;
  readonly timestampMs: number;
  readonly value: Buffer;
}

/**
 * The first committed record of a topic and the last one (read_committed), found by seeking: reading a whole
 * events topic back would take longer than producing it.
 */
export async function readEdges(kafka: Kafka, admin: Admin, topic: string): Promise<{ first: Edge; last: Edge }> {
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

export async function readFrom(
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

/**
 * The daemon's events for each command of the stream, computed by an engine here (engineOutput's payload): one
 * string per command, its encoded events joined by commas, packed per batch as the daemon packs them.
 */
export interface PrecomputedEvents {
  readonly texts: string[];
  readonly eventCount: number;
}

export function precomputeEvents(values: Uint8Array[]): PrecomputedEvents {
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

export interface Setup {
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

export interface Profiled {
  /** The child's profile directory: one file per thread, the main thread's has thread id 0 in its name. */
  readonly dir: string;
  /** The timed part of the child's life; start-up and shutdown are left out of the summary. */
  windowUs?: [number, number];
}

export function profileFor(s: Setup, name: string): { dir: string; name: string } | null {
  if (s.profileDir === null) return null;
  s.profiles.push({ dir: path.join(s.profileDir, name) });
  return { dir: s.profileDir, name };
}

export function setProfileWindow(s: Setup, windowUs: [number, number]): void {
  if (s.profileDir !== null) s.profiles[s.profiles.length - 1].windowUs = windowUs;
}

export function daemonEnv(
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

export function lastEvent(v: Buffer): { seq: number; timeMs: number } {
  const events = decodeEventRecord(v);
  return events[events.length - 1];
}

export function idOf(text: string): string | null {
  try {
    const id = (JSON.parse(text) as { id?: unknown }).id;
    return typeof id === 'string' && id !== '' ? id : null;
  } catch {
    return null;
  }
}
