// A standby's divergence check: the events it computes must equal, byte for byte, the events the writer published
// with the same `seq`. The engine is deterministic, so any difference is a bug (or altered input) that would
// silently split the replicas: the standby stops with ENGINE_STANDBY_DIVERGED rather than ever take over with a
// state nobody else has. Pure: the daemon and the tests hand it events directly.
//
// The writer's records are never decoded: the standby encodes its own events anyway (it must be able to write
// them once promoted), and the codec gives the same event the same bytes (encodeEvent; pinned by
// test/wire/event-bytes.sim.test.ts). So each published record's text is compared with the standby's own
// encodings at the place where each event must be. Decoding and re-encoding every published event cost a standby
// more CPU than the writer spends, and at 10,000 commands/s the standbys fell behind (no failover completed).

import type { EngineEvent } from '../core/index.js';
import { EVENT_RECORD_HEAD, EVENT_RECORD_TAIL, encodeEvent } from '../wire/codec.js';
import { StandbyError } from './standby-errors.js';

/** An event the standby computed, with the command offset it came from (promotion writes it with its header). */
export interface ComputedEvent {
  readonly event: EngineEvent;
  readonly commandOffset: number;
  /** encodeEvent(event): kept for the comparison, and written as is on promotion. */
  readonly encoded: string;
}

/**
 * A record the writer published, as text: `body` is its events' encodings joined by ',' (the record without its
 * envelope), holding seqs firstSeq..lastSeq. Only the two seqs are read out of it (publishedRun).
 */
export interface PublishedRun {
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly body: string;
}

export interface DivergenceCheckOptions {
  /** Events below this seq are history (before the standby started following the writer): not compared. */
  readonly checkFromSeq: number;
  /** Events held per side while the other side has not produced its copy; the oldest goes unchecked past it. */
  readonly windowMax: number;
}

/** A published run being compared: `seq` is its next event, which starts at `pos` of the body. */
interface HeldRun {
  readonly run: PublishedRun;
  seq: number;
  pos: number;
}

export class DivergenceCheck {
  private readonly computed = new Map<number, ComputedEvent>();
  private readonly published: HeldRun[] = [];
  /** Events held in `published` (not yet compared). */
  private publishedHeld = 0;
  /** Published events up to this seq left the window uncompared: their computed copies are not held. */
  private droppedThroughSeq = 0;
  /** The last published seq taken: a record that repeats events (a restarted or zombie writer) is cut after it. */
  private publishedThroughSeq = 0;
  /** Events compared, and events that left the window before their copy came. */
  checked = 0;
  unchecked = 0;
  /** full() from here: the last quarter of the window is room for the batch in hand (see full()). */
  private readonly pauseAtEvents: number;

  constructor(private readonly opts: DivergenceCheckOptions) {
    if (!(opts.windowMax >= 1)) throw new RangeError(`windowMax ${opts.windowMax} must be at least 1`);
    if (!Number.isSafeInteger(opts.checkFromSeq) || opts.checkFromSeq < 1)
      throw new RangeError(`checkFromSeq ${opts.checkFromSeq} must be a positive integer`);
    this.pauseAtEvents = opts.windowMax - Math.floor(opts.windowMax / 4);
  }

  /**
   * Whether the standby holds so many computed events the writer has not published that it must stop applying
   * commands until the writer catches up (standby-gate.ts). Checked between batches, so a quarter of the window
   * is left for the batch in hand: 25,000 events by default, 25 per command of a 1000-command batch. A batch that
   * makes more still drops the oldest, as before: bounded memory comes first.
   */
  full(): boolean {
    return this.computed.size >= this.pauseAtEvents;
  }

  /** Computed events held, not yet published by the writer. */
  get unpublishedHeld(): number {
    return this.computed.size;
  }

  /** Events the standby computed from one command; throws StandbyError on a difference. */
  addComputed(events: readonly EngineEvent[], commandOffset: number): void {
    for (const event of events) {
      if (event.seq < this.opts.checkFromSeq) continue;
      if (event.seq <= this.droppedThroughSeq) {
        this.unchecked++;
        continue;
      }
      this.computed.set(event.seq, { event, commandOffset, encoded: encodeEvent(event) });
      if (this.computed.size > this.opts.windowMax) {
        this.computed.delete(this.computed.keys().next().value as number); // insertion order is seq order
        this.unchecked++;
      }
    }
    this.drain();
  }

