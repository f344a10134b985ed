// Market data on real PostgreSQL and Redis, fed by a real engine. Persistence writes the first part of a seeded
// stream into PostgreSQL; the plugin starts from there (open orders at the stored position) and reads the rest
// from an in-memory events source, then more commands arrive live. Checked: depth = the engine's book (REST and a
// WebSocket client applying snapshot + deltas), markets/assets/trades/ticker/candles against the stream, the
// private channel (own events only, refused without authentication), a gap rebuilt from PostgreSQL, a slow
// client disconnected, a relay instance fed through Redis, and fuzzed WebSocket messages and query strings
// (never a crash, never a 5xx). MD_SEED=<n> replays a seed.

import { randomBytes } from 'node:crypto';
import t from 'tap';
import pino from 'pino';
import { Redis } from 'ioredis';
import type { FastifyInstance } from 'fastify';
import { Engine } from '../../engine/core/index.js';
import type { Command, EngineEvent } from '../../engine/core/index.js';
import { Compile } from 'typebox/compile';
import { PersistenceConsumer } from '../../persistence/consumer.js';
import { ArrayEventSource as PersistenceSource } from '../../persistence/array-source.js';
import { migratePersistence } from '../../persistence/state.js';
import { ArrayEventSource } from '../../gateway/market-data/source.js';
import type { EventRecord, MarketEventSource } from '../../gateway/market-data/source.js';
import { WS_ERRORS } from '../../gateway/market-data/errors.js';
import { ServerMessages } from '../../gateway/market-data/schemas.js';
import { formatLots, formatPriceTicks, formatQuote } from '../../gateway/units.js';
import type { MarketInfo } from '../../gateway/units.js';
import { Prng } from '../../testkit/prng.js';
import { createTestDatabase } from '../../testkit/pg.js';
import { START_MS, richStream } from '../persistence/rich-stream.js';
import { ClientBook, REDIS_URL, TestClient, buildApp, engineDepth, waitFor } from './market-data-support.js';

const SEED = Number(process.env.MD_SEED ?? 20251);
const SYMBOL = 'BTC-USDC';
const MARKET = 1;
const TICK = 10_000n;
const LOT = 1_000_000n;

