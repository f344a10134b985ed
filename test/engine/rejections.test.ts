// Every rejection code the core can produce, one case each: the command is rejected with that code, emits
// nothing but its result (and orderRejected for orders), and leaves the state as it was (the state hash
// without the sequence counters and command-id memory every command advances). Retired codes are listed, and a
// test fails when codes.ts gains a code that is neither covered here nor listed.

import t from 'tap';
import { REJECT_CODES } from '../../engine/core/index.js';
import type { EngineEvent, RejectCode } from '../../engine/core/index.js';
import {
  Fixture,
  LOT_SIZE,
  MARKET,
  TICK_SIZE,
  UINT256_MAX,
  USDC,
  WETH,
  resultOf,
  stateHashExceptSequence,
  usdc,
  weth,
} from './support.js';
import type { FixtureOptions, OrderBody } from './support.js';

/** Never produced any more; kept so their numbers are never reused. */
const RETIRED = ['CAPACITY_COMMAND_IDS'] as const;
type Retired = (typeof RETIRED)[number];

interface Case {
  options?: FixtureOptions;
  /** State before the command (users 1 and 2 always have 10 WETH and 100000 USDC, by 4 deposits). */
  given?: (f: Fixture) => void;
  when: (f: Fixture) => EngineEvent[];
}

const SAFE_PLUS_ONE = BigInt(Number.MAX_SAFE_INTEGER) + 1n;

/** User 1's limit buy of 1 WETH at 2000, with overrides. */
const order = (f: Fixture, o: Partial<OrderBody>, userId = 1): EngineEvent[] =>
  f.place(userId, { side: 'buy', orderType: 'limit', price: usdc('2000'), quantity: weth('1'), ...o } as OrderBody);
const marketOrder = (f: Fixture, o: Partial<OrderBody>): EngineEvent[] =>
  f.place(1, { side: 'buy', orderType: 'market', quoteQuantity: usdc('100'), ...o } as OrderBody);
const stopOrder = (f: Fixture, o: Partial<OrderBody> = {}, userId = 1): EngineEvent[] =>
  f.place(userId, {
    side: 'buy',
    orderType: 'stopLimit',
    stopPrice: usdc('2010'),
    price: usdc('2020'),
    quantity: weth('1'),
    ...o,
  } as OrderBody);
/** A command as a careless producer might send it, envelope included. */
const raw = (f: Fixture, cmd: Record<string, unknown>): EngineEvent[] =>
  f.applyRaw({ v: 1, id: 'raw', timeMs: f.nowMs + 1, ...cmd });
const deposit = (f: Fixture, o: Record<string, unknown>): EngineEvent[] =>
  f.when({ type: 'deposit', userId: 1, assetId: USDC, amount: 1n, depositId: 'new-deposit', ...o } as never);
const withdraw = (f: Fixture, o: Record<string, unknown> = {}): EngineEvent[] =>
  f.when({
    type: 'requestWithdrawal',
    userId: 1,
    assetId: USDC,
    amount: 1n,
    withdrawalId: 'w-new',
    destination: '0xdest',
    ...o,
  } as never);
const newMarket = (f: Fixture, o: Record<string, unknown>): EngineEvent[] =>
  f.when({
    type: 'addMarket',
    marketId: 1,
    symbol: 'WETH-USDC.B',
    baseAssetId: WETH,
    quoteAssetId: USDC,
    tickSize: TICK_SIZE,
    lotSize: LOT_SIZE,
    minNotional: 0n,
    makerFeeBps: 10,
    takerFeeBps: 20,
    ...o,
  } as never);
const newAsset = (f: Fixture, o: Record<string, unknown>): EngineEvent[] =>
  f.when({ type: 'addAsset', assetId: 2, symbol: 'WBTC', decimals: 8, ...o } as never);
const amend = (f: Fixture, o: Record<string, unknown>): EngineEvent[] =>
  f.when({ type: 'amendOrder', userId: 1, orderId: 1, ...o } as never);
