// What market data reads from PostgreSQL (tables written by persistence/, migrations/0001_persistence.sql): the
// starting state for the books, recent trades, the 24 h ticker and candles. Ticks and lots come back as integers;
// the routes turn them into decimal strings.

import type { Sql } from 'postgres';
import type { Side } from '../../engine/core/index.js';
import type { AssetInfo, MarketInfo } from '../units.js';
import type { CoreState, TrackedOrder } from './core.js';

export interface BootState extends CoreState {
  /** Offset of the last events-topic record persistence applied: reading resumes right after it. */
  readonly sourceOffset: number;
}

const OPEN_ORDERS_CURSOR_ROWS = 10_000;

/**
 * The state at persistence's stored position, read in one REPEATABLE READ snapshot so the position, the markets
 * and the open orders all belong to the same committed batch. Orders open at a command boundary are either resting
 * (new / partiallyFilled: a taker, IOC, FOK or market order never outlives its command) or stops waiting for their
 * trigger (pendingTrigger, not in the book).
 */
export async function loadBootState(sql: Sql): Promise<BootState> {
  return sql.begin('isolation level repeatable read read only', async (tx) => {
    const [pos] = await tx<
      { last_seq: string; source_offset: string }[]
    >`SELECT last_seq, source_offset FROM persistence_position WHERE id = 1`;
    if (pos === undefined)
      throw new Error('persistence_position has no row: persistence has not migrated this database');
    const assets: AssetInfo[] = (
      await tx<{ asset_id: number; symbol: string; decimals: number }[]>`SELECT asset_id, symbol, decimals FROM assets`
    ).map((a) => ({ assetId: a.asset_id, symbol: a.symbol, decimals: a.decimals }));
    const byId = new Map(assets.map((a) => [a.assetId, a]));
    const markets: MarketInfo[] = (await tx`SELECT * FROM markets ORDER BY market_id`).map((m) => {
      const base = byId.get(m.base_asset_id) as AssetInfo;
      const quote = byId.get(m.quote_asset_id) as AssetInfo;
      return {
        marketId: m.market_id,
        symbol: m.symbol,
        baseAssetId: m.base_asset_id,
        quoteAssetId: m.quote_asset_id,
        baseSymbol: base.symbol,
        quoteSymbol: quote.symbol,
        baseDecimals: base.decimals,
        quoteDecimals: quote.decimals,
        tickSize: BigInt(m.tick_size),
        lotSize: BigInt(m.lot_size),
        minNotional: BigInt(m.min_notional),
        makerFeeBps: m.maker_fee_bps,
        takerFeeBps: m.taker_fee_bps,
      };
    });
    const orders: TrackedOrder[] = [];
    await tx`SELECT order_id, user_id, market_id, side, status, price_ticks, remaining_lots FROM orders
             WHERE status IN ('pendingTrigger', 'new', 'partiallyFilled')`.cursor(OPEN_ORDERS_CURSOR_ROWS, (rows) => {
      for (const r of rows) {
        orders.push({
          orderId: Number(r.order_id),
          userId: Number(r.user_id),
          marketId: r.market_id,
          side: r.side as Side,
          priceTicks: Number(r.price_ticks),
          remainingLots: Number(r.remaining_lots),
          inBook: r.status !== 'pendingTrigger',
        });
      }
    });
    return { lastSeq: Number(pos.last_seq), sourceOffset: Number(pos.source_offset), assets, markets, orders };
  });
}

export interface TradeRow {
  readonly tradeId: number;
  readonly seq: number;
  readonly priceTicks: bigint;
  readonly qtyLots: bigint;
  readonly quoteAmount: bigint;
  readonly takerSide: Side;
  readonly timeMs: number;
}

export async function recentTrades(
  sql: Sql,
  marketId: number,
  limit: number,
  beforeTradeId: number | null,
): Promise<TradeRow[]> {
  const rows = await sql`
    SELECT trade_id, seq, price_ticks, qty_lots, quote_amount, taker_side, executed_at FROM trades
    WHERE market_id = ${marketId} ${beforeTradeId === null ? sql`` : sql`AND trade_id < ${beforeTradeId}`}
    ORDER BY trade_id DESC LIMIT ${limit}`;
  return rows.map((r) => ({
    tradeId: Number(r.trade_id),
    seq: Number(r.seq),
    priceTicks: BigInt(r.price_ticks),
    qtyLots: BigInt(r.qty_lots),
    quoteAmount: BigInt(r.quote_amount),
    takerSide: r.taker_side,
    timeMs: (r.executed_at as Date).getTime(),
  }));
}

