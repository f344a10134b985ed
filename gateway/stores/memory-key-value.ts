// KeyValueStore in this process's memory, for the embedded single-instance exchange (no Redis). Same semantics as
// the Redis one (test/gateway/key-value.int.test.ts runs one contract against both), and bounded:
// - expiry: a key is gone once the clock passes its expiry (Redis's rule: alive at exactly `expiresMs`). Expired
//   entries are dropped when read, from the front of the insertion order on every write (cheap: amortised O(1)),
//   and by a full scan when the store is full (at most once per `fullSweepIntervalMs`, so a full store cannot make
//   every request scan it);
// - at most `entriesMax` entries. A new key in a store full of live entries either is refused with StoreFullError
//   (`whenFull: 'reject'`: for replay protection, where forgetting a live entry would let a replay through) or
//   evicts the least recently written entry (`'evictOldest'`: for data whose loss is tolerable, like an LRU Redis).
// Memory: about 90 bytes of heap per entry plus its key and value (measured: 100,000 signatures of 71-character
// keys: 8.5 MB besides the keys, about 17 MB with them).

import { StoreFullError, assertTtlMs } from './key-value.js';
import type { KeyValueStore } from './key-value.js';

export interface MemoryStoreOptions {
  /** Names the store in StoreFullError and logs. */
  readonly name: string;
  readonly entriesMax: number;
  readonly whenFull: 'reject' | 'evictOldest';
  /** Minimum time between two full scans for expired entries (default 1000). */
  readonly fullSweepIntervalMs?: number;
  /** Injected for tests; Date.now otherwise. */
  readonly nowMs?: () => number;
}

interface Entry {
  readonly value: string;
  readonly expiresMs: number;
}

export class MemoryKeyValueStore implements KeyValueStore {
  /** In order of last write (Map keeps insertion order; a write deletes and re-inserts). */
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;
  private readonly fullSweepIntervalMs: number;
  private lastFullSweepMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly opts: MemoryStoreOptions) {
    if (!Number.isSafeInteger(opts.entriesMax) || opts.entriesMax < 1)
      throw new RangeError(`entriesMax must be a positive integer, got ${opts.entriesMax}`);
    this.now = opts.nowMs ?? Date.now;
    this.fullSweepIntervalMs = opts.fullSweepIntervalMs ?? 1000;
  }

  /** Entries held, expired ones not yet dropped included (never above entriesMax). */
  get size(): number {
    return this.entries.size;
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    assertTtlMs(ttlMs);
    const now = this.now();
    if (this.live(key, now) !== undefined) return false;
    this.write(key, { value, expiresMs: now + ttlMs }, now);
    return true;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    assertTtlMs(ttlMs);
    const now = this.now();
    this.write(key, { value, expiresMs: now + ttlMs }, now);
  }

  async get(key: string): Promise<string | null> {
    return this.live(key, this.now())?.value ?? null;
  }

  async increment(key: string, ttlMs: number): Promise<number> {
    assertTtlMs(ttlMs);
    const now = this.now();
    const entry = this.live(key, now);
    if (entry === undefined) {
      this.write(key, { value: '1', expiresMs: now + ttlMs }, now);
      return 1;
    }
    const n = Number(entry.value);
    if (!Number.isSafeInteger(n)) throw new TypeError(`${key} does not hold a counter`);
    // The expiry stays (Redis's INCR keeps it); the entry moves to the newest end like any write.
    this.write(key, { value: String(n + 1), expiresMs: entry.expiresMs }, now);
    return n + 1;
  }

  /** Redis `PTTL key` for a live key (ms until it expires); 0 when absent or expired. */
  remainingMs(key: string): number {
    const now = this.now();
    const entry = this.live(key, now);
    return entry === undefined ? 0 : entry.expiresMs - now;
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }

  /** The key's entry if it has not expired; an expired one is dropped. */
  private live(key: string, now: number): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined || now <= entry.expiresMs) return entry;
    this.entries.delete(key);
    return undefined;
  }

  private write(key: string, entry: Entry, now: number): void {
    this.dropExpiredFront(now);
    // A key already held takes no new room: it moves to the end (the newest write).
    if (!this.entries.delete(key) && this.entries.size >= this.opts.entriesMax) this.makeRoom(now);
    this.entries.set(key, entry);
    if (this.entries.size > this.opts.entriesMax) throw new Error(`store ${this.opts.name} over its bound`);
  }

  private dropExpiredFront(now: number): void {
    for (const [key, entry] of this.entries) {
      if (now <= entry.expiresMs) return;
      this.entries.delete(key);
    }
  }

  private makeRoom(now: number): void {
    if (now - this.lastFullSweepMs >= this.fullSweepIntervalMs) {
      this.lastFullSweepMs = now;
      for (const [key, entry] of this.entries) if (now > entry.expiresMs) this.entries.delete(key);
      if (this.entries.size < this.opts.entriesMax) return;
    }
    if (this.opts.whenFull === 'reject') throw new StoreFullError(this.opts.name, this.opts.entriesMax);
    this.entries.delete(this.entries.keys().next().value as string);
  }
}