const setStatus = (f: Fixture, status: 'trading' | 'cancelOnly' | 'halted'): void =>
  void f.ok({ type: 'setMarketStatus', marketId: MARKET, status });

/** Order ids: given orders start at 1 (the fixture's funding places none). */
const restingBid = (f: Fixture): void => void f.rest(1, 'buy', '2000', '1');
const tradeAt2000 = (f: Fixture): void => {
  f.rest(2, 'sell', '2000', '0.1');
  f.limit(1, 'buy', '2000', '0.1');
};

const CASES: Record<Exclude<RejectCode, Retired>, Case> = {
  COMMAND_UNKNOWN_TYPE: { when: (f) => raw(f, { type: 'explode' }) },
  COMMAND_UNSUPPORTED_VERSION: {
    when: (f) => raw(f, { v: 2, type: 'deposit', userId: 1, assetId: USDC, amount: 1n, depositId: 'v2' }),
  },
  COMMAND_MALFORMED: {
    when: (f) => raw(f, { id: '', type: 'deposit', userId: 1, assetId: USDC, amount: 1n, depositId: 'no-id' }),
  },
  COMMAND_DUPLICATE_ID: {
    given: (f) => void deposit(f, { id: 'retried', depositId: 'first' }),
    when: (f) => deposit(f, { id: 'retried', depositId: 'second' }),
  },

  ASSET_ID_INVALID: { when: (f) => newAsset(f, { assetId: -1 }) },
  ASSET_ALREADY_EXISTS: { when: (f) => newAsset(f, { symbol: 'USDC' }) },
  ASSET_DECIMALS_INVALID: { when: (f) => newAsset(f, { decimals: 37 }) },
  ASSET_SYMBOL_INVALID: { when: (f) => newAsset(f, { symbol: 'wbtc' }) },
  MARKET_ID_INVALID: { when: (f) => newMarket(f, { marketId: 1.5 }) },
  MARKET_ALREADY_EXISTS: { when: (f) => newMarket(f, { marketId: MARKET }) },
  MARKET_SYMBOL_INVALID: { when: (f) => newMarket(f, { symbol: 'W/U' }) },
  MARKET_ASSET_UNKNOWN: { when: (f) => newMarket(f, { quoteAssetId: 7 }) },
  MARKET_SAME_ASSET: { when: (f) => newMarket(f, { quoteAssetId: WETH }) },
  MARKET_TICK_SIZE_INVALID: { when: (f) => newMarket(f, { tickSize: 0n }) },
  MARKET_LOT_SIZE_INVALID: { when: (f) => newMarket(f, { lotSize: UINT256_MAX + 1n }) },
  MARKET_UNITS_INEXACT: { when: (f) => newMarket(f, { tickSize: 1n, lotSize: 1n }) },
  MARKET_MIN_NOTIONAL_INVALID: { when: (f) => newMarket(f, { minNotional: -1n }) },
  MARKET_FEE_INVALID: { when: (f) => newMarket(f, { takerFeeBps: 1001 }) },

  ORDER_USER_INVALID: { when: (f) => order(f, {}, 0) },
  ORDER_MARKET_UNKNOWN: { when: (f) => order(f, { marketId: 9 }) },
  ORDER_SIDE_INVALID: { when: (f) => order(f, { side: 'short' as never }) },
  ORDER_TYPE_INVALID: { when: (f) => order(f, { orderType: 'iceberg' as never }) },
  ORDER_TIF_INVALID: { when: (f) => order(f, { timeInForce: 'DAY' as never }) },
  ORDER_STP_INVALID: { when: (f) => order(f, { stp: 'cancelOldest' as never }) },
  ORDER_CLIENT_ID_INVALID: { when: (f) => order(f, { clientOrderId: 'two words' }) },
  ORDER_PRICE_MISSING: { when: (f) => order(f, { price: undefined }) },
  ORDER_PRICE_NOT_POSITIVE: { when: (f) => order(f, { price: 0n }) },
  ORDER_PRICE_OVERFLOW: { when: (f) => order(f, { price: UINT256_MAX + 1n }) },
  ORDER_PRICE_NOT_ON_TICK: { when: (f) => order(f, { price: usdc('2000.001') }) },
  ORDER_PRICE_OUT_OF_RANGE: { when: (f) => order(f, { price: SAFE_PLUS_ONE * TICK_SIZE }) },
  ORDER_PRICE_NOT_ALLOWED: { when: (f) => marketOrder(f, { price: usdc('2000') }) },
  ORDER_QTY_MISSING: { when: (f) => order(f, { quantity: undefined }) },
  ORDER_QTY_NOT_POSITIVE: { when: (f) => order(f, { quantity: 0n }) },
  ORDER_QTY_OVERFLOW: { when: (f) => order(f, { quantity: UINT256_MAX + 1n }) },
  ORDER_QTY_NOT_ON_LOT: { when: (f) => order(f, { quantity: weth('0.00001') }) },
  ORDER_QTY_OUT_OF_RANGE: { when: (f) => order(f, { quantity: SAFE_PLUS_ONE * LOT_SIZE }) },
  ORDER_QTY_AND_QUOTE_QTY: { when: (f) => marketOrder(f, { quantity: weth('1') }) },
  ORDER_QUOTE_QTY_NOT_ALLOWED: { when: (f) => marketOrder(f, { side: 'sell' }) },
  ORDER_QUOTE_QTY_NOT_POSITIVE: { when: (f) => marketOrder(f, { quoteQuantity: 0n }) },
  ORDER_QUOTE_QTY_OVERFLOW: { when: (f) => marketOrder(f, { quoteQuantity: UINT256_MAX + 1n }) },
  ORDER_STOP_PRICE_MISSING: { when: (f) => stopOrder(f, { stopPrice: undefined }) },
  ORDER_STOP_PRICE_NOT_POSITIVE: { when: (f) => stopOrder(f, { stopPrice: -1n }) },
  ORDER_STOP_PRICE_OVERFLOW: { when: (f) => stopOrder(f, { stopPrice: UINT256_MAX + 1n }) },
  ORDER_STOP_PRICE_NOT_ON_TICK: { when: (f) => stopOrder(f, { stopPrice: usdc('2010.005') }) },
  ORDER_STOP_PRICE_OUT_OF_RANGE: { when: (f) => stopOrder(f, { stopPrice: SAFE_PLUS_ONE * TICK_SIZE }) },
  ORDER_STOP_PRICE_NOT_ALLOWED: { when: (f) => order(f, { stopPrice: usdc('2010') }) },
  ORDER_STOP_WOULD_TRIGGER: {
    given: tradeAt2000,
    when: (f) =>
      stopOrder(f, {
        side: 'sell',
        orderType: 'stopMarket',
        price: undefined,
        quantity: weth('0.1'),
        stopPrice: usdc('2000'),
      }),
  },
  ORDER_STOP_MARKET_BUY_NEEDS_QUOTE_QTY: { when: (f) => stopOrder(f, { orderType: 'stopMarket', price: undefined }) },
  ORDER_NOTIONAL_TOO_SMALL: { when: (f) => order(f, { quantity: weth('0.0001') }) },
  ORDER_POST_ONLY_WOULD_TAKE: {
    given: (f) => void f.rest(2, 'sell', '2000', '1'),
    when: (f) => order(f, { postOnly: true }),
  },
  ORDER_POST_ONLY_NOT_GTC: { when: (f) => order(f, { postOnly: true, timeInForce: 'IOC' }) },
  ORDER_FOK_NOT_FILLABLE: { when: (f) => order(f, { timeInForce: 'FOK' }) },

  RISK_INSUFFICIENT_FUNDS: { when: (f) => order(f, { quantity: weth('100') }) },
  RISK_BALANCE_OVERFLOW: {
    given: (f) => void f.deposit(3, WETH, UINT256_MAX - weth('20')),
    when: (f) => deposit(f, { assetId: WETH }),
  },

  ORDER_NOT_FOUND: { given: restingBid, when: (f) => f.when({ type: 'cancelOrder', userId: 2, orderId: 1 }) },
  AMEND_NOTHING_TO_CHANGE: { given: restingBid, when: (f) => amend(f, { orderId: 1, quantity: weth('1') }) },
  AMEND_QTY_NOT_ABOVE_FILLED: {
    given: (f) => {
      restingBid(f);
      f.limit(2, 'sell', '2000', '0.5');
    },
    when: (f) => amend(f, { orderId: 1, quantity: weth('0.5') }),
  },
  AMEND_NOT_SUPPORTED_FOR_TYPE: {
    given: (f) => void stopOrder(f),
    when: (f) => amend(f, { orderId: 1, quantity: weth('0.5') }),
  },
  AMEND_POST_ONLY_WOULD_TAKE: {
    given: (f) => {
      f.rest(1, 'buy', '1990', '1', { postOnly: true });
      f.rest(2, 'sell', '2000', '1');
    },
    when: (f) => amend(f, { orderId: 1, price: usdc('2000') }),
  },
  CANCEL_MARKET_UNKNOWN: { when: (f) => f.when({ type: 'cancelAll', userId: 1, marketId: 3 }) },

  WALLET_USER_INVALID: { when: (f) => deposit(f, { userId: -1 }) },
  WALLET_ASSET_UNKNOWN: { when: (f) => withdraw(f, { assetId: 9 }) },
  WALLET_AMOUNT_NOT_POSITIVE: { when: (f) => deposit(f, { amount: 0n }) },
  WALLET_AMOUNT_OVERFLOW: { when: (f) => withdraw(f, { amount: UINT256_MAX + 1n }) },
  DEPOSIT_ID_INVALID: { when: (f) => deposit(f, { depositId: 'tx 1' }) },
  DEPOSIT_DUPLICATE: {
    given: (f) => void deposit(f, { depositId: 'tx-1' }),
    when: (f) => deposit(f, { depositId: 'tx-1' }),
  },
  WITHDRAWAL_ID_INVALID: { when: (f) => withdraw(f, { withdrawalId: '' }) },
  WITHDRAWAL_ID_DUPLICATE: {
    given: (f) => void withdraw(f, { withdrawalId: 'w-1' }),
    when: (f) => withdraw(f, { withdrawalId: 'w-1' }),
  },
  WITHDRAWAL_NOT_FOUND: { when: (f) => f.when({ type: 'completeWithdrawal', withdrawalId: 'w-unknown' }) },
  WITHDRAWAL_DESTINATION_INVALID: { when: (f) => withdraw(f, { destination: 'x'.repeat(129) }) },

  CAPACITY_ASSETS: { options: { limits: { assetsMax: 2 } }, when: (f) => newAsset(f, {}) },
  CAPACITY_MARKETS: { options: { limits: { marketsMax: 1 } }, when: (f) => newMarket(f, {}) },
  CAPACITY_USERS: { options: { limits: { usersMax: 2 } }, when: (f) => deposit(f, { userId: 3 }) },
  CAPACITY_OPEN_ORDERS_PER_USER: {
    options: { limits: { openOrdersPerUserMax: 1 } },
    given: restingBid,
    when: (f) => order(f, {}),
  },
  CAPACITY_OPEN_ORDERS_TOTAL: {
    options: { limits: { openOrdersMax: 1 } },
    given: (f) => void f.rest(2, 'buy', '2000', '1'),
    when: (f) => order(f, {}),
  },
  CAPACITY_STOP_ORDERS_PER_USER: {
    options: { limits: { stopOrdersPerUserMax: 1 } },
    given: (f) => void stopOrder(f),
    when: (f) => stopOrder(f),
  },
  CAPACITY_STOP_ORDERS_TOTAL: {
    options: { limits: { stopOrdersMax: 1 } },
    given: (f) => void stopOrder(f, {}, 2),
    when: (f) => stopOrder(f),
  },
  CAPACITY_CLIENT_ORDER_IDS: {
    options: { limits: { clientOrderIdsPerUserMax: 1 } },
    given: (f) => void order(f, { clientOrderId: 'a' }),
    when: (f) => order(f, { clientOrderId: 'b' }),
  },
  CAPACITY_DEPOSIT_IDS: { options: { limits: { depositIdsMax: 4 } }, when: (f) => deposit(f, {}) },
  CAPACITY_PENDING_WITHDRAWALS: {
    options: { limits: { pendingWithdrawalsMax: 1 } },
    given: (f) => void withdraw(f, { withdrawalId: 'w-1' }),
    when: (f) => withdraw(f),
  },

  MARKET_NOT_FOUND: { when: (f) => f.when({ type: 'setMarketStatus', marketId: 3, status: 'halted' }) },
  MARKET_STATUS_INVALID: {
    when: (f) => f.when({ type: 'setMarketStatus', marketId: MARKET, status: 'paused' as never }),
  },
  MARKET_CANCEL_ONLY: { given: (f) => setStatus(f, 'cancelOnly'), when: (f) => order(f, {}) },
  MARKET_HALTED: {
    given: (f) => {
      restingBid(f);
      setStatus(f, 'halted');
    },
    when: (f) => f.when({ type: 'cancelOrder', userId: 1, orderId: 1 }),
  },
  USER_ID_INVALID: { when: (f) => f.when({ type: 'setUserFrozen', userId: 0, frozen: true }) },
  USER_FROZEN: {
    given: (f) => void f.ok({ type: 'setUserFrozen', userId: 1, frozen: true }),
    when: (f) => withdraw(f),
  },
};

