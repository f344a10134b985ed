// Snapshots: the whole state as canonical bytes (keys in fixed order, collections sorted or in priority order), so
// equal states give equal bytes and equal hashes, however they were reached.
//
// Format 4 (written since issue 17): binary. bytes 0..4 "EXSB", u32 format, then a length-prefixed JSON head with
// the small, irregular parts (limits, counters, assets, markets without their orders, accounts, windows), then the
// bulk in fixed-width binary: each market's bids, asks, buy stops and sell stops (a count, then one row per order
// in priority order) and the command ids (a count, their times, then the ids joined by '\n'). A cold restart with
// a million resting orders spent 4.7 s of its 6.6 s restore in JSON.parse of the format-3 text.
// Formats 2 and 3 (JSON text, starting with '{') are still read; anything else is rejected by format number.

import type { EngineLimits } from './config.js';
import { MARKET_STATUSES } from './commands.js';
import { Engine } from './engine.js';
import type { ClientOrderRecord } from './engine.js';
import type { BookSide, Level } from './book-side.js';
import { ORDER_TYPES, SIDES, STP_MODES, TIME_IN_FORCES } from './formats.js';
import { Order } from './order.js';
import type { Account, Market } from './order.js';
import { createMarket } from './admin.js';
import { addStop, register } from './matching.js';
import { ByteReader, ByteWriter } from './snapshot-binary.js';
import type { CommandIdMemory } from './command-ids.js';
import { assert } from './units.js';

/** 4: binary (above); 3 added market status and frozen users; a format-2 snapshot restores with every market
 * trading and nobody frozen. */
export const SNAPSHOT_FORMAT = 4;
const JSON_FORMATS: readonly number[] = [2, 3];
const MAGIC = [0x45, 0x58, 0x53, 0x42]; // "EXSB"; a JSON snapshot starts with '{'
/** Bytes per order row in format 4, for sizing the writer once (clientOrderIds and big bigints grow it). */
const ORDER_ROW_BYTES = 80;

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

const liveMarkets = (e: Engine): Market[] => e.markets.filter((m): m is Market => m !== undefined);
const SIDE_NAMES = ['bids', 'asks', 'buyStops', 'sellStops'] as const;
const sidesOf = (m: Market): BookSide[] => SIDE_NAMES.map((name) => m.book[name]);

function marketHead(m: Market): Record<string, unknown> {
  return {
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
  };
}

/** Everything but the orders and the command ids, in the key order of format 3 (withdrawals come last). */
function headParts(e: Engine): {
  before: Record<string, unknown>;
  after: Record<string, unknown>;
  withdrawals: unknown[];
} {
  const sortedAccounts = [...e.accounts.values()].sort((a, b) => a.userId - b.userId);
  const clientIds = [...e.clientOrderIds.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([userId, w]) => [userId, w.entries()])
    .filter(([, entries]) => (entries as unknown[]).length > 0);
  const withdrawals = [...e.withdrawals.values()]
    .sort((a, b) => (a.withdrawalId < b.withdrawalId ? -1 : 1))
    .map((w) => ({ ...w, amount: w.amount.toString() }));
  return {
    withdrawals,
    before: {
      limits: e.limits,
      counters: {
        nextOrderId: e.nextOrderId,
        nextTradeId: e.nextTradeId,
        eventSeq: e.eventSeq,
        commandsApplied: e.commandsApplied,
        lastTimeMs: e.lastTimeMs,
      },
      assets: e.assets.filter((a) => a !== undefined),
    },
    after: {
      accounts: sortedAccounts.map((a) => [a.userId, big(a.available), big(a.held), big(a.pending)]),
      frozenUsers: sortedAccounts.filter((a) => a.frozen).map((a) => a.userId),
      feeBalances: big(e.feeBalances),
      depositedTotal: big(e.depositedTotal),
      withdrawnTotal: big(e.withdrawnTotal),
      clientOrderIds: clientIds,
      depositIds: e.depositIds.entries().map(([id, t]) => [id, t]),
    },
  };
}

/** The format-3 JSON snapshot, byte for byte as engines before format 4 wrote it: the state hash's terms
 * (stateHash in engine/daemon/snapshot-store.ts), and it still restores. */
export function snapshotJson(e: Engine): Uint8Array {
  const { before, after, withdrawals } = headParts(e);
  const markets = liveMarkets(e).map((m) => ({
    ...marketHead(m),
    bids: sideRows(m.book.bids),
    asks: sideRows(m.book.asks),
    buyStops: sideRows(m.book.buyStops),
    sellStops: sideRows(m.book.sellStops),
  }));
  const data = { format: 3, ...before, markets, ...after, commandIds: e.commandIds.entries(), withdrawals };
  return new TextEncoder().encode(JSON.stringify(data));
}

export function snapshot(e: Engine): Uint8Array {
  const slices = snapshotSlices(e, Number.MAX_SAFE_INTEGER);
  for (;;) {
    const step = slices.next();
    if (step.done === true) return step.value;
  }
}

