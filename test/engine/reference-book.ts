// A deliberately naive reference exchange: the oracle the engine is simulated against.
// Plain arrays of orders (a side of a book is a filter + sort of them, recomputed every time), plain bigint
// balances, plain loops. No B-trees, no intrusive lists, no incremental totals, no cleverness: it is meant to
// be read and believed, not to be fast.
//
// It implements the engine's semantics (engine/core: the CONTEXT rules and the code comments), including the
// order in which validation codes are checked, for: deposits and withdrawals, limit orders GTC/IOC/FOK,
// post-only, market orders by quantity and (buys) by quote budget, stop-limit and stop-market orders, cancel,
// cancel all, amend, the five STP modes, fees, holds and releases, client order ids, capacity limits, market
// status (trading / cancel-only / halted) and frozen users.
// Admin commands (addAsset, addMarket) are trusted to be valid: the simulation only sends valid ones.

import type {
  AddAsset,
  AddMarket,
  AmendOrder,
  CancelAll,
  CancelOrder,
  Command,
  CompleteWithdrawal,
  Deposit,
  EngineLimits,
  FailWithdrawal,
  MarketStatus,
  OrderType,
  PlaceOrder,
  RejectCode,
  RequestWithdrawal,
  SetMarketStatus,
  SetUserFrozen,
  Side,
  StpMode,
  TimeInForce,
} from '../../engine/core/index.js';
import { DEFAULT_LIMITS, UINT256_MAX } from '../../engine/core/index.js';

const SAFE = Number.MAX_SAFE_INTEGER;

// ---------------------------------------------------------------------------------------------------------
// What the simulation compares: per command an outcome, after every command a view of the whole state.

export interface TradeView {
  marketId: number;
  makerOrderId: number;
  takerOrderId: number;
  makerUserId: number;
  takerUserId: number;
  priceTicks: number;
  qtyLots: number;
  baseAmount: bigint;
  quoteAmount: bigint;
  makerFee: bigint;
  takerFee: bigint;
}

export interface Outcome {
  status: 'accepted' | 'rejected';
  code: RejectCode | null;
  orderId: number | null;
  duplicateOf: string | null;
  trades: TradeView[];
  /** Orders this command canceled or expired, in order, as "canceled:<id>" / "expired:<id>". */
  closed: string[];
}

export interface LevelView {
  priceTicks: number;
  totalLots: number;
  orderIds: number[];
}

export interface MarketView {
  marketId: number;
  lastPriceTicks: number;
  status: MarketStatus;
  bids: LevelView[];
  asks: LevelView[];
  buyStops: LevelView[];
  sellStops: LevelView[];
}

export interface OrderView {
  orderId: number;
  userId: number;
  marketId: number;
  side: Side;
  priceTicks: number;
  stopPriceTicks: number;
  qtyLots: number;
  filledLots: number;
  remainingLots: number;
  held: bigint;
}

export interface ExchangeView {
  /** "user/asset" -> "available/held/pending", for every account that exists. */
  balances: Record<string, string>;
  fees: bigint[];
  markets: MarketView[];
  /** Open orders (resting and pending stops), by id. */
  orders: OrderView[];
  /** Frozen users, ascending. */
  frozenUsers: number[];
}

// ---------------------------------------------------------------------------------------------------------
// State.

interface RefOrder {
  id: number;
  userId: number;
  marketId: number;
  side: Side;
  type: OrderType;
  tif: TimeInForce;
  postOnly: boolean;
  stp: StpMode;
  price: number;
  stopPrice: number;
  qty: number;
  filled: number;
  remaining: number;
  budget: bigint;
  holdAsset: number;
  held: bigint;
  clientOrderId: string | null;
  /** Time priority: larger = joined its queue later. */
  queueSeq: number;
  /** 'taker' while it matches inside a command. */
  where: 'stop' | 'book' | 'taker' | 'done';
}

interface RefMarket {
  id: number;
  symbol: string;
  base: number;
  quote: number;
  tick: bigint;
  lot: bigint;
  minNotional: bigint;
  makerBps: bigint;
  takerBps: bigint;
  /** Quote units per lot per tick. */
  unit: bigint;
  last: number;
  status: MarketStatus;
}

interface Balances {
  available: bigint[];
  held: bigint[];
  pending: bigint[];
}

interface ClientIdEntry {
  clientOrderId: string;
  timeMs: number;
  cmdId: string;
  status: 'accepted' | 'rejected';
  code: RejectCode | null;
  orderId: number | null;
}

interface State {
  assetDecimals: number[];
  markets: RefMarket[];
  accounts: Map<number, Balances>;
  frozen: Set<number>;
  /** Open orders: on a book or waiting for their stop. */
  orders: RefOrder[];
  fees: bigint[];
  deposited: bigint[];
  withdrawn: bigint[];
  clientIds: Map<number, ClientIdEntry[]>;
  depositIds: Map<string, number>;
  withdrawals: Map<string, { userId: number; assetId: number; amount: bigint }>;
  nextOrderId: number;
  nextQueueSeq: number;
  nowMs: number;
  /** The current command's outcome, filled as it runs. */
  out: Outcome;
}

