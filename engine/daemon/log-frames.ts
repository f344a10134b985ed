// On-disk format of the embedded file log (file-log.ts): two append-only files of checksummed frames.
//
// Each file starts with a 16-byte header: 8-byte magic ("EXCMDLOG" or "EXEVTLOG"), u32 format version (1),
// u32 reserved (0). Then frames, all integers big-endian:
//   u32 crc      CRC-32 of every byte after this field (length, type and payload)
//   u32 length   payload length in bytes (at most MAX_FRAME_PAYLOAD_BYTES)
//   u8  type     'C' (0x43) in commands.log, 'E' (0x45) in events.log
//   payload
// A commands frame is one durable append (several producers' appends may be coalesced into one):
//   u64 firstOffset, u64 timestampMs, u32 count, then count x (u32 length, value bytes); offsets run
//   firstOffset .. firstOffset+count-1 and continue the previous frame's.
// An events frame is one commit, the events and the "done up to lastOffset" marker in one checksummed unit:
//   u64 lastOffset, u64 firstEventIndex, u32 count, then count x (u32 keyLength, key UTF-8, u32 valueLength,
//   value UTF-8); firstEventIndex continues the previous frame's, lastOffset strictly increases.
//
// Every frame is written by one positional write and fsync'd before the next frame is written. So after a
// crash only the last frame can be damaged (torn, half persisted, zero-filled): recovery truncates a damaged
// tail, unless an intact frame follows the damage, which proves the damage hit data that was already durable.

import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { crc32, errorCode, fsyncDir, readAt, readU64, writeFully, writeU64 } from './durable-fs.js';
import type { CommandRecord, EventRecord } from './log.js';

export const LOG_FILE_VERSION = 1;
export const FILE_HEADER_BYTES = 16;
export const FRAME_HEADER_BYTES = 9;
/** Caps one append (or commit) and bounds how much a torn tail can be. */
export const MAX_FRAME_PAYLOAD_BYTES = 256 * 1024 * 1024;
const BATCH_HEADER_BYTES = 20;
const LENGTH_BYTES = 4;

export class LogCorruptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LogCorruptError';
  }
}

export interface LogFileKind {
  readonly name: string;
  readonly magic: Buffer;
  readonly frameType: number;
  /** Null if the payload is well formed, else why not. */
  readonly checkPayload: (payload: Buffer) => string | null;
}

export const COMMANDS_FILE: LogFileKind = {
  name: 'commands.log',
  magic: Buffer.from('EXCMDLOG', 'ascii'),
  frameType: 0x43,
  checkPayload: (p) => str(commandBatchHeader(p)),
};
export const EVENTS_FILE: LogFileKind = {
  name: 'events.log',
  magic: Buffer.from('EXEVTLOG', 'ascii'),
  frameType: 0x45,
  checkPayload: (p) => str(eventBatchHeader(p)),
};

const str = (x: object | string): string | null => (typeof x === 'string' ? x : null);

// ---- frames ------------------------------------------------------------------------------------------------

export type FrameCheck =
  | { readonly kind: 'frame'; readonly payload: Buffer; readonly bytes: number }
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'invalid'; readonly reason: string };

const INCOMPLETE: FrameCheck = { kind: 'incomplete' };

/** Allocates a frame and lets `fill` write the payload from byte FRAME_HEADER_BYTES on; seals it with the CRC. */
function sealedFrame(type: number, payloadBytes: number, fill: (frame: Buffer, at: number) => number): Buffer {
  if (payloadBytes > MAX_FRAME_PAYLOAD_BYTES)
    throw new RangeError(`a frame holds at most ${MAX_FRAME_PAYLOAD_BYTES} bytes, this one needs ${payloadBytes}`);
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payloadBytes);
  frame.writeUInt32BE(payloadBytes, 4);
  frame[8] = type;
  const end = fill(frame, FRAME_HEADER_BYTES);
  if (end !== frame.length) throw new Error(`frame encoder wrote ${end} of ${frame.length} bytes`);
  frame.writeUInt32BE(crc32(frame.subarray(4)), 0);
  return frame;
}

