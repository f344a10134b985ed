// An EventSource over records already in memory (tests, tools that read a whole log first). Honours the same
// contract as the Kafka source: records after `afterOffset`, in order, in bounded batches, stop() between batches.

import type { SourceRecord } from './projector.js';
import type { EventSource } from './source.js';

export class ArrayEventSource implements EventSource {
  private stopped = false;

  constructor(private readonly records: readonly SourceRecord[]) {}

  async consume(
    afterOffset: number,
    batchRecordsMax: number,
    onBatch: (records: SourceRecord[]) => Promise<void>,
  ): Promise<void> {
    let i = this.records.findIndex((r) => r.offset > afterOffset);
    if (i === -1) return;
    while (i < this.records.length && !this.stopped) {
      const batch = this.records.slice(i, i + batchRecordsMax);
      await onBatch(batch);
      i += batch.length;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
  }
}
