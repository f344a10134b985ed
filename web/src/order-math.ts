// What an order will hold and pay, and whether it fits the market's tick, lot and minimum notional, computed
// exactly as the engine does (docs/engine.md, "Balances, holds and fees") so the person sees it before sending.

import { decimalsOf, fromUnits, toUnits } from './decimal.js';
import type { Level, Market, OrderType, Side } from './types.js';

export interface OrderDraft {
  side: Side;
  orderType: OrderType;
  price: string;
  stopPrice: string;
  quantity: string;
  quoteQuantity: string;
  byQuote: boolean;
}

export interface Preview {
  /** The first problem found, for the person to fix before sending; null when the order may be sent. */
  problem: string | null;
  /** "1,000.2 USDT" style figures (exact), or null when not computable yet. */
  hold: { amount: string; asset: string } | null;
  fee: { amount: string; asset: string; note: string } | null;
  notional: string | null;
}

const BPS = 10_000n;
const priced = (t: OrderType) => t === 'limit' || t === 'stopLimit';
const stop = (t: OrderType) => t === 'stopLimit' || t === 'stopMarket';

interface Units {
  pd: number;
  qd: number;
  tick: bigint;
  lot: bigint;
  /** 10^baseDecimals / 10^qd: a quantity's units to base units. */
  baseScale: bigint;
  /** 10^quoteDecimals / 10^pd. */
  quoteScale: bigint;
}

function unitsOf(m: Market): Units {
  const pd = decimalsOf(m.tickSize);
  const qd = decimalsOf(m.lotSize);
  return {
    pd,
    qd,
    tick: toUnits(m.tickSize, pd) ?? 1n,
    lot: toUnits(m.lotSize, qd) ?? 1n,
    baseScale: 10n ** BigInt(m.baseDecimals - qd),
    quoteScale: 10n ** BigInt(m.quoteDecimals - pd),
  };
}

/** Quote base units of `qty` at `price` (both in the market's decimals): exact, as the engine's notional. */
function notionalUnits(m: Market, u: Units, price: bigint, qty: bigint): bigint {
  return (price * u.quoteScale * qty * u.baseScale) / 10n ** BigInt(m.baseDecimals);
}

const q = (m: Market, units: bigint) => ({ amount: fromUnits(units, m.quoteDecimals), asset: m.quoteAsset });

function field(
  text: string,
  decimals: number,
  step: bigint,
  name: string,
  stepText: string,
): { value: bigint } | { problem: string } {
  if (text === '') return { problem: `Enter the ${name}.` };
  const v = toUnits(text, decimals);
  if (v === null)
    return { problem: `The ${name} must be a plain decimal with at most ${decimals} decimals (step ${stepText}).` };
  if (v <= 0n) return { problem: `The ${name} must be above zero.` };
  if (v % step !== 0n) return { problem: `The ${name} must be a multiple of ${stepText}.` };
  return { value: v };
}

/** The cost of buying `qty` now from the asks (best first), with the taker fee: what a market buy holds. */
function walkAsks(m: Market, u: Units, asks: Level[], qty: bigint): { cost: bigint; fee: bigint } | null {
  let left = qty;
  let cost = 0n;
  for (const [p, lq] of asks) {
    if (left === 0n) break;
    const take = (toUnits(lq, u.qd) ?? 0n) < left ? (toUnits(lq, u.qd) ?? 0n) : left;
    cost += notionalUnits(m, u, toUnits(p, u.pd) ?? 0n, take);
    left -= take;
  }
  return left > 0n ? null : { cost, fee: (cost * BigInt(m.takerFeeBps)) / BPS };
}

export function preview(m: Market, d: OrderDraft, asks: Level[]): Preview {
  const u = unitsOf(m);
  const out: Preview = { problem: null, hold: null, fee: null, notional: null };
  const fail = (problem: string): Preview => ({ ...out, problem });
  let price = 0n;
  if (priced(d.orderType)) {
    const p = field(d.price, u.pd, u.tick, 'price', m.tickSize);
    if ('problem' in p) return fail(p.problem);
    price = p.value;
  }
  if (stop(d.orderType)) {
    const s = field(d.stopPrice, u.pd, u.tick, 'stop price', m.tickSize);
    if ('problem' in s) return fail(s.problem);
  }
  const minNotional = toUnits(m.minNotional, m.quoteDecimals) ?? 0n;
  const buyByQuote = d.side === 'buy' && (d.orderType === 'stopMarket' || (d.orderType === 'market' && d.byQuote));
  if (buyByQuote) {
    if (d.quoteQuantity === '') return fail(`Enter the ${m.quoteAsset} amount to spend.`);
    const budget = toUnits(d.quoteQuantity, m.quoteDecimals);
    if (budget === null || budget <= 0n)
      return fail(`The amount must be a positive decimal with at most ${m.quoteDecimals} decimals.`);
    if (budget < minNotional)
      return fail(`The amount is below the market's minimum of ${m.minNotional} ${m.quoteAsset}.`);
    return {
      ...out,
      hold: q(m, budget),
      fee: {
        ...q(m, (budget * BigInt(m.takerFeeBps)) / (BPS + BigInt(m.takerFeeBps))),
        note: `at most, taker ${m.takerFeeBps} bps, included`,
      },
    };
  }
  const qf = field(d.quantity, u.qd, u.lot, 'quantity', m.lotSize);
  if ('problem' in qf) return fail(qf.problem);
  const qty = qf.value;
  if (priced(d.orderType)) {
    const notional = notionalUnits(m, u, price, qty);
    if (notional < minNotional)
      return fail(
        `The order's value ${fromUnits(notional, m.quoteDecimals)} ${m.quoteAsset} is below the market's minimum of ${m.minNotional} ${m.quoteAsset}.`,
      );
    const feeBps = BigInt(Math.max(m.makerFeeBps, m.takerFeeBps));
    const fee = (notional * feeBps) / BPS;
    out.notional = fromUnits(notional, m.quoteDecimals);
    out.fee = { ...q(m, fee), note: `at most (maker ${m.makerFeeBps} bps, taker ${m.takerFeeBps} bps)` };
    out.hold =
      d.side === 'sell'
        ? { amount: fromUnits(qty * u.baseScale, m.baseDecimals), asset: m.baseAsset }
        : q(m, notional + fee);
    return out;
  }
  // Market or stop-market by quantity.
  if (d.side === 'sell')
    return {
      ...out,
      hold: { amount: fromUnits(qty * u.baseScale, m.baseDecimals), asset: m.baseAsset },
      fee: { amount: '', asset: m.quoteAsset, note: `taker ${m.takerFeeBps} bps of what it fetches` },
    };
  const walk = walkAsks(m, u, asks, qty);
  if (walk === null) return fail('The book does not hold that much to buy now; lower the quantity or buy by amount.');
  return {
    ...out,
    notional: fromUnits(walk.cost, m.quoteDecimals),
    hold: q(m, walk.cost + walk.fee),
    fee: { ...q(m, walk.fee), note: `taker ${m.takerFeeBps} bps, at today's book` },
  };
}
