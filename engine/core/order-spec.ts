// Turns a placeOrder command into exact ticks and lots for its market, or the code that rejects it.
// Pure: reads only the command and the market's configuration.

import type { PlaceOrder, StpMode, TimeInForce } from './commands.js';
import type { RejectCode } from './codes.js';
import type { Market } from './order.js';
import { SAFE_MAX_BIG, UINT256_MAX } from './units.js';
import { STP_MODES as STP_MODE_LIST, TIME_IN_FORCES } from './formats.js';

export interface OrderSpec {
  priceTicks: number;
  stopPriceTicks: number;
  qtyLots: number;
  quoteBudget: bigint;
  timeInForce: TimeInForce;
  postOnly: boolean;
  stp: StpMode;
}

const STP_MODES: ReadonlySet<string> = new Set(STP_MODE_LIST);
const TIFS: ReadonlySet<string> = new Set(TIME_IN_FORCES);

interface StepCodes {
  missing: RejectCode;
  notPositive: RejectCode;
  overflow: RejectCode;
  notOnStep: RejectCode;
  outOfRange: RejectCode;
}

const PRICE_CODES: StepCodes = {
  missing: 'ORDER_PRICE_MISSING',
  notPositive: 'ORDER_PRICE_NOT_POSITIVE',
  overflow: 'ORDER_PRICE_OVERFLOW',
  notOnStep: 'ORDER_PRICE_NOT_ON_TICK',
  outOfRange: 'ORDER_PRICE_OUT_OF_RANGE',
};
const STOP_CODES: StepCodes = {
  missing: 'ORDER_STOP_PRICE_MISSING',
  notPositive: 'ORDER_STOP_PRICE_NOT_POSITIVE',
  overflow: 'ORDER_STOP_PRICE_OVERFLOW',
  notOnStep: 'ORDER_STOP_PRICE_NOT_ON_TICK',
  outOfRange: 'ORDER_STOP_PRICE_OUT_OF_RANGE',
};
const QTY_CODES: StepCodes = {
  missing: 'ORDER_QTY_MISSING',
  notPositive: 'ORDER_QTY_NOT_POSITIVE',
  overflow: 'ORDER_QTY_OVERFLOW',
  notOnStep: 'ORDER_QTY_NOT_ON_LOT',
  outOfRange: 'ORDER_QTY_OUT_OF_RANGE',
};

/** value / step as a safe integer, or the code saying why it is not one. */
export function toSteps(value: unknown, step: bigint, codes: StepCodes): number | RejectCode {
  if (value === undefined || value === null) return codes.missing;
  if (typeof value !== 'bigint') return 'COMMAND_MALFORMED';
  if (value <= 0n) return codes.notPositive;
  if (value <= SAFE_MAX_BIG && step <= SAFE_MAX_BIG) {
    // Both exact as doubles, so % and / of them are exact too: the same answer as the bigint path below,
    // without the two bigints it allocates (this runs twice for every limit order).
    const v = Number(value);
    const s = Number(step);
    return v % s === 0 ? v / s : codes.notOnStep;
  }
  if (value > UINT256_MAX) return codes.overflow;
  if (value % step !== 0n) return codes.notOnStep;
  const steps = value / step;
  if (steps > SAFE_MAX_BIG) return codes.outOfRange;
  return Number(steps);
}

export const priceToTicks = (value: unknown, m: Market): number | RejectCode => toSteps(value, m.tickSize, PRICE_CODES);
export const qtyToLots = (value: unknown, m: Market): number | RejectCode => toSteps(value, m.lotSize, QTY_CODES);

export function parseOrderSpec(cmd: PlaceOrder, m: Market): OrderSpec | RejectCode {
  if (cmd.side !== 'buy' && cmd.side !== 'sell') return 'ORDER_SIDE_INVALID';
  const stp = cmd.stp ?? 'none';
  if (!STP_MODES.has(stp)) return 'ORDER_STP_INVALID';
  const spec: OrderSpec = {
    priceTicks: 0,
    stopPriceTicks: 0,
    qtyLots: 0,
    quoteBudget: 0n,
    timeInForce: 'GTC',
    postOnly: cmd.postOnly === true,
    stp,
  };
  if (cmd.postOnly !== undefined && typeof cmd.postOnly !== 'boolean') return 'COMMAND_MALFORMED';
  switch (cmd.orderType) {
    case 'limit':
      return parseLimit(cmd, m, spec);
    case 'stopLimit':
      return parseStop(cmd, m, spec) ?? parseLimit(cmd, m, spec);
    case 'market':
      return parseMarket(cmd, m, spec);
    case 'stopMarket':
      return parseStop(cmd, m, spec) ?? parseMarket(cmd, m, spec);
    default:
      return 'ORDER_TYPE_INVALID';
  }
}

