// Market orders: sell by quantity, buy by quantity (holds the cost of walking the asks), buy by quote budget
// (fees included, never overspent), and what expires when the book or the budget runs out.

import t from 'tap';
import {
  Fixture,
  MARKET,
  USDC,
  WETH,
  book,
  codeOf,
  eventsOfType,
  fee,
  lots,
  oneOf,
  resultOf,
  stateHashExceptSequence,
  ticks,
  typesOf,
  usdc,
  weth,
} from './support.js';
import type { OrderBody } from './support.js';

const BALANCES = 'balanceChanged';
const marketSell = (qty: string): OrderBody => ({ side: 'sell', orderType: 'market', quantity: weth(qty) });
const marketBuy = (qty: string): OrderBody => ({ side: 'buy', orderType: 'market', quantity: weth(qty) });
const marketBuyFor = (budget: string): OrderBody => ({ side: 'buy', orderType: 'market', quoteQuantity: usdc(budget) });

t.test(
  'given bids on two levels, when a market sell of 1.5 arrives, then it fills best bid first and is done',
  async (t) => {
    const f = new Fixture();
    f.fund(1, { usdc: '3000' });
    f.fund(3, { usdc: '3000' });
    f.fund(2, { weth: '2' });
    const best = f.rest(1, 'buy', '2000', '1');
    const next = f.rest(3, 'buy', '1990', '1');

    const events = f.place(2, marketSell('1.5'));

    t.same(
      typesOf(events).filter((type) => type !== BALANCES),
      [
        'orderAccepted',
        'trade',
        'orderFilled',
        'orderPartiallyFilled',
        'trade',
        'orderPartiallyFilled',
        'orderFilled',
        'commandResult',
      ],
    );
    t.match(oneOf(events, 'orderAccepted'), {
      orderId: 3,
      orderType: 'market',
      timeInForce: 'IOC',
      priceTicks: 0,
      qtyLots: lots('1.5'),
      quoteQuantity: 0n,
      holdAssetId: WETH,
      held: weth('1.5'),
    });
    t.same(
      eventsOfType(events, 'trade').map((tr) => [tr.makerOrderId, tr.priceTicks, tr.qtyLots, tr.takerFee]),
      [
        [best, ticks('2000'), lots('1'), usdc('4')],
        [next, ticks('1990'), lots('0.5'), usdc('1.99')],
      ],
    );
    t.match(eventsOfType(events, 'orderFilled').at(-1), { orderId: 3, remainingLots: 0, released: 0n });
    t.same(f.balance(2, USDC), { available: usdc('2989.01'), held: 0n, pending: 0n }, '1996 + 993.01');
    t.same(f.balance(2, WETH), { available: weth('0.5'), held: 0n, pending: 0n });
    t.same(book(f.engine, MARKET).bids, [{ price: usdc('1990'), qty: weth('0.5'), orderIds: [next] }]);
  },
);

t.test(
  'given a bid of 1, when a market sell of 1.5 arrives, then the rest expires (noLiquidity) and its base is released',
  async (t) => {
    const f = new Fixture();
    f.fund(1, { usdc: '3000' });
    f.fund(2, { weth: '2' });
    f.rest(1, 'buy', '2000', '1');

    const events = f.place(2, marketSell('1.5'));

    t.match(oneOf(events, 'orderExpired'), {
      orderId: 2,
      reason: 'noLiquidity',
      remainingLots: lots('0.5'),
      holdAssetId: WETH,
      released: weth('0.5'),
    });
    t.same(f.balance(2, WETH), { available: weth('1'), held: 0n, pending: 0n });
    t.same(book(f.engine, MARKET), { bids: [], asks: [] });
  },
);

