// The daemon's view of its input and output: an ordered command log and an event log that commit together.
// Two implementations: Kafka (kafka-log.ts: a transaction carries the events and the consumer offset) and the
// embedded file log (file-log.ts: one fsync'd file per topic, a commit marker closes every batch).

export interface CommandRecord {
  /** Position in the command log; gap-free is not assumed (Kafka transactions leave gaps). */
  readonly offset: number;
  readonly value: Uint8Array;
  /** Stamped by the log when the command was appended; becomes the command's `timeMs`. */
  readonly timestampMs: number;
}

/** A record of the events topic: a run of events (wire/codec.ts EventRecordPacker); the key is empty. */
export interface EventRecord {
  readonly key: string;
  readonly value: string;
}

export interface CommandLog {
  /** Offset of the last command whose events are committed, or -1 when none is. */
  committedOffset(): Promise<number>;
  /**
   * Delivers the commands from `fromOffset` on, in order, in batches of at most `batchMax`, awaiting each
   * `onBatch` before the next; resolves after `stop()`.
   */
  consume(fromOffset: number, batchMax: number, onBatch: (records: CommandRecord[]) => Promise<void>): Promise<void>;
  /** Appends `events` and marks every command up to `lastOffset` as done, atomically and durably. */
  commit(events: EventRecord[], lastOffset: number): Promise<void>;
  stop(): Promise<void>;
}

/** Producers' side: how other services put commands on the log. */
export interface CommandWriter {
  /** Appends encoded commands in order; resolves with their offsets once durable. */
  append(values: Uint8Array[]): Promise<number[]>;
  close(): Promise<void>;
}

/**
 * An error after which the log's durable state is unknown (e.g. a failed fsync): retrying could report success
 * without the data, so the daemon exits and a restart rebuilds from what is really on disk.
 */
export function isFatalLogError(err: unknown): boolean {
  return err instanceof Error && (err as { fatal?: unknown }).fatal === true;
}
