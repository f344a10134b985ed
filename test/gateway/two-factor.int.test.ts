// Accounts under attack, against real PostgreSQL and Redis: TOTP enrolment and its one-time codes, a stolen
// password without the TOTP secret, guessing passwords and codes (back-off, the same answers for unknown names),
// sessions listed and revoked, API keys limited to an IP allow-list, and what each leaves in the user's audit log.

import t from 'tap';
import { totpNow } from '../../gateway/auth/totp.js';
import { createKey, registerUser, signedHeaders, startTestGateway } from './support.js';
import type { TestGateway } from './support.js';

const PASSWORD = 'correct horse battery';
const STEP_MS = 30_000;

t.test('two-factor authentication and login protection', async (t) => {
  let clockMs = Date.now();
  const tg: TestGateway = await startTestGateway('twofa', {}, { nowMs: () => clockMs });
  t.teardown(() => tg.close());
  const app = tg.gw.app;
  const login = (username: string, password: string, otp?: string, remoteAddress = '127.0.0.1') =>
    app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      remoteAddress,
      payload: { username, password, ...(otp === undefined ? {} : { otp }) },
    });
  const nextStep = () => (clockMs += STEP_MS);

  const carol = await registerUser(tg.gw, 'carol', PASSWORD);
  let secret = '';
  let recovery: string[] = [];

  await t.test('enrolment: an otpauth URI and QR code, confirmed by a first code, gives recovery codes', async (t) => {
    const setup = await app.inject({ method: 'POST', url: '/v1/auth/2fa/setup', headers: carol.bearer });
    t.equal(setup.statusCode, 200, setup.body);
    secret = setup.json().secret;
    t.match(setup.json().otpauthUri, /^otpauth:\/\/totp\/exchange-core:carol\?.*secret=[A-Z2-7]+/);
    t.match(setup.json().qrSvg, /<svg[\s\S]*<\/svg>/);
    t.match(
      (await app.inject({ method: 'GET', url: '/v1/auth/2fa', headers: carol.bearer })).json(),
      { enabled: false },
      'not on before the first code',
    );
    const wrong = await app.inject({
      method: 'POST',
      url: '/v1/auth/2fa/enable',
      headers: carol.bearer,
      payload: { otp: '000000' },
    });
    t.same([wrong.statusCode, wrong.json().code], [401, 'EX_OTP_INVALID']);
    const ok = await app.inject({
      method: 'POST',
      url: '/v1/auth/2fa/enable',
      headers: carol.bearer,
      payload: { otp: totpNow(secret, clockMs) },
    });
    t.equal(ok.statusCode, 200, ok.body);
    recovery = ok.json().recoveryCodes;
    t.equal(recovery.length, 10);
    t.match((await app.inject({ method: 'GET', url: '/v1/auth/2fa', headers: carol.bearer })).json(), {
      enabled: true,
      recoveryCodesLeft: 10,
    });
    const [row] = await tg.db.sql`SELECT totp_secret_enc FROM gateway_accounts WHERE username = 'carol'`;
    t.notOk(Buffer.from(row.totp_secret_enc).toString('latin1').includes(secret), 'the secret is stored encrypted');
    const hashes = await tg.db.sql`SELECT code_hash FROM gateway_recovery_codes`;
    t.notOk(
      hashes.some((h) => recovery.some((c) => Buffer.from(h.code_hash).toString('latin1').includes(c))),
      'recovery codes are stored hashed',
    );
    const again = await app.inject({ method: 'POST', url: '/v1/auth/2fa/setup', headers: carol.bearer });
    t.same(
      [again.statusCode, again.json().code],
      [409, 'EX_TWO_FACTOR_ALREADY_ENABLED'],
      'no new secret while it is on',
    );
  });

  await t.test('a stolen password without the TOTP secret cannot log in; a code is accepted once', async (t) => {
    nextStep();
    const noCode = await login('carol', PASSWORD);
    t.same([noCode.statusCode, noCode.json().code], [401, 'EX_OTP_REQUIRED']);
    const guessed = await login('carol', PASSWORD, '123456');
    t.same([guessed.statusCode, guessed.json().code], [401, 'EX_OTP_INVALID']);
    const code = totpNow(secret, clockMs);
    t.equal((await login('carol', PASSWORD, code)).statusCode, 200, 'password and code');
    const replay = await login('carol', PASSWORD, code);
    t.same([replay.statusCode, replay.json().code], [401, 'EX_OTP_INVALID'], 'the same code again is refused');
    const rc = await login('carol', PASSWORD, recovery[0].toUpperCase());
    t.equal(rc.statusCode, 200, 'a recovery code (any case) instead');
    t.same(
      (await login('carol', PASSWORD, recovery[0])).json().code,
      'EX_OTP_INVALID',
      'each recovery code works once',
    );
    t.match((await app.inject({ method: 'GET', url: '/v1/auth/2fa', headers: carol.bearer })).json(), {
      recoveryCodesLeft: 9,
    });
  });

  await t.test('an API key with the withdraw scope needs a code; a read key does not', async (t) => {
    nextStep();
    const noCode = await app.inject({
      method: 'POST',
      url: '/v1/api-keys',
      headers: carol.bearer,
      payload: { label: 'bot', scopes: ['read', 'withdraw'] },
    });
    t.same([noCode.statusCode, noCode.json().code], [401, 'EX_OTP_REQUIRED']);
    const withCode = await app.inject({
      method: 'POST',
      url: '/v1/api-keys',
      headers: carol.bearer,
      payload: { label: 'bot', scopes: ['read', 'withdraw'], otp: totpNow(secret, clockMs) },
    });
    t.equal(withCode.statusCode, 201, withCode.body);
    t.equal(
      (
        await app.inject({
          method: 'POST',
          url: '/v1/api-keys',
          headers: carol.bearer,
          payload: { label: 'ro', scopes: ['read'] },
        })
      ).statusCode,
      201,
    );
  });

  await t.test('guessing one-time codes with a stolen session locks the codes, the right one included', async (t) => {
    nextStep();
    for (let i = 0; i < 6; i++) {
      const r = await app.inject({
        method: 'POST',
        url: '/v1/auth/2fa/recovery-codes',
        headers: carol.bearer,
        payload: { otp: String(100000 + i) },
      });
      t.equal(r.json().code, 'EX_OTP_INVALID');
    }
    const locked = await app.inject({
      method: 'POST',
      url: '/v1/auth/2fa/recovery-codes',
      headers: carol.bearer,
      payload: { otp: totpNow(secret, clockMs) },
    });
    t.same([locked.statusCode, locked.json().code], [429, 'EX_AUTH_THROTTLED']);
    t.equal(locked.headers['retry-after'], '1');
    clockMs += 2000;
    const fine = await app.inject({
      method: 'POST',
      url: '/v1/auth/2fa/recovery-codes',
      headers: carol.bearer,
      payload: { otp: totpNow(secret, clockMs) },
    });
    t.equal(fine.statusCode, 200, 'after the lock, the right code is taken');
  });

  await t.test('password guessing: back-off per name, answered alike for a name that does not exist', async (t) => {
    await registerUser(tg.gw, 'dave', PASSWORD);
    const answers = async (username: string) => {
      const out: string[] = [];
      for (let i = 0; i < 8; i++) {
        const r = await login(username, `wrong password ${i}`, undefined, '10.9.9.9');
        out.push(`${r.statusCode} ${r.json().code} ${r.json().message}`);
      }
      return out;
    };
    const known = await answers('dave');
    const unknown = await answers('nobody-here');
    t.same(unknown, known, 'an unknown name gets exactly the answers of a wrong password');
    t.same(
      known.map((a) => a.split(' ')[1]),
      [
        'EX_BAD_CREDENTIALS',
        'EX_BAD_CREDENTIALS',
        'EX_BAD_CREDENTIALS',
        'EX_BAD_CREDENTIALS',
        'EX_BAD_CREDENTIALS',
        'EX_BAD_CREDENTIALS',
        'EX_AUTH_THROTTLED',
        'EX_AUTH_THROTTLED',
      ],
    );
    const right = await login('dave', PASSWORD, undefined, '10.9.9.8');
    t.same(
      [right.statusCode, right.json().code],
      [429, 'EX_AUTH_THROTTLED'],
      'while locked, even the right password is not checked',
    );
    clockMs += 3000;
    t.equal((await login('dave', PASSWORD, undefined, '10.9.9.8')).statusCode, 200, 'after the back-off');
  });

  await t.test('sessions: listed with where they came from, revoked one by one or all others', async (t) => {
    nextStep();
    const a = (await login('carol', PASSWORD, totpNow(secret, clockMs), '10.0.0.1')).json();
    nextStep();
    const b = (await login('carol', PASSWORD, totpNow(secret, clockMs), '10.0.0.2')).json();
    const bearerA = { authorization: `Bearer ${a.token}` };
    const list = await app.inject({ method: 'GET', url: '/v1/sessions', headers: bearerA });
    const sessions = list.json().sessions as { sessionId: string; ip: string; current: boolean }[];
    t.ok(sessions.length >= 3);
    t.match(
      sessions.find((s) => s.sessionId === a.sessionId),
      { ip: '10.0.0.1', current: true },
    );
    t.match(
      sessions.find((s) => s.sessionId === b.sessionId),
      { ip: '10.0.0.2', current: false },
    );
    t.equal(
      (await app.inject({ method: 'DELETE', url: `/v1/sessions/${b.sessionId}`, headers: bearerA })).statusCode,
      204,
    );
    const dead = await app.inject({
      method: 'GET',
      url: '/v1/balances',
      headers: { authorization: `Bearer ${b.token}` },
    });
    t.same([dead.statusCode, dead.json().code], [401, 'EX_SESSION_INVALID'], 'the revoked session is refused at once');
    const others = await app.inject({ method: 'DELETE', url: '/v1/sessions', headers: bearerA });
    t.ok(others.json().revoked >= 1);
    t.equal(
      (await app.inject({ method: 'GET', url: '/v1/balances', headers: carol.bearer })).statusCode,
      401,
      'the first session is gone too',
    );
    t.equal(
      (await app.inject({ method: 'GET', url: '/v1/balances', headers: bearerA })).statusCode,
      200,
      'the current one stays',
    );
    const viaKey = await createKey(tg.gw, { ...carol, bearer: bearerA }, ['read']);
    const byKey = await app.inject({
      method: 'DELETE',
      url: '/v1/sessions',
      headers: signedHeaders(viaKey, 'DELETE', '/v1/sessions', '', clockMs),
    });
    t.same(byKey.json().code, 'EX_SESSION_REQUIRED', 'an API key cannot revoke sessions');
  });

  await t.test('an API key with an IP allow-list is refused from elsewhere', async (t) => {
    const dave = (await login('dave', PASSWORD, undefined, '10.9.9.8')).json();
    const bearer = { authorization: `Bearer ${dave.token}` };
    const bad = await app.inject({
      method: 'POST',
      url: '/v1/api-keys',
      headers: bearer,
      payload: { label: 'x', scopes: ['read'], ipAllowList: ['10.1.2.0/33'] },
    });
    t.same([bad.statusCode, bad.json().code], [400, 'EX_IP_ALLOW_LIST_INVALID']);
    const res = await app.inject({
      method: 'POST',
      url: '/v1/api-keys',
      headers: bearer,
      payload: { label: 'office', scopes: ['read'], ipAllowList: ['10.1.2.0/24', '2001:db8::1'] },
    });
    t.equal(res.statusCode, 201, res.body);
    t.same(res.json().ipAllowList, ['10.1.2.0/24', '2001:db8::1']);
    const key = res.json() as { keyId: string; secret: string };
    const from = (remoteAddress: string, ts: number) =>
      app.inject({
        method: 'GET',
        url: '/v1/balances',
        remoteAddress,
        headers: signedHeaders(key, 'GET', '/v1/balances', '', ts),
      });
    const elsewhere = await from('127.0.0.1', clockMs);
    t.same([elsewhere.statusCode, elsewhere.json().code], [403, 'EX_IP_NOT_ALLOWED']);
    t.equal((await from('10.1.2.77', clockMs + 1)).statusCode, 200, 'inside the block');
    t.equal((await from('::ffff:10.1.2.78', clockMs + 2)).statusCode, 200, 'IPv4 seen through an IPv6 socket');
    t.equal((await from('2001:db8::1', clockMs + 3)).statusCode, 200, 'the IPv6 address');
    const listed = await app.inject({ method: 'GET', url: '/v1/api-keys', headers: bearer });
    t.same(listed.json().keys.find((k: { keyId: string }) => k.keyId === key.keyId).ipAllowList, [
      '10.1.2.0/24',
      '2001:db8::1',
    ]);
  });

  await t.test('the audit log holds all of it, each user sees only their own', async (t) => {
    const a = (await login('dave', PASSWORD, undefined, '10.9.9.8')).json();
    const page = await app.inject({
      method: 'GET',
      url: '/v1/audit?limit=500',
      headers: { authorization: `Bearer ${a.token}` },
    });
    const actions = page.json().entries as { action: string; userId: number; actorId: string | null }[];
    t.ok(
      actions.every((e) => e.userId === a.userId && e.actorId === null),
      "only dave's entries, without actor ids",
    );
    for (const action of ['account.registered', 'auth.login_failed', 'auth.login_succeeded', 'api_key.created'])
      t.ok(
        actions.some((e) => e.action === action),
        `dave sees ${action}`,
      );
    nextStep();
    const carolLogin = (await login('carol', PASSWORD, totpNow(secret, clockMs))).json();
    const mine = (
      await app.inject({
        method: 'GET',
        url: '/v1/audit?limit=500',
        headers: { authorization: `Bearer ${carolLogin.token}` },
      })
    ).json().entries as { action: string }[];
    for (const action of [
      'two_factor.setup_started',
      'two_factor.enabled',
      'two_factor.recovery_code_used',
      'two_factor.recovery_codes_renewed',
      'session.revoked',
      'auth.login_failed',
    ]) {
      t.ok(
        mine.some((e) => e.action === action),
        `carol sees ${action}`,
      );
    }
  });
});
