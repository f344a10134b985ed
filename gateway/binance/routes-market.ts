// Binance's public market routes under /api/v3: ping, time, exchangeInfo, depth, trades, historicalTrades,
// aggTrades, klines (and uiKlines), ticker/24hr, ticker/price, ticker/bookTicker, avgPrice. Markets and depth come
// from the market-data state in memory (depth's lastUpdateId is the book's engine seq, the same sequence the depth
// stream's U/u come from); trades, klines and tickers from persistence's tables, as our own /v1 market routes.

import type { FastifyInstance } from 'fastify';
import { formatUnits } from '../../engine/core/index.js';
import { UINT256_MAX } from '../../engine/core/index.js';
import type { DepthBook } from '../market-data/depth-book.js';
import type { MarketInfo } from '../units.js';
import { formatLots, formatPriceTicks, formatQuote } from '../units.js';
import type { BinanceContext } from './context.js';
import { binanceSymbol, paramsOf } from './context.js';
import { binanceError } from './errors.js';
import { KLINE_INTERVALS, klineBounds, klines, ticker24h, trades } from './history.js';
import type { TradeRow } from './history.js';
import { integer, oneOf, optional, required, symbolList } from './params.js';
import { TIME_MS_MAX } from './params.js';
import type { Params } from './params.js';
import * as S from './schemas.js';
import { BINANCE_ORDER_TYPES, STP_MODES } from './views.js';

const DAY_MS = 86_400_000;
/** The largest engine range of prices and quantities: 2^53-1 ticks or lots. */
const ENGINE_UNITS_MAX = BigInt(Number.MAX_SAFE_INTEGER);
const SYMBOLS_MAX = 100;

const pub = { auth: 'public' as const };

