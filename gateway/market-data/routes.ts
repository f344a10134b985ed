// Market data's REST routes. Markets, assets and depth come from the in-memory state (so depth and the WebSocket
// deltas share one sequence); trades, the ticker and candles from PostgreSQL. Input and output have schemas; a bad
// input is a 4xx with a stable code (the gateway's factory), never a 5xx.

import type { FastifyInstance } from 'fastify';
import type { Sql } from 'postgres';
import { formatUnits } from '../../engine/core/index.js';
import { gatewayError } from '../errors.js';
import type { MarketInfo } from '../units.js';
import { formatLots, formatPriceTicks, formatQuote } from '../units.js';
import { candles, recentTrades, ticker } from './history.js';
import { levels } from './messages.js';
import {
  AssetsReply,
  CANDLES_MAX,
  CANDLE_INTERVALS,
  CandlesQuery,
  CandlesReply,
  DepthQuery,
  DepthReply,
  ErrorReply,
  MarketsReply,
  SymbolParams,
  TickerReply,
  TradesQuery,
  TradesReply,
} from './schemas.js';
import type { CandlesQueryT, DepthQueryT, SymbolParamsT, TradesQueryT } from './schemas.js';
import type { BookView } from './service.js';

export interface RoutesOptions {
  readonly sql: Sql;
  readonly view: () => BookView | null;
  readonly nowMs: () => number;
}

const DAY_MS = 86_400_000;
const errors = { 400: ErrorReply, 404: ErrorReply, 503: ErrorReply };

function readyView(get: () => BookView | null): BookView {
  const view = get();
  if (view === null) throw gatewayError('EX_UNAVAILABLE', 'market data is starting; retry shortly');
  return view;
}

function marketOf(view: BookView, symbol: string): MarketInfo {
  const id = view.marketIdBySymbol.get(symbol);
  const m = id === undefined ? undefined : view.markets.get(id);
  if (m === undefined) throw gatewayError('EX_MARKET_UNKNOWN', `no market has the symbol ${symbol}`);
  return m;
}

export function marketJson(m: MarketInfo) {
  return {
    marketId: m.marketId,
    symbol: m.symbol,
    baseAsset: m.baseSymbol,
    quoteAsset: m.quoteSymbol,
    baseDecimals: m.baseDecimals,
    quoteDecimals: m.quoteDecimals,
    tickSize: formatUnits(m.tickSize, m.quoteDecimals),
    lotSize: formatUnits(m.lotSize, m.baseDecimals),
    minNotional: formatUnits(m.minNotional, m.quoteDecimals),
    makerFeeBps: m.makerFeeBps,
    takerFeeBps: m.takerFeeBps,
  };
}

const priceOrNull = (ticks: bigint | number | null | undefined, m: MarketInfo): string | null =>
  ticks === null || ticks === undefined ? null : formatPriceTicks(ticks, m);