const db = await createTestDatabase('md');
t.teardown(() => db.drop());
await migratePersistence(db.sql);
const redis = new Redis(REDIS_URL, { lazyConnect: false });
const prefix = `mdtest:${process.pid}:${randomBytes(4).toString('hex')}:`;
t.teardown(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

// The stream: the first STORED records persisted, the rest only on the events source. STORED is where the book
// is deepest, so the bootstrap from PostgreSQL has many resting orders to load.
const s = richStream(SEED, 1500);
const engine: Engine = s.engine;
const STORED = deepestPoint(s.commands, 600, 1300);

function deepestPoint(commands: Command[], from: number, to: number): number {
  const e = new Engine();
  let best = from;
  let bestOrders = -1;
  commands.forEach((c, i) => {
    e.apply(c);
    if (i + 1 >= from && i + 1 <= to && e.orders.size > bestOrders) {
      bestOrders = e.orders.size;
      best = i + 1;
    }
  });
  return best;
}
await new PersistenceConsumer({
  sql: db.sql,
  source: new PersistenceSource(s.records.slice(0, STORED)),
  logger: pino({ level: 'silent' }),
  batchRecordsMax: 200,
}).run();
const storedEvents = s.records.slice(0, STORED).flatMap((r) => r.events);
const storedTrades = storedEvents.filter((e): e is Extract<EngineEvent, { type: 'trade' }> => e.type === 'trade');
const nowMs = storedEvents[storedEvents.length - 1].timeMs + 1;

const sources: ArrayEventSource[] = [];
const apps: FastifyInstance[] = [];
async function start(app: FastifyInstance): Promise<string> {
  apps.push(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address() as { port: number };
  return `ws://127.0.0.1:${addr.port}/v1/ws`;
}
t.teardown(async () => {
  for (const app of apps) await app.close();
});

/** Events from the start of the topic, for a new consuming instance. */
function newSource(): ArrayEventSource {
  const src = new ArrayEventSource(s.records, 100);
  sources.push(src);
  return src;
}

const main = newSource();
const app = await buildApp({
  sql: db.sql,
  redis,
  prefix,
  events: main,
  nowMs: () => nowMs,
  limits: { messagesPerSecMax: 100_000 },
});
const url = await start(app);
const caughtUp = (a: FastifyInstance) => () => a.marketData.status().lastSeq === engine.eventSeq;
await waitFor('the first instance to catch up', caughtUp(app));
const market = app.marketData.feed.view?.markets.get(MARKET) as MarketInfo;

// Live commands: limit orders around the last price, market orders and cancels from the seeded users.
const rng = new Prng(SEED);
let liveId = 0;
let timeMs = engine.lastTimeMs + 1000;
const owners = new Map<number, number>([...engine.orders.values()].map((o) => [o.orderId, o.userId]));
function liveCommand(): Command {
  // 1.5 s apart: the live commands span many candles.
  const base = { v: 1 as const, id: `live-${liveId++}`, timeMs: (timeMs += 1500) };
  const userId = rng.int(1, 12);
  const r = rng.float();
  const open = [...engine.orders.keys()];
  if (r < 0.2 && open.length > 0) {
    const o = engine.orders.get(rng.pick(open));
    if (o !== undefined) return { ...base, type: 'cancelOrder', userId: o.userId, orderId: o.orderId };
  }
  const side = rng.chance(0.5) ? 'buy' : 'sell';
  const quantity = BigInt(rng.int(1, 20)) * LOT;
  if (r < 0.3) return { ...base, type: 'placeOrder', userId, marketId: MARKET, side, orderType: 'market', quantity };
  const priceTicks = 2000 + (side === 'buy' ? -1 : 1) * (rng.int(0, 25) - 5);
  return {
    ...base,
    type: 'placeOrder',
    userId,
    marketId: MARKET,
    side,
    orderType: 'limit',
    price: BigInt(priceTicks) * TICK,
    quantity,
  };
}
const liveEvents: EngineEvent[] = [];
async function live(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const events = engine.apply(liveCommand());
    for (const e of events) if (e.type === 'orderAccepted') owners.set(e.orderId, e.userId);
    liveEvents.push(...events);
    for (const src of sources) src.append(events);
  }
}

const fmtDepth = (levels: readonly (readonly [number, number])[]) =>
  levels.map(([p, l]) => [formatPriceTicks(p, market), formatLots(l, market)]);
const engineBookText = () => {
  const d = engineDepth(engine, MARKET);
  return { bids: fmtDepth(d.bids), asks: fmtDepth(d.asks) };
};

t.test(
  'REST: markets, assets and depth from a state built at the stored position and read on from there',
  async (t) => {
    const markets = (await app.inject('/v1/markets')).json();
    t.same(markets.markets, [
      {
        marketId: 1,
        symbol: SYMBOL,
        baseAsset: 'BTC',
        quoteAsset: 'USDC',
        baseDecimals: 8,
        quoteDecimals: 6,
        tickSize: '0.01',
        lotSize: '0.01',
        minNotional: '0.001',
        makerFeeBps: 10,
        takerFeeBps: 25,
      },
    ]);
    t.same((await app.inject('/v1/assets')).json().assets, [
      { assetId: 1, symbol: 'BTC', decimals: 8 },
      { assetId: 2, symbol: 'USDC', decimals: 6 },
    ]);
    const depth = (await app.inject(`/v1/markets/${SYMBOL}/depth?limit=5000`)).json();
    t.same({ bids: depth.bids, asks: depth.asks }, engineBookText(), 'depth = the engine book');
    t.equal(depth.seq, app.marketData.feed.view?.books.get(MARKET)?.seq, 'with the book sequence number');
    const top = (await app.inject(`/v1/markets/${SYMBOL}/depth?limit=2`)).json();
    t.same(top.bids, depth.bids.slice(0, 2), 'limit keeps the best levels');
    const stored = await db.sql`SELECT count(*)::int AS n FROM orders WHERE status IN ('new', 'partiallyFilled')`;
    t.ok(stored[0].n >= 10, `the bootstrap loaded ${stored[0].n} resting orders from PostgreSQL`);
  },
);

t.test('REST: trades, ticker and candles from the stored trades', async (t) => {
  const trades = (await app.inject(`/v1/markets/${SYMBOL}/trades?limit=50`)).json();
  const want = storedTrades.slice(-50).reverse();
  t.same(
    trades.trades.map((x: { tradeId: number }) => x.tradeId),
    want.map((x) => x.tradeId),
    'newest first',
  );
  t.same(trades.trades[0], {
    tradeId: want[0].tradeId,
    seq: want[0].seq,
    price: formatPriceTicks(want[0].priceTicks, market),
    quantity: formatLots(want[0].qtyLots, market),
    quoteAmount: formatQuote(want[0].quoteAmount, market),
    takerSide: want[0].takerSide,
    timeMs: want[0].timeMs,
  });
  const page2 = (await app.inject(`/v1/markets/${SYMBOL}/trades?limit=10&beforeTradeId=${want[49].tradeId}`)).json();
  t.same(
    page2.trades.map((x: { tradeId: number }) => x.tradeId),
    storedTrades
      .slice(-60, -50)
      .reverse()
      .map((x) => x.tradeId),
    'paging by beforeTradeId',
  );

  const tick = (await app.inject(`/v1/markets/${SYMBOL}/ticker`)).json();
  const prices = storedTrades.map((x) => x.priceTicks);
  t.equal(tick.tradeCount, storedTrades.length, 'every stored trade is within 24 h');
  t.equal(tick.open, formatPriceTicks(prices[0], market));
  t.equal(tick.lastPrice, formatPriceTicks(prices[prices.length - 1], market));
  t.equal(tick.high, formatPriceTicks(Math.max(...prices), market));
  t.equal(tick.low, formatPriceTicks(Math.min(...prices), market));
  t.equal(
    tick.volume,
    formatLots(
      storedTrades.reduce((n, x) => n + x.qtyLots, 0),
      market,
    ),
  );
  t.equal(
    tick.quoteVolume,
    formatQuote(
      storedTrades.reduce((n, x) => n + x.quoteAmount, 0n),
      market,
    ),
  );
  t.equal(tick.bestBid, engineBookText().bids[0]?.[0] ?? null, 'best bid from the live book');

  const from = START_MS;
  const to = START_MS + 60 * 60_000;
  const candles = (await app.inject(`/v1/markets/${SYMBOL}/candles?interval=1m&from=${from}&to=${to}`)).json();
  const buckets = new Map<number, typeof storedTrades>();
  for (const x of storedTrades) {
    const b = x.timeMs - (x.timeMs % 60_000);
    buckets.set(b, [...(buckets.get(b) ?? []), x]);
  }
  const expected = [...buckets]
    .sort((a, b) => a[0] - b[0])
    .map(([b, xs]) => ({
      openTimeMs: b,
      open: formatPriceTicks(xs[0].priceTicks, market),
      high: formatPriceTicks(Math.max(...xs.map((x) => x.priceTicks)), market),
      low: formatPriceTicks(Math.min(...xs.map((x) => x.priceTicks)), market),
      close: formatPriceTicks(xs[xs.length - 1].priceTicks, market),
      volume: formatLots(
        xs.reduce((n, x) => n + x.qtyLots, 0),
        market,
      ),
      quoteVolume: formatQuote(
        xs.reduce((n, x) => n + x.quoteAmount, 0n),
        market,
      ),
      tradeCount: xs.length,
    }));
  t.same(candles.candles, expected, 'candles = the trades bucketed by minute');
  const d1 = (await app.inject(`/v1/markets/${SYMBOL}/candles?interval=1d&from=${from}&to=${to}`)).json();
  t.equal(d1.candles[0]?.tradeCount, storedTrades.length, 'one daily candle holds them all');
  const tooMany = await app.inject(`/v1/markets/${SYMBOL}/candles?interval=1m&from=0&to=${to}`);
  t.equal(tooMany.statusCode, 400);
  t.equal(tooMany.json().code, 'EX_BAD_REQUEST');
  const unknown = await app.inject('/v1/markets/NOPE-USD/depth');
  t.equal(unknown.statusCode, 404);
  t.equal(unknown.json().code, 'EX_MARKET_UNKNOWN');
});

const validators = Object.fromEntries(Object.entries(ServerMessages).map(([k, v]) => [k, Compile(v)]));
const conforms = (msgs: Record<string, unknown>[]) =>
  msgs.every((m) => validators[m.type as keyof typeof validators]?.Check(m) ?? false);

t.test(
  'WebSocket: a snapshot then deltas whose application equals the engine book; trades; the user channel',
  async (t) => {
    const depth = await TestClient.open(url);
    const trades = await TestClient.open(url);
    const user1 = await TestClient.open(url, 1);
    const user2 = await TestClient.open(url, 2);
    const anon = await TestClient.open(url);
    t.teardown(async () => Promise.all([depth, trades, user1, user2, anon].map((c) => c.close())));
    depth.send({ op: 'subscribe', channel: `depth:${SYMBOL}`, id: 1 });
    trades.send({ op: 'subscribe', channel: `trades:${SYMBOL}`, id: 'a' });
    user1.send({ op: 'subscribe', channel: 'user' });
    user2.send({ op: 'subscribe', channel: 'user' });
    anon.send({ op: 'subscribe', channel: 'user', id: 9 });
    await waitFor(
      'subscriptions',
      () =>
        depth.of('depthSnapshot').length === 1 &&
        trades.of('subscribed').length === 1 &&
        user1.of('subscribed').length === 1 &&
        user2.of('subscribed').length === 1 &&
        anon.messages.length === 1,
    );
    t.match(
      anon.messages[0],
      { type: 'error', code: 'MARKET_DATA_WS_UNAUTHENTICATED', id: 9 },
      'the user channel is refused without authentication',
    );
    t.match(depth.messages[0], { type: 'subscribed', channel: `depth:${SYMBOL}`, id: 1 });

    const book = new ClientBook();
    book.load(depth.of('depthSnapshot')[0] as never);
    t.same(book.sorted(), engineBookText(), 'the snapshot is the engine book');
    const firstLive = liveEvents.length;
    await live(400);
    await waitFor('the instance to apply the live commands', caughtUp(app));
    const target = app.marketData.feed.view?.books.get(MARKET)?.seq;
    await waitFor('the last delta', () => depth.of('depth').some((m) => m.seq === target));
    for (const m of depth.of('depth')) book.apply(m as never);
    t.equal(book.gaps, 0, 'every delta continues the previous one (prevSeq = seq before)');
    t.same(book.sorted(), engineBookText(), 'snapshot + deltas = the engine book');
    t.ok(depth.of('depth').length > 100, `${depth.of('depth').length} deltas`);

    const tradeEvents = liveEvents.slice(firstLive).filter((e) => e.type === 'trade');
    await waitFor('every live trade', () => trades.of('trade').length === tradeEvents.length);
    t.same(
      trades.of('trade').map((m) => m.tradeId),
      tradeEvents.map((e) => (e as { tradeId: number }).tradeId),
      'every trade, in order',
    );

    const expectedFor = (userId: number) =>
      liveEvents
        .slice(firstLive)
        .filter((e) => {
          if (e.type === 'trade') return e.makerUserId === userId || e.takerUserId === userId;
          if (e.type === 'orderRested' || e.type === 'orderTriggered') return owners.get(e.orderId) === userId;
          return 'userId' in e && e.userId === userId;
        })
        .map((e) => `${e.seq}:${e.type}`);
    for (const [client, userId] of [
      [user1, 1],
      [user2, 2],
    ] as const) {
      const want = expectedFor(userId);
      await waitFor(`user ${userId}'s events`, () => client.of('user').length >= want.length);
      t.same(
        client.of('user').map((m) => `${m.seq}:${m.event}`),
        want,
        `user ${userId} gets exactly its own ${want.length} events`,
      );
    }
    t.ok(
      conforms([...depth.messages, ...trades.messages, ...user1.messages, ...anon.messages]),
      'every message matches its documented schema',
    );
    const fill = user1.of('user').find((m) => m.event === 'trade');
    if (fill !== undefined) t.match(fill, { liquidity: /^(maker|taker)$/, price: /^\d+(\.\d+)?$/, feeAsset: 'USDC' });
  },
);

t.test('a relay instance, fed through Redis only, streams the same book', async (t) => {
  const relay = await buildApp({ sql: db.sql, redis, prefix, limits: { resyncPollMs: 50 } });
  const relayUrl = await start(relay);
  await waitFor('the relay to read the meta', () => relay.marketData.status().ready);
  const c = await TestClient.open(relayUrl);
  const u1 = await TestClient.open(relayUrl, 1);
  t.teardown(async () => Promise.all([c.close(), u1.close()]));
  u1.send({ op: 'subscribe', channel: 'user' });
  // The relay's book appears with the publisher's next snapshot (written at most every second).
  await waitFor('the relay book', () => (relay.marketData.feed.view?.books.get(MARKET)?.seq ?? -1) >= 0);
  c.send({ op: 'subscribe', channel: `depth:${SYMBOL}` });
  await waitFor('the relay snapshot', () => c.of('depthSnapshot').length >= 1);
  const firstLive = liveEvents.length;
  await live(300);
  await waitFor('the publisher', caughtUp(app));
  const target = app.marketData.feed.view?.books.get(MARKET)?.seq;
  await waitFor(
    'the relay to pass on the last delta',
    () => c.of('depth').some((m) => m.seq === target) || c.of('depthSnapshot').some((m) => m.seq === target),
  );
  const book = new ClientBook();
  for (const m of c.messages) {
    if (m.type === 'depthSnapshot') book.load(m as never);
    if (m.type === 'depth') book.apply(m as never);
  }
  t.equal(book.gaps, 0, 'no gap');
  t.same(book.sorted(), engineBookText(), 'relay snapshot + deltas = the engine book');
  const own = liveEvents
    .slice(firstLive)
    .filter(
      (e) =>
        ('userId' in e && e.userId === 1) ||
        (e.type === 'trade' && (e.makerUserId === 1 || e.takerUserId === 1)) ||
        ((e.type === 'orderRested' || e.type === 'orderTriggered') && owners.get(e.orderId) === 1),
    );
  await waitFor('user 1 on the relay', () => u1.of('user').length >= own.length);
  t.same(
    u1.of('user').map((m) => m.seq),
    own.map((e) => e.seq),
    "the relay passes on user 1's own events only",
  );
  t.equal(
    (await relay.inject(`/v1/markets/${SYMBOL}/depth?limit=5000`)).json().seq,
    target,
    "the relay answers depth at the publisher's seq",
  );
});

/** Delivers the records with one missing the first time (a gap), all of them on the next read. */
class HoleSource implements MarketEventSource {
  private reads = 0;
  private stopped = false;
  private wake: (() => void) | null = null;
  constructor(
    private readonly records: EventRecord[],
    private readonly holeOffset: number,
  ) {}
  async consume(afterOffset: number, onBatch: (records: EventRecord[]) => Promise<void>): Promise<void> {
    const read = this.reads++;
    for (const r of this.records) {
      if (this.stopped) return;
      if (r.offset <= afterOffset || (read === 0 && r.offset === this.holeOffset)) continue;
      await onBatch([r]);
    }
    await new Promise<void>((resolve) => (this.wake = resolve));
  }
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
  }
}

