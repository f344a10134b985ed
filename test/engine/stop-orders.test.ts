// Stop orders: funds held at placement, triggered by the last trade price reaching the stop (buys: last >= stop,
// sells: last <= stop) within the command that traded, cascades, and what is refused or canceled.

import t from 'tap';
import {
  Fixture,
  MARKET,
  USDC,
  WETH,
  book,
  codeOf,
  eventsOfType,
  lots,
  oneOf,
  resultOf,
  stateHashExceptSequence,
  stopBook,
  ticks,
  typesOf,
  usdc,
  weth,
} from './support.js';
import type { OrderBody } from './support.js';

const BALANCES = 'balanceChanged';

/** A fixture whose last trade price is `price` (users 8 and 9 trade 0.1 WETH). */
function withLastPrice(price: string): Fixture {
  const f = new Fixture();
  f.fund(9, { weth: '1' });
  f.fund(8, { usdc: '1000' });
  f.rest(9, 'sell', price, '0.1');
  f.limit(8, 'buy', price, '0.1');
  if (f.engine.markets[MARKET]?.lastPriceTicks !== ticks(price)) throw new Error('given: the last price was not set');
  return f;
}

const stopLimit = (side: 'buy' | 'sell', stop: string, price: string, qty: string): OrderBody => ({
  side,
  orderType: 'stopLimit',
  stopPrice: usdc(stop),
  price: usdc(price),
  quantity: weth(qty),
});

function placeStop(f: Fixture, userId: number, order: OrderBody): number {
  const result = resultOf(f.place(userId, order));
  if (result.status !== 'accepted' || result.orderId === null)
    throw new Error(`given stop was rejected with ${result.code}`);
  return result.orderId;
}

t.test(
  'given last 2000, when a stop-limit buy is placed, then it holds its funds and waits off the book until a trade at the stop',
  async (t) => {
    const f = withLastPrice('2000');
    f.fund(1, { weth: '2' });
    f.fund(3, { usdc: '1000' });
    f.fund(4, { usdc: '3000' });

    const placed = f.place(4, stopLimit('buy', '2010', '2020', '1'));

    t.same(typesOf(placed), ['orderAccepted', BALANCES, 'commandResult']);
    const stopId = resultOf(placed).orderId as number;
    t.match(oneOf(placed, 'orderAccepted'), {
      orderType: 'stopLimit',
      stopPriceTicks: ticks('2010'),
      priceTicks: ticks('2020'),
      qtyLots: lots('1'),
      held: usdc('2024.04'),
    });
    t.same(f.balance(4, USDC), { available: usdc('975.96'), held: usdc('2024.04'), pending: 0n });
    t.same(stopBook(f.engine, MARKET), { buy: [stopId], sell: [] });
    t.same(book(f.engine, MARKET).bids, [], 'a pending stop is not on the visible book');

    f.rest(1, 'sell', '2010', '0.1');
    const ask = f.rest(1, 'sell', '2015', '1');
    t.same(stopBook(f.engine, MARKET).buy, [stopId], 'resting asks do not trigger: only trades do');

    const events = f.limit(3, 'buy', '2010', '0.1');

    t.same(
      typesOf(events).filter((type) => type !== BALANCES),
      [
        'orderAccepted',
        'trade',
        'orderFilled',
        'orderFilled',
        'orderTriggered',
        'trade',
        'orderFilled',
        'orderFilled',
        'commandResult',
      ],
    );
    t.match(oneOf(events, 'orderTriggered'), { orderId: stopId, marketId: MARKET, lastPriceTicks: ticks('2010') });
    t.match(eventsOfType(events, 'trade')[1], {
      priceTicks: ticks('2015'),
      qtyLots: lots('1'),
      makerOrderId: ask,
      takerOrderId: stopId,
      takerUserId: 4,
      takerSide: 'buy',
    });
    t.match(
      eventsOfType(events, 'orderFilled')[3],
      { orderId: stopId, released: usdc('5.01') },
      '2024.04 held - 2019.03 paid',
    );
    t.same(f.balance(4, USDC), { available: usdc('980.97'), held: 0n, pending: 0n });
    t.same(f.balance(4, WETH).available, weth('1'));
    t.same(stopBook(f.engine, MARKET), { buy: [], sell: [] });
    t.equal(f.engine.stopOrdersTotal, 0);
    t.equal(f.engine.markets[MARKET]?.lastPriceTicks, ticks('2015'));
  },
);