  /** Records the writer published, in seq order (copies of events already taken are cut off); throws StandbyError on a difference. */
  addPublished(runs: readonly PublishedRun[]): void {
    for (const run of runs) {
      const fromSeq = Math.max(this.opts.checkFromSeq, this.publishedThroughSeq + 1);
      if (run.lastSeq < fromSeq) continue;
      this.publishedThroughSeq = run.lastSeq;
      const held: HeldRun = { run, seq: run.firstSeq, pos: 0 };
      if (held.seq < fromSeq) skipTo(held, fromSeq);
      this.published.push(held);
      this.publishedHeld += run.lastSeq - held.seq + 1;
    }
    this.drain();
    while (this.publishedHeld > this.opts.windowMax) this.dropOldestPublished();
  }

  /**
   * The computed events after `publishedSeq` up to `lastSeq` (what a promoted standby must write), in seq order.
   * Throws ENGINE_STANDBY_BACKLOG_LOST when one of them is no longer held (the caller restarts cold).
   */
  unpublished(publishedSeq: number, lastSeq: number): ComputedEvent[] {
    const out: ComputedEvent[] = [];
    for (let seq = publishedSeq + 1; seq <= lastSeq; seq++) {
      const held = this.computed.get(seq);
      if (held === undefined)
        throw new StandbyError(
          'ENGINE_STANDBY_BACKLOG_LOST',
          `promotion must write events ${publishedSeq + 1}..${lastSeq}, but event ${seq} is no longer held`,
        );
      out.push(held);
    }
    return out;
  }

  /** Compares every published event whose computed copy is here, oldest first; stops at the first one missing. */
  private drain(): void {
    while (this.published.length > 0) {
      const held = this.published[0];
      if (held.seq > held.run.lastSeq) {
        this.published.shift();
        continue;
      }
      const mine = this.computed.get(held.seq);
      if (mine === undefined) return; // not computed yet (computed copies that left the window: droppedThroughSeq)
      this.compare(held, mine.encoded);
      this.computed.delete(held.seq);
      held.seq++;
      this.publishedHeld--;
    }
  }

  /** The event at `held.pos` must be exactly `encoded`, followed by ',' or, as the run's last, by its end. */
  private compare(held: HeldRun, encoded: string): void {
    const { body, lastSeq } = held.run;
    const end = held.pos + encoded.length;
    const framed = held.seq === lastSeq ? end === body.length : body.charCodeAt(end) === COMMA;
    if (!framed || !body.startsWith(encoded, held.pos)) {
      const published = body.slice(held.pos, Math.min(body.length, end + 64));
      throw new StandbyError(
        'ENGINE_STANDBY_DIVERGED',
        `event seq ${held.seq} differs: computed ${encoded}, published ${published}`,
      );
    }
    held.pos = end + 1;
    this.checked++;
  }

  private dropOldestPublished(): void {
    const held = this.published.shift() as HeldRun;
    const left = held.run.lastSeq - held.seq + 1;
    this.publishedHeld -= left;
    this.unchecked += left;
    this.droppedThroughSeq = held.run.lastSeq;
  }
}

const COMMA = ','.charCodeAt(0);
const SEQ_KEY = '"seq":';

/**
 * A published record's text as a run: the envelope checked, the first and last events' seqs read. `"seq":` cannot
 * occur inside a JSON string (its quotes would be escaped) and is the only field of that name, so the first and
 * last occurrences are the first and last events' seqs. The events themselves are checked by the comparison.
 */
export function publishedRun(value: string): PublishedRun | null {
  if (!value.startsWith(EVENT_RECORD_HEAD) || !value.endsWith(EVENT_RECORD_TAIL)) return null;
  const body = value.slice(EVENT_RECORD_HEAD.length, value.length - EVENT_RECORD_TAIL.length);
  const firstSeq = seqAt(body, body.indexOf(SEQ_KEY));
  const lastSeq = seqAt(body, body.lastIndexOf(SEQ_KEY));
  if (firstSeq === null || lastSeq === null || lastSeq < firstSeq) return null;
  return { firstSeq, lastSeq, body };
}

function seqAt(body: string, keyAt: number): number | null {
  if (keyAt < 0) return null;
  const match = /^\d+/.exec(body.slice(keyAt + SEQ_KEY.length, keyAt + SEQ_KEY.length + 20));
  const seq = match === null ? NaN : Number(match[0]);
  return Number.isSafeInteger(seq) && seq >= 1 ? seq : null;
}

/** Moves a held run to its event `seq` (a run that straddles checkFromSeq, or a copy cut at another place). */
function skipTo(held: HeldRun, seq: number): void {
  const keyAt = held.run.body.indexOf(`${SEQ_KEY}${seq},`, held.pos);
  const start = keyAt < 0 ? -1 : held.run.body.lastIndexOf('{"v":', keyAt);
  if (start < 0)
    throw new StandbyError('ENGINE_STANDBY_DIVERGED', `published run ${held.run.firstSeq}.. has no event seq ${seq}`);
  held.seq = seq;
  held.pos = start;
}
