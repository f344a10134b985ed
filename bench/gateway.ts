// `npm run bench:gateway`: the gateway under load, end to end on this machine: a Kafka broker, the engine daemon,
// the persistence consumer and the gateway as processes (as in production), driven by autocannon over HTTP with
// many users placing a resting limit order and canceling it again on one market. In the same run a bare Fastify
// route on the same machine is the limit. Prints one JSON line:
//   ordersPerSec       placements/s at the most the stack sustained (closed loop, GW_BENCH_CONNECTIONS clients)
//   latencyMsP50/P99   of every request at a fixed offered load of GW_BENCH_RATE orders/s (place + cancel = 2 requests)
//   helloWorldPerSec   requests/s of the bare route; ratioVsHelloWorld = ordersPerSec x 2 / helloWorldPerSec
//   achievedOrdersPerSecAtFixedRate, cpuPercentAtFixedRate (per process, % of one core), unknownAnswers, failedAnswers
//   gatewayCpuUsPerOrderAtFixedRate  the gateway's CPU per order (place + cancel) at the fixed rate: on a loaded
//                      machine steadier than the latencies, which mostly measure the wait for a core
//   latencySplitMsMeanAtFixedRate  where a request's time went at the fixed rate, means from the gateway's own
//                      histograms (/metrics, read before and after): client (autocannon's mean), gateway (request
//                      in to answer out, Fastify's elapsed time), kafkaAndEngine (command appended to its result
//                      read: Kafka both ways and the engine), so gateway - kafkaAndEngine is the gateway's own part
//                      and client - gateway the wait outside it (sockets, the event loop's backlog, the client);
//                      kafkaAndEngine's first leg `append` (an append of commands, sent to acknowledged) and last leg
//                      `eventsRead` (an events record's timestamp, the daemon's send, to the gateway reading it);
//                      the rest is a command's wait behind the append in flight, the daemon's fetch, batch and append
//   gatewayEventLoopDelayMsAtFixedRate  the gateway's event-loop delay at the fixed rate (mean, p50, p99, max): the
//                      part of every leg that is waiting for the gateway's own thread
// Settings: GW_BENCH_SECONDS (10), GW_BENCH_USERS (50), GW_BENCH_CONNECTIONS (200), GW_BENCH_RATE (2000),
//   GW_BENCH_FIXED_CONNECTIONS (enough to offer the rate at 100 ms a request: RATE x 2 x 0.1 = 400),
//   GW_BENCH_AUTH (apiKey: HMAC-signed requests, replay-checked, as trading clients send them; or session),
//   GW_BENCH_STORES (redis: the production setup, shared by every instance; or memory: one instance only),
//   GW_BENCH_LOG_LEVEL (the gateway's LOG_LEVEL, default info as in production),
//   GW_BENCH_PROFILE_DIR (the gateway runs with node --cpu-prof into this directory; a summary of the fixed-rate
//   part goes to stderr; a profiled run's figures are not comparable with an unprofiled one's).
// Everything comes from one IP with one key per user, so the bench sets the rate limits it runs under explicitly
// (GW_BENCH_RATE_LIMIT_PER_MIN, default 10,000,000 per IP and per key): they stay on and are counted in Redis, just
// high enough not to refuse the load the bench offers. 202 answers (status unknown: no result in time) count
// as unknownAnswers, not as successes.

import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { HdKeys } from '../chain/hd.js';
import { KafkaCommandWriter } from '../kafka/command-writer.js';
import { ensureTopics } from '../kafka/topics.js';
import { kafkaClient } from '../kafka/client.js';
import { COMMAND_VERSION } from '../engine/core/index.js';
import { encodeCommand } from '../engine/wire/codec.js';
import { formatSummary, summarizeProfileFile } from './cpu-profile.js';
import type { CommandInput } from '../engine/wire/codec.js';
import { pickFreeLoopbackPorts, startKafkaBroker } from '../tools/kafka/broker.js';
import { startDaemon, waitFor } from '../testkit/daemon-process.js';
import { spawnTs } from '../testkit/processes.js';
import { createTestDatabase } from '../testkit/pg.js';
import { deleteKeys } from '../testkit/redis.js';
import { signRequest } from '../testkit/signing-client.js';