t.test(
  'given a stop-limit sell, when a trade reaches its stop, then it sells what crosses and rests the rest at its limit',
  async (t) => {
    const f = withLastPrice('2000');
    f.fund(1, { usdc: '5000' });
    f.fund(3, { weth: '1' });
    f.fund(4, { weth: '1' });
    const stopId = placeStop(f, 4, stopLimit('sell', '1990', '1985', '1'));
    t.same(f.balance(4, WETH), { available: 0n, held: weth('1'), pending: 0n });
    f.rest(1, 'buy', '1990', '0.1');
    const bid = f.rest(1, 'buy', '1988', '0.4');

    const events = f.limit(3, 'sell', '1990', '0.1');

    t.same(
      typesOf(events).filter((type) => type !== BALANCES),
      [
        'orderAccepted',
        'trade',
        'orderFilled',
        'orderFilled',
        'orderTriggered',
        'trade',
        'orderFilled',
        'orderPartiallyFilled',
        'orderRested',
        'commandResult',
      ],
    );
    t.match(oneOf(events, 'orderTriggered'), { orderId: stopId, lastPriceTicks: ticks('1990') });
    t.match(eventsOfType(events, 'trade')[1], {
      makerOrderId: bid,
      takerOrderId: stopId,
      priceTicks: ticks('1988'),
      qtyLots: lots('0.4'),
    });
    t.match(oneOf(events, 'orderRested'), {
      orderId: stopId,
      side: 'sell',
      priceTicks: ticks('1985'),
      remainingLots: lots('0.6'),
    });
    t.same(book(f.engine, MARKET).asks, [{ price: usdc('1985'), qty: weth('0.6'), orderIds: [stopId] }]);
    t.same(f.balance(4, WETH), { available: 0n, held: weth('0.6'), pending: 0n });
    t.same(f.balance(4, USDC).available, usdc('793.6096'), '795.2 - 0.2% taker fee');
    t.same(stopBook(f.engine, MARKET).sell, []);
  },
);

t.test('given a stop-market sell, when a trade reaches its stop, then it sells at market', async (t) => {
  const f = withLastPrice('2000');
  f.fund(1, { usdc: '5000' });
  f.fund(3, { weth: '1' });
  f.fund(4, { weth: '1' });
  const placed = f.place(4, { side: 'sell', orderType: 'stopMarket', stopPrice: usdc('1990'), quantity: weth('0.5') });
  const stopId = resultOf(placed).orderId as number;
  t.match(oneOf(placed, 'orderAccepted'), {
    orderType: 'stopMarket',
    timeInForce: 'IOC',
    stopPriceTicks: ticks('1990'),
    priceTicks: 0,
    holdAssetId: WETH,
    held: weth('0.5'),
  });
  f.rest(1, 'buy', '1990', '0.1');
  f.rest(1, 'buy', '1980', '1');

  const events = f.limit(3, 'sell', '1990', '0.1');

  t.match(oneOf(events, 'orderTriggered'), { orderId: stopId, lastPriceTicks: ticks('1990') });
  t.match(eventsOfType(events, 'trade')[1], {
    takerOrderId: stopId,
    priceTicks: ticks('1980'),
    qtyLots: lots('0.5'),
    quoteAmount: usdc('990'),
    takerFee: usdc('1.98'),
  });
  t.match(eventsOfType(events, 'orderFilled').at(-1), { orderId: stopId, released: 0n });
  t.same(f.balance(4, WETH), { available: weth('0.5'), held: 0n, pending: 0n });
  t.same(f.balance(4, USDC), { available: usdc('988.02'), held: 0n, pending: 0n });
});

t.test(
  'given a stop-market buy by quote, when a trade reaches its stop, then it spends at most its budget and releases the change',
  async (t) => {
    const f = withLastPrice('2000');
    f.fund(1, { weth: '2' });
    f.fund(3, { usdc: '1000' });
    f.fund(4, { usdc: '1002' });
    const placed = f.place(4, {
      side: 'buy',
      orderType: 'stopMarket',
      stopPrice: usdc('2010'),
      quoteQuantity: usdc('1002'),
    });
    const stopId = resultOf(placed).orderId as number;
    t.match(oneOf(placed, 'orderAccepted'), { qtyLots: 0, quoteQuantity: usdc('1002'), held: usdc('1002') });
    t.same(f.balance(4, USDC), { available: 0n, held: usdc('1002'), pending: 0n });
    f.rest(1, 'sell', '2010', '0.1');
    f.rest(1, 'sell', '2020', '1');

    const events = f.limit(3, 'buy', '2010', '0.1');

    t.match(oneOf(events, 'orderTriggered'), { orderId: stopId, lastPriceTicks: ticks('2010') });
    // 0.495 @ 2020 = 999.9 + 1.9998 fee; 0.4951 would cost 1002.102204.
    t.match(eventsOfType(events, 'trade')[1], {
      takerOrderId: stopId,
      priceTicks: ticks('2020'),
      qtyLots: lots('0.495'),
      quoteAmount: usdc('999.9'),
      takerFee: usdc('1.9998'),
    });
    t.match(oneOf(events, 'orderExpired'), { orderId: stopId, reason: 'funds', released: usdc('0.1002') });
    t.same(f.balance(4, USDC), { available: usdc('0.1002'), held: 0n, pending: 0n });
    t.same(f.balance(4, WETH).available, weth('0.495'));
  },
);

