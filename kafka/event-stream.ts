// The events topic as every service reads it: records decoded into runs of events, deduplicated by `seq`
// (seq-filter.ts), and the topic's tail (where the daemon resumes). A record of the events topic is a run of
// consecutive events (engine/wire/codec.ts) with a header naming the command offsets of the batch it came from;
// readers check its framing, not every event's schema (event-record.ts: the topic is trusted).

import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import type { EngineEvent } from '../engine/core/index.js';
import { PartitionReader } from './partition-reader.js';
import { decodeTrustedEventRecord } from './event-record.js';
import { SeqFilter } from './seq-filter.js';
import { DISCONNECT_TIMEOUT_MS, bounded } from './shutdown.js';
import { PARTITION, partitionBounds } from './topics.js';

/** Record header: `<first>-<last>`, the command offsets of the batch whose events the record holds. */
export const COMMAND_OFFSETS_HEADER = 'cmdOffsets';

export interface EventStreamRecord {
  readonly offset: number;
  /** When the broker appended the record. */
  readonly timestampMs: number;
  readonly events: readonly EngineEvent[];
  /** The last command offset of the batch the record came from (its header), or null when it has none. */
  readonly commandOffsetLast: number | null;
}

export function commandOffsetsHeader(firstOffset: number, lastOffset: number): string {
  return `${firstOffset}-${lastOffset}`;
}

/** The last command offset a record's header names, or null without one (cheap: no decoding of the value). */
export function commandOffsetLastOf(m: KafkaMessage): number | null {
  const header = m.headers?.[COMMAND_OFFSETS_HEADER];
  if (header === undefined) return null;
  const match = /^(\d+)-(\d+)$/.exec(String(header));
  return match === null ? null : Number(match[2]);
}

/** A record that does not decode is the writer's bug: EVENTS_BAD_RECORD names its offset. */
export function decodeEventMessage(m: KafkaMessage): EventStreamRecord {
  const offset = Number(m.offset);
  return {
    offset,
    timestampMs: Number(m.timestamp),
    events: decodeTrustedEventRecord(m.value, offset),
    commandOffsetLast: commandOffsetLastOf(m),
  };
}

export interface EventStreamReaderOptions {
  readonly kafka: Kafka;
  readonly topic: string;
  readonly groupIdPrefix: string;
  readonly batchRecordsMax: number;
  readonly maxWaitTimeMs?: number;
}

/**
 * Bytes per fetch of the events topic. The daemon writes records of about 120 KiB (EVENT_RECORD_BYTES_TARGET): with
 * kafkajs's 1 MiB a fetch holds eight of them, so a consumer catching up waits for a fetch round trip every eight.
 */
export const EVENTS_FETCH_BYTES_MAX = 8 * 1024 * 1024;

/** Where a consumer resumes: after the record at `afterOffset`, having applied every event up to `afterSeq`. */
export interface StreamPosition {
  readonly afterOffset: number;
  /** null: take the first record as it comes (a reader with no stored position, e.g. from the topic's end). */
  readonly afterSeq: number | null;
}

/**
 * Reads the events topic and hands on only events not seen before: a record that is a copy is dropped, one that
 * straddles the position is cut, and a gap rejects consume() with EVENTS_SEQ_GAP.
 */
export class EventStreamReader {
  private readonly reader: PartitionReader<EventStreamRecord>;

  constructor(opts: EventStreamReaderOptions) {
    this.reader = new PartitionReader({ ...opts, fetchBytesMax: EVENTS_FETCH_BYTES_MAX, decode: decodeEventMessage });
  }

  consume(from: StreamPosition, onBatch: (records: EventStreamRecord[]) => Promise<void>): Promise<void> {
    const filter = new SeqFilter(from.afterSeq);
    return this.reader.consume(from.afterOffset + 1, async (records) => {
      const fresh: EventStreamRecord[] = [];
      try {
        for (const r of records) {
          const events = filter.accept(r.events, r.offset);
          if (events.length > 0) fresh.push(events === r.events ? r : { ...r, events });
        }
      } catch (err) {
        // The records before a gap are good: the consumer applies them, so its position ends right before it.
        if (fresh.length > 0) await onBatch(fresh);
        throw err;
      }
      if (fresh.length > 0) await onBatch(fresh);
    });
  }

  stop(): Promise<void> {
    return this.reader.stop();
  }
}

/** The last event record written: where the daemon resumes. */
export interface EventsTail {
  readonly recordOffset: number;
  readonly lastSeq: number;
  readonly commandOffsetLast: number | null;
}

/** Records read back from the end at first; a topic with an old transactional writer ends in control records. */
const TAIL_SCAN_RECORDS = 16;
const TAIL_READ_TIMEOUT_MS = 30_000;

/** The last record of the events topic (read uncommitted: nothing written is ever taken back), or null when empty. */
export async function readEventsTail(kafka: Kafka, topic: string): Promise<EventsTail | null> {
  const admin = kafka.admin();
  await admin.connect();
  let bounds: { low: number; high: number };
  try {
    bounds = await partitionBounds(admin, topic);
  } finally {
    await bounded(admin.disconnect(), DISCONNECT_TIMEOUT_MS);
  }
  for (let scan = TAIL_SCAN_RECORDS; ; scan *= 16) {
    const from = Math.max(bounds.low, bounds.high - scan);
    if (from >= bounds.high) return null;
    const last = await lastRecordFrom(kafka, topic, from, bounds.high);
    if (last !== null)
      return {
        recordOffset: last.offset,
        lastSeq: last.events[last.events.length - 1].seq,
        commandOffsetLast: last.commandOffsetLast,
      };
    if (from === bounds.low) return null;
  }
}

/** The last data record in [from, high), reading with a one-off consumer. */
async function lastRecordFrom(
  kafka: Kafka,
  topic: string,
  from: number,
  high: number,
): Promise<EventStreamRecord | null> {
  // A one-off read: kafkajs must not restart it behind our back after a failure (a restart scheduled when the broker
  // goes away survives disconnect() and keeps the process alive); the caller retries.
  const consumer = kafka.consumer({
    groupId: `tail.${randomUUID()}`,
    readUncommitted: true,
    maxWaitTimeInMs: 50,
    retry: { retries: 2, restartOnFailure: async () => false },
  });
  let last: KafkaMessage | null = null;
  try {
    const done = new Promise<void>((resolve, reject) => {
      consumer.on(consumer.events.GROUP_JOIN, () =>
        consumer.seek({ topic, partition: PARTITION, offset: String(from) }),
      );
      consumer.on(consumer.events.CRASH, ({ payload }) => reject(payload.error));
      const run = async (): Promise<void> => {
        await consumer.connect();
        await consumer.subscribe({ topic, fromBeginning: true });
        await consumer.run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            for (const m of batch.messages) if (Number(m.offset) < high) last = m;
            if (Number(batch.lastOffset()) >= high - 1) resolve();
          },
        });
      };
      run().catch(reject);
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>(
      (_, reject) =>
        (timer = setTimeout(
          () => reject(new Error(`reading the tail of ${topic} took over ${TAIL_READ_TIMEOUT_MS} ms`)),
          TAIL_READ_TIMEOUT_MS,
        )),
    );
    await Promise.race([done, timeout]).finally(() => clearTimeout(timer));
  } finally {
    await bounded(consumer.disconnect(), DISCONNECT_TIMEOUT_MS);
  }
  return last === null ? null : decodeEventMessage(last);
}