/** Checks the frame starting at `at` in `buf` (the buffer ends where the readable data ends). */
export function checkFrame(buf: Buffer, at: number, type: number): FrameCheck {
  if (buf.length - at < FRAME_HEADER_BYTES) return INCOMPLETE;
  const payloadBytes = buf.readUInt32BE(at + 4);
  if (payloadBytes > MAX_FRAME_PAYLOAD_BYTES)
    return { kind: 'invalid', reason: `frame length ${payloadBytes} is over the maximum` };
  if (buf[at + 8] !== type)
    return { kind: 'invalid', reason: `frame type 0x${buf[at + 8].toString(16)} is not 0x${type.toString(16)}` };
  const bytes = FRAME_HEADER_BYTES + payloadBytes;
  if (buf.length - at < bytes) return INCOMPLETE;
  if (crc32(buf.subarray(at + 4, at + bytes)) !== buf.readUInt32BE(at))
    return { kind: 'invalid', reason: 'frame checksum mismatch' };
  return { kind: 'frame', payload: buf.subarray(at + FRAME_HEADER_BYTES, at + bytes), bytes };
}

/**
 * Reads frames in order from `pos` up to `limit` (which the owner may raise as the file grows), through a
 * read-ahead buffer. Payloads are views into that buffer: copy what outlives the next call.
 */
export class FrameReader {
  private chunk: Buffer = Buffer.alloc(0);
  private chunkAt = 0;

  constructor(
    private readonly fh: FileHandle,
    private readonly type: number,
    public pos: number,
    public limit: number,
    private readonly readAheadBytes = 1 << 20,
  ) {}

  /** The next frame, or why the bytes at `pos` are not one; null at `limit`. Only a frame advances `pos`. */
  async next(): Promise<FrameCheck | null> {
    if (this.pos >= this.limit) return null;
    let check = this.checkBuffered();
    while (check.kind === 'incomplete') {
      const buffered = this.bufferedBytes();
      const want = Math.min(this.limit - this.pos, Math.max(this.readAheadBytes, this.neededBytes()));
      if (want <= buffered) break; // the frame runs past `limit`
      this.chunk = await readAt(this.fh, want, this.pos);
      this.chunkAt = this.pos;
      check = this.checkBuffered();
      if (this.chunk.length < want) break; // the file is shorter than `limit`
    }
    if (check.kind === 'frame') this.pos += check.bytes;
    return check;
  }

  private view(): Buffer {
    return this.chunk.subarray(0, Math.max(0, Math.min(this.chunk.length, this.limit - this.chunkAt)));
  }

  private bufferedBytes(): number {
    const at = this.pos - this.chunkAt;
    return at < 0 ? 0 : Math.max(0, this.view().length - at);
  }

  private checkBuffered(): FrameCheck {
    const at = this.pos - this.chunkAt;
    const view = this.view();
    return at < 0 || at > view.length ? INCOMPLETE : checkFrame(view, at, this.type);
  }

  /** The whole frame's size if its header is buffered, else the header's. */
  private neededBytes(): number {
    const at = this.pos - this.chunkAt;
    if (at < 0 || this.bufferedBytes() < FRAME_HEADER_BYTES) return FRAME_HEADER_BYTES;
    return FRAME_HEADER_BYTES + Math.min(this.chunk.readUInt32BE(at + 4), MAX_FRAME_PAYLOAD_BYTES);
  }
}

// ---- commands frames ---------------------------------------------------------------------------------------

export interface BatchHeader {
  readonly first: number;
  /** timestampMs for commands, lastOffset for events. */
  readonly second: number;
  readonly count: number;
}

export function encodeCommandFrame(firstOffset: number, timestampMs: number, values: readonly Uint8Array[]): Buffer {
  let payloadBytes = BATCH_HEADER_BYTES;
  for (const v of values) payloadBytes += LENGTH_BYTES + v.length;
  return sealedFrame(COMMANDS_FILE.frameType, payloadBytes, (frame, start) => {
    let at = writeBatchHeader(frame, start, firstOffset, timestampMs, values.length);
    for (const v of values) {
      frame.writeUInt32BE(v.length, at);
      frame.set(v, at + LENGTH_BYTES);
      at += LENGTH_BYTES + v.length;
    }
    return at;
  });
}

