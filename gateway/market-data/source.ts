// Where market data reads the engine's events: records of the events topic (one per command, or a few for a very
// large one), in order, each with its offset. Kafka in production (gateway/events-feed.ts: the instance's one events
// reader, shared with the command bus's results); ArrayEventSource in tests, fed with records already decoded, and
// appended to while it runs (a live engine).

import type { EngineEvent } from '../../engine/core/index.js';

export interface EventRecord {
  /** Position in the source (the Kafka offset): persistence stores the offset of its last record with its seq. */
  readonly offset: number;
  readonly events: readonly EngineEvent[];
}

export interface MarketEventSource {
  /**
   * Delivers the records after `afterOffset`, in order, in bounded batches, awaiting each `onBatch` before the next.
   * Resolves after stop(); rejects when the source fails or `onBatch` throws. May be called again after it ended.
   */
  consume(afterOffset: number, onBatch: (records: EventRecord[]) => Promise<void>): Promise<void>;
  /** Lets the batch in hand finish, then ends consume(). */
  stop(): Promise<void>;
}

/** Records in memory; `append` adds more while consume() runs (it waits for them until stop()). */
export class ArrayEventSource implements MarketEventSource {
  private readonly records: EventRecord[] = [];
  private stopped = false;
  private wake: (() => void) | null = null;

  constructor(
    records: readonly EventRecord[] = [],
    private readonly batchRecordsMax = 500,
  ) {
    this.records.push(...records);
  }

  /** Appends one command's events as the next record; returns its offset. */
  append(events: readonly EngineEvent[]): number {
    const offset = this.records.length === 0 ? 0 : this.records[this.records.length - 1].offset + 1;
    this.records.push({ offset, events });
    this.wake?.();
    return offset;
  }

  async consume(afterOffset: number, onBatch: (records: EventRecord[]) => Promise<void>): Promise<void> {
    this.stopped = false;
    let i = 0;
    while (i < this.records.length && this.records[i].offset <= afterOffset) i++;
    while (!this.stopped) {
      if (i >= this.records.length) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = null;
        continue;
      }
      const batch = this.records.slice(i, i + this.batchRecordsMax);
      i += batch.length;
      await onBatch(batch);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
  }
}
