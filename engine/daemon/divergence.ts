// A standby's divergence check: the events it computes must equal, byte for byte, the events the writer published
// with the same `seq`. The engine is deterministic, so any difference is a bug (or altered input) that would
// silently split the replicas: the standby stops with ENGINE_STANDBY_DIVERGED rather than ever take over with a
// state nobody else has. Pure: the daemon and the tests hand it events directly.

import type { EngineEvent } from '../core/index.js';
import { encodeEvent } from '../wire/codec.js';
import { StandbyError } from './standby-errors.js';

/** An event the standby computed, with the command offset it came from (promotion writes it with its header). */
export interface ComputedEvent {
  readonly event: EngineEvent;
  readonly commandOffset: number;
}

export interface DivergenceCheckOptions {
  /** Events below this seq are history (before the standby started following the writer): not compared. */
  readonly checkFromSeq: number;
  /** Events held per side while the other side has not produced its copy; the oldest goes unchecked past it. */
  readonly windowMax: number;
}

export class DivergenceCheck {
  private readonly computed = new Map<number, ComputedEvent & { readonly encoded: string }>();
  private readonly published = new Map<number, string>();
  /** Events compared, and events that left the window before their copy came. */
  checked = 0;
  unchecked = 0;

  constructor(private readonly opts: DivergenceCheckOptions) {
    if (!(opts.windowMax >= 1)) throw new RangeError(`windowMax ${opts.windowMax} must be at least 1`);
    if (!Number.isSafeInteger(opts.checkFromSeq) || opts.checkFromSeq < 1)
      throw new RangeError(`checkFromSeq ${opts.checkFromSeq} must be a positive integer`);
  }

  /** Events the standby computed from one command; throws StandbyError on a difference. */
  addComputed(events: readonly EngineEvent[], commandOffset: number): void {
    for (const event of events) {
      if (event.seq < this.opts.checkFromSeq) continue;
      const encoded = encodeEvent(event);
      const copy = this.published.get(event.seq);
      if (copy === undefined) {
        this.computed.set(event.seq, { event, commandOffset, encoded });
        this.bound(this.computed);
        continue;
      }
      this.published.delete(event.seq);
      this.compare(event.seq, encoded, copy);
    }
  }

  /** Events the writer published (deduplicated by seq); throws StandbyError on a difference. */
  addPublished(events: readonly EngineEvent[]): void {
    for (const event of events) {
      if (event.seq < this.opts.checkFromSeq) continue;
      const encoded = encodeEvent(event);
      const mine = this.computed.get(event.seq);
      if (mine === undefined) {
        this.published.set(event.seq, encoded);
        this.bound(this.published);
        continue;
      }
      this.computed.delete(event.seq);
      this.compare(event.seq, mine.encoded, encoded);
    }
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
      out.push({ event: held.event, commandOffset: held.commandOffset });
    }
    return out;
  }

  private compare(seq: number, computed: string, published: string): void {
    if (computed !== published)
      throw new StandbyError(
        'ENGINE_STANDBY_DIVERGED',
        `event seq ${seq} differs: computed ${computed}, published ${published}`,
      );
    this.checked++;
  }

  /** Maps keep insertion order, and each side arrives in seq order: the first key is the oldest. */
  private bound(side: Map<number, unknown>): void {
    if (side.size <= this.opts.windowMax) return;
    side.delete(side.keys().next().value as number);
    this.unchecked++;
  }
}
