// The embedded command and event log: what the engine daemon runs on without Kafka, so the exchange runs on one
// machine without a broker. A data directory holds
//   commands.log  the sequenced commands: one frame per durable append, offsets consecutive from 0
//   events.log    the daemon's output: one frame per commit, its events plus the last command offset it covers
//   LOCK          the pid of the process that has the directory open (see file-lock.ts)
// (frame format: log-frames.ts). Both files are only appended to, each frame by one positional write followed by
// fdatasync before the append or commit resolves; fdatasync is enough because appends change only the data and
// the file size, and fdatasync flushes the size. A commit frame carries its events and its commit marker in one
// checksummed unit, so it is all there or not at all. On open, a torn last frame (a crash mid-write) is cut off,
// and both files are fsync'd so nothing read from them afterwards can still be lost by a power failure.
//
// Concurrency: any number of producers in this process may append at once; appends are queued and written one
// frame at a time, coalescing appends that queue up behind an fsync into one frame (group commit), so offsets
// follow the order of `append` calls. One process per directory: a second FileLog.open on the same directory,
// from this process or another, fails with DirectoryLockedError. Producers in other processes are out of scope.
//
// Open time is linear in the size of both files (every frame's checksum is verified); there is no segmenting
// or retention yet.

import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { ensureDir, writeFully } from './durable-fs.js';
import { FileLock } from './file-lock.js';
import {
  COMMANDS_FILE,
  EVENTS_FILE,
  FILE_HEADER_BYTES,
  FrameReader,
  LogCorruptError,
  MAX_FRAME_PAYLOAD_BYTES,
  commandBatchHeader,
  decodeCommandRecords,
  decodeEvents,
  encodeCommandFrame,
  encodeEventFrame,
  eventBatchHeader,
  openLogFile,
  truncateTornTail,
} from './log-frames.js';
import type { CommittedEvent, LogFileKind } from './log-frames.js';
import type { CommandLog, CommandRecord, CommandWriter, EventRecord, ResumePoint } from './log.js';
import { decodeEventRecord } from '../wire/codec.js';

export { DirectoryLockedError } from './file-lock.js';
export { LogCorruptError } from './log-frames.js';
export type { CommittedEvent } from './log-frames.js';

export interface FileLogOptions {
  /** Clock for command timestamps (ms); the log keeps them non-decreasing. Default Date.now. */
  readonly now?: () => number;
  /** Longest wait in `consume` before checking for new commands again (appends also wake it). Default 200. */
  readonly pollIntervalMs?: number;
  /** Appends queued behind an fsync are coalesced into one frame up to about this many bytes. Default 1 MiB. */
  readonly groupCommitBytes?: number;
  /** Reports a torn tail cut off while opening. */
  readonly onTruncate?: (file: string, droppedBytes: number, reason: string) => void;
}

/** A write or fsync failed in a way that leaves the file's durable state unknown; only a reopen can tell. */
export class FileLogFailedError extends Error {
  /** See isFatalLogError: the daemon must not retry past this. */
  readonly fatal = true;
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.name = 'FileLogFailedError';
  }
}

const RECORD_OVERHEAD_BYTES = 4;
const BATCH_OVERHEAD_BYTES = 20;
/** A sparse index entry every this many bytes bounds the scan that seeks to an offset or event index. */
const INDEX_EVERY_BYTES = 1 << 20;

/** Greatest known (key, file position) at or below a key, one entry per INDEX_EVERY_BYTES of file. */
class SparseIndex {
  private readonly keys: number[] = [];
  private readonly positions: number[] = [];

  add(key: number, pos: number): void {
    const last = this.positions.length - 1;
    if (last < 0 || pos - this.positions[last] >= INDEX_EVERY_BYTES) {
      this.keys.push(key);
      this.positions.push(pos);
    }
  }

