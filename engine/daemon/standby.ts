// A hot standby's view of the writer's output: it follows the events topic from the tail it found at start and
// hands each record's text to the divergence check, undecoded (divergence.ts says why); copies are dropped and a
// gap stops it, by the record's seq range, as every consumer does (seq-filter.ts). On promotion it reads the topic's high
// watermark (a ListOffsets request, no group join) and follows on up to it: the standby already holds everything
// before, so the last `seq` published is known in one short read, and the new writer writes only what comes after.

import type { Admin, Kafka, KafkaMessage } from 'kafkajs';
import { EventStreamError } from '../../kafka/errors.js';
import { EVENTS_FETCH_BYTES_MAX, readEventsTail } from '../../kafka/event-stream.js';
import { PartitionReader } from '../../kafka/partition-reader.js';
import { DISCONNECT_TIMEOUT_MS, bounded } from '../../kafka/shutdown.js';
import { partitionBounds } from '../../kafka/topics.js';
import { publishedRun } from './divergence.js';
import type { PublishedRun } from './divergence.js';

/** What the daemon needs of the writer's output while it is a standby. */
export interface PublishedFollower {
  /**
   * Starts following from the topic's current tail; resolves with the last seq published so far (0: none).
   * `onRuns` gets every record after it, in order (a copy of events already handed on may overlap the last one);
   * `onFail` a read error or one thrown by onRuns.
   */
  start(onRuns: (runs: readonly PublishedRun[]) => void, onFail: (err: unknown) => void): Promise<number>;
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
  private readonly reader: PartitionReader<OffsetRun>;
  /** The last seq handed on. */
  private lastSeq = 0;
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
      decode: decodeRun,
    });
  }

  async start(onRuns: (runs: readonly PublishedRun[]) => void, onFail: (err: unknown) => void): Promise<number> {
    await this.admin.connect();
    const tail = await readEventsTail(this.opts.kafka, this.opts.eventsTopic);
    this.lastSeq = tail?.lastSeq ?? 0;
    const tailSeq = this.lastSeq;
    this.nextOffset = tail === null ? 0 : tail.recordOffset + 1;
    this.reader
      .consume(this.nextOffset, async (records) => {
        const fresh: PublishedRun[] = [];
        for (const { offset, run } of records) {
          if (run.firstSeq > this.lastSeq + 1)
            throw new EventStreamError(
              'EVENTS_SEQ_GAP',
              `record at offset ${offset} starts at seq ${run.firstSeq}, after ${this.lastSeq}`,
              offset,
            );
          if (run.lastSeq <= this.lastSeq) continue; // a copy of events already handed on
          fresh.push(run);
          this.lastSeq = run.lastSeq;
        }
        if (fresh.length > 0) onRuns(fresh);
        if (records.length > 0) this.nextOffset = records[records.length - 1].offset + 1;
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
    return this.lastSeq;
  }

  async stop(): Promise<void> {
    await this.reader.stop();
    await bounded(this.admin.disconnect(), DISCONNECT_TIMEOUT_MS);
  }
}

interface OffsetRun {
  readonly offset: number;
  readonly run: PublishedRun;
}

/** A record whose envelope or seqs cannot be read is the writer's bug: EVENTS_BAD_RECORD names its offset. */
function decodeRun(m: KafkaMessage): OffsetRun {
  const offset = Number(m.offset);
  const run = m.value === null ? null : publishedRun(m.value.toString('utf8'));
  if (run === null)
    throw new EventStreamError('EVENTS_BAD_RECORD', `events topic record at offset ${offset}: no event run`, offset);
  return { offset, run };
}