function parseLimit(cmd: PlaceOrder, m: Market, spec: OrderSpec): OrderSpec | RejectCode {
  const tif = cmd.timeInForce ?? 'GTC';
  if (!TIFS.has(tif)) return 'ORDER_TIF_INVALID';
  spec.timeInForce = tif;
  if (spec.postOnly && (tif !== 'GTC' || cmd.orderType !== 'limit')) return 'ORDER_POST_ONLY_NOT_GTC';
  // A triggered stop cannot be refused any more, so it cannot be fill-or-kill.
  if (cmd.orderType === 'stopLimit' && tif === 'FOK') return 'ORDER_TIF_INVALID';
  if (cmd.quoteQuantity !== undefined) return 'ORDER_QUOTE_QTY_NOT_ALLOWED';
  if (cmd.orderType === 'limit' && cmd.stopPrice !== undefined) return 'ORDER_STOP_PRICE_NOT_ALLOWED';
  const price = priceToTicks(cmd.price, m);
  if (typeof price === 'string') return price;
  const qty = qtyToLots(cmd.quantity, m);
  if (typeof qty === 'string') return qty;
  spec.priceTicks = price;
  spec.qtyLots = qty;
  return spec;
}

function parseMarket(cmd: PlaceOrder, m: Market, spec: OrderSpec): OrderSpec | RejectCode {
  // Market orders are immediate by nature: IOC is accepted as a no-op, anything else is refused.
  if (cmd.timeInForce !== undefined && cmd.timeInForce !== 'IOC') return 'ORDER_TIF_INVALID';
  spec.timeInForce = 'IOC';
  if (spec.postOnly) return 'ORDER_POST_ONLY_NOT_GTC';
  if (cmd.price !== undefined) return 'ORDER_PRICE_NOT_ALLOWED';
  if (cmd.orderType === 'market' && cmd.stopPrice !== undefined) return 'ORDER_STOP_PRICE_NOT_ALLOWED';
  if (cmd.quoteQuantity !== undefined) {
    if (cmd.quantity !== undefined) return 'ORDER_QTY_AND_QUOTE_QTY';
    if (cmd.side !== 'buy') return 'ORDER_QUOTE_QTY_NOT_ALLOWED';
    const budget = cmd.quoteQuantity;
    if (typeof budget !== 'bigint') return 'COMMAND_MALFORMED';
    if (budget <= 0n) return 'ORDER_QUOTE_QTY_NOT_POSITIVE';
    if (budget > UINT256_MAX) return 'ORDER_QUOTE_QTY_OVERFLOW';
    spec.quoteBudget = budget;
    // No quantity until it matches: execute() gives it the lots the budget buys at the best ask. A placeholder
    // (e.g. MAX_SAFE_INTEGER) would be summed into a stop level's totalLots and lose integer precision there.
    spec.qtyLots = 0;
    return spec;
  }
  if (cmd.orderType === 'stopMarket' && cmd.side === 'buy') return 'ORDER_STOP_MARKET_BUY_NEEDS_QUOTE_QTY';
  const qty = qtyToLots(cmd.quantity, m);
  if (typeof qty === 'string') return qty;
  spec.qtyLots = qty;
  return spec;
}

/** Returns a code, or undefined when the stop price is fine (so `??` chains to the rest of the parse). */
function parseStop(cmd: PlaceOrder, m: Market, spec: OrderSpec): RejectCode | undefined {
  const stop = toSteps(cmd.stopPrice, m.tickSize, STOP_CODES);
  if (typeof stop === 'string') return stop;
  spec.stopPriceTicks = stop;
  return undefined;
}