const notional = (m: RefMarket, priceTicks: number, lots: number): bigint => BigInt(priceTicks) * BigInt(lots) * m.unit;
const feeOf = (quote: bigint, bps: bigint): bigint => (quote * bps) / 10_000n;
const maxBig = (a: bigint, b: bigint): bigint => (a > b ? a : b);
const isPrintable = (x: unknown, maxLen: number): x is string =>
  typeof x === 'string' && x.length >= 1 && x.length <= maxLen && /^[\x21-\x7e]+$/.test(x);
const isUserId = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x > 0;

/** value / step as lots or ticks, or why it is not a valid one (same codes, same order as the engine). */
function steps(value: unknown, step: bigint, kind: 'PRICE' | 'STOP_PRICE' | 'QTY'): number | RejectCode {
  const code = (what: string): RejectCode => `ORDER_${kind}_${what}` as RejectCode;
  if (value === undefined || value === null) return code('MISSING');
  if (typeof value !== 'bigint') return 'COMMAND_MALFORMED';
  if (value <= 0n) return code('NOT_POSITIVE');
  if (value > UINT256_MAX) return code('OVERFLOW');
  if (value % step !== 0n) return code(kind === 'QTY' ? 'NOT_ON_LOT' : 'NOT_ON_TICK');
  if (value / step > BigInt(SAFE)) return code('OUT_OF_RANGE');
  return Number(value / step);
}

export class ReferenceExchange {
  private s: State;

  constructor(readonly limits: EngineLimits = DEFAULT_LIMITS) {
    this.s = {
      assetDecimals: [],
      markets: [],
      accounts: new Map(),
      frozen: new Set(),
      orders: [],
      fees: [],
      deposited: [],
      withdrawn: [],
      clientIds: new Map(),
      depositIds: new Map(),
      withdrawals: new Map(),
      nextOrderId: 1,
      nextQueueSeq: 1,
      nowMs: 0,
      out: emptyOutcome(),
    };
  }

  apply(cmd: Command): Outcome {
    this.s.out = emptyOutcome();
    if (Number.isSafeInteger(cmd.timeMs) && cmd.timeMs > this.s.nowMs) this.s.nowMs = cmd.timeMs;
    if (cmd.v !== 1) return this.reject('COMMAND_UNSUPPORTED_VERSION');
    if (!isPrintable(cmd.id, 128) || !Number.isSafeInteger(cmd.timeMs) || cmd.timeMs < 0)
      return this.reject('COMMAND_MALFORMED');
    switch (cmd.type) {
      case 'addAsset':
        return this.addAsset(cmd);
      case 'addMarket':
        return this.addMarket(cmd);
      case 'deposit':
        return this.deposit(cmd);
      case 'requestWithdrawal':
        return this.requestWithdrawal(cmd);
      case 'completeWithdrawal':
        return this.finishWithdrawal(cmd, true);
      case 'failWithdrawal':
        return this.finishWithdrawal(cmd, false);
      case 'placeOrder':
        return this.placeOrder(cmd);
      case 'cancelOrder':
        return this.cancelOrder(cmd);
      case 'cancelAll':
        return this.cancelAll(cmd);
      case 'amendOrder':
        return this.amendOrder(cmd);
      case 'setMarketStatus':
        return this.setMarketStatus(cmd);
      case 'setUserFrozen':
        return this.setUserFrozen(cmd);
      default:
        return this.reject('COMMAND_UNKNOWN_TYPE');
    }
  }

  private reject(code: RejectCode): Outcome {
    return this.finish('rejected', code, null);
  }

  private finish(
    status: 'accepted' | 'rejected',
    code: RejectCode | null,
    orderId: number | null,
    duplicateOf: string | null = null,
  ): Outcome {
    Object.assign(this.s.out, { status, code, orderId, duplicateOf });
    return this.s.out;
  }

  // --- admin (trusted) -------------------------------------------------------------------------------------

  private addAsset(cmd: AddAsset): Outcome {
    const s = this.s;
    s.assetDecimals[cmd.assetId] = cmd.decimals;
    for (let i = s.fees.length; i < s.assetDecimals.length; i++) {
      s.fees.push(0n);
      s.deposited.push(0n);
      s.withdrawn.push(0n);
    }
    for (const b of s.accounts.values()) padBalances(b, s.assetDecimals.length);
    return this.finish('accepted', null, null);
  }

  private addMarket(cmd: AddMarket): Outcome {
    const unit = (cmd.tickSize * cmd.lotSize) / 10n ** BigInt(this.s.assetDecimals[cmd.baseAssetId]);
    this.s.markets[cmd.marketId] = {
      id: cmd.marketId,
      symbol: cmd.symbol,
      base: cmd.baseAssetId,
      quote: cmd.quoteAssetId,
      tick: cmd.tickSize,
      lot: cmd.lotSize,
      minNotional: cmd.minNotional,
      makerBps: BigInt(cmd.makerFeeBps),
      takerBps: BigInt(cmd.takerFeeBps),
      unit,
      last: 0,
      status: 'trading',
    };
    return this.finish('accepted', null, null);
  }

  // --- venue controls --------------------------------------------------------------------------------------

  private setMarketStatus(cmd: SetMarketStatus): Outcome {
    const m = Number.isSafeInteger(cmd.marketId) ? this.s.markets[cmd.marketId] : undefined;
    if (m === undefined) return this.reject('MARKET_NOT_FOUND');
    if (!['trading', 'cancelOnly', 'halted'].includes(cmd.status)) return this.reject('MARKET_STATUS_INVALID');
    m.status = cmd.status;
    return this.finish('accepted', null, null);
  }