t.test(
  'given asks on two levels, when a market buy of 1.5 arrives, then it holds the cost of walking the asks plus taker fee and spends it all',
  async (t) => {
    const f = new Fixture();
    f.fund(1, { weth: '2' });
    f.fund(2, { usdc: '5000' });
    f.rest(1, 'sell', '2000', '1');
    const upper = f.rest(1, 'sell', '2010', '1');

    const events = f.place(2, marketBuy('1.5'));

    // 2000 + 1005 = 3005 quote, + 6.01 taker fee.
    t.match(oneOf(events, 'orderAccepted'), {
      orderType: 'market',
      qtyLots: lots('1.5'),
      holdAssetId: USDC,
      held: usdc('3011.01'),
    });
    t.same(
      eventsOfType(events, 'trade').map((tr) => [tr.priceTicks, tr.qtyLots, tr.quoteAmount, tr.takerFee]),
      [
        [ticks('2000'), lots('1'), usdc('2000'), usdc('4')],
        [ticks('2010'), lots('0.5'), usdc('1005'), usdc('2.01')],
      ],
    );
    t.match(eventsOfType(events, 'orderFilled').at(-1), { orderId: 3, released: 0n });
    t.same(f.balance(2, USDC), { available: usdc('1988.99'), held: 0n, pending: 0n });
    t.same(f.balance(2, WETH).available, weth('1.5'));
    t.same(book(f.engine, MARKET).asks, [{ price: usdc('2010'), qty: weth('0.5'), orderIds: [upper] }]);
  },
);

t.test(
  'given a thin book, when a market buy by quantity wants more, then it holds what is there, fills it, and expires the rest',
  async (t) => {
    const f = new Fixture();
    f.fund(1, { weth: '1' });
    f.fund(2, { usdc: '5000' });
    f.rest(1, 'sell', '2000', '1');

    const events = f.place(2, marketBuy('2'));

    t.equal(oneOf(events, 'orderAccepted').held, usdc('2004'));
    t.match(oneOf(events, 'orderExpired'), { reason: 'noLiquidity', remainingLots: lots('1'), released: 0n });
    t.same(f.balance(2, USDC), { available: usdc('2996'), held: 0n, pending: 0n });
  },
);

t.test(
  'given a market buy by quantity costing more than the balance, then it is rejected RISK_INSUFFICIENT_FUNDS',
  async (t) => {
    const f = new Fixture();
    f.fund(1, { weth: '1' });
    f.fund(2, { usdc: '2003.99' });
    f.rest(1, 'sell', '2000', '1');
    const before = stateHashExceptSequence(f.engine);

    t.equal(codeOf(f.place(2, marketBuy('1'))), 'RISK_INSUFFICIENT_FUNDS');
    t.equal(stateHashExceptSequence(f.engine), before);
  },
);

