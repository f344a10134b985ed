// The `nodejs-order-book` package (the peer) driven by the same stream as the engine.
// It has no users, balances or fees, and prevents no self-trades unless asked: it is given sides, prices,
// sizes and ids only.

import { OrderBook, Side } from 'nodejs-order-book';
import type { PeerOp } from './stream.js';

/** The peer's own argument objects, built before timing like the engine's commands. */
export type PeerCall =
  | { readonly kind: 0; readonly arg: { id: string; side: Side; size: number; price: number } }
  | { readonly kind: 1; readonly arg: { side: Side; size: number } }
  | { readonly kind: 2; readonly arg: string };

export function peerCalls(ops: readonly PeerOp[]): PeerCall[] {
  return ops.map((op): PeerCall => {
    const side = (s: 'buy' | 'sell'): Side => (s === 'buy' ? Side.BUY : Side.SELL);
    switch (op.kind) {
      case 'limit':
        return { kind: 0, arg: { id: op.id, side: side(op.side), size: op.size, price: op.price } };
      case 'market':
        return { kind: 1, arg: { side: side(op.side), size: op.size } };
      case 'cancel':
        return { kind: 2, arg: op.id };
    }
  });
}

export function newPeer(): OrderBook {
  return new OrderBook();
}

/** Applies one call; returns a count taken from its response so the work cannot be skipped. */
export function applyPeer(ob: OrderBook, call: PeerCall): number {
  switch (call.kind) {
    case 0:
      return ob.limit(call.arg).done.length + 1;
    case 1:
      return ob.market(call.arg).done.length + 1;
    case 2:
      return ob.cancel(call.arg) === undefined ? 0 : 1;
  }
}

export function peerRestingOrders(ob: OrderBook): number {
  // `orders` is private in the typings; the count is only read once, after the run.
  return Object.keys((ob as unknown as { orders: Record<string, unknown> }).orders).length;
}

/** Full depth as [price, lots] pairs, ascending price, bids and asks. */
export function peerDepth(ob: OrderBook): { bids: Array<[number, number]>; asks: Array<[number, number]> } {
  const [asks, bids] = ob.depth();
  const asc = (a: [number, number], b: [number, number]): number => a[0] - b[0];
  return { bids: [...bids].sort(asc), asks: [...asks].sort(asc) };
}
