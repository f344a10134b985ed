// Self-trade prevention: the incoming (taker) order's mode decides what happens when it meets its own user's
// resting order. Every case: user 1's ask A (1 WETH @ 2000) rests ahead of user 2's ask B (1 WETH @ 2000).

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
  typesOf,
  usdc,
  weth,
} from './support.js';
import type { StpMode } from '../../engine/core/index.js';

const BALANCES = 'balanceChanged';

function given(): { f: Fixture; a: number; b: number } {
  const f = new Fixture();
  f.fund(1, { weth: '5', usdc: '10000' });
  f.fund(2, { weth: '5' });
  const a = f.rest(1, 'sell', '2000', '1');
  const b = f.rest(2, 'sell', '2000', '1');
  return { f, a, b };
}

const buy = (f: Fixture, qty: string, stp: StpMode) => f.limit(1, 'buy', '2000', qty, { stp });

t.test('none (the default): the user trades with itself, paying both fees, then goes on', async (t) => {
  const { f, a, b } = given();

  const events = f.limit(1, 'buy', '2000', '1.5');

  t.match(oneOf(events, 'orderAccepted'), { stp: 'none' });
  t.same(
    eventsOfType(events, 'trade').map((tr) => [
      tr.makerOrderId,
      tr.makerUserId,
      tr.takerUserId,
      tr.qtyLots,
      tr.makerFee,
      tr.takerFee,
    ]),
    [
      [a, 1, 1, lots('1'), usdc('2'), usdc('4')],
      [b, 2, 1, lots('0.5'), usdc('1'), usdc('2')],
    ],
  );
  t.same(f.balance(1, WETH), { available: weth('5.5'), held: 0n, pending: 0n });
  t.same(f.balance(1, USDC), { available: usdc('8992'), held: 0n, pending: 0n }, '10000 - 3006 paid + 1998 received');
  t.equal(f.fees(USDC), usdc('9'));
  t.same(book(f.engine, MARKET).asks, [{ price: usdc('2000'), qty: weth('0.5'), orderIds: [b] }]);
});

t.test('expireTaker: the incoming order expires at its own order; the book is untouched', async (t) => {
  const { f, a, b } = given();

  const events = buy(f, '1.5', 'expireTaker');

  t.same(typesOf(events), ['orderAccepted', 'orderExpired', BALANCES, 'commandResult']);
  t.match(oneOf(events, 'orderExpired'), {
    orderId: 3,
    userId: 1,
    reason: 'stp',
    remainingLots: lots('1.5'),
    released: usdc('3006'),
  });
  t.same(book(f.engine, MARKET).asks, [{ price: usdc('2000'), qty: weth('2'), orderIds: [a, b] }]);
  t.same(f.balance(1, USDC), { available: usdc('10000'), held: 0n, pending: 0n });
});

t.test('expireMaker: its own resting order expires and matching continues with the next order', async (t) => {
  const { f, a, b } = given();

  const events = buy(f, '1.5', 'expireMaker');

  t.same(
    typesOf(events).filter((type) => type !== BALANCES),
    ['orderAccepted', 'orderExpired', 'trade', 'orderFilled', 'orderPartiallyFilled', 'orderRested', 'commandResult'],
  );
  t.match(oneOf(events, 'orderExpired'), {
    orderId: a,
    userId: 1,
    reason: 'stp',
    remainingLots: lots('1'),
    holdAssetId: WETH,
    released: weth('1'),
  });
  t.match(oneOf(events, 'trade'), { makerOrderId: b, makerUserId: 2, qtyLots: lots('1') });
  t.match(oneOf(events, 'orderRested'), { orderId: 3, remainingLots: lots('0.5') });
  t.same(book(f.engine, MARKET), { bids: [{ price: usdc('2000'), qty: weth('0.5'), orderIds: [3] }], asks: [] });
  t.same(f.balance(1, WETH), { available: weth('6'), held: 0n, pending: 0n });
  t.same(
    f.balance(1, USDC),
    { available: usdc('6994'), held: usdc('1002'), pending: 0n },
    '2004 paid, 1002 held for the rest',
  );
});

t.test('expireBoth: its own resting order and the incoming order both expire', async (t) => {
  const { f, a, b } = given();

  const events = buy(f, '1.5', 'expireBoth');

  t.same(
    typesOf(events).filter((type) => type !== BALANCES),
    ['orderAccepted', 'orderExpired', 'orderExpired', 'commandResult'],
  );
  t.same(
    eventsOfType(events, 'orderExpired').map((e) => [e.orderId, e.reason, e.released]),
    [
      [a, 'stp', weth('1')],
      [3, 'stp', usdc('3006')],
    ],
  );
  t.same(book(f.engine, MARKET), { bids: [], asks: [{ price: usdc('2000'), qty: weth('1'), orderIds: [b] }] });
  t.same(f.balance(1, WETH), { available: weth('5'), held: 0n, pending: 0n });
  t.same(f.balance(1, USDC), { available: usdc('10000'), held: 0n, pending: 0n });
  t.equal(eventsOfType(events, 'trade').length, 0);
});

