// The gateway over app.inject() against real PostgreSQL, Redis and a real engine (in this process, with its events
// projected by the persistence code; see support.ts). Given / when / then per route family: the contract
// (OpenAPI), authentication (sessions, API keys, HMAC signatures, replays, scopes), rate limits, trading (every
// order type, cancel, cancel all, amend, reads), the unknown-result path, wallet routes, secrets kept out of logs
// and responses, and isolation: every route tried as the wrong user and as nobody.

import { Writable } from 'node:stream';
import t from 'tap';
import { Ajv } from 'ajv';
import pino from 'pino';
import { gatewayLoggerOptions } from '../../gateway/logging.js';
import {
  ETH,
  MARKET,
  USDT,
  addWithdrawalAddress,
  createKey,
  deposit,
  registerUser,
  setupMarket,
  signedHeaders,
  startTestGateway,
} from './support.js';
import type { TestGateway, TestUser } from './support.js';
import { CLOSE_REASONS, ORDER_TYPES, REJECT_CODES, SIDES, STP_MODES, TIME_IN_FORCES } from '../../engine/core/index.js';
import { GATEWAY_ERRORS } from '../../gateway/errors.js';

const ADDRESS = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';

function logCapture(): { logger: pino.Logger; text: () => string } {
  let text = '';
  const stream = new Writable({ write: (chunk, _enc, done) => void ((text += chunk.toString()), done()) });
  return { logger: pino({ ...gatewayLoggerOptions('trace') }, stream), text: () => text };
}

interface JsonSchema {
  $ref?: string;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
}
interface OpenApiDoc {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: JsonSchema }> }> }>
  >;
  components?: { schemas?: Record<string, JsonSchema> };
}