  private setUserFrozen(cmd: SetUserFrozen): Outcome {
    if (!isUserId(cmd.userId)) return this.reject('USER_ID_INVALID');
    if (typeof cmd.frozen !== 'boolean') return this.reject('COMMAND_MALFORMED');
    if (!cmd.frozen) {
      this.s.frozen.delete(cmd.userId);
      return this.finish('accepted', null, null);
    }
    // Freezing opens the account of a user not seen yet, within the account limit.
    if (!this.s.accounts.has(cmd.userId) && this.s.accounts.size >= this.limits.usersMax)
      return this.reject('CAPACITY_USERS');
    this.balances(cmd.userId);
    this.s.frozen.add(cmd.userId);
    return this.finish('accepted', null, null);
  }

  /** What a market answers to new orders and amends (null: it trades). */
  private orderRefusal(m: RefMarket): RejectCode | null {
    return m.status === 'trading' ? null : m.status === 'halted' ? 'MARKET_HALTED' : 'MARKET_CANCEL_ONLY';
  }

  // --- wallet ----------------------------------------------------------------------------------------------

  private movementError(userId: unknown, assetId: unknown, amount: unknown): RejectCode | null {
    if (!isUserId(userId)) return 'WALLET_USER_INVALID';
    if (typeof assetId !== 'number' || !Number.isSafeInteger(assetId) || this.s.assetDecimals[assetId] === undefined)
      return 'WALLET_ASSET_UNKNOWN';
    if (typeof amount !== 'bigint') return 'COMMAND_MALFORMED';
    if (amount <= 0n) return 'WALLET_AMOUNT_NOT_POSITIVE';
    if (amount > UINT256_MAX) return 'WALLET_AMOUNT_OVERFLOW';
    return null;
  }

  private deposit(cmd: Deposit): Outcome {
    const s = this.s;
    const code = this.movementError(cmd.userId, cmd.assetId, cmd.amount);
    if (code !== null) return this.reject(code);
    if (!isPrintable(cmd.depositId, 128)) return this.reject('DEPOSIT_ID_INVALID');
    for (const [id, t] of s.depositIds) if (s.nowMs - t >= this.limits.depositIdWindowMs) s.depositIds.delete(id);
    if (s.depositIds.has(cmd.depositId)) return this.reject('DEPOSIT_DUPLICATE');
    if (s.depositIds.size >= this.limits.depositIdsMax) return this.reject('CAPACITY_DEPOSIT_IDS');
    if (s.deposited[cmd.assetId] - s.withdrawn[cmd.assetId] + cmd.amount > UINT256_MAX)
      return this.reject('RISK_BALANCE_OVERFLOW');
    if (!s.accounts.has(cmd.userId) && s.accounts.size >= this.limits.usersMax) return this.reject('CAPACITY_USERS');
    s.depositIds.set(cmd.depositId, s.nowMs);
    this.balances(cmd.userId).available[cmd.assetId] += cmd.amount;
    s.deposited[cmd.assetId] += cmd.amount;
    return this.finish('accepted', null, null);
  }

  private requestWithdrawal(cmd: RequestWithdrawal): Outcome {
    const s = this.s;
    const code = this.movementError(cmd.userId, cmd.assetId, cmd.amount);
    if (code !== null) return this.reject(code);
    if (s.frozen.has(cmd.userId)) return this.reject('USER_FROZEN');
    if (!isPrintable(cmd.withdrawalId, 128)) return this.reject('WITHDRAWAL_ID_INVALID');
    if (!isPrintable(cmd.destination, 128)) return this.reject('WITHDRAWAL_DESTINATION_INVALID');
    if (s.withdrawals.has(cmd.withdrawalId)) return this.reject('WITHDRAWAL_ID_DUPLICATE');
    if (s.withdrawals.size >= this.limits.pendingWithdrawalsMax) return this.reject('CAPACITY_PENDING_WITHDRAWALS');
    const b = s.accounts.get(cmd.userId);
    if (b === undefined || b.available[cmd.assetId] < cmd.amount) return this.reject('RISK_INSUFFICIENT_FUNDS');
    b.available[cmd.assetId] -= cmd.amount;
    b.pending[cmd.assetId] += cmd.amount;
    s.withdrawals.set(cmd.withdrawalId, { userId: cmd.userId, assetId: cmd.assetId, amount: cmd.amount });
    return this.finish('accepted', null, null);
  }

  private finishWithdrawal(cmd: CompleteWithdrawal | FailWithdrawal, completed: boolean): Outcome {
    if (!isPrintable(cmd.withdrawalId, 128)) return this.reject('WITHDRAWAL_ID_INVALID');
    const w = this.s.withdrawals.get(cmd.withdrawalId);
    if (w === undefined) return this.reject('WITHDRAWAL_NOT_FOUND');
    this.s.withdrawals.delete(cmd.withdrawalId);
    const b = this.balances(w.userId);
    b.pending[w.assetId] -= w.amount;
    if (completed) this.s.withdrawn[w.assetId] += w.amount;
    else b.available[w.assetId] += w.amount;
    return this.finish('accepted', null, null);
  }

  private balances(userId: number): Balances {
    let b = this.s.accounts.get(userId);
    if (b === undefined) {
      b = { available: [], held: [], pending: [] };
      padBalances(b, this.s.assetDecimals.length);
      this.s.accounts.set(userId, b);
    }
    return b;
  }

