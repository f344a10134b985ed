// State records: assets, markets, accounts and orders. Mutable, owned by the engine state.

import type { MarketStatus, OrderType, Side, StpMode, TimeInForce } from './commands.js';
import type { BookSide } from './book-side.js';
import { ORDER_TYPES, SIDES, STP_MODES, TIME_IN_FORCES } from './formats.js';
import { assert } from './units.js';

export interface Asset {
  readonly assetId: number;
  readonly symbol: string;
  readonly decimals: number;
}

// An order's closed-list fields (side, type, time in force, STP mode) and flags share one small integer: a
// million resting orders are a million objects, and each field of an object costs 8 bytes. The bit layout is
// built from formats.ts's lists, so a value added there gets its bits here without a second copy.
const bitsFor = (values: readonly unknown[]): number => Math.max(1, Math.ceil(Math.log2(values.length)));

interface BitField<T> {
  readonly shift: number;
  readonly mask: number;
  readonly values: readonly T[];
}

let bitsUsed = 0;
function bitField<T>(values: readonly T[]): BitField<T> {
  const shift = bitsUsed;
  bitsUsed += bitsFor(values);
  return { shift, mask: (1 << bitsFor(values)) - 1, values };
}
function flag(): number {
  return 1 << bitsUsed++;
}

const SIDE = bitField<Side>(SIDES);
const TYPE = bitField<OrderType>(ORDER_TYPES);
const TIF = bitField<TimeInForce>(TIME_IN_FORCES);
const STP = bitField<StpMode>(STP_MODES);
const POST_ONLY = flag();
const STOP_PENDING = flag();
const REGISTERED = flag();
const ON_BOOK = flag();
/**
 * Above the layout's bits, the same field holds the high part of the order's creation time: one field fewer per
 * order. The field is `bits + createdMsHigh * CREATED_HIGH_UNIT`: a small integer (31 bits) for any time before
 * 2^(61 - bitsUsed) ms, an exact boxed number beyond. Reading the low bits with `&` is exact at any size (it
 * works modulo 2^32), but writing with `|` would cut the high part, so flags are set by adding and subtracting.
 */
const CREATED_HIGH_UNIT = 2 ** bitsUsed;
// 2^49 ms is the year 19,800: real clocks keep the field a small integer (a larger command time is still exact).
assert(bitsUsed <= 12, 'the order bits leave 19 bits of a small integer for the creation time');

function encode<T>(field: BitField<T>, value: T): number {
  const index = field.values.indexOf(value);
  // Not assert(): its message would be built on every call, and this runs for every order placed.
  if (index < 0) throw new Error(`invariant violated: order field value ${String(value)} is one of its list`);
  return index << field.shift;
}

const decode = <T>(field: BitField<T>, bits: number): T => field.values[(bits >>> field.shift) & field.mask];

/** Command times (ms since 1970, above 2^31) kept as two small integers: one boxed number per order costs more. */
const CREATED_MS_SPLIT = 2 ** 30;

/**
 * What few orders have: a stop price (stop orders), a quote budget (market buys by quote) and a client order id.
 * Kept out of the Order, whose field holds the low part of the creation time instead when the order has none of
 * them (a plain limit order): the record then carries that time.
 */
class OrderRare {
  constructor(
    readonly stopPriceTicks: number,
    readonly quoteBudget: bigint,
    readonly clientOrderId: string | null,
    readonly createdMsLow: number,
  ) {}
}

export class Order {
  // Intrusive links: FIFO within a price level, and the user's list of open orders. The level itself is not
  // kept (8 bytes per order): its side finds it by the order's key price (book-side.ts).
  prev: Order | null = null;
  next: Order | null = null;
  userPrev: Order | null = null;
  userNext: Order | null = null;
  /** The next order in its OrderTable bucket (order-table.ts). */
  hashNext: Order | null = null;
  readonly orderId: number;
  readonly userId: number;
  /** The market; the order's market id and hold asset are read from it. */
  readonly market: Market;
  /**
   * Side, type, time in force, STP mode, post-only, stop pending, registered and on a level, and above them the high part of
   * the creation time (see the layout above).
   */
  private bits: number;
  priceTicks: number;
  /** Total quantity of the order (amend may lower or raise it). Filled lots are qtyLots - remainingLots. */
  qtyLots: number;
  remainingLots: number;
  /** What is still held for this order; released when it closes. */
  held: bigint;
  /**
   * Stop price, quote budget, client order id and the low part of the creation time; or, for an order with none
   * of the first three, that time alone (a small integer): one field for both, 8 bytes less per order.
   */
  private readonly rare: OrderRare | number;

  constructor(
    orderId: number,
    userId: number,
    market: Market,
    side: Side,
    orderType: OrderType,
    timeInForce: TimeInForce,
    postOnly: boolean,
    stp: StpMode,
    priceTicks: number,
    stopPriceTicks: number,
    qtyLots: number,
    quoteBudget: bigint,
    held: bigint,
    clientOrderId: string | null,
    createdMs: number,
  ) {
    assert(Number.isSafeInteger(createdMs) && createdMs >= 0, 'an order is created at a command time');
    this.orderId = orderId;
    this.userId = userId;
    this.market = market;
    this.bits =
      (encode(SIDE, side) |
        encode(TYPE, orderType) |
        encode(TIF, timeInForce) |
        encode(STP, stp) |
        (postOnly ? POST_ONLY : 0)) +
      Math.floor(createdMs / CREATED_MS_SPLIT) * CREATED_HIGH_UNIT;
    this.priceTicks = priceTicks;
    this.qtyLots = qtyLots;
    this.remainingLots = qtyLots;
    this.held = held;
    const createdMsLow = createdMs % CREATED_MS_SPLIT;
    this.rare =
      stopPriceTicks === 0 && quoteBudget === 0n && clientOrderId === null
        ? createdMsLow
        : new OrderRare(stopPriceTicks, quoteBudget, clientOrderId, createdMsLow);
  }