export async function marketRoutes(app: FastifyInstance, opts: { b: BinanceContext }): Promise<void> {
  const b = opts.b;
  const sql = b.ctx.sql;
  const route = (summary: string, querystring: ReturnType<typeof S.params> | null, reply: unknown) =>
    ({
      config: pub,
      schema: {
        tags: S.TAGS,
        summary,
        ...(querystring === null ? {} : { querystring }),
        response: { 200: reply, ...S.errorReplies },
      },
    }) as const;

  app.get('/api/v3/ping', route('Test connectivity', null, S.Empty), async () => ({}));
  app.get('/api/v3/time', route('Server time', null, S.ServerTime), async () => ({ serverTime: b.nowMs() }));

  app.get(
    '/api/v3/exchangeInfo',
    route(
      'Markets with their filters (tick, lot, minimum notional), order types and STP modes',
      S.params({ symbol: 'One symbol', symbols: 'JSON array of symbols' }, false),
      S.ExchangeInfo,
    ),
    async (request) => {
      const markets = selectedMarkets(b, paramsOf(request)) ?? b.symbols.all();
      return {
        timezone: 'UTC',
        serverTime: b.nowMs(),
        rateLimits: [
          {
            rateLimitType: 'REQUEST_WEIGHT',
            interval: 'MINUTE',
            intervalNum: 1,
            limit: b.ctx.options.rateLimitIpPerMin,
          },
          { rateLimitType: 'ORDERS', interval: 'MINUTE', intervalNum: 1, limit: b.ctx.options.rateLimitKeyPerMin },
        ],
        exchangeFilters: [],
        symbols: markets.map(symbolInfo),
      };
    },
  );

  app.get(
    '/api/v3/depth',
    route(
      'Order book; lastUpdateId is the engine seq the depth stream continues from',
      S.params({ symbol: 'BASEQUOTE', limit: '1..5000 (100)' }, false),
      S.Depth,
    ),
    async (request) => {
      const p = paramsOf(request);
      const m = b.symbols.market(required(p, 'symbol'));
      const book = readyBook(b, m);
      const s = book.snapshot(integer(p, 'limit', 1, 5000) ?? 100);
      return {
        lastUpdateId: s.seq,
        bids: s.bids.map(([t, l]) => [formatPriceTicks(t, m), formatLots(l, m)]),
        asks: s.asks.map(([t, l]) => [formatPriceTicks(t, m), formatLots(l, m)]),
      };
    },
  );

  const tradeList = async (p: Params, withFromId: boolean) => {
    const m = b.symbols.market(required(p, 'symbol'));
    const rows = await trades(sql, m.marketId, {
      limit: integer(p, 'limit', 1, 1000) ?? 500,
      ...(withFromId ? { fromId: integer(p, 'fromId', 0, Number.MAX_SAFE_INTEGER) } : {}),
    });
    return rows.map((t) => tradeJson(t, m));
  };
  app.get(
    '/api/v3/trades',
    route('Recent trades, oldest first', S.params({ symbol: 'BASEQUOTE', limit: '1..1000 (500)' }, false), {
      type: 'array',
      items: S.TradeItem,
    }),
    async (request) => tradeList(paramsOf(request), false),
  );
  app.get(
    '/api/v3/historicalTrades',
    route(
      'Trades from an id',
      S.params({ symbol: 'BASEQUOTE', limit: '1..1000 (500)', fromId: 'first trade id' }, false),
      { type: 'array', items: S.TradeItem },
    ),
    async (request) => tradeList(paramsOf(request), true),
  );

  app.get(
    '/api/v3/aggTrades',
    route(
      "Trades as aggregate trades (one per trade: every fill is at the maker's price)",
      S.params(
        { symbol: 'BASEQUOTE', fromId: 'first id', startTime: 'ms', endTime: 'ms', limit: '1..1000 (500)' },
        false,
      ),
      { type: 'array', items: S.AggTradeItem },
    ),
    async (request) => {
      const p = paramsOf(request);
      const m = b.symbols.market(required(p, 'symbol'));
      const startTimeMs = integer(p, 'startTime', 0, TIME_MS_MAX);
      const endTimeMs = integer(p, 'endTime', 0, TIME_MS_MAX);
      const fromId = integer(p, 'fromId', 0, Number.MAX_SAFE_INTEGER);
      if (fromId !== undefined && (startTimeMs !== undefined || endTimeMs !== undefined))
        throw binanceError(
          'OPTIONAL_PARAMS_BAD_COMBO',
          'Combination of optional parameters invalid: fromId with startTime or endTime.',
        );
      if (startTimeMs !== undefined && endTimeMs !== undefined && endTimeMs - startTimeMs > 3_600_000)
        throw binanceError('MORE_THAN_XX_HOURS', 'More than 1 hours between startTime and endTime.');
      const rows = await trades(sql, m.marketId, {
        fromId,
        startTimeMs,
        endTimeMs,
        limit: integer(p, 'limit', 1, 1000) ?? 500,
      });
      return rows.map((t) => ({
        a: t.tradeId,
        p: formatPriceTicks(t.priceTicks, m),
        q: formatLots(t.qtyLots, m),
        f: t.tradeId,
        l: t.tradeId,
        T: t.timeMs,
        m: t.takerSide === 'sell',
        M: true,
      }));
    },
  );

  const klineRoute = async (request: { url: string }) => {
    const p = paramsOf(request as never);
    const m = b.symbols.market(required(p, 'symbol'));
    const interval = oneOf(p, 'interval', Object.keys(KLINE_INTERVALS), () =>
      binanceError('BAD_INTERVAL', 'Invalid interval.'),
    );
    if (interval === undefined)
      throw binanceError(
        'MANDATORY_PARAM_EMPTY_OR_MALFORMED',
        "Mandatory parameter 'interval' was not sent, was empty/null, or malformed.",
      );
    const rows = await klines(sql, m.marketId, interval, {
      startMs: integer(p, 'startTime', 0, TIME_MS_MAX),
      endMs: integer(p, 'endTime', 0, TIME_MS_MAX),
      limit: integer(p, 'limit', 1, 1000) ?? 500,
    });
    return rows.map((k) => [
      k.openMs,
      formatPriceTicks(k.openTicks, m),
      formatPriceTicks(k.highTicks, m),
      formatPriceTicks(k.lowTicks, m),
      formatPriceTicks(k.closeTicks, m),
      formatLots(k.volumeLots, m),
      klineBounds(interval, k.openMs).closeMs - 1,
      formatQuote(k.quoteVolume, m),
      k.count,
      formatLots(k.takerBuyLots, m),
      formatQuote(k.takerBuyQuote, m),
      '0',
    ]);
  };
  const klineQuery = S.params(
    {
      symbol: 'BASEQUOTE',
      interval: '1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M',
      startTime: 'ms',
      endTime: 'ms',
      limit: '1..1000 (500)',
    },
    false,
  );
  app.get(
    '/api/v3/klines',
    route('Candles (intervals without trades are absent)', klineQuery, { type: 'array', items: S.Kline }),
    klineRoute,
  );
  app.get('/api/v3/uiKlines', route('Candles, as klines', klineQuery, { type: 'array', items: S.Kline }), klineRoute);

  app.get(
    '/api/v3/ticker/24hr',
    route(
      '24 h statistics of one symbol, some or all',
      S.params({ symbol: 'BASEQUOTE', symbols: 'JSON array', type: 'FULL or MINI' }, false),
      {},
    ),
    async (request) => {
      const p = paramsOf(request);
      const one = optional(p, 'symbol');
      const markets = selectedMarkets(b, p) ?? b.symbols.all();
      const mini = oneOf(p, 'type', ['FULL', 'MINI']) === 'MINI';
      const out = [];
      for (const m of markets) out.push(await ticker(b, m, mini));
      return one === undefined ? out : out[0];
    },
  );

  app.get(
    '/api/v3/ticker/price',
    route('Last price', S.params({ symbol: 'BASEQUOTE', symbols: 'JSON array' }, false), {}),
    async (request) => {
      const p = paramsOf(request);
      const out = [];
      for (const m of selectedMarkets(b, p) ?? b.symbols.all()) {
        const [last] = await trades(sql, m.marketId, { limit: 1 });
        out.push({ symbol: binanceSymbol(m), price: last === undefined ? '0' : formatPriceTicks(last.priceTicks, m) });
      }
      return optional(p, 'symbol') === undefined ? out : out[0];
    },
  );

  app.get(
    '/api/v3/ticker/bookTicker',
    route('Best bid and ask', S.params({ symbol: 'BASEQUOTE', symbols: 'JSON array' }, false), {}),
    async (request) => {
      const p = paramsOf(request);
      const out = (selectedMarkets(b, p) ?? b.symbols.all()).map((m) => ({
        symbol: binanceSymbol(m),
        ...top(readyBook(b, m), m),
      }));
      return optional(p, 'symbol') === undefined ? out : out[0];
    },
  );

  app.get(
    '/api/v3/avgPrice',
    route('Average price of the last 5 minutes', S.params({ symbol: 'BASEQUOTE' }, false), S.AvgPrice),
    async (request) => {
      const m = b.symbols.market(required(paramsOf(request), 'symbol'));
      const now = b.nowMs();
      const rows = await trades(sql, m.marketId, { startTimeMs: now - 300_000, endTimeMs: now, limit: 100_000 });
      return {
        mins: 5,
        price: weightedAverage(
          rows.reduce((s, t) => s + t.quoteAmount, 0n),
          rows.reduce((s, t) => s + t.qtyLots, 0n),
          m,
        ),
        closeTime: rows.at(-1)?.timeMs ?? now,
      };
    },
  );
}

