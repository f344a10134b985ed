// The embedded mode's one log: the engine daemon's file log (engine/daemon/file-log.ts), shared in this process by
// every component instead of Kafka's two topics. Commands go in through `writer()` (FileLog's group-committed,
// fsync'd appends); the daemon reads them and commits each batch's events as records (events.log; a record holds a
// run of events, engine/wire/codec.ts); every reader tails those records by index, as a Kafka consumer tails the
// events topic by offset.
//
// The daemon is given this object as its CommandLog: a commit is passed through to the FileLog and then wakes
// the readers, so a record reaches persistence, the chain service and the gateway without a polling delay.
// A reader also re-checks every `pollIntervalMs` (a missed wake-up costs latency, never a record).

import { FileLog } from '../engine/daemon/file-log.js';
import type { CommittedEvent, FileLogOptions } from '../engine/daemon/file-log.js';
import type { CommandLog, CommandRecord, CommandWriter, EventRecord, ResumePoint } from '../engine/daemon/log.js';

export type { CommittedEvent };

export const RECORDS_PER_READ_MAX = 10_000;

export class EmbeddedLog implements CommandLog {
  private readonly waiters = new Set<() => void>();

  private constructor(
    readonly file: FileLog,
    private readonly pollIntervalMs: number,
  ) {}

  static async open(dir: string, opts: FileLogOptions & { readerPollIntervalMs?: number } = {}): Promise<EmbeddedLog> {
    return new EmbeddedLog(await FileLog.open(dir, opts), opts.readerPollIntervalMs ?? 500);
  }

  // ---- CommandLog, for the engine daemon -------------------------------------------------------------------

  committedOffset(): Promise<number> {
    return this.file.committedOffset();
  }

  resumePoint(): Promise<ResumePoint> {
    return this.file.resumePoint();
  }

  consume(fromOffset: number, batchMax: number, onBatch: (records: CommandRecord[]) => Promise<void>): Promise<void> {
    return this.file.consume(fromOffset, batchMax, onBatch);
  }

  async commit(events: EventRecord[], lastOffset: number): Promise<void> {
    await this.file.commit(events, lastOffset);
    this.wakeReaders();
  }

  /** Stops the daemon's command reading (FileLog.stop); readers and writers go on until close(). */
  stop(): Promise<void> {
    return this.file.stop();
  }

  // ---- producers and readers -------------------------------------------------------------------------------

  /** A command writer for one producer (its close() detaches only that producer). */
  writer(): CommandWriter {
    return this.file.writer();
  }

  /** Records (one per engine command) committed so far; the next one gets this index. */
  get recordCount(): number {
    return this.file.eventCount;
  }

  /** Up to `max` committed records from `fromIndex` on. */
  read(fromIndex: number, max: number): Promise<CommittedEvent[]> {
    if (!Number.isSafeInteger(max) || max < 1 || max > RECORDS_PER_READ_MAX)
      throw new RangeError(`read max must be 1..${RECORDS_PER_READ_MAX}, got ${max}`);
    return this.file.readEvents(fromIndex, max);
  }

  /** Resolves once more than `knownCount` records are committed, on wakeReaders(), or after the poll interval. */
  waitForRecords(knownCount: number): Promise<void> {
    if (this.recordCount > knownCount) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, this.pollIntervalMs);
      this.waiters.add(done);
    });
  }

  /** Wakes every waiting reader (after a commit, or so that a stopping reader notices at once). */
  wakeReaders(): void {
    for (const done of [...this.waiters]) done();
  }

  /** Closes the file log (after its queued appends and commits). Readers must be stopped first. */
  async close(): Promise<void> {
    this.wakeReaders();
    await this.file.close();
  }
}

/**
 * Reads the records after a position, in order, in batches of at most `batchMax`, awaiting each `onBatch`
 * before the next, until stop(). The building block of every reader of the embedded log.
 */
export class LogTail {
  private stopped = false;
  private running: Promise<void> | null = null;

  constructor(private readonly log: EmbeddedLog) {}

  async run(
    afterIndex: number,
    batchMax: number,
    onBatch: (records: CommittedEvent[]) => Promise<void>,
  ): Promise<void> {
    if (this.running !== null) throw new Error('this tail is already running');
    const loop = this.loop(afterIndex, batchMax, onBatch);
    this.running = loop;
    try {
      await loop;
    } finally {
      this.running = null;
    }
  }

  private async loop(
    afterIndex: number,
    batchMax: number,
    onBatch: (records: CommittedEvent[]) => Promise<void>,
  ): Promise<void> {
    let next = afterIndex + 1;
    while (!this.stopped) {
      const records = next < this.log.recordCount ? await this.log.read(next, batchMax) : [];
      if (records.length === 0) {
        await this.log.waitForRecords(next);
        continue;
      }
      // Paired with the daemon's gap-free numbering: a reader never skips nor repeats a record.
      if (records[0].index !== next) throw new Error(`embedded log: expected record ${next}, read ${records[0].index}`);
      await onBatch(records);
      next = records[records.length - 1].index + 1;
    }
  }

  /** Lets the batch in hand finish, then ends run(). Final. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.log.wakeReaders();
    await this.running?.catch(() => undefined);
  }
}
