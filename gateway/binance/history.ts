// What the Binance market routes read from persistence's `trades` table: trades in id order (Binance lists oldest
// first), klines aligned as Binance aligns them (epoch multiples; weeks from Monday; calendar months), and the 24 h
// ticker with the first and last trade ids. Ticks and lots come back as integers.

import type { Sql } from 'postgres';

export interface TradeRow {
  readonly tradeId: number;
  readonly priceTicks: bigint;
  readonly qtyLots: bigint;
  readonly quoteAmount: bigint;
  readonly takerSide: 'buy' | 'sell';
  readonly timeMs: number;
}

export interface TradeQuery {
  readonly fromId?: number;
  readonly startTimeMs?: number;
  readonly endTimeMs?: number;
  readonly limit: number;
}

const toTrade = (r: Record<string, unknown>): TradeRow => ({
  tradeId: Number(r.trade_id),
  priceTicks: BigInt(r.price_ticks as string),
  qtyLots: BigInt(r.qty_lots as string),
  quoteAmount: BigInt(r.quote_amount as string),
  takerSide: r.taker_side as 'buy' | 'sell',
  timeMs: (r.executed_at as Date).getTime(),
});

/** Oldest first. Without fromId or a time, the most recent `limit` trades. */
export async function trades(sql: Sql, marketId: number, q: TradeQuery): Promise<TradeRow[]> {
  const cols = sql`trade_id, price_ticks, qty_lots, quote_amount::text, taker_side, executed_at`;
  if (q.fromId === undefined && q.startTimeMs === undefined && q.endTimeMs === undefined) {
    const rows =
      await sql`SELECT ${cols} FROM trades WHERE market_id = ${marketId} ORDER BY trade_id DESC LIMIT ${q.limit}`;
    return rows.map(toTrade).reverse();
  }
  const from = q.fromId === undefined ? sql`` : sql`AND trade_id >= ${q.fromId}`;
  const start = q.startTimeMs === undefined ? sql`` : sql`AND executed_at >= ${new Date(q.startTimeMs)}`;
  const end = q.endTimeMs === undefined ? sql`` : sql`AND executed_at <= ${new Date(q.endTimeMs)}`;
  const rows =
    await sql`SELECT ${cols} FROM trades WHERE market_id = ${marketId} ${from} ${start} ${end} ORDER BY trade_id LIMIT ${q.limit}`;
  return rows.map(toTrade);
}

/** Binance's kline intervals, in ms for the fixed ones; '1M' is a calendar month. */
export const KLINE_INTERVALS: Readonly<Record<string, number>> = {
  '1m': 60_000,
  '3m': 180_000,
  '5m': 300_000,
  '15m': 900_000,
  '30m': 1_800_000,
  '1h': 3_600_000,
  '2h': 7_200_000,
  '4h': 14_400_000,
  '6h': 21_600_000,
  '8h': 28_800_000,
  '12h': 43_200_000,
  '1d': 86_400_000,
  '3d': 259_200_000,
  '1w': 604_800_000,
  '1M': 0,
};

/** Weeks start on Monday: 1970-01-05 is the first Monday after the epoch. */
const WEEK_ORIGIN_MS = 4 * 86_400_000;

/** The open time of the interval holding `timeMs`, and of the next one. */
export function klineBounds(interval: string, timeMs: number): { openMs: number; closeMs: number } {
  const len = KLINE_INTERVALS[interval];
  if (interval === '1M') {
    const d = new Date(timeMs);
    const open = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    return { openMs: open, closeMs: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) };
  }
  const origin = interval === '1w' ? WEEK_ORIGIN_MS : 0;
  const open = Math.floor((timeMs - origin) / len) * len + origin;
  return { openMs: open, closeMs: open + len };
}

export interface KlineRow {
  readonly openMs: number;
  readonly openTicks: bigint;
  readonly highTicks: bigint;
  readonly lowTicks: bigint;
  readonly closeTicks: bigint;
  readonly volumeLots: bigint;
  readonly quoteVolume: bigint;
  readonly count: number;
  readonly takerBuyLots: bigint;
  readonly takerBuyQuote: bigint;
  readonly firstId: number;
  readonly lastId: number;
}

/**
 * Klines with trades in [startMs, endMs], oldest first, at most `limit`; intervals without trades are absent. Without
 * startMs, the most recent `limit` intervals that have trades.
 */
