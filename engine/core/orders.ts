// Order commands: place (with client-order-id idempotence), cancel, cancel all, amend.

import type { AmendOrder, CancelAll, CancelOrder, PlaceOrder } from './commands.js';
import type { RejectCode } from './codes.js';
import type { Engine } from './engine.js';
import type { CommandResult } from './events.js';
import { EVENT_VERSION } from './events.js';
import { Order } from './order.js';
import type { Account, Market } from './order.js';
import type { OrderSpec } from './order-spec.js';
import { parseOrderSpec, priceToTicks, qtyToLots } from './order-spec.js';
import {
  addStop,
  belowMinNotional,
  bookSideOf,
  buyHold,
  closeOrder,
  execute,
  fokFillable,
  marketBuyCost,
  processStops,
  register,
  requiredHold,
  restOrder,
} from './matching.js';
import { assert, isPositiveSafeInt } from './units.js';
import { CLIENT_ORDER_ID_MAX_LENGTH, isPrintableId } from './formats.js';
import { cancelRefusal, orderRefusal } from './venue.js';

export function placeOrder(e: Engine, cmd: PlaceOrder): void {
  if (!isPositiveSafeInt(cmd.userId)) return e.reject('ORDER_USER_INVALID');
  const clientOrderId = cmd.clientOrderId ?? null;
  if (clientOrderId !== null && !isPrintableId(clientOrderId, CLIENT_ORDER_ID_MAX_LENGTH)) {
    rejectOrder(e, cmd, 'ORDER_CLIENT_ID_INVALID');
    return;
  }
  if (clientOrderId === null) {
    placeNew(e, cmd, null);
    return;
  }

  const window = e.clientWindow(cmd.userId);
  window.expire(e.nowMs);
  const first = window.get(clientOrderId);
  if (first !== undefined) return e.result(first.status, first.code, first.orderId, first.cmdId);
  if (!window.hasRoom()) {
    rejectOrder(e, cmd, 'CAPACITY_CLIENT_ORDER_IDS');
    return;
  }
  placeNew(e, cmd, clientOrderId);
  // The record is built only for orders with a client id: most orders have none, and this runs per order.
  const result = e.out[e.out.length - 1] as CommandResult;
  assert(result.type === 'commandResult', 'an order command ends with its result');
  window.add(
    clientOrderId,
    { cmdId: e.cmdId, status: result.status, code: result.code, orderId: result.orderId },
    e.nowMs,
  );
}

function rejectOrder(e: Engine, cmd: PlaceOrder, code: RejectCode): void {
  e.out.push({
    v: EVENT_VERSION,
    seq: e.nextSeq(),
    cmdId: e.cmdId,
    timeMs: e.nowMs,
    type: 'orderRejected',
    userId: cmd.userId,
    marketId: cmd.marketId,
    clientOrderId: typeof cmd.clientOrderId === 'string' ? cmd.clientOrderId : null,
    code,
  });
  e.reject(code);
}

function placeNew(e: Engine, cmd: PlaceOrder, clientOrderId: string | null): void {
  const account = e.accounts.get(cmd.userId);
  if (account !== undefined && account.frozen) return rejectOrder(e, cmd, 'USER_FROZEN');
  const m = Number.isSafeInteger(cmd.marketId) ? e.markets[cmd.marketId] : undefined;
  if (m === undefined) return rejectOrder(e, cmd, 'ORDER_MARKET_UNKNOWN');
  const refusal = orderRefusal(m);
  if (refusal !== null) return rejectOrder(e, cmd, refusal);
  const spec = parseOrderSpec(cmd, m);
  if (typeof spec === 'string') return rejectOrder(e, cmd, spec);
  const isStop = cmd.orderType === 'stopLimit' || cmd.orderType === 'stopMarket';
  const code = checkPlacement(e, m, cmd, spec, isStop, account);
  if (code !== null) return rejectOrder(e, cmd, code);
  const acct = account as Account;

  const order = newOrder(e, cmd, m, spec, clientOrderId);
  if (spec.timeInForce === 'FOK' && cmd.orderType === 'limit' && !fokFillable(m, order))
    return rejectOrder(e, cmd, 'ORDER_FOK_NOT_FILLABLE');
  if (acct.available[order.holdAssetId] < order.held) return rejectOrder(e, cmd, 'RISK_INSUFFICIENT_FUNDS');

  e.nextOrderId++;
  acct.available[order.holdAssetId] -= order.held;
  acct.held[order.holdAssetId] += order.held;
  e.touch(acct, order.holdAssetId);
  emitAccepted(e, order);
  if (isStop) {
    register(e, acct, order);
    acct.stopOrders++;
    e.stopOrdersTotal++;
    addStop(m, order);
  } else {
    execute(e, m, order);
    processStops(e, m);
  }
  e.result('accepted', null, order.orderId);
}

