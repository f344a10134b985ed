// Seeded random command streams for the engine simulations: a scenario (assets, 1-2 markets, a few users,
// tight limits so capacity rejections happen) and a generator of trading commands over a narrow price range,
// so orders cross often, users meet themselves (STP), and a share of the commands is invalid on purpose.
// The generator asks a feedback view (the reference exchange) for open orders and last prices, so cancels
// and amends mostly name orders that exist.

import type { Command, EngineLimits, PlaceOrder, Side, StpMode, TimeInForce } from '../../engine/core/index.js';
import { DEFAULT_LIMITS } from '../../engine/core/index.js';
import type { Prng } from '../../testkit/prng.js';

export interface SimMarket {
  marketId: number;
  symbol: string;
  baseAssetId: number;
  quoteAssetId: number;
  baseDecimals: number;
  tickSize: bigint;
  lotSize: bigint;
  /** Quote units per tick per lot. */
  unit: bigint;
  minNotional: bigint;
  makerFeeBps: number;
  takerFeeBps: number;
  midTicks: number;
  /** Prices are drawn within midTicks +- rangeTicks. */
  rangeTicks: number;
}

export interface SimScenario {
  userIds: number[];
  markets: SimMarket[];
  limits: EngineLimits;
  /** Every order carries a self-trade-prevention mode other than 'none'. */
  stpAlways: boolean;
}

/** Variations on the random scenario; the default draws fees and STP modes as the main simulation always has. */
export interface ScenarioOptions {
  /** Non-zero maker and taker fees on every market. */
  readonly feesAlways?: boolean;
  readonly stpAlways?: boolean;
}

export interface SimFeedback {
  openOrders(userId: number): ReadonlyArray<{
    readonly id: number;
    readonly marketId: number;
    readonly side: Side;
    readonly price: number;
    readonly qty: number;
    readonly filled: number;
    readonly where: string;
  }>;
  lastPriceTicks(marketId: number): number;
}

const QUOTE_ASSET = { assetId: 0, symbol: 'QUOTE', decimals: 6 };
/**
 * Base asset shapes: whole-token lots (LOBSTER-like), 18 decimals (WETH-like), 8 decimals (WBTC-like), and
 * prices near 2^52 ticks, where ticks x lots leaves the safe-integer range (the engine's bigint path).
 */
const BASE_SHAPES = [
  { decimals: 0, tickSize: 100n, lotSize: 1n, midTicks: 100 },
  { decimals: 18, tickSize: 10n ** 4n, lotSize: 10n ** 14n, midTicks: 185_000 },
  { decimals: 8, tickSize: 100n, lotSize: 10n ** 6n, midTicks: 3_000 },
  { decimals: 18, tickSize: 1n, lotSize: 10n ** 18n, midTicks: 2 ** 52 },
];
const STP_MODES: StpMode[] = ['none', 'expireTaker', 'expireMaker', 'expireBoth', 'decrementAndCancel'];
export const STP_MODES_ACTIVE: readonly StpMode[] = STP_MODES.filter((mode) => mode !== 'none');

