// Thousands of random and malformed requests to every route (bodies, query strings, path parameters, headers),
// as nobody, with garbage credentials, as a logged-in user and as an admin operator (reads only): never a 5xx, always `{ code, message }`, and no
// state change (no command reaches the engine, no account, session or key is created, nothing in Redis but
// rate-limit counters). A failure prints the seed; GW_FUZZ_SEED=<seed> replays it.

import t from 'tap';
import { Prng } from '../../testkit/prng.js';
import { MARKET, USDT, createOperator, deposit, registerUser, setupMarket, startTestGateway } from './support.js';

const SEED = Number(process.env.GW_FUZZ_SEED ?? Date.now() % 1_000_000);
const REQUESTS = Number(process.env.GW_FUZZ_REQUESTS ?? 3000);

const STRINGS = [
  '',
  ' ',
  'a',
  '0',
  '-1',
  '1e400',
  '1.5',
  'NaN',
  'null',
  'true',
  '"',
  '\\',
  '%',
  '%zz',
  '\u0000',
  '\ud800',
  '💥',
  '<script>',
  "' OR 1=1 --",
  '../../etc/passwd',
  '__proto__',
  'x'.repeat(300),
  '9'.repeat(100),
  '1850.25',
  'ETH',
  'buy',
  'limit',
  'GTC',
];
const KEYS = [
  'marketId',
  'side',
  'orderType',
  'price',
  'stopPrice',
  'quantity',
  'quoteQuantity',
  'timeInForce',
  'postOnly',
  'stp',
  'clientOrderId',
  'username',
  'password',
  'label',
  'scopes',
  'asset',
  'amount',
  'address',
  '__proto__',
  'constructor',
  'v',
  'type',
  'id',
  'userId',
];

function value(r: Prng, depth = 0): unknown {
  switch (r.int(0, depth > 2 ? 4 : 6)) {
    case 0:
      return r.pick(STRINGS);
    case 1:
      return r.pick([0, -1, 1, 1.5, 2 ** 53, -(2 ** 63), 1e308, Number.MAX_SAFE_INTEGER + 2]);
    case 2:
      return r.chance(0.5);
    case 3:
      return null;
    case 4:
      return String(r.int(0, 1e9));
    case 5:
      return Array.from({ length: r.int(0, 4) }, () => value(r, depth + 1));
    default:
      return object(r, depth + 1);
  }
}

function object(r: Prng, depth = 0): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (let i = r.int(0, 6); i > 0; i--) o[r.chance(0.8) ? r.pick(KEYS) : r.pick(STRINGS)] = value(r, depth);
  return o;
}

function body(r: Prng): { payload: string | undefined; contentType: string | undefined } {
  switch (r.int(0, 7)) {
    case 0:
      return { payload: undefined, contentType: undefined };
    case 1:
      return { payload: '{"marketId":1,"side":', contentType: 'application/json' };
    case 2:
      return {
        payload: r.pick(STRINGS),
        contentType: r.pick([
          'application/json',
          'text/plain',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
        ]),
      };
    case 3:
      return { payload: JSON.stringify(value(r)), contentType: 'application/json' };
    case 4:
      return { payload: 'x'.repeat(r.int(16_000, 40_000)), contentType: 'application/json' };
    case 5:
      return {
        payload: '{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}',
        contentType: 'application/json',
      };
    default:
      return { payload: JSON.stringify(object(r)), contentType: 'application/json' };
  }
}

/** encodeURIComponent, except that a lone surrogate (which it refuses) goes raw: a malformed URL is input too. */
function enc(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return text;
  }
}

function query(r: Prng): string {
  if (r.chance(0.4)) return '';
  const parts = Array.from(
    { length: r.int(1, 4) },
    () =>
      `${enc(r.pick(['marketId', 'limit', 'before', 'x', '__proto__', 'limit[]']))}=${r.chance(0.8) ? enc(String(value(r, 3))) : r.pick(['%zz', '%', '&&', '=='])}`,
  );
  return '?' + parts.join('&');
}

function fillPath(r: Prng, url: string): string {
  return url.replace(/:([A-Za-z]+)/g, () =>
    r.chance(0.5)
      ? enc(String(value(r, 3)))
      : r.pick(['1', '0', '-1', '%zz', '99999999999999999999', 'k_' + 'a'.repeat(24), 'w-x']),
  );
}

