// Limit orders: resting, crossing at the maker's price, partial fills, levels, price-time priority, IOC, FOK,
// post-only, and fees. Prices and quantities are WETH-USDC in human units (see support.ts): one lot (0.0001 WETH)
// at one tick (0.01 USDC) is 1 USDC base unit; maker fee 10 bps, taker fee 20 bps, buys hold at 20 bps.

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

t.test(
  'given an empty book, when a GTC buy arrives, then it rests holding notional plus fee at the higher rate',
  async (t) => {
    const f = new Fixture();
    f.fund(1, { usdc: '10000' });

    const events = f.limit(1, 'buy', '2000', '1');

    t.same(typesOf(events), ['orderAccepted', 'orderRested', BALANCES, 'commandResult']);
    t.match(oneOf(events, 'orderAccepted'), {
      orderId: 1,
      userId: 1,
      marketId: MARKET,
      side: 'buy',
      orderType: 'limit',
      timeInForce: 'GTC',
      postOnly: false,
      stp: 'none',
      priceTicks: ticks('2000'),
      qtyLots: lots('1'),
      holdAssetId: USDC,
      held: usdc('2004'),
      clientOrderId: null,
    });
    t.match(oneOf(events, 'orderRested'), {
      orderId: 1,
      side: 'buy',
      priceTicks: ticks('2000'),
      remainingLots: lots('1'),
    });
    t.match(oneOf(events, 'balanceChanged'), {
      userId: 1,
      assetId: USDC,
      available: usdc('7996'),
      held: usdc('2004'),
      pending: 0n,
    });
    t.match(resultOf(events), { status: 'accepted', code: null, orderId: 1, duplicateOf: null });
    t.same(book(f.engine, MARKET), { bids: [{ price: usdc('2000'), qty: weth('1'), orderIds: [1] }], asks: [] });
  },
);

t.test('every event of a command names it and carries the next sequence number, the result last', async (t) => {
  const f = new Fixture();
  f.fund(1, { weth: '1' });
  f.fund(2, { usdc: '3000' });
  f.rest(1, 'sell', '2000', '1');
  const seqBefore = f.engine.eventSeq;

  const events = f.limit(2, 'buy', '2000', '1', { id: 'the-buy' });

  t.same(
    events.map((e) => e.seq),
    events.map((_e, i) => seqBefore + 1 + i),
  );
  t.ok(events.every((e) => e.cmdId === 'the-buy' && e.timeMs === f.nowMs && e.v === 1));
  t.equal(events[events.length - 1].type, 'commandResult');
});

t.test(
  'given an ask at 2000, when a buy at 2010 crosses, then it fills at 2000 and the price improvement is released',
  async (t) => {
    const f = new Fixture();
    f.fund(1, { weth: '1' });
    f.fund(2, { usdc: '3000' });
    const askId = f.rest(1, 'sell', '2000', '1');

    const events = f.limit(2, 'buy', '2010', '1');

    t.same(typesOf(events), [
      'orderAccepted',
      'trade',
      'orderFilled',
      'orderFilled',
      BALANCES,
      BALANCES,
      BALANCES,
      BALANCES,
      'commandResult',
    ]);
    t.equal(oneOf(events, 'orderAccepted').held, usdc('2014.02'), 'holds 2010 + 0.2%');
    t.match(oneOf(events, 'trade'), {
      tradeId: 1,
      marketId: MARKET,
      priceTicks: ticks('2000'),
      qtyLots: lots('1'),
      takerSide: 'buy',
      makerOrderId: askId,
      takerOrderId: 2,
      makerUserId: 1,
      takerUserId: 2,
      baseAmount: weth('1'),
      quoteAmount: usdc('2000'),
      makerFee: usdc('2'),
      takerFee: usdc('4'),
    });
    const [makerFill, takerFill] = eventsOfType(events, 'orderFilled');
    t.match(makerFill, {
      orderId: askId,
      userId: 1,
      tradeId: 1,
      fillLots: lots('1'),
      filledLots: lots('1'),
      remainingLots: 0,
      released: 0n,
    });
    t.match(takerFill, {
      orderId: 2,
      userId: 2,
      tradeId: 1,
      fillLots: lots('1'),
      filledLots: lots('1'),
      remainingLots: 0,
      released: usdc('10.02'),
    });
    t.same(
      eventsOfType(events, 'balanceChanged').map((b) => [b.userId, b.assetId, b.available, b.held]),
      [
        [2, USDC, usdc('996'), 0n],
        [2, WETH, weth('1'), 0n],
        [1, WETH, 0n, 0n],
        [1, USDC, usdc('1998'), 0n],
      ],
    );
    t.equal(f.fees(USDC), usdc('6'), 'maker 2 + taker 4 to the fee account');
    t.equal(f.fees(WETH), 0n);
    t.same(book(f.engine, MARKET), { bids: [], asks: [] });
    t.equal(f.engine.markets[MARKET]?.lastPriceTicks, ticks('2000'));
  },
);

