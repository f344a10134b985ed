// Venue controls: an operator sets what a market accepts (trading, cancelOnly, halted) and freezes users.
// A market that does not trade changes no resting order; a frozen user keeps orders and balances, can cancel,
// and is still credited. Both controls are state: in snapshots and the state hash.

import t from 'tap';
import { restore, snapshot } from '../../engine/core/index.js';
import { stateHash } from '../../engine/daemon/snapshot-store.js';
import type { MarketStatus } from '../../engine/core/index.js';
import {
  Fixture,
  MARKET,
  USDC,
  WETH,
  book,
  codeOf,
  oneOf,
  resultOf,
  stopBook,
  typesOf,
  usdc,
  weth,
} from './support.js';

const WETH_DAI = 1;
const DAI = 2;

/** Users 1 and 2 funded; user 1 bids 1 WETH at 1990 (order 1) and 1 at 1980 (order 2); user 2 asks 1 at 2010 (order 3). */
function given(): Fixture {
  const f = new Fixture();
  f.fund(1, { weth: '10', usdc: '100000' });
  f.fund(2, { weth: '10', usdc: '100000' });
  f.rest(1, 'buy', '1990', '1');
  f.rest(1, 'buy', '1980', '1');
  f.rest(2, 'sell', '2010', '1');
  return f;
}

const setStatus = (f: Fixture, status: MarketStatus, marketId = MARKET) =>
  f.when({ type: 'setMarketStatus', marketId, status });
const freeze = (f: Fixture, userId: number, frozen = true) => f.when({ type: 'setUserFrozen', userId, frozen });

/** A second market (WETH-DAI) where user 1 bids too (order 4). */
function withSecondMarket(f: Fixture): void {
  f.ok({ type: 'addAsset', assetId: DAI, symbol: 'DAI', decimals: 6 });
  f.ok({
    type: 'addMarket',
    marketId: WETH_DAI,
    symbol: 'WETH-DAI',
    baseAssetId: WETH,
    quoteAssetId: DAI,
    tickSize: 10_000n,
    lotSize: 10n ** 14n,
    minNotional: 0n,
    makerFeeBps: 0,
    takerFeeBps: 0,
  });
  f.deposit(1, DAI, usdc('5000'));
  f.ok({
    type: 'placeOrder',
    userId: 1,
    marketId: WETH_DAI,
    side: 'buy',
    orderType: 'limit',
    price: usdc('1900'),
    quantity: weth('1'),
  });
}

