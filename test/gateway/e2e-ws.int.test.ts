// The WebSocket streams end to end, every part real and every service a process (e2e-stack.ts: Kafka broker,
// engine daemon, persistence consumer, gateway/main.ts on PostgreSQL and Redis). Two users each hold an
// authenticated /v1/ws connection (alice with her session token, bob with a signed API-key upgrade request),
// subscribed to depth:ETH-USDT, trades:ETH-USDT and user before anything happens to them; they are credited by
// deposit commands and trade against each other over HTTP. Then:
// - each user channel carries exactly that user's events, in order, as the events topic has them (read here with
//   a consumer of our own, independently of the gateway), and none of the other user's;
// - the last balanceChanged of each asset equals GET /v1/balances, and the fills carry each side's role and fee;
// - the trades channel has every trade with its exact price and quantity strings;
// - on each connection the depth snapshot and its deltas chain with no gap and end equal to REST depth (and the
//   book the orders leave).

import { randomUUID } from 'node:crypto';
import t from 'tap';
import { WebSocket } from 'ws';
import { Compile } from 'typebox/compile';
import type { EngineEvent } from '../../engine/core/events.js';
import { decodeEventRecord } from '../../engine/wire/codec.js';
import { ServerMessages } from '../../gateway/market-data/schemas.js';
import { waitFor } from '../daemon/recovery-support.js';
import { ClientBook } from './market-data-support.js';
import { SETUP_COMMANDS, WAIT_MS, registerUsers, startE2eStack, waitReady } from './e2e-stack.js';
import type { E2eStack } from './e2e-stack.js';
import { signRequest } from '../../testkit/signing-client.js';

const SYMBOL = 'ETH-USDT';
const CHANNELS = [`depth:${SYMBOL}`, `trades:${SYMBOL}`, 'user'];
/** Engine events the user channel carries (docs/market-data.md). */
const USER_EVENTS = new Set([
  'orderAccepted',
  'orderRejected',
  'orderRested',
  'orderTriggered',
  'orderPartiallyFilled',
  'orderFilled',
  'orderCanceled',
  'orderExpired',
  'orderAmended',
  'trade',
  'balanceChanged',
  'depositCredited',
  'withdrawalPending',
  'withdrawalCompleted',
  'withdrawalFailed',
]);

type Msg = Record<string, any>;

/** A WebSocket client that keeps every message it receives. */
class WsClient {
  readonly messages: Msg[] = [];
  closed: { code: number; reason: string } | null = null;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.messages.push(JSON.parse(data.toString()) as Msg));
    ws.on('close', (code, reason) => (this.closed = { code, reason: reason.toString() }));
  }

  static async open(url: string, headers: Record<string, string>): Promise<WsClient> {
    const ws = new WebSocket(url, { headers });
    const client = new WsClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }

  send(msg: unknown): void {
    this.ws.send(JSON.stringify(msg));
  }

  of(type: string): Msg[] {
    return this.messages.filter((m) => m.type === type);
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise((r) => this.ws.once('close', r));
    this.ws.close();
    await closed;
  }
}

/** Every event on the events topic, decoded, read from the beginning by a consumer group of our own. */
async function readEventsTopic(s: E2eStack, t: { teardown(fn: () => unknown): void }): Promise<EngineEvent[]> {
  const events: EngineEvent[] = [];
  const consumer = s.kafka.consumer({
    groupId: `e2e-ws-check.${randomUUID()}`,
    readUncommitted: false,
    maxWaitTimeInMs: 100,
  });
  await consumer.connect();
  t.teardown(() => consumer.disconnect());
  await consumer.subscribe({ topic: s.topics.eventsTopic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => void events.push(...decodeEventRecord(message.value ?? new Uint8Array(0))),
  });
  return events;
}

/** Subscribes to every channel and waits for the answers (the depth snapshot included). */
async function subscribeAll(c: WsClient): Promise<void> {
  CHANNELS.forEach((channel, id) => c.send({ op: 'subscribe', channel, id }));
  await waitFor(
    async () =>
      c.of('subscribed').length + c.of('error').length >= CHANNELS.length && c.of('depthSnapshot').length === 1,
    WAIT_MS,
    () => `subscriptions: ${JSON.stringify(c.messages)}`,
  );
}

/** A client's book from the connection's depth messages; gaps counted by ClientBook. */
function bookOf(c: WsClient): ClientBook {
  const book = new ClientBook();
  for (const m of c.messages) {
    if (m.type === 'depthSnapshot') book.load(m as never);
    if (m.type === 'depth') book.apply(m as never);
  }
  return book;
}

