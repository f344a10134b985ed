// The whole path, every part real and every service a process: a Kafka broker, the engine daemon, the persistence
// consumer (persistence/main.ts), the gateway (gateway/main.ts) on PostgreSQL and Redis. Two users register over
// HTTP, are credited by deposit commands, trade against each other over HTTP; fills, balances and order states
// are checked, through the gateway's own answers and its reads of what persistence stored. With the engine
// stopped, an order is answered "unknown" (never a false success); once the engine is back its lookup gives the
// result. SIGTERM stops the gateway with exit code 0. The stack is e2e-stack.ts; what the WebSocket streams send during such a
// session is e2e-ws.int.test.ts's. The gateway's one events reader is checked here too, on this broker
// (events-feed-checks.ts).

import t from 'tap';
import { sleep, waitFor } from '../daemon/recovery-support.js';
import { SETUP_COMMANDS, WAIT_MS, registerUsers, startE2eStack, waitReady } from './e2e-stack.js';
import { checkEventsFeed } from './events-feed-checks.js';

t.test('gateway end to end on Kafka', async (t) => {
  const s = await startE2eStack(t, 'e2e');
  const { send, http, gateway, persistence } = s;
  await send(SETUP_COMMANDS);
  await waitReady(s);
  // On this file's broker, a topic of its own (events-feed-checks.ts).
  await t.test("the gateway's one events reader, for results and market data", (t) => checkEventsFeed(t, s.kafka));

  const { alice, bob } = await registerUsers(s, ['alice', 'bob'] as const);
  t.same([alice.status, bob.status], [201, 201], 'both registered');
  await send([
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
  const balance = async (token: string, asset: string) =>
    ((await http('GET', '/v1/balances', { token })).json.balances as any[]).find((b) => b.asset === asset);
  await waitFor(
    async () => (await balance(bob.token, 'USDT'))?.available === '5000',
    WAIT_MS,
    () => `deposits stored: ${persistence.output().slice(-2000)}`,
  );

  const ask = await http('POST', '/v1/orders', {
    token: alice.token,
    body: { marketId: 1, side: 'sell', orderType: 'limit', price: '2000', quantity: '1', clientOrderId: 'a-1' },
  });
  t.equal(ask.status, 201, JSON.stringify(ask.json));
  t.match(ask.json, { status: 'accepted', orderStatus: 'new', remainingQuantity: '1' });
  const buy = await http('POST', '/v1/orders', {
    token: bob.token,
    body: { marketId: 1, side: 'buy', orderType: 'market', quantity: '0.4' },
  });
  t.equal(buy.status, 201, JSON.stringify(buy.json));
  t.match(buy.json, {
    status: 'accepted',
    orderStatus: 'filled',
    filledQuantity: '0.4',
    fills: [{ price: '2000', quantity: '0.4', fee: '1.6', liquidity: 'taker' }],
  });
  const rejected = await http('POST', '/v1/orders', {
    token: bob.token,
    body: { marketId: 1, side: 'buy', orderType: 'limit', price: '2000', quantity: '100' },
  });
  t.same([rejected.status, rejected.json.code], [422, 'RISK_INSUFFICIENT_FUNDS'], "the engine's rejection over Kafka");

  await waitFor(
    async () =>
      (await http('GET', `/v1/orders/${ask.json.orderId}`, { token: alice.token })).json?.status === 'partiallyFilled',
    WAIT_MS,
    () => 'fill stored',
  );
  t.match((await http('GET', '/v1/orders/by-client-id/a-1', { token: alice.token })).json, {
    filledQuantity: '0.4',
    remainingQuantity: '0.6',
    feesPaid: '0.8',
    avgFillPrice: '2000',
  });
  t.match(await balance(bob.token, 'ETH'), { available: '0.4', held: '0' });
  t.match(await balance(bob.token, 'USDT'), { available: '4198.4', held: '0' }, '5000 - 800 - 1.6 taker fee');
  t.match(await balance(alice.token, 'USDT'), { available: '799.2' }, '800 - 0.8 maker fee');
  t.match(await balance(alice.token, 'ETH'), { available: '1', held: '0.6' });
  const trades = (await http('GET', '/v1/trades', { token: alice.token })).json.trades;
  t.match(trades, [{ side: 'sell', liquidity: 'maker', price: '2000', quantity: '0.4', fee: '0.8' }]);
  t.equal(
    (await http('GET', `/v1/orders/${ask.json.orderId}`, { token: bob.token })).status,
    404,
    "bob cannot see alice's order",
  );

  const cancel = await http('DELETE', `/v1/orders/${ask.json.orderId}`, { token: alice.token });
  t.match(cancel.json, { status: 'accepted', canceled: [{ orderId: ask.json.orderId, remainingQuantity: '0.6' }] });
  await waitFor(
    async () => (await balance(alice.token, 'ETH'))?.held === '0',
    WAIT_MS,
    () => 'cancel stored',
  );

  // The engine stops: the answer is "unknown", never a success; the lookup gives the result once it is back.
  s.daemon.child.kill('SIGTERM');
  await s.daemon.exited;
  const late = await http('POST', '/v1/orders', {
    token: alice.token,
    body: { marketId: 1, side: 'sell', orderType: 'limit', price: '2500', quantity: '0.1' },
  });
  t.equal(late.status, 202);
  t.match(late.json, { status: 'unknown', orderId: null });
  t.match((await http('GET', late.json.lookup, { token: alice.token })).json, { status: 'unknown' });
  const daemon = s.restartDaemon();
  await waitFor(
    async () => (await http('GET', late.json.lookup, { token: alice.token })).json?.status === 'accepted',
    WAIT_MS,
    () => `late result: ${daemon.output().slice(-2000)}`,
  );
  await waitFor(
    async () =>
      ((await http('GET', '/v1/orders/open', { token: alice.token })).json.orders as any[]).some(
        (o) => o.price === '2500',
      ),
    WAIT_MS,
    () => 'late order stored',
  );
  t.pass('the late order is open');

  const metrics = await fetch(`${s.base}/metrics`).then((r) => r.text());
  t.match(metrics, /gateway_engine_round_trip_seconds_count\{type="placeOrder",outcome="unknown"\} 1/);
  t.match(metrics, /\ngateway_command_append_seconds_count [1-9]\d*\n/, 'appends timed');
  t.match(metrics, /\ngateway_events_read_delay_seconds_count [1-9]\d*\n/, 'events records timed');
  gateway.child.kill('SIGTERM');
  t.equal((await gateway.exited).code, 0, `SIGTERM stops the gateway cleanly ${gateway.output().slice(-1500)}`);
  t.notOk(gateway.output().includes('correct horse battery'), "no password in the gateway's logs");
  persistence.child.kill('SIGTERM');
  daemon.child.kill('SIGTERM');
  await Promise.all([persistence.exited, daemon.exited]);
  await sleep(0);
});
