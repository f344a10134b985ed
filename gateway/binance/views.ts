// Our orders, trades and events as Binance's JSON: order types, statuses, time in force and self-trade prevention
// modes mapped both ways, prices and quantities as exact decimal strings in market units. Pure.

import type { EngineEvent, OrderAccepted, Trade } from '../../engine/core/index.js';
import type { OrderRowDb, TradeRowDb } from '../routes/order-views.js';
import type { MarketInfo } from '../units.js';
import { formatLots, formatPriceTicks, formatQuote } from '../units.js';
import { binanceSymbol } from './context.js';

export const BINANCE_ORDER_TYPES = ['LIMIT', 'LIMIT_MAKER', 'MARKET', 'STOP_LOSS', 'STOP_LOSS_LIMIT'] as const;
export type BinanceOrderType = (typeof BINANCE_ORDER_TYPES)[number];
/** Binance's types we do not have: a take-profit triggers the other way round from our stops. */
export const UNSUPPORTED_ORDER_TYPES = ['TAKE_PROFIT', 'TAKE_PROFIT_LIMIT'] as const;

export const STP_MODES = {
  NONE: 'none',
  EXPIRE_TAKER: 'expireTaker',
  EXPIRE_MAKER: 'expireMaker',
  EXPIRE_BOTH: 'expireBoth',
  DECREMENT: 'decrementAndCancel',
} as const;
export type BinanceStp = keyof typeof STP_MODES;
type OurStp = (typeof STP_MODES)[BinanceStp];
const STP_NAMES = Object.fromEntries(Object.entries(STP_MODES).map(([k, v]) => [v, k])) as Record<OurStp, BinanceStp>;
export const stpName = (stp: string): BinanceStp => STP_NAMES[stp as OurStp] ?? 'NONE';

type OurType = 'limit' | 'market' | 'stopLimit' | 'stopMarket';

export function typeName(orderType: OurType, postOnly: boolean): BinanceOrderType {
  switch (orderType) {
    case 'limit':
      return postOnly ? 'LIMIT_MAKER' : 'LIMIT';
    case 'market':
      return 'MARKET';
    case 'stopLimit':
      return 'STOP_LOSS_LIMIT';
    case 'stopMarket':
      return 'STOP_LOSS';
  }
}

/** Binance shows GTC for orders without a time in force of their own (market, stop-market, post-only). */
export const tifName = (orderType: OurType, tif: string | null | undefined): string =>
  (orderType === 'limit' || orderType === 'stopLimit') && tif ? tif : 'GTC';

export type BinanceStatus = 'NEW' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED' | 'EXPIRED' | 'EXPIRED_IN_MATCH';

/** A stop waiting for its trigger is NEW on Binance too; an order ended by self-trade prevention EXPIRED_IN_MATCH. */
export function statusName(status: string, closeReason: string | null): BinanceStatus {
  switch (status) {
    case 'pendingTrigger':
    case 'new':
      return 'NEW';
    case 'partiallyFilled':
      return 'PARTIALLY_FILLED';
    case 'filled':
      return 'FILLED';
    case 'canceled':
      return 'CANCELED';
    default:
      return closeReason === 'stp' ? 'EXPIRED_IN_MATCH' : 'EXPIRED';
  }
}

const ms = (d: Date): number => d.getTime();

/** A stored order (persistence's `orders` row) as GET /api/v3/order answers it. */
export function orderFromRow(r: OrderRowDb, m: MarketInfo) {
  const filledLots = BigInt(r.filled_lots);
  return {
    symbol: binanceSymbol(m),
    orderId: Number(r.order_id),
    orderListId: -1,
    clientOrderId: r.client_order_id ?? '',
    price: formatPriceTicks(BigInt(r.price_ticks), m),
    origQty: formatLots(BigInt(r.qty_lots), m),
    executedQty: formatLots(filledLots, m),
    cummulativeQuoteQty: formatQuote(r.filled_quote, m),
    status: statusName(r.status, r.close_reason),
    timeInForce: tifName(r.order_type, r.time_in_force),
    type: typeName(r.order_type, r.post_only),
    side: r.side === 'buy' ? 'BUY' : 'SELL',
    stopPrice: formatPriceTicks(BigInt(r.stop_price_ticks), m),
    icebergQty: '0',
    time: ms(r.created_at),
    updateTime: ms(r.updated_at),
    isWorking: r.status !== 'pendingTrigger',
    workingTime: r.status === 'pendingTrigger' ? -1 : ms(r.created_at),
    origQuoteOrderQty: formatQuote(r.quote_quantity, m),
    selfTradePreventionMode: stpName(r.stp),
  };
}

