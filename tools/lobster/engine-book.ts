// The matching engine set up as one LOBSTER-like market, with the few calls the replay needs.
// Prices are LOBSTER's (dollars x 10000) and sizes are shares: base decimals 0, quote decimals 4, tickSize 1, lotSize 1,
// so one tick is one LOBSTER price unit and one lot is one share. No fees, no minimum notional, STP none.
// The replay reads the engine's own book (levels, and the orders queued at a level) rather than a copy built from
// events, so what it compares is the structure the engine matches against.

import { COMMAND_VERSION, DEFAULT_LIMITS, Engine } from '../../engine/core/index.js';
import type { Command, EngineLimits, EngineEvent, RejectCode, Side, Trade } from '../../engine/core/index.js';
import type { BookSide } from '../../engine/core/index.js';
import type { Market, Order } from '../../engine/core/index.js';

export const MARKET_ID = 0;
const SHARES_ASSET = 0;
const USD_ASSET = 1;

/** Sends an incoming order for every execution row (LOBSTER never shows the aggressive order itself). */
export const AGGRESSOR_USER = 1;
/** Owns the liquidity the replay rests for what no message added: the seed and resync top-ups (see replay.ts). */
export const ANONYMOUS_USER = 2;
/**
 * Owns the orders the message file adds (type 1). Which resting orders the replay still holds as file orders is
 * its own bookkeeping: one it releases to anonymous liquidity stays with this user in the engine.
 */
export const FILE_USER = 3;

/** Far more than a day of NASDAQ flow can spend: funds never limit the replay. */
const DEPOSIT_UNITS = 10n ** 40n;

/** Room for every order of a whole day under one user (the defaults bound a real user far lower). */
const LIMITS: EngineLimits = { ...DEFAULT_LIMITS, openOrdersPerUserMax: 50_000_000, openOrdersMax: 50_000_000 };

export interface CommandOutcome {
  readonly accepted: boolean;
  readonly code: RejectCode | null;
  readonly orderId: number | null;
  readonly trades: Trade[];
}

export class EngineBook {
  readonly engine = new Engine(LIMITS);
  private readonly market: Market;
  private commandCount = 0;
  private timeMs = 0;

  constructor() {
    this.mustAccept({ type: 'addAsset', assetId: SHARES_ASSET, symbol: 'SHARES', decimals: 0 });
    this.mustAccept({ type: 'addAsset', assetId: USD_ASSET, symbol: 'USD', decimals: 4 });
    this.mustAccept({
      type: 'addMarket',
      marketId: MARKET_ID,
      symbol: 'LOBSTER-USD',
      baseAssetId: SHARES_ASSET,
      quoteAssetId: USD_ASSET,
      tickSize: 1n,
      lotSize: 1n,
      minNotional: 0n,
      makerFeeBps: 0,
      takerFeeBps: 0,
    });
    for (const userId of [AGGRESSOR_USER, ANONYMOUS_USER, FILE_USER]) {
      for (const assetId of [SHARES_ASSET, USD_ASSET]) {
        this.mustAccept({
          type: 'deposit',
          userId,
          assetId,
          amount: DEPOSIT_UNITS,
          depositId: `funding-${userId}-${assetId}`,
        });
      }
    }
    this.market = this.engine.markets[MARKET_ID] as Market;
  }

  /** Command time for what follows (the file's timestamps; the engine keeps time from running backwards). */
  setTime(timeMs: number): void {
    this.timeMs = timeMs;
  }

  place(userId: number, side: Side, price: number, quantity: number, timeInForce: 'GTC' | 'IOC'): CommandOutcome {
    return this.run({
      type: 'placeOrder',
      userId,
      marketId: MARKET_ID,
      side,
      orderType: 'limit',
      price: BigInt(price),
      quantity: BigInt(quantity),
      timeInForce,
    });
  }

  cancel(userId: number, orderId: number): CommandOutcome {
    return this.run({ type: 'cancelOrder', userId, orderId });
  }

  /** Lowers the order's total quantity by `lots` at the same price: it keeps its place in the queue. */
  reduce(order: Order, lots: number): CommandOutcome {
    return this.run({
      type: 'amendOrder',
      userId: order.userId,
      orderId: order.orderId,
      quantity: BigInt(order.qtyLots - lots),
    });
  }

  /** Takes `lots` off a resting order: a reduce, or a cancel when nothing would remain. */
  remove(order: Order, lots: number): CommandOutcome {
    return lots >= order.remainingLots ? this.cancel(order.userId, order.orderId) : this.reduce(order, lots);
  }

  /** The open order with this engine id, if it still rests. */
  order(orderId: number): Order | undefined {
    return this.engine.orders.get(orderId);
  }

  side(side: Side): BookSide {
    return side === 'buy' ? this.market.book.bids : this.market.book.asks;
  }

  /** Total lots resting at a price (0 when there is no level). */
  sizeAt(side: Side, price: number): number {
    return this.side(side).level(price)?.totalLots ?? 0;
  }

  /** The orders queued at a price, first in priority first. */
  queueAt(side: Side, price: number): Order[] {
    const out: Order[] = [];
    for (let o = this.side(side).level(price)?.head ?? null; o !== null; o = o.next) out.push(o);
    return out;
  }

  /** Up to `n` levels from the best, while `inside(price)` holds: prices and total lots. */
  topLevels(side: Side, n: number, inside: (price: number) => boolean): { prices: number[]; sizes: number[] } {
    const book = this.side(side);
    const prices: number[] = [];
    const sizes: number[] = [];
    let level = book.best() ?? undefined;
    while (level !== undefined && prices.length < n && inside(level.priceTicks)) {
      prices.push(level.priceTicks);
      sizes.push(level.totalLots);
      level = book.nextLevel(level.priceTicks);
    }
    return { prices, sizes };
  }

  private run(body: DistributiveOmit<Command, 'v' | 'id' | 'timeMs'>): CommandOutcome {
    const events = this.engine.apply({
      ...body,
      v: COMMAND_VERSION,
      id: `lobster-${++this.commandCount}`,
      timeMs: this.timeMs,
    } as Command);
    const result = events[events.length - 1];
    if (result.type !== 'commandResult') throw new Error('the engine did not end a command with its result');
    return {
      accepted: result.status === 'accepted',
      code: result.code,
      orderId: result.orderId,
      trades: tradesOf(events),
    };
  }

  private mustAccept(body: DistributiveOmit<Command, 'v' | 'id' | 'timeMs'>): void {
    const outcome = this.run(body);
    if (!outcome.accepted) throw new Error(`engine setup: ${body.type} rejected with ${outcome.code}`);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function tradesOf(events: EngineEvent[]): Trade[] {
  const out: Trade[] = [];
  for (const ev of events) if (ev.type === 'trade') out.push(ev);
  return out;
}
