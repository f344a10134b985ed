// Hot standby engines for the tests on a real broker and Redis (standby-kafka, standby-views-kafka): fresh topics
// and engine id, engine processes that report their promotion, and the writer killed (SIGKILL) or frozen past its
// lease (SIGSTOP, then SIGCONT: a zombie that must exit with ENGINE_LEASE_LOST).

import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Test } from 'tap';
import type { Kafka } from 'kafkajs';
import { kafkaClient } from '../../kafka/client.js';
import { ensureTopics } from '../../kafka/topics.js';
import type { KafkaBroker } from '../../tools/kafka/broker.js';
import { sleep, startDaemon, waitFor } from './recovery-support.js';
import type { DaemonProcess } from './recovery-support.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PROMOTED = 'engine promoted to writer';
export const LEASE_MS = 1_500;

export interface StandbyEngine {
  readonly name: string;
  readonly dataDir: string;
  readonly proc: DaemonProcess;
  /** Whether this process logged its promotion (read from the whole output, not the kept tail). */
  promoted: boolean;
}

export interface StandbySetup {
  readonly kafka: Kafka;
  readonly env: Record<string, string>;
  readonly commandsTopic: string;
  readonly eventsTopic: string;
  readonly leaseMs: number;
}

export async function prepareStandbys(t: Test, broker: KafkaBroker, prefix = 'standby'): Promise<StandbySetup> {
  const engineId = `${prefix}-${randomUUID().slice(0, 8)}`;
  const topics = { commandsTopic: `${engineId}.commands`, eventsTopic: `${engineId}.events` };
  const kafka = kafkaClient([broker.brokers], `${prefix}-test`);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, topics);
  await admin.disconnect();
  const env = {
    KAFKA_BROKERS: broker.brokers,
    ENGINE_ID: engineId,
    KAFKA_COMMANDS_TOPIC: topics.commandsTopic,
    KAFKA_EVENTS_TOPIC: topics.eventsTopic,
    ENGINE_LEASE_REDIS_URL: REDIS_URL,
    ENGINE_LEASE_MS: String(LEASE_MS),
    ENGINE_SNAPSHOT_EVERY: '5000',
    ENGINE_BATCH_MAX: '500',
    LOG_LEVEL: 'info',
  };
  t.comment(`engine id ${engineId}`);
  return { kafka, env, leaseMs: LEASE_MS, ...topics };
}

/** Where an engine keeps its snapshots. */
export function snapshotsDirOf(s: StandbySetup, e: StandbyEngine): string {
  return path.join(e.dataDir, 'snapshots', s.env.ENGINE_ID);
}

export async function startEngine(
  t: Test,
  s: StandbySetup,
  name: string,
  extraEnv: Record<string, string> = {},
): Promise<StandbyEngine> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `engine-standby-${name}-`));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const proc = startDaemon({ ...s.env, DATA_DIR: dataDir, ...extraEnv });
  t.teardown(() => void proc.child.kill('SIGKILL'));
  const engine: StandbyEngine = { name, dataDir, proc, promoted: false };
  let tail = '';
  proc.child.stdout?.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-(PROMOTED.length + 4096));
    if (tail.includes(PROMOTED)) engine.promoted = true;
  });
  return engine;
}

export const alive = (e: StandbyEngine): boolean => e.proc.child.exitCode === null && e.proc.child.signalCode === null;

export async function waitReady(e: StandbyEngine): Promise<void> {
  await waitFor(
    async () => e.proc.ready() || !alive(e),
    60_000,
    () => `${e.name} start: ${e.proc.output()}`,
  );
}

/**
 * SIGKILL; or SIGSTOP until a standby is promoted, then SIGCONT: the writer resumes past its lease as a zombie and
 * must exit with ENGINE_LEASE_LOST.
 */
export async function killWriter(
  t: Test,
  writer: StandbyEngine,
  how: { readonly freeze: boolean; readonly kill: number; readonly leaseMs: number },
): Promise<void> {
  if (!how.freeze) {
    writer.proc.child.kill('SIGKILL');
    await writer.proc.exited;
    return;
  }
  writer.proc.child.kill('SIGSTOP');
  await sleep(how.leaseMs * 2); // past the election (the promotion itself is awaited by the caller)
  writer.proc.child.kill('SIGCONT');
  const exit = await writer.proc.exited;
  t.equal(exit.code, 1, `the frozen writer resumes as a zombie and exits (kill ${how.kill})`);
  t.match(writer.proc.output(), /ENGINE_LEASE_LOST/, 'with ENGINE_LEASE_LOST');
}

/**
 * One failover: the writer killed (or frozen, see killWriter), a replacement engine started meanwhile, and waits
 * until one of the standbys that were following is promoted (the replacement is pushed onto `engines`).
 */
export async function failOver(
  t: Test,
  s: StandbySetup,
  engines: StandbyEngine[],
  writer: StandbyEngine,
  how: { readonly freeze: boolean; readonly kill: number },
): Promise<void> {
  const standbys = engines.filter((e) => e !== writer && alive(e));
  const killing = killWriter(t, writer, { ...how, leaseMs: s.leaseMs });
  engines.push(await startEngine(t, s, `e${engines.length}`)); // the replacement starts during the failover
  await killing;
  await waitFor(
    async () => standbys.some((e) => e.promoted),
    30_000,
    () => `no promotion after kill ${how.kill}: ${standbys.map((e) => e.proc.output()).join('\n')}`,
  );
}