/** The markets named by `symbol` or `symbols`; null when neither was sent. */
function selectedMarkets(b: BinanceContext, p: Params): MarketInfo[] | null {
  const one = optional(p, 'symbol');
  const many = symbolList(p, 'symbols', SYMBOLS_MAX);
  if (one !== undefined && many !== undefined)
    throw binanceError('OPTIONAL_PARAMS_BAD_COMBO', 'Combination of optional parameters invalid: symbol and symbols.');
  if (one !== undefined) return [b.symbols.market(one)];
  return many === undefined ? null : many.map((s) => b.symbols.market(s));
}

function readyBook(b: BinanceContext, m: MarketInfo): DepthBook {
  const book = b.symbols.ready().books.get(m.marketId);
  if (book === undefined || book.seq < 0)
    throw binanceError('DISCONNECTED', 'Internal error; unable to process your request. Please try again.', 503);
  return book;
}

function top(book: DepthBook, m: MarketInfo) {
  const s = book.snapshot(1);
  const bid = s.bids[0];
  const ask = s.asks[0];
  return {
    bidPrice: bid === undefined ? '0' : formatPriceTicks(bid[0], m),
    bidQty: bid === undefined ? '0' : formatLots(bid[1], m),
    askPrice: ask === undefined ? '0' : formatPriceTicks(ask[0], m),
    askQty: ask === undefined ? '0' : formatLots(ask[1], m),
  };
}

function tradeJson(t: TradeRow, m: MarketInfo) {
  return {
    id: t.tradeId,
    price: formatPriceTicks(t.priceTicks, m),
    qty: formatLots(t.qtyLots, m),
    quoteQty: formatQuote(t.quoteAmount, m),
    time: t.timeMs,
    isBuyerMaker: t.takerSide === 'sell',
    isBestMatch: true,
  };
}

/** quote / base as a price in quote per whole base token, rounded down to the quote asset's decimals. */
function weightedAverage(quote: bigint, lots: bigint, m: MarketInfo): string {
  if (lots === 0n) return '0';
  const baseUnits = lots * m.lotSize;
  return formatUnits((quote * 10n ** BigInt(m.baseDecimals)) / baseUnits, m.quoteDecimals);
}

/** 100 x change / open with 3 decimals, rounded toward zero (Binance's display form). */
export function percent(changeTicks: bigint, openTicks: bigint): string {
  if (openTicks === 0n) return '0.000';
  const milli = (changeTicks * 100_000n) / openTicks;
  const sign = milli < 0n ? '-' : '';
  const abs = milli < 0n ? -milli : milli;
  return `${sign}${abs / 1000n}.${String(abs % 1000n).padStart(3, '0')}`;
}