export function makeScenario(rng: Prng, opts: ScenarioOptions = {}): SimScenario {
  const userCount = rng.int(2, 6);
  const marketCount = rng.int(1, 2);
  const markets: SimMarket[] = [];
  for (let i = 0; i < marketCount; i++) {
    const shape = rng.pick(BASE_SHAPES);
    const unit = (shape.tickSize * shape.lotSize) / 10n ** BigInt(shape.decimals);
    const lotNotional = unit * BigInt(shape.midTicks);
    markets.push({
      marketId: i,
      symbol: `BASE${i}-QUOTE`,
      baseAssetId: i + 1,
      quoteAssetId: QUOTE_ASSET.assetId,
      baseDecimals: shape.decimals,
      tickSize: shape.tickSize,
      lotSize: shape.lotSize,
      unit,
      minNotional: rng.pick([0n, 0n, lotNotional / 2n, lotNotional * 2n]),
      makerFeeBps: rng.pick(opts.feesAlways === true ? [1, 5, 10, 20, 40] : [0, 1, 5, 10, 20, 40]),
      takerFeeBps: rng.pick(opts.feesAlways === true ? [3, 10, 25, 50] : [0, 3, 10, 25, 50]),
      midTicks: shape.midTicks,
      rangeTicks: rng.int(2, 5),
    });
  }
  const limits: EngineLimits = {
    ...DEFAULT_LIMITS,
    usersMax: rng.chance(0.2) ? userCount - 1 : userCount,
    openOrdersPerUserMax: rng.int(5, 24),
    openOrdersMax: rng.int(30, 120),
    stopOrdersPerUserMax: rng.int(1, 4),
    stopOrdersMax: rng.int(3, 12),
    clientOrderIdsPerUserMax: rng.int(4, 16),
    clientOrderIdWindowMs: rng.int(60, 600) * 1000,
  };
  return {
    userIds: Array.from({ length: userCount }, (_, i) => i + 1),
    markets,
    limits,
    stpAlways: opts.stpAlways === true,
  };
}

export class CommandGenerator {
  private n = 0;
  private timeMs = 1_700_000_000_000;
  private depositSeq = 0;
  private withdrawalSeq = 0;
  private readonly pendingWithdrawals: string[] = [];

  constructor(
    private readonly rng: Prng,
    readonly scenario: SimScenario,
    private readonly feedback: SimFeedback,
  ) {}

  private envelope(): { v: 1; id: string; timeMs: number } {
    this.timeMs += this.rng.int(0, 3000);
    return { v: 1, id: `c${++this.n}`, timeMs: this.timeMs };
  }

  /** Assets, markets and opening deposits (the last user sometimes gets none: it has no account). */
  setup(): Command[] {
    const cmds: Command[] = [{ ...this.envelope(), type: 'addAsset', ...QUOTE_ASSET }];
    for (const m of this.scenario.markets) {
      cmds.push({
        ...this.envelope(),
        type: 'addAsset',
        assetId: m.baseAssetId,
        symbol: `BASE${m.marketId}`,
        decimals: m.baseDecimals,
      });
      cmds.push({
        ...this.envelope(),
        type: 'addMarket',
        marketId: m.marketId,
        symbol: m.symbol,
        baseAssetId: m.baseAssetId,
        quoteAssetId: m.quoteAssetId,
        tickSize: m.tickSize,
        lotSize: m.lotSize,
        minNotional: m.minNotional,
        makerFeeBps: m.makerFeeBps,
        takerFeeBps: m.takerFeeBps,
      });
    }
    const users = this.scenario.userIds;
    for (const userId of users) {
      if (userId === users[users.length - 1] && this.rng.chance(0.15)) continue;
      for (const m of this.scenario.markets) {
        cmds.push(this.deposit(userId, m.baseAssetId, BigInt(this.rng.int(20, 80)) * m.lotSize));
        cmds.push(this.deposit(userId, m.quoteAssetId, BigInt(this.rng.int(20, 80)) * m.unit * BigInt(m.midTicks)));
      }
    }
    return cmds;
  }

  next(): Command {
    const r = this.rng.float();
    if (r < 0.06) return this.randomDeposit();
    if (r < 0.07) return this.withdrawal();
    if (r < 0.45) return this.limitOrder();
    if (r < 0.55) return this.marketOrder();
    if (r < 0.61) return this.stopOrder();
    if (r < 0.73) return this.cancel();
    if (r < 0.74) return this.cancelAll();
    if (r < 0.88) return this.amend();
    if (r < 0.985) return this.invalid();
    return this.venueControl();
  }

  // --- helpers -----------------------------------------------------------------------------------------------

  private user(): number {
    return this.rng.pick(this.scenario.userIds);
  }

