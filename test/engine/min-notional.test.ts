// The minimum-notional check without bigints (matching.ts belowMinNotional): for every market and order it must
// answer exactly as the definition, notional(price, lots) < minNotional, including at the boundary, for a minimum
// beyond 2^53 and for products beyond 2^53 (the bigint fallback).

import t from 'tap';
import { createMarket } from '../../engine/core/admin.js';
import { belowMinNotional, notional } from '../../engine/core/matching.js';
import { Prng } from '../../testkit/prng.js';
import { Fixture, LOT_SIZE, USDC, WETH } from './support.js';

const SEED = 11;

t.test('belowMinNotional answers as notional < minNotional', async (t) => {
  t.comment(`seed ${SEED}`);
  const rng = new Prng(SEED);
  const f = new Fixture();
  let mismatches = 0;
  let cases = 0;
  for (let round = 0; round < 300; round++) {
    // WETH has 18 decimals and the lot is 10^14 base units: quotePerTickLot = tickSize / 10^4.
    const quotePerTickLot = BigInt(rng.int(1, 1_000_000));
    const k = BigInt(rng.int(0, 2_000_000));
    const minNotional = [
      0n,
      k * quotePerTickLot,
      k * quotePerTickLot + 1n,
      k * quotePerTickLot - 1n > 0n ? k * quotePerTickLot - 1n : 1n,
      (2n ** 53n + k) * quotePerTickLot,
    ][round % 5];
    const m = createMarket(f.engine, {
      marketId: 99,
      symbol: 'WETH-USDC',
      baseAssetId: WETH,
      quoteAssetId: USDC,
      tickSize: quotePerTickLot * 10_000n,
      lotSize: LOT_SIZE,
      minNotional,
      makerFeeBps: 0,
      takerFeeBps: 0,
    });
    t.equal(m.quotePerTickLot, quotePerTickLot);
    const boundary = Number(k);
    for (let i = 0; i < 50; i++) {
      // Products around the boundary, and some beyond 2^53.
      const lots = rng.int(1, 1_000);
      const near = Math.max(1, Math.ceil(boundary / lots) + rng.int(-2, 2));
      const priceTicks = i % 10 === 9 ? 2 ** 52 + rng.int(0, 1_000) : near;
      const expected = notional(m, priceTicks, lots) < minNotional;
      if (belowMinNotional(m, priceTicks, lots) !== expected) mismatches++;
      cases++;
    }
  }
  t.equal(mismatches, 0, `no mismatch in ${cases} cases`);
});
