// The command bus on Kafka: commands appended to the commands topic (KafkaCommandWriter, idempotent), results read
// from the events topic by one consumer per gateway instance (a fresh group each start, read_committed, from the
// topic's end at start: older results belong to commands this instance never sent).

import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { EngineEvent } from '../engine/core/index.js';
import { DISCONNECT_TIMEOUT_MS, KafkaCommandWriter, bounded } from '../engine/daemon/kafka-log.js';
import { decodeEventRecord } from '../engine/wire/codec.js';
import type { CommandInput } from '../engine/wire/codec.js';
import { CommandPipe } from './command-bus.js';
import type { CommandBus, CommandMeta, CommandOutcome, LateResultHandler } from './command-bus.js';

const PARTITION = 0;

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

export class KafkaCommandBus implements CommandBus {
  private readonly writer: KafkaCommandWriter;
  private readonly consumer: Consumer;
  private readonly pipe: CommandPipe;
  private running = false;

  constructor(private readonly opts: KafkaBusOptions) {
    this.writer = new KafkaCommandWriter(opts.kafka, opts.commandsTopic);
    this.consumer = opts.kafka.consumer({ groupId: `gateway.${opts.instanceId}.${randomUUID()}`, maxWaitTimeInMs: 100, sessionTimeout: 30_000 });
    this.pipe = new CommandPipe(this.writer, opts.logger, 'the commands topic', { pendingMax: opts.pendingMax, timeoutMs: opts.timeoutMs, onLate: opts.onLate });
  }

  async start(): Promise<void> {
    const admin = this.opts.kafka.admin();
    await admin.connect();
    let nextOffset: number;
    try {
      const offsets = await admin.fetchTopicOffsets(this.opts.eventsTopic);
      nextOffset = Number(offsets.find((o) => o.partition === PARTITION)?.high ?? 0);
    } finally {
      await admin.disconnect();
    }
    // Positioned before any command is sent: a result written after start is never missed.
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => this.consumer.seek({ topic: this.opts.eventsTopic, partition: PARTITION, offset: String(nextOffset) }));
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) {
        this.running = false;
        this.opts.logger.error({ err: payload.error }, 'events consumer stopped');
      }
    });
    await this.writer.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.opts.eventsTopic, fromBeginning: false });
    const joined = new Promise<void>((resolve) => this.consumer.on(this.consumer.events.GROUP_JOIN, () => resolve()));
    await this.consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        for (const m of batch.messages) {
          nextOffset = Number(m.offset) + 1;
          if (m.value !== null) this.onRecord(m.value, Number(m.timestamp), Number(m.offset));
          resolveOffset(m.offset);
        }
        await heartbeat();
      },
    });
    await joined;
    this.running = true;
  }

  private onRecord(value: Buffer, timestampMs: number, offset: number): void {
    let events: EngineEvent[];
    try {
      events = decodeEventRecord(value);
    } catch (err) {
      // The engine is the only writer: a bad record is its bug. The gateway only reads results, so it goes on.
      this.opts.logger.error({ err, offset }, 'events record does not decode');
      return;
    }
    this.opts.onRecordTimestamp?.(timestampMs);
    this.pipe.deliver(events);
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
    this.running = false;
    this.pipe.close();
    await bounded(this.consumer.disconnect(), DISCONNECT_TIMEOUT_MS);
    await bounded(this.writer.close(), DISCONNECT_TIMEOUT_MS);
  }
}
