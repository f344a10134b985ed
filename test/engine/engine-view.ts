// Reads the engine's state and a command's events into the same shapes the reference exchange produces,
// so the simulation can compare the two as plain data.

import type { Engine, EngineEvent } from '../../engine/core/index.js';
import type { BookSide } from '../../engine/core/book-side.js';
import type { ExchangeView, LevelView, Outcome } from './reference-book.js';

export function engineOutcome(events: EngineEvent[]): Outcome {
  const result = events[events.length - 1];
  if (result?.type !== 'commandResult') throw new Error('the last event of a command is its commandResult');
  const out: Outcome = {
    status: result.status,
    code: result.code,
    orderId: result.orderId,
    duplicateOf: result.duplicateOf,
    trades: [],
    closed: [],
  };
  for (const ev of events) {
    if (ev.type === 'trade') {
      out.trades.push({
        marketId: ev.marketId,
        makerOrderId: ev.makerOrderId,
        takerOrderId: ev.takerOrderId,
        makerUserId: ev.makerUserId,
        takerUserId: ev.takerUserId,
        priceTicks: ev.priceTicks,
        qtyLots: ev.qtyLots,
        baseAmount: ev.baseAmount,
        quoteAmount: ev.quoteAmount,
        makerFee: ev.makerFee,
        takerFee: ev.takerFee,
      });
    } else if (ev.type === 'orderCanceled' || ev.type === 'orderExpired') {
      out.closed.push(`${ev.type === 'orderCanceled' ? 'canceled' : 'expired'}:${ev.orderId}`);
    }
  }
  return out;
}

function levels(side: BookSide): LevelView[] {
  const out: LevelView[] = [];
  side.forEachLevel((level) => {
    const orderIds: number[] = [];
    for (let o = level.head; o !== null; o = o.next) orderIds.push(o.orderId);
    out.push({ priceTicks: level.priceTicks, totalLots: level.totalLots, orderIds });
  });
  return out;
}

export function engineView(e: Engine): ExchangeView {
  const balances: Record<string, string> = {};
  for (const a of [...e.accounts.values()].sort((x, y) => x.userId - y.userId)) {
    a.available.forEach(
      (_, asset) => (balances[`${a.userId}/${asset}`] = `${a.available[asset]}/${a.held[asset]}/${a.pending[asset]}`),
    );
  }
  const markets = e.markets
    .filter((m) => m !== undefined)
    .map((m) => ({
      marketId: m.marketId,
      lastPriceTicks: m.lastPriceTicks,
      status: m.status,
      bids: levels(m.book.bids),
      asks: levels(m.book.asks),
      buyStops: levels(m.book.buyStops),
      sellStops: levels(m.book.sellStops),
    }));
  const orders = [...e.orders.values()]
    .sort((a, b) => a.orderId - b.orderId)
    .map((o) => ({
      orderId: o.orderId,
      userId: o.userId,
      marketId: o.marketId,
      side: o.side,
      priceTicks: o.priceTicks,
      stopPriceTicks: o.stopPriceTicks,
      qtyLots: o.qtyLots,
      filledLots: o.filledLots,
      remainingLots: o.remainingLots,
      held: o.held,
    }));
  const frozenUsers = [...e.accounts.values()]
    .filter((a) => a.frozen)
    .map((a) => a.userId)
    .sort((a, b) => a - b);
  return { balances, fees: [...e.feeBalances], markets, orders, frozenUsers };
}

/** JSON with bigints as strings: the canonical text the simulations compare and print. */
export function toJson(x: unknown, indent?: number): string {
  return JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), indent);
}

/** The path and both values of the first difference between two JSON-able values, or null when equal. */
export function firstDifference(a: unknown, b: unknown, path = '$'): string | null {
  if (toJson(a) === toJson(b)) return null;
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    for (const k of keys) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
      if (d !== null) return d;
    }
  }
  return `${path}: engine ${toJson(a)} vs reference ${toJson(b)}`;
}
