// A small deterministic demo stream: one WETH-USDC market, four users, limit, market and stop orders.

import { COMMAND_VERSION } from '../core/index.js';
import type { Command, PlaceOrder } from '../core/index.js';

export const DEMO = {
  symbol: 'WETH-USDC',
  baseDecimals: 18,
  quoteDecimals: 6,
  tickSize: 10_000n, // 0.01 USDC per WETH
  lotSize: 10n ** 14n, // 0.0001 WETH
} as const;

const USERS = [1, 2, 3, 4];

/** Park-Miller: enough for a demo, and the same stream every run. */
function lcg(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 48271) % 2147483647) / 2147483647;
}

export function* demoCommands(): Generator<Command> {
  let n = 0;
  const base = { v: COMMAND_VERSION, timeMs: 0, id: '' };
  const next = <T extends object>(body: T): T & typeof base => ({
    ...base,
    id: `demo-${++n}`,
    timeMs: 1_700_000_000_000 + n,
    ...body,
  });
  yield next({ type: 'addAsset', assetId: 0, symbol: 'WETH', decimals: 18 });
  yield next({ type: 'addAsset', assetId: 1, symbol: 'USDC', decimals: 6 });
  yield next({
    type: 'addMarket',
    marketId: 0,
    symbol: DEMO.symbol,
    baseAssetId: 0,
    quoteAssetId: 1,
    tickSize: DEMO.tickSize,
    lotSize: DEMO.lotSize,
    minNotional: 10_000_000n,
    makerFeeBps: 10,
    takerFeeBps: 20,
  });
  for (const userId of USERS) {
    yield next({ type: 'deposit', userId, assetId: 0, amount: 50n * 10n ** 18n, depositId: `0xdemo${userId}:0` });
    yield next({ type: 'deposit', userId, assetId: 1, amount: 200_000n * 10n ** 6n, depositId: `0xdemo${userId}:1` });
  }
  const random = lcg(42);
  const order = (body: Omit<PlaceOrder, 'v' | 'id' | 'timeMs' | 'type' | 'marketId'>): Command =>
    next({ type: 'placeOrder', marketId: 0, ...body });
  for (let i = 0; i < 200; i++) {
    const userId = USERS[Math.floor(random() * USERS.length)];
    const side = random() < 0.5 ? 'buy' : 'sell';
    const offsetTicks = Math.floor(random() * 400) - 100; // a quarter of the orders cross
    const priceTicks = 185_000 + (side === 'buy' ? -offsetTicks : offsetTicks);
    const lots = 1 + Math.floor(random() * 5000);
    if (random() < 0.1) yield order({ userId, side, orderType: 'market', quantity: BigInt(lots) * DEMO.lotSize });
    else
      yield order({
        userId,
        side,
        orderType: 'limit',
        price: BigInt(priceTicks) * DEMO.tickSize,
        quantity: BigInt(lots) * DEMO.lotSize,
      });
  }
  yield order({
    userId: 1,
    side: 'sell',
    orderType: 'stopMarket',
    stopPrice: 180_000n * DEMO.tickSize,
    quantity: 10n ** 18n,
  });
  yield order({ userId: 2, side: 'buy', orderType: 'market', quoteQuantity: 5_000n * 10n ** 6n });
}