/** firstOffset, timestampMs and count of a commands payload, after checking its records tile it exactly. */
export function commandBatchHeader(payload: Buffer): BatchHeader | string {
  const header = readBatchHeader(payload);
  if (typeof header === 'string') return header;
  let at = BATCH_HEADER_BYTES;
  for (let i = 0; i < header.count; i++) {
    if (payload.length - at < LENGTH_BYTES) return `record ${i} of ${header.count} is cut off`;
    at += LENGTH_BYTES + payload.readUInt32BE(at);
  }
  return at === payload.length ? header : 'records do not fill the frame exactly';
}

/** The records of a (checked) commands payload whose offset is at least `minOffset`, values copied. */
export function decodeCommandRecords(payload: Buffer, minOffset: number): CommandRecord[] {
  const header = commandBatchHeader(payload);
  if (typeof header === 'string') throw new LogCorruptError(`commands frame: ${header}`);
  const records: CommandRecord[] = [];
  let at = BATCH_HEADER_BYTES;
  for (let i = 0; i < header.count; i++) {
    const length = payload.readUInt32BE(at);
    const offset = header.first + i;
    if (offset >= minOffset)
      records.push({
        offset,
        timestampMs: header.second,
        value: new Uint8Array(payload.subarray(at + LENGTH_BYTES, at + LENGTH_BYTES + length)),
      });
    at += LENGTH_BYTES + length;
  }
  return records;
}

// ---- events frames -----------------------------------------------------------------------------------------

/** An event as read back: its position in the event log and the commit that made it durable. */
export interface CommittedEvent extends EventRecord {
  readonly index: number;
  /** lastOffset of the commit that carried the event. */
  readonly commitOffset: number;
}

export function encodeEventFrame(lastOffset: number, firstEventIndex: number, events: readonly EventRecord[]): Buffer {
  let payloadBytes = BATCH_HEADER_BYTES;
  for (const ev of events)
    payloadBytes += 2 * LENGTH_BYTES + Buffer.byteLength(ev.key, 'utf8') + Buffer.byteLength(ev.value, 'utf8');
  return sealedFrame(EVENTS_FILE.frameType, payloadBytes, (frame, start) => {
    let at = writeBatchHeader(frame, start, firstEventIndex, lastOffset, events.length);
    for (const ev of events) {
      at = writeString(frame, at, ev.key);
      at = writeString(frame, at, ev.value);
    }
    return at;
  });
}

/** firstEventIndex, lastOffset and count of an events payload, after checking its entries tile it exactly. */
export function eventBatchHeader(payload: Buffer): BatchHeader | string {
  const header = readBatchHeader(payload);
  if (typeof header === 'string') return header;
  let at = BATCH_HEADER_BYTES;
  for (let i = 0; i < 2 * header.count; i++) {
    if (payload.length - at < LENGTH_BYTES) return `event ${i >> 1} of ${header.count} is cut off`;
    at += LENGTH_BYTES + payload.readUInt32BE(at);
  }
  return at === payload.length ? header : 'events do not fill the frame exactly';
}

/** The events of a (checked) events payload whose index is at least `minIndex`. */
export function decodeEvents(payload: Buffer, minIndex: number): CommittedEvent[] {
  const header = eventBatchHeader(payload);
  if (typeof header === 'string') throw new LogCorruptError(`events frame: ${header}`);
  const events: CommittedEvent[] = [];
  let at = BATCH_HEADER_BYTES;
  for (let i = 0; i < header.count; i++) {
    const keyBytes = payload.readUInt32BE(at);
    const keyAt = at + LENGTH_BYTES;
    const valueBytes = payload.readUInt32BE(keyAt + keyBytes);
    const valueAt = keyAt + keyBytes + LENGTH_BYTES;
    const index = header.first + i;
    if (index >= minIndex)
      events.push({
        index,
        commitOffset: header.second,
        key: payload.toString('utf8', keyAt, keyAt + keyBytes),
        value: payload.toString('utf8', valueAt, valueAt + valueBytes),
      });
    at = valueAt + valueBytes;
  }
  return events;
}

function writeString(frame: Buffer, at: number, s: string): number {
  const bytes = frame.write(s, at + LENGTH_BYTES, 'utf8');
  frame.writeUInt32BE(bytes, at);
  return at + LENGTH_BYTES + bytes;
}

function writeBatchHeader(frame: Buffer, at: number, first: number, second: number, count: number): number {
  writeU64(frame, first, at);
  writeU64(frame, second, at + 8);
  frame.writeUInt32BE(count, at + 16);
  return at + BATCH_HEADER_BYTES;
}

