// A bounded memory of ids seen within a time window (command time, never a clock).
// Entries older than the window are forgotten oldest-first; when `max` entries are all still inside the
// window, a new id is refused so the structure never grows without bound.

export class DedupWindow<V> {
  private readonly values = new Map<string, V>();
  // FIFO of (id, time) in insertion order; `head` avoids O(n) shifts.
  private ids: string[] = [];
  private times: number[] = [];
  private head = 0;

  constructor(
    readonly max: number,
    readonly windowMs: number,
  ) {}

  get size(): number {
    return this.values.size;
  }

  get(id: string): V | undefined {
    return this.values.get(id);
  }

  /** Forgets ids older than the window relative to `nowMs`. */
  expire(nowMs: number): void {
    while (this.head < this.ids.length && nowMs - this.times[this.head] >= this.windowMs) this.dropOldest();
    this.compactIfWorth();
  }

  hasRoom(): boolean {
    return this.values.size < this.max;
  }

  add(id: string, value: V, nowMs: number): void {
    this.values.set(id, value);
    this.ids.push(id);
    this.times.push(nowMs);
  }

  /** Forgets the oldest entry, for windows that make room rather than refuse. */
  evictOldest(): void {
    if (this.head >= this.ids.length) return;
    this.dropOldest();
    this.compactIfWorth();
  }

  private dropOldest(): void {
    this.values.delete(this.ids[this.head]);
    this.head++;
  }

  private compactIfWorth(): void {
    if (this.head > 1024 && this.head * 2 > this.ids.length) this.compact();
  }

  private compact(): void {
    this.ids = this.ids.slice(this.head);
    this.times = this.times.slice(this.head);
    this.head = 0;
  }

  /** Live entries in insertion order (for snapshots). */
  entries(): Array<[string, number, V]> {
    const out: Array<[string, number, V]> = [];
    for (let i = this.head; i < this.ids.length; i++)
      out.push([this.ids[i], this.times[i], this.values.get(this.ids[i]) as V]);
    return out;
  }
}
