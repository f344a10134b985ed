// A hot standby's view of the writer's output: it follows the events topic from the tail it found at start,
// deduplicated by `seq`, and hands the events to the divergence check. On promotion it reads the topic's high
// watermark (a ListOffsets request, no group join) and follows on up to it: the standby already holds everything
// before, so the last `seq` published is known in one short read, and the new writer writes only what comes after.

import type { Admin, Kafka } from 'kafkajs';
import type { EngineEvent } from '../core/index.js';
import { EVENTS_FETCH_BYTES_MAX, decodeEventMessage, readEventsTail } from '../../kafka/event-stream.js';
import type { EventStreamRecord } from '../../kafka/event-stream.js';
import { PartitionReader } from '../../kafka/partition-reader.js';
import { SeqFilter } from '../../kafka/seq-filter.js';
import { DISCONNECT_TIMEOUT_MS, bounded } from '../../kafka/shutdown.js';
import { partitionBounds } from '../../kafka/topics.js';

/** What the daemon needs of the writer's output while it is a standby. */
export interface PublishedFollower {
  /**
   * Starts following from the topic's current tail; resolves with the last seq published so far (0: none).
   * `onEvents` gets every published event after it once, in order; `onFail` a read error or one thrown by onEvents.
   */
  start(onEvents: (events: readonly EngineEvent[]) => void, onFail: (err: unknown) => void): Promise<number>;
  /** Follows up to the topic's end as it is now and returns the last seq published (stop() it afterwards). */
  catchUp(): Promise<number>;
  stop(): Promise<void>;
}

export interface KafkaFollowerOptions {
  readonly kafka: Kafka;
  readonly eventsTopic: string;
  readonly groupIdPrefix: string;
  readonly batchRecordsMax: number;
  /** How long promotion waits for the follower to move at all on its way to the high watermark. */
  readonly catchUpStallMs?: number;
}

export class KafkaPublishedFollower implements PublishedFollower {
  private readonly admin: Admin;
  private readonly reader: PartitionReader<EventStreamRecord>;
  private filter = new SeqFilter(0);
  /** The offset after the last record read (copies included): promotion waits for it to reach the watermark. */
  private nextOffset = 0;
  private failure: unknown = null;

  constructor(private readonly opts: KafkaFollowerOptions) {
    this.admin = opts.kafka.admin();
    this.reader = new PartitionReader({
      kafka: opts.kafka,
      topic: opts.eventsTopic,
      groupIdPrefix: opts.groupIdPrefix,
      batchRecordsMax: opts.batchRecordsMax,
      fetchBytesMax: EVENTS_FETCH_BYTES_MAX,
      decode: decodeEventMessage,
    });
  }

  async start(onEvents: (events: readonly EngineEvent[]) => void, onFail: (err: unknown) => void): Promise<number> {
    await this.admin.connect();
    const tail = await readEventsTail(this.opts.kafka, this.opts.eventsTopic);
    const tailSeq = tail?.lastSeq ?? 0;
    this.filter = new SeqFilter(tailSeq);
    this.nextOffset = tail === null ? 0 : tail.recordOffset + 1;
    this.reader
      .consume(this.nextOffset, async (records) => {
        for (const r of records) {
          const fresh = this.filter.accept(r.events, r.offset);
          if (fresh.length > 0) onEvents(fresh);
          this.nextOffset = r.offset + 1;
        }
      })
      .catch((err: unknown) => {
        this.failure = err;
        onFail(err);
      });
    return tailSeq;
  }

  async catchUp(): Promise<number> {
    const { high } = await partitionBounds(this.admin, this.opts.eventsTopic);
    const stallMs = this.opts.catchUpStallMs ?? 30_000;
    // A standby far behind a busy writer may need long to get there: only a follower that stops moving fails.
    let seen = this.nextOffset;
    let movedMs = performance.now();
    while (this.nextOffset < high && this.failure === null) {
      if (this.nextOffset !== seen) [seen, movedMs] = [this.nextOffset, performance.now()];
      if (performance.now() - movedMs > stallMs)
        throw new Error(`the events topic follower is stuck at offset ${this.nextOffset} of ${high}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    if (this.failure !== null) throw this.failure;
    return this.filter.lastSeq ?? 0;
  }

  async stop(): Promise<void> {
    await this.reader.stop();
    await bounded(this.admin.disconnect(), DISCONNECT_TIMEOUT_MS);
  }
}
