// Deduplication by `seq`, the one rule every consumer of the events topic follows. The daemon writes without a
// transaction: a restart rewrites the events after the last one it finds in the topic, and a second daemon that
// should not be running (a zombie) writes the same events again, cut into records at other places. The engine is
// deterministic, so an event with a given `seq` is the same event whoever wrote it: keeping the last applied `seq`
// and skipping anything at or below it makes every copy after the first change nothing. A record that starts
// past the next `seq` means events are missing: that stops the consumer, never skipped.

import { EventStreamError } from './errors.js';

export interface Sequenced {
  readonly seq: number;
  /** Engine events have these; errors name the event with them. */
  readonly type?: string;
  readonly cmdId?: string;
}

function describe(ev: Sequenced): string {
  return ev.type === undefined
    ? `event seq ${ev.seq}`
    : `event seq ${ev.seq} (${ev.type}, cmdId ${JSON.stringify(ev.cmdId)})`;
}

/** Keeps the last `seq` applied; see the file comment. Pure: the tests hand it records directly. */
export class SeqFilter {
  /**
   * @param lastSeq the last seq the consumer applied (0: none yet), or null to take the first record as it comes
   *   (a reader starting at the topic's end, with no stored position).
   */
  constructor(private lastSeqApplied: number | null) {
    if (lastSeqApplied !== null && (!Number.isSafeInteger(lastSeqApplied) || lastSeqApplied < 0))
      throw new RangeError(`lastSeq ${lastSeqApplied} must be a non-negative integer`);
  }

  get lastSeq(): number | null {
    return this.lastSeqApplied;
  }

  /**
   * The events of a record (a run of consecutive seqs) that come after the last one accepted: all of them, the
   * tail of a record that straddles the position, or none (a copy); the position moves past them. Throws
   * EventStreamError on a gap (the position does not move).
   */
  accept<E extends Sequenced>(events: readonly E[], offset: number): readonly E[] {
    const fresh = this.fresh(events, offset);
    if (fresh.length > 0) this.lastSeqApplied = fresh[fresh.length - 1].seq;
    return fresh;
  }

  /** What accept() would return, without moving the position (for a consumer that moves it once it applied them). */
  fresh<E extends Sequenced>(events: readonly E[], offset: number): readonly E[] {
    if (events.length === 0)
      throw new EventStreamError('EVENTS_BAD_RECORD', `record at offset ${offset} holds no events`, offset);
    const first = events[0].seq;
    const last = events[events.length - 1].seq;
    // decodeEventRecord and decodeTrustedEventRecord check that a record is consecutive; a caller handing other arrays is a programming error.
    if (last - first !== events.length - 1)
      throw new EventStreamError(
        'EVENTS_BAD_RECORD',
        `record at offset ${offset} holds seqs ${first}..${last} in ${events.length} events`,
        offset,
      );
    const known = this.lastSeqApplied;
    if (known === null) return events;
    if (last <= known) return [];
    if (first > known + 1)
      throw new EventStreamError(
        'EVENTS_SEQ_GAP',
        `record at offset ${offset} starts at ${describe(events[0])}, expected seq ${known + 1}: events ${known + 1}..${first - 1} are missing`,
        offset,
      );
    return first > known ? events : events.slice(known + 1 - first);
  }
}