function readBatchHeader(payload: Buffer): BatchHeader | string {
  if (payload.length < BATCH_HEADER_BYTES) return 'batch header is cut off';
  const first = readU64(payload, 0);
  const second = readU64(payload, 8);
  if (first < 0 || second < 0) return 'batch header holds an out-of-range number';
  return { first, second, count: payload.readUInt32BE(16) };
}

// ---- files -------------------------------------------------------------------------------------------------

function fileHeader(kind: LogFileKind): Buffer {
  const header = Buffer.alloc(FILE_HEADER_BYTES);
  kind.magic.copy(header, 0);
  header.writeUInt32BE(LOG_FILE_VERSION, 8);
  return header;
}

/**
 * Opens (creating if needed) a log file for reading and positional writing, checking its header. A header cut
 * short by a crash during creation is rewritten: no frame can have been written after it.
 */
export async function openLogFile(dir: string, kind: LogFileKind): Promise<{ fh: FileHandle; size: number }> {
  const filePath = path.join(dir, kind.name);
  const expected = fileHeader(kind);
  let fh: FileHandle;
  try {
    fh = await open(filePath, 'r+');
  } catch (err) {
    if (errorCode(err) !== 'ENOENT') throw err;
    fh = await open(filePath, 'wx+');
    await writeHeader(fh, expected);
    await fsyncDir(dir);
    return { fh, size: FILE_HEADER_BYTES };
  }
  try {
    const size = (await fh.stat()).size;
    const head = await readAt(fh, FILE_HEADER_BYTES, 0);
    if (size <= FILE_HEADER_BYTES && isTornHeader(head, expected)) {
      await fh.truncate(0);
      await writeHeader(fh, expected);
      return { fh, size: FILE_HEADER_BYTES };
    }
    if (head.length < FILE_HEADER_BYTES || !head.subarray(0, 8).equals(kind.magic))
      throw new LogCorruptError(`${filePath} is not a ${kind.name} file (bad magic)`);
    const version = head.readUInt32BE(8);
    if (version !== LOG_FILE_VERSION)
      throw new LogCorruptError(
        `${filePath} has format version ${version}; this build reads version ${LOG_FILE_VERSION}`,
      );
    return { fh, size };
  } catch (err) {
    await fh.close();
    throw err;
  }
}

async function writeHeader(fh: FileHandle, header: Buffer): Promise<void> {
  await writeFully(fh, header, 0);
  await fh.sync();
}

/** Every byte present is the expected one or zero (file systems may zero-fill what a crash did not persist). */
function isTornHeader(head: Buffer, expected: Buffer): boolean {
  for (let i = 0; i < head.length; i++) if (head[i] !== 0 && head[i] !== expected[i]) return false;
  return head.length < FILE_HEADER_BYTES || !head.equals(expected);
}

/**
 * Cuts off a damaged tail [validEnd, size) left by a crash mid-write, and returns how many bytes it dropped.
 * Throws instead if the damage cannot be a torn last frame: the tail is longer than one frame can be, or an
 * intact frame follows the damage (each frame is fsync'd before the next is written, so the damaged one was durable).
 */
export async function truncateTornTail(
  fh: FileHandle,
  kind: LogFileKind,
  validEnd: number,
  size: number,
  why: string,
): Promise<number> {
  if (validEnd >= size) return 0;
  const tailBytes = size - validEnd;
  const where = `${kind.name} is damaged at byte ${validEnd} (${why})`;
  if (tailBytes > FRAME_HEADER_BYTES + MAX_FRAME_PAYLOAD_BYTES)
    throw new LogCorruptError(
      `${where} with ${tailBytes} bytes after it, more than one frame: not a torn write; refusing to truncate`,
    );
  const tail = await readAt(fh, tailBytes, validEnd);
  for (let at = 1; at + FRAME_HEADER_BYTES <= tail.length; at++) {
    const check = checkFrame(tail, at, kind.frameType);
    if (check.kind === 'frame' && kind.checkPayload(check.payload) === null) {
      throw new LogCorruptError(
        `${where} but an intact frame follows at byte ${validEnd + at}: durable data is corrupt; refusing to truncate`,
      );
    }
  }
  await fh.truncate(validEnd);
  await fh.sync();
  return tailBytes;
}
