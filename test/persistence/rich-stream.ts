// A seeded command stream that exercises every money movement the projection must follow: fees on both sides,
// decimal assets, limit (GTC/IOC/FOK, post-only), market by quantity and by quote budget, stop orders, every STP
// mode, amends (in place and re-queued), cancels, cancel-all, deposits, and withdrawals that complete or fail;
// and the venue controls (market status, frozen users) that refuse some of them.
// Commands are applied to a real Engine; many are rejected (wrong owner, no funds), which is part of the test.

import { Engine } from '../../engine/core/index.js';
import type { Command, EngineEvent, StpMode } from '../../engine/core/index.js';
import { Prng } from '../../testkit/prng.js';
import type { SourceRecord } from '../../persistence/projector.js';

export const START_MS = 1_750_000_000_000;
const BASE = 1;
const QUOTE = 2;
const MARKET = 1;
const TICK = 10_000n; // quote base units (6 decimals) per whole base token (8 decimals)
const LOT = 1_000_000n; // 0.01 base
const MID_TICKS = 2_000;
const STP: StpMode[] = ['none', 'none', 'expireTaker', 'expireMaker', 'expireBoth', 'decrementAndCancel'];

export interface RichStream {
  readonly commands: Command[];
  readonly records: SourceRecord[];
  readonly engine: Engine;
}

function setup(users: number): Command[] {
  const cmds: Command[] = [
    { v: 1, id: 'a-base', timeMs: START_MS, type: 'addAsset', assetId: BASE, symbol: 'BTC', decimals: 8 },
    { v: 1, id: 'a-quote', timeMs: START_MS, type: 'addAsset', assetId: QUOTE, symbol: 'USDC', decimals: 6 },
    {
      v: 1,
      id: 'm-1',
      timeMs: START_MS,
      type: 'addMarket',
      marketId: MARKET,
      symbol: 'BTC-USDC',
      baseAssetId: BASE,
      quoteAssetId: QUOTE,
      tickSize: TICK,
      lotSize: LOT,
      minNotional: 1000n,
      makerFeeBps: 10,
      takerFeeBps: 25,
    },
  ];
  for (let u = 1; u <= users; u++) {
    cmds.push({
      v: 1,
      id: `d-${u}-b`,
      timeMs: START_MS,
      type: 'deposit',
      userId: u,
      assetId: BASE,
      amount: 50n * 10n ** 8n,
      depositId: `dep-${u}-b`,
    });
    cmds.push({
      v: 1,
      id: `d-${u}-q`,
      timeMs: START_MS,
      type: 'deposit',
      userId: u,
      assetId: QUOTE,
      amount: 100_000n * 10n ** 6n,
      depositId: `dep-${u}-q`,
    });
  }
  return cmds;
}

function orderCommand(rng: Prng, base: { v: 1; id: string; timeMs: number }, userId: number): Command {
  const side = rng.chance(0.5) ? 'buy' : 'sell';
  const priceTicks = MID_TICKS + (side === 'buy' ? -1 : 1) * (rng.int(0, 30) - 8);
  const price = BigInt(priceTicks) * TICK;
  const quantity = BigInt(rng.int(1, 40)) * LOT;
  const stp = rng.pick(STP);
  const r = rng.float();
  if (r < 0.6) {
    const timeInForce = rng.pick(['GTC', 'GTC', 'GTC', 'IOC', 'FOK'] as const);
    return {
      ...base,
      type: 'placeOrder',
      userId,
      marketId: MARKET,
      side,
      orderType: 'limit',
      price,
      quantity,
      timeInForce,
      postOnly: timeInForce === 'GTC' && rng.chance(0.1),
      stp,
      clientOrderId: rng.chance(0.2) ? `co-${rng.int(1, 50)}` : undefined,
    };
  }
  if (r < 0.8) {
    if (side === 'buy' && rng.chance(0.5))
      return {
        ...base,
        type: 'placeOrder',
        userId,
        marketId: MARKET,
        side,
        orderType: 'market',
        quoteQuantity: BigInt(rng.int(1, 5000)) * 10n ** 6n,
        stp,
      };
    return { ...base, type: 'placeOrder', userId, marketId: MARKET, side, orderType: 'market', quantity, stp };
  }
  const stopPrice = BigInt(MID_TICKS + (side === 'buy' ? rng.int(1, 15) : -rng.int(1, 15))) * TICK;
  if (r < 0.9)
    return {
      ...base,
      type: 'placeOrder',
      userId,
      marketId: MARKET,
      side,
      orderType: 'stopLimit',
      stopPrice,
      price,
      quantity,
      stp,
    };
  return {
    ...base,
    type: 'placeOrder',
    userId,
    marketId: MARKET,
    side,
    orderType: 'stopMarket',
    stopPrice,
    quantity,
    stp,
  };
}

