// ccxt's own `binance` and `binance.pro` classes against the stack as in production (Kafka broker, engine daemon,
// persistence and gateway as processes: e2e-stack.ts), configured as ../shared/notes/binance-compat.md says: our URLs,
// spot only, no currency or margin look-ups. One stack serves every part of this file. Every figure ccxt reads is
// checked against our own API's answer for the same thing (after persistence has caught up).

import http from 'node:http';
import { WebSocket } from 'ws';
import t from 'tap';
import ccxt from 'ccxt';
import type { Exchange } from 'ccxt';
import type { CommandInput } from '../../engine/wire/codec.js';
import { WAIT_MS, registerUsers, startE2eStack, waitReady } from './e2e-stack.js';
import type { E2eStack } from './e2e-stack.js';
import { waitFor } from '../daemon/recovery-support.js';

const SYMBOL = 'ETH/USDT';
const ETH = 10n ** 18n;
const USDT = 10n ** 6n;
const DEPOSIT_ETH = 100n * ETH;
const DEPOSIT_USDT = 1_000_000n * USDT;
/** The market-making loop's length: the issue asks for a minute. */
const LOOP_MS = Number(process.env.BINANCE_MM_LOOP_MS ?? 60_000);
/** The loop's least time per round (two quotes, a taker order, now and then a cancel-all). */
const ROUND_MS = 250;

const SETUP: CommandInput[] = [
  { v: 1, type: 'addAsset', id: 'a1', assetId: 1, symbol: 'ETH', decimals: 18 },
  { v: 1, type: 'addAsset', id: 'a2', assetId: 2, symbol: 'USDT', decimals: 6 },
  {
    v: 1,
    type: 'addMarket',
    id: 'm1',
    marketId: 1,
    symbol: 'ETH-USDT',
    baseAssetId: 1,
    quoteAssetId: 2,
    tickSize: 10_000n,
    lotSize: 10n ** 14n,
    minNotional: 1_000_000n,
    makerFeeBps: 10,
    takerFeeBps: 20,
  },
];

interface User {
  readonly userId: number;
  readonly token: string;
  readonly rest: Exchange;
  readonly pro: Exchange;
}

function binanceFor(stack: E2eStack, apiKey: string, secret: string, pro: boolean): Exchange {
  const ws = `ws://127.0.0.1:${stack.port}`;
  const Cls = pro ? ccxt.pro.binance : ccxt.binance;
  const ex = new Cls({
    apiKey,
    secret,
    enableRateLimit: false,
    ...(pro ? { httpAgent: new http.Agent() } : {}),
    options: {
      defaultType: 'spot',
      fetchMarkets: { types: ['spot'] },
      fetchCurrencies: false,
      fetchMargins: false,
      adjustForTimeDifference: false,
      fetchOpenOrders: { warnWithoutSymbol: false },
      warnOnFetchOpenOrdersWithoutSymbol: false,
    },
  });
  const api = ex.urls.api as Record<string, unknown>;
  api.public = `${stack.base}/api/v3`;
  api.private = `${stack.base}/api/v3`;
  api.sapi = `${stack.base}/sapi/v1`;
  if (pro) {
    const wsUrls = api.ws as Record<string, Record<string, string>>;
    wsUrls.spot = `${ws}/ws` as never;
    wsUrls['ws-api'].spot = `${ws}/ws-api/v3`;
  }
  return ex;
}

async function user(stack: E2eStack, name: string, userId: number, token: string): Promise<User> {
  const key = await stack.http('POST', '/v1/api-keys', {
    token,
    body: { label: 'ccxt', scopes: ['read', 'trade', 'withdraw'] },
  });
  if (key.status !== 201) throw new Error(`api key for ${name}: ${key.status} ${JSON.stringify(key.json)}`);
  return {
    userId,
    token,
    rest: binanceFor(stack, key.json.keyId, key.json.secret, false),
    pro: binanceFor(stack, key.json.keyId, key.json.secret, true),
  };
}

