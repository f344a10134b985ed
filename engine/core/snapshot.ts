// Snapshots: the whole state as canonical bytes (JSON, keys in fixed order, collections sorted or in
// priority order), so equal states give equal bytes and equal hashes, however they were reached.

import type { EngineLimits } from './config.js';
import { MARKET_STATUSES } from './commands.js';
import { Engine } from './engine.js';
import type { ClientOrderRecord } from './engine.js';
import type { BookSide } from './book-side.js';
import { Order } from './order.js';
import type { Account, Market } from './order.js';
import { createMarket } from './admin.js';
import { addStop, register } from './matching.js';
import { assert } from './units.js';

/** 3 added market status and frozen users; a format-2 snapshot restores with every market trading and nobody frozen. */
export const SNAPSHOT_FORMAT = 3;
const READABLE_FORMATS: readonly number[] = [2, SNAPSHOT_FORMAT];

type OrderRow = [
  number,
  number,
  string,
  string,
  string,
  boolean,
  string,
  number,
  number,
  number,
  number,
  number,
  string,
  number,
  string,
  string | null,
  number,
];

function orderRow(o: Order): OrderRow {
  return [
    o.orderId,
    o.userId,
    o.side,
    o.orderType,
    o.timeInForce,
    o.postOnly,
    o.stp,
    o.priceTicks,
    o.stopPriceTicks,
    o.qtyLots,
    o.remainingLots,
    o.filledLots,
    o.quoteBudget.toString(),
    o.holdAssetId,
    o.held.toString(),
    o.clientOrderId,
    o.createdMs,
  ];
}

function sideRows(side: BookSide): OrderRow[] {
  const rows: OrderRow[] = [];
  side.forEachLevel((level) => {
    for (let o = level.head; o !== null; o = o.next) rows.push(orderRow(o));
  });
  return rows;
}

const big = (xs: bigint[]): string[] => xs.map((x) => x.toString());

export function snapshotObject(e: Engine): unknown {
  const markets = e.markets
    .filter((m): m is Market => m !== undefined)
    .map((m) => ({
      marketId: m.marketId,
      symbol: m.symbol,
      baseAssetId: m.baseAssetId,
      quoteAssetId: m.quoteAssetId,
      tickSize: m.tickSize.toString(),
      lotSize: m.lotSize.toString(),
      minNotional: m.minNotional.toString(),
      makerFeeBps: m.makerFeeBps,
      takerFeeBps: m.takerFeeBps,
      lastPriceTicks: m.lastPriceTicks,
      status: m.status,
      bids: sideRows(m.book.bids),
      asks: sideRows(m.book.asks),
      buyStops: sideRows(m.book.buyStops),
      sellStops: sideRows(m.book.sellStops),
    }));
  const sortedAccounts = [...e.accounts.values()].sort((a, b) => a.userId - b.userId);
  const accounts = sortedAccounts.map((a) => [a.userId, big(a.available), big(a.held), big(a.pending)]);
  const frozenUsers = sortedAccounts.filter((a) => a.frozen).map((a) => a.userId);
  const clientIds = [...e.clientOrderIds.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([userId, w]) => [userId, w.entries()])
    .filter(([, entries]) => (entries as unknown[]).length > 0);
  const withdrawals = [...e.withdrawals.values()]
    .sort((a, b) => (a.withdrawalId < b.withdrawalId ? -1 : 1))
    .map((w) => ({ ...w, amount: w.amount.toString() }));
  return {
    format: SNAPSHOT_FORMAT,
    limits: e.limits,
    counters: {
      nextOrderId: e.nextOrderId,
      nextTradeId: e.nextTradeId,
      eventSeq: e.eventSeq,
      commandsApplied: e.commandsApplied,
      lastTimeMs: e.lastTimeMs,
    },
    assets: e.assets.filter((a) => a !== undefined),
    markets,
    accounts,
    frozenUsers,
    feeBalances: big(e.feeBalances),
    depositedTotal: big(e.depositedTotal),
    withdrawnTotal: big(e.withdrawnTotal),
    clientOrderIds: clientIds,
    depositIds: e.depositIds.entries().map(([id, t]) => [id, t]),
    commandIds: e.commandIds.entries(),
    withdrawals,
  };
}

export function snapshot(e: Engine): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(snapshotObject(e)));
}