/** Everything that can refuse a well-formed order before it changes anything, except funds. */
function checkPlacement(
  e: Engine,
  m: Market,
  cmd: PlaceOrder,
  spec: OrderSpec,
  isStop: boolean,
  account: Account | undefined,
): RejectCode | null {
  const priced = cmd.orderType === 'limit' || cmd.orderType === 'stopLimit';
  if (priced && belowMinNotional(m, spec.priceTicks, spec.qtyLots)) return 'ORDER_NOTIONAL_TOO_SMALL';
  if (spec.quoteBudget > 0n && spec.quoteBudget < m.minNotional) return 'ORDER_NOTIONAL_TOO_SMALL';
  if (isStop) {
    const last = m.lastPriceTicks;
    if (last !== 0 && (cmd.side === 'buy' ? last >= spec.stopPriceTicks : last <= spec.stopPriceTicks))
      return 'ORDER_STOP_WOULD_TRIGGER';
  }
  if (spec.postOnly && wouldTake(m, cmd.side, spec.priceTicks)) return 'ORDER_POST_ONLY_WOULD_TAKE';
  if (account === undefined) return 'RISK_INSUFFICIENT_FUNDS';
  const mayRest = isStop || (cmd.orderType === 'limit' && spec.timeInForce === 'GTC');
  if (mayRest && account.openOrders >= e.limits.openOrdersPerUserMax) return 'CAPACITY_OPEN_ORDERS_PER_USER';
  if (mayRest && e.openOrdersTotal >= e.limits.openOrdersMax) return 'CAPACITY_OPEN_ORDERS_TOTAL';
  if (isStop && account.stopOrders >= e.limits.stopOrdersPerUserMax) return 'CAPACITY_STOP_ORDERS_PER_USER';
  if (isStop && e.stopOrdersTotal >= e.limits.stopOrdersMax) return 'CAPACITY_STOP_ORDERS_TOTAL';
  return null;
}

export function wouldTake(m: Market, side: 'buy' | 'sell', priceTicks: number): boolean {
  const best = side === 'buy' ? m.book.asks.best() : m.book.bids.best();
  return best !== null && (side === 'buy' ? best.priceTicks <= priceTicks : best.priceTicks >= priceTicks);
}

/** Builds the order with exactly the hold it can spend; the order id is taken only if it is accepted. */
function newOrder(e: Engine, cmd: PlaceOrder, m: Market, spec: OrderSpec, clientOrderId: string | null): Order {
  const isBuy = cmd.side === 'buy';
  let held: bigint;
  if (!isBuy) held = BigInt(spec.qtyLots) * m.lotSize;
  else if (spec.quoteBudget > 0n) held = spec.quoteBudget;
  else if (cmd.orderType === 'market') held = marketBuyCost(m, spec.qtyLots);
  else held = buyHold(m, spec.priceTicks, spec.qtyLots);
  return new Order(
    e.nextOrderId,
    cmd.userId,
    m,
    cmd.side,
    cmd.orderType,
    spec.timeInForce,
    spec.postOnly,
    spec.stp,
    spec.priceTicks,
    spec.stopPriceTicks,
    spec.qtyLots,
    spec.quoteBudget,
    held,
    clientOrderId,
    e.nowMs,
  );
}