t.test(
  'a gap in the events is detected; the state is rebuilt from PostgreSQL and clients get a new snapshot',
  async (t) => {
    const all: EventRecord[] = [
      ...s.records,
      ...regroup(liveEvents).map((events, i) => ({ offset: s.records.length + i, events })),
    ];
    const hole = new HoleSource(all, STORED + 50);
    // Without Redis: a single instance that reads the events itself needs no relay (the embedded exchange's mode).
    const gapApp = await buildApp({ sql: db.sql, events: hole, publish: false, limits: { retryDelayMs: 50 } });
    const gapUrl = await start(gapApp);
    await waitFor('the rebuild and catch-up', () => gapApp.marketData.status().rebuilds >= 1 && caughtUp(gapApp)());
    t.ok(gapApp.marketData.status().rebuilds >= 1, 'the gap made the instance rebuild its state');
    const depth = (await gapApp.inject(`/v1/markets/${SYMBOL}/depth?limit=5000`)).json();
    t.same({ bids: depth.bids, asks: depth.asks }, engineBookText(), 'after the rebuild the book is the engine book');
    const c = await TestClient.open(gapUrl);
    t.teardown(() => c.close());
    c.send({ op: 'subscribe', channel: `depth:${SYMBOL}` });
    await waitFor('snapshot', () => c.of('depthSnapshot').length === 1);
    t.equal(c.of('depthSnapshot')[0].seq, depth.seq, 'the WebSocket snapshot agrees with REST');
  },
);

