// Cancel (one order by id or client id, all orders, per market) and amend (new total quantity and/or price:
// a lower quantity at the same price keeps the queue place, anything else re-queues and may trade).

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
  ticks,
  typesOf,
  usdc,
  weth,
} from './support.js';

const BALANCES = 'balanceChanged';
const WBTC = 2;
const WBTC_MARKET = 1;

/** Adds WBTC (8 decimals) and a WBTC-USDC market: tick 0.01 USDC, lot 0.0001 WBTC (1 USDC unit per tick-lot). */
function addWbtcMarket(f: Fixture): void {
  f.ok({ type: 'addAsset', assetId: WBTC, symbol: 'WBTC', decimals: 8 });
  f.ok({
    type: 'addMarket',
    marketId: WBTC_MARKET,
    symbol: 'WBTC-USDC',
    baseAssetId: WBTC,
    quoteAssetId: USDC,
    tickSize: 10_000n,
    lotSize: 10_000n,
    minNotional: 0n,
    makerFeeBps: 10,
    takerFeeBps: 20,
  });
}

t.test('cancel', async (t) => {
  t.test(
    'given a resting buy, when it is canceled by order id, then it leaves the book and its hold is released',
    async (t) => {
      const f = new Fixture();
      f.fund(1, { usdc: '3000' });
      const id = f.rest(1, 'buy', '2000', '1');

      const events = f.when({ type: 'cancelOrder', userId: 1, orderId: id });

      t.same(typesOf(events), ['orderCanceled', BALANCES, 'commandResult']);
      t.match(oneOf(events, 'orderCanceled'), {
        orderId: id,
        userId: 1,
        marketId: MARKET,
        reason: 'user',
        remainingLots: lots('1'),
        holdAssetId: USDC,
        released: usdc('2004'),
      });
      t.match(resultOf(events), { status: 'accepted', code: null, orderId: id });
      t.same(f.balance(1, USDC), { available: usdc('3000'), held: 0n, pending: 0n });
      t.same(book(f.engine, MARKET), { bids: [], asks: [] });
      t.equal(f.engine.openOrdersTotal, 0);
    },
  );

  t.test(
    'given a partially filled buy, when it is canceled, then exactly what it still holds is released',
    async (t) => {
      const f = new Fixture();
      f.fund(1, { usdc: '3000' });
      f.fund(2, { weth: '1' });
      const id = f.rest(1, 'buy', '2000', '1');
      f.limit(2, 'sell', '2000', '0.4');

      const events = f.when({ type: 'cancelOrder', userId: 1, orderId: id });

      t.match(oneOf(events, 'orderCanceled'), { remainingLots: lots('0.6'), released: usdc('1203.2') });
      t.same(f.balance(1, USDC), { available: usdc('2199.2'), held: 0n, pending: 0n }, '3000 - 800.8 paid');
    },
  );

  t.test(
    'given a resting sell with a client order id, when it is canceled by that client order id, then it is canceled',
    async (t) => {
      const f = new Fixture();
      f.fund(1, { weth: '1' });
      const id = f.rest(1, 'sell', '2000', '1', { clientOrderId: 'my-ask' });

      const events = f.when({ type: 'cancelOrder', userId: 1, clientOrderId: 'my-ask' });

      t.match(oneOf(events, 'orderCanceled'), { orderId: id, reason: 'user', holdAssetId: WETH, released: weth('1') });
      t.same(f.balance(1, WETH), { available: weth('1'), held: 0n, pending: 0n });
    },
  );

  t.test("given another user's order, when a user cancels it, then ORDER_NOT_FOUND and nothing changes", async (t) => {
    const f = new Fixture();
    f.fund(1, { usdc: '3000' });
    const id = f.rest(1, 'buy', '2000', '1', { clientOrderId: 'shared-name' });
    const before = stateHashExceptSequence(f.engine);

    t.same(typesOf(f.when({ type: 'cancelOrder', userId: 2, orderId: id })), ['commandResult']);
    t.equal(codeOf(f.when({ type: 'cancelOrder', userId: 2, orderId: id })), 'ORDER_NOT_FOUND');
    t.equal(codeOf(f.when({ type: 'cancelOrder', userId: 2, clientOrderId: 'shared-name' })), 'ORDER_NOT_FOUND');
    t.equal(stateHashExceptSequence(f.engine), before);
    t.same(book(f.engine, MARKET).bids[0].orderIds, [id]);
  });

  t.test('an order that is no longer open (canceled or filled) cannot be canceled: ORDER_NOT_FOUND', async (t) => {
    const f = new Fixture();
    f.fund(1, { usdc: '5000' });
    f.fund(2, { weth: '1' });
    const canceled = f.rest(1, 'buy', '2000', '1');
    f.ok({ type: 'cancelOrder', userId: 1, orderId: canceled });
    const filled = f.rest(1, 'buy', '2000', '1');
    f.limit(2, 'sell', '2000', '1');

    t.equal(codeOf(f.when({ type: 'cancelOrder', userId: 1, orderId: canceled })), 'ORDER_NOT_FOUND');
    t.equal(codeOf(f.when({ type: 'cancelOrder', userId: 1, orderId: filled })), 'ORDER_NOT_FOUND');
    t.equal(codeOf(f.when({ type: 'cancelOrder', userId: 1, orderId: 999 })), 'ORDER_NOT_FOUND');
  });
});

