// The engine's memory of applied command ids: a bounded FIFO (a ring of ids and their command times) indexed
// by an open-addressing hash table of ring slots in a typed array. A Map of up to commandIdsMax strings cost
// more than half the engine's throughput (its inserts, deletes and rehashes, and the garbage they leave); this
// structure allocates only when it grows (doubling, up to commandIdsMax) and never per command.
//
// Each table slot holds the id's 32-bit hash next to its ring position, so a probe reads one cache line and
// touches the ring only on a likely match; the id string itself is compared on a hash match, so a collision can
// never make a new id a repeat. The ring keeps no hash: evicting the oldest id or growing hashes its string
// again (a few ns for an id of tens of characters), which saves 8 bytes per remembered id (8 MB at the default
// million). Deletion is backward-shift (linear probing, no tombstones), so probe lengths stay short under
// constant churn.
// Only the ids and times in insertion order are state: the table is rebuilt from them, so a snapshot restores
// the same behaviour, whatever the table's layout was.

import { assert } from './units.js';

const CAPACITY_MIN = 1024;
const EMPTY = 0;

/** The id's hash: 32-bit FNV-1a over its char codes. Deterministic, no randomness. */
export function idHash(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export class CommandIdMemory {
  // Ring of entries, oldest at `head`; `count` live.
  private ids: (string | undefined)[] = [];
  private timesMs = new Float64Array(0);
  private head = 0;
  private count = 0;
  // Table of slots, each two words: [id hash, ring position + 1 (0 = empty)]. At least twice as many slots
  // as the ring has entries, so probes stay short.
  private slots = new Uint32Array(0);
  private mask = 0;

  constructor(
    readonly max: number,
    readonly windowMs: number,
  ) {
    assert(Number.isSafeInteger(max) && max >= 1, 'commandIdsMax is a positive integer');
    this.resize(Math.min(max, CAPACITY_MIN));
  }

  get size(): number {
    return this.count;
  }

  private get capacity(): number {
    return this.timesMs.length;
  }

  /** True when `id` was applied within the window (as of `nowMs`); otherwise remembers it, evicting the oldest if full. */
  seenOrAdd(id: string, nowMs: number): boolean {
    this.expire(nowMs);
    const hash = idHash(id);
    if (this.find(id, hash) >= 0) return true;
    this.insert(id, hash, nowMs);
    return false;
  }

  has(id: string): boolean {
    return this.find(id, idHash(id)) >= 0;
  }

  /** Remembers `id` as applied at `nowMs` (restore, or after a miss); the oldest entry makes room when full. */
  add(id: string, nowMs: number): void {
    this.insert(id, idHash(id), nowMs);
  }

  /** Sizes the ring and its table for `count` entries at once (a restore knows its count; growing by doubling
   * rebuilds the table at every step). At most `max`; never shrinks. */
  reserve(count: number): void {
    assert(Number.isSafeInteger(count) && count >= 0, 'a reservation is a count of ids');
    const capacity = Math.min(this.max, count);
    if (capacity > this.capacity) this.resize(capacity);
  }

  /** Forgets ids older than the window relative to `nowMs`. */
  expire(nowMs: number): void {
    while (this.count > 0 && nowMs - this.timesMs[this.head] >= this.windowMs) this.dropOldest();
  }

  /** Live entries, oldest first: [id, timeMs] (the snapshot's form). */
  entries(): Array<[string, number]> {
    const out: Array<[string, number]> = [];
    const cap = this.capacity;
    for (let k = 0; k < this.count; k++) {
      const r = (this.head + k) % cap;
      out.push([this.ids[r] as string, this.timesMs[r]]);
    }
    return out;
  }

  /** Table slot of the id's entry, or -1. */
  private find(id: string, hash: number): number {
    const slots = this.slots;
    const mask = this.mask;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const ref = slots[2 * i + 1];
      if (ref === EMPTY) return -1;
      if (slots[2 * i] === hash && this.ids[ref - 1] === id) return i;
    }
  }

  private insert(id: string, hash: number, nowMs: number): void {
    if (this.count === this.max) this.dropOldest();
    else if (this.count === this.capacity) this.resize(Math.min(this.max, this.capacity * 2));
    const r = (this.head + this.count) % this.capacity;
    this.ids[r] = id;
    this.timesMs[r] = nowMs;
    this.count++;
    this.place(r, hash);
  }

  private place(r: number, hash: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let i = hash & mask;
    while (slots[2 * i + 1] !== EMPTY) i = (i + 1) & mask;
    slots[2 * i] = hash;
    slots[2 * i + 1] = r + 1;
  }

  private dropOldest(): void {
    assert(this.count > 0, 'dropOldest: the memory is not empty');
    const r = this.head;
    const id = this.ids[r] as string;
    const i = this.find(id, idHash(id));
    assert(i >= 0, 'every remembered id is in the table');
    this.removeSlot(i);
    this.ids[r] = undefined;
    this.head = (r + 1) % this.capacity;
    this.count--;
  }

  /** Backward-shift deletion: moves later entries of the probe run into the hole so no lookup stops early. */
  private removeSlot(hole: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let i = hole;
    for (let j = (hole + 1) & mask; slots[2 * j + 1] !== EMPTY; j = (j + 1) & mask) {
      const home = slots[2 * j] & mask;
      // The entry at j may fill the hole at i unless its home lies cyclically in (i, j].
      const stays = i <= j ? i < home && home <= j : i < home || home <= j;
      if (stays) continue;
      slots[2 * i] = slots[2 * j];
      slots[2 * i + 1] = slots[2 * j + 1];
      i = j;
    }
    slots[2 * i] = 0;
    slots[2 * i + 1] = EMPTY;
  }

  /** New ring of `capacity` entries, oldest at 0, and a table rebuilt for it. */
  private resize(capacity: number): void {
    const old = { ids: this.ids, timesMs: this.timesMs, cap: this.capacity };
    this.ids = new Array<string | undefined>(capacity).fill(undefined);
    this.timesMs = new Float64Array(capacity);
    for (let k = 0; k < this.count; k++) {
      const r = (this.head + k) % old.cap;
      this.ids[k] = old.ids[r];
      this.timesMs[k] = old.timesMs[r];
    }
    this.head = 0;
    let tableSize = 2;
    while (tableSize < capacity * 2) tableSize *= 2;
    this.slots = new Uint32Array(2 * tableSize);
    this.mask = tableSize - 1;
    for (let k = 0; k < this.count; k++) this.place(k, idHash(this.ids[k] as string));
  }
}