t.test('market buy by quote budget', async (t) => {
  t.test(
    'given asks at 2000 and 2010, when 3000 USDC is spent, then it buys what the budget affords fee included and releases the change',
    async (t) => {
      const f = new Fixture();
      f.fund(1, { weth: '2' });
      f.fund(2, { usdc: '5000' });
      const lower = f.rest(1, 'sell', '2000', '1');
      const upper = f.rest(1, 'sell', '2010', '1');

      const events = f.place(2, marketBuyFor('3000'));

      t.same(
        typesOf(events).filter((type) => type !== BALANCES),
        [
          'orderAccepted',
          'trade',
          'orderFilled',
          'orderPartiallyFilled',
          'trade',
          'orderPartiallyFilled',
          'orderPartiallyFilled',
          'orderExpired',
          'commandResult',
        ],
      );
      t.match(oneOf(events, 'orderAccepted'), {
        qtyLots: 0,
        quoteQuantity: usdc('3000'),
        holdAssetId: USDC,
        held: usdc('3000'),
      });
      // After 1 @ 2000 (2004 with fee), 996 left: 0.4945 @ 2010 costs 993.945 + 1.98789 fee; 0.4946 would cost 996.134292.
      t.same(
        eventsOfType(events, 'trade').map((tr) => [tr.makerOrderId, tr.qtyLots, tr.quoteAmount, tr.takerFee]),
        [
          [lower, lots('1'), usdc('2000'), usdc('4')],
          [upper, lots('0.4945'), usdc('993.945'), usdc('1.98789')],
        ],
      );
      t.match(oneOf(events, 'orderExpired'), { orderId: 3, reason: 'funds', released: usdc('0.06711') });
      const spent = usdc('5000') - f.balance(2, USDC).available;
      t.equal(spent, usdc('2999.93289'));
      t.ok(spent <= usdc('3000'), 'never more than the budget');
      t.same(f.balance(2, USDC).held, 0n);
      t.same(f.balance(2, WETH).available, weth('1.4945'));
      t.same(book(f.engine, MARKET).asks, [{ price: usdc('2010'), qty: weth('0.5055'), orderIds: [upper] }]);
    },
  );

  t.test(
    'given an ask at 2000, when exactly 1002 USDC is spent, then it buys 0.5 for exactly the budget',
    async (t) => {
      const f = new Fixture();
      f.fund(1, { weth: '1' });
      f.fund(2, { usdc: '1002' });
      f.rest(1, 'sell', '2000', '1');

      const events = f.place(2, marketBuyFor('1002'));

      t.match(oneOf(events, 'trade'), { qtyLots: lots('0.5'), quoteAmount: usdc('1000'), takerFee: usdc('2') });
      t.match(oneOf(events, 'orderExpired'), { reason: 'funds', released: 0n });
      t.same(f.balance(2, USDC), { available: 0n, held: 0n, pending: 0n });
      t.same(f.balance(2, WETH).available, weth('0.5'));
    },
  );

  t.test(
    'given a thin book, when the budget outlasts it, then the rest expires (noLiquidity) and the unspent budget is released',
    async (t) => {
      const f = new Fixture();
      f.fund(1, { weth: '1' });
      f.fund(2, { usdc: '3000' });
      f.rest(1, 'sell', '2000', '1');

      const events = f.place(2, marketBuyFor('3000'));

      t.match(oneOf(events, 'orderExpired'), { reason: 'noLiquidity', released: usdc('996') });
      t.same(f.balance(2, USDC), { available: usdc('996'), held: 0n, pending: 0n });
      t.same(f.balance(2, WETH).available, weth('1'));
    },
  );

  t.test(
    'given a budget below one lot at the best ask, then the order expires (funds) with its budget released',
    async (t) => {
      const f = new Fixture({ minNotional: 0n });
      f.fund(1, { weth: '1' });
      f.fund(2, { usdc: '1' });
      f.rest(1, 'sell', '2000', '1');

      // One lot (0.0001 WETH) at 2000 costs 0.2 USDC + fee.
      const below = f.place(2, marketBuyFor('0.1'));
      t.same(typesOf(below), ['orderAccepted', 'orderExpired', BALANCES, 'commandResult']);
      t.match(oneOf(below, 'orderExpired'), { reason: 'funds', released: usdc('0.1') });

      const feeShort = f.place(2, marketBuyFor('0.2'));
      t.match(oneOf(feeShort, 'orderExpired'), { reason: 'funds', released: usdc('0.2') });
      t.same(f.balance(2, USDC), { available: usdc('1'), held: 0n, pending: 0n });
      t.equal(fee(usdc('0.2'), 20), 400n, 'the fee that made 0.2 USDC too little');
    },
  );
});

t.test('market orders on an empty book expire (noLiquidity) and release everything', async (t) => {
  const f = new Fixture();
  f.fund(2, { weth: '1', usdc: '5000' });

  const sell = f.place(2, marketSell('1'));
  t.same(typesOf(sell), ['orderAccepted', 'orderExpired', BALANCES, 'commandResult']);
  t.match(oneOf(sell, 'orderExpired'), { reason: 'noLiquidity', remainingLots: lots('1'), released: weth('1') });

  const buy = f.place(2, marketBuy('1'));
  t.match(oneOf(buy, 'orderAccepted'), { held: 0n });
  t.match(oneOf(buy, 'orderExpired'), { reason: 'noLiquidity', remainingLots: lots('1'), released: 0n });

  const byQuote = f.place(2, marketBuyFor('100'));
  t.match(oneOf(byQuote, 'orderExpired'), { reason: 'noLiquidity', released: usdc('100') });

  t.same(f.balance(2, WETH), { available: weth('1'), held: 0n, pending: 0n });
  t.same(f.balance(2, USDC), { available: usdc('5000'), held: 0n, pending: 0n });
  t.equal(f.engine.orders.size, 0);
  t.equal(f.engine.markets[MARKET]?.lastPriceTicks, 0, 'no trade, no last price');
});

t.test('market orders take IOC as a no-op and refuse GTC and FOK', async (t) => {
  const f = new Fixture();
  f.fund(2, { weth: '1' });
  t.equal(resultOf(f.place(2, { ...marketSell('1'), timeInForce: 'IOC' })).status, 'accepted');
  t.equal(codeOf(f.place(2, { ...marketSell('1'), timeInForce: 'GTC' })), 'ORDER_TIF_INVALID');
  t.equal(codeOf(f.place(2, { ...marketSell('1'), timeInForce: 'FOK' })), 'ORDER_TIF_INVALID');
});