t.test(
  'given a buy stop at 2010, when one trade jumps through it to 2020, then it triggers at the last price 2020',
  async (t) => {
    const f = withLastPrice('2000');
    f.fund(1, { weth: '2' });
    f.fund(3, { usdc: '2000' });
    f.fund(4, { usdc: '1000' });
    const stopId = placeStop(f, 4, stopLimit('buy', '2010', '2030', '0.1'));
    const ask = f.rest(1, 'sell', '2020', '1');

    const events = f.limit(3, 'buy', '2020', '0.5');

    t.match(oneOf(events, 'orderTriggered'), { orderId: stopId, lastPriceTicks: ticks('2020') });
    t.match(eventsOfType(events, 'trade')[1], {
      makerOrderId: ask,
      takerOrderId: stopId,
      priceTicks: ticks('2020'),
      qtyLots: lots('0.1'),
    });
    t.same(book(f.engine, MARKET).asks, [{ price: usdc('2020'), qty: weth('0.4'), orderIds: [ask] }]);
  },
);

t.test(
  'given stops at 2010 and 2020, when a trade at 2010 triggers the first, then its trade at 2020 triggers the second in the same command',
  async (t) => {
    const f = withLastPrice('2000');
    f.fund(1, { weth: '1' });
    for (const user of [3, 4, 5, 6]) f.fund(user, { usdc: '1000' });
    const a1 = f.rest(1, 'sell', '2010', '0.1');
    const a2 = f.rest(1, 'sell', '2020', '0.1');
    const a3 = f.rest(1, 'sell', '2030', '0.1');
    const first = placeStop(f, 4, stopLimit('buy', '2010', '2020', '0.1'));
    const second = placeStop(f, 5, stopLimit('buy', '2020', '2030', '0.1'));
    const untouched = placeStop(f, 6, stopLimit('buy', '2040', '2050', '0.1'));

    const events = f.limit(3, 'buy', '2010', '0.1');

    t.same(
      typesOf(events).filter((type) => type !== BALANCES),
      [
        'orderAccepted',
        'trade',
        'orderFilled',
        'orderFilled',
        'orderTriggered',
        'trade',
        'orderFilled',
        'orderFilled',
        'orderTriggered',
        'trade',
        'orderFilled',
        'orderFilled',
        'commandResult',
      ],
    );
    t.same(
      eventsOfType(events, 'orderTriggered').map((e) => [e.orderId, e.lastPriceTicks]),
      [
        [first, ticks('2010')],
        [second, ticks('2020')],
      ],
    );
    t.same(
      eventsOfType(events, 'trade').map((e) => [e.makerOrderId, e.takerOrderId, e.priceTicks]),
      [
        [a1, resultOf(events).orderId, ticks('2010')],
        [a2, first, ticks('2020')],
        [a3, second, ticks('2030')],
      ],
    );
    t.same(stopBook(f.engine, MARKET), { buy: [untouched], sell: [] });
    t.equal(f.engine.markets[MARKET]?.lastPriceTicks, ticks('2030'));
  },
);

t.test(
  'given last 2000, a stop the last price already meets is rejected ORDER_STOP_WOULD_TRIGGER and nothing changes',
  async (t) => {
    const f = withLastPrice('2000');
    f.fund(4, { weth: '1', usdc: '5000' });
    const before = stateHashExceptSequence(f.engine);

    t.equal(codeOf(f.place(4, stopLimit('buy', '2000', '2010', '0.1'))), 'ORDER_STOP_WOULD_TRIGGER');
    t.equal(codeOf(f.place(4, stopLimit('buy', '1990', '2010', '0.1'))), 'ORDER_STOP_WOULD_TRIGGER');
    t.equal(codeOf(f.place(4, stopLimit('sell', '2000', '1990', '0.1'))), 'ORDER_STOP_WOULD_TRIGGER');
    t.equal(
      codeOf(f.place(4, { side: 'sell', orderType: 'stopMarket', stopPrice: usdc('2010'), quantity: weth('0.1') })),
      'ORDER_STOP_WOULD_TRIGGER',
    );
    t.equal(stateHashExceptSequence(f.engine), before);

    t.equal(
      resultOf(f.place(4, stopLimit('buy', '2000.01', '2010', '0.1'))).status,
      'accepted',
      'one tick above triggers later',
    );
    t.equal(
      resultOf(f.place(4, stopLimit('sell', '1999.99', '1990', '0.1'))).status,
      'accepted',
      'one tick below triggers later',
    );
  },
);

