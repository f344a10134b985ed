// TypeBox schemas of market data's REST routes (input and output) and of its WebSocket messages (both ways).
// Prices and quantities are decimal strings in market units; sequence numbers and times are integers.

import Type from 'typebox';
import type { Static } from 'typebox';
import { MARKET_SYMBOL_PATTERN, SIDES } from '../../engine/core/index.js';

const Decimal = Type.String({
  pattern: '^(0|[1-9][0-9]*)(\\.[0-9]+)?$',
  description: 'Exact decimal in market units, e.g. "1850.25".',
});
const NullableDecimal = Type.Union([Decimal, Type.Null()]);
const Symbol = Type.String({ pattern: MARKET_SYMBOL_PATTERN });
const SafeUint = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const LevelSchema = Type.Array(Decimal, {
  minItems: 2,
  maxItems: 2,
  description: '[price, quantity]; quantity "0" in a delta removes the level.',
});
const Side = Type.Enum(SIDES);

export const AssetSchema = Type.Object(
  {
    assetId: SafeUint,
    symbol: Type.String(),
    decimals: Type.Integer({ minimum: 0, maximum: 36 }),
  },
  { additionalProperties: false },
);

export const MarketSchema = Type.Object(
  {
    marketId: SafeUint,
    symbol: Type.String(),
    baseAsset: Type.String(),
    quoteAsset: Type.String(),
    baseDecimals: Type.Integer(),
    quoteDecimals: Type.Integer(),
    tickSize: Decimal,
    lotSize: Decimal,
    minNotional: Decimal,
    makerFeeBps: Type.Integer({ minimum: 0 }),
    takerFeeBps: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);

export const MarketsReply = Type.Object({ markets: Type.Array(MarketSchema) }, { additionalProperties: false });
export const AssetsReply = Type.Object({ assets: Type.Array(AssetSchema) }, { additionalProperties: false });

export const SymbolParams = Type.Object({ symbol: Symbol }, { additionalProperties: false });
export type SymbolParamsT = Static<typeof SymbolParams>;

export const DEPTH_LIMIT_MAX = 5000;
export const DepthQuery = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: DEPTH_LIMIT_MAX, default: 100 })) },
  { additionalProperties: false },
);
export type DepthQueryT = Static<typeof DepthQuery>;
export const DepthReply = Type.Object(
  {
    symbol: Type.String(),
    seq: SafeUint,
    bids: Type.Array(LevelSchema),
    asks: Type.Array(LevelSchema),
  },
  {
    additionalProperties: false,
    description: 'The book after the engine event `seq`; WebSocket deltas continue from it (prevSeq = seq).',
  },
);

export const TRADES_LIMIT_MAX = 1000;
export const TradesQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: TRADES_LIMIT_MAX, default: 100 })),
    beforeTradeId: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
  },
  { additionalProperties: false },
);
export type TradesQueryT = Static<typeof TradesQuery>;
export const TradeSchema = Type.Object(
  {
    tradeId: SafeUint,
    seq: SafeUint,
    price: Decimal,
    quantity: Decimal,
    quoteAmount: Decimal,
    takerSide: Side,
    timeMs: SafeUint,
  },
  { additionalProperties: false },
);
export const TradesReply = Type.Object(
  { symbol: Type.String(), trades: Type.Array(TradeSchema) },
  { additionalProperties: false },
);

export const TickerReply = Type.Object(
  {
    symbol: Type.String(),
    windowStartMs: SafeUint,
    windowEndMs: SafeUint,
    lastPrice: NullableDecimal,
    lastTradeTimeMs: Type.Union([SafeUint, Type.Null()]),
    open: NullableDecimal,
    high: NullableDecimal,
    low: NullableDecimal,
    priceChange: Type.Union([Type.String({ pattern: '^-?(0|[1-9][0-9]*)(\\.[0-9]+)?$' }), Type.Null()]),
    volume: Decimal,
    quoteVolume: Decimal,
    tradeCount: SafeUint,
    bestBid: NullableDecimal,
    bestAsk: NullableDecimal,
    seq: SafeUint,
  },
  { additionalProperties: false },
);