  floor(key: number): number {
    let lo = 0;
    let hi = this.keys.length - 1;
    let best = FILE_HEADER_BYTES;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.keys[mid] <= key) {
        best = this.positions[mid];
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return best;
  }
}

interface CommandsState {
  /** End of the durable frames: consumers read up to here, the next append writes here. */
  end: number;
  nextOffset: number;
  lastTimestampMs: number;
  readonly index: SparseIndex;
}

interface EventsState {
  end: number;
  committedOffset: number;
  eventCount: number;
  readonly index: SparseIndex;
}

interface PendingAppend {
  readonly values: Uint8Array[];
  readonly bytes: number;
  readonly resolve: (offsets: number[]) => void;
  readonly reject: (err: unknown) => void;
}

export class FileLog implements CommandLog, CommandWriter {
  private readonly now: () => number;
  private readonly pollIntervalMs: number;
  private readonly groupCommitBytes: number;
  private readonly queue: PendingAppend[] = [];
  private flushing: Promise<void> | null = null;
  private commitTail: Promise<void> = Promise.resolve();
  private readonly waiters = new Set<() => void>();
  private consuming: Promise<void> | null = null;
  private stopped = false;
  private closing: Promise<void> | null = null;
  private failure: FileLogFailedError | null = null;

  private constructor(
    readonly dir: string,
    private readonly lock: FileLock,
    private readonly commandsFh: FileHandle,
    private readonly eventsFh: FileHandle,
    private readonly commands: CommandsState,
    private readonly events: EventsState,
    opts: FileLogOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.pollIntervalMs = opts.pollIntervalMs ?? 200;
    this.groupCommitBytes = opts.groupCommitBytes ?? 1 << 20;
  }

  /** Opens (creating if needed) the log in `dir`: locks it, checks both files and cuts off a torn tail. */
  static async open(dir: string, opts: FileLogOptions = {}): Promise<FileLog> {
    await ensureDir(dir);
    const lock = await FileLock.acquire(path.join(dir, 'LOCK'));
    const opened: FileHandle[] = [];
    try {
      const commandsFile = await openLogFile(dir, COMMANDS_FILE);
      opened.push(commandsFile.fh);
      const eventsFile = await openLogFile(dir, EVENTS_FILE);
      opened.push(eventsFile.fh);
      const report = opts.onTruncate ?? (() => {});
      const commands = await scanCommands(commandsFile.fh, commandsFile.size, report);
      const events = await scanEvents(eventsFile.fh, eventsFile.size, report);
      if (events.committedOffset >= commands.nextOffset) {
        throw new LogCorruptError(
          `events.log commits commands up to offset ${events.committedOffset} but commands.log ends before offset ${commands.nextOffset}: the command log lost durable data`,
        );
      }
      // What a killed predecessor wrote may still be only in the page cache: make it durable before using it.
      await commandsFile.fh.sync();
      await eventsFile.fh.sync();
      return new FileLog(dir, lock, commandsFile.fh, eventsFile.fh, commands, events, opts);
    } catch (err) {
      for (const fh of opened) await fh.close().catch(() => {});
      await lock.release().catch(() => {});
      throw err;
    }
  }

  /** The offset the next appended command will get (= number of commands in the log). */
  get nextOffset(): number {
    return this.commands.nextOffset;
  }

  /** Number of committed events. */
  get eventCount(): number {
    return this.events.eventCount;
  }

  // ---- CommandWriter ---------------------------------------------------------------------------------------

  append(values: Uint8Array[]): Promise<number[]> {
    const unusable = this.unusable();
    if (unusable !== null) return Promise.reject(unusable);
    let bytes = 0;
    for (const v of values) {
      if (!(v instanceof Uint8Array)) return Promise.reject(new TypeError('append takes Uint8Array values'));
      bytes += RECORD_OVERHEAD_BYTES + v.length;
    }
    if (values.length === 0) return Promise.resolve([]);
    if (BATCH_OVERHEAD_BYTES + bytes > MAX_FRAME_PAYLOAD_BYTES)
      return Promise.reject(new RangeError(`one append takes at most ${MAX_FRAME_PAYLOAD_BYTES} bytes, got ${bytes}`));
    return new Promise((resolve, reject) => {
      this.queue.push({ values: [...values], bytes, resolve, reject });
      if (this.flushing === null) this.flushing = this.flushQueue();
    });
  }

