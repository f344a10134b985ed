// The daemon's view of its input and output: an ordered command log and an event log. Two implementations:
// Kafka (kafka-log.ts: events appended without a transaction; the events topic's tail says where to resume) and
// the embedded file log (file-log.ts: one fsync'd file per topic, a commit marker closes every batch).

export interface CommandRecord {
  /** Position in the command log; gap-free is not assumed (an old transactional writer's markers leave gaps). */
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

/** What the event log holds: the daemon emits only events after `eventSeq`. */
export interface ResumePoint {
  /** The last command offset whose events were (at least partly) written, or -1 when none were. */
  readonly commandOffset: number;
  /** The last event `seq` written (every event up to it is in the log), or 0 when none is. */
  readonly eventSeq: number;
}

export interface CommandLog {
  /** Where the event log ends. */
  resumePoint(): Promise<ResumePoint>;
  /**
   * Delivers the commands from `fromOffset` on, in order, in batches of at most `batchMax`, awaiting each
   * `onBatch` before the next; resolves after `stop()`.
   */
  consume(fromOffset: number, batchMax: number, onBatch: (records: CommandRecord[]) => Promise<void>): Promise<void>;
  /**
   * Appends `events` (the next events in `seq` order, from commands `firstOffset`..`lastOffset`) durably. Kafka: a
   * failed call may have written some of the records (read resumePoint() before writing them again); the file
   * log writes them and marks the commands done atomically.
   */
  commit(events: EventRecord[], lastOffset: number, firstOffset: number): Promise<void>;
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