function resolve(doc: OpenApiDoc, s: JsonSchema): JsonSchema {
  if (s.$ref === undefined) return s;
  const name = s.$ref.replace(/^#\/components\/schemas\//, '');
  const target = doc.components?.schemas?.[name];
  if (target === undefined) throw new Error(`unresolved ${s.$ref}`);
  return resolve(doc, target);
}

function responseSchema(doc: OpenApiDoc, path: string, method: string, code: string): JsonSchema {
  const content = doc.paths[path][method].responses[code].content ?? {};
  return resolve(doc, content['application/json'].schema);
}

/** The values a property may take, as a client generated from the document sees them (null left out). */
function enumAt(doc: OpenApiDoc, object: JsonSchema, property: string): unknown[] {
  const values = (s: JsonSchema): unknown[] => {
    const r = resolve(doc, s);
    return [...(r.enum ?? []), ...[...(r.anyOf ?? []), ...(r.oneOf ?? [])].flatMap(values)].filter((v) => v !== null);
  };
  const prop = object.properties?.[property];
  if (prop === undefined) throw new Error(`no property ${property}`);
  return values(prop);
}

t.test('gateway API', async (t) => {
  const logs = logCapture();
  let clockMs = Date.now();
  const tg: TestGateway = await startTestGateway(
    'api',
    { withdrawalAddressDelayMs: 0 },
    { logger: logs.logger, nowMs: () => clockMs },
  );
  t.teardown(() => tg.close());
  const app = tg.gw.app;
  await setupMarket(tg.bus);
  const alice = await registerUser(tg.gw, 'alice');
  const bob = await registerUser(tg.gw, 'Bob');
  await deposit(tg.bus, alice.userId, USDT, 100_000_000_000n); // 100,000 USDT
  await deposit(tg.bus, alice.userId, ETH, 10n * 10n ** 18n);
  await deposit(tg.bus, bob.userId, ETH, 10n * 10n ** 18n);
  await deposit(tg.bus, bob.userId, USDT, 100_000_000_000n);
  const place = (u: TestUser, payload: Record<string, unknown>) =>
    app.inject({ method: 'POST', url: '/v1/orders', headers: u.bearer, payload: { marketId: MARKET, ...payload } });

  t.test('the OpenAPI document is well formed and lists every route with its schemas', async (t) => {
    const res = await app.inject({ method: 'GET', url: '/openapi.json' });
    t.equal(res.statusCode, 200);
    const doc = res.json() as {
      openapi: string;
      paths: Record<
        string,
        Record<
          string,
          {
            responses: Record<string, { content?: Record<string, { schema: object }> }>;
            requestBody?: { content: Record<string, { schema: object }> };
            parameters?: { schema: object }[];
          }
        >
      >;
    };
    t.match(doc.openapi, /^3\.0\./);
    const ajv = new Ajv({ strict: false, allErrors: true });
    const apiRoutes = tg.gw.routes.filter(
      (r) => r.url.startsWith('/v1/') || ['/health', '/ready', '/metrics'].includes(r.url),
    );
    t.ok(apiRoutes.length >= 25, `${apiRoutes.length} routes`);
    for (const r of apiRoutes) {
      const path = r.url.replace(/:([A-Za-z]+)/g, '{$1}');
      const op = doc.paths[path]?.[r.method.toLowerCase()];
      if (!t.ok(op, `${r.method} ${path} is in the document`)) continue;
      const success = Object.keys(op.responses).filter((c) => /^2\d\d$/.test(c));
      t.ok(success.length >= 1, `${r.method} ${path} documents a success response`);
      if (r.url.startsWith('/v1/'))
        t.ok(op.responses['4XX'] ?? op.responses['4xx'], `${r.method} ${path} documents its errors`);
      const schemas = [
        ...Object.values(op.responses).flatMap((x) => Object.values(x.content ?? {}).map((c) => c.schema)),
        ...Object.values(op.requestBody?.content ?? {}).map((c) => c.schema),
        ...(op.parameters ?? []).map((p) => p.schema),
      ];
      for (const s of schemas) t.doesNotThrow(() => ajv.compile(s), `${r.method} ${path}: a valid JSON schema`);
      const bodiless = ['/v1/auth/logout', '/v1/auth/2fa/setup', '/v1/admin/auth/logout'];
      if (r.url.startsWith('/v1/admin/'))
        t.same((op as { tags?: string[] }).tags, ['admin'], `${r.method} ${path} is tagged admin`);
      if (['POST', 'PATCH'].includes(r.method) && !bodiless.includes(r.url))
        t.ok(op.requestBody, `${r.method} ${path} documents its body`);
    }
    const docs = await app.inject({ method: 'GET', url: '/docs/' });
    t.equal(docs.statusCode, 200, 'Swagger UI is served');
  });

  t.test('the OpenAPI document lists the values of every enum an answer carries', async (t) => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as OpenApiDoc;
    const order = responseSchema(doc, '/v1/orders/{orderId}', 'get', '200');
    t.same(enumAt(doc, order, 'side'), [...SIDES], 'side');
    t.same(enumAt(doc, order, 'orderType'), [...ORDER_TYPES], 'order type');
    t.same(enumAt(doc, order, 'timeInForce'), [...TIME_IN_FORCES], 'time in force');
    t.same(enumAt(doc, order, 'stp'), [...STP_MODES], 'self-trade prevention');
    t.same(enumAt(doc, order, 'closeReason'), [...CLOSE_REASONS], 'close reason');
    const status = responseSchema(doc, '/v1/commands/{commandId}', 'get', '200');
    t.same(enumAt(doc, status, 'code').sort(), Object.keys(REJECT_CODES).sort(), "a command's reject code");
    const error = responseSchema(doc, '/v1/orders', 'post', '4XX');
    t.same(
      enumAt(doc, error, 'code').sort(),
      [...Object.keys(GATEWAY_ERRORS), ...Object.keys(REJECT_CODES)].sort(),
      "an error's code",
    );
  });

  t.test('registration and login', async (t) => {
    const dup = await app.inject({
      method: 'POST',
      url: '/v1/auth/register',
      payload: { username: 'ALICE', password: 'another long password' },
    });
    t.same([dup.statusCode, dup.json().code], [409, 'EX_USERNAME_TAKEN'], 'usernames are case-insensitive');
    const wrong = await app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { username: 'alice', password: 'wrong password!' },
    });
    t.same([wrong.statusCode, wrong.json().code], [401, 'EX_BAD_CREDENTIALS']);
    const nobody = await app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { username: 'nobody', password: 'wrong password!' },
    });
    t.same(
      [nobody.statusCode, nobody.json().code],
      [401, 'EX_BAD_CREDENTIALS'],
      'an unknown user looks like a wrong password',
    );
    const short = await app.inject({
      method: 'POST',
      url: '/v1/auth/register',
      payload: { username: 'carol', password: 'short' },
    });
    t.same([short.statusCode, short.json().code], [400, 'EX_BAD_REQUEST']);
    const [row] = await tg.db.sql`SELECT password_hash FROM gateway_accounts WHERE user_id = ${alice.userId}`;
    t.match(
      row.password_hash,
      /^scrypt\$1024\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/,
      'stored as a salted scrypt hash',
    );
    const [profile] = await tg.db.sql`SELECT display_name, registered_at FROM users WHERE user_id = ${bob.userId}`;
    t.equal(profile.display_name, 'bob', 'the persistence users row got the profile when it appeared');
    t.ok(profile.registered_at instanceof Date);

    const temp = await registerUser(tg.gw, 'dave');
    const out = await app.inject({ method: 'POST', url: '/v1/auth/logout', headers: temp.bearer });
    t.equal(out.statusCode, 204);
    const after = await app.inject({ method: 'GET', url: '/v1/balances', headers: temp.bearer });
    t.same([after.statusCode, after.json().code], [401, 'EX_SESSION_INVALID'], 'a revoked session is refused');
    const temp2 = await registerUser(tg.gw, 'erin');
    clockMs += tg.options.sessionTtlMs + 10_000;
    const expired = await app.inject({ method: 'GET', url: '/v1/balances', headers: temp2.bearer });
    clockMs = Date.now();
    t.same([expired.statusCode, expired.json().code], [401, 'EX_SESSION_INVALID'], 'an expired session is refused');
  });

  t.test('API keys: HMAC signatures, time window, replays, scopes, revocation', async (t) => {
    const readKey = await createKey(tg.gw, alice, ['read']);
    const tradeKey = await createKey(tg.gw, alice, ['read', 'trade']);
    t.match(readKey.secret, /^[A-Za-z0-9_-]{43}$/);
    const [stored] = await tg.db.sql`SELECT secret_enc FROM gateway_api_keys WHERE key_id = ${readKey.keyId}`;
    t.notOk(Buffer.from(stored.secret_enc).includes(Buffer.from(readKey.secret)), 'the secret is not stored in clear');
    const list = await app.inject({ method: 'GET', url: '/v1/api-keys', headers: alice.bearer });
    t.equal(list.statusCode, 200);
    t.notOk(list.body.includes(readKey.secret), 'listing never shows a secret');
    t.equal(list.json().keys.length, 2);

    const url = '/v1/balances';
    const headers = signedHeaders(readKey, 'GET', url, '');
    const ok = await app.inject({ method: 'GET', url, headers });
    t.equal(ok.statusCode, 200, 'a signed request passes');
    t.equal(ok.json().balances.length, 2);
    const replay = await app.inject({ method: 'GET', url, headers });
    t.same(
      [replay.statusCode, replay.json().code],
      [401, 'EX_SIGNATURE_REPLAYED'],
      'the same signature twice is refused',
    );
    const old = await app.inject({
      method: 'GET',
      url,
      headers: signedHeaders(readKey, 'GET', url, '', Date.now() - tg.options.signatureWindowMs - 5000),
    });
    t.same([old.statusCode, old.json().code], [401, 'EX_TIMESTAMP_OUT_OF_WINDOW']);
    const future = await app.inject({
      method: 'GET',
      url,
      headers: signedHeaders(readKey, 'GET', url, '', Date.now() + tg.options.signatureWindowMs + 5000),
    });
    t.same([future.statusCode, future.json().code], [401, 'EX_TIMESTAMP_OUT_OF_WINDOW']);
    const otherQuery = await app.inject({
      method: 'GET',
      url: '/v1/orders/history?limit=2',
      headers: signedHeaders(readKey, 'GET', '/v1/orders/history?limit=1', ''),
    });
    t.same([otherQuery.statusCode, otherQuery.json().code], [401, 'EX_SIGNATURE_INVALID'], 'the query is signed');

    const body = JSON.stringify({ marketId: MARKET, side: 'buy', orderType: 'limit', price: '100', quantity: '0.01' });
    const noScope = await app.inject({
      method: 'POST',
      url: '/v1/orders',
      headers: signedHeaders(readKey, 'POST', '/v1/orders', body),
      payload: body,
    });
    t.same([noScope.statusCode, noScope.json().code], [403, 'EX_SCOPE_MISSING'], 'a read key cannot trade');
    const tampered = await app.inject({
      method: 'POST',
      url: '/v1/orders',
      headers: signedHeaders(tradeKey, 'POST', '/v1/orders', body),
      payload: body.replace('0.01', '0.02'),
    });
    t.same([tampered.statusCode, tampered.json().code], [401, 'EX_SIGNATURE_INVALID'], 'the body is signed');
    const traded = await app.inject({
      method: 'POST',
      url: '/v1/orders',
      headers: signedHeaders(tradeKey, 'POST', '/v1/orders', body),
      payload: body,
    });
    t.equal(traded.statusCode, 201, `a trade key places an order ${traded.body}`);
    const keyMint = await app.inject({
      method: 'POST',
      url: '/v1/api-keys',
      headers: signedHeaders(tradeKey, 'POST', '/v1/api-keys', '{"label":"x","scopes":["read"]}'),
      payload: '{"label":"x","scopes":["read"]}',
    });
    t.same([keyMint.statusCode, keyMint.json().code], [403, 'EX_SESSION_REQUIRED'], 'an API key cannot mint keys');
    const noWithdraw = await app.inject({
      method: 'POST',
      url: '/v1/withdrawals',
      headers: signedHeaders(tradeKey, 'POST', '/v1/withdrawals', '{}'),
      payload: '{}',
    });
    t.same(
      [noWithdraw.statusCode, noWithdraw.json().code],
      [403, 'EX_SCOPE_MISSING'],
      'withdrawals need the withdraw scope',
    );

    const revoke = await app.inject({ method: 'DELETE', url: `/v1/api-keys/${readKey.keyId}`, headers: alice.bearer });
    t.equal(revoke.statusCode, 204);
    const revoked = await app.inject({ method: 'GET', url, headers: signedHeaders(readKey, 'GET', url, '') });
    t.same([revoked.statusCode, revoked.json().code], [401, 'EX_API_KEY_INVALID'], 'a revoked key is refused at once');
    const bobRevokes = await app.inject({
      method: 'DELETE',
      url: `/v1/api-keys/${tradeKey.keyId}`,
      headers: bob.bearer,
    });
    t.same(
      [bobRevokes.statusCode, bobRevokes.json().code],
      [404, 'EX_API_KEY_NOT_FOUND'],
      "nobody revokes another user's key",
    );
  });

  t.test("placing every order type, with fills and the engine's codes", async (t) => {
    const rest = await place(bob, {
      side: 'sell',
      orderType: 'limit',
      price: '2000',
      quantity: '2',
      clientOrderId: 'bob-ask-1',
    });
    t.equal(rest.statusCode, 201);
    t.match(rest.json(), {
      status: 'accepted',
      orderStatus: 'new',
      filledQuantity: '0',
      remainingQuantity: '2',
      fills: [],
    });
    const bobAsk = rest.json().orderId as number;

    const take = await place(alice, {
      side: 'buy',
      orderType: 'limit',
      price: '2000.5',
      quantity: '0.5',
      timeInForce: 'IOC',
    });
    t.match(
      take.json(),
      {
        status: 'accepted',
        orderStatus: 'filled',
        filledQuantity: '0.5',
        remainingQuantity: '0',
        fills: [{ price: '2000', quantity: '0.5', fee: '2', liquidity: 'taker' }],
      },
      "IOC taker filled at the maker's price, fee 20 bps",
    );
    const fok = await place(alice, {
      side: 'buy',
      orderType: 'limit',
      price: '2000',
      quantity: '5',
      timeInForce: 'FOK',
    });
    t.same(
      [fok.statusCode, fok.json().code],
      [422, 'ORDER_FOK_NOT_FILLABLE'],
      "an engine rejection carries the engine's code",
    );
    t.match(fok.json().commandId, /^gw:/);
    const post = await place(alice, {
      side: 'buy',
      orderType: 'limit',
      price: '2000',
      quantity: '0.1',
      postOnly: true,
    });
    t.same([post.statusCode, post.json().code], [422, 'ORDER_POST_ONLY_WOULD_TAKE']);
    const mkt = await place(alice, { side: 'buy', orderType: 'market', quantity: '0.25' });
    t.match(mkt.json(), { orderStatus: 'filled', filledQuantity: '0.25' });
    const byQuote = await place(alice, { side: 'buy', orderType: 'market', quoteQuantity: '200.4' });
    t.match(
      byQuote.json(),
      { status: 'accepted', filledQuantity: '0.1', fills: [{ price: '2000', quantity: '0.1', fee: '0.4' }] },
      'a market buy by quote budget (fee included)',
    );
    const stopLimit = await place(alice, {
      side: 'buy',
      orderType: 'stopLimit',
      stopPrice: '2100',
      price: '2150',
      quantity: '0.1',
    });
    t.match(stopLimit.json(), { status: 'accepted', orderStatus: 'pendingTrigger' });
    const stopMarket = await place(bob, { side: 'sell', orderType: 'stopMarket', stopPrice: '1500', quantity: '0.1' });
    t.match(stopMarket.json(), { status: 'accepted', orderStatus: 'pendingTrigger' });
    const poor = await place(alice, { side: 'buy', orderType: 'limit', price: '1000', quantity: '1000' });
    t.same([poor.statusCode, poor.json().code], [422, 'RISK_INSUFFICIENT_FUNDS']);
    const precise = await place(alice, { side: 'buy', orderType: 'limit', price: '1000.001', quantity: '1' });
    t.same([precise.statusCode, precise.json().code], [400, 'EX_PRICE_TOO_PRECISE']);
    const lots = await place(alice, { side: 'buy', orderType: 'limit', price: '1000', quantity: '0.00001' });
    t.same([lots.statusCode, lots.json().code], [400, 'EX_QTY_TOO_PRECISE']);
    const huge = await place(alice, { side: 'buy', orderType: 'limit', price: '1' + '0'.repeat(78), quantity: '1' });
    t.same([huge.statusCode, huge.json().code], [400, 'EX_VALUE_OVERFLOW']);
    const noMarket = await place(alice, { marketId: 99, side: 'buy', orderType: 'limit', price: '1', quantity: '1' });
    t.same([noMarket.statusCode, noMarket.json().code], [404, 'EX_MARKET_UNKNOWN']);
    const dupCid = await place(bob, {
      side: 'sell',
      orderType: 'limit',
      price: '2000',
      quantity: '2',
      clientOrderId: 'bob-ask-1',
    });
    t.match(
      dupCid.json(),
      { status: 'accepted', orderId: bobAsk, duplicateOf: rest.json().commandId },
      'a repeated client order id places nothing',
    );

    const one = await app.inject({ method: 'GET', url: `/v1/orders/${bobAsk}`, headers: bob.bearer });
    t.match(one.json(), {
      orderId: bobAsk,
      status: 'partiallyFilled',
      price: '2000',
      quantity: '2',
      filledQuantity: '0.85',
      remainingQuantity: '1.15',
      clientOrderId: 'bob-ask-1',
      avgFillPrice: '2000',
    });
    const byCid = await app.inject({ method: 'GET', url: '/v1/orders/by-client-id/bob-ask-1', headers: bob.bearer });
    t.equal(byCid.json().orderId, bobAsk);

    const amend = await app.inject({
      method: 'PATCH',
      url: `/v1/orders/${bobAsk}`,
      headers: bob.bearer,
      payload: { quantity: '1.5' },
    });
    t.match(amend.json(), {
      status: 'accepted',
      orderId: bobAsk,
      quantity: '1.5',
      remainingQuantity: '0.65',
      keptPriority: true,
    });
    const amendPrice = await app.inject({
      method: 'PATCH',
      url: `/v1/orders/${bobAsk}`,
      headers: bob.bearer,
      payload: { price: '2001' },
    });
    t.match(amendPrice.json(), { price: '2001', keptPriority: false });
    const emptyAmend = await app.inject({
      method: 'PATCH',
      url: `/v1/orders/${bobAsk}`,
      headers: bob.bearer,
      payload: {},
    });
    t.equal(emptyAmend.statusCode, 400, 'an amend must change something');

    const c1 = await place(bob, {
      side: 'sell',
      orderType: 'limit',
      price: '3000',
      quantity: '0.1',
      clientOrderId: 'c1',
    });
    await place(bob, { side: 'sell', orderType: 'limit', price: '3001', quantity: '0.1' });
    const cancelByCid = await app.inject({ method: 'DELETE', url: '/v1/orders/by-client-id/c1', headers: bob.bearer });
    t.match(cancelByCid.json(), {
      status: 'accepted',
      canceled: [{ orderId: c1.json().orderId, remainingQuantity: '0.1' }],
    });
    const cancelOne = await app.inject({ method: 'DELETE', url: `/v1/orders/${bobAsk}`, headers: bob.bearer });
    t.match(cancelOne.json(), { canceled: [{ orderId: bobAsk, remainingQuantity: '0.65' }] });
    const again = await app.inject({ method: 'DELETE', url: `/v1/orders/${bobAsk}`, headers: bob.bearer });
    t.same(
      [again.statusCode, again.json().code],
      [404, 'EX_ORDER_NOT_FOUND'],
      "the engine's ORDER_NOT_FOUND answers as the gateway's",
    );
    const open = await app.inject({ method: 'GET', url: '/v1/orders/open', headers: bob.bearer });
    t.equal(open.json().orders.length, 2, 'the other ask and the stop remain open');
    const all = await app.inject({ method: 'DELETE', url: `/v1/orders?marketId=${MARKET}`, headers: bob.bearer });
    t.equal(all.json().canceled.length, 2, 'cancel all');
    const none = await app.inject({ method: 'GET', url: '/v1/orders/open', headers: bob.bearer });
    t.same(none.json().orders, []);

    const page1 = await app.inject({ method: 'GET', url: '/v1/trades?limit=2', headers: alice.bearer });
    t.equal(page1.json().trades.length, 2);
    const page2 = await app.inject({
      method: 'GET',
      url: `/v1/trades?limit=2&before=${page1.json().nextBefore}`,
      headers: alice.bearer,
    });
    t.ok(
      page2.json().trades.every((x: { tradeId: number }) => x.tradeId < page1.json().nextBefore),
      'the next page is older',
    );
    const history = await app.inject({ method: 'GET', url: '/v1/orders/history?limit=500', headers: bob.bearer });
    t.ok(history.json().orders.some((o: { status: string }) => o.status === 'canceled'));
  });

  t.test('no result in time: status unknown with a lookup that later gives the result', async (t) => {
    tg.bus.hold();
    const pending = await place(alice, { side: 'buy', orderType: 'limit', price: '100', quantity: '0.01' });
    t.equal(pending.statusCode, 202);
    t.match(
      pending.json(),
      { status: 'unknown', orderId: null, lookup: `/v1/commands/${encodeURIComponent(pending.json().commandId)}` },
      'never a false success',
    );
    const lookup = await app.inject({ method: 'GET', url: pending.json().lookup, headers: alice.bearer });
    t.match(lookup.json(), { status: 'unknown' });
    const foreign = await app.inject({ method: 'GET', url: pending.json().lookup, headers: bob.bearer });
    t.equal(foreign.statusCode, 404, 'another user cannot see it');
    await tg.bus.release();
    await new Promise((r) => setTimeout(r, 200));
    const later = await app.inject({ method: 'GET', url: pending.json().lookup, headers: alice.bearer });
    t.match(later.json(), { status: 'accepted', code: null }, 'the late result replaced the record');
    t.type(later.json().orderId, 'number');
  });

  t.test('wallet: deposit address, balances, deposits, withdrawals', async (t) => {
    const a1 = await app.inject({ method: 'GET', url: '/v1/deposit-address', headers: alice.bearer });
    const a2 = await app.inject({ method: 'GET', url: '/v1/deposit-address', headers: alice.bearer });
    const b1 = await app.inject({ method: 'GET', url: '/v1/deposit-address', headers: bob.bearer });
    t.equal(a1.json().address, a2.json().address, 'one address per user');
    t.not(a1.json().address, b1.json().address);
    t.match(a1.json().address, /^0x[0-9a-fA-F]{40}$/);
    const deposits = await app.inject({ method: 'GET', url: '/v1/deposits', headers: alice.bearer });
    t.equal(deposits.json().deposits.length, 2);
    await addWithdrawalAddress(tg.gw, alice, ADDRESS);
    const badSum = await app.inject({
      method: 'POST',
      url: '/v1/withdrawals',
      headers: alice.bearer,
      payload: { asset: 'ETH', amount: '1', address: ADDRESS.toLowerCase() },
    });
    t.same([badSum.statusCode, badSum.json().code], [400, 'EX_ADDRESS_INVALID']);
    const tooMuch = await app.inject({
      method: 'POST',
      url: '/v1/withdrawals',
      headers: alice.bearer,
      payload: { asset: 'ETH', amount: '1000', address: ADDRESS },
    });
    t.same([tooMuch.statusCode, tooMuch.json().code], [422, 'EX_INSUFFICIENT_BALANCE']);
    const tooPrecise = await app.inject({
      method: 'POST',
      url: '/v1/withdrawals',
      headers: alice.bearer,
      payload: { asset: 'USDT', amount: '1.0000001', address: ADDRESS },
    });
    t.same([tooPrecise.statusCode, tooPrecise.json().code], [400, 'EX_AMOUNT_TOO_PRECISE']);
    const unknownAsset = await app.inject({
      method: 'POST',
      url: '/v1/withdrawals',
      headers: alice.bearer,
      payload: { asset: 'DOGE', amount: '1', address: ADDRESS },
    });
    t.same([unknownAsset.statusCode, unknownAsset.json().code], [404, 'EX_ASSET_UNKNOWN']);
    const w = await app.inject({
      method: 'POST',
      url: '/v1/withdrawals',
      headers: alice.bearer,
      payload: { asset: 'ETH', amount: '1.25', address: ADDRESS },
    });
    t.equal(w.statusCode, 201, w.body);
    t.match(w.json(), { status: 'pending', withdrawalId: /^w-/ });
    const state = await app.inject({
      method: 'GET',
      url: `/v1/withdrawals/${w.json().withdrawalId}`,
      headers: alice.bearer,
    });
    t.match(state.json(), { status: 'pending', amount: '1.25', asset: 'ETH', address: ADDRESS, txHash: null });
    const list = await app.inject({ method: 'GET', url: '/v1/withdrawals', headers: alice.bearer });
    t.equal(list.json().withdrawals.length, 1);
    const bal = await app.inject({ method: 'GET', url: '/v1/balances', headers: alice.bearer });
    t.match(
      bal.json().balances.find((b: { asset: string }) => b.asset === 'ETH'),
      { pending: '1.25' },
    );
  });

  t.test("every route as nobody and as the wrong user: nothing of alice's is seen or changed", async (t) => {
    const mine = await place(alice, {
      side: 'buy',
      orderType: 'limit',
      price: '10',
      quantity: '0.1',
      clientOrderId: 'alice-secret',
    });
    const orderId = mine.json().orderId as number;
    const [w] = await tg.db.sql`SELECT withdrawal_id FROM withdrawals WHERE user_id = ${alice.userId} LIMIT 1`;
    const aliceKey = await createKey(tg.gw, alice, ['read']);
    const aliceAddress = (await app.inject({ method: 'GET', url: '/v1/deposit-address', headers: alice.bearer })).json()
      .address;
    const before = tg.bus.applied;
    const paths: [string, string, unknown?][] = [
      ['GET', `/v1/orders/${orderId}`],
      ['GET', '/v1/orders/by-client-id/alice-secret'],
      ['PATCH', `/v1/orders/${orderId}`, { price: '11' }],
      ['DELETE', `/v1/orders/${orderId}`],
      ['DELETE', '/v1/orders/by-client-id/alice-secret'],
      ['GET', `/v1/withdrawals/${w.withdrawal_id}`],
      ['DELETE', `/v1/api-keys/${aliceKey.keyId}`],
      ['GET', `/v1/commands/${encodeURIComponent(mine.json().commandId)}`],
    ];
    for (const [method, url, payload] of paths) {
      const anon = await app.inject({ method: method as 'GET', url, payload: payload as object });
      t.equal(anon.statusCode, 401, `${method} ${url} as nobody`);
      const res = await app.inject({ method: method as 'GET', url, headers: bob.bearer, payload: payload as object });
      t.ok([404, 422].includes(res.statusCode), `${method} ${url} as bob: ${res.statusCode} ${res.json().code}`);
    }
    const lists = [
      '/v1/orders/open',
      '/v1/orders/history',
      '/v1/trades',
      '/v1/balances',
      '/v1/deposits',
      '/v1/withdrawals',
      '/v1/api-keys',
      '/v1/deposit-address',
    ];
    for (const url of lists) {
      t.equal((await app.inject({ method: 'GET', url })).statusCode, 401, `GET ${url} as nobody`);
      const res = await app.inject({ method: 'GET', url, headers: bob.bearer });
      t.equal(res.statusCode, 200);
      t.notOk(
        res.body.includes('alice-secret') ||
          res.body.includes(w.withdrawal_id) ||
          res.body.includes(aliceKey.keyId) ||
          res.body.includes(aliceAddress),
        `GET ${url} as bob shows nothing of alice's`,
      );
    }
    // Bob's cancel-all and the write routes as nobody change none of alice's orders.
    await app.inject({ method: 'DELETE', url: '/v1/orders', headers: bob.bearer });
    for (const url of ['/v1/orders', '/v1/withdrawals'])
      t.equal((await app.inject({ method: 'POST', url, payload: {} })).statusCode, 401, `POST ${url} as nobody`);
    t.equal((await app.inject({ method: 'DELETE', url: '/v1/orders' })).statusCode, 401, 'DELETE /v1/orders as nobody');
    const still = await app.inject({ method: 'GET', url: `/v1/orders/${orderId}`, headers: alice.bearer });
    t.match(still.json(), { status: 'new', price: '10' }, "alice's order is untouched");
    t.ok(tg.bus.applied - before <= 6, "only bob's own commands reached the engine");
    const keys = await app.inject({ method: 'GET', url: '/v1/api-keys', headers: alice.bearer });
    t.ok(
      keys.json().keys.some((k: { keyId: string }) => k.keyId === aliceKey.keyId),
      "alice's key was not revoked by bob",
    );
  });

  t.test('secrets never reach the logs', async (t) => {
    const login = await app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { username: 'alice', password: 'correct horse battery' },
    });
    const token = login.json().token as string;
    logs.logger.info(
      {
        req: { headers: { authorization: `Bearer ${token}` } },
        password: 'correct horse battery',
        body: { secret: 'shh-secret' },
      },
      'probe',
    );
    const text = logs.text();
    t.ok(text.length > 0, 'something was logged');
    t.notOk(text.includes(token), 'no session token');
    t.notOk(text.includes('correct horse battery'), 'no password');
    t.notOk(text.includes('shh-secret'), 'no secret');
  });

  t.test('health, readiness, metrics', async (t) => {
    t.same((await app.inject({ method: 'GET', url: '/health' })).json(), { status: 'ok' });
    t.same((await app.inject({ method: 'GET', url: '/ready' })).json(), {
      status: 'ready',
      checks: { postgres: true, redis: true, kafka: true },
    });
    const m = await app.inject({ method: 'GET', url: '/metrics' });
    t.match(m.body, /gateway_http_requests_total\{method="POST",route="\/v1\/orders",status="201"\} \d+/);
    t.match(m.body, /gateway_http_request_duration_seconds_bucket/);
    t.match(m.body, /gateway_engine_round_trip_seconds_count\{type="placeOrder",outcome="accepted"\} \d+/);
  });
});