function emitAccepted(e: Engine, o: Order): void {
  e.out.push({
    v: EVENT_VERSION,
    seq: e.nextSeq(),
    cmdId: e.cmdId,
    timeMs: e.nowMs,
    type: 'orderAccepted',
    orderId: o.orderId,
    userId: o.userId,
    marketId: o.marketId,
    side: o.side,
    orderType: o.orderType,
    timeInForce: o.timeInForce,
    postOnly: o.postOnly,
    stp: o.stp,
    priceTicks: o.priceTicks,
    stopPriceTicks: o.stopPriceTicks,
    qtyLots: o.quoteBudget > 0n ? 0 : o.qtyLots,
    quoteQuantity: o.quoteBudget,
    holdAssetId: o.holdAssetId,
    held: o.held,
    clientOrderId: o.clientOrderId,
  });
}

/** The user's open order by engine id or client id; undefined when it is not theirs or not open. */
function findOwnOrder(e: Engine, userId: number, orderId: unknown, clientOrderId: unknown): Order | undefined {
  let id = orderId;
  if (id === undefined && typeof clientOrderId === 'string')
    id = e.clientOrderIds.get(userId)?.get(clientOrderId)?.orderId ?? undefined;
  if (typeof id !== 'number') return undefined;
  const order = e.orders.get(id);
  return order !== undefined && order.userId === userId ? order : undefined;
}

export function cancelOrder(e: Engine, cmd: CancelOrder): void {
  if (!isPositiveSafeInt(cmd.userId)) return e.reject('ORDER_USER_INVALID');
  if (cmd.orderId === undefined && cmd.clientOrderId === undefined) return e.reject('COMMAND_MALFORMED');
  const order = findOwnOrder(e, cmd.userId, cmd.orderId, cmd.clientOrderId);
  if (order === undefined) return e.reject('ORDER_NOT_FOUND');
  const m = e.markets[order.marketId] as Market;
  const refusal = cancelRefusal(m);
  if (refusal !== null) return e.reject(refusal);
  closeOrder(e, m, order, 'orderCanceled', 'user');
  e.result('accepted', null, order.orderId);
}

export function cancelAll(e: Engine, cmd: CancelAll): void {
  if (!isPositiveSafeInt(cmd.userId)) return e.reject('ORDER_USER_INVALID');
  if (cmd.marketId !== undefined) {
    const named = Number.isSafeInteger(cmd.marketId) ? e.markets[cmd.marketId] : undefined;
    if (named === undefined) return e.reject('CANCEL_MARKET_UNKNOWN');
    const refusal = cancelRefusal(named);
    if (refusal !== null) return e.reject(refusal);
  }
  const account = e.accounts.get(cmd.userId);
  const victims: Order[] = [];
  for (let o = account?.ordersHead ?? null; o !== null; o = o.userNext) {
    // Across markets, a halted market's orders stay (cancels elsewhere still go through): a user getting out
    // of their positions should not be stopped by one market an operator halted.
    if (
      cmd.marketId !== undefined ? o.marketId === cmd.marketId : cancelRefusal(e.markets[o.marketId] as Market) === null
    )
      victims.push(o);
  }
  // Oldest first, whatever order the user's list has after restores and re-queues.
  victims.sort((a, b) => a.orderId - b.orderId);
  for (const o of victims) closeOrder(e, e.markets[o.marketId] as Market, o, 'orderCanceled', 'cancelAll');
  e.result('accepted', null, null);
}

