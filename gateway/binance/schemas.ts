// TypeBox schemas of the Binance-compatible routes, for the OpenAPI document (tag "binance") and the serialiser.
// Inputs are Binance's: parameters in the query string or a form body, read by params.ts with Binance's error codes,
// so the input schemas document them (all strings, as sent) rather than refuse anything themselves.

import Type from 'typebox';
import type { TSchema } from 'typebox';

export const TAGS = ['binance'];
export const SECURITY: { [name: string]: string[] }[] = [{ binanceKey: [] }];

const str = (description?: string) => Type.String(description === undefined ? {} : { description });
const int = (description?: string) => Type.Integer(description === undefined ? {} : { description });

/** The documented parameters of a route; more are accepted (and ignored where Binance ignores them). */
export function params(fields: Record<string, string>, signed: boolean) {
  const props: Record<string, TSchema> = {};
  for (const [name, description] of Object.entries(fields)) props[name] = Type.Optional(str(description));
  if (signed) {
    props.timestamp = Type.Optional(str('Unix ms of the request; required on signed routes.'));
    props.recvWindow = Type.Optional(str('How old the timestamp may be, ms (default 5000, at most 60000).'));
    props.signature = Type.Optional(
      str("hex HMAC-SHA256 of the query string followed by the body, with the API key's secret."),
    );
  }
  return Type.Object(props, { additionalProperties: true });
}

export const BinanceErrorReply = Type.Object(
  { code: int('Binance error code (negative).'), msg: str() },
  { additionalProperties: true },
);
export const errorReplies = {
  400: BinanceErrorReply,
  401: BinanceErrorReply,
  403: BinanceErrorReply,
  404: BinanceErrorReply,
  429: BinanceErrorReply,
  503: BinanceErrorReply,
};

const Level = Type.Tuple([str('price'), str('quantity')]);
const open = (props: Record<string, TSchema>) => Type.Object(props, { additionalProperties: true });

export const Empty = open({});
export const ServerTime = open({ serverTime: int() });
export const Depth = open({
  lastUpdateId: int('The engine event seq of this book; depth stream events chain on it.'),
  bids: Type.Array(Level),
  asks: Type.Array(Level),
});
export const TradeItem = open({
  id: int(),
  price: str(),
  qty: str(),
  quoteQty: str(),
  time: int(),
  isBuyerMaker: Type.Boolean(),
  isBestMatch: Type.Boolean(),
});
export const AggTradeItem = open({
  a: int(),
  p: str(),
  q: str(),
  f: int(),
  l: int(),
  T: int(),
  m: Type.Boolean(),
  M: Type.Boolean(),
});
export const Kline = Type.Array(Type.Union([Type.Integer(), Type.String()]));
export const Ticker = open({
  symbol: str(),
  priceChange: str(),
  priceChangePercent: str(),
  weightedAvgPrice: str(),
  prevClosePrice: str(),
  lastPrice: str(),
  lastQty: str(),
  bidPrice: str(),
  bidQty: str(),
  askPrice: str(),
  askQty: str(),
  openPrice: str(),
  highPrice: str(),
  lowPrice: str(),
  volume: str(),
  quoteVolume: str(),
  openTime: int(),
  closeTime: int(),
  firstId: int(),
  lastId: int(),
  count: int(),
});
export const PriceTicker = open({ symbol: str(), price: str() });
export const BookTicker = open({ symbol: str(), bidPrice: str(), bidQty: str(), askPrice: str(), askQty: str() });
export const AvgPrice = open({ mins: int(), price: str(), closeTime: int() });
export const ExchangeInfo = open({
  timezone: str(),
  serverTime: int(),
  rateLimits: Type.Array(open({})),
  exchangeFilters: Type.Array(open({})),
  symbols: Type.Array(
    open({
      symbol: str(),
      status: str(),
      baseAsset: str(),
      quoteAsset: str(),
      filters: Type.Array(open({ filterType: str() })),
    }),
  ),
});

const Fill = open({ price: str(), qty: str(), commission: str(), commissionAsset: str(), tradeId: int() });
export const OrderReply = open({
  symbol: str(),
  orderId: int(),
  orderListId: int(),
  clientOrderId: str(),
  transactTime: Type.Optional(int()),
  price: Type.Optional(str()),
  origQty: Type.Optional(str()),
  executedQty: Type.Optional(str()),
  cummulativeQuoteQty: Type.Optional(str()),
  status: Type.Optional(str()),
  timeInForce: Type.Optional(str()),
  type: Type.Optional(str()),
  side: Type.Optional(str()),
  stopPrice: Type.Optional(str()),
  fills: Type.Optional(Type.Array(Fill)),
});
export const OrderList = Type.Array(OrderReply);
export const CancelReplaceReply = open({
  cancelResult: str(),
  newOrderResult: str(),
  cancelResponse: OrderReply,
  newOrderResponse: Type.Union([OrderReply, Type.Null()]),
});
export const MyTrade = open({
  symbol: str(),
  id: int(),
  orderId: int(),
  price: str(),
  qty: str(),
  quoteQty: str(),
  commission: str(),
  commissionAsset: str(),
  time: int(),
  isBuyer: Type.Boolean(),
  isMaker: Type.Boolean(),
});
export const Account = open({
  makerCommission: int(),
  takerCommission: int(),
  canTrade: Type.Boolean(),
  canWithdraw: Type.Boolean(),
  canDeposit: Type.Boolean(),
  updateTime: int(),
  accountType: str(),
  balances: Type.Array(open({ asset: str(), free: str(), locked: str() })),
  permissions: Type.Array(str()),
  uid: int(),
});
export const ListenKey = open({ listenKey: str() });
export const DepositAddress = open({ coin: str(), address: str(), tag: str(), url: str() });
export const DepositItem = open({
  id: str(),
  amount: str(),
  coin: str(),
  network: str(),
  status: int(),
  address: str(),
  addressTag: str(),
  txId: str(),
  insertTime: int(),
});
export const WithdrawApplied = open({ id: str() });
export const WithdrawItem = open({
  id: str(),
  amount: str(),
  transactionFee: str(),
  coin: str(),
  status: int(),
  address: str(),
  txId: str(),
  applyTime: str(),
  network: str(),
});
