// `npm run bench:gateway`: the gateway under load, end to end on this machine: a Kafka broker, the engine daemon,
// the persistence consumer and the gateway as processes (as in production), driven by autocannon over HTTP with
// many users placing a resting limit order and canceling it again on one market. In the same run a bare Fastify
// route on the same machine is the limit. Prints one JSON line:
//   ordersPerSec       placements/s at the most the stack sustained (closed loop, GW_BENCH_CONNECTIONS clients)
//   latencyMsP50/P99   of every request at a fixed offered load of GW_BENCH_RATE orders/s (place + cancel = 2 requests)
//   helloWorldPerSec   requests/s of the bare route; ratioVsHelloWorld = ordersPerSec x 2 / helloWorldPerSec
// Settings: GW_BENCH_SECONDS (10), GW_BENCH_USERS (50), GW_BENCH_CONNECTIONS (50), GW_BENCH_RATE (2000).

import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { HdKeys } from '../chain/hd.js';
import { KafkaCommandWriter, ensureTopics, kafkaClient } from '../engine/daemon/kafka-log.js';
import { encodeCommand } from '../engine/wire/codec.js';
import type { CommandInput } from '../engine/wire/codec.js';
import { pickFreeLoopbackPorts, startKafkaBroker } from '../tools/kafka/broker.js';
import { startDaemon, waitFor } from '../test/daemon/recovery-support.js';
import { spawnTs } from '../test/persistence/processes.js';
import { createTestDatabase } from '../test/support/pg.js';
import { deleteKeys } from '../test/gateway/support.js';

const SECONDS = Number(process.env.GW_BENCH_SECONDS ?? 10);
const USERS = Number(process.env.GW_BENCH_USERS ?? 50);
const CONNECTIONS = Number(process.env.GW_BENCH_CONNECTIONS ?? 50);
const RATE = Number(process.env.GW_BENCH_RATE ?? 2000);
const MNEMONIC = 'test test test test test test test test test test test junk';

type Result = autocannon.Result;
const run = (opts: autocannon.Options): Promise<Result> => new Promise((resolve, reject) => autocannon(opts, (err, res) => (err ? reject(err) : resolve(res))));

/** Place a resting limit order, then cancel it by the id the answer gave: two requests per order. */
function placeCancel(url: string, tokens: string[], connections: number, extra: Partial<autocannon.Options>): Promise<Result> {
  let next = 0;
  return run({
    url, connections, duration: SECONDS, ...extra,
    requests: [
      {
        method: 'POST', path: '/v1/orders',
        setupRequest: (req, context: Record<string, unknown>) => {
          context.token ??= tokens[next++ % tokens.length];
          const buy = Math.random() < 0.5;
          // Buys far below sells: orders rest, nothing trades, so balances never run out.
          const price = buy ? 1000 + Math.floor(Math.random() * 100) : 3000 + Math.floor(Math.random() * 100);
          return { ...req, headers: { 'content-type': 'application/json', authorization: `Bearer ${context.token as string}` }, body: JSON.stringify({ marketId: 1, side: buy ? 'buy' : 'sell', orderType: 'limit', price: String(price), quantity: '0.01' }) };
        },
        onResponse: (_status, body, context: Record<string, unknown>) => {
          context.orderId = (JSON.parse(body) as { orderId?: number | null }).orderId ?? 0;
        },
      },
      {
        method: 'DELETE',
        setupRequest: (req, context: Record<string, unknown>) => ({ ...req, path: `/v1/orders/${(context.orderId as number) || 1}`, headers: { authorization: `Bearer ${context.token as string}` } }),
      },
    ],
  });
}

async function helloWorld(): Promise<number> {
  const app = Fastify();
  app.get('/', async () => ({ hello: 'world' }));
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const res = await run({ url: address, connections: CONNECTIONS, duration: Math.max(3, Math.floor(SECONDS / 2)) });
  await app.close();
  return res.requests.average;
}

