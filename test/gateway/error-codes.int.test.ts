// Every error code the gateway documents (docs/gateway.md, gateway/errors.ts) is given by the code: for each one a
// request that triggers it, answered with that code and its status. The table below must name every code, so a
// new code without a trigger fails here. The devnet faucet is the real one (exchange/devnet/provision.ts) on a
// JSON-RPC node that never answers: its mints stay in flight, which is what fills the route's bound.

import { randomUUID } from 'node:crypto';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { JsonRpcProvider } from 'ethers';
import { Faucet } from '../../exchange/devnet/provision.js';
import { totpNow } from '../../gateway/auth/totp.js';
import { GATEWAY_ERRORS } from '../../gateway/errors.js';
import type { GatewayCode } from '../../gateway/errors.js';
import { FAUCET_IN_FLIGHT_MAX } from '../../gateway/routes/faucet.js';
import { memoryStores } from '../../gateway/stores/gateway-stores.js';
import {
  MARKET,
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

const ADDRESS = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';

t.test('every documented gateway error code has a trigger that gives it', async (t) => {
  // A node that accepts connections and never answers: the faucet's mints wait on it.
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((s) => void sockets.add(s));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const provider = new JsonRpcProvider(
    `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
    { chainId: 1337, name: 'silent' },
    { staticNetwork: true },
  );
  const faucet = new Faucet(provider, [
    { assetId: USDT, symbol: 'USDT', decimals: 6, address: '0x5FbDB2315678afecb367f032d93F642f64180aa3' },
  ]);
  const tg = await startTestGateway(
    'codes',
    {
      rateLimitKeyPerMin: 40,
      apiKeysPerUserMax: 2,
      bodyLimitBytes: 2048,
      withdrawalAddressDelayMs: 0,
      withdrawalAddressesPerUserMax: 3,
    },
    { pendingMax: 1, faucet, stores: memoryStores({ signaturesMax: 1000 }) },
  );
  t.teardown(async () => {
    // The node goes away: the mints waiting on it fail, their requests end, and the gateway can close.
    for (const s of sockets) s.destroy();
    silent.close();
    provider.destroy();
    await tg.close();
  });
  const { app } = tg.gw;
  await setupMarket(tg.bus);
  const u = await registerUser(tg.gw, 'codes_user');
  const other = await registerUser(tg.gw, 'codes_other');
  await deposit(tg.bus, u.userId, USDT, 10n ** 9n);
  const readKey = await createKey(tg.gw, u, ['read']);
  await addWithdrawalAddress(tg.gw, u, ADDRESS);
  // The withdrawal controls' triggers have users of their own (u's requests count towards its rate limit).
  const booker = await registerUser(tg.gw, 'codes_book');
  const full = await registerUser(tg.gw, 'codes_book_full');
  await deposit(tg.bus, booker.userId, USDT, 10n ** 9n);
  await addWithdrawalAddress(tg.gw, booker, ADDRESS);
  const withdrawTo = (address: string, amount = '1') =>
    app.inject({
      method: 'POST',
      url: '/v1/withdrawals',
      headers: booker.bearer,
      payload: { asset: 'USDT', amount, address },
    });
  const tfa = await registerUser(tg.gw, 'codes_tfa');
  let tfaSecret = '';
  const viewerOp = await createOperator(tg, 'codes_viewer', 'viewer');
  const adminOp = await createOperator(tg, 'codes_admin', 'admin');
  const order = (body: Record<string, unknown>) =>
    app.inject({
      method: 'POST',
      url: '/v1/orders',
      headers: u.bearer,
      payload: { marketId: MARKET, side: 'buy', orderType: 'limit', price: '100', quantity: '1', ...body },
    });

  const triggers: Record<GatewayCode, () => Promise<{ statusCode: number; json(): { code: string } }>> = {
    EX_BAD_REQUEST: () => order({ side: 'up' }),
    EX_BAD_JSON: () =>
      app.inject({
        method: 'POST',
        url: '/v1/orders',
        headers: { ...u.bearer, 'content-type': 'application/json' },
        payload: '{"marketId":',
      }),
    EX_BODY_TOO_LARGE: () => order({ clientOrderId: 'x', pad: 'y'.repeat(4096) }),
    EX_UNSUPPORTED_MEDIA_TYPE: () =>
      app.inject({
        method: 'POST',
        url: '/v1/orders',
        headers: { ...u.bearer, 'content-type': 'text/plain' },
        payload: 'hello',
      }),
    EX_NOT_FOUND: () => app.inject({ method: 'GET', url: '/v1/no-such-route' }),
    EX_METHOD_NOT_ALLOWED: () => app.inject({ method: 'PUT', url: '/v1/orders', headers: u.bearer, payload: {} }),
    EX_DECIMAL_INVALID: () => order({ price: '1e2' }),
    EX_PRICE_TOO_PRECISE: () => order({ price: '100.001' }),
    EX_QTY_TOO_PRECISE: () => order({ quantity: '0.00001' }),
    EX_AMOUNT_TOO_PRECISE: () =>
      order({ orderType: 'market', price: undefined, quantity: undefined, quoteQuantity: '1.0000001' }),
    EX_VALUE_OVERFLOW: () => order({ quantity: `1${'0'.repeat(60)}` }),
    EX_MARKET_UNKNOWN: () => order({ marketId: 99 }),
    EX_ASSET_UNKNOWN: () =>
      app.inject({
        method: 'POST',
        url: '/v1/withdrawals',
        headers: u.bearer,
        payload: { asset: 'NOPE', amount: '1', address: ADDRESS },
      }),
    EX_UNAUTHENTICATED: () => app.inject({ method: 'GET', url: '/v1/balances' }),
    EX_BAD_CREDENTIALS: () =>
      app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        payload: { username: 'codes_user', password: 'not the password' },
      }),
    EX_SESSION_INVALID: () =>
      app.inject({ method: 'GET', url: '/v1/balances', headers: { authorization: `Bearer s_${'A'.repeat(43)}` } }),
    EX_API_KEY_INVALID: () =>
      app.inject({
        method: 'GET',
        url: '/v1/balances',
        headers: signedHeaders({ keyId: `k_${'0'.repeat(24)}`, secret: 'x' }, 'GET', '/v1/balances', ''),
      }),
    EX_SIGNATURE_INVALID: () =>
      app.inject({
        method: 'GET',
        url: '/v1/balances',
        headers: signedHeaders({ ...readKey, secret: 'wrong' }, 'GET', '/v1/balances', ''),
      }),
    EX_TIMESTAMP_OUT_OF_WINDOW: () =>
      app.inject({
        method: 'GET',
        url: '/v1/balances',
        headers: signedHeaders(readKey, 'GET', '/v1/balances', '', Date.now() - 10 * 60_000),
      }),
    EX_SIGNATURE_REPLAYED: async () => {
      const headers = signedHeaders(readKey, 'GET', '/v1/deposits', '');
      await app.inject({ method: 'GET', url: '/v1/deposits', headers });
      return app.inject({ method: 'GET', url: '/v1/deposits', headers });
    },
    EX_SCOPE_MISSING: () =>
      app.inject({ method: 'DELETE', url: '/v1/orders', headers: signedHeaders(readKey, 'DELETE', '/v1/orders', '') }),
    EX_SESSION_REQUIRED: () =>
      app.inject({ method: 'GET', url: '/v1/api-keys', headers: signedHeaders(readKey, 'GET', '/v1/api-keys', '') }),
    EX_CSRF_TOKEN_INVALID: async () => {
      const login = await app.inject({
        method: 'POST',
        url: '/v1/auth/session',
        payload: { username: 'codes_other', password: 'correct horse battery' },
      });
      const cookie = String(login.headers['set-cookie']).split(';')[0];
      return app.inject({ method: 'DELETE', url: '/v1/orders', headers: { cookie } });
    },
    EX_USERNAME_TAKEN: () =>
      app.inject({
        method: 'POST',
        url: '/v1/auth/register',
        payload: { username: 'codes_user', password: 'another long password' },
      }),
    EX_API_KEYS_MAX: async () => {
      await createKey(tg.gw, other, ['read']);
      await createKey(tg.gw, other, ['read']);
      return app.inject({
        method: 'POST',
        url: '/v1/api-keys',
        headers: other.bearer,
        payload: { label: 'third', scopes: ['read'] },
      });
    },
    EX_RATE_LIMITED: async () => {
      // 40 a minute per user on this gateway: the 41st request at the latest is refused.
      let last = await app.inject({ method: 'GET', url: '/v1/balances', headers: other.bearer });
      for (let i = 0; i < 45 && last.statusCode !== 429; i++)
        last = await app.inject({ method: 'GET', url: '/v1/balances', headers: other.bearer });
      return last;
    },
    EX_ORDER_NOT_FOUND: () => app.inject({ method: 'GET', url: '/v1/orders/999999', headers: u.bearer }),
    EX_COMMAND_NOT_FOUND: () => app.inject({ method: 'GET', url: '/v1/commands/gw:nothing', headers: u.bearer }),
    EX_WITHDRAWAL_NOT_FOUND: () =>
      app.inject({ method: 'GET', url: `/v1/withdrawals/w-${randomUUID()}`, headers: u.bearer }),
    EX_API_KEY_NOT_FOUND: () =>
      app.inject({ method: 'DELETE', url: `/v1/api-keys/k_${'0'.repeat(24)}`, headers: u.bearer }),
    EX_ADDRESS_INVALID: () =>
      app.inject({
        method: 'POST',
        url: '/v1/withdrawals',
        headers: u.bearer,
        payload: { asset: 'USDT', amount: '1', address: ADDRESS.toLowerCase() },
      }),
    EX_INSUFFICIENT_BALANCE: () =>
      app.inject({
        method: 'POST',
        url: '/v1/withdrawals',
        headers: u.bearer,
        payload: { asset: 'USDT', amount: '1000000', address: ADDRESS },
      }),
    EX_FAUCET_UNKNOWN_TOKEN: () =>
      app.inject({
        method: 'POST',
        url: '/v1/devnet/faucet',
        headers: u.bearer,
        payload: { asset: 'NOPE', amount: '1' },
      }),
    EX_FAUCET_AMOUNT_OUT_OF_RANGE: () =>
      app.inject({
        method: 'POST',
        url: '/v1/devnet/faucet',
        headers: u.bearer,
        payload: { asset: 'USDT', amount: '1000001' },
      }),
    EX_FAUCET_BUSY: async () => {
      // Mints that wait on the silent node fill the bound; they are left in flight until the test ends.
      for (let i = 0; i < FAUCET_IN_FLIGHT_MAX; i++)
        void app.inject({
          method: 'POST',
          url: '/v1/devnet/faucet',
          headers: u.bearer,
          payload: { asset: 'USDT', amount: '1' },
        });
      await new Promise((r) => setTimeout(r, 500));
      return app.inject({
        method: 'POST',
        url: '/v1/devnet/faucet',
        headers: u.bearer,
        payload: { asset: 'USDT', amount: '1' },
      });
    },
    EX_BUSY: async () => {
      tg.bus.hold();
      const first = order({ price: '90' });
      // The first is waiting for the (held) engine before the second comes.
      await new Promise((r) => setTimeout(r, 500));
      const second = await order({ price: '91' });
      await tg.bus.release();
      await first;
      return second;
    },
    EX_UNAVAILABLE: async () => {
      // Market data is not registered on this gateway, so make a dependency fail: the signatures store is full.
      const full = await startTestGateway('codes_full', {}, { stores: memoryStores({ signaturesMax: 1 }) });
      try {
        const user = await registerUser(full.gw, 'full_user');
        const key = await createKey(full.gw, user, ['read']);
        await full.gw.app.inject({
          method: 'GET',
          url: '/v1/balances',
          headers: signedHeaders(key, 'GET', '/v1/balances', ''),
        });
        const r = await full.gw.app.inject({
          method: 'GET',
          url: '/v1/deposits',
          headers: signedHeaders(key, 'GET', '/v1/deposits', ''),
        });
        return { statusCode: r.statusCode, json: () => r.json() as { code: string } };
      } finally {
        await full.close();
      }
    },
    EX_INTERNAL: async () => {
      // A store the route depends on breaks underneath it (a table gone): a 500 with the code, never details.
      await tg.db.sql`ALTER TABLE withdrawals RENAME TO withdrawals_gone`;
      try {
        return await app.inject({ method: 'GET', url: '/v1/withdrawals', headers: u.bearer });
      } finally {
        await tg.db.sql`ALTER TABLE withdrawals_gone RENAME TO withdrawals`;
      }
    },
    // Withdrawal controls: gateway/withdrawal-controls.ts.
    EX_WITHDRAWALS_HALTED: async () => {
      await tg.db.sql`UPDATE custody_controls SET withdrawals_halted = true`;
      try {
        return await withdrawTo(ADDRESS);
      } finally {
        await tg.db.sql`UPDATE custody_controls SET withdrawals_halted = false`;
      }
    },
    EX_WITHDRAWAL_ADDRESS_NOT_IN_BOOK: () => withdrawTo('0x90F79bf6EB2c4f870365E785982E1f101E93b906'),
    EX_WITHDRAWAL_ADDRESS_LOCKED: async () => {
      const locked = '0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65';
      await tg.db
        .sql`INSERT INTO custody_withdrawal_addresses (address_id, user_id, address, label, created_at, usable_at)
        VALUES (${`wa_${'1'.repeat(24)}`}, ${booker.userId}, ${locked}, 'new', now(), now() + interval '1 day')`;
      return withdrawTo(locked);
    },
    EX_WITHDRAWAL_ADDRESS_EXISTS: () =>
      app.inject({
        method: 'POST',
        url: '/v1/withdrawal-addresses',
        headers: booker.bearer,
        payload: { address: ADDRESS, label: 'again' },
      }),
    EX_WITHDRAWAL_ADDRESSES_MAX: async () => {
      await addWithdrawalAddress(tg.gw, full, '0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc');
      await addWithdrawalAddress(tg.gw, full, '0x976EA74026E726554dB657fA54763abd0C3a0aa9');
      await addWithdrawalAddress(tg.gw, full, ADDRESS);
      return app.inject({
        method: 'POST',
        url: '/v1/withdrawal-addresses',
        headers: full.bearer,
        payload: { address: '0x14dC79964da2C08b23698B3D3cc7Ca32193d9955', label: 'third' },
      });
    },
    EX_WITHDRAWAL_ADDRESS_NOT_FOUND: () =>
      app.inject({ method: 'DELETE', url: `/v1/withdrawal-addresses/wa_${'0'.repeat(24)}`, headers: booker.bearer }),
    EX_WITHDRAWAL_LIMIT_EXCEEDED: async () => {
      await tg.db.sql`INSERT INTO custody_asset_limits (asset_id, daily_withdrawal_limit) VALUES (${USDT}, 500000)`;
      try {
        return await withdrawTo(ADDRESS, '1');
      } finally {
        await tg.db.sql`DELETE FROM custody_asset_limits WHERE asset_id = ${USDT}`;
      }
    },
    // Accounts (two-factor, sessions, IP allow-lists, login back-off): gateway/auth/.
    EX_SESSION_NOT_FOUND: () =>
      app.inject({ method: 'DELETE', url: `/v1/sessions/ss_${'0'.repeat(24)}`, headers: u.bearer }),
    EX_IP_ALLOW_LIST_INVALID: () =>
      app.inject({
        method: 'POST',
        url: '/v1/api-keys',
        headers: u.bearer,
        payload: { label: 'ips', scopes: ['read'], ipAllowList: ['not-an-address'] },
      }),
    EX_IP_NOT_ALLOWED: async () => {
      const created = await app.inject({
        method: 'POST',
        url: '/v1/api-keys',
        headers: tfa.bearer,
        payload: { label: 'far', scopes: ['read'], ipAllowList: ['10.9.9.9'] },
      });
      return app.inject({
        method: 'GET',
        url: '/v1/balances',
        headers: signedHeaders(created.json(), 'GET', '/v1/balances', ''),
      });
    },
    EX_TWO_FACTOR_NOT_SET_UP: () =>
      app.inject({ method: 'POST', url: '/v1/auth/2fa/enable', headers: tfa.bearer, payload: { otp: '123456' } }),
    EX_TWO_FACTOR_NOT_ENABLED: () =>
      app.inject({ method: 'POST', url: '/v1/auth/2fa/disable', headers: tfa.bearer, payload: { otp: '123456' } }),
    EX_OTP_INVALID: async () => {
      tfaSecret = (await app.inject({ method: 'POST', url: '/v1/auth/2fa/setup', headers: tfa.bearer })).json().secret;
      return app.inject({
        method: 'POST',
        url: '/v1/auth/2fa/enable',
        headers: tfa.bearer,
        payload: { otp: totpNow(tfaSecret, Date.now()) === '000000' ? '111111' : '000000' },
      });
    },
    EX_TWO_FACTOR_ALREADY_ENABLED: async () => {
      await app.inject({
        method: 'POST',
        url: '/v1/auth/2fa/enable',
        headers: tfa.bearer,
        payload: { otp: totpNow(tfaSecret, Date.now()) },
      });
      return app.inject({ method: 'POST', url: '/v1/auth/2fa/setup', headers: tfa.bearer });
    },
    EX_OTP_REQUIRED: () =>
      app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        payload: { username: 'codes_tfa', password: 'correct horse battery' },
      }),
    EX_AUTH_THROTTLED: async () => {
      // Wrong passwords for one name, from an address of their own, until the back-off locks them out.
      let last = await app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        remoteAddress: '10.1.1.1',
        payload: { username: 'codes_user', password: 'guess number 0' },
      });
      for (let i = 1; i < 40 && last.statusCode !== 429; i++)
        last = await app.inject({
          method: 'POST',
          url: '/v1/auth/login',
          remoteAddress: '10.1.1.1',
          payload: { username: 'codes_user', password: `guess number ${i}` },
        });
      return last;
    },
    // The operator API: gateway/routes/admin*.ts.
    EX_OPERATOR_REQUIRED: () => app.inject({ method: 'GET', url: '/v1/admin/me', headers: u.bearer }),
    EX_OPERATOR_ROLE_INSUFFICIENT: () =>
      app.inject({
        method: 'POST',
        url: '/v1/admin/kill-switch/engage',
        headers: viewerOp.bearer,
        payload: { reason: 'test' },
      }),
    EX_USER_NOT_FOUND: () =>
      app.inject({ method: 'GET', url: '/v1/admin/users/999999/balances', headers: adminOp.bearer }),
    EX_WITHDRAWAL_NOT_DECIDABLE: async () => {
      // Below any approval threshold: nothing to approve.
      const w = await withdrawTo(ADDRESS, '1');
      return app.inject({
        method: 'POST',
        url: `/v1/admin/withdrawals/${w.json().withdrawalId as string}/approve`,
        headers: adminOp.bearer,
        payload: {},
      });
    },
    EX_KILL_SWITCH_NOT_ENGAGED: () =>
      app.inject({
        method: 'POST',
        url: '/v1/admin/kill-switch/release',
        headers: adminOp.bearer,
        payload: { reason: 'test' },
      }),
  };

  t.same(
    Object.keys(triggers).sort(),
    Object.keys(GATEWAY_ERRORS).sort(),
    'the table has a trigger for every documented code',
  );
  for (const [code, trigger] of Object.entries(triggers) as [GatewayCode, (typeof triggers)[GatewayCode]][]) {
    const r = await trigger();
    t.same([r.statusCode, r.json().code], [GATEWAY_ERRORS[code].status, code], code);
  }
});