export type BinanceOrder = ReturnType<typeof orderFromRow>;

/** The user's side of a stored trade as GET /api/v3/myTrades answers it. */
export function myTradeFromRow(r: TradeRowDb, m: MarketInfo) {
  return {
    symbol: binanceSymbol(m),
    id: Number(r.trade_id),
    orderId: Number(r.order_id),
    orderListId: -1,
    price: formatPriceTicks(BigInt(r.price_ticks), m),
    qty: formatLots(BigInt(r.qty_lots), m),
    quoteQty: formatQuote(r.quote_amount, m),
    commission: formatQuote(r.fee, m),
    commissionAsset: m.quoteSymbol,
    time: ms(r.executed_at),
    isBuyer: r.side === 'buy',
    isMaker: r.liquidity === 'maker',
    isBestMatch: true,
  };
}

/** The fills of an order among a command's events, as Binance's `fills`, with the quote they add up to. */
export function fillsFromEvents(events: readonly EngineEvent[], orderId: number, m: MarketInfo) {
  const fills = [];
  let quote = 0n;
  for (const ev of events) {
    if (ev.type !== 'trade' || ev.marketId !== m.marketId) continue;
    const t: Trade = ev;
    if (t.takerOrderId !== orderId && t.makerOrderId !== orderId) continue;
    quote += t.quoteAmount;
    const fee = t.takerOrderId === orderId ? t.takerFee : t.makerFee;
    fills.push({
      price: formatPriceTicks(t.priceTicks, m),
      qty: formatLots(t.qtyLots, m),
      commission: formatQuote(fee, m),
      commissionAsset: m.quoteSymbol,
      tradeId: t.tradeId,
    });
  }
  return { fills, quote };
}

/** The order a placement made, after its command, from the command's events (RESULT and FULL answers). */
export function orderFromEvents(events: readonly EngineEvent[], orderId: number, m: MarketInfo) {
  const accepted = events.find((e): e is OrderAccepted => e.type === 'orderAccepted' && e.orderId === orderId);
  if (accepted === undefined) return null;
  let status = accepted.orderType === 'stopLimit' || accepted.orderType === 'stopMarket' ? 'pendingTrigger' : 'new';
  let closeReason: string | null = null;
  let filledLots = 0;
  let qtyLots = accepted.qtyLots;
  for (const ev of events) {
    if (!('orderId' in ev) || ev.orderId !== orderId) continue;
    if (ev.type === 'orderTriggered' || ev.type === 'orderRested')
      status = status === 'pendingTrigger' ? 'new' : status;
    else if (ev.type === 'orderPartiallyFilled' || ev.type === 'orderFilled') {
      filledLots = ev.filledLots;
      // A market buy by budget learns its quantity as it matches: what it filled plus what is left.
      if (qtyLots === 0) qtyLots = ev.filledLots + ev.remainingLots;
      status = ev.type === 'orderFilled' ? 'filled' : 'partiallyFilled';
    } else if (ev.type === 'orderCanceled' || ev.type === 'orderExpired') {
      status = ev.type === 'orderCanceled' ? 'canceled' : 'expired';
      closeReason = ev.reason;
      if (qtyLots === 0) qtyLots = filledLots;
    }
  }
  const { fills, quote } = fillsFromEvents(events, orderId, m);
  return {
    symbol: binanceSymbol(m),
    orderId,
    orderListId: -1,
    clientOrderId: accepted.clientOrderId ?? '',
    transactTime: accepted.timeMs,
    price: formatPriceTicks(accepted.priceTicks, m),
    origQty: formatLots(qtyLots, m),
    executedQty: formatLots(filledLots, m),
    origQuoteOrderQty: formatQuote(accepted.quoteQuantity, m),
    cummulativeQuoteQty: formatQuote(quote, m),
    status: statusName(status, closeReason),
    timeInForce: tifName(accepted.orderType, accepted.timeInForce),
    type: typeName(accepted.orderType, accepted.postOnly),
    side: accepted.side === 'buy' ? 'BUY' : 'SELL',
    ...(accepted.stopPriceTicks !== 0 ? { stopPrice: formatPriceTicks(accepted.stopPriceTicks, m) } : {}),
    workingTime: status === 'pendingTrigger' ? -1 : accepted.timeMs,
    selfTradePreventionMode: stpName(accepted.stp),
    fills,
  };
}
