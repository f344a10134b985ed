// The engine's memory of applied command ids: a bounded FIFO of ids and their command times, indexed by an
// open-addressing hash table, all in typed arrays: no JS string is kept per id. A million id strings held from
// the decoded commands were promoted to old space (GC copy work, ~40 bytes of heap each), rebuilt one by one on
// every restore, and the doubling table rehashed each of them at every step.
//
// - Text: the ids' characters (printable ASCII, so one byte each) in a byte ring, in insertion order; eviction frees
//   from the head, so live ids are one cyclic run of bytes. An id may wrap past the end (positions are masked). The
//   ring grows by doubling when the live ids outgrow it (a copy of bytes, no rehash), up to max x the longest id.
// - Entries: a ring of `max` slots (start byte, length, command time), oldest at `head`, allocated (and touched)
//   up front, as is the table, so nothing is ever rehashed.
// - Table: two words a slot, [id hash, entry + 1 (0 = empty)], at least twice as many slots as `max`, linear
//   probing with backward-shift deletion (no tombstones, so probe runs stay short under constant churn). A probe
//   reads one cache line and touches the id's bytes only on an equal 32-bit hash; those bytes are then compared, so
//   a collision can never make a new id a repeat. A second hash word would spare only that compare, which a new id
//   needs about once in 4,000 lookups (a same-home slot at load 0.48 matches the upper 11 bits by chance) and a
//   repeat needs anyway.
// Only the ids and times in insertion order are state (entries(), the snapshot's bytes): the table is rebuilt
// from them, so a restore behaves the same whatever layout the table had.

import { COMMAND_IDS_MAX_LIMIT } from './config.js';
import { COMMAND_ID_MAX_LENGTH } from './formats.js';
import { assert } from './units.js';

const EMPTY = 0;
const RING_BYTES_MIN = 1 << 16;
const SEPARATOR = 0x0a; // '\n' joins ids in a snapshot; no id contains it (printable only)