export const CANDLE_INTERVALS = { '1m': 60_000, '5m': 300_000, '1h': 3_600_000, '1d': 86_400_000 } as const;
export type CandleInterval = keyof typeof CANDLE_INTERVALS;
export const CANDLES_MAX = 1000;
/** Times are Unix milliseconds; 2^47 ms is the year 6429, far enough and well within safe integers. */
const TimeMs = Type.Integer({ minimum: 0, maximum: 2 ** 47 });
export const CandlesQuery = Type.Object(
  {
    interval: Type.Union(Object.keys(CANDLE_INTERVALS).map((k) => Type.Literal(k))),
    from: Type.Optional(TimeMs),
    to: Type.Optional(TimeMs),
  },
  { additionalProperties: false },
);
export type CandlesQueryT = { interval: CandleInterval; from?: number; to?: number };
export const CandleSchema = Type.Object(
  {
    openTimeMs: SafeUint,
    open: Decimal,
    high: Decimal,
    low: Decimal,
    close: Decimal,
    volume: Decimal,
    quoteVolume: Decimal,
    tradeCount: SafeUint,
  },
  { additionalProperties: false },
);
export const CandlesReply = Type.Object(
  {
    symbol: Type.String(),
    interval: Type.String(),
    from: SafeUint,
    to: SafeUint,
    candles: Type.Array(CandleSchema),
  },
  { additionalProperties: false },
);

export const ErrorReply = Type.Object({ code: Type.String(), message: Type.String() });

// ---------------------------------------------------------------------------------------------------------------
// WebSocket: what a client sends

const RequestId = Type.Optional(
  Type.Union([Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }), Type.String({ maxLength: 64 })]),
);
export const ClientMessage = Type.Union([
  Type.Object(
    {
      op: Type.Union([Type.Literal('subscribe'), Type.Literal('unsubscribe')]),
      channel: Type.String({ minLength: 1, maxLength: 64 }),
      id: RequestId,
    },
    { additionalProperties: false },
  ),
  Type.Object({ op: Type.Literal('ping'), id: RequestId }, { additionalProperties: false }),
]);
export type ClientMessageT = Static<typeof ClientMessage>;

// WebSocket: what the server sends (documentation and tests; the server builds them in messages.ts)
const Id = Type.Optional(Type.Union([Type.Integer(), Type.String(), Type.Null()]));
export const ServerMessages = {
  subscribed: Type.Object(
    { type: Type.Literal('subscribed'), channel: Type.String(), id: Id },
    { additionalProperties: false },
  ),
  unsubscribed: Type.Object(
    { type: Type.Literal('unsubscribed'), channel: Type.String(), id: Id },
    { additionalProperties: false },
  ),
  pong: Type.Object({ type: Type.Literal('pong'), id: Id }, { additionalProperties: false }),
  error: Type.Object(
    {
      type: Type.Literal('error'),
      code: Type.String(),
      message: Type.String(),
      id: Id,
      channel: Type.Optional(Type.String()),
    },
    { additionalProperties: false },
  ),
  depthSnapshot: Type.Object(
    {
      type: Type.Literal('depthSnapshot'),
      channel: Type.String(),
      symbol: Type.String(),
      seq: SafeUint,
      bids: Type.Array(LevelSchema),
      asks: Type.Array(LevelSchema),
    },
    { additionalProperties: false },
  ),
  depth: Type.Object(
    {
      type: Type.Literal('depth'),
      channel: Type.String(),
      symbol: Type.String(),
      prevSeq: SafeUint,
      seq: SafeUint,
      bids: Type.Array(LevelSchema),
      asks: Type.Array(LevelSchema),
    },
    { additionalProperties: false },
  ),
  trade: Type.Object(
    {
      type: Type.Literal('trade'),
      channel: Type.String(),
      symbol: Type.String(),
      tradeId: SafeUint,
      seq: SafeUint,
      price: Decimal,
      quantity: Decimal,
      takerSide: Side,
      timeMs: SafeUint,
    },
    { additionalProperties: false },
  ),
  user: Type.Object(
    {
      type: Type.Literal('user'),
      channel: Type.Literal('user'),
      event: Type.String(),
      seq: SafeUint,
      timeMs: SafeUint,
    },
    { additionalProperties: true },
  ),
} as const;
