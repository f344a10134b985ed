// Authorisation, route by route, against real PostgreSQL, Redis and an engine (support.ts):
// - fail closed: every registered route declares who may call it, and a route that does not refuses to register;
// - no existence oracle: another user's order, withdrawal, command or key is answered exactly like one that does
//   not exist (same status, code, message, fields, and the same path: both reach the engine or neither does).

import t from 'tap';
import type { Test } from 'tap';
import Fastify from 'fastify';
import { ROUTE_AUTHS, RouteAuthMissingError, requireDeclaredAuth } from '../../gateway/route-auth.js';
import type { DeclaredRoute } from '../../gateway/route-auth.js';
import { ETH, MARKET, USDT, addWithdrawalAddress, createKey, deposit, registerUser, setupMarket, startTestGateway } from './support.js';
import type { TestUser } from './support.js';

const ADDRESS = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
// Logging in (by token or by cookie), registering, asking who this request is (nobody is an answer) and what the
// gateway offers (GET /v1/info) need no credentials.
const PUBLIC_API_ROUTES = ['GET /v1/auth/session', 'GET /v1/info', 'POST /v1/auth/login', 'POST /v1/auth/register', 'POST /v1/auth/session'];

t.test('a route that does not declare its auth refuses to register', async (t) => {
  const app = Fastify();
  const routes: DeclaredRoute[] = [];
  requireDeclaredAuth(app, routes);
  app.get('/open', { config: { auth: 'public' } }, async () => 'ok');
  t.throws(() => app.get('/forgot', async () => 'oops'), RouteAuthMissingError);
  t.throws(() => app.get('/typo', { config: { auth: 'pubic' as never } }, async () => 'oops'), RouteAuthMissingError);
  await app.register(async (child) => {
    t.throws(() => child.post('/nested', async () => 'oops'), RouteAuthMissingError, 'in a child plugin too');
  });
  await app.ready();
  t.same(routes.map((r) => `${r.method} ${r.url} ${r.auth}`), ['GET /open public']);
  t.equal((await app.inject({ method: 'GET', url: '/forgot' })).statusCode, 404, 'the refused route does not exist');
  await app.close();
});

t.test('the gateway', async (t) => {
  const tg = await startTestGateway('authz', { withdrawalAddressDelayMs: 0 });
  t.teardown(() => tg.close());
  const app = tg.gw.app;
  await setupMarket(tg.bus);
  const alice = await registerUser(tg.gw, 'alice');
  const bob = await registerUser(tg.gw, 'bobby');
  await deposit(tg.bus, alice.userId, USDT, 100_000_000_000n);
  await deposit(tg.bus, alice.userId, ETH, 10n ** 18n);

  t.test('every registered route declares who may call it', async (t) => {
    t.ok(tg.gw.routes.length >= 30, `${tg.gw.routes.length} routes`);
    for (const r of tg.gw.routes) t.ok(ROUTE_AUTHS.includes(r.auth), `${r.method} ${r.url}: ${r.auth}`);
    // (Market data, public too, is a plugin this test gateway does not register.)
    const open = tg.gw.routes.filter((r) => r.auth === 'public' && r.url.startsWith('/v1/')).map((r) => `${r.method} ${r.url}`).sort();
    t.same(open, PUBLIC_API_ROUTES, 'the public API routes are exactly these');
  });

  t.test('another user\'s resource is answered exactly like one that does not exist', async (t) => {
    const placed = await app.inject({ method: 'POST', url: '/v1/orders', headers: alice.bearer, payload: { marketId: MARKET, side: 'buy', orderType: 'limit', price: '10', quantity: '0.1', clientOrderId: 'alice-secret' } });
    t.equal(placed.statusCode, 201, placed.body);
    const orderId = placed.json().orderId as number;
    const commandId = placed.json().commandId as string;
    const book = await addWithdrawalAddress(tg.gw, alice, ADDRESS);
    const w = await app.inject({ method: 'POST', url: '/v1/withdrawals', headers: alice.bearer, payload: { asset: 'ETH', amount: '0.5', address: ADDRESS } });
    const withdrawalId = w.json().withdrawalId as string;
    const key = await createKey(tg.gw, alice, ['read']);
    const aliceSession = (await app.inject({ method: 'GET', url: '/v1/sessions', headers: alice.bearer })).json().sessions[0].sessionId as string;
    // [method, alice's resource, a resource nobody has, body]
    const pairs: [string, string, string, unknown?][] = [
      ['GET', `/v1/orders/${orderId}`, '/v1/orders/987654'],
      ['PATCH', `/v1/orders/${orderId}`, '/v1/orders/987654', { price: '11' }],
      // A too-fine price once answered with the other order's market tick.
      ['PATCH', `/v1/orders/${orderId}`, '/v1/orders/987654', { price: '11.00001' }],
      ['DELETE', `/v1/orders/${orderId}`, '/v1/orders/987654'],
      ['GET', '/v1/orders/by-client-id/alice-secret', '/v1/orders/by-client-id/nobody-has-this'],
      ['DELETE', '/v1/orders/by-client-id/alice-secret', '/v1/orders/by-client-id/nobody-has-this'],
      ['GET', `/v1/withdrawals/${withdrawalId}`, '/v1/withdrawals/w-00000000-0000-0000-0000-000000000000'],
      ['GET', `/v1/commands/${encodeURIComponent(commandId)}`, `/v1/commands/${encodeURIComponent('gw:00000000-0000-0000-0000-000000000000')}`],
      ['DELETE', `/v1/api-keys/${key.keyId}`, `/v1/api-keys/k_${'0'.repeat(24)}`],
      ['DELETE', `/v1/sessions/${aliceSession}`, `/v1/sessions/ss_${'0'.repeat(24)}`],
      ['DELETE', `/v1/withdrawal-addresses/${book.addressId}`, `/v1/withdrawal-addresses/wa_${'0'.repeat(24)}`],
    ];
    for (const [method, theirs, missing, payload] of pairs) await compareAnswers(t, { method, theirs, missing, payload, as: bob });
    const still = await app.inject({ method: 'GET', url: `/v1/orders/${orderId}`, headers: alice.bearer });
    t.match(still.json(), { status: 'new', price: '10' }, 'alice\'s order is untouched');
  });

  async function compareAnswers(t: Test, c: { method: string; theirs: string; missing: string; payload?: unknown; as: TestUser }): Promise<void> {
    const ask = async (url: string) => {
      const before = tg.bus.applied;
      const res = await app.inject({ method: c.method as 'GET', url, headers: c.as.bearer, ...(c.payload === undefined ? {} : { payload: c.payload as object }) });
      const body = res.json() as Record<string, unknown>;
      return { status: res.statusCode, code: body.code, message: body.message, fields: Object.keys(body).sort(), engine: tg.bus.applied - before };
    };
    const theirs = await ask(c.theirs);
    const missing = await ask(c.missing);
    t.ok(theirs.status >= 400, `${c.method} ${c.theirs}: refused (${theirs.status} ${String(theirs.code)})`);
    t.same(theirs, missing, `${c.method} ${c.theirs} ${JSON.stringify(c.payload ?? '')}: "not yours" answers like "does not exist"`);
  }
});