  /** Mostly a user with open orders, for cancels and amends. */
  private userWithOrders(): number {
    const withOrders = this.scenario.userIds.filter((u) => this.feedback.openOrders(u).length > 0);
    return withOrders.length > 0 && this.rng.chance(0.9) ? this.rng.pick(withOrders) : this.user();
  }

  private market(): SimMarket {
    return this.rng.pick(this.scenario.markets);
  }

  private priceTicks(m: SimMarket): number {
    return m.midTicks + this.rng.int(-m.rangeTicks, m.rangeTicks);
  }

  /** Mostly on the order's own side of the mid (so books build up), sometimes anywhere (so orders cross). */
  private limitPriceTicks(m: SimMarket, side: Side): number {
    if (this.rng.chance(0.35)) return this.priceTicks(m);
    const away = this.rng.int(0, m.rangeTicks);
    return side === 'buy' ? m.midTicks - away : m.midTicks + away;
  }

  private lots(): number {
    return this.rng.chance(0.1) ? this.rng.int(9, 30) : this.rng.int(1, 8);
  }

  private clientOrderId(): string | undefined {
    return this.rng.chance(0.25) ? `k${this.rng.int(1, 24)}` : undefined;
  }

  private deposit(userId: number, assetId: number, amount: bigint, depositId = `d${++this.depositSeq}`): Command {
    return { ...this.envelope(), type: 'deposit', userId, assetId, amount, depositId };
  }

  private randomDeposit(): Command {
    const m = this.market();
    const isBase = this.rng.chance(0.5);
    const amount = isBase
      ? BigInt(this.rng.int(1, 40)) * m.lotSize
      : BigInt(this.rng.int(1, 40)) * m.unit * BigInt(m.midTicks);
    const r = this.rng.float();
    // Some are invalid: a repeated deposit id, a zero amount, an unknown asset.
    if (r < 0.08 && this.depositSeq > 0)
      return this.deposit(this.user(), m.baseAssetId, amount, `d${this.rng.int(1, this.depositSeq)}`);
    if (r < 0.12) return this.deposit(this.user(), m.baseAssetId, 0n);
    if (r < 0.15) return this.deposit(this.user(), 99, amount);
    return this.deposit(this.user(), isBase ? m.baseAssetId : m.quoteAssetId, amount);
  }

  private withdrawal(): Command {
    if (this.pendingWithdrawals.length > 0 && this.rng.chance(0.5)) {
      const withdrawalId = this.pendingWithdrawals.splice(this.rng.int(0, this.pendingWithdrawals.length - 1), 1)[0];
      return this.rng.chance(0.5)
        ? { ...this.envelope(), type: 'completeWithdrawal', withdrawalId, txHash: '0xabc' }
        : { ...this.envelope(), type: 'failWithdrawal', withdrawalId, reason: 'test' };
    }
    const m = this.market();
    const withdrawalId = `w${++this.withdrawalSeq}`;
    this.pendingWithdrawals.push(withdrawalId);
    const amount = BigInt(this.rng.int(1, 20)) * m.lotSize;
    return {
      ...this.envelope(),
      type: 'requestWithdrawal',
      userId: this.user(),
      assetId: m.baseAssetId,
      amount,
      withdrawalId,
      destination: '0xdest',
    };
  }

  private stp(): StpMode {
    if (this.scenario.stpAlways) return this.rng.pick(STP_MODES_ACTIVE);
    return this.rng.chance(0.4) ? 'none' : this.rng.pick(STP_MODES);
  }

