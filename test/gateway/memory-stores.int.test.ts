// The gateway with in-process stores (memoryStores(): the embedded single-instance exchange, no Redis), over
// app.inject() against real PostgreSQL and the in-process engine (support.ts). Given a gateway whose stores are in
// memory, then: a replayed signature is refused, the per-key and per-IP rate limits answer 429, a signature the
// full store cannot remember is refused (503, never accepted), a command answered "unknown" can be looked up and
// later shows its result, /ready holds, and nothing of it was written to Redis.

import t from 'tap';
import { memoryStores } from '../../gateway/stores/gateway-stores.js';
import {
  MARKET,
  USDT,
  createKey,
  deposit,
  registerUser,
  setupMarket,
  signedHeaders,
  startTestGateway,
} from './support.js';

// signaturesMax 6 and 3 requests a minute per key: the signed requests below are counted against both.
const tg = await startTestGateway(
  'mem',
  { rateLimitIpPerMin: 40, rateLimitKeyPerMin: 3, commandTimeoutMs: 300 },
  { stores: memoryStores({ signaturesMax: 6 }) },
);
t.teardown(() => tg.close());
const app = tg.gw.app;
await setupMarket(tg.bus);
const user = await registerUser(tg.gw, 'mona');
const key = await createKey(tg.gw, user, ['read']);
const url = '/v1/balances';
const t0 = Date.now();
const signed = (i: number) => app.inject({ method: 'GET', url, headers: signedHeaders(key, 'GET', url, '', t0 + i) });

t.test("replays are refused, the key's rate limit answers 429, and a full signature store refuses (503)", async (t) => {
  const first = await signed(0);
  t.equal(first.statusCode, 200, 'a signed request passes');
  const replay = await signed(0);
  t.same(
    [replay.statusCode, replay.json().code],
    [401, 'EX_SIGNATURE_REPLAYED'],
    'the same signature twice is refused',
  );
  const codes = [(await signed(1)).statusCode, (await signed(2)).statusCode];
  const limited = await signed(3);
  t.same([...codes, limited.statusCode], [200, 200, 429], "the key's limit of 3 a minute");
  t.equal(limited.json().code, 'EX_RATE_LIMITED');
  t.match(limited.headers['retry-after'], /^\d+$/);
  const replayOfLimited = await signed(3);
  t.equal(
    replayOfLimited.json().code,
    'EX_SIGNATURE_REPLAYED',
    'a signature counted by the rate limit is remembered too',
  );
  t.equal((await signed(4)).statusCode, 429);
  t.equal((await signed(5)).statusCode, 429, 'sixth signature: the store is now full');
  const full = await signed(6);
  t.same(
    [full.statusCode, full.json().code],
    [503, 'EX_UNAVAILABLE'],
    'a signature the store cannot remember is not accepted',
  );
  t.equal((await signed(0)).json().code, 'EX_SIGNATURE_REPLAYED', 'the remembered ones are still refused');
});

t.test('the per-IP limit answers 429 and each IP counts apart', async (t) => {
  const codes: number[] = [];
  for (let i = 0; i < 41; i++)
    codes.push((await app.inject({ method: 'GET', url: '/v1/orders/open', remoteAddress: '10.1.1.1' })).statusCode);
  t.same(codes.slice(0, 40), Array(40).fill(401), 'within the limit: answered (unauthenticated)');
  const last = await app.inject({ method: 'GET', url: '/v1/orders/open', remoteAddress: '10.1.1.1' });
  t.same([codes[40], last.statusCode, last.json().code], [429, 429, 'EX_RATE_LIMITED']);
  t.equal(
    (await app.inject({ method: 'GET', url: '/v1/orders/open', remoteAddress: '10.1.1.2' })).statusCode,
    401,
    'another IP has its own budget',
  );
});

t.test('a command answered unknown is recorded in memory and later shows its result', async (t) => {
  // A user of its own: 3 requests, within the per-user limit of 3 a minute.
  const nina = await registerUser(tg.gw, 'nina');
  await deposit(tg.bus, nina.userId, USDT, 1_000_000_000n);
  tg.bus.hold();
  const pending = await app.inject({
    method: 'POST',
    url: '/v1/orders',
    headers: nina.bearer,
    payload: { marketId: MARKET, side: 'buy', orderType: 'limit', price: '100', quantity: '0.01' },
  });
  t.equal(pending.statusCode, 202);
  const lookup = await app.inject({ method: 'GET', url: pending.json().lookup, headers: nina.bearer });
  t.match(lookup.json(), { status: 'unknown' });
  await tg.bus.release();
  await new Promise((r) => setTimeout(r, 200));
  const later = await app.inject({ method: 'GET', url: pending.json().lookup, headers: nina.bearer });
  t.match(later.json(), { status: 'accepted', code: null }, 'the late result replaced the record');
});

t.test('/ready holds without Redis, and nothing was written to Redis', async (t) => {
  const ready = await app.inject({ method: 'GET', url: '/ready' });
  t.same([ready.statusCode, ready.json().checks], [200, { postgres: true, redis: true, kafka: true }]);
  t.same(await tg.redis.keys(`${tg.prefix}*`), [], "no key under this gateway's prefix");
});
