// The events topic on Kafka as an EventSource: the shared events reader (kafka/event-stream.ts), which decodes,
// drops copies by `seq` and stops on a gap. The position lives in PostgreSQL, not in Kafka.

import type { Kafka } from 'kafkajs';
import { EventStreamReader } from '../kafka/event-stream.js';
import type { SourceRecord } from './projector.js';
import type { EventSource } from './source.js';

export interface KafkaSourceOptions {
  readonly kafka: Kafka;
  readonly topic: string;
  /** Prefix of the per-run reader group (visible in Kafka tooling). */
  readonly groupId: string;
  /** How long a fetch waits for data: bounds the added lag at low rates. */
  readonly maxWaitTimeMs?: number;
}

export class KafkaEventSource implements EventSource {
  private reader: EventStreamReader | null = null;
  private stopped = false;

  constructor(private readonly opts: KafkaSourceOptions) {}

  /**
   * The stored position's seq is the projector's to check: the first record read may straddle it (cut elsewhere by
   * another writer), and the projector applies only the events after it.
   */
  async consume(
    afterOffset: number,
    batchRecordsMax: number,
    onBatch: (records: SourceRecord[]) => Promise<void>,
  ): Promise<void> {
    if (this.stopped) return;
    this.reader = new EventStreamReader({
      kafka: this.opts.kafka,
      topic: this.opts.topic,
      groupIdPrefix: this.opts.groupId,
      batchRecordsMax,
      maxWaitTimeMs: this.opts.maxWaitTimeMs,
    });
    await this.reader.consume({ afterOffset, afterSeq: null }, onBatch);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.reader?.stop();
  }
}
