// Authorisation, route by route, against real PostgreSQL, Redis and an engine (support.ts):
// - fail closed: every registered route declares who may call it, and a route that does not refuses to register;
// - no existence oracle: another user's order, withdrawal, command or key is answered exactly like one that does
//   not exist (same status, code, message, fields, and the same path: both reach the engine or neither does).

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import t from 'tap';
import type { Test } from 'tap';
import Fastify from 'fastify';
import {
  OPERATOR_ROLES,
  ROUTE_AUTHS,
  RouteAuthMissingError,
  operatorRoleOf,
  requireDeclaredAuth,
  roleAtLeast,
} from '../../gateway/route-auth.js';
import { totpNow } from '../../gateway/auth/totp.js';
import type { DeclaredRoute } from '../../gateway/route-auth.js';
import { AuditLog } from '../../audit/log.js';
import { OperatorAccounts } from '../../gateway/auth/operators.js';
import {
  ETH,
  MARKET,
  SECRET_KEY,
  USDT,
  addWithdrawalAddress,
  createKey,
  createOperator,
  deposit,
  registerUser,
  setupMarket,
  signedHeaders,
  startTestGateway,
} from './support.js';
import type { TestUser } from './support.js';

const ADDRESS = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
// Logging in (by token or by cookie), registering, asking who this request is (nobody is an answer) and what the
// gateway offers (GET /v1/info) need no credentials.
const PUBLIC_API_ROUTES = [
  'GET /v1/auth/session',
  'GET /v1/info',
  'POST /v1/admin/auth/login',
  'POST /v1/auth/login',
  'POST /v1/auth/register',
  'POST /v1/auth/session',
];

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
  t.same(
    routes.map((r) => `${r.method} ${r.url} ${r.auth}`),
    ['GET /open public'],
  );
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
    const open = tg.gw.routes
      .filter((r) => r.auth === 'public' && r.url.startsWith('/v1/'))
      .map((r) => `${r.method} ${r.url}`)
      .sort();
    t.same(open, PUBLIC_API_ROUTES, 'the public API routes are exactly these');
  });

  t.test("another user's resource is answered exactly like one that does not exist", async (t) => {
    const placed = await app.inject({
      method: 'POST',
      url: '/v1/orders',
      headers: alice.bearer,
      payload: {
        marketId: MARKET,
        side: 'buy',
        orderType: 'limit',
        price: '10',
        quantity: '0.1',
        clientOrderId: 'alice-secret',
      },
    });
    t.equal(placed.statusCode, 201, placed.body);
    const orderId = placed.json().orderId as number;
    const commandId = placed.json().commandId as string;
    const book = await addWithdrawalAddress(tg.gw, alice, ADDRESS);
    const w = await app.inject({
      method: 'POST',
      url: '/v1/withdrawals',
      headers: alice.bearer,
      payload: { asset: 'ETH', amount: '0.5', address: ADDRESS },
    });
    const withdrawalId = w.json().withdrawalId as string;
    const key = await createKey(tg.gw, alice, ['read']);
    const aliceSession = (await app.inject({ method: 'GET', url: '/v1/sessions', headers: alice.bearer })).json()
      .sessions[0].sessionId as string;
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
      [
        'GET',
        `/v1/commands/${encodeURIComponent(commandId)}`,
        `/v1/commands/${encodeURIComponent('gw:00000000-0000-0000-0000-000000000000')}`,
      ],
      ['DELETE', `/v1/api-keys/${key.keyId}`, `/v1/api-keys/k_${'0'.repeat(24)}`],
      ['DELETE', `/v1/sessions/${aliceSession}`, `/v1/sessions/ss_${'0'.repeat(24)}`],
      ['DELETE', `/v1/withdrawal-addresses/${book.addressId}`, `/v1/withdrawal-addresses/wa_${'0'.repeat(24)}`],
    ];
    for (const [method, theirs, missing, payload] of pairs)
      await compareAnswers(t, { method, theirs, missing, payload, as: bob });
    const still = await app.inject({ method: 'GET', url: `/v1/orders/${orderId}`, headers: alice.bearer });
    t.match(still.json(), { status: 'new', price: '10' }, "alice's order is untouched");
  });

  t.test('operator routes: nobody, a user, each operator role, an operator without the code', async (t) => {
    const ops = {
      viewer: await createOperator(tg, 'vera', 'viewer'),
      operator: await createOperator(tg, 'otto', 'operator'),
      admin: await createOperator(tg, 'adele', 'admin'),
    };
    const key = await createKey(tg.gw, alice, ['read', 'trade', 'withdraw']);
    const adminRoutes = tg.gw.routes.filter((r) => r.url.startsWith('/v1/admin/'));
    t.ok(adminRoutes.length >= 20, `${adminRoutes.length} admin routes`);
    const before = {
      applied: tg.bus.applied,
      audit: (await tg.db.sql`SELECT count(*)::int AS n FROM audit_log WHERE actor_type = 'operator'`)[0].n as number,
    };
    for (const r of adminRoutes) {
      const need = operatorRoleOf(r.auth);
      if (r.url === '/v1/admin/auth/login') continue;
      t.not(need, null, `${r.method} ${r.url} is an operator route (${r.auth})`);
      const url = r.url
        .replace(':userId', String(alice.userId))
        .replace(':assetId', String(ETH))
        .replace(':marketId', String(MARKET))
        .replace(':withdrawalId', `w-${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}`);
      // A body the schema refuses: a role that passes the auth check gets 400, so nothing is written.
      const payload = r.method === 'GET' ? undefined : { notAField: 1 };
      const ask = (headers: Record<string, string>) =>
        app.inject({ method: r.method as 'GET', url, headers, ...(payload === undefined ? {} : { payload }) });
      const answer = async (headers: Record<string, string>) => {
        const res = await ask(headers);
        return `${res.statusCode} ${String(res.json().code)}`;
      };
      const body = payload === undefined ? '' : JSON.stringify(payload);
      t.equal(await answer({}), '401 EX_UNAUTHENTICATED', `${r.method} ${r.url} as nobody`);
      t.equal(await answer(alice.bearer), '403 EX_OPERATOR_REQUIRED', `${r.method} ${r.url} with a user's session`);
      t.equal(
        await answer(signedHeaders(key, r.method, url, body)),
        '403 EX_OPERATOR_REQUIRED',
        `${r.method} ${r.url} with a user's API key`,
      );
      for (const role of OPERATOR_ROLES) {
        if (r.url === '/v1/admin/auth/logout') continue;
        const res = await ask(ops[role].bearer);
        if (roleAtLeast(role, need!))
          t.ok(
            ![401, 403].includes(res.statusCode),
            `${r.method} ${r.url} as ${role}: allowed (${res.statusCode} ${String(res.json().code)})`,
          );
        else
          t.equal(
            `${res.statusCode} ${String(res.json().code)}`,
            '403 EX_OPERATOR_ROLE_INSUFFICIENT',
            `${r.method} ${r.url} as ${role}: refused`,
          );
      }
    }
    t.equal(tg.bus.applied, before.applied, 'no command reached the engine');
    t.equal(
      (await tg.db.sql`SELECT count(*)::int AS n FROM audit_log WHERE actor_type = 'operator'`)[0].n,
      before.audit,
      'no operator action was recorded',
    );

    // The password alone (stolen) does not log an operator in; a code is accepted once; a user's login is not an operator's.
    const login = (payload: Record<string, unknown>) =>
      app.inject({
        method: 'POST',
        url: '/v1/admin/auth/login',
        payload: { name: 'vera', password: ops.viewer.password, ...payload },
      });
    t.same([(await login({})).statusCode, (await login({})).json().code], [401, 'EX_OTP_REQUIRED'], 'no code: refused');
    t.equal(
      (await login({ otp: ops.viewer.loginOtp })).json().code,
      'EX_OTP_INVALID',
      'the code used at the first login is not accepted again',
    );
    t.equal((await login({ password: 'wrong password!', otp: '123456' })).json().code, 'EX_BAD_CREDENTIALS');
    t.equal(
      (
        await app.inject({
          method: 'POST',
          url: '/v1/admin/auth/login',
          payload: { name: 'alice', password: 'correct horse battery', otp: '123456' },
        })
      ).json().code,
      'EX_BAD_CREDENTIALS',
      'a user is not an operator',
    );
    t.equal(
      (await app.inject({ method: 'GET', url: '/v1/balances', headers: ops.admin.bearer })).json().code,
      'EX_SESSION_INVALID',
      'an operator is not a user',
    );
    // Logging out ends the session at once.
    t.equal(
      (await app.inject({ method: 'POST', url: '/v1/admin/auth/logout', headers: ops.viewer.bearer })).statusCode,
      204,
    );
    t.equal(
      (await app.inject({ method: 'GET', url: '/v1/admin/me', headers: ops.viewer.bearer })).json().code,
      'EX_SESSION_INVALID',
      'logged out',
    );
  });

  t.test('operators are made on the command line; a disabled one is out at once', async (t) => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'gateway/admin-cli.ts', 'create-operator', '--name', 'cli_op', '--role', 'viewer'],
      {
        env: {
          ...process.env,
          DATABASE_URL: tg.db.url,
          GATEWAY_SECRET_KEY: SECRET_KEY.toString('hex'),
          GATEWAY_SCRYPT_COST: '1024',
        },
      },
    );
    const password = /^password: (\S+)$/m.exec(stdout)?.[1];
    const secret = /otpauth:\/\/totp\/\S*secret=([A-Z2-7]+)/.exec(stdout)?.[1];
    t.ok(password !== undefined && secret !== undefined, 'prints the password and the TOTP enrolment URI');
    const login = await app.inject({
      method: 'POST',
      url: '/v1/admin/auth/login',
      payload: { name: 'cli_op', password, otp: totpNow(secret!, Date.now()) },
    });
    t.match([login.statusCode, login.json()], [200, { name: 'cli_op', role: 'viewer', token: /^o_/ }]);
    const bearer = { authorization: `Bearer ${login.json().token as string}` };
    t.equal((await app.inject({ method: 'GET', url: '/v1/admin/me', headers: bearer })).statusCode, 200);
    await new OperatorAccounts({
      sql: tg.db.sql,
      secretKey: SECRET_KEY,
      scryptCost: 1024,
      audit: new AuditLog(),
    }).disable('cli_op');
    t.equal(
      (await app.inject({ method: 'GET', url: '/v1/admin/me', headers: bearer })).json().code,
      'EX_SESSION_INVALID',
      'the open session ends',
    );
    const again = await app.inject({
      method: 'POST',
      url: '/v1/admin/auth/login',
      payload: { name: 'cli_op', password, otp: totpNow(secret!, Date.now() + 30_000) },
    });
    t.equal(again.json().code, 'EX_BAD_CREDENTIALS', 'and it cannot log in');
    const actions = (
      await tg.db.sql`SELECT action FROM audit_log WHERE detail LIKE '%cli_op%' OR actor_id = 'cli_op' ORDER BY seq`
    ).map((r) => r.action);
    t.same(actions, ['operator.created', 'operator.login_succeeded', 'operator.disabled', 'operator.login_failed']);
  });

  t.test(
    'the operator API runs the venue: assets, markets, statuses, freezes, the kill switch, all audited',
    async (t) => {
      const admin = await createOperator(tg, 'ada', 'admin');
      const op = await createOperator(tg, 'oleg', 'operator');
      const call = async (method: string, url: string, who: { bearer: Record<string, string> }, payload?: object) => {
        const res = await app.inject({
          method: method as 'GET',
          url,
          headers: who.bearer,
          ...(payload === undefined ? {} : { payload }),
        });
        return { status: res.statusCode, body: res.json() };
      };
      const order = (u: TestUser, marketId = MARKET) =>
        app.inject({
          method: 'POST',
          url: '/v1/orders',
          headers: u.bearer,
          payload: { marketId, side: 'buy', orderType: 'limit', price: '10', quantity: '0.1' },
        });
      const code = async (p: Promise<{ json(): { code?: string }; statusCode: number }>) => {
        const r = await p;
        return `${r.statusCode} ${r.json().code ?? ''}`;
      };

      // Assets and markets through the engine's commands, as the launcher adds them.
      t.match(await call('POST', '/v1/admin/assets', admin, { assetId: 3, symbol: 'BTC', decimals: 8 }), {
        status: 201,
        body: { status: 'accepted' },
      });
      t.match(
        await call('POST', '/v1/admin/assets', admin, { assetId: 4, symbol: 'BTC', decimals: 8 }),
        { status: 422, body: { code: 'ASSET_ALREADY_EXISTS' } },
        "the engine's code",
      );
      t.match(
        await call('POST', '/v1/admin/markets', admin, {
          marketId: 2,
          symbol: 'BTC-USDT',
          baseAssetId: 3,
          quoteAssetId: USDT,
          tickSize: '10000',
          lotSize: '10000',
          minNotional: '1000000',
          makerFeeBps: 0,
          takerFeeBps: 10,
        }),
        { status: 201 },
      );
      t.match((await call('GET', '/v1/admin/markets', op)).body.markets, [
        { marketId: MARKET, status: 'trading' },
        { marketId: 2, symbol: 'BTC-USDT', tickSize: '10000', status: 'trading' },
      ]);
      t.match(
        await call('PUT', `/v1/admin/assets/${ETH}/limits`, admin, {
          dailyWithdrawalLimit: '5',
          approvalThreshold: null,
        }),
        { status: 200, body: { dailyWithdrawalLimit: '5' } },
      );
      t.match((await call('GET', '/v1/admin/assets', op)).body.assets, [
        { assetId: ETH, dailyWithdrawalLimit: '5', approvalThreshold: null },
        { assetId: USDT },
        { assetId: 3, symbol: 'BTC' },
      ]);

      // A market's status: cancel-only takes cancels only, halted nothing.
      const resting = (await order(alice)).json().orderId as number;
      const restingToo = (await order(alice)).json().orderId as number;
      t.equal((await call('PUT', `/v1/admin/markets/${MARKET}/status`, op, { status: 'cancelOnly' })).status, 200);
      t.equal(await code(order(alice)), '422 MARKET_CANCEL_ONLY');
      t.equal(
        await code(app.inject({ method: 'DELETE', url: `/v1/orders/${resting}`, headers: alice.bearer })),
        '200 ',
      );
      await call('PUT', `/v1/admin/markets/${MARKET}/status`, op, { status: 'halted' });
      t.equal(await code(order(alice)), '422 MARKET_HALTED');
      t.equal(
        await code(app.inject({ method: 'DELETE', url: `/v1/orders/${restingToo}`, headers: alice.bearer })),
        '422 MARKET_HALTED',
        'halted: not even cancels',
      );

      // A frozen user places nothing; the freeze shows to operators; unfrozen, the user trades again.
      await call('PUT', `/v1/admin/markets/${MARKET}/status`, op, { status: 'trading' });
      t.match(await call('POST', `/v1/admin/users/${alice.userId}/freeze`, op, { reason: 'suspicious logins' }), {
        status: 200,
        body: { frozen: true, status: 'accepted' },
      });
      t.equal(await code(order(alice)), '403 USER_FROZEN');
      t.match((await call('GET', `/v1/admin/users/${alice.userId}/balances`, op)).body, {
        frozen: true,
        balances: [{ asset: 'ETH' }, { asset: 'USDT' }],
      });
      await call('POST', `/v1/admin/users/${alice.userId}/unfreeze`, op, {});
      t.equal(await code(order(alice)), '201 ');
      t.ok(
        (await call('GET', `/v1/admin/users/${alice.userId}/orders`, op)).body.orders.length >= 3,
        "the user's orders",
      );

      // The kill switch: every market halted and withdrawals refused; released, each market is back as it was.
      await call('PUT', '/v1/admin/markets/2/status', op, { status: 'cancelOnly' });
      const engaged = await call('POST', '/v1/admin/kill-switch/engage', admin, { reason: 'drill' });
      t.match(engaged, {
        status: 200,
        body: {
          killSwitchEngaged: true,
          withdrawalsHalted: true,
          marketStatusesBefore: { [MARKET]: 'trading', 2: 'cancelOnly' },
        },
      });
      t.equal(engaged.body.commandIds.length, 2, 'one setMarketStatus per market not halted');
      t.equal(await code(order(alice)), '422 MARKET_HALTED');
      t.equal(
        await code(
          app.inject({
            method: 'POST',
            url: '/v1/withdrawals',
            headers: alice.bearer,
            payload: { asset: 'ETH', amount: '0.1', address: ADDRESS },
          }),
        ),
        '503 EX_WITHDRAWALS_HALTED',
      );
      t.match(
        (await call('POST', '/v1/admin/kill-switch/engage', admin, { reason: 'again' })).body,
        { marketStatusesBefore: { 2: 'cancelOnly' }, commandIds: [] },
        'engaging again keeps the statuses from before',
      );
      t.match(await call('POST', '/v1/admin/kill-switch/release', admin, { reason: 'drill over' }), {
        status: 200,
        body: { killSwitchEngaged: false, withdrawalsHalted: false, marketStatusesBefore: null },
      });
      t.match((await call('GET', '/v1/admin/markets', op)).body.markets, [
        { marketId: MARKET, status: 'trading' },
        { marketId: 2, status: 'cancelOnly' },
      ]);
      t.equal(await code(order(alice)), '201 ');

      const audit = (await call('GET', '/v1/admin/audit?limit=50', op)).body.entries as {
        action: string;
        actorId: string;
      }[];
      const byOperators = audit
        .filter((e) => ['ada', 'oleg'].includes(e.actorId))
        .map((e) => e.action)
        .reverse();
      t.same(
        byOperators.filter((a) => a !== 'operator.login_succeeded'),
        [
          'asset.added',
          'market.added',
          'asset.limits_changed',
          'market.status_changed',
          'market.status_changed',
          'market.status_changed',
          'user.frozen',
          'user.unfrozen',
          'market.status_changed',
          'kill_switch.engaged',
          'kill_switch.engaged',
          'kill_switch.released',
        ],
        "every write the engine took is in the audit log with the operator's name",
      );
      const alicesView = (await app.inject({ method: 'GET', url: '/v1/audit', headers: alice.bearer })).json()
        .entries as { action: string; actorId: string | null }[];
      t.match(
        alicesView.find((e) => e.action === 'user.frozen'),
        { actorId: null },
        'the user sees the freeze, not who did it',
      );
    },
  );

  async function compareAnswers(
    t: Test,
    c: { method: string; theirs: string; missing: string; payload?: unknown; as: TestUser },
  ): Promise<void> {
    const ask = async (url: string) => {
      const before = tg.bus.applied;
      const res = await app.inject({
        method: c.method as 'GET',
        url,
        headers: c.as.bearer,
        ...(c.payload === undefined ? {} : { payload: c.payload as object }),
      });
      const body = res.json() as Record<string, unknown>;
      return {
        status: res.statusCode,
        code: body.code,
        message: body.message,
        fields: Object.keys(body).sort(),
        engine: tg.bus.applied - before,
      };
    };
    const theirs = await ask(c.theirs);
    const missing = await ask(c.missing);
    t.ok(theirs.status >= 400, `${c.method} ${c.theirs}: refused (${theirs.status} ${String(theirs.code)})`);
    t.same(
      theirs,
      missing,
      `${c.method} ${c.theirs} ${JSON.stringify(c.payload ?? '')}: "not yours" answers like "does not exist"`,
    );
  }
});