t.test('given no trade yet (no last price), a stop at any price is accepted and waits', async (t) => {
  const f = new Fixture();
  f.fund(4, { weth: '1', usdc: '5000' });
  t.equal(resultOf(f.place(4, stopLimit('buy', '0.01', '1', '1'))).status, 'accepted');
  t.equal(resultOf(f.place(4, stopLimit('sell', '100000', '1', '1'))).status, 'accepted');
  t.equal(f.engine.stopOrdersTotal, 2);
});

t.test('a stop-market buy must give quoteQuantity; a stop-limit cannot be FOK', async (t) => {
  const f = withLastPrice('2000');
  f.fund(4, { usdc: '5000' });
  const before = stateHashExceptSequence(f.engine);

  t.equal(
    codeOf(f.place(4, { side: 'buy', orderType: 'stopMarket', stopPrice: usdc('2010'), quantity: weth('1') })),
    'ORDER_STOP_MARKET_BUY_NEEDS_QUOTE_QTY',
  );
  t.equal(codeOf(f.place(4, { ...stopLimit('buy', '2010', '2020', '1'), timeInForce: 'FOK' })), 'ORDER_TIF_INVALID');
  t.equal(stateHashExceptSequence(f.engine), before);
  t.equal(resultOf(f.place(4, { ...stopLimit('buy', '2010', '2020', '1'), timeInForce: 'IOC' })).status, 'accepted');
});

t.test(
  'given a pending stop, when it is canceled, then its hold is released and it leaves the stop book',
  async (t) => {
    const f = withLastPrice('2000');
    f.fund(4, { usdc: '3000', weth: '1' });
    const buyStop = placeStop(f, 4, stopLimit('buy', '2010', '2020', '1'));
    const sellStop = placeStop(f, 4, {
      side: 'sell',
      orderType: 'stopMarket',
      stopPrice: usdc('1990'),
      quantity: weth('1'),
    });
    t.equal(f.engine.stopOrdersTotal, 2);

    const events = f.when({ type: 'cancelOrder', userId: 4, orderId: buyStop });

    t.same(typesOf(events), ['orderCanceled', BALANCES, 'commandResult']);
    t.match(oneOf(events, 'orderCanceled'), {
      orderId: buyStop,
      reason: 'user',
      remainingLots: lots('1'),
      holdAssetId: USDC,
      released: usdc('2024.04'),
    });
    t.match(resultOf(events), { status: 'accepted', orderId: buyStop });
    t.same(f.balance(4, USDC), { available: usdc('3000'), held: 0n, pending: 0n });
    t.same(stopBook(f.engine, MARKET), { buy: [], sell: [sellStop] });

    const all = f.when({ type: 'cancelAll', userId: 4 });
    t.match(oneOf(all, 'orderCanceled'), { orderId: sellStop, reason: 'cancelAll', released: weth('1') });
    t.same(f.balance(4, WETH), { available: weth('1'), held: 0n, pending: 0n });
    t.equal(f.engine.stopOrdersTotal, 0);
    t.equal(f.engine.openOrdersTotal, 0);
  },
);

t.test(
  'a pending stop cannot be amended (AMEND_NOT_SUPPORTED_FOR_TYPE); once triggered and resting it can',
  async (t) => {
    const f = withLastPrice('2000');
    f.fund(1, { weth: '1' });
    f.fund(3, { usdc: '1000' });
    f.fund(4, { usdc: '3000' });
    const stopId = placeStop(f, 4, stopLimit('buy', '2010', '2005', '1'));
    const before = stateHashExceptSequence(f.engine);

    t.equal(
      codeOf(f.when({ type: 'amendOrder', userId: 4, orderId: stopId, quantity: weth('0.5') })),
      'AMEND_NOT_SUPPORTED_FOR_TYPE',
    );
    t.equal(stateHashExceptSequence(f.engine), before);

    f.rest(1, 'sell', '2010', '0.1');
    f.limit(3, 'buy', '2010', '0.1');
    t.same(
      book(f.engine, MARKET).bids,
      [{ price: usdc('2005'), qty: weth('1'), orderIds: [stopId] }],
      'triggered below the ask: rests',
    );
    const amended = f.when({ type: 'amendOrder', userId: 4, orderId: stopId, quantity: weth('0.5') });
    t.match(oneOf(amended, 'orderAmended'), {
      orderId: stopId,
      qtyLots: lots('0.5'),
      keptPriority: true,
      held: usdc('1004.505'),
    });
  },
);
