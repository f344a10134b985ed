// Matching: price-time priority, fills at the resting order's price, self-trade prevention, settlement of
// both sides of every fill, and stop triggers on the last trade price.

import type { Engine } from './engine.js';
import { EVENT_VERSION } from './events.js';
import type { CloseReason } from './events.js';
import type { BookSide, Level } from './book-side.js';
import type { Account, Market, Order } from './order.js';
import { BPS_DENOMINATOR, assert, feeOf } from './units.js';

const SAFE = Number.MAX_SAFE_INTEGER;

/** Quote base units for `lots` at `priceTicks`: exact. */
export function notional(m: Market, priceTicks: number, lots: number): bigint {
  const product = priceTicks * lots;
  return (product <= SAFE ? BigInt(product) : BigInt(priceTicks) * BigInt(lots)) * m.quotePerTickLot;
}

/** True when `lots` at `priceTicks` is worth less than the market's minimum; allocates nothing when the product is safe. */
export function belowMinNotional(m: Market, priceTicks: number, lots: number): boolean {
  const product = priceTicks * lots;
  return product <= SAFE ? product < m.minNotionalTicksLots : notional(m, priceTicks, lots) < m.minNotional;
}

/** What a buy limit order holds for `lots`: the notional plus the fee at the higher of the two rates. */
export function buyHold(m: Market, priceTicks: number, lots: number): bigint {
  const n = notional(m, priceTicks, lots);
  return n + feeOf(n, m.holdFeeBpsBig);
}

/** The hold a resting order needs for its remaining quantity. */
export function requiredHold(m: Market, order: Order): bigint {
  return order.side === 'buy'
    ? buyHold(m, order.priceTicks, order.remainingLots)
    : BigInt(order.remainingLots) * m.lotSize;
}

export function register(e: Engine, account: Account, order: Order): void {
  e.orders.add(order);
  order.registered = true;
  account.link(order);
  account.openOrders++;
  e.openOrdersTotal++;
}

function unregister(e: Engine, order: Order): void {
  const account = e.accounts.get(order.userId) as Account;
  const removed = e.orders.delete(order);
  assert(removed, 'an order leaving the index was in it');
  order.registered = false;
  account.unlink(order);
  account.openOrders--;
  e.openOrdersTotal--;
}

/** Moves what an order still holds back to available. */
function releaseHold(e: Engine, order: Order): bigint {
  const released = order.held;
  if (released === 0n) return 0n;
  const account = e.accounts.get(order.userId) as Account;
  account.held[order.holdAssetId] -= released;
  account.available[order.holdAssetId] += released;
  order.held = 0n;
  e.touch(account, order.holdAssetId);
  return released;
}

export function bookSideOf(m: Market, order: Order): BookSide {
  return order.side === 'buy' ? m.book.bids : m.book.asks;
}

function stopSideOf(m: Market, order: Order): BookSide {
  return order.side === 'buy' ? m.book.buyStops : m.book.sellStops;
}

/** Takes the order out of every structure and releases its hold. */
export function closeOrder(
  e: Engine,
  m: Market,
  order: Order,
  type: 'orderCanceled' | 'orderExpired',
  reason: CloseReason,
): void {
  if (order.onLevel) {
    if (order.isStopPending) stopSideOf(m, order).remove(order);
    else bookSideOf(m, order).remove(order);
  }
  if (order.isStopPending) markTriggered(e, order);
  if (order.registered) unregister(e, order);
  const released = releaseHold(e, order);
  e.out.push({
    v: EVENT_VERSION,
    seq: e.nextSeq(),
    cmdId: e.cmdId,
    timeMs: e.nowMs,
    type,
    orderId: order.orderId,
    userId: order.userId,
    marketId: order.marketId,
    reason,
    remainingLots: order.remainingLots,
    holdAssetId: order.holdAssetId,
    released,
  });
}

function markTriggered(e: Engine, order: Order): void {
  order.isStopPending = false;
  (e.accounts.get(order.userId) as Account).stopOrders--;
  e.stopOrdersTotal--;
}

export function restOrder(e: Engine, m: Market, order: Order): void {
  assert(order.registered, 'a resting order is registered');
  bookSideOf(m, order).append(order, order.priceTicks);
  e.out.push({
    v: EVENT_VERSION,
    seq: e.nextSeq(),
    cmdId: e.cmdId,
    timeMs: e.nowMs,
    type: 'orderRested',
    orderId: order.orderId,
    marketId: order.marketId,
    side: order.side,
    priceTicks: order.priceTicks,
    remainingLots: order.remainingLots,
  });
}