  /** Closes the whole log (files and lock) after queued appends and commits finish. See also `writer()`. */
  close(): Promise<void> {
    this.closing ??= this.closeNow();
    return this.closing;
  }

  /** A CommandWriter for one producer sharing this log: its close() only detaches that producer. */
  writer(): CommandWriter {
    let closed = false;
    return {
      append: (values) => (closed ? Promise.reject(new Error('this command writer is closed')) : this.append(values)),
      close: async () => {
        closed = true;
      },
    };
  }

  // ---- CommandLog ------------------------------------------------------------------------------------------

  async committedOffset(): Promise<number> {
    return this.events.committedOffset;
  }

  /** A commit is atomic: the last committed record ends the events of the committed commands. */
  async resumePoint(): Promise<ResumePoint> {
    const count = this.events.eventCount;
    if (count === 0) return { commandOffset: this.events.committedOffset, eventSeq: 0 };
    const [last] = await this.readEvents(count - 1, 1);
    const events = decodeEventRecord(last.value);
    return { commandOffset: this.events.committedOffset, eventSeq: events[events.length - 1].seq };
  }

  /**
   * Delivers durable commands from `fromOffset` on, at most `batchMax` per `onBatch`, until stop(); a batch holds
   * what is available at the time, it does not wait to fill up. stop() is final: a later consume returns at once.
   * Do not await stop() inside `onBatch` (stop waits for the batch in progress).
   */
  async consume(
    fromOffset: number,
    batchMax: number,
    onBatch: (records: CommandRecord[]) => Promise<void>,
  ): Promise<void> {
    if (!Number.isSafeInteger(fromOffset) || fromOffset < 0)
      throw new RangeError(`fromOffset must be a non-negative safe integer, got ${fromOffset}`);
    if (!Number.isSafeInteger(batchMax) || batchMax < 1)
      throw new RangeError(`batchMax must be a positive integer, got ${batchMax}`);
    if (this.consuming !== null) throw new Error('consume is already running on this log');
    const run = this.consumeLoop(fromOffset, batchMax, onBatch);
    this.consuming = run;
    try {
      await run;
    } finally {
      this.consuming = null;
    }
  }

  commit(events: EventRecord[], lastOffset: number): Promise<void> {
    // Checked at the call, not when its turn comes: a commit queued before close() still runs.
    const unusable = this.unusable();
    if (unusable !== null) return Promise.reject(unusable);
    const run = this.commitTail.then(() => this.commitNow(events, lastOffset));
    this.commitTail = run.catch(() => {});
    return run;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeConsumer();
    await this.consuming?.catch(() => {});
  }

  // ---- readers ---------------------------------------------------------------------------------------------

  /** Up to `max` durable commands from `fromOffset` on. */
  async readCommands(fromOffset: number, max = Number.MAX_SAFE_INTEGER): Promise<CommandRecord[]> {
    this.assertOpen();
    return new CommandCursor(this.commandsFh, this.commands, fromOffset).take(max);
  }

  /** Up to `max` committed events from index `fromIndex` on (events are numbered from 0 across commits). */
  async readEvents(fromIndex = 0, max = Number.MAX_SAFE_INTEGER): Promise<CommittedEvent[]> {
    this.assertOpen();
    const reader = new FrameReader(
      this.eventsFh,
      EVENTS_FILE.frameType,
      this.events.index.floor(fromIndex),
      this.events.end,
    );
    return readEventFrames(reader, fromIndex, max, true);
  }

  // ---- internals -------------------------------------------------------------------------------------------