  get stopPriceTicks(): number {
    return typeof this.rare === 'number' ? 0 : this.rare.stopPriceTicks;
  }
  /** Market buys by quote: the budget, fees included; else 0n. */
  get quoteBudget(): bigint {
    return typeof this.rare === 'number' ? 0n : this.rare.quoteBudget;
  }
  get clientOrderId(): string | null {
    return typeof this.rare === 'number' ? null : this.rare.clientOrderId;
  }
  get marketId(): number {
    return this.market.marketId;
  }
  get side(): Side {
    return decode(SIDE, this.bits);
  }
  get orderType(): OrderType {
    return decode(TYPE, this.bits);
  }
  get timeInForce(): TimeInForce {
    return decode(TIF, this.bits);
  }
  get stp(): StpMode {
    return decode(STP, this.bits);
  }
  get postOnly(): boolean {
    return (this.bits & POST_ONLY) !== 0;
  }
  /** Buys hold quote, sells hold base. */
  get holdAssetId(): number {
    return this.side === 'buy' ? this.market.quoteAssetId : this.market.baseAssetId;
  }
  get filledLots(): number {
    return this.qtyLots - this.remainingLots;
  }
  get createdMs(): number {
    const low = typeof this.rare === 'number' ? this.rare : this.rare.createdMsLow;
    return Math.floor(this.bits / CREATED_HIGH_UNIT) * CREATED_MS_SPLIT + low;
  }

  /** True while the order waits in the stop book for its trigger. */
  get isStopPending(): boolean {
    return (this.bits & STOP_PENDING) !== 0;
  }
  set isStopPending(on: boolean) {
    this.setFlag(STOP_PENDING, on);
  }
  /** True while the order is in the engine's open-order index: set by register(), cleared by unregister(). */
  get registered(): boolean {
    return (this.bits & REGISTERED) !== 0;
  }
  set registered(on: boolean) {
    this.setFlag(REGISTERED, on);
  }

  /** True while the order is queued on a level of a book side or a stop side: set and cleared by BookSide. */
  get onLevel(): boolean {
    return (this.bits & ON_BOOK) !== 0;
  }
  set onLevel(on: boolean) {
    this.setFlag(ON_BOOK, on);
  }

  // By addition, not `|`: the field may exceed 32 bits (the creation time above the flags).
  private setFlag(flagBit: number, on: boolean): void {
    if (((this.bits & flagBit) !== 0) !== on) this.bits += on ? flagBit : -flagBit;
  }
}

export interface MarketBook {
  readonly bids: BookSide;
  readonly asks: BookSide;
  /** Buy stops trigger when last >= stop (lowest first); sell stops when last <= stop (highest first). */
  readonly buyStops: BookSide;
  readonly sellStops: BookSide;
}

export interface Market {
  readonly marketId: number;
  readonly symbol: string;
  readonly baseAssetId: number;
  readonly quoteAssetId: number;
  readonly tickSize: bigint;
  readonly lotSize: bigint;
  readonly minNotional: bigint;
  readonly makerFeeBps: number;
  readonly takerFeeBps: number;
  // Derived at creation, never stored in snapshots.
  /** Quote base units per lot per tick: tickSize * lotSize / 10^baseDecimals, exact by construction. */
  readonly quotePerTickLot: bigint;
  /**
   * The least priceTicks x lots whose notional reaches minNotional (ceil(minNotional / quotePerTickLot)): checks a
   * safe product against it without bigints. Above 2^53 when the minimum is that large (then every safe product is
   * below it, as it should be).
   */
  readonly minNotionalTicksLots: number;
  readonly makerFeeBpsBig: bigint;
  readonly takerFeeBpsBig: bigint;
  /** Buy orders hold fees at the higher rate, since a resting order may later fill as maker or taker. */
  readonly holdFeeBpsBig: bigint;
  readonly book: MarketBook;
  /** Last trade price; 0 before the first trade. */
  lastPriceTicks: number;
  /** Set by operators (setMarketStatus); a new market trades. */
  status: MarketStatus;
}

export class Account {
  readonly available: bigint[] = [];
  readonly held: bigint[] = [];
  readonly pending: bigint[] = [];
  /** Command counter at which each asset was last marked touched (coalesces balance events). */
  readonly touchedAt: number[] = [];
  openOrders = 0;
  stopOrders = 0;
  ordersHead: Order | null = null;
  /** Set by operators (setUserFrozen): no new orders, amends or withdrawal requests. */
  frozen = false;

  constructor(readonly userId: number) {}

  ensureAsset(assetId: number): void {
    while (this.available.length <= assetId) {
      this.available.push(0n);
      this.held.push(0n);
      this.pending.push(0n);
      this.touchedAt.push(-1);
    }
  }

  link(order: Order): void {
    order.userPrev = null;
    order.userNext = this.ordersHead;
    if (this.ordersHead !== null) this.ordersHead.userPrev = order;
    this.ordersHead = order;
  }

  unlink(order: Order): void {
    if (order.userPrev === null) this.ordersHead = order.userNext;
    else order.userPrev.userNext = order.userNext;
    if (order.userNext !== null) order.userNext.userPrev = order.userPrev;
    order.userPrev = null;
    order.userNext = null;
  }
}

export interface PendingWithdrawal {
  readonly withdrawalId: string;
  readonly userId: number;
  readonly assetId: number;
  readonly amount: bigint;
  readonly destination: string;
  readonly requestedMs: number;
}
