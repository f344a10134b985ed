// The whole-state check (engine/core/invariants.ts) catches a broken hold or an open order missing from its book:
// the daemon relies on it to refuse a restored state it must not trade on.

import t from 'tap';
import { checkInvariants } from '../../engine/core/index.js';
import type { Order } from '../../engine/core/index.js';
import { Fixture, USDC, WETH } from './support.js';

/** Two users with one resting order each: a buy holding USDC and a sell holding WETH. */
function twoOrders(): { f: Fixture; buy: Order; sell: Order } {
  const f = new Fixture();
  f.fund(1, { usdc: '10000' });
  f.fund(2, { weth: '5' });
  const buy = f.engine.orders.get(f.rest(1, 'buy', '1900', '1')) as Order;
  const sell = f.engine.orders.get(f.rest(2, 'sell', '2100', '2')) as Order;
  return { f, buy, sell };
}

t.test('a sound state with orders on both sides has no problems', async (t) => {
  const { f } = twoOrders();
  t.same(checkInvariants(f.engine), []);
});

t.test("an order's hold that its account does not hold is caught, per user and asset", async (t) => {
  const { f, buy, sell } = twoOrders();
  buy.held += 1n;
  sell.held += 1n;
  const problems = checkInvariants(f.engine);
  t.match(problems, [
    new RegExp(`user 1 asset ${USDC}: held \\d+ != sum of order holds \\d+`),
    new RegExp(`user 2 asset ${WETH}: held \\d+ != sum of order holds \\d+`),
  ]);
  t.equal(problems.length, 2, 'only the two altered holds');
});

t.test('a held balance with no open order behind it is caught', async (t) => {
  const { f } = twoOrders();
  const account = f.engine.accounts.get(1);
  t.ok(account);
  if (account === undefined) return;
  account.held[USDC] += 5n;
  account.available[USDC] -= 5n;
  t.same(checkInvariants(f.engine), [`user 1 asset ${USDC}: held 1903800005 != sum of order holds 1903800000`]);
});

t.test('an open order that is on no book is caught', async (t) => {
  const { f, sell } = twoOrders();
  f.engine.markets[0]?.book.asks.remove(sell);
  const problems = checkInvariants(f.engine);
  t.ok(
    problems.some((p) => p === '1 registered orders are on no book'),
    problems.join('; '),
  );
});