  // --- placing orders --------------------------------------------------------------------------------------

  private placeOrder(cmd: PlaceOrder): Outcome {
    if (!isUserId(cmd.userId)) return this.reject('ORDER_USER_INVALID');
    const clientOrderId = cmd.clientOrderId ?? null;
    if (clientOrderId === null) return this.placeNew(cmd);
    if (!isPrintable(clientOrderId, 64)) return this.reject('ORDER_CLIENT_ID_INVALID');
    // Client ids are forgotten after the window, checked when the user places an order with one.
    const now = this.s.nowMs;
    const entries = (this.s.clientIds.get(cmd.userId) ?? []).filter(
      (x) => now - x.timeMs < this.limits.clientOrderIdWindowMs,
    );
    this.s.clientIds.set(cmd.userId, entries);
    const first = entries.find((x) => x.clientOrderId === clientOrderId);
    if (first !== undefined) return this.finish(first.status, first.code, first.orderId, first.cmdId);
    if (entries.length >= this.limits.clientOrderIdsPerUserMax) return this.reject('CAPACITY_CLIENT_ORDER_IDS');
    const out = this.placeNew(cmd);
    entries.push({
      clientOrderId,
      timeMs: now,
      cmdId: cmd.id,
      status: out.status,
      code: out.code,
      orderId: out.orderId,
    });
    return out;
  }

  private placeNew(cmd: PlaceOrder): Outcome {
    const s = this.s;
    if (s.frozen.has(cmd.userId)) return this.reject('USER_FROZEN');
    const m = Number.isSafeInteger(cmd.marketId) ? s.markets[cmd.marketId] : undefined;
    if (m === undefined) return this.reject('ORDER_MARKET_UNKNOWN');
    const refusal = this.orderRefusal(m);
    if (refusal !== null) return this.reject(refusal);
    const spec = parseSpec(cmd, m);
    if (typeof spec === 'string') return this.reject(spec);
    const isStop = cmd.orderType === 'stopLimit' || cmd.orderType === 'stopMarket';
    const isPriced = cmd.orderType === 'limit' || cmd.orderType === 'stopLimit';
    const isBuy = cmd.side === 'buy';

    if (isPriced && notional(m, spec.price, spec.qty) < m.minNotional) return this.reject('ORDER_NOTIONAL_TOO_SMALL');
    if (spec.budget > 0n && spec.budget < m.minNotional) return this.reject('ORDER_NOTIONAL_TOO_SMALL');
    if (isStop && m.last !== 0 && (isBuy ? m.last >= spec.stopPrice : m.last <= spec.stopPrice))
      return this.reject('ORDER_STOP_WOULD_TRIGGER');
    if (spec.postOnly && this.wouldTake(m, cmd.side, spec.price)) return this.reject('ORDER_POST_ONLY_WOULD_TAKE');
    const account = s.accounts.get(cmd.userId);
    if (account === undefined) return this.reject('RISK_INSUFFICIENT_FUNDS');
    const mayRest = isStop || (cmd.orderType === 'limit' && spec.tif === 'GTC');
    const userOpen = s.orders.filter((o) => o.userId === cmd.userId);
    if (mayRest && userOpen.length >= this.limits.openOrdersPerUserMax)
      return this.reject('CAPACITY_OPEN_ORDERS_PER_USER');
    if (mayRest && s.orders.length >= this.limits.openOrdersMax) return this.reject('CAPACITY_OPEN_ORDERS_TOTAL');
    if (isStop && userOpen.filter((o) => o.where === 'stop').length >= this.limits.stopOrdersPerUserMax)
      return this.reject('CAPACITY_STOP_ORDERS_PER_USER');
    if (isStop && s.orders.filter((o) => o.where === 'stop').length >= this.limits.stopOrdersMax)
      return this.reject('CAPACITY_STOP_ORDERS_TOTAL');

    const order: RefOrder = {
      id: s.nextOrderId,
      userId: cmd.userId,
      marketId: m.id,
      side: cmd.side,
      type: cmd.orderType,
      tif: spec.tif,
      postOnly: spec.postOnly,
      stp: spec.stp,
      price: spec.price,
      stopPrice: spec.stopPrice,
      qty: spec.qty,
      filled: 0,
      remaining: spec.qty,
      budget: spec.budget,
      holdAsset: isBuy ? m.quote : m.base,
      held: 0n,
      clientOrderId: cmd.clientOrderId ?? null,
      queueSeq: 0,
      where: 'taker',
    };
    order.held = this.placementHold(m, order);
    if (cmd.orderType === 'limit' && spec.tif === 'FOK' && !this.fillsCompletely(m, order))
      return this.reject('ORDER_FOK_NOT_FILLABLE');
    if (account.available[order.holdAsset] < order.held) return this.reject('RISK_INSUFFICIENT_FUNDS');

    s.nextOrderId++;
    account.available[order.holdAsset] -= order.held;
    account.held[order.holdAsset] += order.held;
    if (isStop) {
      order.where = 'stop';
      order.queueSeq = s.nextQueueSeq++;
      s.orders.push(order);
    } else {
      this.execute(m, order);
      this.triggerStops(m);
    }
    return this.finish('accepted', null, order.id);
  }

