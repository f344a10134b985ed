// Every limit in EngineLimits, set tiny: the engine accepts up to the limit, rejects beyond it with the limit's
// CAPACITY_* code (changing nothing), and accepts again once room is freed. Windows forget ids on time.

import t, { type Test } from 'tap';
import { DEFAULT_LIMITS, Engine } from '../../engine/core/index.js';
import type { EngineEvent, EngineLimits } from '../../engine/core/index.js';
import {
  Fixture,
  LOT_SIZE,
  TICK_SIZE,
  USDC,
  WETH,
  codeOf,
  depositCmd,
  resultOf,
  stateHashExceptSequence,
  usdc,
  weth,
} from './support.js';
import type { OrderBody } from './support.js';

const tested = new Set<keyof EngineLimits>();
/** Registers a test of one limit, so the completeness check below knows it is covered. */
function limitTest(limit: keyof EngineLimits, name: string, fn: (t: Test) => Promise<void>): void {
  tested.add(limit);
  t.test(`${limit}: ${name}`, fn);
}

const accepted = (events: ReturnType<Fixture['when']>): boolean => resultOf(events).status === 'accepted';
const stop = (stopPrice: string): OrderBody => ({
  side: 'sell',
  orderType: 'stopMarket',
  stopPrice: usdc(stopPrice),
  quantity: weth('0.1'),
});

/** Asserts the command is rejected with `code` and leaves the state as it was. */
function rejectsUnchanged(t: Test, f: Fixture, code: string, apply: () => ReturnType<Fixture['when']>): void {
  const before = stateHashExceptSequence(f.engine);
  t.equal(codeOf(apply()), code);
  t.equal(stateHashExceptSequence(f.engine), before, `${code} changes nothing`);
}

limitTest('assetsMax', 'asset ids stop at assetsMax - 1', async (t) => {
  const f = new Fixture({ limits: { assetsMax: 3 } });
  t.ok(accepted(f.when({ type: 'addAsset', assetId: 2, symbol: 'WBTC', decimals: 8 })));
  rejectsUnchanged(t, f, 'CAPACITY_ASSETS', () =>
    f.when({ type: 'addAsset', assetId: 3, symbol: 'DAI', decimals: 18 }),
  );
});

limitTest('marketsMax', 'market ids stop at marketsMax - 1', async (t) => {
  const f = new Fixture({ limits: { marketsMax: 2 } });
  const market = (marketId: number, symbol: string) =>
    f.when({
      type: 'addMarket',
      marketId,
      symbol,
      baseAssetId: WETH,
      quoteAssetId: USDC,
      tickSize: TICK_SIZE,
      lotSize: LOT_SIZE,
      minNotional: 0n,
      makerFeeBps: 0,
      takerFeeBps: 0,
    });
  t.ok(accepted(market(1, 'WETH-USDC.B')));
  rejectsUnchanged(t, f, 'CAPACITY_MARKETS', () => market(2, 'WETH-USDC.C'));
});

limitTest('usersMax', 'a new user beyond usersMax cannot deposit; known users can', async (t) => {
  const f = new Fixture({ limits: { usersMax: 2 } });
  f.fund(1, { usdc: '1' });
  f.fund(2, { usdc: '1' });
  rejectsUnchanged(t, f, 'CAPACITY_USERS', () =>
    f.when({ type: 'deposit', userId: 3, assetId: USDC, amount: 1n, depositId: 'u3' }),
  );
  t.ok(accepted(f.when({ type: 'deposit', userId: 1, assetId: USDC, amount: 1n, depositId: 'u1-again' })));
  t.equal(f.engine.accounts.size, 2);
});

limitTest(
  'openOrdersPerUserMax',
  'a user with the maximum of resting orders and stops cannot rest another until one closes',
  async (t) => {
    const f = new Fixture({ limits: { openOrdersPerUserMax: 2 } });
    f.fund(1, { usdc: '10000', weth: '1' });
    f.fund(2, { weth: '1' });
    const first = f.rest(1, 'buy', '1000', '1');
    t.ok(accepted(f.place(1, stop('900'))), 'a pending stop is an open order');

    rejectsUnchanged(t, f, 'CAPACITY_OPEN_ORDERS_PER_USER', () => f.limit(1, 'buy', '1000', '1'));
    rejectsUnchanged(t, f, 'CAPACITY_OPEN_ORDERS_PER_USER', () => f.place(1, stop('800')));
    t.ok(accepted(f.limit(1, 'buy', '1000', '1', { timeInForce: 'IOC' })), 'an IOC never rests, so it is not limited');
    t.ok(
      accepted(f.limit(2, 'sell', '3000', '0.5')) && accepted(f.limit(2, 'sell', '3000', '0.5')),
      'other users are not limited',
    );

    f.ok({ type: 'cancelOrder', userId: 1, orderId: first });
    t.ok(accepted(f.limit(1, 'buy', '1000', '1')), 'room again after a cancel');
  },
);