t.test('market status', async (t) => {
  t.test('a new market trades', async (t) => {
    const f = new Fixture();
    t.equal(f.engine.markets[MARKET]?.status, 'trading');
  });

  t.test('when an operator sets a status, then the market has it and the event says so', async (t) => {
    const f = given();
    const events = setStatus(f, 'cancelOnly');
    t.same(typesOf(events), ['marketStatusChanged', 'commandResult']);
    t.match(oneOf(events, 'marketStatusChanged'), { marketId: MARKET, status: 'cancelOnly' });
    t.match(resultOf(events), { status: 'accepted', code: null });
    t.equal(f.engine.markets[MARKET]?.status, 'cancelOnly');
  });

  t.test(
    'setting the status a market already has is accepted (a kill switch halts every market blindly)',
    async (t) => {
      const f = given();
      t.equal(resultOf(setStatus(f, 'halted')).status, 'accepted');
      const again = setStatus(f, 'halted');
      t.equal(resultOf(again).status, 'accepted');
      t.match(oneOf(again, 'marketStatusChanged'), { status: 'halted' });
      t.equal(resultOf(setStatus(f, 'trading')).status, 'accepted', 'and trading resumes');
    },
  );

  t.test('given cancel-only, new orders and amends are refused and cancels work', async (t) => {
    const f = given();
    setStatus(f, 'cancelOnly');
    const bookBefore = book(f.engine, MARKET);

    const placed = f.limit(2, 'sell', '1990', '1');
    t.equal(codeOf(placed), 'MARKET_CANCEL_ONLY', 'a crossing order does not trade');
    t.match(oneOf(placed, 'orderRejected'), { userId: 2, marketId: MARKET, code: 'MARKET_CANCEL_ONLY' });
    t.equal(
      codeOf(f.place(1, { side: 'buy', orderType: 'market', quoteQuantity: usdc('100') })),
      'MARKET_CANCEL_ONLY',
      'market order',
    );
    t.equal(
      codeOf(
        f.place(1, {
          side: 'buy',
          orderType: 'stopLimit',
          stopPrice: usdc('2020'),
          price: usdc('2030'),
          quantity: weth('1'),
        }),
      ),
      'MARKET_CANCEL_ONLY',
      'stop order',
    );
    t.equal(
      codeOf(f.when({ type: 'amendOrder', userId: 1, orderId: 1, quantity: weth('0.5') })),
      'MARKET_CANCEL_ONLY',
      'amend',
    );
    t.same(book(f.engine, MARKET), bookBefore, 'the book is untouched');

    const canceled = f.when({ type: 'cancelOrder', userId: 1, orderId: 1 });
    t.equal(resultOf(canceled).status, 'accepted');
    t.match(oneOf(canceled, 'orderCanceled'), { orderId: 1, reason: 'user' });
    t.equal(
      resultOf(f.when({ type: 'cancelAll', userId: 2, marketId: MARKET })).status,
      'accepted',
      'cancel-all in the market',
    );
    t.same(book(f.engine, MARKET).asks, [], 'user 2 canceled its ask');
  });

  t.test(
    'given halted, orders, amends and cancels are refused and the book and balances stay as they were',
    async (t) => {
      const f = given();
      setStatus(f, 'halted');
      const bookBefore = book(f.engine, MARKET);
      const balanceBefore = f.balance(1, USDC);

      t.equal(codeOf(f.limit(2, 'sell', '1990', '1')), 'MARKET_HALTED');
      t.equal(codeOf(f.when({ type: 'amendOrder', userId: 1, orderId: 1, price: usdc('1991') })), 'MARKET_HALTED');
      t.equal(codeOf(f.when({ type: 'cancelOrder', userId: 1, orderId: 1 })), 'MARKET_HALTED');
      t.equal(
        codeOf(f.when({ type: 'cancelAll', userId: 1, marketId: MARKET })),
        'MARKET_HALTED',
        'cancel-all naming the market',
      );

      t.same(book(f.engine, MARKET), bookBefore);
      t.same(f.balance(1, USDC), balanceBefore);
    },
  );

  t.test('an unknown order in a halted market is still ORDER_NOT_FOUND (the order is looked up first)', async (t) => {
    const f = given();
    setStatus(f, 'halted');
    t.equal(codeOf(f.when({ type: 'cancelOrder', userId: 2, orderId: 1 })), 'ORDER_NOT_FOUND', "not this user's order");
  });

  t.test('when trading resumes, resting orders kept their places and trade again', async (t) => {
    const f = given();
    f.rest(2, 'buy', '1990', '0.5'); // order 4, behind order 1 at 1990
    setStatus(f, 'halted');
    setStatus(f, 'trading');
    t.same(book(f.engine, MARKET).bids[0].orderIds, [1, 4], 'queue order kept');

    const events = f.limit(2, 'sell', '1990', '1');
    t.match(oneOf(events, 'trade'), { makerOrderId: 1, priceTicks: 199_000 });
  });

  t.test(
    "cancel-all across markets cancels where cancels are accepted and leaves a halted market's orders",
    async (t) => {
      const f = given();
      withSecondMarket(f);
      setStatus(f, 'halted', WETH_DAI);

      const events = f.when({ type: 'cancelAll', userId: 1 });

      t.equal(resultOf(events).status, 'accepted');
      t.same(
        events.filter((e) => e.type === 'orderCanceled').map((e) => (e as { orderId: number }).orderId),
        [1, 2],
        "the trading market's orders",
      );
      t.same(
        book(f.engine, WETH_DAI).bids.map((l) => l.orderIds),
        [[4]],
        "the halted market's order stays",
      );
      t.equal(codeOf(f.when({ type: 'cancelAll', userId: 1, marketId: WETH_DAI })), 'MARKET_HALTED');
      setStatus(f, 'cancelOnly', WETH_DAI);
      t.equal(resultOf(f.when({ type: 'cancelAll', userId: 1 })).status, 'accepted');
      t.same(book(f.engine, WETH_DAI).bids, [], 'cancel-only accepts the cancel');
    },
  );

  t.test(
    'pending stop orders wait out a halt: nothing trades, so nothing triggers; the next trade after it does',
    async (t) => {
      const f = given();
      f.limit(2, 'sell', '1990', '0.1'); // trades: last price 1990
      const stopId = resultOf(
        f.place(1, { side: 'buy', orderType: 'stopMarket', stopPrice: usdc('2010'), quoteQuantity: usdc('500') }),
      ).orderId;
      setStatus(f, 'halted');
      t.same(stopBook(f.engine, MARKET).buy, [stopId], 'the stop waits');
      t.equal(
        codeOf(f.when({ type: 'cancelOrder', userId: 1, orderId: stopId as number })),
        'MARKET_HALTED',
        'and cannot be canceled while halted',
      );

      setStatus(f, 'trading');
      t.same(stopBook(f.engine, MARKET).buy, [stopId], 'resuming triggers nothing by itself');
      const events = f.limit(1, 'buy', '2010', '0.1'); // trades at 2010: the stop's trigger
      t.match(oneOf(events, 'orderTriggered'), { orderId: stopId });
    },
  );

  t.test('a pending stop can be canceled in cancel-only', async (t) => {
    const f = given();
    const stopId = resultOf(
      f.place(1, {
        side: 'buy',
        orderType: 'stopLimit',
        stopPrice: usdc('2020'),
        price: usdc('2030'),
        quantity: weth('1'),
      }),
    ).orderId as number;
    setStatus(f, 'cancelOnly');
    t.equal(resultOf(f.when({ type: 'cancelOrder', userId: 1, orderId: stopId })).status, 'accepted');
    t.same(stopBook(f.engine, MARKET).buy, []);
  });

  t.test('the status is part of the snapshot and the state hash', async (t) => {
    const f = given();
    const trading = stateHash(f.engine);
    setStatus(f, 'cancelOnly');
    const copy = restore(snapshot(f.engine));
    t.equal(copy.markets[MARKET]?.status, 'cancelOnly');
    t.equal(stateHash(copy), stateHash(f.engine));
    const cancelOnly = stateHash(f.engine);
    setStatus(f, 'trading');
    t.not(cancelOnly, trading, 'the hash differs by the status');
    const a = copy.apply({
      v: 1,
      id: 'after',
      timeMs: f.nowMs + 1,
      type: 'placeOrder',
      userId: 2,
      marketId: MARKET,
      side: 'sell',
      orderType: 'limit',
      price: usdc('1990'),
      quantity: weth('1'),
    });
    t.equal(codeOf(a), 'MARKET_CANCEL_ONLY', 'the restored market still refuses');
  });
});

