// The gateway's withdrawal controls against real PostgreSQL, Redis and an engine: the address book's time lock,
// the rolling 24 h limit per asset (refunds give it back), the venue's halt, the one-time code with a session, and
// what a stolen API key with the withdraw scope can and cannot do. Every refusal happens before the engine holds
// anything: no command reaches it.

import t from 'tap';
import { totpNow } from '../../gateway/auth/totp.js';
import {
  ETH,
  addWithdrawalAddress,
  createKey,
  deposit,
  registerUser,
  setupMarket,
  signedHeaders,
  startTestGateway,
} from './support.js';

const DAY_MS = 24 * 3600_000;
const BOOKED = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const NEW = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';

t.test('withdrawal controls at the gateway', async (t) => {
  let clockMs = Date.now();
  const tg = await startTestGateway('wdctl', { sessionTtlMs: 30 * DAY_MS }, { nowMs: () => clockMs });
  t.teardown(() => tg.close());
  const app = tg.gw.app;
  await setupMarket(tg.bus);
  const erin = await registerUser(tg.gw, 'erin');
  await deposit(tg.bus, erin.userId, ETH, 10n * 10n ** 18n);
  // 2 ETH a day; above 1 ETH an operator approves.
  await tg.db
    .sql`INSERT INTO custody_asset_limits (asset_id, daily_withdrawal_limit, approval_threshold) VALUES (${ETH}, ${(2n * 10n ** 18n).toString()}, ${(10n ** 18n).toString()})`;
  const withdraw = (headers: Record<string, string>, payload: Record<string, unknown>) =>
    app.inject({ method: 'POST', url: '/v1/withdrawals', headers, payload: { asset: 'ETH', ...payload } });
  const byKey = (key: { keyId: string; secret: string }, payload: Record<string, unknown>) => {
    const body = JSON.stringify({ asset: 'ETH', ...payload });
    clockMs += 1;
    return app.inject({
      method: 'POST',
      url: '/v1/withdrawals',
      headers: signedHeaders(key, 'POST', '/v1/withdrawals', body, clockMs),
      payload: body,
    });
  };

  await t.test('a new address is usable only after the time lock; removal is immediate', async (t) => {
    const before = tg.bus.applied;
    const notInBook = await withdraw(erin.bearer, { amount: '0.1', address: BOOKED });
    t.same([notInBook.statusCode, notInBook.json().code], [422, 'EX_WITHDRAWAL_ADDRESS_NOT_IN_BOOK']);
    const added = await addWithdrawalAddress(tg.gw, erin, BOOKED);
    t.equal(Date.parse(added.usableAt), clockMs + DAY_MS, 'usable 24 h after it was added');
    const locked = await withdraw(erin.bearer, { amount: '0.1', address: BOOKED });
    t.same(
      [locked.statusCode, locked.json().code, locked.json().usableAt],
      [422, 'EX_WITHDRAWAL_ADDRESS_LOCKED', added.usableAt],
    );
    t.equal(tg.bus.applied, before, 'nothing reached the engine');
    clockMs += DAY_MS;
    const ok = await withdraw(erin.bearer, { amount: '0.1', address: BOOKED });
    t.same([ok.statusCode, ok.json().approvalRequired], [201, false], ok.body);
    const extra = await addWithdrawalAddress(tg.gw, erin, NEW);
    const del = await app.inject({
      method: 'DELETE',
      url: `/v1/withdrawal-addresses/${extra.addressId}`,
      headers: erin.bearer,
    });
    t.equal(del.statusCode, 200);
    clockMs += DAY_MS;
    t.equal(
      (await withdraw(erin.bearer, { amount: '0.1', address: NEW })).json().code,
      'EX_WITHDRAWAL_ADDRESS_NOT_IN_BOOK',
      'a removed address is refused at once',
    );
    const dup = await app.inject({
      method: 'POST',
      url: '/v1/withdrawal-addresses',
      headers: erin.bearer,
      payload: { address: BOOKED, label: 'again' },
    });
    t.same([dup.statusCode, dup.json().code], [409, 'EX_WITHDRAWAL_ADDRESS_EXISTS']);
    const bad = await app.inject({
      method: 'POST',
      url: '/v1/withdrawal-addresses',
      headers: erin.bearer,
      payload: { address: BOOKED.toLowerCase(), label: 'x' },
    });
    t.equal(bad.json().code, 'EX_ADDRESS_INVALID');
  });

  await t.test('the rolling 24 h limit: refused above what is left, refunds give it back, it rolls', async (t) => {
    clockMs += DAY_MS; // a fresh window
    const first = await withdraw(erin.bearer, { amount: '1.5', address: BOOKED });
    t.same([first.statusCode, first.json().approvalRequired], [201, true], 'above the approval threshold: flagged');
    const before = tg.bus.applied;
    const over = await withdraw(erin.bearer, { amount: '0.6', address: BOOKED });
    t.same([over.statusCode, over.json().code, over.json().remaining], [422, 'EX_WITHDRAWAL_LIMIT_EXCEEDED', '0.5']);
    t.equal(tg.bus.applied, before, 'nothing reached the engine');
    t.equal((await withdraw(erin.bearer, { amount: '0.5', address: BOOKED })).statusCode, 201, 'exactly what is left');
    await tg.bus.apply({
      v: 1,
      type: 'failWithdrawal',
      id: 'refund-1',
      withdrawalId: first.json().withdrawalId,
      reason: 'test',
    });
    t.equal(
      (await withdraw(erin.bearer, { amount: '1.5', address: BOOKED })).statusCode,
      201,
      'a refunded withdrawal no longer counts',
    );
    t.equal(
      (await withdraw(erin.bearer, { amount: '0.000000000000000001', address: BOOKED })).json().code,
      'EX_WITHDRAWAL_LIMIT_EXCEEDED',
    );
    clockMs += DAY_MS + 1;
    t.equal(
      (await withdraw(erin.bearer, { amount: '2', address: BOOKED })).statusCode,
      201,
      '24 h later the window has rolled',
    );
    const tooMuch = await withdraw(erin.bearer, { amount: '100', address: BOOKED });
    t.equal(tooMuch.json().code, 'EX_INSUFFICIENT_BALANCE');
  });

  await t.test(
    'a stolen API key with the withdraw scope: no new address, no early use, not above the limit',
    async (t) => {
      clockMs += DAY_MS;
      const key = await createKey(tg.gw, erin, ['read', 'withdraw']);
      const body = JSON.stringify({ address: NEW, label: 'attacker' });
      const add = await app.inject({
        method: 'POST',
        url: '/v1/withdrawal-addresses',
        headers: signedHeaders(key, 'POST', '/v1/withdrawal-addresses', body, ++clockMs),
        payload: body,
      });
      t.same([add.statusCode, add.json().code], [403, 'EX_SESSION_REQUIRED'], 'a key cannot add an address');
      t.equal(
        (await byKey(key, { amount: '0.1', address: NEW })).json().code,
        'EX_WITHDRAWAL_ADDRESS_NOT_IN_BOOK',
        'nor withdraw to one outside the book',
      );
      await addWithdrawalAddress(tg.gw, erin, NEW); // say the attacker also phished the password, without 2FA on
      t.equal(
        (await byKey(key, { amount: '0.1', address: NEW })).json().code,
        'EX_WITHDRAWAL_ADDRESS_LOCKED',
        'nor before the time lock',
      );
      t.equal(
        (await byKey(key, { amount: '2.1', address: BOOKED })).json().code,
        'EX_WITHDRAWAL_LIMIT_EXCEEDED',
        'nor above the limit',
      );
      t.equal(
        (await byKey(key, { amount: '0.2', address: BOOKED })).statusCode,
        201,
        'a booked, unlocked address within the limit works',
      );
    },
  );

  await t.test('with 2FA on, a session withdrawal and a new address need a code', async (t) => {
    clockMs += DAY_MS;
    const setup = await app.inject({ method: 'POST', url: '/v1/auth/2fa/setup', headers: erin.bearer });
    const secret = setup.json().secret as string;
    await app.inject({
      method: 'POST',
      url: '/v1/auth/2fa/enable',
      headers: erin.bearer,
      payload: { otp: totpNow(secret, clockMs) },
    });
    clockMs += 30_000;
    t.equal(
      (await withdraw(erin.bearer, { amount: '0.1', address: BOOKED })).json().code,
      'EX_OTP_REQUIRED',
      'a stolen session cannot withdraw',
    );
    t.equal(
      (await withdraw(erin.bearer, { amount: '0.1', address: BOOKED, otp: totpNow(secret, clockMs) })).statusCode,
      201,
    );
    clockMs += 30_000;
    const third = '0x90F79bf6EB2c4f870365E785982E1f101E93b906';
    const noCode = await app.inject({
      method: 'POST',
      url: '/v1/withdrawal-addresses',
      headers: erin.bearer,
      payload: { address: third, label: 'x' },
    });
    t.equal(noCode.json().code, 'EX_OTP_REQUIRED');
    t.equal((await addWithdrawalAddress(tg.gw, erin, third, totpNow(secret, clockMs))).usableAt.length > 0, true);
  });

  await t.test("the operator's halt refuses requests before the engine", async (t) => {
    await tg.db.sql`UPDATE custody_controls SET withdrawals_halted = true`;
    const before = tg.bus.applied;
    const halted = await withdraw(erin.bearer, { amount: '0.1', address: BOOKED });
    t.same([halted.statusCode, halted.json().code], [503, 'EX_WITHDRAWALS_HALTED']);
    t.equal(tg.bus.applied, before);
    await tg.db.sql`UPDATE custody_controls SET withdrawals_halted = false`;
  });

  await t.test('the audit log has each request and refusal', async (t) => {
    const [{ n }] = await tg.db
      .sql`SELECT count(*)::int AS n FROM audit_log WHERE user_id = ${erin.userId} AND action = 'withdrawal.requested'`;
    t.ok(n >= 6, `${n} requests`);
    const added = await tg.db
      .sql`SELECT count(*)::int AS n FROM audit_log WHERE user_id = ${erin.userId} AND action IN ('withdrawal_address.added', 'withdrawal_address.removed')`;
    t.ok(added[0].n >= 4);
  });
});