export interface TickerRow {
  readonly lastPriceTicks: bigint | null;
  readonly lastTimeMs: number | null;
  readonly openTicks: bigint | null;
  readonly highTicks: bigint | null;
  readonly lowTicks: bigint | null;
  readonly volumeLots: bigint;
  readonly quoteVolume: bigint;
  readonly tradeCount: number;
}

const big = (x: unknown): bigint | null => (x === null || x === undefined ? null : BigInt(x as string));

/** The window (sinceMs, nowMs]: first, high, low, volumes; and the last trade whenever it was. */
export async function ticker(sql: Sql, marketId: number, sinceMs: number): Promise<TickerRow> {
  const since = new Date(sinceMs);
  const [r] = await sql`
    SELECT
      (SELECT price_ticks FROM trades WHERE market_id = ${marketId} ORDER BY trade_id DESC LIMIT 1) AS last,
      (SELECT executed_at FROM trades WHERE market_id = ${marketId} ORDER BY trade_id DESC LIMIT 1) AS last_at,
      (SELECT price_ticks FROM trades WHERE market_id = ${marketId} AND executed_at > ${since} ORDER BY trade_id LIMIT 1) AS open,
      w.high, w.low, w.volume_lots, w.quote_volume, w.n
    FROM (SELECT max(price_ticks) AS high, min(price_ticks) AS low, coalesce(sum(qty_lots), 0) AS volume_lots,
                 coalesce(sum(quote_amount), 0) AS quote_volume, count(*)::int AS n
          FROM trades WHERE market_id = ${marketId} AND executed_at > ${since}) w`;
  return {
    lastPriceTicks: big(r.last),
    lastTimeMs: r.last_at === null ? null : (r.last_at as Date).getTime(),
    openTicks: big(r.open),
    highTicks: big(r.high),
    lowTicks: big(r.low),
    volumeLots: BigInt(r.volume_lots),
    quoteVolume: BigInt(r.quote_volume),
    tradeCount: r.n,
  };
}

export interface CandleRow {
  readonly openTimeMs: number;
  readonly openTicks: bigint;
  readonly highTicks: bigint;
  readonly lowTicks: bigint;
  readonly closeTicks: bigint;
  readonly volumeLots: bigint;
  readonly quoteVolume: bigint;
  readonly tradeCount: number;
}

/** Candles of `intervalMs` whose open time is in [fromMs, toMs), oldest first; buckets without trades are absent. */
export async function candles(
  sql: Sql,
  marketId: number,
  intervalMs: number,
  fromMs: number,
  toMs: number,
): Promise<CandleRow[]> {
  // Trade time is whole milliseconds (the engine's command time), so the epoch in ms is an exact integer.
  const rows = await sql`
    SELECT (extract(epoch FROM executed_at) * 1000)::bigint / ${intervalMs} * ${intervalMs} AS t,
           (array_agg(price_ticks ORDER BY trade_id))[1] AS open, max(price_ticks) AS high, min(price_ticks) AS low,
           (array_agg(price_ticks ORDER BY trade_id DESC))[1] AS close,
           sum(qty_lots) AS volume_lots, sum(quote_amount) AS quote_volume, count(*)::int AS n
    FROM trades
    WHERE market_id = ${marketId} AND executed_at >= ${new Date(fromMs)} AND executed_at < ${new Date(toMs)}
    GROUP BY 1 ORDER BY 1`;
  return rows.map((r) => ({
    openTimeMs: Number(r.t),
    openTicks: BigInt(r.open),
    highTicks: BigInt(r.high),
    lowTicks: BigInt(r.low),
    closeTicks: BigInt(r.close),
    volumeLots: BigInt(r.volume_lots),
    quoteVolume: BigInt(r.quote_volume),
    tradeCount: r.n,
  }));
}
