// A market's order book kept from the depth channel: a snapshot, then deltas chained by sequence number
// (docs/market-data.md). A delta whose prevSeq is not the book's seq means one was missed: the book resynchronises
// from the REST snapshot and continues with the deltas that chain from it, buffering what arrives meanwhile.

import { api } from './api.js';
import { compare, decimalsOf, fromUnits, isZero, toUnits } from './decimal.js';
import type { Level, Market } from './types.js';

export type BookState = 'loading' | 'live' | 'resyncing';

interface Delta {
  prevSeq: number;
  seq: number;
  bids: Level[];
  asks: Level[];
}

/** Deltas kept while a REST snapshot is on its way; past this the book resubscribes instead. */
const RESYNC_BUFFER_MAX = 1000;

export class DepthBook {
  bids = new Map<string, string>();
  asks = new Map<string, string>();
  seq = -1;
  state: BookState = 'loading';
  resyncs = 0;
  private buffer: Delta[] = [];

  constructor(
    private readonly market: Market,
    private readonly onChange: () => void,
    private readonly resubscribe: () => void,
  ) {}

  snapshot(seq: number, bids: Level[], asks: Level[]): void {
    this.bids = new Map(bids.map(([p, q]) => [p, q]));
    this.asks = new Map(asks.map(([p, q]) => [p, q]));
    this.seq = seq;
    this.state = 'live';
    this.buffer = [];
    this.onChange();
  }

  /** The connection dropped: the next snapshot replaces the book. */
  reset(): void {
    this.state = 'loading';
    this.buffer = [];
    this.onChange();
  }

  delta(d: Delta): void {
    if (this.state === 'resyncing') {
      if (this.buffer.length >= RESYNC_BUFFER_MAX) return this.giveUp();
      this.buffer.push(d);
      return;
    }
    if (this.state !== 'live' || d.seq <= this.seq) return;
    if (d.prevSeq !== this.seq) return void this.resync(d);
    this.apply(d);
    this.onChange();
  }

  private apply(d: Delta): void {
    for (const [p, q] of d.bids) isZero(q) ? this.bids.delete(p) : this.bids.set(p, q);
    for (const [p, q] of d.asks) isZero(q) ? this.asks.delete(p) : this.asks.set(p, q);
    this.seq = d.seq;
  }

  private async resync(first: Delta): Promise<void> {
    this.state = 'resyncing';
    this.resyncs++;
    this.buffer = [first];
    this.onChange();
    try {
      const snap = await api<{ seq: number; bids: Level[]; asks: Level[] }>(
        'GET',
        `/v1/markets/${this.market.symbol}/depth?limit=5000`,
      );
      const pending = this.buffer;
      this.snapshot(snap.seq, snap.bids, snap.asks);
      for (const d of pending) {
        if (d.seq <= this.seq) continue;
        if (d.prevSeq !== this.seq) return this.giveUp();
        this.apply(d);
      }
      this.onChange();
    } catch {
      this.giveUp();
    }
  }

  private giveUp(): void {
    this.reset();
    this.resubscribe();
  }

  /** Levels best first, grouped to multiples of `groupTicks` ticks (bids down, asks up), at most `max`. */
  levels(side: 'bids' | 'asks', groupTicks: bigint, max: number): Level[] {
    const pd = decimalsOf(this.market.tickSize);
    const qd = decimalsOf(this.market.lotSize);
    const tick = toUnits(this.market.tickSize, pd) ?? 1n;
    const step = tick * groupTicks;
    const sums = new Map<bigint, bigint>();
    for (const [p, q] of side === 'bids' ? this.bids : this.asks) {
      const price = toUnits(p, pd) ?? 0n;
      const rem = price % step;
      const key = rem === 0n ? price : side === 'bids' ? price - rem : price - rem + step;
      sums.set(key, (sums.get(key) ?? 0n) + (toUnits(q, qd) ?? 0n));
    }
    const keys = [...sums.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (side === 'bids') keys.reverse();
    return keys.slice(0, max).map((k) => [fromUnits(k, pd), fromUnits(sums.get(k) ?? 0n, qd)]);
  }

  best(side: 'bids' | 'asks'): string | null {
    let best: string | null = null;
    for (const p of (side === 'bids' ? this.bids : this.asks).keys()) {
      if (best === null || (side === 'bids' ? compare(p, best) > 0 : compare(p, best) < 0)) best = p;
    }
    return best;
  }
}