/**
 * The snapshot's bytes, encoded a slice at a time: the generator pauses (yields) after every `ordersPerSlice`
 * orders and once before the command ids, and returns the bytes snapshot() returns. A caller that runs other work
 * between slices (the daemon lets its lease renewals run: a million orders encoded in one go stalled the event
 * loop for longer than a short lease) must apply nothing to the engine meanwhile: the bytes describe one state,
 * and a change seen between two slices is a programmer error that throws.
 */
export function* snapshotSlices(e: Engine, ordersPerSlice: number): Generator<void, Uint8Array, void> {
  assert(Number.isSafeInteger(ordersPerSlice) && ordersPerSlice >= 1, 'ordersPerSlice is a positive integer');
  const atCommand = e.commandsApplied;
  const { before, after, withdrawals } = headParts(e);
  const markets = liveMarkets(e);
  const head = { ...before, markets: markets.map(marketHead), ...after, withdrawals };
  const w = new ByteWriter(1024 + e.orders.size * ORDER_ROW_BYTES + e.commandIds.size * 48);
  for (const b of MAGIC) w.u8(b);
  w.u32(SNAPSHOT_FORMAT);
  w.str(JSON.stringify(head));
  let sliceOrders = 0;
  for (const m of markets)
    for (const side of sidesOf(m)) {
      w.u32(side.orderCount);
      for (const level of levelsOf(side))
        for (let o = level.head; o !== null; o = o.next) {
          writeOrder(w, o);
          if (++sliceOrders < ordersPerSlice) continue;
          sliceOrders = 0;
          yield;
          assert(e.commandsApplied === atCommand, 'no command is applied while a snapshot is encoded');
        }
    }
  yield;
  assert(e.commandsApplied === atCommand, 'no command is applied while a snapshot is encoded');
  writeCommandIds(w, e.commandIds);
  return w.done();
}

/** A side's non-empty levels, best first, in an array: a generator cannot pause inside forEachLevel's callback. */
function levelsOf(side: BookSide): Level[] {
  const levels: Level[] = [];
  side.forEachLevel((level) => void levels.push(level));
  return levels;
}

function writeOrder(w: ByteWriter, o: Order): void {
  w.num(o.orderId);
  w.num(o.userId);
  w.u8(
    SIDES.indexOf(o.side) |
      (ORDER_TYPES.indexOf(o.orderType) << 1) |
      (TIME_IN_FORCES.indexOf(o.timeInForce) << 3) |
      (o.postOnly ? 1 << 5 : 0),
  );
  w.u8(STP_MODES.indexOf(o.stp));
  w.num(o.priceTicks);
  w.num(o.stopPriceTicks);
  w.num(o.qtyLots);
  w.num(o.remainingLots);
  w.big(o.quoteBudget);
  w.big(o.held);
  w.strOrNull(o.clientOrderId);
  w.num(o.createdMs);
}

/** Ids joined by '\n', copied from the memory's byte ring: one block instead of a string per id. The engine
 * remembers only printable ids (no '\n'), and the reader checks the count, so a separator inside an id cannot go
 * unnoticed. */
function writeCommandIds(w: ByteWriter, memory: CommandIdMemory): void {
  w.u32(memory.size);
  for (let k = 0; k < memory.size; k++) w.num(memory.timeAt(k));
  const joined = memory.joinedIds();
  w.u32(joined.length);
  w.raw(joined);
}

interface SnapshotHead {
  limits: EngineLimits;
  counters: { nextOrderId: number; nextTradeId: number; eventSeq: number; commandsApplied: number; lastTimeMs: number };
  assets: Array<{ assetId: number; symbol: string; decimals: number }>;
  markets: Array<Record<string, unknown>>;
  accounts: Array<[number, string[], string[], string[]]>;
  /** Absent in format 2. */
  frozenUsers?: number[];
  feeBalances: string[];
  depositedTotal: string[];
  withdrawnTotal: string[];
  clientOrderIds: Array<[number, Array<[string, number, ClientOrderRecord]>]>;
  depositIds: Array<[string, number]>;
  withdrawals: Array<{
    withdrawalId: string;
    userId: number;
    assetId: number;
    amount: string;
    destination: string;
    requestedMs: number;
  }>;
}

interface SnapshotJson extends SnapshotHead {
  format: number;
  markets: Array<
    Record<string, unknown> & { bids: OrderRow[]; asks: OrderRow[]; buyStops: OrderRow[]; sellStops: OrderRow[] }
  >;
  commandIds: Array<[string, number]>;
}

/** Rebuilds an engine from snapshot bytes; throws on anything malformed (the caller falls back to an older one). */
export function restore(bytes: Uint8Array): Engine {
  return MAGIC.every((b, i) => bytes[i] === b) ? restoreBinary(bytes) : restoreJson(bytes);
}

