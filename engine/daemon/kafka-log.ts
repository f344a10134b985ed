// The command log on Kafka. Commands: one topic, one partition per engine instance (order is the sequence), read
// by the shared partition reader from the position the daemon keeps. Events: one topic, written by an idempotent
// producer (acks=all) with no transaction: the engine is deterministic, so the events topic itself carries the
// progress. Each record names the command offsets of its batch (COMMAND_OFFSETS_HEADER); on start the daemon reads
// the topic's tail for the last `seq` written and emits only higher ones. Nothing written is ever taken back;
// consumers deduplicate by `seq` (kafka/seq-filter.ts), which also makes a second daemon on the same partition
// (a zombie) harmless.

import { Partitioners } from 'kafkajs';
import type { Admin, Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { kafkaClient } from '../../kafka/client.js';
import { COMMAND_OFFSETS_HEADER, commandOffsetsHeader, readEventsTail } from '../../kafka/event-stream.js';
import { PartitionReader } from '../../kafka/partition-reader.js';
import { DISCONNECT_TIMEOUT_MS, bounded } from '../../kafka/shutdown.js';
import { PARTITION, ensureTopics } from '../../kafka/topics.js';
import type { CommandLog, CommandRecord, EventRecord, ResumePoint } from './log.js';
import { StandbyError } from './standby-errors.js';

export interface KafkaLogOptions {
  readonly brokers: string[];
  readonly clientId: string;
  readonly commandsTopic: string;
  readonly eventsTopic: string;
  /** Prefix of the command reader's per-run group (visible in Kafka tooling; nothing is committed in it). */
  readonly groupIdPrefix: string;
  /** Split a commit's events into produce requests of at most this many bytes (broker message.max.bytes). */
  readonly produceBytesMax?: number;
  /** Where kafkajs's own log lines go; without it they are dropped below ERROR and printed by kafkajs. */
  readonly logger?: Logger;
  /**
   * Asked right before every produce request: false (the writer's lease ran out) fails the append with a fatal
   * ENGINE_LEASE_LOST, so a writer that resumes from a freeze sends nothing more.
   */
  readonly mayWrite?: () => boolean;
}

export class KafkaCommandLog implements CommandLog {
  private readonly kafka: Kafka;
  private readonly admin: Admin;
  private producer: Producer;
  /** Set when a send failed: the idempotent producer's sequence state is unknown, so the next send uses a new one. */
  private producerSuspect = false;
  private reader: PartitionReader<CommandRecord> | null = null;
  private stopped = false;
  /** The last send: stop() lets it finish before disconnecting. */
  private lastSend: Promise<void> = Promise.resolve();

  constructor(private readonly opts: KafkaLogOptions) {
    this.kafka = kafkaClient(opts.brokers, opts.clientId, opts.logger);
    this.admin = this.kafka.admin();
    this.producer = this.newProducer();
  }

  private newProducer(): Producer {
    return this.kafka.producer({
      // Every send names its partition; the partitioner only matters for the warning kafkajs prints without one.
      createPartitioner: Partitioners.DefaultPartitioner,
      idempotent: true,
      // One request in flight keeps the records in order across kafkajs's retries.
      maxInFlightRequests: 1,
      retry: { retries: 30, initialRetryTime: 5, maxRetryTime: 1000, factor: 0.2, multiplier: 1.5 },
    });
  }

  async connect(): Promise<void> {
    await this.admin.connect();
    await ensureTopics(this.admin, this.opts);
    await this.producer.connect();
  }

  /**
   * Right after a broker starts, reads answer retriable errors for a while: retried here for up to RESUME_WAIT_MS.
   */
  async resumePoint(): Promise<ResumePoint> {
    const deadline = Date.now() + RESUME_WAIT_MS;
    for (let delayMs = 100; ; delayMs = Math.min(delayMs * 2, 2000)) {
      try {
        const tail = await readEventsTail(this.kafka, this.opts.eventsTopic);
        return tail === null
          ? { commandOffset: -1, eventSeq: 0 }
          : { commandOffset: tail.commandOffsetLast ?? -1, eventSeq: tail.lastSeq };
      } catch (err) {
        if (this.stopped || Date.now() + delayMs > deadline) throw err;
        this.opts.logger?.warn({ err }, 'cannot read the events topic tail yet');
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  }

  async consume(
    fromOffset: number,
    batchMax: number,
    onBatch: (records: CommandRecord[]) => Promise<void>,
  ): Promise<void> {
    if (this.stopped) return;
    this.reader = new PartitionReader({
      kafka: this.kafka,
      topic: this.opts.commandsTopic,
      groupIdPrefix: this.opts.groupIdPrefix,
      batchRecordsMax: batchMax,
      decode: toRecord,
    });
    await this.reader.consume(fromOffset, onBatch);
  }

  /** Appends a batch's events, in order; the caller serializes calls (one in flight) and retries a failure. */
  commit(events: EventRecord[], lastOffset: number, firstOffset: number = lastOffset): Promise<void> {
    const send = this.send(events, commandOffsetsHeader(firstOffset, lastOffset));
    this.lastSend = send.catch(() => undefined);
    return send;
  }

  private async send(events: EventRecord[], offsetsHeader: string): Promise<void> {
    if (this.producerSuspect) {
      await bounded(this.producer.disconnect(), DISCONNECT_TIMEOUT_MS);
      this.producer = this.newProducer();
      await this.producer.connect();
      this.producerSuspect = false;
    }
    const headers = { [COMMAND_OFFSETS_HEADER]: offsetsHeader };
    try {
      for (const chunk of chunkEvents(events, this.opts.produceBytesMax ?? 900_000)) {
        if (this.opts.mayWrite?.() === false)
          throw new StandbyError('ENGINE_LEASE_LOST', 'the writer lease ran out: nothing more is written');
        await this.producer.send({
          topic: this.opts.eventsTopic,
          acks: -1,
          messages: chunk.map((e) => ({
            key: e.key === '' ? null : e.key,
            value: e.value,
            partition: PARTITION,
            headers,
          })),
        });
      }
    } catch (err) {
      this.producerSuspect = true;
      throw err;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    // The batch in hand (reader) and the send in flight finish first; if the broker does not answer in time, the
    // restart writes them from the events topic's tail.
    await this.reader?.stop();
    await bounded(this.lastSend, IN_FLIGHT_TIMEOUT_MS);
    await bounded(this.producer.disconnect(), DISCONNECT_TIMEOUT_MS);
    await bounded(this.admin.disconnect(), DISCONNECT_TIMEOUT_MS);
  }
}

const RESUME_WAIT_MS = 60_000;
const IN_FLIGHT_TIMEOUT_MS = 30_000;

function toRecord(m: KafkaMessage): CommandRecord {
  return { offset: Number(m.offset), value: m.value ?? new Uint8Array(0), timestampMs: Number(m.timestamp) };
}

/**
 * kafkajs groups a send's messages by partition with an array copy per message (quadratic in the send's size:
 * 10,000 messages cost ~250 ms), so sends are kept to a few hundred messages, and under the broker's size limit.
 */
export const SEND_MESSAGES_MAX = 256;

function* chunkEvents(events: EventRecord[], bytesMax: number): Generator<EventRecord[]> {
  let chunk: EventRecord[] = [];
  let bytes = 0;
  for (const e of events) {
    const size = e.value.length + e.key.length + 64;
    if (chunk.length > 0 && (bytes + size > bytesMax || chunk.length >= SEND_MESSAGES_MAX)) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(e);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}