const SECONDS = Number(process.env.GW_BENCH_SECONDS ?? 10);
const USERS = Number(process.env.GW_BENCH_USERS ?? 50);
// A closed loop sustains connections / latency: with ~30-50 ms through the engine's Kafka commit cycle, 50
// connections cap it near 600-900 orders/s whatever the stack could do, so the default is 200.
const CONNECTIONS = Number(process.env.GW_BENCH_CONNECTIONS ?? 200);
const RATE = Number(process.env.GW_BENCH_RATE ?? 2000);
/** One connection carries one request at a time: offering RATE x 2 requests/s needs that many x their latency. */
const FIXED_CONNECTIONS = Number(process.env.GW_BENCH_FIXED_CONNECTIONS ?? Math.ceil(RATE * 2 * 0.1));
const AUTH = process.env.GW_BENCH_AUTH ?? 'apiKey';
const STORES = process.env.GW_BENCH_STORES ?? 'redis';
const RATE_LIMIT_PER_MIN = Number(process.env.GW_BENCH_RATE_LIMIT_PER_MIN ?? 10_000_000);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** The gateway's LOG_LEVEL: info is its default in production, so its per-request cost is part of the figure. */
const LOG_LEVEL = process.env.GW_BENCH_LOG_LEVEL ?? 'info';
const PROFILE_DIR =
  process.env.GW_BENCH_PROFILE_DIR === undefined ? null : path.resolve(process.env.GW_BENCH_PROFILE_DIR);
/** Monotonic µs on the clock of V8's CPU profiles (CLOCK_MONOTONIC, the same in every process). */
const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);
const MNEMONIC = 'test test test test test test test test test test test junk';

type Result = autocannon.Result;
const run = (opts: autocannon.Options): Promise<Result> =>
  new Promise((resolve, reject) => autocannon(opts, (err, res) => (err ? reject(err) : resolve(res))));

/** Answers by kind: a 202 is "status unknown" (no result in time): 2xx to autocannon, but not a success. */
interface Answers {
  done: number;
  unknown: number;
  failed: number;
}

const count = (answers: Answers, status: number): void => {
  if (status === 202) answers.unknown++;
  else if (status >= 200 && status < 300) answers.done++;
  else answers.failed++;
};

/** How a bench client authenticates: a trading client's signed API-key requests, or a session token. */
type Credential = { readonly token: string } | { readonly keyId: string; readonly secret: string };

function authHeaders(cred: Credential, method: string, url: string, body: string): Record<string, string> {
  if ('token' in cred)
    return { authorization: `Bearer ${cred.token}`, ...(body !== '' ? { 'content-type': 'application/json' } : {}) };
  return signRequest(cred, { method, url, body, timestampMs: Date.now() });
}

/** Place a resting limit order, then cancel it by the id the answer gave: two requests per order. */
async function placeCancel(
  url: string,
  creds: Credential[],
  connections: number,
  extra: Partial<autocannon.Options>,
): Promise<Result & { answers: Answers }> {
  let next = 0;
  let placed = 0;
  const answers: Answers = { done: 0, unknown: 0, failed: 0 };
  const tag = randomBytes(4).toString('hex');
  const res = await run({
    url,
    connections,
    duration: SECONDS,
    ...extra,
    requests: [
      {
        method: 'POST',
        path: '/v1/orders',
        setupRequest: (req, context: Record<string, unknown>) => {
          context.cred ??= creds[next++ % creds.length];
          const buy = Math.random() < 0.5;
          // Buys far below sells: orders rest, nothing trades, so balances never run out.
          const price = buy ? 1000 + Math.floor(Math.random() * 100) : 3000 + Math.floor(Math.random() * 100);
          // A unique client order id, as a trading client sends: it also keeps two signed bodies from being equal.
          const body = JSON.stringify({
            marketId: 1,
            side: buy ? 'buy' : 'sell',
            orderType: 'limit',
            price: String(price),
            quantity: '0.01',
            clientOrderId: `b-${tag}-${placed++}`,
          });
          return { ...req, headers: authHeaders(context.cred as Credential, 'POST', '/v1/orders', body), body };
        },
        onResponse: (status, body, context: Record<string, unknown>) => {
          count(answers, status);
          context.orderId = (JSON.parse(body) as { orderId?: number | null }).orderId ?? 0;
        },
      },
      {
        method: 'DELETE',
        setupRequest: (req, context: Record<string, unknown>) => {
          const target = `/v1/orders/${(context.orderId as number) || 1}`;
          return { ...req, path: target, headers: authHeaders(context.cred as Credential, 'DELETE', target, '') };
        },
        onResponse: (status) => count(answers, status),
      },
    ],
  });
  return { ...res, answers };
}

