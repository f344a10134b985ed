// Administration: assets and markets are created by commands (so a replay rebuilds them), with their
// parameters checked; a market's units must make every fill's quote amount an exact integer.

import t from 'tap';
import { Fixture, codeOf, oneOf, resultOf, stateHashExceptSequence, typesOf } from './support.js';

t.test('an asset is added with its symbol and decimals', async (t) => {
  const f = new Fixture({ empty: true });

  const events = f.when({ type: 'addAsset', assetId: 3, symbol: 'WBTC', decimals: 8 });

  t.same(typesOf(events), ['assetAdded', 'commandResult']);
  t.match(oneOf(events, 'assetAdded'), { assetId: 3, symbol: 'WBTC', decimals: 8 });
  t.match(resultOf(events), { status: 'accepted', code: null, orderId: null });
  t.match(f.engine.assets[3], { assetId: 3, symbol: 'WBTC', decimals: 8 });
});

t.test('a market is added with its parameters and derived exact units', async (t) => {
  const f = new Fixture({ empty: true });
  f.ok({ type: 'addAsset', assetId: 0, symbol: 'WETH', decimals: 18 });
  f.ok({ type: 'addAsset', assetId: 1, symbol: 'USDC', decimals: 6 });

  const events = f.when({
    type: 'addMarket',
    marketId: 4,
    symbol: 'WETH-USDC',
    baseAssetId: 0,
    quoteAssetId: 1,
    tickSize: 10_000n,
    lotSize: 10n ** 15n,
    minNotional: 5_000_000n,
    makerFeeBps: 0,
    takerFeeBps: 1000,
  });

  t.same(typesOf(events), ['marketAdded', 'commandResult']);
  t.match(oneOf(events, 'marketAdded'), {
    marketId: 4,
    symbol: 'WETH-USDC',
    baseAssetId: 0,
    quoteAssetId: 1,
    tickSize: 10_000n,
    lotSize: 10n ** 15n,
    minNotional: 5_000_000n,
    makerFeeBps: 0,
    takerFeeBps: 1000,
  });
  t.match(f.engine.markets[4], { quotePerTickLot: 10n, holdFeeBpsBig: 1000n, lastPriceTicks: 0 });
});

t.test(
  'a LOBSTER-like market (base 0 decimals, quote 4, tick 1, lot 1) trades in ticks and lots directly',
  async (t) => {
    const f = new Fixture({ empty: true });
    f.ok({ type: 'addAsset', assetId: 0, symbol: 'AAPL', decimals: 0 });
    f.ok({ type: 'addAsset', assetId: 1, symbol: 'USD4', decimals: 4 });
    f.ok({
      type: 'addMarket',
      marketId: 0,
      symbol: 'AAPL-USD',
      baseAssetId: 0,
      quoteAssetId: 1,
      tickSize: 1n,
      lotSize: 1n,
      minNotional: 0n,
      makerFeeBps: 0,
      takerFeeBps: 0,
    });
    f.ok({ type: 'deposit', userId: 1, assetId: 0, amount: 100n, depositId: 'd1' });
    f.ok({ type: 'deposit', userId: 2, assetId: 1, amount: 10_000_000n, depositId: 'd2' });
    f.ok({
      type: 'placeOrder',
      userId: 1,
      marketId: 0,
      side: 'sell',
      orderType: 'limit',
      price: 1_855_000n,
      quantity: 3n,
    });

    const events = f.when({
      type: 'placeOrder',
      userId: 2,
      marketId: 0,
      side: 'buy',
      orderType: 'limit',
      price: 1_855_000n,
      quantity: 2n,
    });

    t.match(oneOf(events, 'trade'), { priceTicks: 1_855_000, qtyLots: 2, baseAmount: 2n, quoteAmount: 3_710_000n });
    t.same(f.balance(2, 0).available, 2n);
    t.same(f.balance(1, 1).available, 3_710_000n);
  },
);

t.test('an asset added after users exist is usable by them', async (t) => {
  const f = new Fixture();
  f.fund(1, { usdc: '1' });
  f.ok({ type: 'addAsset', assetId: 5, symbol: 'DAI', decimals: 18 });
  t.equal(
    resultOf(f.when({ type: 'deposit', userId: 1, assetId: 5, amount: 10n ** 18n, depositId: 'dai' })).status,
    'accepted',
  );
  t.same(f.balance(1, 5).available, 10n ** 18n);
  t.equal(f.fees(5), 0n);
});

t.test('a market whose tick x lot is not a whole number of quote units is rejected MARKET_UNITS_INEXACT', async (t) => {
  const f = new Fixture();
  const before = stateHashExceptSequence(f.engine);
  const market = (tickSize: bigint, lotSize: bigint) =>
    f.when({
      type: 'addMarket',
      marketId: 1,
      symbol: 'WETH-USDC.X',
      baseAssetId: 0,
      quoteAssetId: 1,
      tickSize,
      lotSize,
      minNotional: 0n,
      makerFeeBps: 0,
      takerFeeBps: 0,
    });
  t.equal(codeOf(market(1n, 1n)), 'MARKET_UNITS_INEXACT', '1 x 1 / 10^18');
  t.equal(codeOf(market(10_000n, 10n ** 13n + 1n)), 'MARKET_UNITS_INEXACT', 'not divisible');
  t.equal(codeOf(market(10_000n, 10n ** 13n)), 'MARKET_UNITS_INEXACT', '0.1 of a quote unit');
  t.equal(stateHashExceptSequence(f.engine), before);
  t.equal(resultOf(market(10_000n, 10n ** 14n)).status, 'accepted', 'exactly 1 quote unit per tick-lot');
});

t.test('asset and market symbols and ids are unique', async (t) => {
  const f = new Fixture();
  const before = stateHashExceptSequence(f.engine);
  t.equal(
    codeOf(f.when({ type: 'addAsset', assetId: 9, symbol: 'WETH', decimals: 18 })),
    'ASSET_ALREADY_EXISTS',
    'same symbol',
  );
  t.equal(
    codeOf(f.when({ type: 'addAsset', assetId: 0, symbol: 'OTHER', decimals: 18 })),
    'ASSET_ALREADY_EXISTS',
    'same id',
  );
  const market = (marketId: number, symbol: string) =>
    f.when({
      type: 'addMarket',
      marketId,
      symbol,
      baseAssetId: 0,
      quoteAssetId: 1,
      tickSize: 10_000n,
      lotSize: 10n ** 14n,
      minNotional: 0n,
      makerFeeBps: 0,
      takerFeeBps: 0,
    });
  t.equal(codeOf(market(7, 'WETH-USDC')), 'MARKET_ALREADY_EXISTS', 'same symbol');
  t.equal(codeOf(market(0, 'WETH-USDC.2')), 'MARKET_ALREADY_EXISTS', 'same id');
  t.equal(stateHashExceptSequence(f.engine), before);
});
