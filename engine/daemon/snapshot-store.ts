// Durable engine snapshots in a directory, one file per snapshot, named by the command offset it covers.
//
// File format (all integers big-endian):
//   bytes  0..8   magic "EXCHSNAP"
//   bytes  8..12  u32 format version (1)
//   bytes 12..20  u64 command offset covered (the snapshot holds the state after applying that command)
//   bytes 20..28  u64 body length in bytes
//   bytes 28..60  SHA-256 of bytes 0..28 followed by the body, so a flipped bit anywhere is detected
//   bytes 60..    body (the engine's snapshot bytes), exactly `body length` of them: no more, no less
//
// Writing: a unique temp file in the same directory, fsync, close, rename onto `snapshot-<offset>.snap`
// (atomic: readers see the whole old state or the whole new file), fsync the directory (the rename is durable),
// then delete all but the newest `keep` snapshots and any temp files left by a crash. Loading walks snapshots
// newest first and skips any that does not verify, so a crash or a bad disk costs a longer replay, not a failed start.
//
// One writer per directory: the daemon's data dir is locked by the file log (or owned by the Kafka daemon's
// deployment); writes from one store are serialized.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { open, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { snapshotJson } from '../core/index.js';
import type { Engine } from '../core/index.js';
import { ensureDir, errorCode, fsyncDir, readU64, writeFully, writeU64 } from './durable-fs.js';
import { yieldToTimers } from './snapshot-encode.js';

export const SNAPSHOT_FILE_VERSION = 1;

/** SHA-256 of the engine's canonical JSON snapshot (format 3): equal states hash equal. Not of the binary
 * snapshot the daemon stores (format 4): the hash kept its value across the format change, so the pinned hashes
 * (test/wire/event-bytes.sim.test.ts) still hold. It lives here, with the other hashing of snapshots, because the
 * engine core does no I/O and imports no node:* module. */
export function stateHash(engine: Engine): string {
  return createHash('sha256').update(snapshotJson(engine)).digest('hex');
}
const MAGIC = Buffer.from('EXCHSNAP', 'ascii');
const HEADER_BYTES = 60;
const DIGEST_AT = 28;
const OFFSET_DIGITS = 16; // Number.MAX_SAFE_INTEGER has 16 digits, so names sort like their offsets
const NAME = /^snapshot-(\d{16})\.snap$/;
const TEMP = /^snapshot-\d{16}\.snap\.tmp-/;

export interface SnapshotStoreOptions {
  readonly dir: string;
  /** How many snapshots to keep (newest by offset); default 3. */
  readonly keep?: number;
  /** Called for each snapshot file that `loadNewest`/`loadAll` skips, with why. */
  readonly onSkip?: (path: string, reason: string) => void;
}

export interface LoadedSnapshot {
  readonly bytes: Uint8Array;
  readonly offset: number;
  readonly path: string;
}

interface SnapshotFileName {
  readonly offset: number;
  readonly path: string;
}

export class SnapshotStore {
  readonly dir: string;
  readonly keep: number;
  private readonly onSkip: (path: string, reason: string) => void;
  private tail: Promise<void> = Promise.resolve();
  private tempSeq = 0;

  constructor(opts: SnapshotStoreOptions) {
    const keep = opts.keep ?? 3;
    if (!Number.isSafeInteger(keep) || keep < 1) throw new RangeError(`keep must be an integer >= 1, got ${keep}`);
    this.dir = opts.dir;
    this.keep = keep;
    this.onSkip = opts.onSkip ?? (() => {});
  }

  /** Durably stores `bytes` as the snapshot covering command `offset`; resolves once it survives a crash. */
  write(bytes: Uint8Array, offset: number): Promise<void> {
    if (!Number.isSafeInteger(offset) || offset < 0)
      return Promise.reject(new RangeError(`snapshot offset must be a non-negative safe integer, got ${offset}`));
    // Serialized so a prune never races a rename from the same store.
    const run = this.tail.then(() => this.writeNow(bytes, offset));
    this.tail = run.catch(() => {});
    return run;
  }

  /**
   * The newest snapshot that verifies and that `accept` (if given) accepts; null if none. `accept` lets the caller
   * fall back to an older snapshot when a checksum-valid one still fails to restore.
   */
  async loadNewest(accept?: (bytes: Uint8Array) => boolean | Promise<boolean>): Promise<LoadedSnapshot | null> {
    for await (const loaded of this.loadAll()) {
      if (accept === undefined || (await accept(loaded.bytes))) return loaded;
      this.onSkip(loaded.path, 'rejected by the caller (does not restore)');
    }
    return null;
  }

