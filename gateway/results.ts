// What a command's events mean to the client who sent it: the order's state and fills after a placement, the
// orders a cancel closed, the order after an amend. Pure: events and market info in, response objects out.

import type { EngineEvent, OrderAccepted, Trade } from '../engine/core/index.js';
import type { MarketInfo } from './units.js';
import { formatLots, formatPriceTicks, formatQuote } from './units.js';

export interface FillView {
  tradeId: number;
  price: string;
  quantity: string;
  fee: string;
  liquidity: 'maker' | 'taker';
}

export type OrderStatus = 'pendingTrigger' | 'new' | 'partiallyFilled' | 'filled' | 'canceled' | 'expired';
const OPEN_STATUSES: ReadonlySet<OrderStatus> = new Set(['pendingTrigger', 'new', 'partiallyFilled']);

export interface OrderOutcome {
  orderId: number | null;
  orderStatus: OrderStatus | null;
  filledQuantity: string | null;
  remainingQuantity: string | null;
  fills: FillView[];
}

/** What an order's quantities are made of, from its events (a placement's answer) or its stored row (the reads). */
export interface OrderFigures {
  readonly status: OrderStatus;
  /** A market or stop-market buy by quote quantity: its budget bounds it, it has no base quantity of its own. */
  readonly byQuote: boolean;
  readonly qtyLots: number | bigint;
  readonly originalQtyLots: number | bigint;
  readonly filledLots: number | bigint;
  readonly remainingLots: number | bigint;
}

export interface OrderQuantities {
  quantity: string | null;
  originalQuantity: string | null;
  filledQuantity: string;
  remainingQuantity: string | null;
}

/**
 * The one meaning of an order's quantities, whichever route answers (POST /v1/orders, GET /v1/orders/..., the
 * lists): `remainingQuantity` is what is still open, so "0" once the order is closed (an IOC remainder that expired
 * is not open; quantity - filled says how much never filled). A buy by quote has no quantity (null): its budget is
 * `quoteQuantity`, and while it waits for its trigger what it will fill is not known (remaining null).
 */
export function quantitiesOf(f: OrderFigures, m: MarketInfo): OrderQuantities {
  const open = OPEN_STATUSES.has(f.status);
  return {
    quantity: f.byQuote ? null : formatLots(f.qtyLots, m),
    originalQuantity: f.byQuote ? null : formatLots(f.originalQtyLots, m),
    filledQuantity: formatLots(f.filledLots, m),
    remainingQuantity: !open ? '0' : f.byQuote ? null : formatLots(f.remainingLots, m),
  };
}

/** The fills of `orderId` among the events, with the fee this order paid. */
export function fillsOf(events: readonly EngineEvent[], orderId: number, m: MarketInfo): FillView[] {
  const fills: FillView[] = [];
  for (const ev of events) {
    if (ev.type !== 'trade' || ev.marketId !== m.marketId) continue;
    const t: Trade = ev;
    if (t.takerOrderId !== orderId && t.makerOrderId !== orderId) continue;
    const taker = t.takerOrderId === orderId;
    fills.push({
      tradeId: t.tradeId,
      price: formatPriceTicks(t.priceTicks, m),
      quantity: formatLots(t.qtyLots, m),
      fee: formatQuote(taker ? t.takerFee : t.makerFee, m),
      liquidity: taker ? 'taker' : 'maker',
    });
  }
  return fills;
}

/** The state of the order a placement made, after its command (fills so far, resting, closed). */
export function placementOutcome(events: readonly EngineEvent[], orderId: number | null, m: MarketInfo): OrderOutcome {
  const none: OrderOutcome = { orderId, orderStatus: null, filledQuantity: null, remainingQuantity: null, fills: [] };
  if (orderId === null) return none;
  const accepted = events.find((e): e is OrderAccepted => e.type === 'orderAccepted' && e.orderId === orderId);
  // A repeated clientOrderId answers with the first order's id and no events of it: its state is in the history.
  if (accepted === undefined) return none;
  const isStop = accepted.orderType === 'stopLimit' || accepted.orderType === 'stopMarket';
  let status: OrderStatus = isStop ? 'pendingTrigger' : 'new';
  let filledLots = 0;
  let remainingLots = accepted.qtyLots;
  for (const ev of events) {
    if (!('orderId' in ev) || ev.orderId !== orderId) continue;
    switch (ev.type) {
      case 'orderTriggered':
      case 'orderRested':
        if (status === 'pendingTrigger') status = 'new';
        if (ev.type === 'orderRested') remainingLots = ev.remainingLots;
        break;
      case 'orderPartiallyFilled':
      case 'orderFilled':
        filledLots = ev.filledLots;
        remainingLots = ev.remainingLots;
        status = ev.type === 'orderFilled' ? 'filled' : 'partiallyFilled';
        break;
      case 'orderCanceled':
      case 'orderExpired':
        status = ev.type === 'orderCanceled' ? 'canceled' : 'expired';
        break;
      case 'orderAmended':
        remainingLots = ev.remainingLots;
        break;
      default:
        break;
    }
  }
  const q = quantitiesOf(
    {
      status,
      byQuote: accepted.quoteQuantity > 0n,
      qtyLots: accepted.qtyLots,
      originalQtyLots: accepted.qtyLots,
      filledLots,
      remainingLots,
    },
    m,
  );
  return {
    orderId,
    orderStatus: status,
    filledQuantity: q.filledQuantity,
    remainingQuantity: q.remainingQuantity,
    fills: fillsOf(events, orderId, m),
  };
}