t.test('cancel all', async (t) => {
  function given(): { f: Fixture; mine: number[]; theirs: number } {
    const f = new Fixture();
    addWbtcMarket(f);
    f.fund(1, { usdc: '10000', weth: '1' });
    f.deposit(1, WBTC, 10n ** 8n);
    f.fund(2, { usdc: '3000' });
    const first = f.rest(1, 'buy', '2000', '1');
    const wbtc = resultOf(
      f.when({
        type: 'placeOrder',
        userId: 1,
        marketId: WBTC_MARKET,
        side: 'sell',
        orderType: 'limit',
        price: usdc('60000'),
        quantity: 10n ** 7n,
      }),
    ).orderId as number;
    const theirs = f.rest(2, 'buy', '2000', '1');
    const stop = resultOf(
      f.place(1, { side: 'sell', orderType: 'stopMarket', stopPrice: usdc('1500'), quantity: weth('1') }),
    ).orderId as number;
    const last = f.rest(1, 'buy', '1990', '0.5');
    return { f, mine: [first, wbtc, stop, last], theirs };
  }

  t.test(
    'given orders in two markets and a pending stop, when the user cancels all, then all of theirs go, oldest first',
    async (t) => {
      const { f, mine, theirs } = given();

      const events = f.when({ type: 'cancelAll', userId: 1 });

      t.same(
        eventsOfType(events, 'orderCanceled').map((e) => [e.orderId, e.reason]),
        mine.map((id) => [id, 'cancelAll']),
      );
      t.match(resultOf(events), { status: 'accepted', orderId: null });
      t.same([...f.engine.orders.keys()], [theirs]);
      t.same(f.balance(1, USDC), { available: usdc('10000'), held: 0n, pending: 0n });
      t.same(f.balance(1, WETH), { available: weth('1'), held: 0n, pending: 0n });
      t.same(f.balance(1, WBTC), { available: 10n ** 8n, held: 0n, pending: 0n });
    },
  );

  t.test(
    "given orders in two markets, when the user cancels all in one market, then only that market's go, oldest first",
    async (t) => {
      const { f, mine, theirs } = given();
      const [first, wbtc, stop, last] = mine;

      const events = f.when({ type: 'cancelAll', userId: 1, marketId: MARKET });

      t.same(
        eventsOfType(events, 'orderCanceled').map((e) => e.orderId),
        [first, stop, last],
      );
      t.same(
        [...f.engine.orders.keys()].sort((x, y) => x - y),
        [wbtc, theirs].sort((x, y) => x - y),
      );
      t.same(f.balance(1, WBTC), { available: 9n * 10n ** 7n, held: 10n ** 7n, pending: 0n });
    },
  );

  t.test('given a re-queued (amended) older order, cancel all still goes oldest id first', async (t) => {
    const { f, mine } = given();
    f.ok({ type: 'amendOrder', userId: 1, orderId: mine[0], price: usdc('1995') });

    const events = f.when({ type: 'cancelAll', userId: 1 });

    t.same(
      eventsOfType(events, 'orderCanceled').map((e) => e.orderId),
      mine,
    );
  });

  t.test('given no open orders, cancel all is accepted and emits only its result', async (t) => {
    const f = new Fixture();
    t.same(typesOf(f.when({ type: 'cancelAll', userId: 7 })), ['commandResult']);
    t.equal(codeOf(f.when({ type: 'cancelAll', userId: 7, marketId: 5 })), 'CANCEL_MARKET_UNKNOWN');
  });
});