export function addStop(m: Market, order: Order): void {
  order.isStopPending = true;
  stopSideOf(m, order).append(order, order.stopPriceTicks);
}

/**
 * Runs a taker against the book, then rests its remainder (GTC limit) or expires it.
 * The taker is registered already if it may rest (GTC limit, triggered stop, re-queued amend).
 */
export function execute(e: Engine, m: Market, taker: Order): void {
  if (taker.quoteBudget > 0n) {
    capBudgetLots(m, taker);
    // Not one lot is affordable at the best ask (or there is none): nothing to match, the budget goes back.
    if (taker.remainingLots === 0)
      return closeOrder(e, m, taker, 'orderExpired', m.book.asks.best() === null ? 'noLiquidity' : 'funds');
  }
  const stopReason = match(e, m, taker);
  if (taker.remainingLots === 0) return; // fill() closed it
  if (
    stopReason === null &&
    taker.orderType !== 'market' &&
    taker.orderType !== 'stopMarket' &&
    taker.timeInForce === 'GTC'
  ) {
    if (!taker.registered) register(e, e.accounts.get(taker.userId) as Account, taker);
    restOrder(e, m, taker);
    return;
  }
  const reason: CloseReason =
    stopReason ?? (taker.orderType === 'market' || taker.orderType === 'stopMarket' ? 'noLiquidity' : 'ioc');
  closeOrder(e, m, taker, 'orderExpired', reason);
}

/**
 * A buy by quote budget has no quantity of its own: it is given the most lots the budget buys at the best
 * ask (prices only rise from there), so its events report a finite quantity and the loop has a bound.
 */
function capBudgetLots(m: Market, taker: Order): void {
  const best = m.book.asks.best();
  const unit = best === null ? 0n : BigInt(best.priceTicks) * m.quotePerTickLot;
  const lots = unit === 0n ? 0n : taker.quoteBudget / unit;
  const capped = lots > BigInt(SAFE) ? SAFE : Number(lots);
  taker.qtyLots = capped;
  taker.remainingLots = capped;
}

/** Matches while the taker crosses; returns why it stopped early ('stp', 'funds'), or null. */
function match(e: Engine, m: Market, taker: Order): CloseReason | null {
  const isBuy = taker.side === 'buy';
  const opposite = isBuy ? m.book.asks : m.book.bids;
  const isMarket = taker.orderType === 'market' || taker.orderType === 'stopMarket';
  const limitTicks = isMarket ? (isBuy ? Infinity : -Infinity) : taker.priceTicks;
  // Buys that hold a budget rather than a priced amount are capped by what they still hold.
  const budgetCapped = isBuy && isMarket;
  while (taker.remainingLots > 0) {
    const level = opposite.best();
    if (level === null || (isBuy ? level.priceTicks > limitTicks : level.priceTicks < limitTicks)) return null;
    let maker = level.head;
    while (maker !== null && taker.remainingLots > 0) {
      const nextMaker = maker.next;
      if (maker.userId === taker.userId && taker.stp !== 'none') {
        if (preventSelfTrade(e, m, taker, maker)) return 'stp';
      } else {
        const wanted = taker.remainingLots < maker.remainingLots ? taker.remainingLots : maker.remainingLots;
        const lots = budgetCapped ? affordableLots(m, taker.held, level.priceTicks, wanted) : wanted;
        if (lots === 0) return 'funds';
        fill(e, m, taker, maker, lots, level);
        // The budget ran out part-way through this maker: the orders queued behind it are never reached (so
        // they must not be self-trade-checked either).
        if (lots < wanted) return 'funds';
      }
      maker = nextMaker;
    }
  }
  return null;
}

/** Largest lots <= wanted whose notional plus taker fee fits in `budget`. */
function affordableLots(m: Market, budget: bigint, priceTicks: number, wanted: number): number {
  if (takerCost(m, priceTicks, wanted) <= budget) return wanted;
  const unit = BigInt(priceTicks) * m.quotePerTickLot;
  // floor(budget / (unit * (1 + fee))) is affordable; floor rounding of the fee may allow one lot more.
  let lots = Number((budget * BPS_DENOMINATOR) / (unit * (BPS_DENOMINATOR + m.takerFeeBpsBig)));
  if (lots < wanted && takerCost(m, priceTicks, lots + 1) <= budget) lots++;
  return lots;
}