t.test('decrementAndCancel', async (t) => {
  t.test(
    'taker larger: the maker expires, the taker loses the overlap (hold shrunk) and trades the rest',
    async (t) => {
      const { f, a, b } = given();

      const events = buy(f, '1.5', 'decrementAndCancel');

      t.same(
        typesOf(events).filter((type) => type !== BALANCES),
        [
          'orderAccepted',
          'orderExpired',
          'orderAmended',
          'trade',
          'orderPartiallyFilled',
          'orderFilled',
          'commandResult',
        ],
      );
      t.match(oneOf(events, 'orderExpired'), {
        orderId: a,
        reason: 'stp',
        remainingLots: lots('1'),
        released: weth('1'),
      });
      t.match(oneOf(events, 'orderAmended'), {
        orderId: 3,
        qtyLots: lots('0.5'),
        remainingLots: lots('0.5'),
        keptPriority: true,
        held: usdc('1002'),
      });
      t.match(oneOf(events, 'trade'), { makerOrderId: b, qtyLots: lots('0.5') });
      t.match(oneOf(events, 'orderFilled'), { orderId: 3, released: 0n });
      t.same(f.balance(1, USDC), { available: usdc('8998'), held: 0n, pending: 0n });
      t.same(f.balance(1, WETH), { available: weth('5.5'), held: 0n, pending: 0n });
      t.same(book(f.engine, MARKET).asks, [{ price: usdc('2000'), qty: weth('0.5'), orderIds: [b] }]);
    },
  );

  t.test('maker larger: the maker loses the overlap and keeps its place, the taker expires', async (t) => {
    const { f, a, b } = given();

    const events = buy(f, '0.4', 'decrementAndCancel');

    t.same(
      typesOf(events).filter((type) => type !== BALANCES),
      ['orderAccepted', 'orderAmended', 'orderExpired', 'commandResult'],
    );
    t.match(oneOf(events, 'orderAmended'), {
      orderId: a,
      qtyLots: lots('0.6'),
      remainingLots: lots('0.6'),
      keptPriority: true,
      holdAssetId: WETH,
      held: weth('0.6'),
    });
    t.match(oneOf(events, 'orderExpired'), {
      orderId: 3,
      reason: 'stp',
      remainingLots: lots('0.4'),
      released: usdc('801.6'),
    });
    t.same(book(f.engine, MARKET).asks, [{ price: usdc('2000'), qty: weth('1.6'), orderIds: [a, b] }]);
    t.same(f.balance(1, WETH), { available: weth('4.4'), held: weth('0.6'), pending: 0n });
    t.same(f.balance(1, USDC), { available: usdc('10000'), held: 0n, pending: 0n });
  });

  t.test('equal: both orders expire, nothing trades', async (t) => {
    const { f, a, b } = given();

    const events = buy(f, '1', 'decrementAndCancel');

    t.same(
      typesOf(events).filter((type) => type !== BALANCES),
      ['orderAccepted', 'orderExpired', 'orderExpired', 'commandResult'],
    );
    t.same(
      eventsOfType(events, 'orderExpired').map((e) => [e.orderId, e.remainingLots, e.released]),
      [
        [a, lots('1'), weth('1')],
        [3, lots('1'), usdc('2004')],
      ],
    );
    t.same(book(f.engine, MARKET), { bids: [], asks: [{ price: usdc('2000'), qty: weth('1'), orderIds: [b] }] });
    t.same(f.balance(1, WETH), { available: weth('5'), held: 0n, pending: 0n });
    t.same(f.balance(1, USDC), { available: usdc('10000'), held: 0n, pending: 0n });
  });
});

t.test("STP applies to the same user only: another user's order trades whatever the mode", async (t) => {
  const f = new Fixture();
  f.fund(2, { weth: '1' });
  f.fund(3, { usdc: '3000' });
  const ask = f.rest(2, 'sell', '2000', '1');

  const events = f.limit(3, 'buy', '2000', '1', { stp: 'expireBoth' });

  t.match(oneOf(events, 'trade'), { makerOrderId: ask, qtyLots: lots('1') });
});

t.test('FOK counts only what STP lets it take', async (t) => {
  t.test('expireTaker with its own order first: not fillable, nothing changes', async (t) => {
    const { f } = given();
    const before = stateHashExceptSequence(f.engine);
    t.equal(
      codeOf(f.limit(1, 'buy', '2000', '1', { stp: 'expireTaker', timeInForce: 'FOK' })),
      'ORDER_FOK_NOT_FILLABLE',
    );
    t.equal(stateHashExceptSequence(f.engine), before);
  });

  t.test("expireMaker: its own order expires and the other user's fills it", async (t) => {
    const { f, a, b } = given();
    const events = f.limit(1, 'buy', '2000', '1', { stp: 'expireMaker', timeInForce: 'FOK' });
    t.equal(resultOf(events).status, 'accepted');
    t.match(oneOf(events, 'orderExpired'), { orderId: a, reason: 'stp' });
    t.match(oneOf(events, 'trade'), { makerOrderId: b, qtyLots: lots('1') });
    t.equal(
      codeOf(f.limit(1, 'buy', '2000', '1', { stp: 'expireMaker', timeInForce: 'FOK' })),
      'ORDER_FOK_NOT_FILLABLE',
      'the book is empty now',
    );
  });
});