t.test(
  'given a resting buy, when a smaller sell crosses, then the maker is partially filled and keeps its place',
  async (t) => {
    const f = new Fixture();
    f.fund(1, { usdc: '3000' });
    f.fund(2, { weth: '1' });
    const bidId = f.rest(1, 'buy', '2000', '1');

    const events = f.limit(2, 'sell', '1990', '0.4');

    t.same(typesOf(events), [
      'orderAccepted',
      'trade',
      'orderPartiallyFilled',
      'orderFilled',
      BALANCES,
      BALANCES,
      BALANCES,
      BALANCES,
      'commandResult',
    ]);
    t.match(oneOf(events, 'trade'), {
      priceTicks: ticks('2000'),
      qtyLots: lots('0.4'),
      takerSide: 'sell',
      quoteAmount: usdc('800'),
      makerFee: usdc('0.8'),
      takerFee: usdc('1.6'),
    });
    t.match(oneOf(events, 'orderPartiallyFilled'), {
      orderId: bidId,
      fillLots: lots('0.4'),
      filledLots: lots('0.4'),
      remainingLots: lots('0.6'),
      released: 0n,
    });
    t.match(oneOf(events, 'orderFilled'), { orderId: 2, remainingLots: 0, released: 0n });
    t.same(f.balance(1, USDC), { available: usdc('996'), held: usdc('1203.2'), pending: 0n }, 'held 2004 - 800.8 paid');
    t.same(f.balance(1, WETH), { available: weth('0.4'), held: 0n, pending: 0n });
    t.same(f.balance(2, USDC), { available: usdc('798.4'), held: 0n, pending: 0n });
    t.same(f.balance(2, WETH), { available: weth('0.6'), held: 0n, pending: 0n });
    t.same(book(f.engine, MARKET).bids, [{ price: usdc('2000'), qty: weth('0.6'), orderIds: [bidId] }]);
  },
);

t.test(
  'given an ask of 1, when a GTC buy of 2 crosses, then 1 fills and the remainder rests with exactly its hold',
  async (t) => {
    const f = new Fixture();
    f.fund(1, { weth: '1' });
    f.fund(2, { usdc: '5000' });
    const askId = f.rest(1, 'sell', '2000', '1');

    const events = f.limit(2, 'buy', '2000', '2');

    t.same(typesOf(events), [
      'orderAccepted',
      'trade',
      'orderFilled',
      'orderPartiallyFilled',
      'orderRested',
      BALANCES,
      BALANCES,
      BALANCES,
      BALANCES,
      'commandResult',
    ]);
    t.match(oneOf(events, 'orderFilled'), { orderId: askId });
    t.match(oneOf(events, 'orderPartiallyFilled'), {
      orderId: 2,
      filledLots: lots('1'),
      remainingLots: lots('1'),
      released: 0n,
    });
    t.match(oneOf(events, 'orderRested'), { orderId: 2, priceTicks: ticks('2000'), remainingLots: lots('1') });
    t.same(f.balance(2, USDC), { available: usdc('992'), held: usdc('2004'), pending: 0n }, 'held 4008 - 2004 paid');
    t.same(book(f.engine, MARKET), { bids: [{ price: usdc('2000'), qty: weth('1'), orderIds: [2] }], asks: [] });
  },
);