  /** Every snapshot that verifies, newest first, read lazily; the others are reported through `onSkip`. */
  async *loadAll(): AsyncGenerator<LoadedSnapshot> {
    for (const file of await this.list()) {
      let data: Buffer;
      try {
        // Read synchronously: the promise API reads a large file in 512 KiB pieces, each a thread-pool round trip
        // that waits for a turn on a loaded machine (96 MB of a million-order book: 0.9-1.5 s against 0.5 s
        // here, load 10). Snapshots are read at start-up (the daemon, with nothing else to serve yet) or by a tool.
        data = readFileSync(file.path);
      } catch (err) {
        this.onSkip(file.path, `unreadable: ${errorCode(err) ?? String(err)}`);
        continue;
      }
      const decoded = decodeSnapshotFile(data, file.offset);
      if (typeof decoded === 'string') this.onSkip(file.path, decoded);
      else yield { bytes: decoded, offset: file.offset, path: file.path };
    }
  }

  /** Snapshot files by name, newest (highest offset) first, unverified. */
  async list(): Promise<SnapshotFileName[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return [];
      throw err;
    }
    const files: SnapshotFileName[] = [];
    for (const name of names) {
      const match = NAME.exec(name);
      if (match !== null) files.push({ offset: Number(match[1]), path: path.join(this.dir, name) });
    }
    return files.sort((a, b) => b.offset - a.offset);
  }

  private async writeNow(body: Uint8Array, offset: number): Promise<void> {
    await ensureDir(this.dir);
    const finalPath = path.join(this.dir, fileName(offset));
    const tempPath = `${finalPath}.tmp-${process.pid}-${++this.tempSeq}`;
    const header = await snapshotHeader(body, offset);
    const fh = await open(tempPath, 'wx');
    try {
      await writeFully(fh, header, 0);
      await writeFully(fh, body, HEADER_BYTES);
      await fh.sync();
    } catch (err) {
      await fh.close().catch(() => {});
      await rm(tempPath, { force: true });
      throw err;
    }
    await fh.close();
    await rename(tempPath, finalPath);
    await fsyncDir(this.dir);
    await this.prune();
  }

  /** Deletes all but the newest `keep` snapshots, and temp files a crashed write left behind. */
  private async prune(): Promise<void> {
    const doomed = (await this.list()).slice(this.keep).map((f) => f.path);
    for (const name of await readdir(this.dir)) if (TEMP.test(name)) doomed.push(path.join(this.dir, name));
    // Losing these deletions in a crash only leaves extra files behind, so the directory is not fsync'd again.
    for (const p of doomed) await rm(p, { force: true });
  }
}

export function fileName(offset: number): string {
  return `snapshot-${String(offset).padStart(OFFSET_DIGITS, '0')}.snap`;
}

async function snapshotHeader(body: Uint8Array, offset: number): Promise<Buffer> {
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.writeUInt32BE(SNAPSHOT_FILE_VERSION, 8);
  writeU64(header, offset, 12);
  writeU64(header, body.length, 20);
  (await digestInSlices(header, body)).copy(header, DIGEST_AT);
  return header;
}

function digestOf(header: Buffer, body: Uint8Array): Buffer {
  return createHash('sha256').update(header.subarray(0, DIGEST_AT)).update(body).digest();
}

/**
 * Body bytes hashed between two pauses of a write: SHA-256 of a million-order snapshot (96 MB) took 0.17-0.3 s in
 * one go, a stall of the writer's event loop (snapshot-encode.ts says why that matters); 8 MB is a few ms.
 */
const DIGEST_SLICE_BYTES = 8 * 1024 * 1024;

/** digestOf, letting the event loop run between slices: the caller must not change `body` meanwhile. */
async function digestInSlices(header: Buffer, body: Uint8Array): Promise<Buffer> {
  const hash = createHash('sha256').update(header.subarray(0, DIGEST_AT));
  for (let at = 0; at < body.length; at += DIGEST_SLICE_BYTES) {
    if (at > 0) await yieldToTimers();
    hash.update(body.subarray(at, at + DIGEST_SLICE_BYTES));
  }
  return hash.digest();
}

/** The body of a snapshot file, or why the file is not a valid snapshot for `expectedOffset`. */
export function decodeSnapshotFile(data: Buffer, expectedOffset: number): Uint8Array | string {
  if (data.length < HEADER_BYTES)
    return `truncated: ${data.length} bytes, shorter than the ${HEADER_BYTES}-byte header`;
  if (!data.subarray(0, MAGIC.length).equals(MAGIC)) return 'bad magic: not a snapshot file';
  const version = data.readUInt32BE(8);
  if (version !== SNAPSHOT_FILE_VERSION) return `unsupported snapshot file version ${version}`;
  const offset = readU64(data, 12);
  const bodyBytes = readU64(data, 20);
  if (bodyBytes < 0 || data.length !== HEADER_BYTES + bodyBytes)
    return `length mismatch: header says ${bodyBytes} body bytes, file has ${data.length - HEADER_BYTES}`;
  const body = data.subarray(HEADER_BYTES);
  if (!digestOf(data, body).equals(data.subarray(DIGEST_AT, HEADER_BYTES))) return 'checksum mismatch';
  // Checked after the digest: a valid digest means the header is as written, so a mismatch is a misnamed file.
  if (offset !== expectedOffset) return `offset mismatch: file name says ${expectedOffset}, header says ${offset}`;
  return body;
}