const ONLY_RESULT_AND_REJECTION = new Set(['orderRejected', 'commandResult']);

for (const [code, c] of Object.entries(CASES) as Array<[RejectCode, Case]>) {
  t.test(`${code} (${REJECT_CODES[code]})`, async (t) => {
    const f = new Fixture(c.options);
    f.fund(1, { weth: '10', usdc: '100000' });
    f.fund(2, { weth: '10', usdc: '100000' });
    c.given?.(f);
    const before = stateHashExceptSequence(f.engine);
    const nextOrderId = f.engine.nextOrderId;

    const events = c.when(f);

    t.match(resultOf(events), { status: 'rejected', code, orderId: null, duplicateOf: null });
    t.same(
      events.filter((e) => !ONLY_RESULT_AND_REJECTION.has(e.type)),
      [],
      'no other events',
    );
    for (const e of events) if (e.type === 'orderRejected') t.equal(e.code, code, 'orderRejected carries the code');
    t.equal(stateHashExceptSequence(f.engine), before, 'state unchanged');
    t.equal(f.engine.nextOrderId, nextOrderId, 'no order id used');
  });
}

t.test('every code in codes.ts is either covered above or retired', async (t) => {
  const all = Object.keys(REJECT_CODES).sort();
  const covered = Object.keys(CASES);
  const retired: string[] = [...RETIRED];
  t.same([...covered, ...retired].sort(), all, 'a new code needs a case here (or a place in RETIRED)');
  t.same(
    covered.filter((code) => retired.includes(code)),
    [],
    'a retired code is not also covered',
  );
});

t.test('placeOrder rejections carry orderRejected with the user, market and client id', async (t) => {
  const f = new Fixture();
  const events = order(f, { clientOrderId: 'mine', quantity: weth('0.00001') });
  t.match(events[0], {
    type: 'orderRejected',
    userId: 1,
    marketId: MARKET,
    clientOrderId: 'mine',
    code: 'ORDER_QTY_NOT_ON_LOT',
  });
});
