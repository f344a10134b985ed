// Shared by the daemon recovery tests: the reference run (one uninterrupted engine in this process), kill points
// and the checks against the reference; the seeded stream and daemon processes come from testkit/daemon-process.ts.

import type { Test } from 'tap';
import { Engine, restore } from '../../engine/core/index.js';
import { stateHash } from '../../engine/daemon/snapshot-store.js';
import { SnapshotStore } from '../../engine/daemon/snapshot-store.js';
import { Prng } from '../../testkit/prng.js';
import { decodeCommand, decodeEventRecord, encodeEvent } from '../../engine/wire/codec.js';
import { REPO_ROOT, raceTimeout, seededCommands, sleep, startDaemon, waitFor } from '../../testkit/daemon-process.js';
import type { DaemonProcess } from '../../testkit/daemon-process.js';

// Re-exported for the daemon tests, which import everything from here.
export { REPO_ROOT, raceTimeout, seededCommands, sleep, startDaemon, waitFor };
export type { DaemonProcess };

export interface StoredCommand {
  readonly value: Uint8Array;
  readonly timestampMs: number;
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
    const out = decoded.ok
      ? engine.apply(decoded.command)
      : engine.applyInvalid(decoded.id, c.timestampMs, decoded.code);
    for (const ev of out) events.push(encodeEvent(ev));
  }
  return { events, stateHash: stateHash(engine) };
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
  t.equal(
    firstDiff,
    -1,
    `events equal the uninterrupted run's, byte for byte ${firstDiff >= 0 ? `(first difference at ${firstDiff}: ${events[firstDiff]} vs ${reference.events[firstDiff]})` : ''}`,
  );
  t.equal(
    duplicatesAnswered(events),
    3,
    'each retried command was answered COMMAND_DUPLICATE_ID, with no second effect',
  );
  const newest = await new SnapshotStore({ dir: run.snapshotsDir }).loadNewest();
  t.equal(newest?.offset, run.lastOffset, 'a clean stop leaves a snapshot of the last command');
  t.equal(
    newest === null ? null : stateHash(restore(newest.bytes)),
    reference.stateHash,
    'the final state hash equals the uninterrupted run',
  );
}