/** Sum and count of some of a Prometheus text's histograms (`<name>_sum` / `<name>_count` lines, labels matching). */
function histogramTotals(text: string, name: string, labels: RegExp): { sum: number; count: number } {
  const totals = { sum: 0, count: 0 };
  for (const line of text.split('\n')) {
    const m = /^(\w+?)_(sum|count)(\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (m === null || m[1] !== name || !labels.test(m[3] ?? '')) continue;
    totals[m[2] as 'sum' | 'count'] += Number(m[4]);
  }
  return totals;
}

/** Means in ms of the gateway's request time and its commands' round trip between two /metrics texts. */
function serverSplitMs(
  before: string,
  after: string,
): { gateway: number | null; kafkaAndEngine: number | null; append: number | null; eventsRead: number | null } {
  const mean = (name: string, labels: RegExp): number | null => {
    const [a, b] = [histogramTotals(before, name, labels), histogramTotals(after, name, labels)];
    const n = b.count - a.count;
    return n <= 0 ? null : Number((((b.sum - a.sum) / n) * 1000).toFixed(2));
  };
  return {
    gateway: mean('gateway_http_request_duration_seconds', /route="\/v1\/orders(\/:orderId)?"/),
    kafkaAndEngine: mean('gateway_engine_round_trip_seconds', /type="(placeOrder|cancelOrder)"/),
    append: mean('gateway_command_append_seconds', /^$/),
    eventsRead: mean('gateway_events_read_delay_seconds', /^$/),
  };
}

/**
 * The gateway's event-loop delay (prom-client's gauges: perf_hooks.monitorEventLoopDelay sampled every 10 ms, reset
 * at every scrape, so over the time since the scrape before), in ms. Every events record and every request waits it.
 */
function eventLoopDelayMs(text: string): Record<'mean' | 'p50' | 'p99' | 'max', number | null> {
  const gauge = (stat: string): number | null => {
    const m = new RegExp(`^gateway_nodejs_eventloop_lag_${stat}_seconds ([0-9.e+-]+)$`, 'm').exec(text);
    return m === null ? null : Number((Number(m[1]) * 1000).toFixed(2));
  };
  return { mean: gauge('mean'), p50: gauge('p50'), p99: gauge('p99'), max: gauge('max') };
}

/** CPU time (user + system) of a process so far, in ms; null where /proc is not there. */
function cpuMs(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks: 100 a second on Linux
  } catch {
    return null;
  }
}