export function amendOrder(e: Engine, cmd: AmendOrder): void {
  if (!isPositiveSafeInt(cmd.userId)) return e.reject('ORDER_USER_INVALID');
  if (e.accounts.get(cmd.userId)?.frozen === true) return e.reject('USER_FROZEN');
  const order = findOwnOrder(e, cmd.userId, cmd.orderId, undefined);
  if (order === undefined) return e.reject('ORDER_NOT_FOUND');
  const refusal = orderRefusal(e.markets[order.marketId] as Market);
  if (refusal !== null) return e.reject(refusal);
  if (order.isStopPending || (order.orderType !== 'limit' && order.orderType !== 'stopLimit'))
    return e.reject('AMEND_NOT_SUPPORTED_FOR_TYPE');
  const m = e.markets[order.marketId] as Market;
  const qty = cmd.quantity === undefined ? order.qtyLots : qtyToLots(cmd.quantity, m);
  if (typeof qty === 'string') return e.reject(qty);
  const price = cmd.price === undefined ? order.priceTicks : priceToTicks(cmd.price, m);
  if (typeof price === 'string') return e.reject(price);
  if (qty === order.qtyLots && price === order.priceTicks) return e.reject('AMEND_NOTHING_TO_CHANGE');
  if (qty <= order.filledLots) return e.reject('AMEND_QTY_NOT_ABOVE_FILLED');
  if (price === order.priceTicks && qty < order.qtyLots) return reduceInPlace(e, m, order, qty);
  requeue(e, m, order, price, qty);
}

/** Lower quantity, same price: the order keeps its place in the queue; the hold shrinks to what it needs. */
function reduceInPlace(e: Engine, m: Market, order: Order, qtyLots: number): void {
  const removedLots = order.qtyLots - qtyLots;
  bookSideOf(m, order).levelOf(order).totalLots -= removedLots;
  order.qtyLots = qtyLots;
  order.remainingLots -= removedLots;
  adjustHold(e, order, requiredHold(m, order));
  emitAmended(e, order, true);
  e.result('accepted', null, order.orderId);
}

/** New price or more quantity: the order goes to the back of its (new) level, and may trade if it crosses. */
function requeue(e: Engine, m: Market, order: Order, priceTicks: number, qtyLots: number): void {
  const remainingLots = qtyLots - order.filledLots;
  const need = order.side === 'buy' ? buyHold(m, priceTicks, remainingLots) : BigInt(remainingLots) * m.lotSize;
  const account = e.accounts.get(order.userId) as Account;
  if (belowMinNotional(m, priceTicks, qtyLots)) return e.reject('ORDER_NOTIONAL_TOO_SMALL');
  if (order.postOnly && wouldTake(m, order.side, priceTicks)) return e.reject('AMEND_POST_ONLY_WOULD_TAKE');
  if (account.available[order.holdAssetId] + order.held < need) return e.reject('RISK_INSUFFICIENT_FUNDS');
  bookSideOf(m, order).remove(order);
  order.priceTicks = priceTicks;
  order.qtyLots = qtyLots;
  order.remainingLots = remainingLots;
  adjustHold(e, order, need);
  emitAmended(e, order, false);
  execute(e, m, order);
  processStops(e, m);
  e.result('accepted', null, order.orderId);
}

function adjustHold(e: Engine, order: Order, newHeld: bigint): void {
  const account = e.accounts.get(order.userId) as Account;
  const delta = newHeld - order.held;
  assert(account.available[order.holdAssetId] >= delta, 'an amend is funded before it changes the hold');
  account.available[order.holdAssetId] -= delta;
  account.held[order.holdAssetId] += delta;
  order.held = newHeld;
  e.touch(account, order.holdAssetId);
}

function emitAmended(e: Engine, o: Order, keptPriority: boolean): void {
  e.out.push({
    v: EVENT_VERSION,
    seq: e.nextSeq(),
    cmdId: e.cmdId,
    timeMs: e.nowMs,
    type: 'orderAmended',
    orderId: o.orderId,
    userId: o.userId,
    marketId: o.marketId,
    priceTicks: o.priceTicks,
    qtyLots: o.qtyLots,
    remainingLots: o.remainingLots,
    keptPriority,
    holdAssetId: o.holdAssetId,
    held: o.held,
  });
}
