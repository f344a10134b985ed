// The engine benchmark's synthetic command stream, generated once (untimed) by running the engine itself so
// that every cancel names an order that is live at that point. The same stream is fed to the peer package.
//
// Mix: 70% GTC limit orders (buy or sell alike) at mid - offset (buys) / mid + offset (sells), where
// offset = floor(Exp(mean 20 ticks)) - 3, so negative offsets are marketable; 1-100 lots.
// 20% cancels of an order chosen uniformly among the orders live in the engine. 10% market orders,
// 1..marketLotsMax lots. Every order passes the balance checks: users are funded by large deposits first.

import { COMMAND_VERSION, Engine } from '../engine/core/index.js';
import type { Command, EngineEvent } from '../engine/core/index.js';
import { Prng } from '../testkit/prng.js';

export const BASE_ASSET = 1;
export const QUOTE_ASSET = 2;
export const MARKET_ID = 1;

export interface StreamSpec {
  readonly name: string;
  readonly seed: number;
  readonly commands: number;
  /** Market order sizes are uniform in 1..marketLotsMax lots: this sets how deep the book settles. */
  readonly marketLotsMax: number;
  readonly midTicks: number;
  readonly offsetMeanTicks: number;
  readonly users: number;
  readonly feeBps: number;
}

export const STREAMS: Record<string, Omit<StreamSpec, 'seed' | 'commands'>> = {
  shallow: { name: 'shallow', marketLotsMax: 400, midTicks: 10_000, offsetMeanTicks: 20, users: 1000, feeBps: 0 },
  deep: { name: 'deep', marketLotsMax: 300, midTicks: 10_000, offsetMeanTicks: 20, users: 1000, feeBps: 0 },
};

/** What the peer package is given for one command: the same side, price, size and (mapped) order id. */
export type PeerOp =
  | {
      readonly kind: 'limit';
      readonly id: string;
      readonly side: 'buy' | 'sell';
      readonly size: number;
      readonly price: number;
    }
  | { readonly kind: 'market'; readonly side: 'buy' | 'sell'; readonly size: number }
  | { readonly kind: 'cancel'; readonly id: string };

export interface Stream {
  readonly spec: StreamSpec;
  /** Asset, market and deposit commands: applied to every engine instance before the timed commands. */
  readonly setup: Command[];
  readonly commands: Command[];
  readonly peerOps: PeerOp[];
  /** Per command, its kind (KIND_*), for latency by kind. */
  readonly kinds: Uint8Array;
  readonly stats: {
    limits: number;
    cancels: number;
    markets: number;
    /** Limit orders that traded on arrival. */
    marketableLimits: number;
    /** Cancels drawn while the book was empty, replaced by a limit order. */
    cancelsReplaced: number;
    restingOrdersMax: number;
    restingOrdersFinal: number;
    levelsFinal: number;
  };
}

export const KIND_LIMIT_RESTED = 0; // rested without trading
export const KIND_LIMIT_TRADED = 1; // traded on arrival (and may have rested the rest)
export const KIND_CANCEL = 2;
export const KIND_MARKET = 3;
export const KIND_NAMES = ['limitRested', 'limitTraded', 'cancel', 'market'] as const;

const START_MS = 1_700_000_000_000;
const DEPOSIT = 10n ** 15n;

/** Assets with 0 decimals and a market with tickSize = lotSize = 1: prices are ticks and quantities are lots. */
export function setupCommands(users: number, feeBps: number): Command[] {
  const cmds: Command[] = [
    {
      v: COMMAND_VERSION,
      id: 'setup-base',
      timeMs: START_MS,
      type: 'addAsset',
      assetId: BASE_ASSET,
      symbol: 'BASE',
      decimals: 0,
    },
    {
      v: COMMAND_VERSION,
      id: 'setup-quote',
      timeMs: START_MS,
      type: 'addAsset',
      assetId: QUOTE_ASSET,
      symbol: 'QUOTE',
      decimals: 0,
    },
    {
      v: COMMAND_VERSION,
      id: 'setup-market',
      timeMs: START_MS,
      type: 'addMarket',
      marketId: MARKET_ID,
      symbol: 'BASE-QUOTE',
      baseAssetId: BASE_ASSET,
      quoteAssetId: QUOTE_ASSET,
      tickSize: 1n,
      lotSize: 1n,
      minNotional: 1n,
      makerFeeBps: feeBps,
      takerFeeBps: feeBps,
    },
  ];
  for (let u = 1; u <= users; u++) {
    for (const assetId of [BASE_ASSET, QUOTE_ASSET]) {
      cmds.push({
        v: COMMAND_VERSION,
        id: `setup-dep-${u}-${assetId}`,
        timeMs: START_MS,
        type: 'deposit',
        userId: u,
        assetId,
        amount: DEPOSIT,
        depositId: `dep-${u}-${assetId}`,
      });
    }
  }
  return cmds;
}

export function applyAll(e: Engine, cmds: readonly Command[]): void {
  for (const cmd of cmds) {
    const events = e.apply(cmd);
    const result = events[events.length - 1];
    if (result.type !== 'commandResult' || result.status !== 'accepted')
      throw new Error(`setup command ${cmd.id} failed: ${JSON.stringify(result, bigintJson)}`);
  }
}

/** Exponential with the given mean (inverse transform of one uniform draw). */
export function expSample(rng: Prng, mean: number): number {
  return -mean * Math.log(1 - rng.float());
}

