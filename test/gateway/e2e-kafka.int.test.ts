// The whole path, every part real and every service a process: a Kafka broker, the engine daemon, the persistence
// consumer (persistence/main.ts), the gateway (gateway/main.ts) on PostgreSQL and Redis. Two users register over
// HTTP, are credited by deposit commands, trade against each other over HTTP; fills, balances and order states
// are checked, through the gateway's own answers and its reads of what persistence stored. With the engine
// stopped, an order is answered "unknown" (never a false success); once the engine is back its lookup gives the
// result. SIGTERM stops the gateway with exit code 0.

import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { Redis } from 'ioredis';
import { HdKeys } from '../../chain/hd.js';
import { KafkaCommandWriter, ensureTopics, kafkaClient } from '../../engine/daemon/kafka-log.js';
import { encodeCommand } from '../../engine/wire/codec.js';
import type { CommandInput } from '../../engine/wire/codec.js';
import { pickFreeLoopbackPorts, startKafkaBroker } from '../../tools/kafka/broker.js';
import { sleep, startDaemon, waitFor } from '../daemon/recovery-support.js';
import type { DaemonProcess } from '../daemon/recovery-support.js';
import { spawnTs } from '../persistence/processes.js';
import { createTestDatabase } from '../support/pg.js';
import { REDIS_URL, TEST_MNEMONIC, deleteKeys } from './support.js';

const WAIT_MS = 60_000;

