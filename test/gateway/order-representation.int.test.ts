// One representation of an order, whichever route answers: the placement's answer (POST /v1/orders) and the reads
// (GET /v1/orders/{id}, by client order id, the lists) give the same status and quantities for an IOC that partly
// fills, a market buy by quote quantity, a resting order, and a repeated client order id (which answers with the
// first order as it stands). And a malformed price, quantity or amount answers EX_DECIMAL_INVALID.

import t from 'tap';
import { MARKET, USDT, ETH, deposit, registerUser, setupMarket, startTestGateway } from './support.js';
import type { TestUser } from './support.js';

t.test('order representation', async (t) => {
  const tg = await startTestGateway('orderrep');
  t.teardown(() => tg.close());
  const { app } = tg.gw;
  await setupMarket(tg.bus);
  const maker = await registerUser(tg.gw, 'maker');
  const taker = await registerUser(tg.gw, 'taker');
  await deposit(tg.bus, maker.userId, ETH, 10n * 10n ** 18n);
  await deposit(tg.bus, taker.userId, USDT, 100_000n * 10n ** 6n);
  const place = (u: TestUser, body: Record<string, unknown>) =>
    app.inject({ method: 'POST', url: '/v1/orders', headers: u.bearer, payload: { marketId: MARKET, ...body } });
  const read = async (u: TestUser, orderId: number) =>
    (await app.inject({ method: 'GET', url: `/v1/orders/${orderId}`, headers: u.bearer })).json();
  /** Exact comparison of some fields (t.match would take a string as a pattern: "4.5" matches "4.5363"). */
  const fields = (tt: typeof t, got: Record<string, unknown>, want: Record<string, unknown>, what = 'fields') =>
    tt.same(Object.fromEntries(Object.keys(want).map((k) => [k, got[k]])), want, what);
  const same = (tt: typeof t, placed: Record<string, unknown>, stored: Record<string, unknown>, what: string) =>
    tt.same(
      {
        status: placed.orderStatus,
        filledQuantity: placed.filledQuantity,
        remainingQuantity: placed.remainingQuantity,
      },
      { status: stored.status, filledQuantity: stored.filledQuantity, remainingQuantity: stored.remainingQuantity },
      `${what}: the placement's answer and GET /v1/orders/{id} agree`,
    );

  await place(maker, { side: 'sell', orderType: 'limit', price: '100', quantity: '1' });
  await place(maker, { side: 'sell', orderType: 'limit', price: '110', quantity: '5' });

  t.test('an IOC that partly fills: remaining 0 on both routes, the unfilled part in quantity - filled', async (t) => {
    const ioc = await place(taker, {
      side: 'buy',
      orderType: 'limit',
      price: '100',
      quantity: '2',
      timeInForce: 'IOC',
    });
    t.equal(ioc.statusCode, 201);
    fields(t, ioc.json(), { orderStatus: 'expired', filledQuantity: '1', remainingQuantity: '0' });
    const stored = await read(taker, ioc.json().orderId);
    fields(t, stored, {
      status: 'expired',
      closeReason: 'ioc',
      quantity: '2',
      originalQuantity: '2',
      filledQuantity: '1',
      remainingQuantity: '0',
    });
    same(t, ioc.json(), stored, 'IOC');
  });

  t.test('a market buy by quote quantity has no base quantity of its own', async (t) => {
    const buy = await place(taker, { side: 'buy', orderType: 'market', quoteQuantity: '500' });
    t.equal(buy.statusCode, 201);
    // 500 USDT at 110 with a 20 bps taker fee buys 4.5363 (498.993 + 0.997986 fee); one more lot would not fit.
    fields(t, buy.json(), { orderStatus: 'expired', filledQuantity: '4.5363', remainingQuantity: '0' });
    const stored = await read(taker, buy.json().orderId);
    fields(t, stored, {
      status: 'expired',
      closeReason: 'funds',
      quantity: null,
      originalQuantity: null,
      quoteQuantity: '500',
      filledQuantity: '4.5363',
      remainingQuantity: '0',
      filledQuote: '498.993',
    });
    same(t, buy.json(), stored, 'market by quote');
    const open = await place(taker, { side: 'buy', orderType: 'stopMarket', stopPrice: '150', quoteQuantity: '50' });
    fields(
      t,
      open.json(),
      { orderStatus: 'pendingTrigger', filledQuantity: '0', remainingQuantity: null },
      'a waiting stop-market by quote has no known remaining quantity',
    );
    same(t, open.json(), await read(taker, open.json().orderId), 'stop-market by quote');
  });

  t.test('a resting, partly filled order', async (t) => {
    const rest = await place(maker, {
      side: 'sell',
      orderType: 'limit',
      price: '105',
      quantity: '3',
      clientOrderId: 'm-rest',
    });
    fields(t, rest.json(), { orderStatus: 'new', filledQuantity: '0', remainingQuantity: '3' });
    await place(taker, { side: 'buy', orderType: 'limit', price: '105', quantity: '1.5', timeInForce: 'IOC' });
    const stored = await read(maker, rest.json().orderId);
    fields(t, stored, { status: 'partiallyFilled', quantity: '3', filledQuantity: '1.5', remainingQuantity: '1.5' });
    const list = (await app.inject({ method: 'GET', url: '/v1/orders/open', headers: maker.bearer })).json()
      .orders as Record<string, unknown>[];
    t.same(
      list.find((o) => o.orderId === rest.json().orderId),
      stored,
      'the open-orders list shows it exactly as GET does',
    );
  });

  t.test('a repeated client order id answers with the first order as it stands now', async (t) => {
    const first = await (
      await app.inject({ method: 'GET', url: '/v1/orders/by-client-id/m-rest', headers: maker.bearer })
    ).json();
    const again = await place(maker, {
      side: 'sell',
      orderType: 'limit',
      price: '105',
      quantity: '3',
      clientOrderId: 'm-rest',
    });
    t.equal(again.statusCode, 201);
    t.match(again.json(), { status: 'accepted', orderId: first.orderId, duplicateOf: /^gw:/, fills: [], lookup: null });
    same(t, again.json(), first, 'repeat');
    fields(t, again.json(), { orderStatus: 'partiallyFilled', filledQuantity: '1.5', remainingQuantity: '1.5' });
  });

  t.test('malformed decimals answer EX_DECIMAL_INVALID naming the field', async (t) => {
    for (const [field, value] of [
      ['price', ' 100'],
      ['price', '1e2'],
      ['price', '-1'],
      ['quantity', '01'],
      ['quantity', 1],
      ['quoteQuantity', '1.'],
      ['stopPrice', '+5'],
    ] as const) {
      const body = { side: 'buy', orderType: 'limit', price: '100', quantity: '1', [field]: value };
      const r = await place(taker, body);
      t.same([r.statusCode, r.json().code], [400, 'EX_DECIMAL_INVALID'], `${field} ${JSON.stringify(value)}`);
      t.match(r.json().message, field);
    }
    const amend = await app.inject({
      method: 'PATCH',
      url: '/v1/orders/1',
      headers: maker.bearer,
      payload: { price: '1e2' },
    });
    t.same([amend.statusCode, amend.json().code], [400, 'EX_DECIMAL_INVALID'], 'amend');
    const withdraw = await app.inject({
      method: 'POST',
      url: '/v1/withdrawals',
      headers: taker.bearer,
      payload: { asset: 'USDT', amount: '-1', address: '0x0000000000000000000000000000000000000001' },
    });
    t.same([withdraw.statusCode, withdraw.json().code], [400, 'EX_DECIMAL_INVALID'], 'withdrawal amount');
    const other = await place(taker, { side: 'up', orderType: 'limit', price: '100', quantity: '1' });
    t.same(
      [other.statusCode, other.json().code],
      [400, 'EX_BAD_REQUEST'],
      'any other schema failure stays EX_BAD_REQUEST',
    );
  });
});