async function main(): Promise<void> {
  const broker = await startKafkaBroker();
  const db = await createTestDatabase('bench_gw');
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bench-gw-'));
  const redis = new Redis('redis://127.0.0.1:6379');
  const prefix = `bench:gw:${process.pid}:${randomBytes(3).toString('hex')}:`;
  const id = `bench-${randomUUID().slice(0, 8)}`;
  const topics = { commandsTopic: `${id}.commands`, eventsTopic: `${id}.events` };
  const kafka = kafkaClient([broker.brokers], 'bench-gateway');
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, topics);
  await admin.disconnect();
  const env = { KAFKA_BROKERS: broker.brokers, KAFKA_COMMANDS_TOPIC: topics.commandsTopic, KAFKA_EVENTS_TOPIC: topics.eventsTopic, DATABASE_URL: db.url };
  const daemon = startDaemon({ ...env, DATA_DIR: dataDir, ENGINE_ID: id });
  const persistence = spawnTs('persistence/main.ts', env);
  const [port] = await pickFreeLoopbackPorts(1);
  const gateway = spawnTs('gateway/main.ts', {
    ...env, REDIS_PREFIX: prefix, GATEWAY_HOST: '127.0.0.1', GATEWAY_PORT: String(port), GATEWAY_SECRET_KEY: randomBytes(32).toString('hex'),
    DEPOSIT_XPUB: new HdKeys(MNEMONIC).depositXpub(), GATEWAY_SCRYPT_COST: '1024', LOG_LEVEL: 'warn',
    GATEWAY_RATE_LIMIT_IP_PER_MIN: '10000000', GATEWAY_RATE_LIMIT_KEY_PER_MIN: '10000000',
  });
  const base = `http://127.0.0.1:${port}`;
  const writer = new KafkaCommandWriter(kafka, topics.commandsTopic);
  try {
    await writer.connect();
    const send = (cmds: CommandInput[]) => writer.append(cmds.map((c) => new TextEncoder().encode(encodeCommand(c))));
    await send([
      { v: 1, type: 'addAsset', id: 'a1', assetId: 1, symbol: 'ETH', decimals: 18 },
      { v: 1, type: 'addAsset', id: 'a2', assetId: 2, symbol: 'USDT', decimals: 6 },
      { v: 1, type: 'addMarket', id: 'm1', marketId: 1, symbol: 'ETH-USDT', baseAssetId: 1, quoteAssetId: 2, tickSize: 10_000n, lotSize: 10n ** 14n, minNotional: 1_000_000n, makerFeeBps: 10, takerFeeBps: 20 },
    ]);
    await waitFor(async () => (await fetch(`${base}/ready`).catch(() => null))?.status === 200, 120_000, () => gateway.output());
    const post = (url: string, body: unknown) => fetch(base + url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json() as Promise<any>);
    const tokens: string[] = [];
    const deposits: CommandInput[] = [];
    for (let i = 0; i < USERS; i++) {
      const user = { username: `bench${i}`, password: 'bench password 123' };
      await post('/v1/auth/register', user);
      const s = await post('/v1/auth/login', user);
      tokens.push(s.token);
      deposits.push({ v: 1, type: 'deposit', id: `d${i}e`, userId: s.userId, assetId: 1, amount: 10n ** 24n, depositId: `d${i}e` });
      deposits.push({ v: 1, type: 'deposit', id: `d${i}u`, userId: s.userId, assetId: 2, amount: 10n ** 15n, depositId: `d${i}u` });
    }
    await send(deposits);
    // Warm-up (JIT, connections, caches) before measuring.
    await placeCancel(base, tokens, CONNECTIONS, { duration: 2 });
    const max = await placeCancel(base, tokens, CONNECTIONS, {});
    const fixed = await placeCancel(base, tokens, Math.min(CONNECTIONS, 100), { overallRate: RATE * 2 });
    const hello = await helloWorld();
    const ordersPerSec = max.requests.average / 2;
    process.stdout.write(JSON.stringify({
      ordersPerSec: Math.round(ordersPerSec),
      latencyMsP50: fixed.latency.p50,
      latencyMsP99: fixed.latency.p99,
      offeredOrdersPerSec: RATE,
      achievedOrdersPerSecAtFixedRate: Math.round(fixed.requests.average / 2),
      helloWorldPerSec: Math.round(hello),
      ratioVsHelloWorld: Number(((ordersPerSec * 2) / hello).toFixed(4)),
      non2xx: max.non2xx + fixed.non2xx,
      errors: max.errors + fixed.errors + max.timeouts + fixed.timeouts,
      users: USERS, connections: CONNECTIONS, seconds: SECONDS, cpus: os.cpus().length,
    }) + '\n');
  } finally {
    await writer.close().catch(() => undefined);
    for (const p of [gateway.child, persistence.child, daemon.child]) p.kill('SIGTERM');
    await Promise.all([gateway.exited, persistence.exited, daemon.exited]);
    await deleteKeys(redis, prefix);
    redis.disconnect();
    await db.drop();
    await rm(dataDir, { recursive: true, force: true });
    await broker.stop();
  }
}

main().then(() => process.exit(0), (err) => {
  console.error(err);
  process.exit(1);
});