export async function marketDataRoutes(app: FastifyInstance, opts: RoutesOptions): Promise<void> {
  const tags = ['market data'];
  // Market data is public (gateway/route-auth.ts: every route declares who may call it).
  const config = { auth: 'public' as const };

  app.get(
    '/v1/markets',
    {
      config,
      schema: {
        tags,
        summary: 'Markets with tick, lot, minimum notional and fees',
        response: { 200: MarketsReply, 503: ErrorReply },
      },
    },
    async () => {
      const view = readyView(opts.view);
      return { markets: [...view.markets.values()].sort((a, b) => a.marketId - b.marketId).map(marketJson) };
    },
  );

  app.get(
    '/v1/assets',
    {
      config,
      schema: { tags, summary: 'Assets with their decimals', response: { 200: AssetsReply, 503: ErrorReply } },
    },
    async () => {
      const view = readyView(opts.view);
      return {
        assets: [...view.assets.values()]
          .sort((a, b) => a.assetId - b.assetId)
          .map((a) => ({ assetId: a.assetId, symbol: a.symbol, decimals: a.decimals })),
      };
    },
  );

  app.get<{ Params: SymbolParamsT; Querystring: DepthQueryT }>(
    '/v1/markets/:symbol/depth',
    {
      config,
      schema: {
        tags,
        summary: 'Order book by price level, with its sequence number',
        params: SymbolParams,
        querystring: DepthQuery,
        response: { 200: DepthReply, ...errors },
      },
    },
    async (req) => {
      const view = readyView(opts.view);
      const m = marketOf(view, req.params.symbol);
      const book = view.books.get(m.marketId);
      if (book === undefined || book.seq < 0)
        throw gatewayError('EX_UNAVAILABLE', "this market's book is being synchronised; retry shortly");
      const s = book.snapshot(req.query.limit ?? 100);
      return { symbol: m.symbol, seq: s.seq, bids: levels(s.bids, m), asks: levels(s.asks, m) };
    },
  );

  app.get<{ Params: SymbolParamsT; Querystring: TradesQueryT }>(
    '/v1/markets/:symbol/trades',
    {
      config,
      schema: {
        tags,
        summary: 'Recent trades, newest first',
        params: SymbolParams,
        querystring: TradesQuery,
        response: { 200: TradesReply, ...errors },
      },
    },
    async (req) => {
      const m = marketOf(readyView(opts.view), req.params.symbol);
      const rows = await recentTrades(opts.sql, m.marketId, req.query.limit ?? 100, req.query.beforeTradeId ?? null);
      return {
        symbol: m.symbol,
        trades: rows.map((t) => ({
          tradeId: t.tradeId,
          seq: t.seq,
          price: formatPriceTicks(t.priceTicks, m),
          quantity: formatLots(t.qtyLots, m),
          quoteAmount: formatQuote(t.quoteAmount, m),
          takerSide: t.takerSide,
          timeMs: t.timeMs,
        })),
      };
    },
  );

  app.get<{ Params: SymbolParamsT }>(
    '/v1/markets/:symbol/ticker',
    {
      config,
      schema: {
        tags,
        summary: '24 hour statistics, last price and best bid and ask',
        params: SymbolParams,
        response: { 200: TickerReply, ...errors },
      },
    },
    async (req) => {
      const view = readyView(opts.view);
      const m = marketOf(view, req.params.symbol);
      const end = opts.nowMs();
      const r = await ticker(opts.sql, m.marketId, end - DAY_MS);
      const book = view.books.get(m.marketId);
      const top = book?.snapshot(1);
      const change =
        r.lastPriceTicks !== null && r.openTicks !== null && r.tradeCount > 0
          ? (r.lastPriceTicks - r.openTicks) * m.tickSize
          : null;
      return {
        symbol: m.symbol,
        windowStartMs: end - DAY_MS,
        windowEndMs: end,
        lastPrice: priceOrNull(r.lastPriceTicks, m),
        lastTradeTimeMs: r.lastTimeMs,
        open: priceOrNull(r.openTicks, m),
        high: priceOrNull(r.highTicks, m),
        low: priceOrNull(r.lowTicks, m),
        priceChange: change === null ? null : formatUnits(change, m.quoteDecimals),
        volume: formatLots(r.volumeLots, m),
        quoteVolume: formatQuote(r.quoteVolume, m),
        tradeCount: r.tradeCount,
        bestBid: priceOrNull(top?.bids[0]?.[0], m),
        bestAsk: priceOrNull(top?.asks[0]?.[0], m),
        seq: Math.max(top?.seq ?? 0, 0),
      };
    },
  );

  app.get<{ Params: SymbolParamsT; Querystring: CandlesQueryT }>(
    '/v1/markets/:symbol/candles',
    {
      config,
      schema: {
        tags,
        summary: 'OHLCV candles from the stored trades, oldest first',
        params: SymbolParams,
        querystring: CandlesQuery,
        response: { 200: CandlesReply, ...errors },
      },
    },
    async (req) => {
      const m = marketOf(readyView(opts.view), req.params.symbol);
      const intervalMs = CANDLE_INTERVALS[req.query.interval];
      const to = req.query.to ?? opts.nowMs();
      // Whole candles only: `from` goes back to the start of its interval.
      // The default is the last CANDLES_MAX candles, the current (partial) one included: rounded down below, a start
      // CANDLES_MAX whole intervals back would cover one candle too many and be refused.
      const fromRaw = req.query.from ?? Math.max(to - (CANDLES_MAX - 1) * intervalMs, 0);
      const from = fromRaw - (fromRaw % intervalMs);
      if (from >= to) throw gatewayError('EX_BAD_REQUEST', 'from must be before to');
      if ((to - from) / intervalMs > CANDLES_MAX)
        throw gatewayError(
          'EX_BAD_REQUEST',
          `the range covers more than ${CANDLES_MAX} candles of ${req.query.interval}`,
        );
      const rows = await candles(opts.sql, m.marketId, intervalMs, from, to);
      return {
        symbol: m.symbol,
        interval: req.query.interval,
        from,
        to,
        candles: rows.map((c) => ({
          openTimeMs: c.openTimeMs,
          open: formatPriceTicks(c.openTicks, m),
          high: formatPriceTicks(c.highTicks, m),
          low: formatPriceTicks(c.lowTicks, m),
          close: formatPriceTicks(c.closeTicks, m),
          volume: formatLots(c.volumeLots, m),
          quoteVolume: formatQuote(c.quoteVolume, m),
          tradeCount: c.tradeCount,
        })),
      };
    },
  );
}
