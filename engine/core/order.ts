// State records: assets, markets, accounts and orders. Mutable, owned by the engine state.

import type { MarketStatus, OrderType, Side, StpMode, TimeInForce } from './commands.js';
import type { BookSide, Level } from './book-side.js';

export interface Asset {
  readonly assetId: number;
  readonly symbol: string;
  readonly decimals: number;
}

export class Order {
  // Intrusive links: FIFO within a price level, and the user's list of open orders.
  level: Level | null = null;
  prev: Order | null = null;
  next: Order | null = null;
  userPrev: Order | null = null;
  userNext: Order | null = null;
  filledLots = 0;
  /** True while the order waits in the stop book for its trigger. */
  isStopPending = false;
  /** True while the order is in the engine's open-order index: set by register(), cleared by unregister(). */
  registered = false;

  constructor(
    readonly orderId: number,
    readonly userId: number,
    readonly marketId: number,
    readonly side: Side,
    readonly orderType: OrderType,
    readonly timeInForce: TimeInForce,
    readonly postOnly: boolean,
    readonly stp: StpMode,
    public priceTicks: number,
    readonly stopPriceTicks: number,
    /** Total quantity of the order (amend may lower or raise it). */
    public qtyLots: number,
    public remainingLots: number,
    /** Market buys by quote: the budget, fees included; else 0n. */
    readonly quoteBudget: bigint,
    readonly holdAssetId: number,
    /** What is still held for this order; released when it closes. */
    public held: bigint,
    readonly clientOrderId: string | null,
    readonly createdMs: number,
  ) {}
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
