// A user's own events as Binance's user-data stream: executionReport (per order event, with the order's running
// totals), outboundAccountPosition (the assets a record changed: free = available, locked = held + pending) and
// balanceUpdate (deposits credited, withdrawals requested or refunded). executionReport needs each order's type,
// prices and client id, which fill and cancel events do not carry: the tracker keeps them from orderAccepted until
// the order closes (bounded; an order accepted before this gateway started is reported with what its events say).
// Pure: events in, messages out.

import type { EngineEvent, OrderAccepted, Trade } from '../../engine/core/index.js';
import type { Lookup } from '../market-data/messages.js';
import type { MarketInfo } from '../units.js';
import { formatLots, formatPriceTicks, formatQuote, formatUnits } from '../units.js';
import { binanceSymbol } from './context.js';
import { stpName, tifName, typeName } from './views.js';

/** Open orders tracked at once; past it new orders are reported without their placement details. */
export const TRACKED_ORDERS_MAX = 200_000;

interface OrderInfo {
  readonly accepted: OrderAccepted;
  filledLots: number;
  cumQuote: bigint;
  priceTicks: number;
  qtyLots: number;
}

export type UserMessage = { readonly userId: number; readonly event: Record<string, unknown> };

export class UserStreamTracker {
  private readonly orders = new Map<number, OrderInfo>();
  /** Trades of the record being read, by id: a fill event names its trade. */
  private readonly recordTrades = new Map<number, Trade>();

  get size(): number {
    return this.orders.size;
  }

  /**
   * One record's user events (in order) as messages, for the users `wanted` says have a subscriber. Every order
   * event updates the tracker, wanted or not, so a later subscriber gets right totals.
   */
  record(
    events: readonly { userId: number; event: EngineEvent }[],
    look: Lookup,
    wanted: (userId: number) => boolean,
  ): UserMessage[] {
    const out: UserMessage[] = [];
    const balances = new Map<number, Map<number, Extract<EngineEvent, { type: 'balanceChanged' }>>>();
    this.recordTrades.clear();
    for (const { userId, event: ev } of events) {
      if (ev.type === 'trade') {
        this.recordTrades.set(ev.tradeId, ev);
        continue;
      }
      if (ev.type === 'balanceChanged') {
        if (!wanted(userId)) continue;
        let mine = balances.get(userId);
        if (mine === undefined) balances.set(userId, (mine = new Map()));
        mine.set(ev.assetId, ev);
        continue;
      }
      const report = this.apply(ev, look);
      if (report !== null && wanted(userId)) out.push({ userId, event: report });
    }
    for (const [userId, changed] of balances) {
      const last = [...changed.values()];
      const timeMs = last[last.length - 1].timeMs;
      const B = last.map((b) => {
        const a = look.asset(b.assetId);
        const d = a?.decimals ?? 0;
        return {
          a: a?.symbol ?? String(b.assetId),
          f: formatUnits(b.available, d),
          l: formatUnits(b.held + b.pending, d),
        };
      });
      out.push({ userId, event: { e: 'outboundAccountPosition', E: timeMs, u: timeMs, B } });
    }
    return out;
  }