export async function klines(
  sql: Sql,
  marketId: number,
  interval: string,
  q: { startMs?: number; endMs?: number; limit: number },
): Promise<KlineRow[]> {
  const len = KLINE_INTERVALS[interval];
  const bucket =
    interval === '1M'
      ? sql`(extract(epoch FROM date_trunc('month', executed_at AT TIME ZONE 'UTC')) * 1000)::bigint`
      : sql`((extract(epoch FROM executed_at) * 1000)::bigint - ${interval === '1w' ? WEEK_ORIGIN_MS : 0}) / ${len} * ${len} + ${interval === '1w' ? WEEK_ORIGIN_MS : 0}`;
  const start =
    q.startMs === undefined ? sql`` : sql`AND executed_at >= ${new Date(klineBounds(interval, q.startMs).openMs)}`;
  const end = q.endMs === undefined ? sql`` : sql`AND executed_at <= ${new Date(q.endMs)}`;
  const newestFirst = q.startMs === undefined;
  const rows = await sql`
    SELECT ${bucket} AS t,
           (array_agg(price_ticks ORDER BY trade_id))[1] AS open, max(price_ticks) AS high, min(price_ticks) AS low,
           (array_agg(price_ticks ORDER BY trade_id DESC))[1] AS close, sum(qty_lots) AS volume_lots, sum(quote_amount)::text AS quote_volume,
           count(*)::int AS n, coalesce(sum(qty_lots) FILTER (WHERE taker_side = 'buy'), 0) AS buy_lots,
           coalesce(sum(quote_amount) FILTER (WHERE taker_side = 'buy'), 0)::text AS buy_quote, min(trade_id) AS first_id, max(trade_id) AS last_id
    FROM trades WHERE market_id = ${marketId} ${start} ${end}
    GROUP BY 1 ORDER BY 1 ${newestFirst ? sql`DESC` : sql``} LIMIT ${q.limit}`;
  const out = rows.map((r) => ({
    openMs: Number(r.t),
    openTicks: BigInt(r.open),
    highTicks: BigInt(r.high),
    lowTicks: BigInt(r.low),
    closeTicks: BigInt(r.close),
    volumeLots: BigInt(r.volume_lots),
    quoteVolume: BigInt(r.quote_volume),
    count: r.n as number,
    takerBuyLots: BigInt(r.buy_lots),
    takerBuyQuote: BigInt(r.buy_quote),
    firstId: Number(r.first_id),
    lastId: Number(r.last_id),
  }));
  return newestFirst ? out.reverse() : out;
}

export interface Ticker24h {
  readonly openTicks: bigint | null;
  readonly highTicks: bigint | null;
  readonly lowTicks: bigint | null;
  readonly volumeLots: bigint;
  readonly quoteVolume: bigint;
  readonly count: number;
  readonly firstId: number | null;
  readonly lastId: number | null;
  /** The last trade whenever it was (Binance's lastPrice outlives the window). */
  readonly last: { readonly priceTicks: bigint; readonly qtyLots: bigint } | null;
  /** The last trade before the window: Binance's prevClosePrice. */
  readonly prevCloseTicks: bigint | null;
}

/** The window (sinceMs, now]: as gateway/market-data/history.ts's ticker, plus the ids and last quantity. */
export async function ticker24h(sql: Sql, marketId: number, sinceMs: number): Promise<Ticker24h> {
  const since = new Date(sinceMs);
  const [r] = await sql`
    SELECT
      (SELECT array[price_ticks, qty_lots] FROM trades WHERE market_id = ${marketId} ORDER BY trade_id DESC LIMIT 1) AS last,
      (SELECT price_ticks FROM trades WHERE market_id = ${marketId} AND executed_at <= ${since} ORDER BY trade_id DESC LIMIT 1) AS prev_close,
      (SELECT price_ticks FROM trades WHERE market_id = ${marketId} AND executed_at > ${since} ORDER BY trade_id LIMIT 1) AS open,
      w.high, w.low, w.volume_lots, w.quote_volume, w.n, w.first_id, w.last_id
    FROM (SELECT max(price_ticks) AS high, min(price_ticks) AS low, coalesce(sum(qty_lots), 0) AS volume_lots,
                 coalesce(sum(quote_amount), 0)::text AS quote_volume, count(*)::int AS n, min(trade_id) AS first_id, max(trade_id) AS last_id
          FROM trades WHERE market_id = ${marketId} AND executed_at > ${since}) w`;
  const big = (x: unknown): bigint | null => (x === null || x === undefined ? null : BigInt(x as string));
  const last = r.last as string[] | null;
  return {
    openTicks: big(r.open),
    highTicks: big(r.high),
    lowTicks: big(r.low),
    volumeLots: BigInt(r.volume_lots),
    quoteVolume: BigInt(r.quote_volume),
    count: r.n as number,
    firstId: r.first_id === null ? null : Number(r.first_id),
    lastId: r.last_id === null ? null : Number(r.last_id),
    last: last === null ? null : { priceTicks: BigInt(last[0]), qtyLots: BigInt(last[1]) },
    prevCloseTicks: big(r.prev_close),
  };
}
