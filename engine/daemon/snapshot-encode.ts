// Encodes the engine's snapshot in slices, letting the event loop run between them. Encoded in one go, a book of a
// million orders held the event loop for about a second (bench/snapshot-stall.ts), during which the writer's
// lease renewals could not run: the lease had to outlast that stall, and every failover waited for the lease.
// The engine applies nothing meanwhile (the daemon's lane holds the next batch until the snapshot is written), so
// the bytes describe one state; snapshotSlices asserts it.

import { setTimeout as sleep } from 'node:timers/promises';
import { snapshotSlices } from '../core/index.js';
import type { Engine } from '../core/index.js';

/**
 * A zero-delay timer runs after every timer already due (a renewal that fell due during the slice) and after the
 * event loop has polled for I/O (a renewal's answer); setImmediate could run the next slice before those timers.
 * It costs about a millisecond a pause.
 */
export const yieldToTimers = (): Promise<void> => sleep(0);

/** Orders encoded between two pauses: a few milliseconds each (bench/README.md, "Snapshot stall"). */
export const SNAPSHOT_SLICE_ORDERS = 20_000;

export interface EncodedSnapshot {
  readonly bytes: Uint8Array;
  readonly slices: number;
  /** The longest slice: the longest the encoding kept the event loop from anything else. */
  readonly sliceMsMax: number;
}

export async function encodeSnapshot(engine: Engine, ordersPerSlice = SNAPSHOT_SLICE_ORDERS): Promise<EncodedSnapshot> {
  const slices = snapshotSlices(engine, ordersPerSlice);
  let count = 0;
  let sliceMsMax = 0;
  for (;;) {
    const startedMs = performance.now();
    const step = slices.next();
    sliceMsMax = Math.max(sliceMsMax, performance.now() - startedMs);
    count++;
    if (step.done === true) return { bytes: step.value, slices: count, sliceMsMax };
    await yieldToTimers();
  }
}