limitTest(
  'openOrdersMax',
  'with openOrdersMax open orders in the engine, nobody can rest another until one closes',
  async (t) => {
    const f = new Fixture({ limits: { openOrdersMax: 2 } });
    f.fund(1, { usdc: '10000' });
    f.fund(2, { weth: '1' });
    f.fund(3, { usdc: '10000' });
    f.rest(1, 'buy', '2000', '1');
    f.rest(2, 'sell', '2100', '1');

    rejectsUnchanged(t, f, 'CAPACITY_OPEN_ORDERS_TOTAL', () => f.limit(3, 'buy', '1000', '1'));
    t.ok(
      accepted(f.limit(3, 'buy', '2100', '1', { timeInForce: 'IOC' })),
      'an IOC taker fills the ask and frees its slot',
    );
    t.equal(f.engine.openOrdersTotal, 1);
    t.ok(accepted(f.limit(3, 'buy', '1000', '1')), 'room again after a fill');
  },
);

limitTest(
  'stopOrdersPerUserMax',
  'a user with the maximum of pending stops cannot place another until one triggers',
  async (t) => {
    const f = new Fixture({ limits: { stopOrdersPerUserMax: 1 } });
    f.fund(1, { weth: '1' });
    f.fund(2, { weth: '1' });
    f.fund(3, { usdc: '10000' });
    f.place(1, stop('1990'));

    rejectsUnchanged(t, f, 'CAPACITY_STOP_ORDERS_PER_USER', () => f.place(1, stop('1980')));
    t.ok(accepted(f.place(2, stop('1980'))), 'other users are not limited');
    f.rest(3, 'buy', '1990', '1');
    f.limit(2, 'sell', '1990', '0.1');
    t.equal(f.engine.stopOrdersTotal, 1, "user 1's stop triggered at 1990, user 2's at 1980 waits");
    t.ok(accepted(f.place(1, stop('1980'))), 'room again after the trigger');
  },
);

limitTest(
  'stopOrdersMax',
  'with stopOrdersMax pending stops in the engine, nobody can place another until one goes',
  async (t) => {
    const f = new Fixture({ limits: { stopOrdersMax: 2 } });
    f.fund(1, { weth: '1' });
    f.fund(2, { weth: '1' });
    const first = resultOf(f.place(1, stop('1990'))).orderId as number;
    f.place(2, stop('1990'));

    rejectsUnchanged(t, f, 'CAPACITY_STOP_ORDERS_TOTAL', () => f.place(1, stop('1980')));
    f.ok({ type: 'cancelOrder', userId: 1, orderId: first });
    t.ok(accepted(f.place(1, stop('1980'))), 'room again after a cancel');
  },
);

limitTest(
  'clientOrderIdsPerUserMax',
  'a user with the maximum of remembered client ids cannot use a new one',
  async (t) => {
    const f = new Fixture({ limits: { clientOrderIdsPerUserMax: 2 } });
    f.fund(1, { usdc: '10000' });
    f.limit(1, 'buy', '1000', '1', { clientOrderId: 'a' });
    f.limit(1, 'buy', '1000', '100', { clientOrderId: 'b' });
    t.equal(f.engine.clientOrderIds.get(1)?.size, 2, "a rejected order's id is remembered too");

    rejectsUnchanged(t, f, 'CAPACITY_CLIENT_ORDER_IDS', () => f.limit(1, 'buy', '1000', '1', { clientOrderId: 'c' }));
  },
);

limitTest(
  'clientOrderIdWindowMs',
  'a client id is forgotten clientOrderIdWindowMs after it was used, freeing its slot',
  async (t) => {
    const f = new Fixture({ limits: { clientOrderIdsPerUserMax: 1, clientOrderIdWindowMs: 500 } });
    f.fund(1, { usdc: '10000' });
    const start = f.nowMs + 1;
    f.limit(1, 'buy', '1000', '1', { clientOrderId: 'a', timeMs: start });
    rejectsUnchanged(t, f, 'CAPACITY_CLIENT_ORDER_IDS', () =>
      f.limit(1, 'buy', '1000', '1', { clientOrderId: 'b', timeMs: start + 499 }),
    );
    t.ok(accepted(f.limit(1, 'buy', '1000', '1', { clientOrderId: 'b', timeMs: start + 500 })));
    t.equal(f.engine.clientOrderIds.get(1)?.size, 1);
  },
);