t.test(
  'given asks on three levels, when a buy sweeps them, then it fills best price first and each at its level',
  async (t) => {
    const f = new Fixture();
    f.fund(1, { weth: '3' });
    f.fund(2, { usdc: '6000' });
    const a = f.rest(1, 'sell', '2000', '1');
    const b = f.rest(1, 'sell', '2001', '1');
    const c = f.rest(1, 'sell', '2002', '1');

    const events = f.limit(2, 'buy', '2002', '2.5');

    t.same(
      typesOf(events).filter((type) => type !== BALANCES),
      [
        'orderAccepted',
        'trade',
        'orderFilled',
        'orderPartiallyFilled',
        'trade',
        'orderFilled',
        'orderPartiallyFilled',
        'trade',
        'orderPartiallyFilled',
        'orderFilled',
        'commandResult',
      ],
    );
    t.same(
      eventsOfType(events, 'trade').map((tr) => [
        tr.makerOrderId,
        tr.priceTicks,
        tr.qtyLots,
        tr.quoteAmount,
        tr.makerFee,
        tr.takerFee,
      ]),
      [
        [a, ticks('2000'), lots('1'), usdc('2000'), usdc('2'), usdc('4')],
        [b, ticks('2001'), lots('1'), usdc('2001'), usdc('2.001'), usdc('4.002')],
        [c, ticks('2002'), lots('0.5'), usdc('1001'), usdc('1.001'), usdc('2.002')],
      ],
    );
    t.equal(oneOf(events, 'orderAccepted').held, usdc('5015.01'), '2.5 x 2002 + 0.2%');
    t.equal(eventsOfType(events, 'orderFilled')[2].released, usdc('3.006'), '5015.01 held - 5012.004 paid');
    t.same(f.balance(2, USDC), { available: usdc('987.996'), held: 0n, pending: 0n });
    t.same(f.balance(2, WETH), { available: weth('2.5'), held: 0n, pending: 0n });
    t.same(f.balance(1, USDC), { available: usdc('4996.998'), held: 0n, pending: 0n });
    t.same(f.balance(1, WETH), { available: 0n, held: weth('0.5'), pending: 0n });
    t.equal(f.fees(USDC), usdc('15.006'));
    t.same(book(f.engine, MARKET).asks, [{ price: usdc('2002'), qty: weth('0.5'), orderIds: [c] }]);
  },
);

t.test('given two asks at one price, when buys arrive, then the earlier ask fills first', async (t) => {
  const f = new Fixture();
  f.fund(1, { weth: '1' });
  f.fund(3, { weth: '1' });
  f.fund(2, { usdc: '5000' });
  const first = f.rest(1, 'sell', '2000', '1');
  const second = f.rest(3, 'sell', '2000', '1');
  t.same(book(f.engine, MARKET).asks, [{ price: usdc('2000'), qty: weth('2'), orderIds: [first, second] }]);

  const one = f.limit(2, 'buy', '2000', '0.5');
  t.equal(oneOf(one, 'trade').makerOrderId, first);
  const two = f.limit(2, 'buy', '2000', '1');
  t.same(
    eventsOfType(two, 'trade').map((tr) => [tr.makerOrderId, tr.qtyLots]),
    [
      [first, lots('0.5')],
      [second, lots('0.5')],
    ],
  );
  t.same(book(f.engine, MARKET).asks, [{ price: usdc('2000'), qty: weth('0.5'), orderIds: [second] }]);
});

t.test(
  'given an earlier ask at a worse price, when a buy crosses both, then the better price fills first',
  async (t) => {
    const f = new Fixture();
    f.fund(1, { weth: '1' });
    f.fund(3, { weth: '1' });
    f.fund(2, { usdc: '5000' });
    const worse = f.rest(1, 'sell', '2001', '1');
    const better = f.rest(3, 'sell', '2000', '1');

    const events = f.limit(2, 'buy', '2001', '1');

    t.match(oneOf(events, 'trade'), { makerOrderId: better, priceTicks: ticks('2000') });
    t.same(book(f.engine, MARKET).asks, [{ price: usdc('2001'), qty: weth('1'), orderIds: [worse] }]);
  },
);

