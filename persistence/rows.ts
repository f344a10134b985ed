// Rows the projection produces, one interface per table (see migrations/0001_persistence.sql). Times are the
// engine's command time in ms; money is bigint base units; ticks and lots are safe integers.

export interface UserRow {
  userId: number;
  firstSeenSeq: number;
  firstSeenMs: number;
}

export interface AssetRow {
  assetId: number;
  symbol: string;
  decimals: number;
  createdSeq: number;
  createdMs: number;
}

export interface MarketRow {
  marketId: number;
  symbol: string;
  baseAssetId: number;
  quoteAssetId: number;
  tickSize: bigint;
  lotSize: bigint;
  minNotional: bigint;
  makerFeeBps: number;
  takerFeeBps: number;
  createdSeq: number;
  createdMs: number;
}

export type OrderStatus = 'pendingTrigger' | 'new' | 'partiallyFilled' | 'filled' | 'canceled' | 'expired';

export interface OrderRow {
  orderId: number;
  userId: number;
  marketId: number;
  clientOrderId: string | null;
  side: string;
  orderType: string;
  timeInForce: string;
  postOnly: boolean;
  stp: string;
  status: OrderStatus;
  closeReason: string | null;
  priceTicks: number;
  price: bigint;
  stopPriceTicks: number;
  stopPrice: bigint;
  originalQtyLots: number;
  qtyLots: number;
  filledLots: number;
  remainingLots: number;
  originalQuantity: bigint;
  filledQuantity: bigint;
  remainingQuantity: bigint;
  quoteQuantity: bigint;
  filledQuote: bigint;
  feesPaid: bigint;
  avgFillPrice: string | null;
  holdAssetId: number;
  held: bigint;
  tradesCount: number;
  createdSeq: number;
  createdMs: number;
  updatedSeq: number;
  updatedMs: number;
  triggeredMs: number | null;
  closedMs: number | null;
}

/** A market's status as last set (setMarketStatus). */
export interface MarketStatusRow {
  marketId: number;
  status: string;
  seq: number;
}

/** A user's frozen flag as last set (setUserFrozen). */
export interface UserFrozenRow {
  userId: number;
  frozen: boolean;
  seq: number;
}

export interface RejectionRow {
  seq: number;
  cmdId: string;
  userId: number;
  marketId: number;
  clientOrderId: string | null;
  code: string;
  rejectedMs: number;
}

export interface TradeRow {
  tradeId: number;
  seq: number;
  marketId: number;
  priceTicks: number;
  price: bigint;
  qtyLots: number;
  baseAmount: bigint;
  quoteAmount: bigint;
  takerSide: string;
  makerOrderId: number;
  takerOrderId: number;
  makerUserId: number;
  takerUserId: number;
  makerFee: bigint;
  takerFee: bigint;
  executedMs: number;
}

export interface BalanceRow {
  userId: number;
  assetId: number;
  available: bigint;
  held: bigint;
  pending: bigint;
  updatedSeq: number;
  updatedMs: number;
}

export interface DepositRow {
  depositId: string;
  userId: number;
  assetId: number;
  amount: bigint;
  seq: number;
  creditedMs: number;
}

export interface WithdrawalRow {
  withdrawalId: string;
  userId: number;
  assetId: number;
  amount: bigint;
  destination: string;
  status: 'pending' | 'completed' | 'failed';
  txHash: string | null;
  failReason: string | null;
  requestedSeq: number;
  requestedMs: number;
  finishedSeq: number | null;
  finishedMs: number | null;
}

export interface EntryRow {
  seq: number;
  n: number;
  assetId: number;
  debitKind: number;
  debitUser: number;
  creditKind: number;
  creditUser: number;
  amount: bigint;
  reason: string;
  refId: string;
  postedMs: number;
}

export interface LedgerBalanceRow {
  kind: number;
  userId: number;
  assetId: number;
  balance: bigint;
  updatedSeq: number;
}

export interface Position {
  lastSeq: number;
  sourceOffset: number;
  commandsApplied: number;
}

/** Everything one batch writes, in one transaction. Upserted sets hold each key once, with its final state. */
export interface RowSets {
  users: UserRow[];
  assets: AssetRow[];
  markets: MarketRow[];
  /** Status and frozen flags changed in this batch (markets and users rows exist by then), the last per key. */
  marketStatuses: MarketStatusRow[];
  userFrozen: UserFrozenRow[];
  /** Orders first seen in this batch (inserted) and orders that existed before it (updated). */
  newOrders: OrderRow[];
  changedOrders: OrderRow[];
  rejections: RejectionRow[];
  trades: TradeRow[];
  balances: BalanceRow[];
  deposits: DepositRow[];
  withdrawals: WithdrawalRow[];
  entries: EntryRow[];
  ledgerBalances: LedgerBalanceRow[];
  /** Where the batch ends; `previous` is where it started (the writer checks it against the stored one). */
  position: Position;
  previous: Position;
  events: number;
}
