// The events topic on Kafka as a MarketEventSource. Every gateway instance reads the whole topic itself, with a
// consumer group of its own (fresh per run: the position comes from PostgreSQL, not from Kafka, so a restart never
// waits for a dead member's session and no two instances share partitions), read_committed so a batch the engine
// aborted is never seen, positioned by seek to the stored offset + 1.

import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import { decodeEventRecord } from '../../engine/wire/codec.js';
import type { EventRecord, MarketEventSource } from './source.js';
import { DISCONNECT_TIMEOUT_MS, bounded } from '../../engine/daemon/kafka-log.js';

const PARTITION = 0;
const IN_FLIGHT_TIMEOUT_MS = 30_000;

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

/** A record that does not decode is an upstream bug; the error names its offset. */
export function decodeMessage(m: KafkaMessage): EventRecord {
  const offset = Number(m.offset);
  try {
    return { offset, events: decodeEventRecord(m.value ?? new Uint8Array(0)) };
  } catch (err) {
    throw new Error(`events topic record at offset ${offset}: ${(err as Error).message}`);
  }
}

export class KafkaMarketSource implements MarketEventSource {
  private consumer: Consumer | null = null;
  private stopped = false;
  private stopWaiter: (() => void) | null = null;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(private readonly opts: KafkaMarketSourceOptions) {}

  async consume(afterOffset: number, onBatch: (records: EventRecord[]) => Promise<void>): Promise<void> {
    this.stopped = false;
    const consumer = this.opts.kafka.consumer({
      groupId: `${this.opts.groupIdPrefix}.${randomUUID()}`, readUncommitted: false, maxWaitTimeInMs: this.opts.maxWaitTimeMs ?? 50, sessionTimeout: 30_000,
    });
    this.consumer = consumer;
    let nextOffset = afterOffset + 1;
    // After any (re)join the position is ours to set: everything before nextOffset was delivered.
    consumer.on(consumer.events.GROUP_JOIN, () => consumer.seek({ topic: this.opts.topic, partition: PARTITION, offset: String(nextOffset) }));
    try {
      await consumer.connect();
      await consumer.subscribe({ topic: this.opts.topic, fromBeginning: true });
      if (this.stopped) return;
      await new Promise<void>((resolve, reject) => {
        this.stopWaiter = resolve;
        const fail = (err: unknown): void => {
          this.stopped = true;
          reject(err);
        };
        const batchMax = this.opts.batchRecordsMax ?? 500;
        consumer
          .run({
            autoCommit: false,
            eachBatchAutoResolve: false,
            eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
              const messages = batch.messages.filter((m) => Number(m.offset) >= nextOffset);
              for (let i = 0; i < messages.length; i += batchMax) {
                if (!isRunning() || isStale() || this.stopped) return;
                const chunk = messages.slice(i, i + batchMax);
                this.inFlight = Promise.resolve().then(() => onBatch(chunk.map(decodeMessage)));
                try {
                  await this.inFlight;
                } catch (err) {
                  // Stop here rather than have kafkajs retry the batch behind our back.
                  return fail(err);
                }
                nextOffset = Number(chunk[chunk.length - 1].offset) + 1;
                resolveOffset(String(nextOffset - 1));
                await heartbeat();
              }
            },
          })
          .catch((err) => (this.stopped ? resolve() : fail(err)));
      });
    } finally {
      await bounded(consumer.disconnect(), DISCONNECT_TIMEOUT_MS);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await bounded(this.inFlight, IN_FLIGHT_TIMEOUT_MS);
    this.stopWaiter?.();
    await bounded(this.consumer?.disconnect(), DISCONNECT_TIMEOUT_MS);
  }
}