/** Notional plus taker fee. A module function rather than a closure: it runs on every fill of a market buy. */
function takerCost(m: Market, priceTicks: number, lots: number): bigint {
  const n = notional(m, priceTicks, lots);
  return n + feeOf(n, m.takerFeeBpsBig);
}

/** Applies the taker's STP mode to a self-match; returns true when the taker must stop. */
function preventSelfTrade(e: Engine, m: Market, taker: Order, maker: Order): boolean {
  switch (taker.stp) {
    case 'expireTaker':
      return true;
    case 'expireMaker':
      closeOrder(e, m, maker, 'orderExpired', 'stp');
      return false;
    case 'expireBoth':
      closeOrder(e, m, maker, 'orderExpired', 'stp');
      return true;
    case 'decrementAndCancel': {
      const lots = Math.min(taker.remainingLots, maker.remainingLots);
      decrement(e, m, maker, lots);
      decrement(e, m, taker, lots);
      return taker.remainingLots === 0;
    }
    default:
      assert(false, `unhandled STP mode ${taker.stp}`);
      return true;
  }
}

/** Decrement-and-cancel: takes `lots` off an order without a fill; cancels it when nothing remains. */
function decrement(e: Engine, m: Market, order: Order, lots: number): void {
  if (order.remainingLots === lots) {
    // Quantity is untouched so the expiry event reports what was taken off.
    closeOrder(e, m, order, 'orderExpired', 'stp');
    order.remainingLots = 0;
    return;
  }
  if (order.onLevel) bookSideOf(m, order).levelOf(order).totalLots -= lots;
  order.remainingLots -= lots;
  order.qtyLots -= lots;
  if (order.orderType === 'limit' || order.orderType === 'stopLimit' || order.side === 'sell') {
    const keep = requiredHold(m, order);
    const account = e.accounts.get(order.userId) as Account;
    const released = order.held - keep;
    account.held[order.holdAssetId] -= released;
    account.available[order.holdAssetId] += released;
    order.held = keep;
    e.touch(account, order.holdAssetId);
  }
  e.out.push({
    v: EVENT_VERSION,
    seq: e.nextSeq(),
    cmdId: e.cmdId,
    timeMs: e.nowMs,
    type: 'orderAmended',
    orderId: order.orderId,
    userId: order.userId,
    marketId: order.marketId,
    priceTicks: order.priceTicks,
    qtyLots: order.qtyLots,
    remainingLots: order.remainingLots,
    keptPriority: true,
    holdAssetId: order.holdAssetId,
    held: order.held,
  });
}

/** One fill at the maker's price: settles both users, pays fees, emits the trade and both order updates. */
function fill(e: Engine, m: Market, taker: Order, maker: Order, lots: number, level: Level): void {
  const priceTicks = level.priceTicks;
  const base = BigInt(lots) * m.lotSize;
  const quote = notional(m, priceTicks, lots);
  const makerFee = feeOf(quote, m.makerFeeBpsBig);
  const takerFee = feeOf(quote, m.takerFeeBpsBig);
  const takerIsBuyer = taker.side === 'buy';
  const buyer = takerIsBuyer ? taker : maker;
  const seller = takerIsBuyer ? maker : taker;
  settleBuyer(e, m, buyer, base, quote + (takerIsBuyer ? takerFee : makerFee));
  settleSeller(e, m, seller, base, quote - (takerIsBuyer ? makerFee : takerFee));
  e.feeBalances[m.quoteAssetId] += makerFee + takerFee;

  level.totalLots -= lots;
  maker.remainingLots -= lots;
  taker.remainingLots -= lots;
  m.lastPriceTicks = priceTicks;

  const tradeId = e.nextTradeId++;
  e.out.push({
    v: EVENT_VERSION,
    seq: e.nextSeq(),
    cmdId: e.cmdId,
    timeMs: e.nowMs,
    type: 'trade',
    tradeId,
    marketId: m.marketId,
    priceTicks,
    qtyLots: lots,
    takerSide: taker.side,
    makerOrderId: maker.orderId,
    takerOrderId: taker.orderId,
    makerUserId: maker.userId,
    takerUserId: taker.userId,
    baseAmount: base,
    quoteAmount: quote,
    makerFee,
    takerFee,
  });
  if (maker.remainingLots === 0) bookSideOf(m, maker).remove(maker, level);
  fillEvent(e, maker, tradeId, lots);
  fillEvent(e, taker, tradeId, lots);
}