  /** Why new work is refused, if it is. */
  private unusable(): Error | null {
    if (this.failure !== null) return this.failure;
    return this.closing !== null ? new Error(`the file log in ${this.dir} is closed`) : null;
  }

  /** Reads stay allowed after a failure: they never go past what was durable before it. */
  private assertOpen(): void {
    if (this.closing !== null) throw new Error(`the file log in ${this.dir} is closed`);
  }

  /** Writes queued appends, one frame per fsync; whatever queued during an fsync goes into the next frame. */
  private async flushQueue(): Promise<void> {
    while (this.queue.length > 0) {
      let taken = 1;
      let bytes = this.queue[0].bytes;
      while (taken < this.queue.length && bytes + this.queue[taken].bytes <= this.groupCommitBytes)
        bytes += this.queue[taken++].bytes;
      await this.writeAppends(this.queue.splice(0, taken));
    }
    // Cleared in the same synchronous step that saw the queue empty, so no append can be left waiting.
    this.flushing = null;
  }

  /** Settles every append in `group` (never throws). */
  private async writeAppends(group: PendingAppend[]): Promise<void> {
    try {
      if (this.failure !== null) throw this.failure;
      const values = group.length === 1 ? group[0].values : group.flatMap((a) => a.values);
      const first = this.commands.nextOffset;
      const timestampMs = this.nextTimestampMs();
      const frame = encodeCommandFrame(first, timestampMs, values);
      await this.durableWrite(this.commandsFh, COMMANDS_FILE, frame, this.commands.end);
      this.commands.index.add(first, this.commands.end);
      this.commands.end += frame.length;
      this.commands.nextOffset += values.length;
      this.commands.lastTimestampMs = timestampMs;
      let offset = first;
      for (const a of group) {
        a.resolve(a.values.map((_, i) => offset + i));
        offset += a.values.length;
      }
      this.wakeConsumer();
    } catch (err) {
      for (const a of group) a.reject(err);
    }
  }

  private nextTimestampMs(): number {
    const nowMs = Math.floor(this.now());
    if (!Number.isSafeInteger(nowMs) || nowMs < 0) throw new RangeError(`the clock returned ${nowMs}`);
    // Never backwards (the wall clock can be stepped back), so command times are ordered like offsets.
    return Math.max(nowMs, this.commands.lastTimestampMs);
  }

  private async commitNow(events: EventRecord[], lastOffset: number): Promise<void> {
    if (this.failure !== null) throw this.failure;
    const committed = this.events.committedOffset;
    if (!Number.isSafeInteger(lastOffset) || lastOffset <= committed)
      throw new RangeError(`commit lastOffset ${lastOffset} must be above the committed offset ${committed}`);
    if (lastOffset >= this.commands.nextOffset)
      throw new RangeError(
        `commit lastOffset ${lastOffset} is past the last command (offset ${this.commands.nextOffset - 1})`,
      );
    const frame = encodeEventFrame(lastOffset, this.events.eventCount, events);
    await this.durableWrite(this.eventsFh, EVENTS_FILE, frame, this.events.end);
    this.events.index.add(this.events.eventCount, this.events.end);
    this.events.end += frame.length;
    this.events.eventCount += events.length;
    this.events.committedOffset = lastOffset;
  }

  /**
   * Writes `frame` at `at` and fdatasyncs. A failed write is cut back off so a retry starts clean. A failed
   * fsync poisons the log: the kernel may have dropped the dirty pages and a retried fsync could report success
   * without them (PostgreSQL's "fsyncgate"), so only a restart, which re-reads the file, is trustworthy.
   */
  private async durableWrite(fh: FileHandle, kind: LogFileKind, frame: Buffer, at: number): Promise<void> {
    try {
      await writeFully(fh, frame, at);
    } catch (err) {
      await fh.truncate(at).catch((truncateErr: unknown) => this.fail(kind, truncateErr));
      throw this.failure ?? err;
    }
    try {
      await fh.datasync();
    } catch (err) {
      this.fail(kind, err);
      throw this.failure;
    }
  }