function restoreBinary(bytes: Uint8Array): Engine {
  const r = new ByteReader(bytes);
  r.raw(MAGIC.length);
  const format = r.u32();
  assert(format === SNAPSHOT_FORMAT, `snapshot format ${format} is supported`);
  const data = JSON.parse(r.str()) as SnapshotHead;
  const e = restoreHead(data);
  // Read every order first: the open-order table is then sized once for all of them (OrderTable.reserve).
  const orders: Order[] = [];
  const sideCounts: number[] = [];
  const markets = data.markets.map((row) => restoreMarket(e, row));
  const shared = new Map<number, bigint>();
  for (const m of markets) {
    for (let s = 0; s < SIDE_NAMES.length; s++) {
      const count = r.u32();
      sideCounts.push(count);
      for (let i = 0; i < count; i++) orders.push(readOrder(r, m, shared));
    }
  }
  e.orders.reserve(ordersToReserve(e, orders.length));
  let next = 0;
  markets.forEach((m, k) =>
    SIDE_NAMES.forEach((side, s) => {
      for (const end = next + sideCounts[k * SIDE_NAMES.length + s]; next < end; next++)
        place(e, m, side, orders[next]);
    }),
  );
  restoreWindows(e, data);
  readCommandIds(r, e);
  assert(r.atEnd, `snapshot: ${bytes.length - r.offset} bytes after the last section`);
  return e;
}

/**
 * Open orders the restored table holds before it first grows: those restored and a quarter more (the engine's
 * limit at most). Sized for exactly the restored count, a book just under a power of two (a million orders: 2^20
 * buckets) relinked every order on one of its first new orders, 230 ms of the replay after a restart.
 */
function ordersToReserve(e: Engine, restored: number): number {
  return Math.min(restored + Math.ceil(restored / 4), e.limits.openOrdersMax + e.limits.stopOrdersMax);
}

/** Distinct bigint values a restore shares between orders (ByteReader.bigShared): a few hundred KB at most. */
const SHARED_BIGINTS_MAX = 4096;

function readOrder(r: ByteReader, m: Market, shared: Map<number, bigint>): Order {
  const orderId = r.num();
  const userId = r.num();
  const kind = r.u8();
  const stp = STP_MODES[r.u8()];
  const priceTicks = r.num();
  const stopPriceTicks = r.num();
  const qtyLots = r.num();
  const remainingLots = r.num();
  const o = new Order(
    orderId,
    userId,
    m,
    SIDES[kind & 1],
    ORDER_TYPES[(kind >>> 1) & 3],
    TIME_IN_FORCES[(kind >>> 3) & 3],
    (kind & (1 << 5)) !== 0,
    stp,
    priceTicks,
    stopPriceTicks,
    qtyLots,
    r.bigShared(shared, SHARED_BIGINTS_MAX),
    r.bigShared(shared, SHARED_BIGINTS_MAX),
    r.strOrNull(),
    r.num(),
  );
  o.remainingLots = remainingLots;
  return o;
}

/** The ids' bytes go into the memory as they are (CommandIdMemory.load): no string per id. */
function readCommandIds(r: ByteReader, e: Engine): void {
  const count = r.u32();
  const timesMs = new Float64Array(count);
  for (let i = 0; i < count; i++) timesMs[i] = r.num();
  e.commandIds.load(r.raw(r.u32()), timesMs);
}

function restoreJson(bytes: Uint8Array): Engine {
  const data = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as SnapshotJson;
  assert(JSON_FORMATS.includes(data.format), `snapshot format ${data.format} is supported`);
  const e = restoreHead(data);
  for (const row of data.markets) {
    const m = restoreMarket(e, row);
    for (const side of SIDE_NAMES) for (const r of row[side]) place(e, m, side, orderFromRow(m, r));
  }
  restoreWindows(e, data);
  for (const [id, t] of data.commandIds) e.commandIds.add(id, t);
  return e;
}

function restoreHead(data: SnapshotHead): Engine {
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
  return e;
}

function restoreWindows(e: Engine, data: SnapshotHead): void {
  for (const [userId, entries] of data.clientOrderIds) {
    const w = e.clientWindow(userId);
    for (const [id, t, record] of entries) w.add(id, record, t);
  }
  for (const [id, t] of data.depositIds) e.depositIds.add(id, true, t);
  for (const w of data.withdrawals) e.withdrawals.set(w.withdrawalId, { ...w, amount: BigInt(w.amount) });
}

function restoreMarket(e: Engine, row: Record<string, unknown>): Market {
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
  return m;
}

/** Registers a restored order and puts it where the snapshot listed it: its book side, or its stop side. */
function place(e: Engine, m: Market, side: (typeof SIDE_NAMES)[number], o: Order): void {
  const account = e.accounts.get(o.userId);
  assert(account !== undefined, `order ${o.orderId} has an account`);
  register(e, account, o);
  if (side === 'bids' || side === 'asks') {
    m.book[side].append(o, o.priceTicks);
    return;
  }
  account.stopOrders++;
  e.stopOrdersTotal++;
  addStop(m, o);
}

function orderFromRow(m: Market, r: OrderRow): Order {
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
  return o;
}
