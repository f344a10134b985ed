// Client order ids make placement idempotent per user: a repeat returns the first command's result (with
// duplicateOf) and places nothing. Ids are remembered for clientOrderIdWindowMs of command time, at most
// clientOrderIdsPerUserMax per user.

import t from 'tap';
import {
  Fixture,
  MARKET,
  USDC,
  book,
  codeOf,
  oneOf,
  resultOf,
  stateHashExceptSequence,
  typesOf,
  usdc,
} from './support.js';

t.test(
  'given an accepted order with a client id, when the same id comes again, then the first result is returned and nothing is placed',
  async (t) => {
    const f = new Fixture();
    f.fund(1, { usdc: '10000' });
    const first = f.limit(1, 'buy', '2000', '1', { clientOrderId: 'c-1', id: 'first' });
    const firstId = resultOf(first).orderId;
    t.match(oneOf(first, 'orderAccepted'), { clientOrderId: 'c-1' });
    const before = stateHashExceptSequence(f.engine);

    const again = f.limit(1, 'buy', '2000', '1', { clientOrderId: 'c-1', id: 'again' });
    const different = f.limit(1, 'sell', '2500', '3', { clientOrderId: 'c-1', id: 'different' });

    for (const events of [again, different]) {
      t.same(typesOf(events), ['commandResult']);
      t.match(resultOf(events), { status: 'accepted', code: null, orderId: firstId, duplicateOf: 'first' });
    }
    t.equal(stateHashExceptSequence(f.engine), before, 'no order, no hold, no id used');
    t.same(book(f.engine, MARKET).bids[0].orderIds, [firstId]);
    t.same(f.balance(1, USDC), { available: usdc('7996'), held: usdc('2004'), pending: 0n });
  },
);

t.test('given the first order with a client id is filled, a repeat still returns its result', async (t) => {
  const f = new Fixture();
  f.fund(1, { usdc: '10000' });
  f.fund(2, { weth: '1' });
  const firstId = resultOf(f.limit(1, 'buy', '2000', '1', { clientOrderId: 'c-1', id: 'first' })).orderId;
  f.limit(2, 'sell', '2000', '1');

  t.match(resultOf(f.limit(1, 'buy', '2000', '1', { clientOrderId: 'c-1' })), {
    status: 'accepted',
    orderId: firstId,
    duplicateOf: 'first',
  });
  t.equal(f.engine.orders.size, 0);
});

t.test('given a rejected first order, a repeat returns the same rejection, even once it could succeed', async (t) => {
  const f = new Fixture();
  const first = f.limit(1, 'buy', '2000', '1', { clientOrderId: 'c-1', id: 'first' });
  t.same(typesOf(first), ['orderRejected', 'commandResult']);
  t.match(resultOf(first), { status: 'rejected', code: 'RISK_INSUFFICIENT_FUNDS' });
  f.fund(1, { usdc: '10000' });
  const before = stateHashExceptSequence(f.engine);

  const again = f.limit(1, 'buy', '2000', '1', { clientOrderId: 'c-1' });

  t.same(typesOf(again), ['commandResult']);
  t.match(resultOf(again), {
    status: 'rejected',
    code: 'RISK_INSUFFICIENT_FUNDS',
    orderId: null,
    duplicateOf: 'first',
  });
  t.equal(stateHashExceptSequence(f.engine), before);
  t.equal(f.engine.orders.size, 0);
});

t.test('client ids are per user: two users may use the same one', async (t) => {
  const f = new Fixture();
  f.fund(1, { usdc: '10000' });
  f.fund(2, { usdc: '10000' });
  const one = resultOf(f.limit(1, 'buy', '2000', '1', { clientOrderId: 'same' }));
  const two = resultOf(f.limit(2, 'buy', '2000', '1', { clientOrderId: 'same' }));
  t.equal(two.duplicateOf, null);
  t.not(one.orderId, two.orderId);
  t.equal(f.engine.orders.size, 2);
});

t.test(
  'given clientOrderIdsPerUserMax 2, a third id within the window is rejected CAPACITY_CLIENT_ORDER_IDS',
  async (t) => {
    const f = new Fixture({ limits: { clientOrderIdsPerUserMax: 2 } });
    f.fund(1, { usdc: '10000' });
    f.fund(2, { usdc: '10000' });
    f.rest(1, 'buy', '1000', '1', { clientOrderId: 'a', id: 'place-a' });
    f.rest(1, 'buy', '1000', '1', { clientOrderId: 'b' });
    const before = stateHashExceptSequence(f.engine);

    const third = f.limit(1, 'buy', '1000', '1', { clientOrderId: 'c' });

    t.same(typesOf(third), ['orderRejected', 'commandResult']);
    t.equal(codeOf(third), 'CAPACITY_CLIENT_ORDER_IDS');
    t.equal(stateHashExceptSequence(f.engine), before);
    t.match(
      resultOf(f.limit(1, 'buy', '1000', '1', { clientOrderId: 'a' })),
      { status: 'accepted', duplicateOf: 'place-a' },
      'a known id still answers',
    );
    t.equal(resultOf(f.limit(1, 'buy', '1000', '1')).status, 'accepted', 'orders without a client id are not limited');
    t.equal(
      resultOf(f.limit(2, 'buy', '1000', '1', { clientOrderId: 'c' })).status,
      'accepted',
      'other users are not limited',
    );
  },
);

t.test(
  'given clientOrderIdWindowMs 1000, an id is remembered for 999 ms and forgotten at 1000 ms, freeing its slot',
  async (t) => {
    const f = new Fixture({ limits: { clientOrderIdWindowMs: 1000, clientOrderIdsPerUserMax: 1 } });
    f.fund(1, { usdc: '10000' });
    const start = f.nowMs + 1;
    const firstId = resultOf(
      f.limit(1, 'buy', '1000', '1', { clientOrderId: 'a', id: 'first', timeMs: start }),
    ).orderId;

    t.match(resultOf(f.limit(1, 'buy', '1000', '1', { clientOrderId: 'a', timeMs: start + 999 })), {
      orderId: firstId,
      duplicateOf: 'first',
    });
    t.equal(
      codeOf(f.limit(1, 'buy', '1000', '1', { clientOrderId: 'b', timeMs: start + 999 })),
      'CAPACITY_CLIENT_ORDER_IDS',
    );

    const later = resultOf(f.limit(1, 'buy', '1000', '1', { clientOrderId: 'a', timeMs: start + 1000 }));
    t.equal(later.duplicateOf, null, 'forgotten: placed again');
    t.not(later.orderId, firstId);
    t.equal(f.engine.orders.size, 2);

    const b = resultOf(f.limit(1, 'buy', '1000', '1', { clientOrderId: 'b', timeMs: start + 2000 }));
    t.equal(b.status, 'accepted', 'the slot is free once the window passed');
  },
);

t.test(
  'a client id must be 1-64 printable ASCII characters (ORDER_CLIENT_ID_INVALID), and an invalid one is not remembered',
  async (t) => {
    const f = new Fixture();
    f.fund(1, { usdc: '10000' });
    const before = stateHashExceptSequence(f.engine);
    for (const bad of ['', 'has space', 'x'.repeat(65), 'caf\u00e9']) {
      t.equal(
        codeOf(f.limit(1, 'buy', '1000', '1', { clientOrderId: bad })),
        'ORDER_CLIENT_ID_INVALID',
        JSON.stringify(bad),
      );
    }
    t.equal(stateHashExceptSequence(f.engine), before);
    t.equal(resultOf(f.limit(1, 'buy', '1000', '1', { clientOrderId: 'x'.repeat(64) })).status, 'accepted');
  },
);
