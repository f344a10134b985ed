// The events topic on Kafka as a MarketEventSource: the shared events reader (kafka/event-stream.ts), which
// decodes, drops copies by `seq` and stops on a gap. Every gateway instance reads the whole topic itself from the
// position persistence stored (PostgreSQL), not from Kafka.

import type { Kafka } from 'kafkajs';
import { EventStreamReader } from '../../kafka/event-stream.js';
import type { EventRecord, MarketEventSource } from './source.js';

export interface KafkaMarketSourceOptions {
  readonly kafka: Kafka;
  readonly topic: string;
  /** Prefix of the per-run group, e.g. `gateway.<instance>`: visible in Kafka tooling. */
  readonly groupIdPrefix: string;
  /** Records handed to onBatch at once. */
  readonly batchRecordsMax?: number;
  /** How long a fetch waits for data: bounds the added latency at low rates. */
  readonly maxWaitTimeMs?: number;
}

export class KafkaMarketSource implements MarketEventSource {
  private readonly reader: EventStreamReader;

  constructor(opts: KafkaMarketSourceOptions) {
    this.reader = new EventStreamReader({ ...opts, batchRecordsMax: opts.batchRecordsMax ?? 500 });
  }

  /** The core checks the first record against its own position (MarketDataCore.applyRecord). */
  consume(afterOffset: number, onBatch: (records: EventRecord[]) => Promise<void>): Promise<void> {
    return this.reader.consume({ afterOffset, afterSeq: null }, onBatch);
  }

  stop(): Promise<void> {
    return this.reader.stop();
  }
}