  private limitOrder(): PlaceOrder {
    const m = this.market();
    const tif: TimeInForce = this.rng.pick(['GTC', 'GTC', 'GTC', 'GTC', 'IOC', 'FOK']);
    const postOnly = tif === 'GTC' && this.rng.chance(0.12);
    const side: Side = this.rng.pick(['buy', 'sell']);
    return {
      ...this.envelope(),
      type: 'placeOrder',
      userId: this.user(),
      marketId: m.marketId,
      side,
      orderType: 'limit',
      price: BigInt(this.limitPriceTicks(m, side)) * m.tickSize,
      quantity: BigInt(this.lots()) * m.lotSize,
      timeInForce: this.rng.chance(0.3) && tif === 'GTC' ? undefined : tif,
      postOnly: postOnly ? true : undefined,
      stp: this.stp(),
      clientOrderId: this.clientOrderId(),
    };
  }

  /** Budgets from a fraction of one lot to several lots at the mid price. */
  private budget(m: SimMarket): bigint {
    const lotNotional = m.unit * BigInt(m.midTicks);
    return (lotNotional * BigInt(this.rng.int(1, 600))) / 100n + BigInt(this.rng.int(0, 99));
  }

  private marketOrder(): PlaceOrder {
    const m = this.market();
    const side: Side = this.rng.pick(['buy', 'sell']);
    const byBudget = side === 'buy' && this.rng.chance(0.5);
    return {
      ...this.envelope(),
      type: 'placeOrder',
      userId: this.user(),
      marketId: m.marketId,
      side,
      orderType: 'market',
      quantity: byBudget ? undefined : BigInt(this.lots()) * m.lotSize,
      quoteQuantity: byBudget ? this.budget(m) : undefined,
      stp: this.stp(),
      clientOrderId: this.clientOrderId(),
    };
  }

  private stopOrder(): PlaceOrder {
    const m = this.market();
    const side: Side = this.rng.pick(['buy', 'sell']);
    const last = this.feedback.lastPriceTicks(m.marketId) || m.midTicks;
    // Mostly beyond the last price (valid), sometimes at or behind it (would trigger now: rejected); or
    // anywhere near the mid, so buy and sell stops at the same prices get triggered by the same trade.
    const offset = this.rng.int(-1, 3);
    const stopTicks = this.rng.chance(0.5)
      ? this.priceTicks(m)
      : Math.max(1, side === 'buy' ? last + offset : last - offset);
    const base = {
      ...this.envelope(),
      type: 'placeOrder' as const,
      userId: this.user(),
      marketId: m.marketId,
      side,
      stopPrice: BigInt(stopTicks) * m.tickSize,
      stp: this.stp(),
    };
    if (this.rng.chance(0.5)) {
      return {
        ...base,
        orderType: 'stopLimit',
        price: BigInt(this.priceTicks(m)) * m.tickSize,
        quantity: BigInt(this.lots()) * m.lotSize,
        timeInForce: this.rng.pick(['GTC', 'IOC'] as const),
      };
    }
    if (side === 'buy') return { ...base, orderType: 'stopMarket', quoteQuantity: this.budget(m) };
    return { ...base, orderType: 'stopMarket', quantity: BigInt(this.lots()) * m.lotSize };
  }

  private cancel(): Command {
    const userId = this.userWithOrders();
    const own = this.feedback.openOrders(userId);
    const r = this.rng.float();
    const env = { ...this.envelope(), type: 'cancelOrder' as const };
    if (r < 0.7 && own.length > 0) return { ...env, userId, orderId: this.rng.pick(own).id };
    if (r < 0.85) return { ...env, userId, clientOrderId: `k${this.rng.int(1, 24)}` };
    // Someone else's order, or an id that does not exist: ORDER_NOT_FOUND.
    return { ...env, userId, orderId: this.rng.int(1, 2000) };
  }

  private cancelAll(): Command {
    const r = this.rng.float();
    const marketId = r < 0.5 ? undefined : r < 0.95 ? this.market().marketId : 7;
    return { ...this.envelope(), type: 'cancelAll', userId: this.user(), marketId };
  }