interface SnapshotData {
  format: number;
  limits: EngineLimits;
  counters: { nextOrderId: number; nextTradeId: number; eventSeq: number; commandsApplied: number; lastTimeMs: number };
  assets: Array<{ assetId: number; symbol: string; decimals: number }>;
  markets: Array<
    Record<string, unknown> & { bids: OrderRow[]; asks: OrderRow[]; buyStops: OrderRow[]; sellStops: OrderRow[] }
  >;
  accounts: Array<[number, string[], string[], string[]]>;
  /** Absent in format 2. */
  frozenUsers?: number[];
  feeBalances: string[];
  depositedTotal: string[];
  withdrawnTotal: string[];
  clientOrderIds: Array<[number, Array<[string, number, ClientOrderRecord]>]>;
  depositIds: Array<[string, number]>;
  commandIds: Array<[string, number]>;
  withdrawals: Array<{
    withdrawalId: string;
    userId: number;
    assetId: number;
    amount: string;
    destination: string;
    requestedMs: number;
  }>;
}

/** Rebuilds an engine from snapshot bytes; throws on anything malformed (the caller falls back to an older one). */
export function restore(bytes: Uint8Array): Engine {
  const data = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as SnapshotData;
  assert(READABLE_FORMATS.includes(data.format), `snapshot format ${data.format} is supported`);
  const e = new Engine(data.limits);
  Object.assign(e, data.counters);
  for (const a of data.assets) {
    e.assets[a.assetId] = { assetId: a.assetId, symbol: a.symbol, decimals: a.decimals };
    e.assetIdBySymbol.set(a.symbol, a.assetId);
  }
  data.feeBalances.forEach((x, i) => (e.feeBalances[i] = BigInt(x)));
  data.depositedTotal.forEach((x, i) => (e.depositedTotal[i] = BigInt(x)));
  data.withdrawnTotal.forEach((x, i) => (e.withdrawnTotal[i] = BigInt(x)));
  for (const [userId, available, held, pending] of data.accounts) {
    const account = e.accountFor(userId) as Account;
    available.forEach((x, i) => (account.available[i] = BigInt(x)));
    held.forEach((x, i) => (account.held[i] = BigInt(x)));
    pending.forEach((x, i) => (account.pending[i] = BigInt(x)));
  }
  for (const userId of data.frozenUsers ?? []) {
    const account = e.accounts.get(userId);
    assert(account !== undefined, `frozen user ${userId} has an account`);
    account.frozen = true;
  }
  for (const m of data.markets) restoreMarket(e, m);
  for (const [userId, entries] of data.clientOrderIds) {
    const w = e.clientWindow(userId);
    for (const [id, t, record] of entries) w.add(id, record, t);
  }
  for (const [id, t] of data.depositIds) e.depositIds.add(id, true, t);
  for (const [id, t] of data.commandIds) e.commandIds.add(id, t);
  for (const w of data.withdrawals) e.withdrawals.set(w.withdrawalId, { ...w, amount: BigInt(w.amount) });
  return e;
}

function restoreMarket(e: Engine, row: SnapshotData['markets'][number]): void {
  const m = createMarket(e, {
    marketId: row.marketId as number,
    symbol: row.symbol as string,
    baseAssetId: row.baseAssetId as number,
    quoteAssetId: row.quoteAssetId as number,
    tickSize: BigInt(row.tickSize as string),
    lotSize: BigInt(row.lotSize as string),
    minNotional: BigInt(row.minNotional as string),
    makerFeeBps: row.makerFeeBps as number,
    takerFeeBps: row.takerFeeBps as number,
  });
  m.lastPriceTicks = row.lastPriceTicks as number;
  const status = row.status ?? 'trading';
  assert((MARKET_STATUSES as readonly unknown[]).includes(status), `market ${m.marketId} has a known status`);
  m.status = status as Market['status'];
  e.markets[m.marketId] = m;
  e.marketIdBySymbol.set(m.symbol, m.marketId);
  for (const r of row.bids) m.book.bids.append(registered(e, m, r), r[7]);
  for (const r of row.asks) m.book.asks.append(registered(e, m, r), r[7]);
  for (const r of [...row.buyStops, ...row.sellStops]) {
    const o = registered(e, m, r);
    const account = e.accounts.get(o.userId) as Account;
    account.stopOrders++;
    e.stopOrdersTotal++;
    addStop(m, o);
  }
}

function registered(e: Engine, m: Market, r: OrderRow): Order {
  const o = new Order(
    r[0],
    r[1],
    m,
    r[2] as Order['side'],
    r[3] as Order['orderType'],
    r[4] as Order['timeInForce'],
    r[5],
    r[6] as Order['stp'],
    r[7],
    r[8],
    r[9],
    BigInt(r[12]),
    BigInt(r[14]),
    r[15],
    r[16],
  );
  // Derived in the order, stored in the row: a row that disagrees is not a snapshot this engine wrote.
  o.remainingLots = r[10];
  assert(o.filledLots === r[11], `order ${o.orderId}: filled lots are its quantity less what remains`);
  assert(o.holdAssetId === r[13], `order ${o.orderId}: holds the asset its side pays with`);
  const account = e.accounts.get(o.userId);
  assert(account !== undefined, `order ${o.orderId} has an account`);
  register(e, account, o);
  return o;
}
