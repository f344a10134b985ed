// Rows as PostgreSQL COPY text: one line per row, tab-separated, \N for NULL. Pure; the writer streams the text.

import type {
  AssetRow,
  BalanceRow,
  DepositRow,
  EntryRow,
  LedgerBalanceRow,
  MarketRow,
  OrderRow,
  RejectionRow,
  TradeRow,
  UserRow,
  WithdrawalRow,
} from './rows.js';

const NULL = '\\N';
const SPECIAL = /[\\\t\n\r]/;

export function text(s: string | null): string {
  if (s === null) return NULL;
  return SPECIAL.test(s)
    ? s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r')
    : s;
}

let cachedSecond = Number.NaN;
let cachedPrefix = '';
/**
 * Engine time (ms) as an ISO timestamp. An order row carries up to four different times, so caching the last one
 * alone missed often; the `YYYY-MM-DDTHH:MM:SS.` of the last second is cached and the milliseconds appended.
 */
export function time(ms: number | null): string {
  if (ms === null) return NULL;
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond) {
    const iso = new Date(second * 1000).toISOString();
    // Years outside 0000-9999 print as +YYYYYY: not worth a cache, and never the engine's clock.
    if (iso.length !== 24) return new Date(ms).toISOString();
    cachedSecond = second;
    cachedPrefix = iso.slice(0, 20);
  }
  const milli = ms - second * 1000;
  return cachedPrefix + (milli < 10 ? '00' : milli < 100 ? '0' : '') + milli + 'Z';
}

export interface CopyTable<R> {
  readonly table: string;
  readonly columns: readonly string[];
  line(row: R): string;
}

export const USERS: CopyTable<UserRow> = {
  table: 'users',
  columns: ['user_id', 'first_seen_seq', 'first_seen_at'],
  line: (r) => `${r.userId}\t${r.firstSeenSeq}\t${time(r.firstSeenMs)}\n`,
};

export const ASSETS: CopyTable<AssetRow> = {
  table: 'assets',
  columns: ['asset_id', 'symbol', 'decimals', 'created_seq', 'created_at'],
  line: (r) => `${r.assetId}\t${text(r.symbol)}\t${r.decimals}\t${r.createdSeq}\t${time(r.createdMs)}\n`,
};

export const MARKETS: CopyTable<MarketRow> = {
  table: 'markets',
  columns: [
    'market_id',
    'symbol',
    'base_asset_id',
    'quote_asset_id',
    'tick_size',
    'lot_size',
    'min_notional',
    'maker_fee_bps',
    'taker_fee_bps',
    'created_seq',
    'created_at',
  ],
  line: (r) =>
    `${r.marketId}\t${text(r.symbol)}\t${r.baseAssetId}\t${r.quoteAssetId}\t${r.tickSize}\t${r.lotSize}\t${r.minNotional}\t${r.makerFeeBps}\t${r.takerFeeBps}\t${r.createdSeq}\t${time(r.createdMs)}\n`,
};

export const ORDER_COLUMNS = [
  'order_id',
  'user_id',
  'market_id',
  'client_order_id',
  'side',
  'order_type',
  'time_in_force',
  'post_only',
  'stp',
  'status',
  'close_reason',
  'price_ticks',
  'price',
  'stop_price_ticks',
  'stop_price',
  'original_qty_lots',
  'qty_lots',
  'filled_lots',
  'remaining_lots',
  'original_quantity',
  'filled_quantity',
  'remaining_quantity',
  'quote_quantity',
  'filled_quote',
  'fees_paid',
  'avg_fill_price',
  'hold_asset_id',
  'held',
  'trades_count',
  'created_seq',
  'created_at',
  'updated_seq',
  'updated_at',
  'triggered_at',
  'closed_at',
] as const;

export const ORDERS: CopyTable<OrderRow> = {
  table: 'orders',
  columns: ORDER_COLUMNS,
  line: (r) =>
    `${r.orderId}\t${r.userId}\t${r.marketId}\t${text(r.clientOrderId)}\t${r.side}\t${r.orderType}\t${r.timeInForce}\t${r.postOnly ? 't' : 'f'}\t${r.stp}\t${r.status}\t${text(r.closeReason)}\t` +
    `${r.priceTicks}\t${r.price}\t${r.stopPriceTicks}\t${r.stopPrice}\t${r.originalQtyLots}\t${r.qtyLots}\t${r.filledLots}\t${r.remainingLots}\t` +
    `${r.originalQuantity}\t${r.filledQuantity}\t${r.remainingQuantity}\t${r.quoteQuantity}\t${r.filledQuote}\t${r.feesPaid}\t${r.avgFillPrice ?? NULL}\t` +
    `${r.holdAssetId}\t${r.held}\t${r.tradesCount}\t${r.createdSeq}\t${time(r.createdMs)}\t${r.updatedSeq}\t${time(r.updatedMs)}\t${time(r.triggeredMs)}\t${time(r.closedMs)}\n`,
};