t.test('a slow WebSocket client is disconnected with a reason; memory stays bounded', async (t) => {
  const slowSource = newSource();
  const slowApp = await buildApp({
    sql: db.sql,
    redis,
    prefix: `${prefix}slow:`,
    events: slowSource,
    publish: false,
    limits: { sendBacklogBytesMax: 64 * 1024, closeTimeoutMs: 120_000 },
  });
  const slowUrl = await start(slowApp);
  // A new instance reads the whole topic: the live commands applied so far too.
  for (const r of regroup(liveEvents)) slowSource.append(r);
  await waitFor('the slow instance to catch up', caughtUp(slowApp));
  const slow = await TestClient.open(slowUrl);
  const fast = await TestClient.open(slowUrl);
  t.teardown(async () => Promise.all([slow.close(), fast.close()]));
  slow.send({ op: 'subscribe', channel: `depth:${SYMBOL}` });
  slow.send({ op: 'subscribe', channel: `trades:${SYMBOL}` });
  fast.send({ op: 'subscribe', channel: `trades:${SYMBOL}` });
  await waitFor('subscriptions', () => slow.of('subscribed').length === 2 && fast.of('subscribed').length === 1);
  // The slow client stops reading: its kernel buffers fill, then the server's backlog grows past the limit.
  (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
  for (let round = 0; round < 400 && slowApp.marketData.status().ws.slowConsumerDisconnects === 0; round++) {
    await live(250);
    await new Promise((r) => setImmediate(r));
    await waitFor('the instances to apply', () => caughtUp(slowApp)() && caughtUp(app)());
  }
  t.equal(slowApp.marketData.status().ws.slowConsumerDisconnects, 1, 'the slow client was disconnected');
  t.equal(slowApp.marketData.status().ws.connections, 1, 'the other client stays');
  (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
  await waitFor('the close frame to arrive', () => slow.closeCode !== null, 60_000);
  t.equal(slow.closeCode, 4000, 'close code 4000');
  t.match(slow.closeReason, /^MARKET_DATA_WS_SLOW_CONSUMER/);
  t.equal(fast.closeCode, null, 'the client that reads is still connected');
});

/** The live events regrouped into one record per command. */
function regroup(events: EngineEvent[]): EngineEvent[][] {
  const out: EngineEvent[][] = [];
  let cur: EngineEvent[] = [];
  for (const e of events) {
    cur.push(e);
    if (e.type === 'commandResult') {
      out.push(cur);
      cur = [];
    }
  }
  return out;
}

t.test('fuzz: malformed WebSocket messages get error messages and the connection stays', async (t) => {
  const prng = new Prng(SEED + 7);
  const c = await TestClient.open(url);
  t.teardown(() => c.close());
  const junk: (string | Buffer)[] = [];
  const values = [null, true, 1, -1, 1.5, 'x', [], {}, { op: 1 }, '\u0000', 2 ** 60];
  for (let i = 0; i < 300; i++) {
    const r = prng.int(0, 9);
    if (r === 0) junk.push(randomBytes(prng.int(0, 64)).toString('latin1'));
    else if (r === 1) junk.push(Buffer.from(randomBytes(prng.int(1, 32))));
    else if (r === 2) junk.push(JSON.stringify(prng.pick(values)));
    else if (r === 3)
      junk.push(
        JSON.stringify({
          op: prng.pick(['subscribe', 'SUBSCRIBE', 'sub', '', 'ping', 'unsubscribe']),
          channel: prng.pick(values),
          id: prng.pick(values),
        }),
      );
    else if (r === 4)
      junk.push(
        JSON.stringify({
          op: 'subscribe',
          channel: prng.pick([
            'depth:',
            'depth:nope',
            'trades:BTC-USDT',
            'user',
            'depth:' + 'A'.repeat(40),
            'x:y',
            '💥',
          ]),
        }),
      );
    else if (r === 5) junk.push(JSON.stringify({ op: 'subscribe', channel: `depth:${SYMBOL}`, extra: 1 }));
    else if (r === 6) junk.push('x'.repeat(prng.int(4097, 20_000)));
    else if (r === 7) junk.push('{"op":"subscribe","channel":' + '['.repeat(prng.int(1, 500)));
    else if (r === 8)
      junk.push(JSON.stringify({ op: 'subscribe', channel: `depth:${SYMBOL}`, id: 'i'.repeat(prng.int(65, 100)) }));
    else junk.push(JSON.stringify({ __proto__: { op: 'ping' }, constructor: { prototype: { op: 'ping' } } }));
  }
  for (const j of junk) c.ws.send(j, { binary: Buffer.isBuffer(j) });
  await waitFor('an answer to every message', () => c.messages.length >= junk.length);
  const errors = c.messages.filter((m) => m.type === 'error');
  t.equal(c.messages.length, junk.length, 'exactly one answer per message');
  t.ok(errors.length >= junk.length * 0.8, `${errors.length} errors`);
  t.ok(
    errors.every((m) => Object.hasOwn(WS_ERRORS, m.code as string)),
    'every error has a documented code',
  );
  t.ok(conforms(c.messages), 'every answer matches its schema');
  c.send({ op: 'ping', id: 42 });
  await waitFor('pong', () => c.of('pong').length === 1);
  t.equal(c.closeCode, null, 'the connection is still open');
});

t.test('fuzz: query strings and paths never give a 5xx', async (t) => {
  const prng = new Prng(SEED + 8);
  const paths = [
    '/v1/markets',
    '/v1/assets',
    `/v1/markets/${SYMBOL}/depth`,
    `/v1/markets/${SYMBOL}/trades`,
    `/v1/markets/${SYMBOL}/ticker`,
    `/v1/markets/${SYMBOL}/candles`,
    '/v1/markets/%ZZ/depth',
    '/v1/markets/btc-usdc/trades',
    `/v1/markets/${'A'.repeat(200)}/ticker`,
  ];
  const keys = ['limit', 'interval', 'from', 'to', 'beforeTradeId', 'x', '__proto__', 'limit[]', 'constructor'];
  const vals = [
    '',
    '0',
    '-1',
    '1',
    '100',
    '5001',
    '1e3',
    '0x10',
    'abc',
    '1m',
    '5m',
    '1h',
    '1d',
    '2m',
    '9007199254740993',
    '%00',
    '%ZZ',
    '1.5',
    'null',
    '[]',
    String(START_MS),
    String(2 ** 48),
  ];
  const statuses = new Map<number, number>();
  for (let i = 0; i < 600; i++) {
    const q = Array.from({ length: prng.int(0, 4) }, () => `${prng.pick(keys)}=${prng.pick(vals)}`).join('&');
    const res = await app.inject(`${prng.pick(paths)}${q === '' ? '' : '?' + q}`);
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
    if (res.statusCode >= 500) t.fail(`${res.statusCode} for ${q}: ${res.body}`);
    if (res.statusCode >= 400) t.match(res.json(), { code: /^EX_/ }, 'an error has a code');
  }
  t.ok(![...statuses.keys()].some((s) => s >= 500), `statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
  t.ok((statuses.get(200) ?? 0) > 20 && (statuses.get(400) ?? 0) > 100, 'both good and bad requests were made');
});

t.test('candles over many intervals once persistence has stored the live trades too', async (t) => {
  const all = [
    ...s.records,
    ...regroup(liveEvents).map((events, i) => ({ offset: s.records.length + i, timestampMs: 0, events })),
  ];
  await new PersistenceConsumer({
    sql: db.sql,
    source: new PersistenceSource(all),
    logger: pino({ level: 'silent' }),
    batchRecordsMax: 500,
  }).run();
  const trades = all
    .flatMap((r) => r.events)
    .filter((e): e is Extract<EngineEvent, { type: 'trade' }> => e.type === 'trade');
  const from = trades[0].timeMs;
  const to = trades[trades.length - 1].timeMs + 1;
  for (const [interval, ms] of [
    ['1m', 60_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
  ] as const) {
    const res = (await app.inject(`/v1/markets/${SYMBOL}/candles?interval=${interval}&from=${from}&to=${to}`)).json();
    const buckets = new Map<number, typeof trades>();
    for (const x of trades)
      buckets.set(x.timeMs - (x.timeMs % ms), [...(buckets.get(x.timeMs - (x.timeMs % ms)) ?? []), x]);
    const want = [...buckets]
      .sort((a, b) => a[0] - b[0])
      .map(([b, xs]) => ({
        openTimeMs: b,
        open: formatPriceTicks(xs[0].priceTicks, market),
        high: formatPriceTicks(Math.max(...xs.map((x) => x.priceTicks)), market),
        low: formatPriceTicks(Math.min(...xs.map((x) => x.priceTicks)), market),
        close: formatPriceTicks(xs[xs.length - 1].priceTicks, market),
        volume: formatLots(
          xs.reduce((n, x) => n + x.qtyLots, 0),
          market,
        ),
        quoteVolume: formatQuote(
          xs.reduce((n, x) => n + x.quoteAmount, 0n),
          market,
        ),
        tradeCount: xs.length,
      }));
    t.same(res.candles, want, `${interval}: ${want.length} candles = the trades bucketed`);
    if (interval !== '1h') t.ok(want.length >= 3, `${interval} spans several candles`);
  }
});
