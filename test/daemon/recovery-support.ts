// Shared by the daemon recovery tests: a seeded command stream, the reference run (one uninterrupted engine
// in this process), and control of real daemon processes (spawn, SIGKILL, SIGTERM).

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';
import { Engine, restore } from '../../engine/core/index.js';
import { stateHash } from '../../engine/daemon/snapshot-store.js';
import { DAEMON_NODE_FLAGS } from '../../engine/daemon/config.js';
import { SnapshotStore } from '../../engine/daemon/snapshot-store.js';
import { Prng } from '../support/prng.js';
import { decodeCommand, decodeEventRecord, encodeCommand, encodeEvent } from '../../engine/wire/codec.js';
import type { CommandInput } from '../../engine/wire/codec.js';
import { STREAMS, generateStream } from '../../bench/stream.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface StoredCommand {
  readonly value: Uint8Array;
  readonly timestampMs: number;
}

/**
 * A seeded stream: setup (assets, market, deposits) then limit/market/cancel orders, plus a few malformed
 * records and a few producer retries (a record appended again later with the same command id).
 */
export function seededCommands(seed: number, count: number): Uint8Array[] {
  const stream = generateStream({ ...STREAMS.shallow, users: 50, seed, commands: count });
  const encoder = new TextEncoder();
  const values = [...stream.setup, ...stream.commands].map(({ timeMs: _t, ...cmd }) => encoder.encode(encodeCommand(cmd as CommandInput)));
  // Malformed records in the middle: they must get rejection events, never stop the stream.
  const bad = ['{not json', '{"v":1,"type":"teleport","id":"bad-type"}', '{"v":2,"type":"cancelAll","id":"bad-version","userId":1}', '{"v":1,"type":"deposit","id":"bad-amount","userId":1,"assetId":1,"amount":"12abc","depositId":"x"}'];
  bad.forEach((text, i) => values.splice(Math.floor(((i + 1) * values.length) / (bad.length + 1)), 0, encoder.encode(text)));
  // Retries: each must be answered COMMAND_DUPLICATE_ID with no second effect, also across crashes.
  for (const at of [0.3, 0.55, 0.8]) {
    const i = Math.floor(at * values.length);
    values.splice(i + 50, 0, values[i]);
  }
  return values;
}

export interface ReferenceRun {
  /** Every event, encoded, in order. */
  readonly events: string[];
  readonly stateHash: string;
}

/** What one uninterrupted engine makes of the stored commands: the expected output of any number of crashes. */
export function referenceRun(commands: readonly StoredCommand[]): ReferenceRun {
  const engine = new Engine();
  const events: string[] = [];
  for (const c of commands) {
    const decoded = decodeCommand(c.value, c.timestampMs);
    const out = decoded.ok ? engine.apply(decoded.command) : engine.applyInvalid(decoded.id, c.timestampMs, decoded.code);
    for (const ev of out) events.push(encodeEvent(ev));
  }
  return { events, stateHash: stateHash(engine) };
}

export interface DaemonProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
  /** True once the daemon logged that it is consuming (needs LOG_LEVEL=info): its signal handlers are in place. */
  ready(): boolean;
}

export function startDaemon(env: Record<string, string>): DaemonProcess {
  const child = spawn(process.execPath, [...DAEMON_NODE_FLAGS, '--import', 'tsx', path.join(REPO_ROOT, 'engine/daemon/main.ts')], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let ready = false;
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-20_000);
    if (output.includes('engine daemon consuming')) ready = true;
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, exited, output: () => output, ready: () => ready };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns true; throws with `describe()` after `timeoutMs`. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${describe()}`);
    await sleep(50);
  }
}

/** Seeded kill points: one random fraction of the stream in each of `count` equal slices, in increasing order. */
export function killPoints(seed: number, count: number): number[] {
  const rng = new Prng(seed);
  return Array.from({ length: count }, (_, i) => (i + rng.float()) / (count + 1));
}

/** The events of event-topic records, each decoded (validated) and encoded again, in order. */
export function eventsOfRecords(records: readonly string[]): string[] {
  return records.flatMap((r) => decodeEventRecord(r).map(encodeEvent));
}

/** Events must be numbered 1..n with no gap or repeat; returns the problem or null. */
function checkSequence(events: readonly string[]): string | null {
  for (let i = 0; i < events.length; i++) {
    const seq = (JSON.parse(events[i]) as { seq: number }).seq;
    if (seq !== i + 1) return `event ${i} has seq ${seq}, expected ${i + 1}`;
  }
  return null;
}

/** How many retried commands were answered COMMAND_DUPLICATE_ID. */
function duplicatesAnswered(events: readonly string[]): number {
  return events.filter((e) => e.includes('"code":"COMMAND_DUPLICATE_ID"')).length;
}

/**
 * What every recovery test asserts at the end: the committed events equal one uninterrupted run's, byte for
 * byte and numbered 1..n, and the snapshot a clean stop left covers the last command with the same state hash.
 */
export async function verifyAgainstReference(
  t: Test,
  run: { records: readonly string[]; reference: ReferenceRun; snapshotsDir: string; lastOffset: number; seed: number },
): Promise<void> {
  const { reference } = run;
  // Where records are cut depends on batch boundaries, which crashes move; the events in them must not move.
  const events = eventsOfRecords(run.records);
  t.equal(events.length, reference.events.length, `as many events as one uninterrupted run (seed ${run.seed})`);
  t.equal(checkSequence(events), null, 'event sequence numbers are 1..n: none lost, none doubled');
  const firstDiff = events.findIndex((e, i) => e !== reference.events[i]);
  t.equal(firstDiff, -1, `events equal the uninterrupted run's, byte for byte ${firstDiff >= 0 ? `(first difference at ${firstDiff}: ${events[firstDiff]} vs ${reference.events[firstDiff]})` : ''}`);
  t.equal(duplicatesAnswered(events), 3, 'each retried command was answered COMMAND_DUPLICATE_ID, with no second effect');
  const newest = await new SnapshotStore({ dir: run.snapshotsDir }).loadNewest();
  t.equal(newest?.offset, run.lastOffset, 'a clean stop leaves a snapshot of the last command');
  t.equal(newest === null ? null : stateHash(restore(newest.bytes)), reference.stateHash, 'the final state hash equals the uninterrupted run');
}
