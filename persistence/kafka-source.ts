// The events topic on Kafka as an EventSource. One partition; a record holds a run of events (a command's events
// may span records), written by the engine daemon in transactions: read_committed, so an aborted batch is
// never seen. The position lives in PostgreSQL, not in Kafka: each run reads with a fresh consumer group and
// seeks to the stored offset + 1, so a restart never waits for a dead member's session and a rebalance never
// moves the position.

import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import { decodeEventRecord } from '../engine/wire/codec.js';
import { ProjectionError } from './errors.js';
import type { SourceRecord } from './projector.js';
import type { EventSource } from './source.js';
import { DISCONNECT_TIMEOUT_MS, bounded } from '../engine/daemon/kafka-log.js';

const PARTITION = 0;
const IN_FLIGHT_TIMEOUT_MS = 60_000;

export interface KafkaSourceOptions {
  readonly kafka: Kafka;
  readonly topic: string;
  /** Prefix of the per-run reader group (visible in Kafka tooling). */
  readonly groupId: string;
  /** How long a fetch waits for data: bounds the added lag at low rates. */
  readonly maxWaitTimeMs?: number;
}

/** A record that does not decode is an upstream bug: it stops the consumer with its offset. */
export function decodeRecord(m: KafkaMessage): SourceRecord {
  const offset = Number(m.offset);
  try {
    return { offset, timestampMs: Number(m.timestamp), events: decodeEventRecord(m.value ?? new Uint8Array(0)) };
  } catch (err) {
    throw new ProjectionError('PERSIST_BAD_RECORD', `events topic record at offset ${offset} (key ${JSON.stringify(m.key?.toString() ?? null)}): ${(err as Error).message}`);
  }
}

export class KafkaEventSource implements EventSource {
  private consumer: Consumer | null = null;
  private stopped = false;
  private stopWaiter: (() => void) | null = null;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(private readonly opts: KafkaSourceOptions) {}

  async consume(afterOffset: number, batchRecordsMax: number, onBatch: (records: SourceRecord[]) => Promise<void>): Promise<void> {
    if (this.stopped) return;
    const consumer = this.opts.kafka.consumer({ groupId: `${this.opts.groupId}.reader.${randomUUID()}`, maxWaitTimeInMs: this.opts.maxWaitTimeMs ?? 50, sessionTimeout: 30_000 });
    this.consumer = consumer;
    let nextOffset = afterOffset + 1;
    consumer.on(consumer.events.GROUP_JOIN, () => consumer.seek({ topic: this.opts.topic, partition: PARTITION, offset: String(nextOffset) }));
    try {
      await consumer.connect();
      await consumer.subscribe({ topic: this.opts.topic, fromBeginning: true });
    } catch (err) {
      if (this.stopped) return;
      throw err;
    }
    if (this.stopped) return;
    try {
      await this.run(consumer, batchRecordsMax, onBatch, () => nextOffset, (o) => (nextOffset = o));
    } catch (err) {
      await bounded(consumer.disconnect(), DISCONNECT_TIMEOUT_MS);
      throw err;
    }
  }

  private run(consumer: Consumer, batchRecordsMax: number, onBatch: (records: SourceRecord[]) => Promise<void>, next: () => number, setNext: (o: number) => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.stopWaiter = resolve;
      const fail = (err: unknown): void => {
        this.stopped = true;
        reject(err);
      };
      consumer
        .run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
            const messages = batch.messages.filter((m) => Number(m.offset) >= next());
            for (let i = 0; i < messages.length; i += batchRecordsMax) {
              if (!isRunning() || isStale() || this.stopped) return;
              const chunk = messages.slice(i, i + batchRecordsMax);
              this.inFlight = Promise.resolve().then(() => onBatch(chunk.map(decodeRecord)));
              try {
                await this.inFlight;
              } catch (err) {
                // The consumer must stop on this error, not have kafkajs retry the batch behind our back.
                fail(err);
                return;
              }
              setNext(Number(chunk[chunk.length - 1].offset) + 1);
              resolveOffset(String(next() - 1));
              await heartbeat();
            }
          },
        })
        .catch((err) => (this.stopped ? resolve() : fail(err)));
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await bounded(this.inFlight, IN_FLIGHT_TIMEOUT_MS);
    this.stopWaiter?.();
    await bounded(this.consumer?.disconnect(), DISCONNECT_TIMEOUT_MS);
  }
}
