// The API's objects as the page uses them (the OpenAPI document at /openapi.json is the reference).

// The domain's lists from their one source (a file without imports, so the bundle takes only these few lines).
import type { ORDER_TYPES, SIDES, STP_MODES, TIME_IN_FORCES } from '../../engine/core/formats.js';

export interface Market {
  marketId: number;
  symbol: string;
  baseAsset: string;
  quoteAsset: string;
  baseDecimals: number;
  quoteDecimals: number;
  tickSize: string;
  lotSize: string;
  minNotional: string;
  makerFeeBps: number;
  takerFeeBps: number;
}

export interface Ticker {
  symbol: string;
  lastPrice: string | null;
  open: string | null;
  priceChange: string | null;
  volume: string;
  quoteVolume: string;
  high: string | null;
  low: string | null;
}

export type Side = (typeof SIDES)[number];
export type OrderType = (typeof ORDER_TYPES)[number];
export type TimeInForce = (typeof TIME_IN_FORCES)[number];
export type StpMode = (typeof STP_MODES)[number];
export type Level = [string, string];

export interface Order {
  orderId: number;
  clientOrderId: string | null;
  marketId: number;
  market: string;
  side: Side;
  orderType: OrderType;
  timeInForce: string;
  postOnly: boolean;
  stp: string;
  status: string;
  closeReason: string | null;
  price: string | null;
  stopPrice: string | null;
  quantity: string | null;
  filledQuantity: string;
  remainingQuantity: string | null;
  quoteQuantity: string | null;
  filledQuote: string;
  feesPaid: string;
  avgFillPrice: string | null;
  createdAt: string;
}

export interface UserTrade {
  tradeId: number;
  orderId: number;
  market: string;
  side: Side;
  liquidity: 'maker' | 'taker';
  price: string;
  quantity: string;
  quoteAmount: string;
  fee: string;
  executedAt: string;
}

export interface Balance {
  asset: string;
  assetId: number;
  available: string;
  held: string;
  pending: string;
}

export interface MarketTrade {
  tradeId: number;
  price: string;
  quantity: string;
  takerSide: Side;
  timeMs: number;
}

export interface Withdrawal {
  withdrawalId: string;
  asset: string;
  amount: string;
  address: string;
  status: 'pending' | 'completed' | 'failed';
  txHash: string | null;
  failReason: string | null;
  requestedAt: string;
}

export interface IncomingDeposit {
  txHash: string;
  asset: string;
  amount: string;
  confirmations: number;
  requiredConfirmations: number | null;
}

export interface Deposit {
  depositId: string;
  asset: string;
  amount: string;
  creditedAt: string;
}

export interface ApiKey {
  keyId: string;
  label: string;
  scopes: string[];
  createdAt: string;
}

export interface Asset {
  assetId: number;
  symbol: string;
  decimals: number;
}

export interface WithdrawalAddress {
  addressId: string;
  address: string;
  label: string;
  createdAt: string;
  usableAt: string;
}