export const REJECTIONS: CopyTable<RejectionRow> = {
  table: 'order_rejections',
  columns: ['seq', 'cmd_id', 'user_id', 'market_id', 'client_order_id', 'code', 'rejected_at'],
  line: (r) =>
    `${r.seq}\t${text(r.cmdId)}\t${r.userId}\t${r.marketId}\t${text(r.clientOrderId)}\t${r.code}\t${time(r.rejectedMs)}\n`,
};

export const TRADES: CopyTable<TradeRow> = {
  table: 'trades',
  columns: [
    'trade_id',
    'seq',
    'market_id',
    'price_ticks',
    'price',
    'qty_lots',
    'base_amount',
    'quote_amount',
    'taker_side',
    'maker_order_id',
    'taker_order_id',
    'maker_user_id',
    'taker_user_id',
    'maker_fee',
    'taker_fee',
    'executed_at',
  ],
  line: (r) =>
    `${r.tradeId}\t${r.seq}\t${r.marketId}\t${r.priceTicks}\t${r.price}\t${r.qtyLots}\t${r.baseAmount}\t${r.quoteAmount}\t${r.takerSide}\t` +
    `${r.makerOrderId}\t${r.takerOrderId}\t${r.makerUserId}\t${r.takerUserId}\t${r.makerFee}\t${r.takerFee}\t${time(r.executedMs)}\n`,
};

export const DEPOSITS: CopyTable<DepositRow> = {
  table: 'deposits',
  columns: ['deposit_id', 'user_id', 'asset_id', 'amount', 'status', 'seq', 'credited_at'],
  line: (r) =>
    `${text(r.depositId)}\t${r.userId}\t${r.assetId}\t${r.amount}\tcredited\t${r.seq}\t${time(r.creditedMs)}\n`,
};

export const ENTRIES: CopyTable<EntryRow> = {
  table: 'ledger_entries',
  columns: [
    'seq',
    'n',
    'asset_id',
    'debit_kind',
    'debit_user',
    'credit_kind',
    'credit_user',
    'amount',
    'reason',
    'ref_id',
    'posted_at',
  ],
  line: (r) =>
    `${r.seq}\t${r.n}\t${r.assetId}\t${r.debitKind}\t${r.debitUser}\t${r.creditKind}\t${r.creditUser}\t${r.amount}\t${r.reason}\t${text(r.refId)}\t${time(r.postedMs)}\n`,
};

export const BALANCES: CopyTable<BalanceRow> = {
  table: 'balances',
  columns: ['user_id', 'asset_id', 'available', 'held', 'pending', 'updated_seq', 'updated_at'],
  line: (r) =>
    `${r.userId}\t${r.assetId}\t${r.available}\t${r.held}\t${r.pending}\t${r.updatedSeq}\t${time(r.updatedMs)}\n`,
};

export const LEDGER_BALANCES: CopyTable<LedgerBalanceRow> = {
  table: 'ledger_balances',
  columns: ['kind', 'user_id', 'asset_id', 'balance', 'updated_seq'],
  line: (r) => `${r.kind}\t${r.userId}\t${r.assetId}\t${r.balance}\t${r.updatedSeq}\n`,
};

export const WITHDRAWALS: CopyTable<WithdrawalRow> = {
  table: 'withdrawals',
  columns: [
    'withdrawal_id',
    'user_id',
    'asset_id',
    'amount',
    'destination',
    'status',
    'tx_hash',
    'fail_reason',
    'requested_seq',
    'requested_at',
    'finished_seq',
    'finished_at',
  ],
  line: (r) =>
    `${text(r.withdrawalId)}\t${r.userId}\t${r.assetId}\t${r.amount}\t${text(r.destination)}\t${r.status}\t${text(r.txHash)}\t${text(r.failReason)}\t` +
    `${r.requestedSeq}\t${time(r.requestedMs)}\t${r.finishedSeq ?? NULL}\t${time(r.finishedMs)}\n`,
};