/** Persistence has stored everything the engine has done so far (our own API's reads are then current). */
async function settled(stack: E2eStack): Promise<void> {
  let last = -1;
  await waitFor(
    async () => {
      const depth = await stack.http('GET', '/v1/markets/ETH-USDT/depth?limit=1');
      const seq = depth.json?.seq ?? -1;
      const same = seq === last;
      last = seq;
      return same && seq >= 0;
    },
    WAIT_MS,
    () => 'settled',
  );
  await new Promise((r) => setTimeout(r, 300));
}

t.test('ccxt binance against the stack', async (t) => {
  const stack = await startE2eStack(t, 'binance');
  await waitReady(stack);
  const names = ['maker', 'taker'] as const;
  const reg = await registerUsers(stack, names);
  const deposits: CommandInput[] = [];
  for (const n of names) {
    deposits.push({
      v: 1,
      type: 'deposit',
      id: `d-${n}-1`,
      userId: reg[n].userId,
      assetId: 1,
      amount: DEPOSIT_ETH,
      depositId: `0x${n}eth:0`,
    });
    deposits.push({
      v: 1,
      type: 'deposit',
      id: `d-${n}-2`,
      userId: reg[n].userId,
      assetId: 2,
      amount: DEPOSIT_USDT,
      depositId: `0x${n}usdt:0`,
    });
  }
  await stack.send([...SETUP, ...deposits]);
  const maker = await user(stack, 'maker', reg.maker.userId, reg.maker.token);
  const taker = await user(stack, 'taker', reg.taker.userId, reg.taker.token);
  t.teardown(async () => {
    await maker.pro.close();
    await taker.pro.close();
  });
  await waitFor(
    async () => (await stack.http('GET', '/v1/balances', { token: maker.token })).json?.balances?.length === 2,
    WAIT_MS,
    () => 'deposits credited',
  );

  await t.test('loadMarkets: one request, filters from tick, lot and minimum notional', async (t) => {
    const markets = await maker.rest.loadMarkets();
    const m = markets[SYMBOL]!;
    t.ok(m, 'ETH/USDT is listed');
    t.equal(m.spot, true);
    t.equal(m.id, 'ETHUSDT');
    const ours = (await stack.http('GET', '/v1/markets')).json.markets[0];
    t.equal(String(m.precision.price), ours.tickSize);
    t.equal(String(m.precision.amount), ours.lotSize);
    t.equal(String(m.limits.cost?.min), ours.minNotional);
    await taker.rest.loadMarkets();
  });

  await t.test('orders, books, trades, balances', async (t) => {
    const ask = await maker.rest.createOrder(SYMBOL, 'limit', 'sell', 1.5, 2000, { clientOrderId: 'mk-ask-1' });
    t.equal(ask.status, 'open');
    t.equal(ask.clientOrderId, 'mk-ask-1');
    const book = await taker.rest.fetchOrderBook(SYMBOL);
    const ourBook = (await stack.http('GET', '/v1/markets/ETH-USDT/depth')).json;
    t.same(
      book.asks,
      ourBook.asks.map(([p, q]: [string, string]) => [Number(p), Number(q)]),
      'asks equal our depth',
    );
    t.equal(book.nonce, ourBook.seq, 'lastUpdateId is the engine seq');
    const buy = await taker.rest.createOrder(SYMBOL, 'limit', 'buy', 0.5, 2000);
    t.equal(buy.status, 'closed');
    t.equal(buy.filled, 0.5);
    t.equal(buy.cost, 1000);
    const mkt = await taker.rest.createOrder(SYMBOL, 'market', 'buy', 0.25);
    t.equal(mkt.filled, 0.25);
    await settled(stack);
    const trades = await taker.rest.fetchTrades(SYMBOL);
    const ourTrades = (await stack.http('GET', '/v1/markets/ETH-USDT/trades')).json.trades.reverse();
    t.same(
      trades.map((x) => [x.id, x.price, x.amount]),
      ourTrades.map((x: any) => [String(x.tradeId), Number(x.price), Number(x.quantity)]),
      'trades equal ours',
    );
    const mine = await taker.rest.fetchMyTrades(SYMBOL);
    t.equal(mine.length, 2);
    const balance = await taker.rest.fetchBalance();
    const ours = (await stack.http('GET', '/v1/balances', { token: taker.token })).json.balances;
    for (const b of ours) {
      t.equal(String(balance[b.asset].free), String(Number(b.available)), `${b.asset} free`);
    }
    const ticker = await taker.rest.fetchTicker(SYMBOL);
    const ourTicker = (await stack.http('GET', '/v1/markets/ETH-USDT/ticker')).json;
    t.equal(String(ticker.last), ourTicker.lastPrice);
    t.equal(String(ticker.baseVolume), ourTicker.volume);
    const tickers = await taker.rest.fetchTickers([SYMBOL]);
    t.equal(String(tickers[SYMBOL]?.last), ourTicker.lastPrice, 'fetchTickers: the same last price');
    t.equal(String(tickers[SYMBOL]?.baseVolume), ourTicker.volume, 'fetchTickers: the same volume');
    const ohlcv = await taker.rest.fetchOHLCV(SYMBOL, '1m');
    t.ok(ohlcv.length >= 1);
    const open = await maker.rest.fetchOpenOrders(SYMBOL);
    t.equal(open.length, 1);
    t.equal(open[0].remaining, 0.75);
    const fetched = await maker.rest.fetchOrder(ask.id!, SYMBOL);
    t.equal(fetched.filled, 0.75);
    const edited = await maker.rest.editOrder(ask.id!, SYMBOL, 'limit', 'sell', 0.75, 2100);
    t.equal(edited.price, 2100);
    const canceled = await maker.rest.cancelOrder(edited.id!, SYMBOL);
    t.equal(canceled.status, 'canceled');
    const all = await maker.rest.fetchOrders(SYMBOL);
    t.equal(all.length, 2);
  });

  await t.test('wallet', async (t) => {
    const addr = await maker.rest.fetchDepositAddress('ETH', { network: 'ETH' });
    const ours = (await stack.http('GET', '/v1/deposit-address', { token: maker.token })).json;
    t.equal(addr.address, ours.address);
    const deps = await maker.rest.fetchDeposits();
    t.equal(deps.length, 2);
    // Withdrawals go only to the address book (added with a session; the stack's time lock is 0).
    const book = await stack.http('POST', '/v1/withdrawal-addresses', {
      token: maker.token,
      body: { address: '0x000000000000000000000000000000000000dEaD', label: 'burn' },
    });
    t.equal(book.status, 201);
    const w = await maker.rest.withdraw('USDT', 12.5, '0x000000000000000000000000000000000000dEaD', undefined, {
      network: 'ETH',
    });
    t.ok(w.id);
    await settled(stack);
    const ws = await maker.rest.fetchWithdrawals();
    t.equal(ws.length, 1);
    t.equal(ws[0].amount, 12.5);
  });

  await t.test("errors raise ccxt's classes", async (t) => {
    await t.rejects(maker.rest.createOrder(SYMBOL, 'limit', 'buy', 1000, 2000), ccxt.InsufficientFunds);
    await t.rejects(maker.rest.cancelOrder('999999', SYMBOL), ccxt.OrderNotFound);
    await t.rejects(maker.rest.fetchOrder('999999', SYMBOL), ccxt.OrderNotFound);
    await t.rejects(maker.rest.publicGetDepth({ symbol: 'NOPEUSDT' }), ccxt.BadSymbol);
    await t.rejects(
      maker.rest.createOrder(SYMBOL, 'limit', 'buy', 0.00001, 2000),
      ccxt.InvalidOrder,
      'off the lot: LOT_SIZE',
    );
    const wrongSecret = binanceFor(stack, maker.rest.apiKey as string, 'not-the-secret', false);
    await wrongSecret.loadMarkets();
    await t.rejects(wrongSecret.fetchBalance(), ccxt.AuthenticationError);
    const stale = binanceFor(stack, maker.rest.apiKey as string, maker.rest.secret as string, false);
    await stale.loadMarkets();
    stale.nonce = () => Date.now() - 120_000;
    await t.rejects(stale.fetchBalance(), ccxt.InvalidNonce);
    const margin = await fetch(`${stack.base}/sapi/v1/margin/account`);
    t.equal(
      ((await margin.json()) as { code: number }).code,
      -1020,
      "margin is refused with Binance's unsupported-operation code",
    );
  });

  await t.test('listen key stream and combined streams over plain WebSockets', async (t) => {
    const lk = await fetch(`${stack.base}/api/v3/userDataStream`, {
      method: 'POST',
      headers: { 'X-MBX-APIKEY': maker.rest.apiKey as string },
    });
    const { listenKey } = (await lk.json()) as { listenKey: string };
    t.match(listenKey, /^[A-Za-z0-9]{60}$/);
    const events: any[] = [];
    const userWs = new WebSocket(`ws://127.0.0.1:${stack.port}/ws/${listenKey}`);
    userWs.on('message', (d: Buffer) => events.push(JSON.parse(d.toString())));
    const market: any[] = [];
    const combined = new WebSocket(`ws://127.0.0.1:${stack.port}/stream?streams=ethusdt@trade`);
    combined.on('message', (d: Buffer) => market.push(JSON.parse(d.toString())));
    await Promise.all([userWs, combined].map((w) => new Promise((r) => w.once('open', r))));
    combined.send(JSON.stringify({ method: 'SUBSCRIBE', params: ['ethusdt@depth@100ms'], id: 7 }));
    await waitFor(
      async () => market.some((m) => m.id === 7 && m.result === null),
      WAIT_MS,
      () => 'SUBSCRIBE answered',
    );
    await new Promise((r) => setTimeout(r, 300));
    const o = await maker.rest.createOrder(SYMBOL, 'limit', 'sell', 0.02, 2222);
    await taker.rest.createOrder(SYMBOL, 'market', 'buy', 0.01);
    await waitFor(
      async () =>
        events.some((e) => e.e === 'executionReport' && String(e.i) === o.id && e.x === 'TRADE') &&
        events.some((e) => e.e === 'outboundAccountPosition'),
      WAIT_MS,
      () => `user events ${JSON.stringify(events).slice(0, 500)}`,
    );
    const report = events.find((e) => e.e === 'executionReport' && e.x === 'TRADE');
    t.equal(report.X, 'PARTIALLY_FILLED');
    t.equal(report.l, '0.01');
    t.equal(report.L, '2222');
    t.equal(report.o, 'LIMIT');
    await waitFor(
      async () =>
        market.some((m) => m.stream === 'ethusdt@trade' && m.data.p === '2222') &&
        market.some((m) => m.stream === 'ethusdt@depth@100ms'),
      WAIT_MS,
      () => 'combined streams',
    );
    userWs.close();
    combined.close();
    await maker.rest.cancelAllOrders(SYMBOL).catch(() => undefined);
  });

  await t.test('ccxt.pro: ticker and candles', async (t) => {
    const first = taker.pro.watchTicker(SYMBOL);
    const candles = taker.pro.watchOHLCV(SYMBOL, '1m');
    await new Promise((r) => setTimeout(r, 300));
    await maker.rest.createOrder(SYMBOL, 'limit', 'sell', 0.01, 2333);
    await taker.rest.createOrder(SYMBOL, 'market', 'buy', 0.01);
    // A watcher's first message may still carry the previous trade's figures (streams send on their own round):
    // wait for the round that holds this trade.
    const deadline = Date.now() + WAIT_MS;
    let ticker = await first;
    while (ticker.last !== 2333 && Date.now() < deadline) ticker = await taker.pro.watchTicker(SYMBOL);
    t.equal(ticker.last, 2333, 'the streamed ticker reaches the last trade');
    let ohlcv = await candles;
    while (ohlcv.at(-1)?.[4] !== 2333 && Date.now() < deadline) ohlcv = await taker.pro.watchOHLCV(SYMBOL, '1m');
    t.equal(ohlcv.at(-1)?.[4], 2333, 'the current candle closes at the last trade');
    await settled(stack);
    const ours = (await stack.http('GET', '/v1/markets/ETH-USDT/ticker')).json;
    t.equal(String(ticker.baseVolume), ours.volume, "streamed volume equals our ticker's");
  });

  await t.test('order types: IOC, FOK, post-only, market by cost, stop-loss-limit, STP', async (t) => {
    await maker.rest.createOrder(SYMBOL, 'limit', 'sell', 1, 2500);
    const ioc = await taker.rest.createOrder(SYMBOL, 'limit', 'buy', 2, 2500, { timeInForce: 'IOC' });
    t.equal(ioc.filled, 1);
    t.equal(ioc.status, 'expired');
    await t.rejects(
      taker.rest.createOrder(SYMBOL, 'limit', 'buy', 2, 2500, { timeInForce: 'FOK' }),
      ccxt.InvalidOrder,
      'FOK that cannot fill',
    );
    await maker.rest.createOrder(SYMBOL, 'limit', 'sell', 1, 2600);
    await t.rejects(
      taker.rest.createOrder(SYMBOL, 'limit', 'buy', 0.1, 2600, { postOnly: true }),
      ccxt.OrderImmediatelyFillable,
    );
    const po = await taker.rest.createOrder(SYMBOL, 'limit', 'buy', 0.1, 1000, { postOnly: true });
    t.equal(po.type, 'limit');
    t.equal(po.postOnly, true);
    // Our quote budget includes the taker fee (20 bps): 0.0998 ETH at 2600 costs 259.48 plus 0.51896 fee.
    const byCost = await taker.rest.createMarketBuyOrderWithCost(SYMBOL, 260);
    t.equal(byCost.filled, 0.0998);
    t.equal(byCost.cost, 259.48);
    const stop = await maker.rest.createOrder(SYMBOL, 'limit', 'sell', 0.2, 1500, { stopLossPrice: 1600 });
    t.equal(stop.status, 'open');
    const stp = await maker.rest.createOrder(SYMBOL, 'limit', 'buy', 0.3, 2600, {
      selfTradePreventionMode: 'EXPIRE_TAKER',
    });
    t.equal(stp.status, 'expired', 'the taker expired instead of trading with its own ask');
    const n = await maker.rest.cancelAllOrders(SYMBOL);
    t.ok(n.length >= 2);
    t.equal((await maker.rest.fetchOpenOrders(SYMBOL)).length, 0);
  });

  await t.test('ccxt.pro: the book stays in sync through a burst, every trade, own orders and balances', async (t) => {
    const book = await taker.pro.watchOrderBook(SYMBOL);
    const seenTrades: string[] = [];
    const seenOrders = new Set<string>();
    let balanceUpdates = 0;
    let running = true;
    const watchers = [
      (async () => {
        while (running)
          for (const x of await taker.pro.watchTrades(SYMBOL)) if (!seenTrades.includes(x.id!)) seenTrades.push(x.id!);
      })(),
      (async () => {
        while (running) for (const o of await maker.pro.watchOrders(SYMBOL)) seenOrders.add(o.id!);
      })(),
      (async () => {
        while (running) {
          await maker.pro.watchBalance();
          balanceUpdates++;
        }
      })(),
      (async () => {
        while (running) await taker.pro.watchOrderBook(SYMBOL);
      })(),
    ];
    await new Promise((r) => setTimeout(r, 500));
    const placed: string[] = [];
    for (let i = 0; i < 30; i++) {
      const o = await maker.rest.createOrder(
        SYMBOL,
        'limit',
        i % 2 === 0 ? 'sell' : 'buy',
        0.01 * (1 + (i % 3)),
        i % 2 === 0 ? 2000 + i : 1900 - i,
      );
      placed.push(o.id!);
      if (i % 5 === 4) await taker.rest.createOrder(SYMBOL, 'market', 'buy', 0.01);
    }
    await settled(stack);
    const ourTrades = (await stack.http('GET', '/v1/trades?limit=500', { token: taker.token })).json.trades.map(
      (x: any) => String(x.tradeId),
    );
    await waitFor(
      async () =>
        placed.every((id) => seenOrders.has(id)) &&
        ourTrades.slice(0, 6).every((id: string) => seenTrades.includes(id)),
      WAIT_MS,
      () => `watchers: orders ${seenOrders.size}, trades ${seenTrades.length}`,
    );
    const ourBook = (await stack.http('GET', '/v1/markets/ETH-USDT/depth?limit=1000')).json;
    await waitFor(
      async () => book.nonce === ourBook.seq,
      WAIT_MS,
      () => `book nonce ${book.nonce} vs ${ourBook.seq}`,
    );
    t.same(
      book.asks.map(([p, q]) => [p, q]),
      ourBook.asks.map(([p, q]: [string, string]) => [Number(p), Number(q)]),
      'asks equal',
    );
    t.same(
      book.bids.map(([p, q]) => [p, q]),
      ourBook.bids.map(([p, q]: [string, string]) => [Number(p), Number(q)]),
      'bids equal',
    );
    t.ok(balanceUpdates > 0, 'watchBalance saw updates');
    running = false;
    await maker.rest.cancelAllOrders(SYMBOL).catch(() => undefined);
    await Promise.race([Promise.allSettled(watchers), new Promise((r) => setTimeout(r, 1000))]);
  });

  await t.test('a market-making loop conserves balances to the base unit', async (t) => {
    await settled(stack);
    const total = async () => {
      const sum = new Map<string, bigint>();
      for (const u of [maker, taker]) {
        for (const b of (await stack.http('GET', '/v1/balances', { token: u.token })).json.balances) {
          const d = b.asset === 'ETH' ? 18 : 6;
          const units = [b.available, b.held, b.pending].reduce((s: bigint, x: string) => s + toUnits(x, d), 0n);
          sum.set(b.asset, (sum.get(b.asset) ?? 0n) + units);
        }
      }
      return sum;
    };
    const fees = async () => {
      let f = 0n;
      for (const u of [maker, taker]) {
        for (let before: number | null = null, first = true; first || before !== null; first = false) {
          const page: { trades: { fee: string }[]; nextBefore: number | null } = (
            await stack.http('GET', `/v1/trades?limit=500${before === null ? '' : `&before=${before}`}`, {
              token: u.token,
            })
          ).json;
          for (const tr of page.trades) f += toUnits(tr.fee, 6);
          before = page.nextBefore;
        }
      }
      return f;
    };
    const before = await total();
    const feesBefore = await fees();
    const end = Date.now() + LOOP_MS;
    let i = 0;
    while (Date.now() < end) {
      // Paced as bots under the venue's rate limit would be: both users call from one address, and the per-IP
      // limit (1,200 a minute) counts every request; a round is about 3.25 requests.
      const next = Date.now() + ROUND_MS;
      const mid = 2000 + (i % 7);
      await maker.rest.createOrder(SYMBOL, 'limit', 'sell', 0.05, mid + 1);
      await maker.rest.createOrder(SYMBOL, 'limit', 'buy', 0.05, mid - 1);
      await taker.rest.createOrder(SYMBOL, 'market', i % 2 === 0 ? 'buy' : 'sell', 0.03).catch(() => undefined);
      if (i % 4 === 3) await maker.rest.cancelAllOrders(SYMBOL).catch(() => undefined);
      i++;
      await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
    }
    await maker.rest.cancelAllOrders(SYMBOL).catch(() => undefined);
    await settled(stack);
    const after = await total();
    const feesAfter = await fees();
    t.equal(after.get('ETH'), before.get('ETH'), 'ETH conserved to the wei');
    t.equal(
      (after.get('USDT') as bigint) + (feesAfter - feesBefore),
      before.get('USDT'),
      'USDT conserved, fees included',
    );
    t.ok(i > 3, `${i} rounds`);
  });
});

function toUnits(text: string, decimals: number): bigint {
  const [w, f = ''] = text.split('.');
  return BigInt(w + f.padEnd(decimals, '0'));
}