  private fail(kind: LogFileKind, cause: unknown): void {
    this.failure ??= new FileLogFailedError(
      `${path.join(this.dir, kind.name)} may not be durable (${String(cause)}): the log refuses further work; restart to recover from disk`,
      cause,
    );
    this.wakeConsumer();
  }

  private async consumeLoop(
    fromOffset: number,
    batchMax: number,
    onBatch: (records: CommandRecord[]) => Promise<void>,
  ): Promise<void> {
    const cursor = new CommandCursor(this.commandsFh, this.commands, fromOffset);
    while (!this.stopped) {
      if (this.failure !== null) throw this.failure;
      const records = await cursor.take(batchMax);
      if (records.length > 0) await onBatch(records);
      else await this.waitForAppend(cursor.readUpTo);
    }
  }

  /** Resolves on the next append, stop or failure, or after pollIntervalMs; at once if the log already grew. */
  private waitForAppend(knownEnd: number): Promise<void> {
    if (this.commands.end !== knownEnd || this.stopped || this.failure !== null) return Promise.resolve();
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

  private wakeConsumer(): void {
    for (const done of [...this.waiters]) done();
  }

  private async closeNow(): Promise<void> {
    await this.stop();
    while (this.flushing !== null) await this.flushing;
    await this.commitTail;
    try {
      await this.commandsFh.close();
      await this.eventsFh.close();
    } finally {
      await this.lock.release();
    }
  }
}

/** Reads durable commands in order from an offset, keeping its place between calls. */
class CommandCursor {
  private readonly reader: FrameReader;
  private buffered: CommandRecord[] = [];
  private next = 0;

  constructor(
    fh: FileHandle,
    private readonly state: CommandsState,
    private readonly fromOffset: number,
  ) {
    this.reader = new FrameReader(fh, COMMANDS_FILE.frameType, state.index.floor(fromOffset), state.end);
  }

  /** The durable end this cursor has read up to. */
  get readUpTo(): number {
    return this.reader.pos;
  }

