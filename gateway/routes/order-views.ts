// Rows of the persistence tables as API objects: amounts from base units to decimal strings in market units.

import type { Sql } from 'postgres';
import type { OrderType, StpMode, TimeInForce } from '../../engine/core/index.js';
import type { CloseReason } from '../../engine/core/index.js';
import type { MarketCache } from '../markets.js';
import { quantitiesOf } from '../results.js';
import type { OrderStatus } from '../results.js';
import type { MarketInfo } from '../units.js';
import { formatLots, formatPriceTicks, formatQuote, formatUnits } from '../units.js';

export interface OrderRowDb {
  order_id: string;
  user_id: string;
  market_id: number;
  client_order_id: string | null;
  side: 'buy' | 'sell';
  order_type: OrderType;
  time_in_force: TimeInForce;
  post_only: boolean;
  stp: StpMode;
  status: OrderStatus;
  close_reason: CloseReason | null;
  price_ticks: string;
  stop_price_ticks: string;
  original_qty_lots: string;
  qty_lots: string;
  filled_lots: string;
  remaining_lots: string;
  quote_quantity: string;
  filled_quote: string;
  fees_paid: string;
  avg_fill_price: string | null;
  created_at: Date;
  updated_at: Date;
  closed_at: Date | null;
}

export const ORDER_COLUMNS =
  'order_id, user_id, market_id, client_order_id, side, order_type, time_in_force, post_only, stp, status, close_reason, price_ticks, stop_price_ticks, original_qty_lots, qty_lots, filled_lots, remaining_lots, quote_quantity::text, filled_quote::text, fees_paid::text, avg_fill_price::text, created_at, updated_at, closed_at';

/** "1850250000.000000000000000000" (quote base units, 18 decimals) -> "1850.25" with the quote's decimals. */
export function formatScaled(text: string, decimals: number): string {
  const [whole, fraction = ''] = text.split('.');
  return formatUnits(BigInt(whole + fraction), fraction.length + decimals);
}

export function orderView(r: OrderRowDb, m: MarketInfo) {
  return {
    orderId: Number(r.order_id),
    clientOrderId: r.client_order_id,
    marketId: r.market_id,
    market: m.symbol,
    side: r.side,
    orderType: r.order_type,
    timeInForce: r.time_in_force,
    postOnly: r.post_only,
    stp: r.stp,
    status: r.status,
    closeReason: r.close_reason,
    price: r.price_ticks === '0' ? null : formatPriceTicks(BigInt(r.price_ticks), m),
    stopPrice: r.stop_price_ticks === '0' ? null : formatPriceTicks(BigInt(r.stop_price_ticks), m),
    ...quantitiesOf(
      {
        status: r.status,
        byQuote: r.quote_quantity !== '0',
        qtyLots: BigInt(r.qty_lots),
        originalQtyLots: BigInt(r.original_qty_lots),
        filledLots: BigInt(r.filled_lots),
        remainingLots: BigInt(r.remaining_lots),
      },
      m,
    ),
    quoteQuantity: r.quote_quantity === '0' ? null : formatQuote(r.quote_quantity, m),
    filledQuote: formatQuote(r.filled_quote, m),
    feesPaid: formatQuote(r.fees_paid, m),
    avgFillPrice: r.avg_fill_price === null ? null : formatScaled(r.avg_fill_price, m.quoteDecimals),
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
    closedAt: r.closed_at?.toISOString() ?? null,
  };
}

export async function orderViews(rows: readonly OrderRowDb[], markets: MarketCache) {
  const out = [];
  for (const r of rows) {
    const m = await markets.market(r.market_id);
    if (m !== null) out.push(orderView(r, m));
  }
  return out;
}

export interface TradeRowDb {
  trade_id: string;
  order_id: string;
  market_id: number;
  side: 'buy' | 'sell';
  liquidity: 'maker' | 'taker';
  price_ticks: string;
  qty_lots: string;
  quote_amount: string;
  fee: string;
  executed_at: Date;
}

/** The user's side of each trade (a self-trade gives two rows: maker and taker). Paged by trade id, newest first. */
export function userTrades(sql: Sql, userId: number, marketId: number | null, before: number | null, limit: number) {
  const market = marketId === null ? sql`` : sql`AND market_id = ${marketId}`;
  const cursor = before === null ? sql`` : sql`AND trade_id < ${before}`;
  return sql<TradeRowDb[]>`
    SELECT * FROM (
      SELECT trade_id, maker_order_id AS order_id, market_id, CASE taker_side WHEN 'buy' THEN 'sell' ELSE 'buy' END AS side, 'maker' AS liquidity,
             price_ticks, qty_lots, quote_amount::text, maker_fee::text AS fee, executed_at
      FROM trades WHERE maker_user_id = ${userId} ${market} ${cursor}
      UNION ALL
      SELECT trade_id, taker_order_id, market_id, taker_side, 'taker', price_ticks, qty_lots, quote_amount::text, taker_fee::text, executed_at
      FROM trades WHERE taker_user_id = ${userId} ${market} ${cursor}
    ) t ORDER BY trade_id DESC, liquidity LIMIT ${limit}`;
}

export function tradeView(r: TradeRowDb, m: MarketInfo) {
  return {
    tradeId: Number(r.trade_id),
    orderId: Number(r.order_id),
    marketId: r.market_id,
    market: m.symbol,
    side: r.side,
    liquidity: r.liquidity,
    price: formatPriceTicks(BigInt(r.price_ticks), m),
    quantity: formatLots(BigInt(r.qty_lots), m),
    quoteAmount: formatQuote(r.quote_amount, m),
    fee: formatQuote(r.fee, m),
    executedAt: r.executed_at.toISOString(),
  };
}