  private amend(): Command {
    const userId = this.userWithOrders();
    const env = { ...this.envelope(), type: 'amendOrder' as const, userId };
    const own = this.feedback.openOrders(userId);
    if (own.length === 0 || this.rng.chance(0.05)) return { ...env, orderId: this.rng.int(1, 2000), quantity: 1n };
    const o = this.rng.pick(own);
    const m = this.scenario.markets[o.marketId];
    const qty = (lots: number): bigint => BigInt(lots) * m.lotSize;
    const price = (ticks: number): bigint => BigInt(ticks) * m.tickSize;
    const r = this.rng.float();
    if (r < 0.3) return { ...env, orderId: o.id, quantity: qty(this.rng.int(o.filled, Math.max(o.filled, o.qty - 1))) }; // reduce (or <= filled)
    if (r < 0.45) return { ...env, orderId: o.id, quantity: qty(o.qty + this.rng.int(1, 5)) };
    if (r < 0.75) return { ...env, orderId: o.id, price: price(this.priceTicks(m)) };
    if (r < 0.9)
      return { ...env, orderId: o.id, price: price(this.priceTicks(m)), quantity: qty(o.filled + this.rng.int(1, 8)) };
    if (r < 0.95) return { ...env, orderId: o.id, price: price(o.price), quantity: qty(o.qty) }; // nothing to change
    return { ...env, orderId: o.id, price: m.tickSize > 1n ? price(o.price) + 1n : 0n }; // off tick, or zero
  }

  /**
   * An operator's market status or freeze. Mostly back to normal (trading, unfrozen), so markets trade most of
   * the time; sometimes a market or user that does not exist, or a status that is not one.
   */
  private venueControl(): Command {
    const env = this.envelope();
    const r = this.rng.float();
    if (r < 0.6) {
      const marketId = this.rng.chance(0.05) ? 7 : this.market().marketId;
      const status = this.rng.chance(0.05)
        ? 'paused'
        : this.rng.chance(0.8)
          ? 'trading'
          : this.rng.pick(['cancelOnly', 'halted']);
      return { ...env, type: 'setMarketStatus', marketId, status } as Command;
    }
    const userId = this.rng.chance(0.05) ? 0 : this.rng.chance(0.05) ? 99 : this.user();
    return { ...env, type: 'setUserFrozen', userId, frozen: this.rng.chance(0.15) };
  }

  /** A valid-looking limit order with one thing wrong. */
  private invalid(): Command {
    const o = this.limitOrder() as unknown as Record<string, unknown>;
    const m = this.scenario.markets[o.marketId as number];
    const wrong: Array<() => void> = [
      () => (o.side = 'up'),
      () => (o.orderType = 'iceberg'),
      () => (o.price = (o.price as bigint) + 1n),
      () => (o.price = 0n),
      () => (o.quantity = 0n),
      () => (o.quantity = m.lotSize > 1n ? (o.quantity as bigint) + 1n : -(o.quantity as bigint)),
      () => (o.marketId = 9),
      () => (o.userId = 0),
      () => (o.stp = 'sometimes'),
      () => (o.timeInForce = 'GTD'),
      () => Object.assign(o, { timeInForce: 'IOC', postOnly: true }),
      () => Object.assign(o, { quoteQuantity: 1000n }),
      () => Object.assign(o, { orderType: 'market', price: undefined }),
      () => Object.assign(o, { orderType: 'market', side: 'sell', quantity: undefined, quoteQuantity: 5000n }),
      () => Object.assign(o, { orderType: 'market', side: 'buy', quoteQuantity: 5000n }),
      () => Object.assign(o, { orderType: 'stopLimit', timeInForce: 'FOK', stopPrice: o.price }),
      () => Object.assign(o, { orderType: 'stopMarket', side: 'buy', price: undefined, stopPrice: o.price }),
      () => Object.assign(o, { stopPrice: o.price }),
      () => Object.assign(o, { clientOrderId: 'has space' }),
      () => Object.assign(o, { v: 2 }),
      () => Object.assign(o, { id: '' }),
    ];
    this.rng.pick(wrong)();
    return o as unknown as Command;
  }
}