  private apply(ev: EngineEvent, look: Lookup): Record<string, unknown> | null {
    switch (ev.type) {
      case 'orderAccepted': {
        if (this.orders.size < TRACKED_ORDERS_MAX)
          this.orders.set(ev.orderId, {
            accepted: ev,
            filledLots: 0,
            cumQuote: 0n,
            priceTicks: ev.priceTicks,
            qtyLots: ev.qtyLots,
          });
        const m = look.market(ev.marketId);
        return m === undefined ? null : this.report(ev.orderId, m, ev.timeMs, { x: 'NEW', X: 'NEW' });
      }
      case 'orderPartiallyFilled':
      case 'orderFilled': {
        const info = this.orders.get(ev.orderId);
        const trade = this.recordTrades.get(ev.tradeId);
        const m = trade === undefined ? undefined : look.market(trade.marketId);
        if (m === undefined || trade === undefined) return null;
        const maker = trade.makerOrderId === ev.orderId;
        if (info !== undefined) {
          info.filledLots = ev.filledLots;
          info.cumQuote += trade.quoteAmount;
          if (info.qtyLots === 0) info.qtyLots = ev.filledLots + ev.remainingLots;
        }
        const done = ev.type === 'orderFilled';
        const report = this.report(ev.orderId, m, ev.timeMs, {
          x: 'TRADE',
          X: done ? 'FILLED' : 'PARTIALLY_FILLED',
          l: formatLots(ev.fillLots, m),
          z: formatLots(ev.filledLots, m),
          L: formatPriceTicks(trade.priceTicks, m),
          n: formatQuote(maker ? trade.makerFee : trade.takerFee, m),
          N: m.quoteSymbol,
          t: trade.tradeId,
          m: maker,
          Y: formatQuote(trade.quoteAmount, m),
        });
        if (done) this.orders.delete(ev.orderId);
        return report;
      }
      case 'orderCanceled':
      case 'orderExpired': {
        const m = look.market(ev.marketId);
        if (m === undefined) return null;
        const info = this.orders.get(ev.orderId);
        const status = ev.type === 'orderCanceled' ? 'CANCELED' : ev.reason === 'stp' ? 'EXPIRED_IN_MATCH' : 'EXPIRED';
        const x = ev.type === 'orderCanceled' ? 'CANCELED' : ev.reason === 'stp' ? 'TRADE_PREVENTION' : 'EXPIRED';
        const report = this.report(ev.orderId, m, ev.timeMs, { x, X: status, C: info?.accepted.clientOrderId ?? '' });
        this.orders.delete(ev.orderId);
        return report;
      }
      case 'orderAmended': {
        const m = look.market(ev.marketId);
        const info = this.orders.get(ev.orderId);
        if (m === undefined) return null;
        if (info !== undefined) {
          info.priceTicks = ev.priceTicks;
          info.qtyLots = ev.qtyLots;
        }
        return this.report(ev.orderId, m, ev.timeMs, {
          x: 'REPLACED',
          X: info !== undefined && info.filledLots > 0 ? 'PARTIALLY_FILLED' : 'NEW',
        });
      }
      case 'depositCredited':
      case 'withdrawalPending':
      case 'withdrawalFailed': {
        const a = look.asset(ev.assetId);
        const amount = formatUnits(ev.amount, a?.decimals ?? 0);
        // Binance's balanceUpdate is a change of the free balance: a withdrawal takes it when requested.
        return {
          e: 'balanceUpdate',
          E: ev.timeMs,
          a: a?.symbol ?? String(ev.assetId),
          d: ev.type === 'withdrawalPending' ? `-${amount}` : amount,
          T: ev.timeMs,
        };
      }
      default:
        return null;
    }
  }

  /** An executionReport with the order's tracked details (or what is known without them). */
  private report(
    orderId: number,
    m: MarketInfo,
    timeMs: number,
    fields: Record<string, unknown>,
  ): Record<string, unknown> {
    const info = this.orders.get(orderId);
    const a = info?.accepted;
    return {
      e: 'executionReport',
      E: timeMs,
      s: binanceSymbol(m),
      c: a?.clientOrderId ?? '',
      S: a === undefined ? '' : a.side === 'buy' ? 'BUY' : 'SELL',
      o: a === undefined ? '' : typeName(a.orderType, a.postOnly),
      f: a === undefined ? 'GTC' : tifName(a.orderType, a.timeInForce),
      q: formatLots(info?.qtyLots ?? 0, m),
      p: formatPriceTicks(info?.priceTicks ?? 0, m),
      P: formatPriceTicks(a?.stopPriceTicks ?? 0, m),
      F: '0',
      g: -1,
      C: '',
      r: 'NONE',
      i: orderId,
      l: '0',
      z: formatLots(info?.filledLots ?? 0, m),
      L: '0',
      n: '0',
      N: null,
      T: timeMs,
      t: -1,
      I: orderId,
      w: true,
      m: false,
      M: false,
      O: a?.timeMs ?? timeMs,
      Z: formatQuote(info?.cumQuote ?? 0n, m),
      Y: '0',
      Q: formatQuote(a?.quoteQuantity ?? 0n, m),
      W: a?.timeMs ?? timeMs,
      V: stpName(a?.stp ?? 'none'),
      ...fields,
    };
  }
}
