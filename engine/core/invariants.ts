// Whole-state checks, O(state): run by tests after every command, and by the daemon on every snapshot it loads
// and once recovery has replayed up to the event log's end (engine/daemon/daemon.ts).
// Each returns a list of violations (empty when the state is sound) rather than throwing, so a test can
// print them all with the seed that produced them.

import type { Engine } from './engine.js';
import type { BookSide, Level } from './book-side.js';
import type { Market, Order } from './order.js';
import { requiredHold } from './matching.js';

export function checkInvariants(e: Engine): string[] {
  const problems: string[] = [];
  checkConservation(e, problems);
  const books: BookTotals = { holds: new Map(), registeredOrders: 0 };
  for (const m of e.markets) if (m !== undefined) checkMarket(e, m, books, problems);
  checkHolds(e, books, problems);
  return problems;
}

/**
 * What the walk over the books adds up, for checkHolds. Holds are summed per user in an array by asset id: a
 * string key and a map entry per order cost most of a million-order check (the daemon runs it on every start).
 */
interface BookTotals {
  readonly holds: Map<number, bigint[]>;
  /** Orders found on a book that are the open-order table's entry for their id. */
  registeredOrders: number;
}

function addHold(books: BookTotals, o: Order): void {
  let byAsset = books.holds.get(o.userId);
  if (byAsset === undefined) books.holds.set(o.userId, (byAsset = []));
  const asset = o.holdAssetId;
  byAsset[asset] = (byAsset[asset] ?? 0n) + o.held;
}

/** Per asset, every account's funds plus fees equal deposits minus completed withdrawals; none negative. */
function checkConservation(e: Engine, problems: string[]): void {
  for (let asset = 0; asset < e.assets.length; asset++) {
    if (e.assets[asset] === undefined) continue;
    let sum = e.feeBalances[asset];
    for (const a of e.accounts.values()) {
      const parts = [a.available[asset], a.held[asset], a.pending[asset]];
      if (parts.some((x) => x < 0n))
        problems.push(`user ${a.userId} asset ${asset} has a negative balance ${parts.join('/')}`);
      sum += parts[0] + parts[1] + parts[2];
    }
    const expected = e.depositedTotal[asset] - e.withdrawnTotal[asset];
    if (sum !== expected) problems.push(`asset ${asset}: balances+fees ${sum} != deposited-withdrawn ${expected}`);
  }
  const pending = new Map<string, bigint>();
  for (const w of e.withdrawals.values())
    pending.set(`${w.userId}/${w.assetId}`, (pending.get(`${w.userId}/${w.assetId}`) ?? 0n) + w.amount);
  for (const a of e.accounts.values()) {
    a.pending.forEach((p, asset) => {
      if (p !== (pending.get(`${a.userId}/${asset}`) ?? 0n))
        problems.push(`user ${a.userId} asset ${asset}: pending ${p} != pending withdrawals`);
    });
  }
}

function checkMarket(e: Engine, m: Market, books: BookTotals, problems: string[]): void {
  const bid = m.book.bids.best();
  const ask = m.book.asks.best();
  if (bid !== null && ask !== null && bid.priceTicks >= ask.priceTicks)
    problems.push(`market ${m.marketId} is crossed: bid ${bid.priceTicks} >= ask ${ask.priceTicks}`);
  const visit = (side: BookSide, isStop: boolean): void => {
    let prev: number | null = null;
    let first: Level | null = null;
    let levels = 0;
    side.forEachLevel((level) => {
      first ??= level;
      levels++;
      if (prev !== null && !side.isBetter(prev, level.priceTicks))
        problems.push(`market ${m.marketId}: levels out of order at ${level.priceTicks}`);
      prev = level.priceTicks;
      let lots = 0;
      let count = 0;
      for (let o: Order | null = level.head; o !== null; o = o.next) {
        lots += o.remainingLots;
        count++;
        checkOrder(e, m, o, isStop, books, problems);
        addHold(books, o);
      }
      if (lots !== level.totalLots || count !== level.count || count === 0)
        problems.push(
          `market ${m.marketId} level ${level.priceTicks}: totals ${level.totalLots}/${level.count} != ${lots}/${count}`,
        );
    });
    // The cached best level and the level count skip parked (empty) levels the way the walk does.
    if (side.best() !== first)
      problems.push(
        `market ${m.marketId}: best level ${side.best()?.priceTicks} is not the first level ${(first as Level | null)?.priceTicks}`,
      );
    if (side.levelCount !== levels)
      problems.push(`market ${m.marketId}: ${side.levelCount} levels counted, ${levels} walked`);
  };
  visit(m.book.bids, false);
  visit(m.book.asks, false);
  visit(m.book.buyStops, true);
  visit(m.book.sellStops, true);
}

function checkOrder(e: Engine, m: Market, o: Order, isStop: boolean, books: BookTotals, problems: string[]): void {
  if (e.orders.get(o.orderId) === o) books.registeredOrders++;
  else problems.push(`order ${o.orderId} on a book is not registered`);
  if (!o.registered) problems.push(`order ${o.orderId} on a book has its registered flag clear`);
  if (o.isStopPending !== isStop) problems.push(`order ${o.orderId}: stop flag ${o.isStopPending} on the wrong book`);
  // A stop-market buy by budget has no quantity until it triggers.
  const waitsForQuantity = isStop && o.quoteBudget > 0n && o.remainingLots === 0;
  if ((o.remainingLots <= 0 && !waitsForQuantity) || o.remainingLots + o.filledLots !== o.qtyLots)
    problems.push(`order ${o.orderId}: quantities ${o.qtyLots}=${o.filledLots}+${o.remainingLots} do not add up`);
  // Budget orders (stop-market buys by quote) hold their budget, which is all they can spend.
  if (o.quoteBudget === 0n && o.orderType !== 'stopMarket' && o.held < requiredHold(m, o))
    problems.push(`order ${o.orderId} is underfunded: held ${o.held} < ${requiredHold(m, o)}`);
}

/** Every unit a user holds is held by exactly one open order. */
function checkHolds(e: Engine, books: BookTotals, problems: string[]): void {
  // Each book order is visited once and the table holds each order once, so as many table entries found on the
  // books as the table holds means every open order is on a book (without walking the table: values() sorts).
  if (books.registeredOrders !== e.orders.size)
    problems.push(`${e.orders.size - books.registeredOrders} registered orders are on no book`);
  if (e.orders.size !== e.openOrdersTotal) problems.push(`openOrdersTotal ${e.openOrdersTotal} != ${e.orders.size}`);
  for (const a of e.accounts.values()) {
    const byAsset = books.holds.get(a.userId);
    a.held.forEach((h, asset) => {
      const expected = byAsset?.[asset] ?? 0n;
      if (h !== expected) problems.push(`user ${a.userId} asset ${asset}: held ${h} != sum of order holds ${expected}`);
    });
  }
}