async function ticker(b: BinanceContext, m: MarketInfo, mini: boolean) {
  return mini ? miniTicker(b, m) : fullTicker(b, m);
}

async function miniTicker(b: BinanceContext, m: MarketInfo) {
  return (await tickerParts(b, m)).common;
}

/** ticker/24hr's FULL answer (the @ticker stream's figures too). */
export async function fullTicker(b: BinanceContext, m: MarketInfo) {
  const { common, r, lastTicks, openTicks, price } = await tickerParts(b, m);
  const change = r.count === 0 ? 0n : lastTicks - openTicks;
  const book = b.symbols.ready().books.get(m.marketId);
  return {
    ...common,
    priceChange: formatUnits(change * m.tickSize, m.quoteDecimals),
    priceChangePercent: percent(change, openTicks),
    weightedAvgPrice: weightedAverage(r.quoteVolume, r.volumeLots, m),
    prevClosePrice: price(r.prevCloseTicks),
    lastQty: formatLots(r.last?.qtyLots ?? 0n, m),
    ...(book === undefined || book.seq < 0 ? { bidPrice: '0', bidQty: '0', askPrice: '0', askQty: '0' } : top(book, m)),
  };
}

async function tickerParts(b: BinanceContext, m: MarketInfo) {
  const end = b.nowMs();
  const r = await ticker24h(b.ctx.sql, m.marketId, end - DAY_MS);
  const lastTicks = r.last?.priceTicks ?? 0n;
  const openTicks = r.openTicks ?? lastTicks;
  const price = (t: bigint | null) => formatPriceTicks(t ?? 0n, m);
  const common = {
    symbol: binanceSymbol(m),
    openPrice: price(openTicks),
    highPrice: price(r.highTicks ?? lastTicks),
    lowPrice: price(r.lowTicks ?? lastTicks),
    lastPrice: price(lastTicks),
    volume: formatLots(r.volumeLots, m),
    quoteVolume: formatQuote(r.quoteVolume, m),
    openTime: end - DAY_MS,
    closeTime: end,
    firstId: r.firstId ?? -1,
    lastId: r.lastId ?? -1,
    count: r.count,
  };
  return { common, r, lastTicks, openTicks, price };
}

/** One symbol of exchangeInfo: filters from the market's tick, lot and minimum notional, in market units. */
export function symbolInfo(m: MarketInfo) {
  const tick = formatUnits(m.tickSize, m.quoteDecimals);
  const lot = formatUnits(m.lotSize, m.baseDecimals);
  const maxPrice = formatUnits(minBig(ENGINE_UNITS_MAX * m.tickSize, UINT256_MAX), m.quoteDecimals);
  const maxQty = formatUnits(minBig(ENGINE_UNITS_MAX * m.lotSize, UINT256_MAX), m.baseDecimals);
  const minNotional = formatUnits(m.minNotional, m.quoteDecimals);
  return {
    symbol: binanceSymbol(m),
    status: 'TRADING',
    baseAsset: m.baseSymbol,
    baseAssetPrecision: m.baseDecimals,
    quoteAsset: m.quoteSymbol,
    quotePrecision: m.quoteDecimals,
    quoteAssetPrecision: m.quoteDecimals,
    baseCommissionPrecision: m.baseDecimals,
    quoteCommissionPrecision: m.quoteDecimals,
    orderTypes: [...BINANCE_ORDER_TYPES],
    icebergAllowed: false,
    ocoAllowed: false,
    otoAllowed: false,
    quoteOrderQtyMarketAllowed: true,
    allowTrailingStop: false,
    cancelReplaceAllowed: true,
    amendAllowed: false,
    isSpotTradingAllowed: true,
    isMarginTradingAllowed: false,
    filters: [
      { filterType: 'PRICE_FILTER', minPrice: tick, maxPrice, tickSize: tick },
      { filterType: 'LOT_SIZE', minQty: lot, maxQty, stepSize: lot },
      { filterType: 'MARKET_LOT_SIZE', minQty: lot, maxQty, stepSize: lot },
      {
        filterType: 'NOTIONAL',
        minNotional,
        applyMinToMarket: true,
        maxNotional: formatUnits(UINT256_MAX, m.quoteDecimals),
        applyMaxToMarket: false,
        avgPriceMins: 0,
      },
      { filterType: 'MIN_NOTIONAL', minNotional, applyToMarket: true, avgPriceMins: 0 },
    ],
    permissions: ['SPOT'],
    permissionSets: [['SPOT']],
    defaultSelfTradePreventionMode: 'NONE',
    allowedSelfTradePreventionModes: Object.keys(STP_MODES),
  };
}

const minBig = (a: bigint, b: bigint): bigint => (a < b ? a : b);