  /** Sells hold their base; buys hold their budget, or the cost of the book walk, or price x qty; plus fees. */
  private placementHold(m: RefMarket, o: RefOrder): bigint {
    if (o.side === 'sell') return BigInt(o.qty) * m.lot;
    if (o.budget > 0n) return o.budget;
    if (o.type === 'market') {
      // Walk the asks (own orders included) for the quantity, plus the taker fee on the total.
      let left = o.qty;
      let cost = 0n;
      for (const ask of this.side(m, 'sell')) {
        const take = Math.min(left, ask.remaining);
        cost += notional(m, ask.price, take);
        left -= take;
        if (left === 0) break;
      }
      return cost + feeOf(cost, m.takerBps);
    }
    return this.limitBuyHold(m, o.price, o.qty);
  }

  /** A buy limit may fill as maker or taker: it holds the fee at the higher rate. */
  private limitBuyHold(m: RefMarket, priceTicks: number, lots: number): bigint {
    const n = notional(m, priceTicks, lots);
    return n + feeOf(n, maxBig(m.makerBps, m.takerBps));
  }

  private requiredHold(m: RefMarket, o: RefOrder): bigint {
    return o.side === 'buy' ? this.limitBuyHold(m, o.price, o.remaining) : BigInt(o.remaining) * m.lot;
  }

  /** FOK: run the order as IOC on a copy of the whole state and see whether it filled completely. */
  private fillsCompletely(m: RefMarket, order: RefOrder): boolean {
    const saved = this.s;
    this.s = structuredClone(saved);
    try {
      const probe: RefOrder = { ...order, tif: 'IOC' };
      this.match(this.s.markets[m.id], probe);
      // Against the quantity asked for: decrement-and-cancel lowers the probe's own quantity, without fills.
      return probe.filled === order.qty;
    } finally {
      this.s = saved;
    }
  }

  private wouldTake(m: RefMarket, side: Side, priceTicks: number): boolean {
    const best = this.side(m, side === 'buy' ? 'sell' : 'buy')[0];
    return best !== undefined && (side === 'buy' ? best.price <= priceTicks : best.price >= priceTicks);
  }

  // --- the book --------------------------------------------------------------------------------------------

  /** One side of the book, best first: price, then time. */
  private side(m: RefMarket, side: Side): RefOrder[] {
    const sign = side === 'buy' ? -1 : 1;
    return this.s.orders
      .filter((o) => o.marketId === m.id && o.where === 'book' && o.side === side)
      .sort((a, b) => sign * (a.price - b.price) || a.queueSeq - b.queueSeq);
  }

  /** Pending stops of one side, in trigger order: buys lowest stop first, sells highest; then time. */
  private stops(m: RefMarket, side: Side): RefOrder[] {
    const sign = side === 'buy' ? 1 : -1;
    return this.s.orders
      .filter((o) => o.marketId === m.id && o.where === 'stop' && o.side === side)
      .sort((a, b) => sign * (a.stopPrice - b.stopPrice) || a.queueSeq - b.queueSeq);
  }

  private rest(o: RefOrder): void {
    o.where = 'book';
    o.queueSeq = this.s.nextQueueSeq++;
    if (!this.s.orders.includes(o)) this.s.orders.push(o);
  }

  private unlist(o: RefOrder): void {
    this.s.orders = this.s.orders.filter((x) => x !== o);
    o.where = 'done';
  }

  /** Sets an order's hold, moving the difference between the user's available and held. */
  private setHold(o: RefOrder, held: bigint): void {
    const b = this.balances(o.userId);
    b.available[o.holdAsset] -= held - o.held;
    b.held[o.holdAsset] += held - o.held;
    o.held = held;
  }

  /** Cancel or expire: off every list, the whole remaining hold back to available. */
  private close(o: RefOrder, kind: 'canceled' | 'expired'): void {
    this.unlist(o);
    this.setHold(o, 0n);
    this.s.out.closed.push(`${kind}:${o.id}`);
  }

  // --- matching --------------------------------------------------------------------------------------------

  /** Matches a taker, then rests what is left (GTC limits) or expires it. */
  private execute(m: RefMarket, taker: RefOrder): void {
    taker.where = 'taker';
    if (taker.budget > 0n) {
      // A budget buy is given the most lots its budget buys at the best ask (fees aside): prices only rise.
      const best = this.side(m, 'sell')[0];
      const lots = best === undefined ? 0n : taker.budget / (BigInt(best.price) * m.unit);
      taker.qty = taker.remaining = lots > BigInt(SAFE) ? SAFE : Number(lots);
    }
    const stoppedEarly = this.match(m, taker);
    if (isDone(taker)) return; // filled, or decremented to nothing
    const isLimit = taker.type === 'limit' || taker.type === 'stopLimit';
    if (!stoppedEarly && isLimit && taker.tif === 'GTC') this.rest(taker);
    else this.close(taker, 'expired');
  }

  /** Fills the taker against the best maker until it is done or does not cross; true if it had to stop early. */
  private match(m: RefMarket, taker: RefOrder): boolean {
    const isBuy = taker.side === 'buy';
    const isMarket = taker.type === 'market' || taker.type === 'stopMarket';
    while (taker.remaining > 0) {
      const maker = this.side(m, isBuy ? 'sell' : 'buy')[0];
      if (maker === undefined) return false;
      if (!isMarket && (isBuy ? maker.price > taker.price : maker.price < taker.price)) return false;
      if (maker.userId === taker.userId && taker.stp !== 'none') {
        if (this.preventSelfTrade(m, taker, maker)) return true;
        continue;
      }
      const wanted = Math.min(taker.remaining, maker.remaining);
      let lots = wanted;
      // A market buy pays from what it holds: it takes what the hold pays for in one fill, and if that is
      // less than it wanted from this maker, its money has run out there.
      if (isBuy && isMarket) while (lots > 0 && this.takerBuyCost(m, maker.price, lots) > taker.held) lots--;
      if (lots > 0) this.fill(m, taker, maker, lots);
      if (lots < wanted) return true;
    }
    return false;
  }

