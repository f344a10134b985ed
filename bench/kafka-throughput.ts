// bench:kafka's throughput runs (bench/README.md, "Kafka"): the passthrough child and the daemon, each reading the
// whole pre-filled commands topic into an events topic of its own; the rate comes from the events' record timestamps.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureTopics } from '../kafka/topics.js';
import type { ChildReport, PassthroughMode } from './kafka-child.js';
import {
  CpuWindow,
  deadline,
  lastEvent,
  nowUs,
  profileFor,
  readEdges,
  setProfileWindow,
  spawnNode,
  stopChild,
  waitFor,
  writtenOffset,
  daemonEnv,
} from './kafka-support.js';
import type { Edge, Setup } from './kafka-support.js';
import { log, round } from './measure.js';

const CHILD_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'kafka-child.ts');

export interface ThroughputRun {
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

export async function runPassthrough(
  s: Setup,
  name: string,
  mode: PassthroughMode,
  commandsTopic: string,
  commands: number,
): Promise<ThroughputRun> {
  const eventsTopic = `${s.tag}.${name}.events`;
  await ensureTopics(s.admin, { commandsTopic, eventsTopic });
  const args = [
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
  const child = spawnNode(CHILD_SCRIPT, args, {}, s.nodeFlags, profileFor(s, name));
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

export async function runDaemon(
  s: Setup,
  name: string,
  commandsTopic: string,
  commands: number,
): Promise<ThroughputRun> {
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
