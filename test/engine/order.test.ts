// Order: the packed fields (engine/core/order.ts) read back what the order was built with, at any command time.
import t from 'tap';
import { Order } from '../../engine/core/order.js';
import type { Market } from '../../engine/core/order.js';

const market = { marketId: 1, baseAssetId: 0, quoteAssetId: 1 } as unknown as Market;

t.test('the creation time survives the flags being set and cleared, small integer or not', (t) => {
  // A clock's time, the last time the field stays a small integer, and the largest safe integer; for an order
  // with a rare-fields record (a stop price) and one without (its low time bits then sit in the record's field).
  const times = [1_700_000_000_123, 2 ** 49 - 1, 2 ** 50 + 7, Number.MAX_SAFE_INTEGER];
  for (const [createdMs, orderType, stopPriceTicks] of times.flatMap((ms) => [
    [ms, 'stopLimit', 9] as const,
    [ms, 'limit', 0] as const,
  ])) {
    const o = new Order(
      7,
      1,
      market,
      'sell',
      orderType,
      'IOC',
      false,
      'decrementAndCancel',
      5,
      stopPriceTicks,
      3,
      0n,
      3n,
      null,
      createdMs,
    );
    o.registered = true;
    o.isStopPending = true;
    o.isStopPending = true;
    t.equal(o.createdMs, createdMs, `${createdMs} with flags set`);
    t.ok(o.registered && o.isStopPending, `${createdMs}: the flags are set`);
    o.registered = false;
    o.isStopPending = false;
    o.isStopPending = false;
    t.equal(o.createdMs, createdMs, `${createdMs} with flags cleared`);
    t.notOk(o.registered || o.isStopPending, `${createdMs}: the flags are clear`);
    t.equal(o.stopPriceTicks, stopPriceTicks, `${orderType}: the stop price reads back`);
    t.same(
      [o.side, o.orderType, o.timeInForce, o.stp, o.postOnly],
      ['sell', orderType, 'IOC', 'decrementAndCancel', false],
    );
  }
  t.end();
});

t.test('stop price, quote budget and client order id read back, each alone and none', (t) => {
  const make = (stopPriceTicks: number, quoteBudget: bigint, clientOrderId: string | null): Order =>
    new Order(
      1,
      1,
      market,
      'buy',
      'limit',
      'GTC',
      true,
      'none',
      100,
      stopPriceTicks,
      2,
      quoteBudget,
      0n,
      clientOrderId,
      1,
    );
  const cases: [number, bigint, string | null][] = [
    [0, 0n, null],
    [42, 0n, null],
    [0, 5_000n, null],
    [0, 0n, 'my-order-1'],
  ];
  for (const [stop, budget, clientId] of cases) {
    const o = make(stop, budget, clientId);
    t.same(
      [o.stopPriceTicks, o.quoteBudget, o.clientOrderId],
      [stop, budget, clientId],
      `${stop} ${budget} ${clientId}`,
    );
  }
  t.end();
});