  private takerBuyCost(m: RefMarket, priceTicks: number, lots: number): bigint {
    const n = notional(m, priceTicks, lots);
    return n + feeOf(n, m.takerBps);
  }

  /** The taker's STP mode decides; true when the taker must stop. */
  private preventSelfTrade(m: RefMarket, taker: RefOrder, maker: RefOrder): boolean {
    switch (taker.stp) {
      case 'expireTaker':
        return true;
      case 'expireMaker':
        this.close(maker, 'expired');
        return false;
      case 'expireBoth':
        this.close(maker, 'expired');
        return true;
      case 'decrementAndCancel': {
        const lots = Math.min(taker.remaining, maker.remaining);
        this.decrement(m, maker, lots);
        this.decrement(m, taker, lots);
        return taker.remaining === 0;
      }
      default:
        throw new Error(`reference: STP mode ${taker.stp}`);
    }
  }

  /** Takes lots off an order without trading; an order left with nothing is expired. */
  private decrement(m: RefMarket, o: RefOrder, lots: number): void {
    if (o.remaining === lots) {
      this.close(o, 'expired');
      o.remaining = 0;
      return;
    }
    o.remaining -= lots;
    o.qty -= lots;
    // Priced orders and sells shrink their hold to the new quantity; market buys keep theirs to pay with.
    if (o.type === 'limit' || o.type === 'stopLimit' || o.side === 'sell') this.setHold(o, this.requiredHold(m, o));
  }

  /** One trade at the maker's price: buyer pays quote + its fee from its hold, seller gets quote - its fee. */
  private fill(m: RefMarket, taker: RefOrder, maker: RefOrder, lots: number): void {
    const base = BigInt(lots) * m.lot;
    const quote = notional(m, maker.price, lots);
    const makerFee = feeOf(quote, m.makerBps);
    const takerFee = feeOf(quote, m.takerBps);
    const buyer = taker.side === 'buy' ? taker : maker;
    const seller = taker.side === 'buy' ? maker : taker;
    const buyerFee = buyer === taker ? takerFee : makerFee;
    const sellerFee = seller === taker ? takerFee : makerFee;
    if (buyer.held < quote + buyerFee)
      throw new Error(`reference: order ${buyer.id} holds ${buyer.held} < ${quote + buyerFee}`);
    if (seller.held < base) throw new Error(`reference: order ${seller.id} holds ${seller.held} < ${base}`);

    const buyerBal = this.balances(buyer.userId);
    buyer.held -= quote + buyerFee;
    buyerBal.held[m.quote] -= quote + buyerFee;
    buyerBal.available[m.base] += base;
    const sellerBal = this.balances(seller.userId);
    seller.held -= base;
    sellerBal.held[m.base] -= base;
    sellerBal.available[m.quote] += quote - sellerFee;
    this.s.fees[m.quote] += makerFee + takerFee;

    for (const o of [maker, taker]) {
      o.remaining -= lots;
      o.filled += lots;
    }
    m.last = maker.price;
    this.s.out.trades.push({
      marketId: m.id,
      makerOrderId: maker.id,
      takerOrderId: taker.id,
      makerUserId: maker.userId,
      takerUserId: taker.userId,
      priceTicks: maker.price,
      qtyLots: lots,
      baseAmount: base,
      quoteAmount: quote,
      makerFee,
      takerFee,
    });
    // A completed order releases what its hold has left (a better price, a lower fee rate).
    for (const o of [maker, taker]) {
      if (o.remaining > 0) continue;
      this.unlist(o);
      this.setHold(o, 0n);
    }
  }

  /** Stops met by the last price trigger one at a time, the older of the two sides' first candidates first. */
  private triggerStops(m: RefMarket): void {
    for (;;) {
      if (m.last === 0) return;
      const buy = this.stops(m, 'buy').find((o) => o.stopPrice <= m.last);
      const sell = this.stops(m, 'sell').find((o) => o.stopPrice >= m.last);
      const next = buy === undefined ? sell : sell === undefined ? buy : buy.id < sell.id ? buy : sell;
      if (next === undefined) return;
      this.execute(m, next);
    }
  }

  // --- cancel and amend ------------------------------------------------------------------------------------

  private ownOpenOrder(userId: number, orderId: unknown): RefOrder | undefined {
    return this.s.orders.find((o) => o.id === orderId && o.userId === userId);
  }

