// Durable file primitives shared by the snapshot store and the embedded file log. The fs API alone does not make
// data survive a crash: a write may be partial, written bytes sit in the page cache until fsync, and a new,
// renamed or deleted name is only durable once its directory is fsync'd too.

import { mkdir, open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';

/** Writes all of `bytes` at `position` (a single write may write fewer bytes than asked). */
export async function writeFully(fh: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    const { bytesWritten } = await fh.write(bytes, written, bytes.length - written, position + written);
    if (bytesWritten <= 0) throw new Error(`write made no progress at byte ${position + written}`);
    written += bytesWritten;
  }
}

/** Reads up to `length` bytes at `position`; shorter only at end of file. */
export async function readAt(fh: FileHandle, length: number, position: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await fh.read(buf, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled === length ? buf : buf.subarray(0, filled);
}

/** Makes the directory's entries (creations, renames, deletions) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  // Windows cannot open a directory for fsync; its file system orders metadata differently anyway.
  if (process.platform === 'win32') return;
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Creates `dir` (and parents) if missing, making the new entry durable in its parent. */
export async function ensureDir(dir: string): Promise<void> {
  const firstCreated = await mkdir(dir, { recursive: true });
  if (firstCreated !== undefined) await fsyncDir(path.dirname(firstCreated));
}

export function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

// CRC-32 (ISO-HDLC, the zlib/PNG polynomial): native in Node >= 20.15, a table fallback for older 20.x.
const CRC_TABLE = ((): Uint32Array => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32Table(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export const crc32: (bytes: Uint8Array) => number =
  typeof zlib.crc32 === 'function' ? (bytes) => zlib.crc32(bytes) : crc32Table;

/** Exposed so a test can check the fallback agrees with the native implementation. */
export const crc32Fallback = crc32Table;

// Unsigned integers up to 2^53 - 1 in 8 big-endian bytes (offsets, indexes, timestamps).
export function writeU64(buf: Buffer, value: number, at: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${value} is not a non-negative safe integer`);
  buf.writeUInt32BE(Math.floor(value / 0x1_0000_0000), at);
  buf.writeUInt32BE(value >>> 0, at + 4);
}

/** -1 when the stored value is not a safe integer (only a corrupt file can hold one). */
export function readU64(buf: Buffer, at: number): number {
  const value = buf.readUInt32BE(at) * 0x1_0000_0000 + buf.readUInt32BE(at + 4);
  return Number.isSafeInteger(value) ? value : -1;
}
