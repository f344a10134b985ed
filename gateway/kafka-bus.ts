// The command bus on Kafka: commands appended to the commands topic (KafkaCommandWriter, idempotent), results read
// from the events topic through the instance's one events reader (events-feed.ts, shared with market data; copies
// dropped by seq), from the topic's end at start: older results belong to commands this instance never sent.

import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { EngineEvent } from '../engine/core/index.js';
import type { CommandInput } from '../engine/wire/codec.js';
import { KafkaCommandWriter } from '../kafka/command-writer.js';
import { DISCONNECT_TIMEOUT_MS, bounded } from '../kafka/shutdown.js';
import { partitionBounds } from '../kafka/topics.js';
import { CommandPipe } from './command-bus.js';
import type { CommandBus, CommandMeta, CommandOutcome, LateResultHandler } from './command-bus.js';
import type { GatewayEventsFeed } from './events-feed.js';

export interface KafkaBusOptions {
  readonly kafka: Kafka;
  readonly commandsTopic: string;
  readonly eventsTopic: string;
  /** The instance's events reader (its results half is this bus's; close() closes it). */
  readonly events: GatewayEventsFeed;
  readonly pendingMax: number;
  readonly timeoutMs: number;
  readonly logger: Logger;
  readonly onLate?: LateResultHandler;
  /** Called with the append time of each events record read: engine lag. */
  readonly onRecordTimestamp?: (timestampMs: number) => void;
  /** Called with how long each append to the commands topic took. */
  readonly onAppendSeconds?: (seconds: number) => void;
}

export class KafkaCommandBus implements CommandBus {
  private readonly writer: KafkaCommandWriter;
  private readonly pipe: CommandPipe;
  private running = false;

  constructor(private readonly opts: KafkaBusOptions) {
    this.writer = new KafkaCommandWriter(opts.kafka, opts.commandsTopic);
    this.pipe = new CommandPipe(
      this.writer,
      opts.logger,
      'the commands topic',
      {
        pendingMax: opts.pendingMax,
        timeoutMs: opts.timeoutMs,
        onLate: opts.onLate,
      },
      opts.onAppendSeconds,
    );
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
    this.opts.events.follow(nextOffset, (record) => {
      this.opts.onRecordTimestamp?.(record.timestampMs);
      this.pipe.deliver(record.events);
    });
    this.running = true;
  }

  submit(cmd: CommandInput, meta: CommandMeta): Promise<CommandOutcome> {
    return this.pipe.submit(cmd, meta);
  }

  subscribe(listener: (events: readonly EngineEvent[]) => void): () => void {
    return this.pipe.subscribe(listener);
  }

  healthy(): boolean {
    return this.running && this.opts.events.healthy();
  }

  async close(): Promise<void> {
    this.running = false;
    this.pipe.close();
    await bounded(this.opts.events.close(), DISCONNECT_TIMEOUT_MS);
    await bounded(this.writer.close(), DISCONNECT_TIMEOUT_MS);
  }
}