t.test('gateway end to end on Kafka', async (t) => {
  const broker = await startKafkaBroker();
  t.teardown(() => broker.stop());
  const kafka = kafkaClient([broker.brokers], 'gateway-e2e');
  const id = `gw-${randomUUID().slice(0, 8)}`;
  const topics = { commandsTopic: `${id}.commands`, eventsTopic: `${id}.events` };
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, topics);
  await admin.disconnect();
  const writer = new KafkaCommandWriter(kafka, topics.commandsTopic);
  await writer.connect();
  t.teardown(() => writer.close());
  const send = (cmds: CommandInput[]) => writer.append(cmds.map((c) => new TextEncoder().encode(encodeCommand(c))));

  const db = await createTestDatabase('gw_e2e');
  t.teardown(() => db.drop());
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'gw-e2e-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const redisPrefix = `test:gw:e2e:${process.pid}:${randomBytes(3).toString('hex')}:`;
  const redis = new Redis(REDIS_URL);
  t.teardown(async () => {
    await deleteKeys(redis, redisPrefix);
    redis.disconnect();
  });

  const env = { KAFKA_BROKERS: broker.brokers, KAFKA_COMMANDS_TOPIC: topics.commandsTopic, KAFKA_EVENTS_TOPIC: topics.eventsTopic, DATABASE_URL: db.url };
  const daemonEnv = { ...env, DATA_DIR: dataDir, ENGINE_ID: id, LOG_LEVEL: 'info' };
  let daemon: DaemonProcess = startDaemon(daemonEnv);
  t.teardown(() => (daemon.child.exitCode === null ? void daemon.child.kill('SIGKILL') : undefined));
  const persistence = spawnTs('persistence/main.ts', env);
  t.teardown(() => (persistence.child.exitCode === null ? void persistence.child.kill('SIGKILL') : undefined));
  const [port] = await pickFreeLoopbackPorts(1);
  const gateway = spawnTs('gateway/main.ts', {
    ...env, REDIS_URL, REDIS_PREFIX: redisPrefix, GATEWAY_HOST: '127.0.0.1', GATEWAY_PORT: String(port), GATEWAY_ID: id,
    GATEWAY_SECRET_KEY: randomBytes(32).toString('hex'), DEPOSIT_XPUB: new HdKeys(TEST_MNEMONIC).depositXpub(),
    GATEWAY_SCRYPT_COST: '1024', GATEWAY_COMMAND_TIMEOUT_MS: '3000', LOG_LEVEL: 'info',
  });
  t.teardown(() => (gateway.child.exitCode === null ? void gateway.child.kill('SIGKILL') : undefined));
  const base = `http://127.0.0.1:${port}`;
  const http = async (method: string, url: string, opts: { token?: string; body?: unknown } = {}) => {
    const res = await fetch(base + url, {
      method,
      headers: { ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
    return { status: res.status, json: (await res.json().catch(() => null)) as any };
  };

  await send([
    { v: 1, type: 'addAsset', id: 'a1', assetId: 1, symbol: 'ETH', decimals: 18 },
    { v: 1, type: 'addAsset', id: 'a2', assetId: 2, symbol: 'USDT', decimals: 6 },
    { v: 1, type: 'addMarket', id: 'm1', marketId: 1, symbol: 'ETH-USDT', baseAssetId: 1, quoteAssetId: 2, tickSize: 10_000n, lotSize: 10n ** 14n, minNotional: 1_000_000n, makerFeeBps: 10, takerFeeBps: 20 },
  ]);
  await waitFor(async () => (await http('GET', '/ready').catch(() => ({ status: 0 }))).status === 200, WAIT_MS, () => `gateway ready: ${gateway.output().slice(-3000)}`);

  const users: Record<string, { userId: number; token: string }> = {};
  for (const name of ['alice', 'bob']) {
    t.equal((await http('POST', '/v1/auth/register', { body: { username: name, password: 'correct horse battery' } })).status, 201);
    users[name] = (await http('POST', '/v1/auth/login', { body: { username: name, password: 'correct horse battery' } })).json;
  }
  const { alice, bob } = users;
  await send([
    { v: 1, type: 'deposit', id: 'd1', userId: alice.userId, assetId: 1, amount: 2n * 10n ** 18n, depositId: 'chain:0x01:0' },
    { v: 1, type: 'deposit', id: 'd2', userId: bob.userId, assetId: 2, amount: 5_000_000_000n, depositId: 'chain:0x02:0' },
  ]);
  const balance = async (token: string, asset: string) => ((await http('GET', '/v1/balances', { token })).json.balances as any[]).find((b) => b.asset === asset);
  await waitFor(async () => (await balance(bob.token, 'USDT'))?.available === '5000', WAIT_MS, () => `deposits stored: ${persistence.output().slice(-2000)}`);

  const ask = await http('POST', '/v1/orders', { token: alice.token, body: { marketId: 1, side: 'sell', orderType: 'limit', price: '2000', quantity: '1', clientOrderId: 'a-1' } });
  t.equal(ask.status, 201, JSON.stringify(ask.json));
  t.match(ask.json, { status: 'accepted', orderStatus: 'new', remainingQuantity: '1' });
  const buy = await http('POST', '/v1/orders', { token: bob.token, body: { marketId: 1, side: 'buy', orderType: 'market', quantity: '0.4' } });
  t.equal(buy.status, 201, JSON.stringify(buy.json));
  t.match(buy.json, { status: 'accepted', orderStatus: 'filled', filledQuantity: '0.4', fills: [{ price: '2000', quantity: '0.4', fee: '1.6', liquidity: 'taker' }] });
  const rejected = await http('POST', '/v1/orders', { token: bob.token, body: { marketId: 1, side: 'buy', orderType: 'limit', price: '2000', quantity: '100' } });
  t.same([rejected.status, rejected.json.code], [422, 'RISK_INSUFFICIENT_FUNDS'], 'the engine\'s rejection over Kafka');

  await waitFor(async () => (await http('GET', `/v1/orders/${ask.json.orderId}`, { token: alice.token })).json?.status === 'partiallyFilled', WAIT_MS, () => 'fill stored');
  t.match((await http('GET', '/v1/orders/by-client-id/a-1', { token: alice.token })).json, { filledQuantity: '0.4', remainingQuantity: '0.6', feesPaid: '0.8', avgFillPrice: '2000' });
  t.match(await balance(bob.token, 'ETH'), { available: '0.4', held: '0' });
  t.match(await balance(bob.token, 'USDT'), { available: '4198.4', held: '0' }, '5000 - 800 - 1.6 taker fee');
  t.match(await balance(alice.token, 'USDT'), { available: '799.2' }, '800 - 0.8 maker fee');
  t.match(await balance(alice.token, 'ETH'), { available: '1', held: '0.6' });
  const trades = (await http('GET', '/v1/trades', { token: alice.token })).json.trades;
  t.match(trades, [{ side: 'sell', liquidity: 'maker', price: '2000', quantity: '0.4', fee: '0.8' }]);
  t.equal((await http('GET', `/v1/orders/${ask.json.orderId}`, { token: bob.token })).status, 404, 'bob cannot see alice\'s order');

  const cancel = await http('DELETE', `/v1/orders/${ask.json.orderId}`, { token: alice.token });
  t.match(cancel.json, { status: 'accepted', canceled: [{ orderId: ask.json.orderId, remainingQuantity: '0.6' }] });
  await waitFor(async () => (await balance(alice.token, 'ETH'))?.held === '0', WAIT_MS, () => 'cancel stored');

  // The engine stops: the answer is "unknown", never a success; the lookup gives the result once it is back.
  daemon.child.kill('SIGTERM');
  await daemon.exited;
  const late = await http('POST', '/v1/orders', { token: alice.token, body: { marketId: 1, side: 'sell', orderType: 'limit', price: '2500', quantity: '0.1' } });
  t.equal(late.status, 202);
  t.match(late.json, { status: 'unknown', orderId: null });
  t.match((await http('GET', late.json.lookup, { token: alice.token })).json, { status: 'unknown' });
  daemon = startDaemon(daemonEnv);
  await waitFor(async () => (await http('GET', late.json.lookup, { token: alice.token })).json?.status === 'accepted', WAIT_MS, () => `late result: ${daemon.output().slice(-2000)}`);
  await waitFor(async () => ((await http('GET', '/v1/orders/open', { token: alice.token })).json.orders as any[]).some((o) => o.price === '2500'), WAIT_MS, () => 'late order stored');
  t.pass('the late order is open');

  const metrics = await fetch(`${base}/metrics`).then((r) => r.text());
  t.match(metrics, /gateway_engine_round_trip_seconds_count\{type="placeOrder",outcome="unknown"\} 1/);
  gateway.child.kill('SIGTERM');
  t.equal((await gateway.exited).code, 0, `SIGTERM stops the gateway cleanly ${gateway.output().slice(-1500)}`);
  t.notOk(gateway.output().includes('correct horse battery'), 'no password in the gateway\'s logs');
  persistence.child.kill('SIGTERM');
  daemon.child.kill('SIGTERM');
  await Promise.all([persistence.exited, daemon.exited]);
  await sleep(0);
});