t.test(`fuzz every route, ${REQUESTS} requests, seed ${SEED}`, async (t) => {
  // Limits high enough that the fuzz measures the routes, not the limiter.
  const tg = await startTestGateway('fuzz', { rateLimitIpPerMin: 10_000_000, rateLimitKeyPerMin: 10_000_000 });
  t.teardown(() => tg.close());
  await setupMarket(tg.bus);
  const user = await registerUser(tg.gw, 'fuzzer');
  await deposit(tg.bus, user.userId, USDT, 1_000_000_000n);
  const admin = await createOperator(tg, 'fuzz_admin', 'admin');
  const counts = async () =>
    (
      await tg.db
        .sql`SELECT (SELECT count(*) FROM gateway_accounts)::int AS accounts, (SELECT count(*) FROM gateway_sessions)::int AS sessions,
    (SELECT count(*) FROM gateway_api_keys)::int AS keys, (SELECT count(*) FROM orders)::int AS orders, (SELECT count(*) FROM chain_deposit_addresses)::int AS addresses,
    (SELECT count(*) FROM gateway_operator_sessions)::int AS operatorSessions, (SELECT count(*) FROM audit_log WHERE actor_type = 'operator')::int AS operatorActions`
    )[0];
  const before = await counts();
  const appliedBefore = tg.bus.applied;
  const routes = tg.gw.routes.filter((r) => !r.url.startsWith('/docs'));
  const r = new Prng(SEED);
  const statuses = new Map<number, number>();
  let failures = 0;
  for (let i = 0; i < REQUESTS; i++) {
    const route = r.pick(routes);
    const method = r.chance(0.9) ? route.method : r.pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);
    const { payload, contentType } = body(r);
    const headers: Record<string, string> = {};
    if (contentType !== undefined) headers['content-type'] = contentType;
    // Credentials: none, garbage, a real session (only on read routes, with malformed input, so nothing may change).
    const auth = r.int(0, 3);
    if (auth === 1)
      headers.authorization = r.pick([
        'Bearer',
        'Bearer s_x',
        `Bearer ${'s_' + 'A'.repeat(43)}`,
        'Basic abc',
        user.token,
      ]);
    if (auth === 2)
      Object.assign(headers, {
        'x-api-key': r.pick([
          'k_' + '0'.repeat(24),
          'k_',
          String(value(r, 3))
            .slice(0, 50)
            .replace(/[^\x20-\x7e]/g, ''),
        ]),
        'x-timestamp': r.pick([String(Date.now()), '0', '-1', 'abc']),
        'x-signature': r.pick(['0'.repeat(64), 'zz']),
      });
    if (auth === 3 && (route.auth === 'read' || route.auth === 'session') && method === 'GET')
      headers.authorization = `Bearer ${user.token}`;
    if (auth === 3 && route.auth.startsWith('operator:') && method === 'GET')
      headers.authorization = `Bearer ${admin.token}`;
    const url = fillPath(r, route.url) + query(r);
    let res;
    try {
      res = await tg.gw.app.inject({ method: method as 'GET', url, headers, payload });
    } catch (err) {
      failures++;
      t.fail(`request threw: ${method} ${url}: ${(err as Error).message}`);
      continue;
    }
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
    if (res.statusCode >= 500) {
      failures++;
      if (failures <= 10)
        t.fail(
          `${res.statusCode} for ${method} ${url} ${JSON.stringify(headers)} body ${JSON.stringify(payload)?.slice(0, 200)}: ${res.body.slice(0, 300)}`,
        );
      continue;
    }
    if ((res.statusCode >= 400 && res.statusCode !== 404) || (res.statusCode === 404 && route.url.startsWith('/v1/'))) {
      let ok = false;
      try {
        const b = res.json() as { code?: unknown; message?: unknown };
        ok = typeof b.code === 'string' && typeof b.message === 'string';
      } catch {
        ok = false;
      }
      if (!ok) {
        failures++;
        if (failures <= 10)
          t.fail(`${res.statusCode} without {code, message} for ${method} ${url}: ${res.body.slice(0, 200)}`);
      }
    }
  }
  t.equal(
    failures,
    0,
    `no 5xx and every error has a code (seed ${SEED}); statuses ${JSON.stringify([...statuses].sort())}`,
  );
  const after = await counts();
  // GET /v1/deposit-address with the user's session is a read that allocates the user's one slot on first call.
  t.same(
    { ...after, addresses: 0 },
    { ...before, addresses: 0 },
    'no account, session, key, order or operator action was created',
  );
  t.ok(after.addresses <= 1, "at most the fuzzer's own deposit slot");
  t.equal(tg.bus.applied, appliedBefore, 'no command reached the engine');
  t.equal(Object.prototype.hasOwnProperty.call({}, 'admin'), false, 'no prototype pollution');
});
