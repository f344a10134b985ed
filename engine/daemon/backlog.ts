// A promoted standby's backlog: the events it computed that the old writer never published, up to its whole
// window (100,000 events, about 25 MB). Packed at once, it was one synchronous stretch of work proportional to the
// backlog, during which the lease's renewals could not run (on 2 loaded cores, promoted standbys exited with
// ENGINE_LEASE_LOST about a second after promotion). So it is written in slices of about one produce request, each
// cut at a command's end (the record's offsets header then names whole commands, as a batch's does), and the event
// loop runs its timers between two slices: a renewal waits at most for one slice's packing and sending.

import assert from 'node:assert/strict';
import type { EventRecordPacker } from '../wire/codec.js';
import type { ComputedEvent } from './divergence.js';
import type { EventRecord } from './log.js';

/**
 * Bytes of encoded events per slice: about one produce request (kafka-log.ts sends at most 900,000 bytes each), so
 * slicing adds no round trip, and packing one takes a few milliseconds.
 */
export const BACKLOG_SLICE_BYTES = 768 * 1024;

/** Appends one slice's records, naming the command offsets its events came from (the daemon's append). */
export type AppendSlice = (records: EventRecord[], firstOffset: number, lastOffset: number) => Promise<void>;

/**
 * Writes `backlog` (events in seq order) slice by slice, each appended before the next is packed, and returns the
 * number of slices. The packer must be empty: every event goes out exactly once, in order.
 */
export async function writeBacklog(
  backlog: readonly ComputedEvent[],
  packer: EventRecordPacker,
  append: AppendSlice,
): Promise<number> {
  assert.equal(packer.take().length, 0, 'the packer holds no events of a batch');
  let slices = 0;
  for (let from = 0; from < backlog.length; slices++) {
    const to = backlogSliceEnd(backlog, from);
    for (let i = from; i < to; i++) packer.addEncoded(backlog[i].encoded);
    const records = packer.take().map((value) => ({ key: '', value }));
    await append(records, backlog[from].commandOffset, backlog[to - 1].commandOffset);
    from = to;
    // A send can resolve without the loop reaching its timers phase (setImmediate would run before it): a
    // zero-delay timer runs after every timer already due, the lease's renewal among them.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return slices;
}

/** The end (exclusive) of the slice starting at `from`: once past BACKLOG_SLICE_BYTES, at the next command's end. */
export function backlogSliceEnd(backlog: readonly ComputedEvent[], from: number): number {
  assert.ok(from < backlog.length, 'a slice starts inside the backlog');
  let bytes = 0;
  let end = from;
  while (end < backlog.length) {
    bytes += backlog[end].encoded.length;
    end++;
    const commandEnds = end === backlog.length || backlog[end].commandOffset !== backlog[end - 1].commandOffset;
    if (bytes >= BACKLOG_SLICE_BYTES && commandEnds) break;
  }
  return end;
}