  /** Up to `max` records that are durable now; none if the cursor is at the end. */
  async take(max: number): Promise<CommandRecord[]> {
    const out: CommandRecord[] = [];
    while (out.length < max) {
      if (this.next < this.buffered.length) {
        const n = Math.min(max - out.length, this.buffered.length - this.next);
        for (let i = 0; i < n; i++) out.push(this.buffered[this.next++]);
        continue;
      }
      const start = this.reader.pos;
      this.reader.limit = this.state.end;
      const check = await this.reader.next();
      if (check === null) break;
      if (check.kind !== 'frame')
        throw new LogCorruptError(
          `commands.log at byte ${start}: ${check.kind === 'invalid' ? check.reason : 'frame cut off'} inside durable data`,
        );
      this.buffered = decodeCommandRecords(check.payload, this.fromOffset);
      this.next = 0;
    }
    return out;
  }
}

/** Reads whole event frames to the reader's limit. `strict`: a bad frame is corruption, else the end of the data. */
async function readEventFrames(
  reader: FrameReader,
  fromIndex: number,
  max: number,
  strict: boolean,
): Promise<CommittedEvent[]> {
  const out: CommittedEvent[] = [];
  while (out.length < max) {
    const start = reader.pos;
    const check = await reader.next();
    if (check === null) break;
    if (check.kind !== 'frame') {
      if (strict)
        throw new LogCorruptError(
          `events.log at byte ${start}: ${check.kind === 'invalid' ? check.reason : 'frame cut off'} inside committed data`,
        );
      break;
    }
    for (const ev of decodeEvents(check.payload, fromIndex)) if (out.length < max) out.push(ev);
  }
  return out;
}

/**
 * Committed events of the log in `dir` from `fromIndex` on, read without opening (or locking) the log, e.g. by
 * another process while the daemon runs. A commit still being written is not returned. Events read this way may
 * precede their commit's fsync; a crash then re-creates the same events (the engine is deterministic).
 */
export async function readCommittedEvents(
  dir: string,
  fromIndex = 0,
  max = Number.MAX_SAFE_INTEGER,
): Promise<CommittedEvent[]> {
  const fh = await open(path.join(dir, EVENTS_FILE.name), 'r');
  try {
    const size = (await fh.stat()).size;
    const head = await fh.read(Buffer.alloc(FILE_HEADER_BYTES), 0, FILE_HEADER_BYTES, 0);
    if (head.bytesRead < FILE_HEADER_BYTES || !head.buffer.subarray(0, 8).equals(EVENTS_FILE.magic))
      throw new LogCorruptError(`${dir}/events.log is not an events log`);
    return await readEventFrames(
      new FrameReader(fh, EVENTS_FILE.frameType, FILE_HEADER_BYTES, size),
      fromIndex,
      max,
      false,
    );
  } finally {
    await fh.close();
  }
}

type TruncateReport = (file: string, droppedBytes: number, reason: string) => void;

async function scanCommands(fh: FileHandle, size: number, report: TruncateReport): Promise<CommandsState> {
  const state: CommandsState = { end: FILE_HEADER_BYTES, nextOffset: 0, lastTimestampMs: 0, index: new SparseIndex() };
  state.end = await scanFrames(fh, COMMANDS_FILE, size, report, (payload, at) => {
    const header = commandBatchHeader(payload);
    if (typeof header === 'string') throw new LogCorruptError(`commands.log frame at byte ${at}: ${header}`);
    if (header.first !== state.nextOffset)
      throw new LogCorruptError(
        `commands.log frame at byte ${at} starts at offset ${header.first}, expected ${state.nextOffset}`,
      );
    state.index.add(state.nextOffset, at);
    state.nextOffset += header.count;
    state.lastTimestampMs = header.second;
  });
  return state;
}

async function scanEvents(fh: FileHandle, size: number, report: TruncateReport): Promise<EventsState> {
  const state: EventsState = { end: FILE_HEADER_BYTES, committedOffset: -1, eventCount: 0, index: new SparseIndex() };
  state.end = await scanFrames(fh, EVENTS_FILE, size, report, (payload, at) => {
    const header = eventBatchHeader(payload);
    if (typeof header === 'string') throw new LogCorruptError(`events.log frame at byte ${at}: ${header}`);
    if (header.first !== state.eventCount)
      throw new LogCorruptError(
        `events.log frame at byte ${at} starts at event ${header.first}, expected ${state.eventCount}`,
      );
    if (header.second <= state.committedOffset)
      throw new LogCorruptError(
        `events.log frame at byte ${at} commits offset ${header.second}, not above ${state.committedOffset}`,
      );
    state.index.add(state.eventCount, at);
    state.eventCount += header.count;
    state.committedOffset = header.second;
  });
  return state;
}

/**
 * Verifies every frame (checksum, then `onFrame` for content and continuity), and cuts off a torn tail.
 * Returns where the valid frames end.
 */
async function scanFrames(
  fh: FileHandle,
  kind: LogFileKind,
  size: number,
  report: TruncateReport,
  onFrame: (payload: Buffer, at: number) => void,
): Promise<number> {
  const reader = new FrameReader(fh, kind.frameType, FILE_HEADER_BYTES, size);
  for (;;) {
    const at = reader.pos;
    const check = await reader.next();
    if (check === null) return at;
    if (check.kind === 'frame') {
      onFrame(check.payload, at);
      continue;
    }
    const reason = check.kind === 'invalid' ? check.reason : 'last frame cut off';
    const dropped = await truncateTornTail(fh, kind, at, size, reason);
    report(kind.name, dropped, reason);
    return at;
  }
}