export function bigintJson(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/** Orders live in the engine, with O(1) uniform choice and removal (swap with the last). */
class LiveOrders {
  private ids: number[] = [];
  private users: number[] = [];
  private indexById = new Map<number, number>();

  get size(): number {
    return this.ids.length;
  }

  add(orderId: number, userId: number): void {
    this.indexById.set(orderId, this.ids.length);
    this.ids.push(orderId);
    this.users.push(userId);
  }

  remove(orderId: number): void {
    const i = this.indexById.get(orderId);
    if (i === undefined) return;
    const last = this.ids.length - 1;
    this.ids[i] = this.ids[last];
    this.users[i] = this.users[last];
    this.indexById.set(this.ids[i], i);
    this.ids.pop();
    this.users.pop();
    this.indexById.delete(orderId);
  }

  pick(rng: Prng): { orderId: number; userId: number } {
    const i = Math.floor(rng.float() * this.ids.length);
    return { orderId: this.ids[i], userId: this.users[i] };
  }
}

export function generateStream(spec: StreamSpec, onProgress?: (done: number) => void): Stream {
  const rng = new Prng(spec.seed);
  const e = new Engine();
  const setup = setupCommands(spec.users, spec.feeBps);
  applyAll(e, setup);
  const live = new LiveOrders();
  const commands: Command[] = [];
  const peerOps: PeerOp[] = [];
  const kinds = new Uint8Array(spec.commands);
  const stats = {
    limits: 0,
    cancels: 0,
    markets: 0,
    marketableLimits: 0,
    cancelsReplaced: 0,
    restingOrdersMax: 0,
    restingOrdersFinal: 0,
    levelsFinal: 0,
  };

  for (let i = 0; i < spec.commands; i++) {
    const id = `c${i}`;
    const timeMs = START_MS + i;
    const userId = rng.int(1, spec.users);
    let r = rng.float();
    if (r >= 0.7 && r < 0.9 && live.size === 0) {
      r = 0; // nothing to cancel yet (start of the stream): place a limit order instead
      stats.cancelsReplaced++;
    }
    let cmd: Command;
    if (r < 0.7) {
      const side = rng.float() < 0.5 ? 'buy' : 'sell';
      const offset = Math.floor(expSample(rng, spec.offsetMeanTicks)) - 3;
      const price = side === 'buy' ? spec.midTicks - offset : spec.midTicks + offset;
      const lots = rng.int(1, 100);
      cmd = {
        v: COMMAND_VERSION,
        id,
        timeMs,
        type: 'placeOrder',
        userId,
        marketId: MARKET_ID,
        side,
        orderType: 'limit',
        price: BigInt(price),
        quantity: BigInt(lots),
        timeInForce: 'GTC',
        stp: 'none',
      };
      stats.limits++;
    } else if (r < 0.9) {
      const victim = live.pick(rng);
      cmd = { v: COMMAND_VERSION, id, timeMs, type: 'cancelOrder', userId: victim.userId, orderId: victim.orderId };
      peerOps.push({ kind: 'cancel', id: String(victim.orderId) });
      stats.cancels++;
      kinds[i] = KIND_CANCEL;
    } else {
      const side = rng.float() < 0.5 ? 'buy' : 'sell';
      const lots = rng.int(1, spec.marketLotsMax);
      cmd = {
        v: COMMAND_VERSION,
        id,
        timeMs,
        type: 'placeOrder',
        userId,
        marketId: MARKET_ID,
        side,
        orderType: 'market',
        quantity: BigInt(lots),
        stp: 'none',
      };
      peerOps.push({ kind: 'market', side, size: lots });
      stats.markets++;
      kinds[i] = KIND_MARKET;
    }
    const events = e.apply(cmd);
    const result = events[events.length - 1];
    if (result.type !== 'commandResult' || result.status !== 'accepted') {
      throw new Error(
        `stream command ${id} was rejected: ${JSON.stringify(result)} (the stream must pass every check)`,
      );
    }
    if (cmd.type === 'placeOrder' && cmd.orderType === 'limit') {
      const orderId = result.orderId as number;
      peerOps.push({
        kind: 'limit',
        id: String(orderId),
        side: cmd.side,
        size: Number(cmd.quantity),
        price: Number(cmd.price),
      });
      const traded = events.some((ev) => ev.type === 'trade');
      if (traded) stats.marketableLimits++;
      kinds[i] = traded ? KIND_LIMIT_TRADED : KIND_LIMIT_RESTED;
    }
    trackLive(live, events);
    commands.push(cmd);
    if (e.openOrdersTotal > stats.restingOrdersMax) stats.restingOrdersMax = e.openOrdersTotal;
    if (onProgress !== undefined && (i + 1) % 100_000 === 0) onProgress(i + 1);
  }
  stats.restingOrdersFinal = e.openOrdersTotal;
  const book = (e.markets[MARKET_ID] as NonNullable<Engine['markets'][number]>).book;
  stats.levelsFinal = book.bids.levelCount + book.asks.levelCount;
  return { spec, setup, commands, peerOps, kinds, stats };
}

function trackLive(live: LiveOrders, events: EngineEvent[]): void {
  for (const ev of events) {
    if (ev.type === 'orderRested') live.add(ev.orderId, ownerOf(events, ev.orderId));
    else if (ev.type === 'orderFilled' || ev.type === 'orderCanceled' || ev.type === 'orderExpired')
      live.remove(ev.orderId);
  }
}

/** orderRested carries no user: the command's orderAccepted event does. */
function ownerOf(events: EngineEvent[], orderId: number): number {
  for (const ev of events) if (ev.type === 'orderAccepted' && ev.orderId === orderId) return ev.userId;
  throw new Error(`no orderAccepted event for rested order ${orderId}`);
}