  private cancelOrder(cmd: CancelOrder): Outcome {
    if (!isUserId(cmd.userId)) return this.reject('ORDER_USER_INVALID');
    if (cmd.orderId === undefined && cmd.clientOrderId === undefined) return this.reject('COMMAND_MALFORMED');
    let id: unknown = cmd.orderId;
    // A client id resolves through the user's remembered ids as last purged (placements purge, cancels do not).
    if (id === undefined)
      id = this.s.clientIds.get(cmd.userId)?.find((x) => x.clientOrderId === cmd.clientOrderId)?.orderId;
    const o = typeof id === 'number' ? this.ownOpenOrder(cmd.userId, id) : undefined;
    if (o === undefined) return this.reject('ORDER_NOT_FOUND');
    if (this.s.markets[o.marketId].status === 'halted') return this.reject('MARKET_HALTED');
    this.close(o, 'canceled');
    return this.finish('accepted', null, o.id);
  }

  private cancelAll(cmd: CancelAll): Outcome {
    if (!isUserId(cmd.userId)) return this.reject('ORDER_USER_INVALID');
    if (
      cmd.marketId !== undefined &&
      (!Number.isSafeInteger(cmd.marketId) || this.s.markets[cmd.marketId] === undefined)
    )
      return this.reject('CANCEL_MARKET_UNKNOWN');
    if (cmd.marketId !== undefined && this.s.markets[cmd.marketId].status === 'halted')
      return this.reject('MARKET_HALTED');
    // Without a market: every market that takes cancels; a halted market's orders stay.
    const victims = this.s.orders.filter(
      (o) =>
        o.userId === cmd.userId &&
        (cmd.marketId === undefined ? this.s.markets[o.marketId].status !== 'halted' : o.marketId === cmd.marketId),
    );
    victims.sort((a, b) => a.id - b.id);
    for (const o of victims) this.close(o, 'canceled');
    return this.finish('accepted', null, null);
  }

  private amendOrder(cmd: AmendOrder): Outcome {
    if (!isUserId(cmd.userId)) return this.reject('ORDER_USER_INVALID');
    if (this.s.frozen.has(cmd.userId)) return this.reject('USER_FROZEN');
    const o = this.ownOpenOrder(cmd.userId, cmd.orderId);
    if (o === undefined) return this.reject('ORDER_NOT_FOUND');
    const refusal = this.orderRefusal(this.s.markets[o.marketId]);
    if (refusal !== null) return this.reject(refusal);
    if (o.where === 'stop' || (o.type !== 'limit' && o.type !== 'stopLimit'))
      return this.reject('AMEND_NOT_SUPPORTED_FOR_TYPE');
    const m = this.s.markets[o.marketId];
    const qty = cmd.quantity === undefined ? o.qty : steps(cmd.quantity, m.lot, 'QTY');
    if (typeof qty === 'string') return this.reject(qty);
    const price = cmd.price === undefined ? o.price : steps(cmd.price, m.tick, 'PRICE');
    if (typeof price === 'string') return this.reject(price);
    if (qty === o.qty && price === o.price) return this.reject('AMEND_NOTHING_TO_CHANGE');
    if (qty <= o.filled) return this.reject('AMEND_QTY_NOT_ABOVE_FILLED');

    if (price === o.price && qty < o.qty) {
      // Smaller at the same price: keeps its place in the queue, holds only what it now needs.
      o.remaining -= o.qty - qty;
      o.qty = qty;
      this.setHold(o, this.requiredHold(m, o));
      return this.finish('accepted', null, o.id);
    }
    // Anything else re-enters the book at the back of its level, and trades first if it crosses.
    const remaining = qty - o.filled;
    const need = o.side === 'buy' ? this.limitBuyHold(m, price, remaining) : BigInt(remaining) * m.lot;
    if (notional(m, price, qty) < m.minNotional) return this.reject('ORDER_NOTIONAL_TOO_SMALL');
    if (o.postOnly && this.wouldTake(m, o.side, price)) return this.reject('AMEND_POST_ONLY_WOULD_TAKE');
    if (this.balances(o.userId).available[o.holdAsset] + o.held < need) return this.reject('RISK_INSUFFICIENT_FUNDS');
    o.price = price;
    o.qty = qty;
    o.remaining = remaining;
    this.setHold(o, need);
    this.execute(m, o);
    this.triggerStops(m);
    return this.finish('accepted', null, o.id);
  }

  // --- views -----------------------------------------------------------------------------------------------

  /** Open orders of a user (for the command generator). */
  openOrders(userId: number): ReadonlyArray<Readonly<RefOrder>> {
    return this.s.orders.filter((o) => o.userId === userId);
  }

  lastPriceTicks(marketId: number): number {
    return this.s.markets[marketId]?.last ?? 0;
  }

  view(): ExchangeView {
    const s = this.s;
    const balances: Record<string, string> = {};
    for (const userId of [...s.accounts.keys()].sort((a, b) => a - b)) {
      const b = s.accounts.get(userId) as Balances;
      b.available.forEach(
        (_, asset) => (balances[`${userId}/${asset}`] = `${b.available[asset]}/${b.held[asset]}/${b.pending[asset]}`),
      );
    }
    const levels = (orders: RefOrder[], key: (o: RefOrder) => number): LevelView[] => {
      const out: LevelView[] = [];
      for (const o of orders) {
        const last = out[out.length - 1];
        if (last !== undefined && last.priceTicks === key(o)) {
          last.totalLots += o.remaining;
          last.orderIds.push(o.id);
        } else out.push({ priceTicks: key(o), totalLots: o.remaining, orderIds: [o.id] });
      }
      return out;
    };
    const markets = s.markets
      .filter((m) => m !== undefined)
      .map((m) => ({
        marketId: m.id,
        lastPriceTicks: m.last,
        status: m.status,
        bids: levels(this.side(m, 'buy'), (o) => o.price),
        asks: levels(this.side(m, 'sell'), (o) => o.price),
        buyStops: levels(this.stops(m, 'buy'), (o) => o.stopPrice),
        sellStops: levels(this.stops(m, 'sell'), (o) => o.stopPrice),
      }));
    const orders = [...s.orders]
      .sort((a, b) => a.id - b.id)
      .map((o) => ({
        orderId: o.id,
        userId: o.userId,
        marketId: o.marketId,
        side: o.side,
        priceTicks: o.price,
        stopPriceTicks: o.stopPrice,
        qtyLots: o.qty,
        filledLots: o.filled,
        remainingLots: o.remaining,
        held: o.held,
      }));
    return { balances, fees: [...s.fees], markets, orders, frozenUsers: [...s.frozen].sort((a, b) => a - b) };
  }
}