t.test('IOC', async (t) => {
  t.test(
    'given an ask of 1, when an IOC buy of 2 crosses, then 1 fills and the rest expires (ioc) with its hold released',
    async (t) => {
      const f = new Fixture();
      f.fund(1, { weth: '1' });
      f.fund(2, { usdc: '5000' });
      f.rest(1, 'sell', '2000', '1');

      const events = f.limit(2, 'buy', '2000', '2', { timeInForce: 'IOC' });

      t.same(
        typesOf(events).filter((type) => type !== BALANCES),
        ['orderAccepted', 'trade', 'orderFilled', 'orderPartiallyFilled', 'orderExpired', 'commandResult'],
      );
      t.match(oneOf(events, 'orderExpired'), {
        orderId: 2,
        userId: 2,
        reason: 'ioc',
        remainingLots: lots('1'),
        holdAssetId: USDC,
        released: usdc('2004'),
      });
      t.same(f.balance(2, USDC), { available: usdc('2996'), held: 0n, pending: 0n });
      t.same(book(f.engine, MARKET), { bids: [], asks: [] });
      t.equal(f.engine.orders.size, 0, 'an IOC never rests');
    },
  );

  t.test(
    'given no crossing ask, when an IOC buy arrives, then it expires at once and the balance is as before',
    async (t) => {
      const f = new Fixture();
      f.fund(1, { weth: '1' });
      f.fund(2, { usdc: '5000' });
      f.rest(1, 'sell', '2000', '1');

      const events = f.limit(2, 'buy', '1990', '1', { timeInForce: 'IOC' });

      t.same(typesOf(events), ['orderAccepted', 'orderExpired', BALANCES, 'commandResult']);
      t.match(oneOf(events, 'orderExpired'), { reason: 'ioc', remainingLots: lots('1'), released: usdc('1993.98') });
      t.same(f.balance(2, USDC), { available: usdc('5000'), held: 0n, pending: 0n });
      t.same(book(f.engine, MARKET).bids, []);
    },
  );
});

t.test('FOK', async (t) => {
  t.test('given enough liquidity over two levels, when a FOK buy arrives, then it fills completely', async (t) => {
    const f = new Fixture();
    f.fund(1, { weth: '1' });
    f.fund(2, { usdc: '5000' });
    f.rest(1, 'sell', '2000', '0.5');
    f.rest(1, 'sell', '2001', '0.5');

    const events = f.limit(2, 'buy', '2001', '1', { timeInForce: 'FOK' });

    t.equal(resultOf(events).status, 'accepted');
    t.same(
      eventsOfType(events, 'trade').map((tr) => [tr.priceTicks, tr.qtyLots]),
      [
        [ticks('2000'), lots('0.5')],
        [ticks('2001'), lots('0.5')],
      ],
    );
    t.match(
      eventsOfType(events, 'orderFilled').at(-1),
      { orderId: 3, remainingLots: 0, released: usdc('0.501') },
      '2005.002 held - 2004.501 paid',
    );
    t.same(f.balance(2, WETH).available, weth('1'));
    t.same(book(f.engine, MARKET), { bids: [], asks: [] });
  });

  t.test(
    'given too little liquidity within the limit, when a FOK buy arrives, then it is rejected and nothing changes',
    async (t) => {
      const f = new Fixture();
      f.fund(1, { weth: '2' });
      f.fund(2, { usdc: '5000' });
      f.rest(1, 'sell', '2000', '0.5');
      f.rest(1, 'sell', '2002', '1');
      const before = stateHashExceptSequence(f.engine);

      const events = f.limit(2, 'buy', '2001', '1', { timeInForce: 'FOK' });

      t.same(typesOf(events), ['orderRejected', 'commandResult']);
      t.match(resultOf(events), { status: 'rejected', code: 'ORDER_FOK_NOT_FILLABLE', orderId: null });
      t.match(oneOf(events, 'orderRejected'), { userId: 2, marketId: MARKET, code: 'ORDER_FOK_NOT_FILLABLE' });
      t.equal(stateHashExceptSequence(f.engine), before);
      t.equal(f.engine.nextOrderId, 3, 'no order id is used');
    },
  );

  t.test('given a bid below the limit, when a FOK sell arrives, then it is rejected', async (t) => {
    const f = new Fixture();
    f.fund(1, { usdc: '5000' });
    f.fund(2, { weth: '1' });
    f.rest(1, 'buy', '2000', '1');
    const before = stateHashExceptSequence(f.engine);

    t.equal(codeOf(f.limit(2, 'sell', '2001', '1', { timeInForce: 'FOK' })), 'ORDER_FOK_NOT_FILLABLE');
    t.equal(stateHashExceptSequence(f.engine), before);
    t.equal(
      resultOf(f.limit(2, 'sell', '2000', '1', { timeInForce: 'FOK' })).status,
      'accepted',
      'at the bid it fills',
    );
    t.same(f.balance(2, USDC).available, usdc('1996'));
  });
});