function nextCommand(rng: Prng, i: number, users: number, e: Engine, pending: string[]): Command {
  const base = { v: 1 as const, id: `c${i}`, timeMs: START_MS + 1000 + i * 3 };
  const userId = rng.int(1, users);
  const r = rng.float();
  const liveIds = (): number[] => [...e.orders.keys()];
  if (r < 0.55) return orderCommand(rng, base, userId);
  if (r < 0.7) {
    const ids = liveIds();
    const o = ids.length > 0 ? e.orders.get(rng.pick(ids)) : undefined;
    // Mostly the owner; sometimes someone else (ORDER_NOT_FOUND).
    return {
      ...base,
      type: 'cancelOrder',
      userId: o !== undefined && rng.chance(0.9) ? o.userId : userId,
      orderId: o?.orderId ?? 1,
    };
  }
  if (r < 0.72) return { ...base, type: 'cancelAll', userId, marketId: rng.chance(0.5) ? MARKET : undefined };
  if (r < 0.82) {
    const ids = liveIds();
    const o = ids.length > 0 ? e.orders.get(rng.pick(ids)) : undefined;
    if (o === undefined) return orderCommand(rng, base, userId);
    const qty = rng.chance(0.6) ? BigInt(Math.max(1, o.qtyLots + rng.int(-10, 10))) * LOT : undefined;
    const price = qty === undefined || rng.chance(0.3) ? BigInt(o.priceTicks + rng.int(-5, 5)) * TICK : undefined;
    return { ...base, type: 'amendOrder', userId: o.userId, orderId: o.orderId, quantity: qty, price };
  }
  if (r < 0.87)
    return {
      ...base,
      type: 'deposit',
      userId: rng.int(1, users + 3),
      assetId: rng.chance(0.5) ? BASE : QUOTE,
      amount: BigInt(rng.int(1, 10 ** 9)),
      depositId: `dep-${i}`,
    };
  if (r < 0.925) {
    const withdrawalId = `w-${i}`;
    pending.push(withdrawalId);
    return {
      ...base,
      type: 'requestWithdrawal',
      userId,
      assetId: rng.chance(0.5) ? BASE : QUOTE,
      amount: BigInt(rng.int(1, 10 ** 8)),
      withdrawalId,
      destination: `0xdest${userId}`,
    };
  }
  // Venue controls, mostly back to normal so the stream keeps trading; sometimes a user the engine has not seen.
  if (r < 0.933)
    return {
      ...base,
      type: 'setMarketStatus',
      marketId: MARKET,
      status: rng.chance(0.85) ? 'trading' : rng.pick(['cancelOnly', 'halted'] as const),
    };
  if (r < 0.94)
    return { ...base, type: 'setUserFrozen', userId: rng.chance(0.9) ? userId : users + 10, frozen: rng.chance(0.2) };
  if (pending.length === 0) return orderCommand(rng, base, userId);
  const withdrawalId = pending.splice(rng.int(0, pending.length - 1), 1)[0];
  if (rng.chance(0.7)) return { ...base, type: 'completeWithdrawal', withdrawalId, txHash: `0xtx${i}` };
  return { ...base, type: 'failWithdrawal', withdrawalId, reason: rng.chance(0.5) ? 'gas' : undefined };
}

/** `count` seeded commands after the setup, applied to a real engine; one record per command. */
export function richStream(seed: number, count: number, users = 12): RichStream {
  const rng = new Prng(seed);
  const engine = new Engine();
  const commands = setup(users);
  const pending: string[] = [];
  const records: SourceRecord[] = [];
  const push = (cmd: Command): void => {
    const events: EngineEvent[] = engine.apply(cmd);
    records.push({ offset: records.length, timestampMs: cmd.timeMs, events });
  };
  for (const cmd of commands) push(cmd);
  for (let i = 0; i < count; i++) {
    const cmd = nextCommand(rng, i, users, engine, pending);
    commands.push(cmd);
    push(cmd);
  }
  return { commands, records, engine };
}
