// The command bus on Kafka: commands appended to the commands topic (KafkaCommandWriter, idempotent), results read
// from the events topic by one consumer per gateway instance (a fresh group each start, read_committed, from the
// topic's end at start: older results belong to commands this instance never sent).

import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { EngineEvent } from '../engine/core/events.js';
import { KafkaCommandWriter } from '../engine/daemon/kafka-log.js';
import { decodeEventRecord, encodeCommand } from '../engine/wire/codec.js';
import type { CommandInput } from '../engine/wire/codec.js';
import { PendingCommands } from './command-bus.js';
import type { CommandBus, CommandMeta, CommandOutcome, LateResultHandler } from './command-bus.js';

const PARTITION = 0;
/** Commands per produce request: one request carries whatever queued while the previous one was in flight. */
const APPEND_BATCH_MAX = 500;

export interface KafkaBusOptions {
  readonly kafka: Kafka;
  readonly commandsTopic: string;
  readonly eventsTopic: string;
  readonly instanceId: string;
  readonly pendingMax: number;
  readonly timeoutMs: number;
  readonly logger: Logger;
  readonly onTimeout?: (cmdId: string, meta: CommandMeta) => void;
  readonly onLate?: LateResultHandler;
  /** Called with the append time of each events record read: engine lag. */
  readonly onRecordTimestamp?: (timestampMs: number) => void;
}

export class KafkaCommandBus implements CommandBus {
  private readonly writer: KafkaCommandWriter;
  private readonly consumer: Consumer;
  private readonly pending: PendingCommands;
  private readonly listeners = new Set<(events: readonly EngineEvent[]) => void>();
  private readonly queue: { value: Uint8Array; cmdId: string }[] = [];
  private sending = false;
  private running = false;
  private readonly encoder = new TextEncoder();

  constructor(private readonly opts: KafkaBusOptions) {
    this.writer = new KafkaCommandWriter(opts.kafka, opts.commandsTopic);
    this.consumer = opts.kafka.consumer({ groupId: `gateway.${opts.instanceId}.${randomUUID()}`, maxWaitTimeInMs: 100, sessionTimeout: 30_000 });
    this.pending = new PendingCommands({ pendingMax: opts.pendingMax, timeoutMs: opts.timeoutMs, onTimeout: opts.onTimeout, onLate: opts.onLate });
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
    this.pending.deliver(events);
    for (const listener of this.listeners) {
      try {
        listener(events);
      } catch (err) {
        this.opts.logger.error({ err }, 'events listener failed');
      }
    }
  }

  submit(cmd: CommandInput, meta: CommandMeta): Promise<CommandOutcome> {
    const value = this.encoder.encode(encodeCommand(cmd));
    const outcome = this.pending.wait(cmd.id, meta);
    this.queue.push({ value, cmdId: cmd.id });
    void this.flush();
    return outcome;
  }

  /** Group commit: one append carries every command that queued while the previous append was in flight. */
  private async flush(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, APPEND_BATCH_MAX);
        try {
          await this.writer.append(batch.map((b) => b.value));
        } catch (err) {
          // The append may or may not have reached the broker: the honest answer is "unknown".
          this.opts.logger.error({ err, commands: batch.length }, 'append to the commands topic failed');
          for (const b of batch) this.pending.giveUp(b.cmdId);
        }
      }
    } finally {
      this.sending = false;
    }
  }

  subscribe(listener: (events: readonly EngineEvent[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  healthy(): boolean {
    return this.running;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  async close(): Promise<void> {
    this.running = false;
    this.pending.close();
    await this.consumer.disconnect().catch(() => undefined);
    await this.writer.close().catch(() => undefined);
  }
}