t.test('rate limits per IP and per API key: 429 with Retry-After', async (t) => {
  const tg = await startTestGateway('rl', { rateLimitIpPerMin: 8, rateLimitKeyPerMin: 3 });
  t.teardown(() => tg.close());
  const user = await registerUser(tg.gw, 'rita'); // 2 requests from this IP
  const key = await createKey(tg.gw, user, ['read']); // 3
  const codes: number[] = [];
  for (let i = 0; i < 4; i++)
    codes.push(
      (
        await tg.gw.app.inject({
          method: 'GET',
          url: '/v1/balances',
          headers: signedHeaders(key, 'GET', '/v1/balances', '', Date.now() + i),
        })
      ).statusCode,
    );
  t.same(codes, [200, 200, 200, 429], "the key's limit of 3 a minute");
  const ipCodes: number[] = [];
  let last;
  for (let i = 0; i < 3; i++) {
    last = await tg.gw.app.inject({ method: 'GET', url: '/v1/orders/open', remoteAddress: '127.0.0.1' });
    ipCodes.push(last.statusCode);
  }
  t.same(ipCodes, [401, 429, 429], "the IP's limit of 8 a minute counts every request");
  t.equal(last?.json().code, 'EX_RATE_LIMITED');
  t.match(last?.headers['retry-after'], /^\d+$/);
  const other = await tg.gw.app.inject({ method: 'GET', url: '/v1/orders/open', remoteAddress: '10.0.0.9' });
  t.equal(other.statusCode, 401, 'another IP has its own budget');
});

