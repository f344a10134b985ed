// bench:kafka's latency runs (bench/README.md, "Kafka"): a fresh daemon, commands produced at a fixed rate, and
// each command's result matched on the events topic.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeEventRecord } from '../engine/wire/codec.js';
import { KafkaCommandWriter } from '../kafka/command-writer.js';
import { ensureTopics } from '../kafka/topics.js';
import {
  CpuWindow,
  daemonEnv,
  idOf,
  nowUs,
  profileFor,
  setProfileWindow,
  sleep,
  spawnNode,
  stopChild,
  waitFor,
} from './kafka-support.js';
import type { Setup } from './kafka-support.js';
import { log, round } from './measure.js';

/** Warm-up rate cap: enough to get the daemon's and the consumer's code optimized without a backlog. */
export const WARMUP_RATE_MAX = 5_000;
/** A rate is sustained when produced and completed rates reach this share of it. */
const SUSTAINED_SHARE = 0.97;
/** Commands per produce request of the paced producer at most (as in produceAll). */
const PACED_SEND_MAX = 2000;

export interface LatencyRun {
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

export async function runLatency(
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