/** A function rather than an inline test, so the compiler does not narrow `where` across the calls that change it. */
function isDone(o: RefOrder): boolean {
  return o.where === 'done';
}

function emptyOutcome(): Outcome {
  return { status: 'accepted', code: null, orderId: null, duplicateOf: null, trades: [], closed: [] };
}

function padBalances(b: Balances, assets: number): void {
  while (b.available.length < assets) {
    b.available.push(0n);
    b.held.push(0n);
    b.pending.push(0n);
  }
}

interface Spec {
  price: number;
  stopPrice: number;
  qty: number;
  budget: bigint;
  tif: TimeInForce;
  postOnly: boolean;
  stp: StpMode;
}

/** Validates a placeOrder's fields into ticks and lots; the checks and their order mirror the engine's. */
function parseSpec(cmd: PlaceOrder, m: RefMarket): Spec | RejectCode {
  if (cmd.side !== 'buy' && cmd.side !== 'sell') return 'ORDER_SIDE_INVALID';
  const stp = cmd.stp ?? 'none';
  if (!['none', 'expireTaker', 'expireMaker', 'expireBoth', 'decrementAndCancel'].includes(stp))
    return 'ORDER_STP_INVALID';
  if (cmd.postOnly !== undefined && typeof cmd.postOnly !== 'boolean') return 'COMMAND_MALFORMED';
  const spec: Spec = { price: 0, stopPrice: 0, qty: 0, budget: 0n, tif: 'IOC', postOnly: cmd.postOnly === true, stp };
  const type = cmd.orderType;
  if (type !== 'limit' && type !== 'stopLimit' && type !== 'market' && type !== 'stopMarket')
    return 'ORDER_TYPE_INVALID';
  if (type === 'stopLimit' || type === 'stopMarket') {
    const stop = steps(cmd.stopPrice, m.tick, 'STOP_PRICE');
    if (typeof stop === 'string') return stop;
    spec.stopPrice = stop;
  }
  if (type === 'limit' || type === 'stopLimit') {
    spec.tif = cmd.timeInForce ?? 'GTC';
    if (!['GTC', 'IOC', 'FOK'].includes(spec.tif)) return 'ORDER_TIF_INVALID';
    if (spec.postOnly && (spec.tif !== 'GTC' || type !== 'limit')) return 'ORDER_POST_ONLY_NOT_GTC';
    if (type === 'stopLimit' && spec.tif === 'FOK') return 'ORDER_TIF_INVALID';
    if (cmd.quoteQuantity !== undefined) return 'ORDER_QUOTE_QTY_NOT_ALLOWED';
    if (type === 'limit' && cmd.stopPrice !== undefined) return 'ORDER_STOP_PRICE_NOT_ALLOWED';
    const price = steps(cmd.price, m.tick, 'PRICE');
    if (typeof price === 'string') return price;
    const qty = steps(cmd.quantity, m.lot, 'QTY');
    if (typeof qty === 'string') return qty;
    return { ...spec, price, qty };
  }
  if (cmd.timeInForce !== undefined && cmd.timeInForce !== 'IOC') return 'ORDER_TIF_INVALID';
  if (spec.postOnly) return 'ORDER_POST_ONLY_NOT_GTC';
  if (cmd.price !== undefined) return 'ORDER_PRICE_NOT_ALLOWED';
  if (type === 'market' && cmd.stopPrice !== undefined) return 'ORDER_STOP_PRICE_NOT_ALLOWED';
  if (cmd.quoteQuantity !== undefined) {
    if (cmd.quantity !== undefined) return 'ORDER_QTY_AND_QUOTE_QTY';
    if (cmd.side !== 'buy') return 'ORDER_QUOTE_QTY_NOT_ALLOWED';
    if (typeof cmd.quoteQuantity !== 'bigint') return 'COMMAND_MALFORMED';
    if (cmd.quoteQuantity <= 0n) return 'ORDER_QUOTE_QTY_NOT_POSITIVE';
    if (cmd.quoteQuantity > UINT256_MAX) return 'ORDER_QUOTE_QTY_OVERFLOW';
    return { ...spec, budget: cmd.quoteQuantity, qty: 0 }; // its quantity comes from the book when it executes
  }
  if (type === 'stopMarket' && cmd.side === 'buy') return 'ORDER_STOP_MARKET_BUY_NEEDS_QUOTE_QTY';
  const qty = steps(cmd.quantity, m.lot, 'QTY');
  if (typeof qty === 'string') return qty;
  return { ...spec, qty };
}