t.test('post-only', async (t) => {
  t.test('given an ask at 2000, when a post-only buy at 1999 arrives, then it rests', async (t) => {
    const f = new Fixture();
    f.fund(1, { weth: '1' });
    f.fund(2, { usdc: '5000' });
    f.rest(1, 'sell', '2000', '1');

    const events = f.limit(2, 'buy', '1999', '1', { postOnly: true });

    t.same(typesOf(events), ['orderAccepted', 'orderRested', BALANCES, 'commandResult']);
    t.match(oneOf(events, 'orderAccepted'), { postOnly: true });
    t.same(book(f.engine, MARKET).bids, [{ price: usdc('1999'), qty: weth('1'), orderIds: [2] }]);
  });

  t.test(
    'given an ask at 2000, when a post-only buy at 2000 or above arrives, then it is rejected and nothing changes',
    async (t) => {
      const f = new Fixture();
      f.fund(1, { weth: '1' });
      f.fund(2, { usdc: '5000' });
      f.rest(1, 'sell', '2000', '1');
      const before = stateHashExceptSequence(f.engine);

      t.equal(codeOf(f.limit(2, 'buy', '2000', '1', { postOnly: true })), 'ORDER_POST_ONLY_WOULD_TAKE');
      t.equal(codeOf(f.limit(2, 'buy', '2100', '1', { postOnly: true })), 'ORDER_POST_ONLY_WOULD_TAKE');
      t.equal(stateHashExceptSequence(f.engine), before);
    },
  );

  t.test('given a bid at 2000, when a post-only sell at 2000 arrives, then it is rejected', async (t) => {
    const f = new Fixture();
    f.fund(1, { usdc: '5000' });
    f.fund(2, { weth: '1' });
    f.rest(1, 'buy', '2000', '1');

    t.equal(codeOf(f.limit(2, 'sell', '2000', '1', { postOnly: true })), 'ORDER_POST_ONLY_WOULD_TAKE');
    t.equal(resultOf(f.limit(2, 'sell', '2000.01', '1', { postOnly: true })).status, 'accepted');
  });

  t.test('when a post-only order is IOC or FOK, then it is rejected ORDER_POST_ONLY_NOT_GTC', async (t) => {
    const f = new Fixture();
    f.fund(2, { usdc: '5000' });
    t.equal(codeOf(f.limit(2, 'buy', '1999', '1', { postOnly: true, timeInForce: 'IOC' })), 'ORDER_POST_ONLY_NOT_GTC');
    t.equal(codeOf(f.limit(2, 'buy', '1999', '1', { postOnly: true, timeInForce: 'FOK' })), 'ORDER_POST_ONLY_NOT_GTC');
  });
});