/** The events the user channel owes `userId`: its own, and the trades it is a side of. */
function expectedUserEvents(events: readonly EngineEvent[], userId: number): string[] {
  const owner = new Map<number, number>();
  const out: string[] = [];
  for (const e of events) {
    if (e.type === 'orderAccepted') owner.set(e.orderId, e.userId);
    if (!USER_EVENTS.has(e.type)) continue;
    const mine =
      e.type === 'trade'
        ? e.makerUserId === userId || e.takerUserId === userId
        : e.type === 'orderRested' || e.type === 'orderTriggered'
          ? owner.get(e.orderId) === userId
          : 'userId' in e && e.userId === userId;
    if (mine) out.push(`${e.seq}:${e.type}`);
  }
  return out;
}

const validators = Object.fromEntries(Object.entries(ServerMessages).map(([k, v]) => [k, Compile(v)]));

t.test('WebSocket streams end to end on Kafka', async (t) => {
  const s = await startE2eStack(t, 'e2e_ws');
  const topicEvents = await readEventsTopic(s, t);
  await s.send(SETUP_COMMANDS);
  await waitReady(s);
  // Market data builds its books from PostgreSQL and the events topic on its own; the market must be in them.
  await waitFor(
    async () => (await s.http('GET', `/v1/markets/${SYMBOL}/depth`)).status === 200,
    WAIT_MS,
    () => `market data ready: ${s.gateway.output().slice(-3000)}`,
  );

  const users = await registerUsers(s, ['alice', 'bob'] as const);
  t.same([users.alice.status, users.bob.status], [201, 201], 'both registered');
  const { alice, bob } = users;
  const key = await s.http('POST', '/v1/api-keys', { token: bob.token, body: { label: 'bob ws', scopes: ['read'] } });
  t.equal(key.status, 201, JSON.stringify(key.json));

  const wsUrl = `ws://127.0.0.1:${s.port}/v1/ws`;
  const aliceWs = await WsClient.open(wsUrl, { authorization: `Bearer ${alice.token}` });
  const bobWs = await WsClient.open(
    wsUrl,
    signRequest(key.json, { method: 'GET', url: '/v1/ws', body: '', timestampMs: Date.now() }),
  );
  const forged = await WsClient.open(wsUrl, {
    ...signRequest(key.json, { method: 'GET', url: '/v1/ws', body: '', timestampMs: Date.now() + 1 }),
    'x-signature': 'ab'.repeat(32),
  });
  t.teardown(() => Promise.all([aliceWs.close(), bobWs.close(), forged.close()]));
  await Promise.all([subscribeAll(aliceWs), subscribeAll(bobWs), subscribeAll(forged)]);
  for (const c of [aliceWs, bobWs])
    t.same(
      c
        .of('subscribed')
        .map((m) => m.channel)
        .sort(),
      [...CHANNELS].sort(),
      'subscribed to depth, trades and user',
    );
  t.match(
    forged.of('error'),
    [{ code: 'MARKET_DATA_WS_UNAUTHENTICATED', channel: 'user' }],
    'a bad signature is anonymous: no user channel',
  );
  t.same(
    aliceWs.of('depthSnapshot')[0],
    {
      type: 'depthSnapshot',
      channel: `depth:${SYMBOL}`,
      symbol: SYMBOL,
      seq: aliceWs.of('depthSnapshot')[0].seq,
      bids: [],
      asks: [],
    },
    'the book is empty at first',
  );

  await s.send([
    {
      v: 1,
      type: 'deposit',
      id: 'd1',
      userId: alice.userId,
      assetId: 1,
      amount: 2n * 10n ** 18n,
      depositId: 'chain:0x01:0',
    },
    {
      v: 1,
      type: 'deposit',
      id: 'd2',
      userId: bob.userId,
      assetId: 2,
      amount: 5_000_000_000n,
      depositId: 'chain:0x02:0',
    },
  ]);
  const balances = async (token: string) =>
    (await s.http('GET', '/v1/balances', { token })).json.balances as {
      asset: string;
      available: string;
      held: string;
      pending: string;
    }[];
  await waitFor(
    async () => (await balances(bob.token)).find((b) => b.asset === 'USDT')?.available === '5000',
    WAIT_MS,
    () => `deposits stored: ${s.persistence.output().slice(-2000)}`,
  );

  // Over HTTP. Fees: maker 10 bps, taker 20 bps. The book at the end: bid 1990 x 0.05 (bob), ask 2010 x 0.1 (alice).
  const order = async (token: string, body: Record<string, unknown>) => {
    const r = await s.http('POST', '/v1/orders', { token, body: { marketId: 1, ...body } });
    t.equal(r.status, 201, JSON.stringify(r.json));
    return r.json;
  };
  const a1 = await order(alice.token, { side: 'sell', orderType: 'limit', price: '2000', quantity: '1' });
  const a2 = await order(alice.token, { side: 'sell', orderType: 'limit', price: '2010', quantity: '0.5' });
  const b1 = await order(bob.token, { side: 'buy', orderType: 'limit', price: '1990', quantity: '0.3' });
  const b2 = await order(bob.token, { side: 'buy', orderType: 'market', quantity: '0.4' });
  t.match(b2, { orderStatus: 'filled', fills: [{ price: '2000', quantity: '0.4', fee: '1.6', liquidity: 'taker' }] });
  const b3 = await order(bob.token, { side: 'buy', orderType: 'limit', price: '2010', quantity: '1' });
  t.match(b3, {
    orderStatus: 'filled',
    fills: [
      { price: '2000', quantity: '0.6' },
      { price: '2010', quantity: '0.4' },
    ],
  });
  const amend = await s.http('PATCH', `/v1/orders/${b1.orderId}`, { token: bob.token, body: { quantity: '0.25' } });
  t.equal(amend.status, 200, JSON.stringify(amend.json));
  const a3 = await order(alice.token, { side: 'sell', orderType: 'limit', price: '1990', quantity: '0.2' });
  t.match(a3, { orderStatus: 'filled', fills: [{ price: '1990', quantity: '0.2', liquidity: 'taker' }] });
  const aliceOrders = new Set([a1, a2, a3].map((o) => o.orderId));
  const bobOrders = new Set([b1, b2, b3].map((o) => o.orderId));

  // The topic as the engine wrote it, up to the last command: the oracle for the user channels and the trades.
  await waitFor(
    async () => topicEvents.some((e) => e.type === 'commandResult' && e.cmdId === a3.commandId),
    WAIT_MS,
    () => 'events topic read to the last command',
  );
  const tradeEvents = topicEvents.filter((e) => e.type === 'trade');
  t.equal(tradeEvents.length, 4, 'four trades on the events topic');

  // The last command changed the book: the book's seq is then the last event of its record (its commandResult;
  // each order waited for its answer, so no record holds two of them).
  const bookSeq = (topicEvents.find((e) => e.type === 'commandResult' && e.cmdId === a3.commandId) as EngineEvent).seq;
  const restDepth = async () => (await s.http('GET', `/v1/markets/${SYMBOL}/depth?limit=5000`)).json;
  await waitFor(
    async () => (await restDepth()).seq === bookSeq,
    WAIT_MS,
    () => `REST depth at seq ${bookSeq}`,
  );
  for (const [name, c] of [
    ['alice', aliceWs],
    ['bob', bobWs],
    ['anonymous', forged],
  ] as const) {
    await waitFor(
      async () => c.of('trade').length >= tradeEvents.length && (c.of('depth').at(-1)?.seq ?? -1) >= bookSeq,
      WAIT_MS,
      () => `${name}'s trades and deltas: ${JSON.stringify(c.messages.slice(-5))}`,
    );
  }
  const depth = await restDepth();
  t.same(
    { bids: depth.bids, asks: depth.asks },
    { bids: [['1990', '0.05']], asks: [['2010', '0.1']] },
    'REST depth is the book the orders left',
  );
  for (const [name, c] of [
    ['alice', aliceWs],
    ['bob', bobWs],
    ['anonymous', forged],
  ] as const) {
    const book = bookOf(c);
    t.equal(book.gaps, 0, `${name}: every delta continues the one before (prevSeq = seq before)`);
    t.equal(book.seq, depth.seq, `${name}: the deltas end at REST depth's seq`);
    t.same(book.sorted(), { bids: depth.bids, asks: depth.asks }, `${name}: snapshot + deltas = REST depth`);
    t.ok(c.of('depth').length >= 7, `${name}: ${c.of('depth').length} deltas, one per command that changed the book`);
    t.same(
      c.of('trade').map((m) => [m.tradeId, m.price, m.quantity, m.takerSide]),
      [
        [tradeEvents[0]?.tradeId, '2000', '0.4', 'buy'],
        [tradeEvents[1]?.tradeId, '2000', '0.6', 'buy'],
        [tradeEvents[2]?.tradeId, '2010', '0.4', 'buy'],
        [tradeEvents[3]?.tradeId, '1990', '0.2', 'sell'],
      ],
      `${name}: every trade, in order, with its price and quantity`,
    );
    t.same(
      c.of('trade').map((m) => m.seq),
      tradeEvents.map((e) => e.seq),
      `${name}: trades carry the engine seq`,
    );
    t.same(
      c.of('error').filter((m) => m.code !== 'MARKET_DATA_WS_UNAUTHENTICATED'),
      [],
      `${name}: no errors`,
    );
    const bad = c.messages.filter((m) => !(validators[m.type]?.Check(m) ?? false));
    t.same(bad, [], `${name}: every message matches its documented schema`);
  }
  t.same(forged.of('user'), [], 'the anonymous connection gets no user messages');

  for (const [name, u, c, own, other] of [
    ['alice', alice, aliceWs, aliceOrders, bobOrders],
    ['bob', bob, bobWs, bobOrders, aliceOrders],
  ] as const) {
    const want = expectedUserEvents(topicEvents, u.userId);
    await waitFor(
      async () => c.of('user').length >= want.length,
      WAIT_MS,
      () => `${name}'s user events: ${c.of('user').length} of ${want.length}`,
    );
    t.same(
      c.of('user').map((m) => `${m.seq}:${m.event}`),
      want,
      `${name} gets exactly their own ${want.length} events, in order`,
    );
    t.ok(
      c.of('user').every((m) => m.orderId === undefined || (own.has(m.orderId) && !other.has(m.orderId))),
      `${name}: no order of the other user`,
    );
    const events = new Set(c.of('user').map((m) => m.event));
    for (const e of ['depositCredited', 'balanceChanged', 'orderAccepted', 'trade', 'orderFilled'])
      t.ok(events.has(e), `${name} got ${e}`);
    // Balances: the last update of each asset is what the REST route (persistence's tables) says.
    const last = new Map(
      c
        .of('user')
        .filter((m) => m.event === 'balanceChanged')
        .map((m) => [m.asset, { asset: m.asset, available: m.available, held: m.held, pending: m.pending }]),
    );
    await waitFor(
      async () => (await s.http('GET', `/v1/orders/${a3.orderId}`, { token: alice.token })).json?.status === 'filled',
      WAIT_MS,
      () => 'the last order stored',
    );
    const rest = (await balances(u.token)).map((b) => ({
      asset: b.asset,
      available: b.available,
      held: b.held,
      pending: b.pending,
    }));
    t.same(
      [...last.values()].sort((x, y) => x.asset.localeCompare(y.asset)),
      rest.sort((x, y) => x.asset.localeCompare(y.asset)),
      `${name}: the last balance updates = GET /v1/balances`,
    );
  }
  const fillsOf = (c: WsClient) =>
    c
      .of('user')
      .filter((m) => m.event === 'trade')
      .map((m) => [m.price, m.quantity, m.side, m.liquidity, m.fee]);
  t.same(
    fillsOf(aliceWs),
    [
      ['2000', '0.4', 'sell', 'maker', '0.8'],
      ['2000', '0.6', 'sell', 'maker', '1.2'],
      ['2010', '0.4', 'sell', 'maker', '0.804'],
      ['1990', '0.2', 'sell', 'taker', '0.796'],
    ],
    "alice's fills: side, role and fee",
  );
  t.same(
    fillsOf(bobWs),
    [
      ['2000', '0.4', 'buy', 'taker', '1.6'],
      ['2000', '0.6', 'buy', 'taker', '2.4'],
      ['2010', '0.4', 'buy', 'taker', '1.608'],
      ['1990', '0.2', 'buy', 'maker', '0.398'],
    ],
    "bob's fills: side, role and fee",
  );
  t.match(
    bobWs.of('user').filter((m) => m.event === 'orderAmended'),
    [{ orderId: b1.orderId, quantity: '0.25', keptPriority: true }],
    'bob sees his amend',
  );

  // Order states over HTTP agree with what the streams said.
  const state = async (token: string, orderId: number) =>
    (await s.http('GET', `/v1/orders/${orderId}`, { token })).json;
  t.match(await state(alice.token, a1.orderId), { status: 'filled', filledQuantity: '1' });
  t.match(await state(alice.token, a2.orderId), {
    status: 'partiallyFilled',
    filledQuantity: '0.4',
    remainingQuantity: '0.1',
  });
  t.match(await state(bob.token, b1.orderId), {
    status: 'partiallyFilled',
    filledQuantity: '0.2',
    remainingQuantity: '0.05',
  });
  t.match(await state(bob.token, b3.orderId), { status: 'filled', filledQuantity: '1', avgFillPrice: '2004' });

  s.gateway.child.kill('SIGTERM');
  const exit = await s.gateway.exited;
  t.equal(exit.code, 0, `SIGTERM stops the gateway cleanly ${exit.code === 0 ? '' : s.gateway.output().slice(-1500)}`);
  await waitFor(
    async () => aliceWs.closed !== null && bobWs.closed !== null,
    WAIT_MS,
    () => 'the connections closed by the stop',
  );
  t.match(aliceWs.closed, { code: 4001, reason: /^MARKET_DATA_WS_SHUTDOWN/ }, 'the stop closes the streams with 4001');
  s.persistence.child.kill('SIGTERM');
  s.daemon.child.kill('SIGTERM');
  await Promise.all([s.persistence.exited, s.daemon.exited]);
});