function settleBuyer(e: Engine, m: Market, buyer: Order, base: bigint, quotePaid: bigint): void {
  const account = e.accounts.get(buyer.userId) as Account;
  assert(buyer.held >= quotePaid, 'a buy order holds what it pays');
  buyer.held -= quotePaid;
  account.held[m.quoteAssetId] -= quotePaid;
  account.available[m.baseAssetId] += base;
  e.touch(account, m.quoteAssetId);
  e.touch(account, m.baseAssetId);
}

function settleSeller(e: Engine, m: Market, seller: Order, base: bigint, quoteReceived: bigint): void {
  const account = e.accounts.get(seller.userId) as Account;
  assert(seller.held >= base, 'a sell order holds what it delivers');
  seller.held -= base;
  account.held[m.baseAssetId] -= base;
  account.available[m.quoteAssetId] += quoteReceived;
  e.touch(account, m.baseAssetId);
  e.touch(account, m.quoteAssetId);
}

/** Emits a fill update; a completed order leaves every structure and releases what its hold has left. */
function fillEvent(e: Engine, order: Order, tradeId: number, lots: number): void {
  const done = order.remainingLots === 0;
  let released = 0n;
  if (done) {
    if (order.registered) unregister(e, order);
    released = releaseHold(e, order);
  }
  e.out.push({
    v: EVENT_VERSION,
    seq: e.nextSeq(),
    cmdId: e.cmdId,
    timeMs: e.nowMs,
    type: done ? 'orderFilled' : 'orderPartiallyFilled',
    orderId: order.orderId,
    userId: order.userId,
    tradeId,
    fillLots: lots,
    filledLots: order.filledLots,
    remainingLots: order.remainingLots,
    released,
  });
}

/** Triggers stops met by the last trade price, oldest order first when both sides are met, until none is. */
export function processStops(e: Engine, m: Market): void {
  for (;;) {
    const last = m.lastPriceTicks;
    if (last === 0) return;
    const buy = m.book.buyStops.best();
    const sell = m.book.sellStops.best();
    const buyHead = buy !== null && buy.priceTicks <= last ? buy.head : null;
    const sellHead = sell !== null && sell.priceTicks >= last ? sell.head : null;
    if (buyHead === null && sellHead === null) return;
    const order =
      buyHead === null
        ? (sellHead as Order)
        : sellHead === null
          ? buyHead
          : buyHead.orderId < sellHead.orderId
            ? buyHead
            : sellHead;
    stopSideOf(m, order).remove(order);
    markTriggered(e, order);
    e.out.push({
      v: EVENT_VERSION,
      seq: e.nextSeq(),
      cmdId: e.cmdId,
      timeMs: e.nowMs,
      type: 'orderTriggered',
      orderId: order.orderId,
      marketId: m.marketId,
      lastPriceTicks: last,
    });
    execute(e, m, order);
  }
}

/** Whether a FOK order can fill completely now, given its STP mode (own orders are not liquidity). */
export function fokFillable(m: Market, taker: Order): boolean {
  const isBuy = taker.side === 'buy';
  const opposite = isBuy ? m.book.asks : m.book.bids;
  let needed = taker.remainingLots;
  let fillable = true;
  opposite.forEachLevel((level) => {
    if (isBuy ? level.priceTicks > taker.priceTicks : level.priceTicks < taker.priceTicks) return false;
    if (taker.stp === 'none') {
      needed -= level.totalLots;
      return needed > 0;
    }
    for (let o = level.head; o !== null && needed > 0; o = o.next) {
      if (o.userId !== taker.userId) needed -= o.remainingLots;
      else if (taker.stp !== 'expireMaker') {
        fillable = false; // the taker would stop (or be decremented) here
        return false;
      }
    }
    return needed > 0;
  });
  return fillable && needed <= 0;
}

/** Quote a market buy of `lots` would pay walking the asks, taker fee included (own orders counted). */
export function marketBuyCost(m: Market, lots: number): bigint {
  let remaining = lots;
  let cost = 0n;
  m.book.asks.forEachLevel((level) => {
    const take = remaining < level.totalLots ? remaining : level.totalLots;
    cost += notional(m, level.priceTicks, take);
    remaining -= take;
    return remaining > 0;
  });
  return cost + feeOf(cost, m.takerFeeBpsBig);
}