limitTest(
  'depositIdsMax',
  'with depositIdsMax remembered deposit ids, a new deposit waits for the window',
  async (t) => {
    const f = new Fixture({ limits: { depositIdsMax: 2, depositIdWindowMs: 1000 } });
    const start = f.nowMs + 1;
    const deposit = (depositId: string, timeMs: number) =>
      f.when({ type: 'deposit', userId: 1, assetId: USDC, amount: 1n, depositId, timeMs });
    deposit('d1', start);
    deposit('d2', start + 10);

    rejectsUnchanged(t, f, 'CAPACITY_DEPOSIT_IDS', () => deposit('d3', start + 999));
    t.equal(codeOf(deposit('d2', start + 999)), 'DEPOSIT_DUPLICATE', 'a duplicate is still recognized when full');
    t.ok(accepted(deposit('d3', start + 1000)), 'd1 is forgotten at 1000 ms');
    t.same(f.balance(1, USDC).available, 3n);
  },
);

limitTest(
  'depositIdWindowMs',
  'a deposit id is remembered for depositIdWindowMs; after that the same id credits again',
  async (t) => {
    const f = new Fixture({ limits: { depositIdWindowMs: 1000 } });
    const start = f.nowMs + 1;
    const deposit = (timeMs: number) =>
      f.when({ type: 'deposit', userId: 1, assetId: USDC, amount: 5n, depositId: 'tx-1', timeMs });
    deposit(start);
    t.equal(codeOf(deposit(start + 999)), 'DEPOSIT_DUPLICATE');
    // By design: dedup memory is bounded, so a chain watcher must not re-deliver a deposit after the window.
    t.ok(accepted(deposit(start + 1000)));
    t.same(f.balance(1, USDC).available, 10n);
  },
);

limitTest(
  'pendingWithdrawalsMax',
  'with pendingWithdrawalsMax pending withdrawals, a new request waits for one to settle',
  async (t) => {
    const f = new Fixture({ limits: { pendingWithdrawalsMax: 1 } });
    f.fund(1, { usdc: '100' });
    f.fund(2, { usdc: '100' });
    const request = (userId: number, withdrawalId: string) =>
      f.when({ type: 'requestWithdrawal', userId, assetId: USDC, amount: 1n, withdrawalId, destination: '0xdest' });
    request(1, 'w-1');

    rejectsUnchanged(t, f, 'CAPACITY_PENDING_WITHDRAWALS', () => request(2, 'w-2'));
    f.ok({ type: 'failWithdrawal', withdrawalId: 'w-1' });
    t.ok(accepted(request(2, 'w-2')), 'room again once settled');
  },
);

limitTest('commandIdWindowMs', 'command ids are forgotten after commandIdWindowMs of command time', async (t) => {
  const f = new Fixture({ limits: { commandIdWindowMs: 1000 } });
  const t0 = f.nowMs + 1;
  f.when(depositCmd('late', 'd1', t0));
  t.match(resultOf(f.when(depositCmd('late', 'd2', t0 + 999))), { code: 'COMMAND_DUPLICATE_ID' }, 'inside the window');
  t.match(resultOf(f.when(depositCmd('late', 'd3', t0 + 1000))), { status: 'accepted' }, 'after it: a new command');
});

limitTest('commandIdsMax', 'a full command-id memory forgets its oldest id and never refuses a command', async (t) => {
  const f = new Fixture({ limits: { commandIdsMax: 3 } });
  // The fixture's own three set-up commands filled it; five more push everything older out.
  const results: EngineEvent[] = [];
  for (let i = 0; i < 5; i++) results.push(resultOf(f.when(depositCmd(`n${i}`, `d${i}`))));
  t.ok(
    results.every((r) => r.type === 'commandResult' && r.status === 'accepted'),
    'no capacity rejection',
  );
  t.equal(f.engine.commandIds.size, 3, 'bounded');
  t.match(resultOf(f.when(depositCmd('n4', 'again'))), { code: 'COMMAND_DUPLICATE_ID' }, 'a recent id is caught');
  t.match(resultOf(f.when(depositCmd('n0', 'again'))), { status: 'accepted' }, 'an evicted one is not');
});

t.test('every limit in EngineLimits has a test above', async (t) => {
  t.same([...tested].sort(), Object.keys(DEFAULT_LIMITS).sort());
});

t.test('a limit that is not a positive safe integer is refused when the engine is built', async (t) => {
  for (const limit of Object.keys(DEFAULT_LIMITS) as Array<keyof EngineLimits>) {
    t.throws(() => new Engine({ ...DEFAULT_LIMITS, [limit]: 0 }), { message: new RegExp(limit) });
    t.throws(() => new Engine({ ...DEFAULT_LIMITS, [limit]: 1.5 }), { message: new RegExp(limit) });
  }
});