t.test('amend', async (t) => {
  /** User 1's bid A then user 3's bid B, both 1 WETH @ 2000; user 2 has WETH to sell. */
  function twoBids(priceA = '2000'): { f: Fixture; a: number; b: number } {
    const f = new Fixture();
    f.fund(1, { usdc: '10000' });
    f.fund(3, { usdc: '10000' });
    f.fund(2, { weth: '5' });
    const a = f.rest(1, 'buy', priceA, '1');
    const b = f.rest(3, 'buy', '2000', '1');
    return { f, a, b };
  }

  t.test(
    'given A ahead of B, when A lowers its quantity, then it keeps its place (a taker still fills it first) and its hold shrinks',
    async (t) => {
      const { f, a, b } = twoBids();

      const events = f.when({ type: 'amendOrder', userId: 1, orderId: a, quantity: weth('0.5') });

      t.same(typesOf(events), ['orderAmended', BALANCES, 'commandResult']);
      t.match(oneOf(events, 'orderAmended'), {
        orderId: a,
        userId: 1,
        marketId: MARKET,
        priceTicks: ticks('2000'),
        qtyLots: lots('0.5'),
        remainingLots: lots('0.5'),
        keptPriority: true,
        holdAssetId: USDC,
        held: usdc('1002'),
      });
      t.match(resultOf(events), { status: 'accepted', orderId: a });
      t.same(f.balance(1, USDC), { available: usdc('8998'), held: usdc('1002'), pending: 0n });
      t.same(book(f.engine, MARKET).bids, [{ price: usdc('2000'), qty: weth('1.5'), orderIds: [a, b] }]);

      const taker = f.limit(2, 'sell', '2000', '0.5');
      t.same(
        eventsOfType(taker, 'trade').map((tr) => tr.makerOrderId),
        [a],
      );
      t.match(
        eventsOfType(taker, 'orderFilled')[0],
        { orderId: a, released: usdc('1') },
        '1002 held at 20 bps, 1001 paid at 10',
      );
    },
  );

  t.test(
    'given A at 1999 and B at 2000, when A moves to 2000, then it queues behind B and holds for the new price',
    async (t) => {
      const { f, a, b } = twoBids('1999');
      t.same(f.balance(1, USDC).held, usdc('2002.998'));

      const events = f.when({ type: 'amendOrder', userId: 1, orderId: a, price: usdc('2000') });

      t.same(typesOf(events), ['orderAmended', 'orderRested', BALANCES, 'commandResult']);
      t.match(oneOf(events, 'orderAmended'), {
        orderId: a,
        priceTicks: ticks('2000'),
        qtyLots: lots('1'),
        keptPriority: false,
        held: usdc('2004'),
      });
      t.same(f.balance(1, USDC), { available: usdc('7996'), held: usdc('2004'), pending: 0n });
      t.same(book(f.engine, MARKET).bids, [{ price: usdc('2000'), qty: weth('2'), orderIds: [b, a] }]);
      t.equal(oneOf(f.limit(2, 'sell', '2000', '1'), 'trade').makerOrderId, b);
    },
  );

  t.test('given A ahead of B, when A raises its quantity, then it goes behind B', async (t) => {
    const { f, a, b } = twoBids();

    const events = f.when({ type: 'amendOrder', userId: 1, orderId: a, quantity: weth('2') });

    t.match(oneOf(events, 'orderAmended'), {
      orderId: a,
      qtyLots: lots('2'),
      remainingLots: lots('2'),
      keptPriority: false,
      held: usdc('4008'),
    });
    t.same(book(f.engine, MARKET).bids, [{ price: usdc('2000'), qty: weth('3'), orderIds: [b, a] }]);
    t.equal(oneOf(f.limit(2, 'sell', '2000', '1'), 'trade').makerOrderId, b);
  });

  t.test(
    'given a bid below an ask, when the bid is amended to cross, then it trades as the taker at the ask',
    async (t) => {
      const f = new Fixture();
      f.fund(1, { usdc: '3000' });
      f.fund(2, { weth: '1' });
      const bid = f.rest(1, 'buy', '1990', '1');
      const ask = f.rest(2, 'sell', '2000', '1');

      const events = f.when({ type: 'amendOrder', userId: 1, orderId: bid, price: usdc('2000') });

      t.same(
        typesOf(events).filter((type) => type !== BALANCES),
        ['orderAmended', 'trade', 'orderFilled', 'orderFilled', 'commandResult'],
      );
      t.match(oneOf(events, 'trade'), {
        makerOrderId: ask,
        takerOrderId: bid,
        takerSide: 'buy',
        priceTicks: ticks('2000'),
        makerFee: usdc('2'),
        takerFee: usdc('4'),
      });
      t.match(eventsOfType(events, 'orderFilled')[1], { orderId: bid, released: 0n });
      t.same(f.balance(1, USDC), { available: usdc('996'), held: 0n, pending: 0n });
      t.same(book(f.engine, MARKET), { bids: [], asks: [] });
      t.equal(f.engine.openOrdersTotal, 0);
    },
  );

  t.test(
    'given a pending stop, when an amend makes a trade at its stop, then the stop triggers in the same command',
    async (t) => {
      const f = new Fixture();
      f.fund(1, { usdc: '3000' });
      f.fund(2, { weth: '1' });
      f.fund(4, { weth: '1' });
      const bid = f.rest(1, 'buy', '1990', '1');
      f.rest(2, 'sell', '2000', '0.5');
      const stop = resultOf(
        f.place(4, { side: 'sell', orderType: 'stopMarket', stopPrice: usdc('2000'), quantity: weth('0.2') }),
      ).orderId as number;

      const events = f.when({ type: 'amendOrder', userId: 1, orderId: bid, price: usdc('2000') });

      t.match(oneOf(events, 'orderTriggered'), { orderId: stop, lastPriceTicks: ticks('2000') });
      t.same(
        eventsOfType(events, 'trade').map((tr) => [tr.makerOrderId, tr.takerOrderId, tr.qtyLots]),
        [
          [2, bid, lots('0.5')],
          [bid, stop, lots('0.2')],
        ],
      );
      t.same(book(f.engine, MARKET).bids, [{ price: usdc('2000'), qty: weth('0.3'), orderIds: [bid] }]);
    },
  );

  t.test('given a bid with 0.4 filled, the new quantity must exceed 0.4 (AMEND_QTY_NOT_ABOVE_FILLED)', async (t) => {
    const { f, a } = twoBids();
    f.limit(2, 'sell', '2000', '0.4');
    const before = stateHashExceptSequence(f.engine);

    t.equal(
      codeOf(f.when({ type: 'amendOrder', userId: 1, orderId: a, quantity: weth('0.4') })),
      'AMEND_QTY_NOT_ABOVE_FILLED',
    );
    t.equal(
      codeOf(f.when({ type: 'amendOrder', userId: 1, orderId: a, quantity: weth('0.3') })),
      'AMEND_QTY_NOT_ABOVE_FILLED',
    );
    t.equal(stateHashExceptSequence(f.engine), before);

    const reduced = f.when({ type: 'amendOrder', userId: 1, orderId: a, quantity: weth('0.5') });
    t.match(oneOf(reduced, 'orderAmended'), {
      qtyLots: lots('0.5'),
      remainingLots: lots('0.1'),
      keptPriority: true,
      held: usdc('200.4'),
    });
    const raised = f.when({ type: 'amendOrder', userId: 1, orderId: a, quantity: weth('2') });
    t.match(oneOf(raised, 'orderAmended'), {
      qtyLots: lots('2'),
      remainingLots: lots('1.6'),
      keptPriority: false,
      held: usdc('3206.4'),
    });
    t.same(f.balance(1, USDC), {
      available: usdc('10000') - usdc('800.8') - usdc('3206.4'),
      held: usdc('3206.4'),
      pending: 0n,
    });
  });

  t.test('an amend that changes nothing is rejected AMEND_NOTHING_TO_CHANGE', async (t) => {
    const { f, a } = twoBids();
    const before = stateHashExceptSequence(f.engine);
    t.equal(codeOf(f.when({ type: 'amendOrder', userId: 1, orderId: a })), 'AMEND_NOTHING_TO_CHANGE');
    t.equal(
      codeOf(f.when({ type: 'amendOrder', userId: 1, orderId: a, quantity: weth('1'), price: usdc('2000') })),
      'AMEND_NOTHING_TO_CHANGE',
    );
    t.equal(stateHashExceptSequence(f.engine), before);
  });

  t.test(
    'given a post-only bid, an amend into the ask is rejected AMEND_POST_ONLY_WOULD_TAKE; one below it is accepted',
    async (t) => {
      const f = new Fixture();
      f.fund(1, { usdc: '3000' });
      f.fund(2, { weth: '1' });
      const bid = f.rest(1, 'buy', '1990', '1', { postOnly: true });
      f.rest(2, 'sell', '2000', '1');
      const before = stateHashExceptSequence(f.engine);

      t.equal(
        codeOf(f.when({ type: 'amendOrder', userId: 1, orderId: bid, price: usdc('2000') })),
        'AMEND_POST_ONLY_WOULD_TAKE',
      );
      t.equal(stateHashExceptSequence(f.engine), before);
      t.match(oneOf(f.when({ type: 'amendOrder', userId: 1, orderId: bid, price: usdc('1999.99') }), 'orderAmended'), {
        priceTicks: ticks('1999.99'),
        keptPriority: false,
      });
    },
  );

  t.test(
    'given a bid holding all the user has, an amend that needs more is rejected and the order is unchanged',
    async (t) => {
      const f = new Fixture();
      f.fund(1, { usdc: '2004' });
      f.fund(3, { usdc: '3000' });
      const a = f.rest(1, 'buy', '2000', '1');
      const b = f.rest(3, 'buy', '2000', '1');
      const before = stateHashExceptSequence(f.engine);

      t.equal(
        codeOf(f.when({ type: 'amendOrder', userId: 1, orderId: a, quantity: weth('1.0001') })),
        'RISK_INSUFFICIENT_FUNDS',
      );
      t.equal(
        codeOf(f.when({ type: 'amendOrder', userId: 1, orderId: a, price: usdc('2000.01') })),
        'RISK_INSUFFICIENT_FUNDS',
      );
      t.equal(stateHashExceptSequence(f.engine), before);
      t.same(
        book(f.engine, MARKET).bids,
        [{ price: usdc('2000'), qty: weth('2'), orderIds: [a, b] }],
        'still first in the queue',
      );
      t.same(f.balance(1, USDC), { available: 0n, held: usdc('2004'), pending: 0n });

      const lower = f.when({ type: 'amendOrder', userId: 1, orderId: a, price: usdc('1990') });
      t.match(oneOf(lower, 'orderAmended'), { held: usdc('1993.98') });
      t.same(f.balance(1, USDC), { available: usdc('10.02'), held: usdc('1993.98'), pending: 0n });
    },
  );

  t.test('a sell amend holds base: lowering the quantity releases WETH', async (t) => {
    const f = new Fixture();
    f.fund(1, { weth: '1' });
    const ask = f.rest(1, 'sell', '2000', '1');
    const events = f.when({ type: 'amendOrder', userId: 1, orderId: ask, quantity: weth('0.25') });
    t.match(oneOf(events, 'orderAmended'), { holdAssetId: WETH, held: weth('0.25'), keptPriority: true });
    t.same(f.balance(1, WETH), { available: weth('0.75'), held: weth('0.25'), pending: 0n });
  });

  t.test(
    "an amend of another user's order, or with an off-step quantity or price, is rejected and changes nothing",
    async (t) => {
      const { f, a } = twoBids();
      const before = stateHashExceptSequence(f.engine);
      t.equal(codeOf(f.when({ type: 'amendOrder', userId: 3, orderId: a, quantity: weth('0.5') })), 'ORDER_NOT_FOUND');
      t.equal(
        codeOf(f.when({ type: 'amendOrder', userId: 1, orderId: a, quantity: weth('0.00001') })),
        'ORDER_QTY_NOT_ON_LOT',
      );
      t.equal(
        codeOf(f.when({ type: 'amendOrder', userId: 1, orderId: a, price: usdc('2000.001') })),
        'ORDER_PRICE_NOT_ON_TICK',
      );
      t.equal(
        codeOf(f.when({ type: 'amendOrder', userId: 1, orderId: a, price: usdc('0.01') })),
        'ORDER_NOTIONAL_TOO_SMALL',
        're-queued below the minimum notional',
      );
      t.equal(stateHashExceptSequence(f.engine), before);
    },
  );
});
