// The part of the book a LOBSTER row shows in full ("the view"), per side: every price at or better than its Nth
// level, or the whole side when it shows fewer than N levels. A message file holds only the events inside the
// view at the time, so outside it the replay's book may be stale.

import type { Side } from '../../engine/core/index.js';
import type { VisibleBook } from './files.js';

export interface View {
  /** Highest ask price in view (Infinity when the whole ask side is shown). */
  readonly askMax: number;
  /** Lowest bid price in view (-Infinity when the whole bid side is shown). */
  readonly bidMin: number;
}

export function viewOf(row: VisibleBook, fileLevels: number): View {
  return {
    askMax: row.asks.prices.length >= fileLevels ? row.asks.prices[fileLevels - 1] : Infinity,
    bidMin: row.bids.prices.length >= fileLevels ? row.bids.prices[fileLevels - 1] : -Infinity,
  };
}

export function isInView(view: View, side: Side, price: number): boolean {
  return side === 'sell' ? price <= view.askMax : price >= view.bidMin;
}

/**
 * The views of all rows, answering "was this price in view at every row from a to b?" in O(1)
 * (sparse tables of the running minimum ask bound and maximum bid bound).
 */
export class ViewHistory {
  private readonly askMin: Float64Array[] = [];
  private readonly bidMax: Float64Array[] = [];

  constructor(readonly views: readonly View[]) {
    const n = views.length;
    this.askMin.push(Float64Array.from(views, (v) => v.askMax));
    this.bidMax.push(Float64Array.from(views, (v) => v.bidMin));
    for (let k = 1; 1 << k <= n; k++) {
      const half = 1 << (k - 1);
      const prevAsk = this.askMin[k - 1];
      const prevBid = this.bidMax[k - 1];
      const ask = new Float64Array(n - (1 << k) + 1);
      const bid = new Float64Array(ask.length);
      for (let i = 0; i < ask.length; i++) {
        ask[i] = Math.min(prevAsk[i], prevAsk[i + half]);
        bid[i] = Math.max(prevBid[i], prevBid[i + half]);
      }
      this.askMin.push(ask);
      this.bidMax.push(bid);
    }
  }

  /** True when `price` was in view at every row index from `from` to `to` (0-based, inclusive; empty range: true). */
  inViewThroughout(side: Side, price: number, from: number, to: number): boolean {
    if (from > to) return true;
    const k = 31 - Math.clz32(to - from + 1);
    if (side === 'sell') return price <= Math.min(this.askMin[k][from], this.askMin[k][to - (1 << k) + 1]);
    return price >= Math.max(this.bidMax[k][from], this.bidMax[k][to - (1 << k) + 1]);
  }
}