t.test('fees', async (t) => {
  t.test(
    'given a resting buy, when a sell takes it, then the seller pays the taker fee and the buyer gets back the fee-rate difference',
    async (t) => {
      const f = new Fixture();
      f.fund(1, { usdc: '2004' });
      f.fund(2, { weth: '1' });
      f.rest(1, 'buy', '2000', '1');

      const events = f.limit(2, 'sell', '2000', '1');

      t.match(oneOf(events, 'trade'), {
        takerSide: 'sell',
        quoteAmount: usdc('2000'),
        makerFee: usdc('2'),
        takerFee: usdc('4'),
      });
      t.match(
        eventsOfType(events, 'orderFilled')[0],
        { orderId: 1, released: usdc('2') },
        'held at 20 bps, paid at 10 bps',
      );
      t.same(f.balance(1, USDC), { available: usdc('2'), held: 0n, pending: 0n });
      t.same(f.balance(2, USDC), { available: usdc('1996'), held: 0n, pending: 0n });
      t.equal(f.fees(USDC), usdc('6'));
    },
  );

  t.test('fees round down per fill, to the base unit', async (t) => {
    const f = new Fixture({ minNotional: 0n });
    f.fund(1, { weth: '1' });
    f.fund(2, { usdc: '10' });
    f.rest(1, 'sell', '2000.01', '0.0001');

    const events = f.limit(2, 'buy', '2000.01', '0.0001');

    // 0.200001 USDC: 10 bps is 200.001 units, 20 bps 400.002 units.
    t.match(oneOf(events, 'trade'), { quoteAmount: 200_001n, makerFee: 200n, takerFee: 400n });
    t.equal(f.fees(USDC), 600n);
    t.same(f.balance(1, USDC).available, 199_801n);
    t.same(f.balance(2, USDC).available, usdc('10') - 200_401n);
  });

  t.test(
    'given a maker fee above the taker fee, a buy holds at the maker rate, which covers a maker fill exactly',
    async (t) => {
      const f = new Fixture({ makerFeeBps: 30, takerFeeBps: 5 });
      f.fund(1, { usdc: '3000' });
      f.fund(2, { weth: '1' });

      t.equal(oneOf(f.limit(1, 'buy', '2000', '1'), 'orderAccepted').held, usdc('2006'));
      const events = f.limit(2, 'sell', '2000', '1');

      t.match(oneOf(events, 'trade'), { makerFee: usdc('6'), takerFee: usdc('1') });
      t.match(eventsOfType(events, 'orderFilled')[0], { orderId: 1, released: 0n });
      t.equal(f.fees(USDC), usdc('7'));
    },
  );

  t.test(
    'after trading, every unit is accounted for: balances plus fees equal deposits minus withdrawals, per asset',
    async (t) => {
      const f = new Fixture();
      f.fund(1, { weth: '3', usdc: '10000' });
      f.fund(2, { weth: '3', usdc: '10000' });
      f.rest(1, 'sell', '2000.37', '1.2345');
      f.rest(1, 'buy', '1999.11', '0.7777');
      f.limit(2, 'buy', '2001', '2');
      f.limit(2, 'sell', '1990', '1.5');
      f.place(2, { side: 'buy', orderType: 'market', quoteQuantity: usdc('333.33') });
      f.ok({
        type: 'requestWithdrawal',
        userId: 1,
        assetId: USDC,
        amount: usdc('100'),
        withdrawalId: 'w',
        destination: '0xd',
      });
      f.ok({ type: 'completeWithdrawal', withdrawalId: 'w' });
      t.ok(f.fees(USDC) > 0n, 'fees were charged');

      for (const [asset, deposited, withdrawn] of [
        [WETH, weth('6'), 0n],
        [USDC, usdc('20000'), usdc('100')],
      ] as const) {
        const held = [1, 2]
          .map((u) => f.balance(u, asset))
          .reduce((sum, b) => sum + b.available + b.held + b.pending, 0n);
        t.equal(held + f.fees(asset), deposited - withdrawn, `asset ${asset}`);
      }
    },
  );

  t.test('the invariant check that runs after every command does catch a unit created from nothing', async (t) => {
    const f = new Fixture();
    f.fund(1, { usdc: '10' });
    (f.engine.accounts.get(1) as { available: bigint[] }).available[USDC] += 1n;
    t.throws(() => f.fund(2, { usdc: '1' }), { message: /deposited-withdrawn/ });
  });

  t.test('with zero fees, the fee account stays empty and the buyer pays the notional only', async (t) => {
    const f = new Fixture({ makerFeeBps: 0, takerFeeBps: 0 });
    f.fund(1, { weth: '1' });
    f.fund(2, { usdc: '2000' });
    f.rest(1, 'sell', '2000', '1');

    t.equal(resultOf(f.limit(2, 'buy', '2000', '1')).status, 'accepted');
    t.equal(f.fees(USDC), 0n);
    t.same(f.balance(1, USDC).available, usdc('2000'));
    t.same(f.balance(2, USDC), { available: 0n, held: 0n, pending: 0n });
  });
});