t.test(
  'one admission step: a signed request is one Redis round trip; refusals before it count against the IP first',
  async (t) => {
    const tg = await startTestGateway('adm', { rateLimitIpPerMin: 6, rateLimitKeyPerMin: 100 });
    t.teardown(() => tg.close());
    const user = await registerUser(tg.gw, 'adam');
    const key = await createKey(tg.gw, user, ['read']);
    const balances = (i: number) =>
      tg.gw.app.inject({
        method: 'GET',
        url: '/v1/balances',
        remoteAddress: '10.7.0.1',
        headers: signedHeaders(key, 'GET', '/v1/balances', '', Date.now() + i),
      });
    t.equal(
      (await balances(0)).statusCode,
      200,
      'the first request looks the key up (its IP counted before the lookup)',
    );
    // A spy on the real client: every command still goes to Redis.
    const sent: string[] = [];
    const send = tg.redis.sendCommand.bind(tg.redis);
    tg.redis.sendCommand = ((command: { name: string }, stream?: unknown) => {
      sent.push(command.name);
      return send(command as never, stream as never);
    }) as typeof tg.redis.sendCommand;
    const second = await balances(1);
    tg.redis.sendCommand = send;
    t.equal(second.statusCode, 200);
    t.same(sent, ['evalsha'], 'IP limit, replay check and key limit: one script, one round trip');
    t.same(
      [second.headers['x-ratelimit-limit'], second.headers['x-ratelimit-remaining']],
      ['100', '98'],
      "the headers are the key's limit",
    );
    const stranger = { keyId: `k_${'ab'.repeat(12)}`, secret: 'x' };
    const codes: number[] = [];
    for (let i = 0; i < 7; i++)
      codes.push(
        (
          await tg.gw.app.inject({
            method: 'GET',
            url: '/v1/balances',
            remoteAddress: '10.7.0.2',
            headers: signedHeaders(stranger, 'GET', '/v1/balances', '', Date.now() + i),
          })
        ).statusCode,
      );
    t.same(codes, [401, 401, 401, 401, 401, 401, 429], 'unknown keys count against the IP, which is refused once over');
    const badJson = (ip: string) =>
      tg.gw.app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        remoteAddress: ip,
        headers: { 'content-type': 'application/json' },
        payload: '{"no',
      });
    const limited = await badJson('10.7.0.2');
    t.same(
      [limited.statusCode, limited.json().code],
      [429, 'EX_RATE_LIMITED'],
      'a body refused before admission: the IP over its limit answers first',
    );
    t.match(limited.headers['retry-after'], /^\d+$/);
    const early: number[] = [];
    for (let i = 0; i < 7; i++) early.push((await badJson('10.7.0.3')).statusCode);
    t.same(early, [400, 400, 400, 400, 400, 400, 429], 'bad bodies count against their IP');
  },
);
