// The command bus on Kafka: commands appended to the commands topic (KafkaCommandWriter, idempotent), results read
// from the events topic by the shared events reader (copies dropped by seq), one per gateway instance, from the
// topic's end at start: older results belong to commands this instance never sent.

import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { EngineEvent } from '../engine/core/index.js';
import type { CommandInput } from '../engine/wire/codec.js';
import { KafkaCommandWriter } from '../kafka/command-writer.js';
import { EventStreamReader } from '../kafka/event-stream.js';
import type { EventStreamRecord } from '../kafka/event-stream.js';
import { EventStreamError } from '../kafka/errors.js';
import { DISCONNECT_TIMEOUT_MS, bounded } from '../kafka/shutdown.js';
import { partitionBounds } from '../kafka/topics.js';
import { CommandPipe } from './command-bus.js';
import type { CommandBus, CommandMeta, CommandOutcome, LateResultHandler } from './command-bus.js';

export interface KafkaBusOptions {
  readonly kafka: Kafka;
  readonly commandsTopic: string;
  readonly eventsTopic: string;
  readonly instanceId: string;
  readonly pendingMax: number;
  readonly timeoutMs: number;
  readonly logger: Logger;
  readonly onLate?: LateResultHandler;
  /** Called with the append time of each events record read: engine lag. */
  readonly onRecordTimestamp?: (timestampMs: number) => void;
}

/** Results records handed on at once. */
const RESULT_RECORDS_MAX = 500;

export class KafkaCommandBus implements CommandBus {
  private readonly writer: KafkaCommandWriter;
  private readonly reader: EventStreamReader;
  private readonly pipe: CommandPipe;
  private running = false;
  private closed = false;
  private reading: Promise<void> = Promise.resolve();

  constructor(private readonly opts: KafkaBusOptions) {
    this.writer = new KafkaCommandWriter(opts.kafka, opts.commandsTopic);
    this.reader = new EventStreamReader({
      kafka: opts.kafka,
      topic: opts.eventsTopic,
      groupIdPrefix: `gateway.${opts.instanceId}`,
      batchRecordsMax: RESULT_RECORDS_MAX,
      maxWaitTimeMs: 100,
    });
    this.pipe = new CommandPipe(this.writer, opts.logger, 'the commands topic', {
      pendingMax: opts.pendingMax,
      timeoutMs: opts.timeoutMs,
      onLate: opts.onLate,
    });
  }

  async start(): Promise<void> {
    const admin = this.opts.kafka.admin();
    await admin.connect();
    let nextOffset: number;
    try {
      nextOffset = (await partitionBounds(admin, this.opts.eventsTopic)).high;
    } finally {
      await bounded(admin.disconnect(), DISCONNECT_TIMEOUT_MS);
    }
    await this.writer.connect();
    // Positioned before any command is sent: a result written after start is at or after nextOffset, never missed.
    this.reading = this.read(nextOffset);
    this.running = true;
  }

  /**
   * The engine is the only writer: a record that does not decode, or a gap, is its bug. The gateway only reads
   * results, so it logs it and reads on after that record; any other failure stops the bus (unhealthy).
   */
  private async read(fromOffset: number): Promise<void> {
    let next = fromOffset;
    while (!this.closed) {
      try {
        await this.reader.consume({ afterOffset: next - 1, afterSeq: null }, async (records) => {
          for (const r of records) this.onRecord(r);
          next = records[records.length - 1].offset + 1;
        });
        return;
      } catch (err) {
        if (this.closed) return;
        if (!(err instanceof EventStreamError)) {
          this.running = false;
          this.opts.logger.error({ err }, 'events reader stopped');
          return;
        }
        this.opts.logger.error({ err, offset: err.offset }, 'events record refused; reading on after it');
        next = err.offset + 1;
      }
    }
  }

  private onRecord(record: EventStreamRecord): void {
    this.opts.onRecordTimestamp?.(record.timestampMs);
    this.pipe.deliver(record.events);
  }

  submit(cmd: CommandInput, meta: CommandMeta): Promise<CommandOutcome> {
    return this.pipe.submit(cmd, meta);
  }

  subscribe(listener: (events: readonly EngineEvent[]) => void): () => void {
    return this.pipe.subscribe(listener);
  }

  healthy(): boolean {
    return this.running;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.running = false;
    this.pipe.close();
    await this.reader.stop();
    await bounded(this.reading, DISCONNECT_TIMEOUT_MS);
    await bounded(this.writer.close(), DISCONNECT_TIMEOUT_MS);
  }
}
