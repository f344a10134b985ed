// One market's order book aggregated by price level: total resting lots per price, per side. Pure. Levels are kept
// in B-trees (best first) so a depth snapshot of the top N levels costs O(N), whatever the book's size. The book
// remembers which levels a record changed, so the record's delta carries each changed level once, with its new
// absolute quantity (0 = the level is gone): applying a delta twice, or a level's last value, is harmless.

import btreeModule from 'sorted-btree';
import type { Side } from '../../engine/core/index.js';

// sorted-btree ships CommonJS with `exports.default` (see engine/core/book-side.ts).
const BTree = (btreeModule.default ?? btreeModule) as typeof btreeModule.default;
type BTreeOf<K, V> = import('sorted-btree').default<K, V>;

/** [priceTicks, lots] */
export type LevelTuple = readonly [number, number];

export interface DepthSnapshot {
  readonly marketId: number;
  /** The book is the market's state after the engine event with this seq. */
  readonly seq: number;
  readonly bids: LevelTuple[];
  readonly asks: LevelTuple[];
}

export interface DepthDelta {
  readonly marketId: number;
  /** The seq of the state this delta applies to: a client whose book is not at prevSeq has missed a delta. */
  readonly prevSeq: number;
  readonly seq: number;
  /** Changed levels with their new total (0 = removed), best first. */
  readonly bids: LevelTuple[];
  readonly asks: LevelTuple[];
}

export class DepthBook {
  private readonly bids: BTreeOf<number, number> = new BTree<number, number>(
    undefined,
    (a: number, b: number) => b - a,
  );
  private readonly asks: BTreeOf<number, number> = new BTree<number, number>(
    undefined,
    (a: number, b: number) => a - b,
  );
  private readonly changedBids = new Set<number>();
  private readonly changedAsks = new Set<number>();

  constructor(
    readonly marketId: number,
    /** The engine seq this book's state is at. */
    public seq: number,
  ) {}

  /** Adds `lots` (negative to take away) at a level; a level never goes below zero. */
  add(side: Side, priceTicks: number, lots: number): void {
    if (lots === 0) return;
    const tree = side === 'buy' ? this.bids : this.asks;
    const total = (tree.get(priceTicks) ?? 0) + lots;
    if (total < 0)
      throw new Error(
        `invariant violated: market ${this.marketId} ${side} level ${priceTicks} would hold ${total} lots`,
      );
    if (total === 0) tree.delete(priceTicks);
    else tree.set(priceTicks, total);
    (side === 'buy' ? this.changedBids : this.changedAsks).add(priceTicks);
  }

  /** Sets a level's absolute total (deltas received from another instance). */
  setLevel(side: Side, priceTicks: number, lots: number): void {
    if (!Number.isSafeInteger(lots) || lots < 0)
      throw new Error(`invariant violated: level total ${lots} is not a lot count`);
    const tree = side === 'buy' ? this.bids : this.asks;
    if (lots === 0) tree.delete(priceTicks);
    else tree.set(priceTicks, lots);
  }

  get changed(): boolean {
    return this.changedBids.size + this.changedAsks.size > 0;
  }

  /** The levels changed since the last call, as a delta moving the book from its seq to `seq`; null when none did. */
  takeDelta(seq: number): DepthDelta | null {
    if (!this.changed) return null;
    if (seq <= this.seq)
      throw new Error(`invariant violated: market ${this.marketId} delta seq ${seq} not after ${this.seq}`);
    const pick = (tree: BTreeOf<number, number>, changed: Set<number>): LevelTuple[] =>
      [...changed].sort((a, b) => tree._compare(a, b)).map((p) => [p, tree.get(p) ?? 0] as const);
    const delta: DepthDelta = {
      marketId: this.marketId,
      prevSeq: this.seq,
      seq,
      bids: pick(this.bids, this.changedBids),
      asks: pick(this.asks, this.changedAsks),
    };
    this.changedBids.clear();
    this.changedAsks.clear();
    this.seq = seq;
    return delta;
  }

  forgetChanges(): void {
    this.changedBids.clear();
    this.changedAsks.clear();
  }

  /** The best `limit` levels of each side (all of them when limit is Infinity). */
  snapshot(limit = Infinity): DepthSnapshot {
    return { marketId: this.marketId, seq: this.seq, bids: top(this.bids, limit), asks: top(this.asks, limit) };
  }

  get levelCount(): number {
    return this.bids.size + this.asks.size;
  }
}

function top(tree: BTreeOf<number, number>, limit: number): LevelTuple[] {
  const out: LevelTuple[] = [];
  if (limit <= 0) return out;
  tree.forEachPair((p: number, lots: number) => {
    out.push([p, lots]);
    return out.length >= limit ? { break: true } : undefined;
  });
  return out;
}