t.test('frozen users', async (t) => {
  t.test('when an operator freezes a user, then the event says so', async (t) => {
    const f = given();
    const events = freeze(f, 1);
    t.same(typesOf(events), ['userFrozenChanged', 'commandResult']);
    t.match(oneOf(events, 'userFrozenChanged'), { userId: 1, frozen: true });
    t.equal(f.engine.accounts.get(1)?.frozen, true);
  });

  t.test(
    'given a frozen user, placing, amending and withdrawing are refused; cancels work; deposits are credited',
    async (t) => {
      const f = given();
      freeze(f, 1);
      const bookBefore = book(f.engine, MARKET);

      t.equal(codeOf(f.limit(1, 'buy', '2010', '1')), 'USER_FROZEN');
      t.match(oneOf(f.limit(1, 'sell', '2100', '1'), 'orderRejected'), { userId: 1, code: 'USER_FROZEN' });
      t.equal(codeOf(f.when({ type: 'amendOrder', userId: 1, orderId: 1, quantity: weth('0.5') })), 'USER_FROZEN');
      t.equal(
        codeOf(
          f.when({
            type: 'requestWithdrawal',
            userId: 1,
            assetId: USDC,
            amount: usdc('1'),
            withdrawalId: 'w-1',
            destination: '0xd',
          }),
        ),
        'USER_FROZEN',
      );
      t.same(book(f.engine, MARKET), bookBefore, 'nothing placed or changed');

      const before = f.balance(1, USDC).available;
      t.equal(
        resultOf(f.when({ type: 'deposit', userId: 1, assetId: USDC, amount: usdc('7'), depositId: 'after-freeze' }))
          .status,
        'accepted',
      );
      t.equal(f.balance(1, USDC).available, before + usdc('7'), 'credited');
      t.equal(resultOf(f.when({ type: 'cancelOrder', userId: 1, orderId: 1 })).status, 'accepted');
      t.equal(resultOf(f.when({ type: 'cancelAll', userId: 1 })).status, 'accepted');
      t.same(book(f.engine, MARKET).bids, [], 'both bids canceled');
    },
  );

  t.test("a frozen user's resting orders stay on the book and still fill (freezing cancels nothing)", async (t) => {
    const f = given();
    freeze(f, 1);
    const events = f.limit(2, 'sell', '1990', '1');
    t.match(oneOf(events, 'trade'), { makerOrderId: 1, makerUserId: 1 });
  });

  t.test('withdrawals pending before the freeze still complete or fail', async (t) => {
    const f = given();
    f.ok({
      type: 'requestWithdrawal',
      userId: 1,
      assetId: USDC,
      amount: usdc('10'),
      withdrawalId: 'w-done',
      destination: '0xd',
    });
    f.ok({
      type: 'requestWithdrawal',
      userId: 1,
      assetId: USDC,
      amount: usdc('20'),
      withdrawalId: 'w-failed',
      destination: '0xd',
    });
    freeze(f, 1);
    t.equal(resultOf(f.when({ type: 'completeWithdrawal', withdrawalId: 'w-done', txHash: '0x1' })).status, 'accepted');
    t.equal(resultOf(f.when({ type: 'failWithdrawal', withdrawalId: 'w-failed', reason: 'held' })).status, 'accepted');
    t.equal(f.balance(1, USDC).pending, 0n);
  });

  t.test('a repeated client order id still answers with the first result, frozen or not', async (t) => {
    const f = given();
    const first = f.limit(1, 'buy', '1970', '1', { clientOrderId: 'k1' });
    freeze(f, 1);
    const repeat = f.limit(1, 'buy', '1970', '1', { clientOrderId: 'k1' });
    t.match(resultOf(repeat), {
      status: 'accepted',
      orderId: resultOf(first).orderId,
      duplicateOf: resultOf(first).cmdId,
    });
    t.equal(codeOf(f.limit(1, 'buy', '1970', '1', { clientOrderId: 'k2' })), 'USER_FROZEN', 'a new one is refused');
  });

  t.test(
    'a user frozen before their first deposit gets an account with the flag, and the deposit is credited',
    async (t) => {
      const f = given();
      t.equal(resultOf(freeze(f, 9)).status, 'accepted');
      t.equal(f.engine.accounts.get(9)?.frozen, true);
      f.fund(9, { usdc: '100' });
      t.equal(f.balance(9, USDC).available, usdc('100'));
      t.equal(codeOf(f.limit(9, 'buy', '1000', '0.01')), 'USER_FROZEN');
    },
  );

  t.test('unfreezing a user the engine never saw opens no account', async (t) => {
    const f = given();
    t.equal(resultOf(freeze(f, 9, false)).status, 'accepted');
    t.equal(f.engine.accounts.has(9), false);
  });

  t.test('freezing a new user when the account table is full is refused with CAPACITY_USERS', async (t) => {
    const f = new Fixture({ limits: { usersMax: 1 } });
    f.fund(1, { usdc: '1' });
    t.equal(codeOf(freeze(f, 2)), 'CAPACITY_USERS');
    t.equal(resultOf(freeze(f, 1)).status, 'accepted', 'an existing account can be frozen');
  });

  t.test('when unfrozen, the user trades again', async (t) => {
    const f = given();
    freeze(f, 1);
    freeze(f, 1, false);
    t.equal(resultOf(f.limit(1, 'buy', '2010', '1')).status, 'accepted');
  });

  t.test('frozen is not a boolean: COMMAND_MALFORMED', async (t) => {
    const f = given();
    t.equal(codeOf(f.when({ type: 'setUserFrozen', userId: 1, frozen: 'yes' as never })), 'COMMAND_MALFORMED');
  });

  t.test('the flag is part of the snapshot and the state hash', async (t) => {
    const f = given();
    const unfrozen = stateHash(f.engine);
    freeze(f, 2);
    const copy = restore(snapshot(f.engine));
    t.equal(copy.accounts.get(2)?.frozen, true);
    t.equal(stateHash(copy), stateHash(f.engine));
    t.not(stateHash(f.engine), unfrozen, 'the hash differs by the flag');
    const a = copy.apply({
      v: 1,
      id: 'after',
      timeMs: f.nowMs + 1,
      type: 'placeOrder',
      userId: 2,
      marketId: MARKET,
      side: 'sell',
      orderType: 'limit',
      price: usdc('2020'),
      quantity: weth('1'),
    });
    t.equal(codeOf(a), 'USER_FROZEN', 'the restored user is still frozen');
  });
});