/** The id's hash: 32-bit FNV-1a over its char codes. Deterministic, no randomness. */
export function idHash(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const isIdByte = (c: number): boolean => c >= 0x21 && c <= 0x7e;

export class CommandIdMemory {
  // Entries, oldest at `head`; `count` live.
  private readonly startsByte: Uint32Array;
  private readonly lengths: Uint8Array;
  private readonly timesMs: Float64Array;
  private head = 0;
  private count = 0;
  // Byte ring (power-of-two size): live ids are the `bytesUsed` bytes from `headByte`.
  private ring = new Uint8Array(RING_BYTES_MIN);
  private headByte = 0;
  private bytesUsed = 0;
  private readonly ringBytesMax: number;
  private readonly slots: Uint32Array;
  private readonly mask: number;

  constructor(
    readonly max: number,
    readonly windowMs: number,
  ) {
    assert(Number.isSafeInteger(max) && max >= 1, 'commandIdsMax is a positive integer');
    assert(max <= COMMAND_IDS_MAX_LIMIT, 'commandIdsMax is within COMMAND_IDS_MAX_LIMIT');
    this.startsByte = new Uint32Array(max);
    this.lengths = new Uint8Array(max);
    this.timesMs = new Float64Array(max);
    this.ringBytesMax = powerOfTwoAtLeast(max * COMMAND_ID_MAX_LENGTH);
    const tableSize = powerOfTwoAtLeast(2 * max);
    this.slots = new Uint32Array(2 * tableSize);
    this.mask = tableSize - 1;
    // Touched now rather than on first use: a fresh page costs a fault of microseconds to the command that first
    // writes it, and the table's random writes and the entries' steady ones spread about 5,000 of them over the
    // first commands (the quick bench's p99 latency doubled). The memory fills to max in production anyway.
    this.slots.fill(0);
    this.startsByte.fill(0);
    this.lengths.fill(0);
    this.timesMs.fill(0);
  }

  get size(): number {
    return this.count;
  }

  /** Size of the byte ring (not state: it depends on the history of lengths, and a restore packs it). */
  get ringBytes(): number {
    return this.ring.length;
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

  /** Remembers `id` as applied at `nowMs` (a JSON snapshot's restore, or after a miss); the oldest makes room when full. */
  add(id: string, nowMs: number): void {
    this.insert(id, idHash(id), nowMs);
  }

  /** Forgets ids older than the window relative to `nowMs`. */
  expire(nowMs: number): void {
    while (this.count > 0 && nowMs - this.timesMs[this.head] >= this.windowMs) this.dropOldest();
  }

  /** Command time of the k-th live entry, oldest first (k < size). */
  timeAt(k: number): number {
    assert(k >= 0 && k < this.count, 'timeAt: a live entry');
    return this.timesMs[this.entryAt(k)];
  }

  /** The live ids, oldest first, joined by '\n': the snapshot's bytes, copied without a string per id. */
  joinedIds(): Uint8Array {
    const out = new Uint8Array(this.count === 0 ? 0 : this.bytesUsed + this.count - 1);
    const ring = this.ring;
    const ringMask = ring.length - 1;
    let at = 0;
    for (let k = 0; k < this.count; k++) {
      const e = this.entryAt(k);
      if (k > 0) out[at++] = SEPARATOR;
      for (let i = 0, b = this.startsByte[e]; i < this.lengths[e]; i++, b = (b + 1) & ringMask) out[at++] = ring[b];
    }
    assert(at === out.length, 'joinedIds: every live byte copied');
    return out;
  }

  /** Live entries, oldest first: [id, timeMs] (the JSON snapshot's form, and so the state hash's). */
  entries(): Array<[string, number]> {
    const text = new TextDecoder('latin1').decode(this.joinedIds());
    const ids = this.count === 0 ? [] : text.split('\n');
    return ids.map((id, k) => [id, this.timeAt(k)]);
  }

  /**
   * Fills an empty memory from a snapshot's ids joined by '\n' and their times, oldest first, in one pass: the
   * bytes are checked, hashed and packed into the ring from byte 0. Like adding them one by one, only the newest
   * `max` are kept. Throws on an id that is empty, too long or not printable, on a count that differs, and on a
   * repeated id: a snapshot this engine wrote has none of these.
   */
  load(joined: Uint8Array, timesMs: ArrayLike<number>): void {
    assert(this.count === 0, 'load: into an empty memory');
    // Sized once for every byte (the ids without their separators fit), so the loop needs no room checks.
    if (joined.length > this.ring.length) this.ring = new Uint8Array(powerOfTwoAtLeast(joined.length));
    const ring = this.ring;
    const skip = Math.max(0, timesMs.length - this.max);
    let at = 0;
    let from = 0;
    for (let k = 0; k < timesMs.length; k++) {
      const start = at;
      let h = 0x811c9dc5;
      let printable = true;
      let i = from;
      for (; i < joined.length && joined[i] !== SEPARATOR; i++) {
        const c = joined[i];
        printable &&= isIdByte(c);
        ring[at++] = c;
        h = Math.imul(h ^ c, 0x01000193);
      }
      assert(i - from >= 1 && i - from <= COMMAND_ID_MAX_LENGTH, 'snapshot: a command id has 1-128 bytes');
      assert(printable, 'snapshot: a command id is printable ASCII');
      if (k < skip) at = start;
      else this.loaded(start, i - from, timesMs[k], h >>> 0);
      from = i + 1;
    }
    const exact = timesMs.length === 0 ? joined.length === 0 : from === joined.length + 1;
    assert(exact, 'snapshot: no bytes past the last id');
  }

  /** The next entry of a load, its bytes already in the ring at `start`. */
  private loaded(start: number, length: number, timeMs: number, hash: number): void {
    const e = this.count;
    this.startsByte[e] = start;
    this.lengths[e] = length;
    this.timesMs[e] = timeMs;
    this.bytesUsed += length;
    this.count++;
    this.placeNew(e, hash);
  }

  private entryAt(k: number): number {
    const e = this.head + k;
    return e >= this.max ? e - this.max : e;
  }

  /** Table slot of the id's entry, or -1. */
  private find(id: string, hash: number): number {
    const slots = this.slots;
    const mask = this.mask;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const ref = slots[2 * i + 1];
      if (ref === EMPTY) return -1;
      if (slots[2 * i] === hash && this.idEquals(ref - 1, id)) return i;
    }
  }

  private idEquals(e: number, id: string): boolean {
    const length = this.lengths[e];
    if (length !== id.length) return false;
    const ring = this.ring;
    const ringMask = ring.length - 1;
    for (let i = 0, b = this.startsByte[e]; i < length; i++, b = (b + 1) & ringMask)
      if (ring[b] !== id.charCodeAt(i)) return false;
    return true;
  }

  private insert(id: string, hash: number, nowMs: number): void {
    const length = id.length;
    assert(length >= 1 && length <= COMMAND_ID_MAX_LENGTH, 'a command id has 1-128 characters');
    const e = this.claim(length, nowMs);
    const ring = this.ring;
    const ringMask = ring.length - 1;
    let printable = true;
    for (let i = 0, b = this.startsByte[e]; i < length; i++, b = (b + 1) & ringMask) {
      const c = id.charCodeAt(i);
      printable &&= isIdByte(c);
      ring[b] = c;
    }
    assert(printable, 'a command id is printable ASCII');
    this.place(e, hash);
  }

  /** A new newest entry of `length` bytes at `nowMs` (bytes not yet written), making room first. */
  private claim(length: number, nowMs: number): number {
    if (this.count === this.max) this.dropOldest();
    if (this.bytesUsed + length > this.ring.length) this.growRing(this.bytesUsed + length);
    const e = this.entryAt(this.count);
    this.startsByte[e] = (this.headByte + this.bytesUsed) & (this.ring.length - 1);
    this.lengths[e] = length;
    this.timesMs[e] = nowMs;
    this.bytesUsed += length;
    this.count++;
    return e;
  }

  private place(e: number, hash: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let i = hash & mask;
    while (slots[2 * i + 1] !== EMPTY) i = (i + 1) & mask;
    slots[2 * i] = hash;
    slots[2 * i + 1] = e + 1;
  }

  private dropOldest(): void {
    assert(this.count > 0, 'dropOldest: the memory is not empty');
    const e = this.head;
    const i = this.slotOf(e, this.hashOf(e));
    assert(i >= 0, 'every remembered id is in the table');
    this.removeSlot(i);
    this.headByte = (this.headByte + this.lengths[e]) & (this.ring.length - 1);
    this.bytesUsed -= this.lengths[e];
    this.head = e + 1 === this.max ? 0 : e + 1;
    this.count--;
  }

  private hashOf(e: number): number {
    const ring = this.ring;
    const ringMask = ring.length - 1;
    let h = 0x811c9dc5;
    for (let i = 0, b = this.startsByte[e]; i < this.lengths[e]; i++, b = (b + 1) & ringMask)
      h = Math.imul(h ^ ring[b], 0x01000193);
    return h >>> 0;
  }

  /** Table slot that points at entry `e` (no byte compare: the entry is known), or -1. */
  private slotOf(e: number, hash: number): number {
    const slots = this.slots;
    const mask = this.mask;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const ref = slots[2 * i + 1];
      if (ref === EMPTY) return -1;
      if (ref === e + 1) return i;
    }
  }

  /** place(), asserting on the way along the probe run that no entry has the same bytes (a snapshot's ids). */
  private placeNew(e: number, hash: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let i = hash & mask;
    for (; slots[2 * i + 1] !== EMPTY; i = (i + 1) & mask)
      assert(slots[2 * i] !== hash || !this.bytesEqual(slots[2 * i + 1] - 1, e), 'snapshot: each command id once');
    slots[2 * i] = hash;
    slots[2 * i + 1] = e + 1;
  }

  private bytesEqual(a: number, b: number): boolean {
    const length = this.lengths[a];
    if (length !== this.lengths[b]) return false;
    const ring = this.ring;
    const ringMask = ring.length - 1;
    for (let i = 0; i < length; i++)
      if (ring[(this.startsByte[a] + i) & ringMask] !== ring[(this.startsByte[b] + i) & ringMask]) return false;
    return true;
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

  /** A larger byte ring, live ids copied to its start in order; entries' starts move with them. */
  private growRing(bytesNeeded: number): void {
    assert(bytesNeeded <= this.ringBytesMax, 'live ids fit in max x the longest id');
    const old = this.ring;
    const oldMask = old.length - 1;
    let size = old.length * 2;
    while (size < bytesNeeded) size *= 2;
    const ring = new Uint8Array(size);
    const firstRun = Math.min(this.bytesUsed, old.length - this.headByte);
    ring.set(old.subarray(this.headByte, this.headByte + firstRun), 0);
    ring.set(old.subarray(0, this.bytesUsed - firstRun), firstRun);
    for (let k = 0; k < this.count; k++) {
      const e = this.entryAt(k);
      this.startsByte[e] = (this.startsByte[e] - this.headByte) & oldMask;
    }
    this.ring = ring;
    this.headByte = 0;
  }
}

function powerOfTwoAtLeast(n: number): number {
  let size = 1;
  while (size < n) size *= 2;
  return size;
}
