// Where events come from: the Kafka events topic (kafka-source.ts) or, later, the embedded file log. The
// consumer sees only this interface: records in order, each with its position, in bounded batches.

import type { SourceRecord } from './projector.js';

export interface EventSource {
  /**
   * Delivers the records after `afterOffset`, in order, in batches of at most `batchRecordsMax` records,
   * awaiting each `onBatch` before the next. Resolves after stop(); rejects when the source fails.
   */
  consume(
    afterOffset: number,
    batchRecordsMax: number,
    onBatch: (records: SourceRecord[]) => Promise<void>,
  ): Promise<void>;
  /** Lets the batch in hand finish, then ends consume(). */
  stop(): Promise<void>;
}