/** Where the CPU went while `work` ran: percent of one core per process. */
async function cpuShares<T>(
  pids: Record<string, number>,
  work: () => Promise<T>,
): Promise<{ result: T; cpuPercent: Record<string, number | null> }> {
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuMs(pid)]));
  const startedMs = performance.now();
  const result = await work();
  const elapsedMs = performance.now() - startedMs;
  const cpuPercent = Object.fromEntries(
    Object.entries(pids).map(([name, pid]) => {
      const a = before[name];
      const b = cpuMs(pid);
      return [name, a === null || b === null ? null : Math.round(((b - a) / elapsedMs) * 100)];
    }),
  );
  return { result, cpuPercent };
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
  const loadAverage = os.loadavg()[0];
  const broker = await startKafkaBroker();
  const db = await createTestDatabase('bench_gw');
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bench-gw-'));
  if (AUTH !== 'apiKey' && AUTH !== 'session') throw new Error(`GW_BENCH_AUTH must be apiKey or session, got ${AUTH}`);
  if (STORES !== 'redis' && STORES !== 'memory')
    throw new Error(`GW_BENCH_STORES must be redis or memory, got ${STORES}`);
  const redis = new Redis(REDIS_URL);
  const prefix = `bench:gw:${process.pid}:${randomBytes(3).toString('hex')}:`;
  const id = `bench-${randomUUID().slice(0, 8)}`;
  const topics = { commandsTopic: `${id}.commands`, eventsTopic: `${id}.events` };
  const kafka = kafkaClient([broker.brokers], 'bench-gateway');
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, topics);
  // The daemon reads its committed offset first thing and stops on NOT_COORDINATOR_FOR_GROUP while the fresh
  // broker is still loading its group coordinator: wait for the coordinator to answer before starting it.
  await waitFor(
    async () =>
      admin.fetchOffsets({ groupId: `${id}.engine`, topics: [topics.commandsTopic] }).then(
        () => true,
        () => false,
      ),
    60_000,
    () => 'group coordinator not ready',
  );
  await admin.disconnect();
  const env = {
    KAFKA_BROKERS: broker.brokers,
    KAFKA_COMMANDS_TOPIC: topics.commandsTopic,
    KAFKA_EVENTS_TOPIC: topics.eventsTopic,
    DATABASE_URL: db.url,
  };
  const daemon = startDaemon({ ...env, DATA_DIR: dataDir, ENGINE_ID: id });
  const persistence = spawnTs('persistence/main.ts', env);
  const [port] = await pickFreeLoopbackPorts(1);
  const gateway = spawnTs(
    'gateway/main.ts',
    {
      ...env,
      REDIS_PREFIX: prefix,
      GATEWAY_HOST: '127.0.0.1',
      GATEWAY_PORT: String(port),
      GATEWAY_SECRET_KEY: randomBytes(32).toString('hex'),
      DEPOSIT_XPUB: new HdKeys(MNEMONIC).depositXpub(),
      GATEWAY_SCRYPT_COST: '1024',
      LOG_LEVEL,
      GATEWAY_RATE_LIMIT_IP_PER_MIN: String(RATE_LIMIT_PER_MIN),
      GATEWAY_RATE_LIMIT_KEY_PER_MIN: String(RATE_LIMIT_PER_MIN),
      // Empty: the gateway keeps its stores in process (spawnTs passes this process's environment on).
      REDIS_URL: STORES === 'redis' ? REDIS_URL : '',
    },
    PROFILE_DIR === null ? [] : ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`],
  ); // written when it exits (SIGTERM at the end: exit 0)
  let profileWindowUs: [number, number] | null = null;
  // A child that stops during the run makes every figure meaningless: say which and why, and fail the run.
  let stopping = false;
  const died: string[] = [];
  for (const [name, proc] of Object.entries({ daemon, persistence, gateway })) {
    void proc.exited.then((e) => {
      if (stopping) return;
      died.push(name);
      process.stderr.write(
        `bench: ${name} exited (${JSON.stringify(e)}) during the run:\n${proc.output().slice(-4000)}\n`,
      );
    });
  }
  const base = `http://127.0.0.1:${port}`;
  const writer = new KafkaCommandWriter(kafka, topics.commandsTopic);
  try {
    await writer.connect();
    const send = (cmds: CommandInput[]) => writer.append(cmds.map((c) => new TextEncoder().encode(encodeCommand(c))));
    await send([
      { v: COMMAND_VERSION, type: 'addAsset', id: 'a1', assetId: 1, symbol: 'ETH', decimals: 18 },
      { v: COMMAND_VERSION, type: 'addAsset', id: 'a2', assetId: 2, symbol: 'USDT', decimals: 6 },
      {
        v: COMMAND_VERSION,
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
    ]);
    await waitFor(
      async () => (await fetch(`${base}/ready`).catch(() => null))?.status === 200,
      120_000,
      () => gateway.output(),
    );
    const post = (url: string, body: unknown) =>
      fetch(base + url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then((r) => r.json() as Promise<any>);
    const creds: Credential[] = [];
    const deposits: CommandInput[] = [];
    for (let i = 0; i < USERS; i++) {
      const user = { username: `bench${i}`, password: 'bench password 123' };
      await post('/v1/auth/register', user);
      const s = await post('/v1/auth/login', user);
      if (AUTH === 'session') creds.push({ token: s.token as string });
      else {
        const key = await fetch(`${base}/v1/api-keys`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${s.token as string}` },
          body: JSON.stringify({ label: 'bench', scopes: ['read', 'trade'] }),
        }).then((r) => r.json() as Promise<any>);
        creds.push({ keyId: key.keyId as string, secret: key.secret as string });
      }
      deposits.push({
        v: COMMAND_VERSION,
        type: 'deposit',
        id: `d${i}e`,
        userId: s.userId,
        assetId: 1,
        amount: 10n ** 24n,
        depositId: `d${i}e`,
      });
      deposits.push({
        v: COMMAND_VERSION,
        type: 'deposit',
        id: `d${i}u`,
        userId: s.userId,
        assetId: 2,
        amount: 10n ** 15n,
        depositId: `d${i}u`,
      });
    }
    await send(deposits);
    // Warm-up (JIT, connections, caches) before measuring.
    await placeCancel(base, creds, CONNECTIONS, { duration: 2 });
    const max = await placeCancel(base, creds, CONNECTIONS, {});
    const pids = {
      gateway: gateway.child.pid ?? 0,
      daemon: daemon.child.pid ?? 0,
      persistence: persistence.child.pid ?? 0,
      broker: broker.pid,
      benchClient: process.pid,
    };
    const metricsText = () => fetch(`${base}/metrics`).then((r) => r.text());
    const metricsBefore = await metricsText();
    const fixedFromUs = monotonicUs();
    const { result: fixed, cpuPercent } = await cpuShares(pids, () =>
      placeCancel(base, creds, FIXED_CONNECTIONS, { overallRate: RATE * 2 }),
    );
    profileWindowUs = [fixedFromUs, monotonicUs()];
    const metricsAfter = await metricsText();
    const split = serverSplitMs(metricsBefore, metricsAfter);
    if (died.length > 0) throw new Error(`${died.join(', ')} stopped during the run (output above)`);
    const hello = await helloWorld();
    const ordersPerSec = max.requests.average / 2;
    process.stdout.write(
      JSON.stringify({
        ordersPerSec: Math.round(ordersPerSec),
        latencyMsP50: fixed.latency.p50,
        latencyMsP99: fixed.latency.p99,
        offeredOrdersPerSec: RATE,
        achievedOrdersPerSecAtFixedRate: Math.round(fixed.requests.average / 2),
        helloWorldPerSec: Math.round(hello),
        ratioVsHelloWorld: Number(((ordersPerSec * 2) / hello).toFixed(4)),
        non2xx: max.non2xx + fixed.non2xx,
        unknownAnswers: max.answers.unknown + fixed.answers.unknown,
        failedAnswers: max.answers.failed + fixed.answers.failed,
        cpuPercentAtFixedRate: cpuPercent,
        gatewayCpuUsPerOrderAtFixedRate:
          cpuPercent.gateway === null || fixed.requests.average === 0
            ? null
            : Math.round((cpuPercent.gateway * 10_000) / (fixed.requests.average / 2)),
        latencySplitMsMeanAtFixedRate: { client: fixed.latency.average, ...split },
        gatewayEventLoopDelayMsAtFixedRate: eventLoopDelayMs(metricsAfter),
        errors: max.errors + fixed.errors + max.timeouts + fixed.timeouts,
        users: USERS,
        connections: CONNECTIONS,
        fixedConnections: FIXED_CONNECTIONS,
        auth: AUTH,
        stores: STORES,
        logLevel: LOG_LEVEL,
        rateLimitPerMin: RATE_LIMIT_PER_MIN,
        seconds: SECONDS,
        cpus: os.cpus().length,
        loadAverage: Number(loadAverage.toFixed(2)),
      }) + '\n',
    );
  } finally {
    await writer.close().catch(() => undefined);
    stopping = true;
    for (const p of [gateway.child, persistence.child, daemon.child]) p.kill('SIGTERM');
    await Promise.all([gateway.exited, persistence.exited, daemon.exited]);
    if (PROFILE_DIR !== null && profileWindowUs !== null)
      await printGatewayProfile(PROFILE_DIR, gateway.child.pid ?? 0, profileWindowUs);
    await deleteKeys(redis, prefix);
    redis.disconnect();
    await db.drop();
    await rm(dataDir, { recursive: true, force: true });
    await broker.stop();
  }
}

/** The gateway's main-thread profile (tsx's loader thread writes one too), summarized over the fixed-rate part. */
async function printGatewayProfile(dir: string, pid: number, windowUs: [number, number]): Promise<void> {
  // Node names profiles CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile; the main thread is thread 0.
  const file = (await readdir(dir)).find((f) =>
    new RegExp(`^CPU\\.\\d+\\.\\d+\\.${pid}\\.0\\.\\d+\\.cpuprofile$`).test(f),
  );
  if (file === undefined) {
    process.stderr.write(`bench: no main-thread profile of the gateway (pid ${pid}) in ${dir}\n`);
    return;
  }
  process.stderr.write(
    `${formatSummary(`gateway at the fixed rate (${path.join(dir, file)})`, await summarizeProfileFile(path.join(dir, file), 30, windowUs))}\n`,
  );
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
