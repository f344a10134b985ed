// The web page as the gateway serves it, and what the page needs of the API: security headers (a strict CSP with
// no inline script, helmet's headers) on the page and on API answers; the built page (index.html for the page's
// paths, hashed assets cached for good, precompressed); the cookie session (HttpOnly, SameSite=Strict, Secure and
// __Host- under TLS) with its CSRF token required on every request that changes something; the WebSocket refused
// to a cookie from another origin; GET /v1/info; deposits waiting for confirmations.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { authenticator } from '../../gateway/app.js';
import { CONTENT_SECURITY_POLICY } from '../../gateway/web/security.js';
import { buildWeb } from '../../tools/web/build.js';
import { MARKET, USDT, deposit, registerUser, setupMarket, startTestGateway } from './support.js';

const REPO = path.join(import.meta.dirname, '..', '..');
const CSP =
  "default-src 'self';script-src 'self';style-src 'self';img-src 'self' data:;font-src 'self';connect-src 'self';object-src 'none';base-uri 'none';frame-ancestors 'none';form-action 'self'";

t.test('the web page and the API it uses', async (t) => {
  const outDir = await mkdtemp(path.join(os.tmpdir(), 'web-page-'));
  t.teardown(() => rm(outDir, { recursive: true, force: true }));
  const built = await buildWeb({ root: REPO, outDir });
  const tg = await startTestGateway('web', { trustProxy: true }, { webRoot: outDir, depositConfirmations: 3 });
  t.teardown(() => tg.close());
  const { app } = tg.gw;
  await setupMarket(tg.bus);
  const user = await registerUser(tg.gw, 'webuser');
  await deposit(tg.bus, user.userId, USDT, 10n ** 9n);

  t.test('security headers on the page and on API answers', async (t) => {
    t.equal(Object.keys(CONTENT_SECURITY_POLICY).length, 11, 'every directive is set here on purpose');
    for (const url of ['/', '/v1/markets', '/v1/balances']) {
      const r = await app.inject({ method: 'GET', url });
      t.equal(
        r.headers['content-security-policy'],
        CSP,
        `${url}: the CSP allows this origin only, no inline script or style`,
      );
      t.equal(r.headers['x-content-type-options'], 'nosniff');
      t.equal(r.headers['x-frame-options'], 'SAMEORIGIN');
      t.equal(r.headers['referrer-policy'], 'no-referrer');
      t.equal(r.headers['cross-origin-opener-policy'], 'same-origin');
      t.equal(r.headers['cross-origin-resource-policy'], 'same-origin');
      t.match(r.headers['strict-transport-security'], /^max-age=\d+/);
    }
  });

  t.test('the built page: index.html for its paths, hashed assets, no inline script', async (t) => {
    t.ok(
      built.jsGzipBytes > 0 && built.jsGzipBytes < 300 * 1024,
      `the page's JavaScript is ${built.jsGzipBytes} bytes gzipped, under 300 KB`,
    );
    const index = await app.inject({ method: 'GET', url: '/' });
    t.equal(index.statusCode, 200);
    t.match(index.headers['content-type'], 'text/html');
    t.equal(index.headers['cache-control'], 'no-cache');
    const html = index.body;
    t.notMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'every script has a src: none is inline');
    t.notMatch(html, /<style|\sstyle=|\son[a-z]+=/i, 'no style element, style attribute or event handler attribute');
    t.notMatch(html, /https?:\/\//, 'nothing from another origin');
    for (const url of ['/trade/TKA-USDT', '/wallet', '/markets', '/login']) {
      const r = await app.inject({ method: 'GET', url });
      t.same([r.statusCode, r.body], [200, html], `${url} is the page`);
    }
    const js = /src="(\/assets\/app-[A-Z0-9]+\.js)"/.exec(html)?.[1];
    t.ok(js !== undefined, 'index.html names its script');
    const plain = await app.inject({ method: 'GET', url: js! });
    t.equal(plain.headers['cache-control'], 'public, max-age=31536000, immutable');
    t.match(plain.headers['content-type'], 'text/javascript');
    t.equal(plain.body, await readFile(path.join(outDir, js!), 'utf8'));
    const br = await app.inject({ method: 'GET', url: js!, headers: { 'accept-encoding': 'gzip, br' } });
    t.equal(br.headers['content-encoding'], 'br', 'brotli when the browser takes it');
    const gz = await app.inject({ method: 'GET', url: js!, headers: { 'accept-encoding': 'gzip' } });
    t.equal(gz.headers['content-encoding'], 'gzip');
    const missing = await app.inject({ method: 'GET', url: '/assets/app-NOPE.js' });
    t.same([missing.statusCode, missing.json().code], [404, 'EX_NOT_FOUND']);
    const post = await app.inject({ method: 'POST', url: '/trade/TKA-USDT', payload: {} });
    t.same(
      [post.statusCode, post.json().code, post.headers.allow],
      [405, 'EX_METHOD_NOT_ALLOWED', 'GET'],
      'the page takes GET only',
    );
  });

  t.test('cookie session: HttpOnly, SameSite=Strict, CSRF token on every change', async (t) => {
    const nobody = await app.inject({ method: 'GET', url: '/v1/auth/session' });
    t.same(
      nobody.json(),
      { signedIn: false, userId: null, username: null, csrfToken: null },
      'nobody signed in is an answer, not an error',
    );
    const login = await app.inject({
      method: 'POST',
      url: '/v1/auth/session',
      payload: { username: 'webuser', password: 'correct horse battery' },
    });
    t.equal(login.statusCode, 200);
    const setCookie = String(login.headers['set-cookie']);
    t.match(
      setCookie,
      /^ex_session=s_[A-Za-z0-9_-]{43}; Path=\/; Max-Age=86400; HttpOnly; SameSite=Strict$/,
      'HttpOnly, SameSite=Strict; not Secure over plain HTTP',
    );
    const body = login.json();
    t.match(body, { signedIn: true, userId: user.userId, username: 'webuser', csrfToken: /^[A-Za-z0-9_-]{43}$/ });
    t.notMatch(login.body, /s_[A-Za-z0-9_-]{43}/, 'the session token is not in the body: page scripts never see it');
    const cookie = setCookie.split(';')[0];
    const csrf = body.csrfToken as string;
    const me = await app.inject({ method: 'GET', url: '/v1/auth/session', headers: { cookie } });
    t.same(me.json(), body, 'the session answers with the same CSRF token');
    t.equal(
      (await app.inject({ method: 'GET', url: '/v1/balances', headers: { cookie } })).statusCode,
      200,
      'reads need no CSRF token',
    );
    const place = (headers: Record<string, string>) =>
      app.inject({
        method: 'POST',
        url: '/v1/orders',
        headers,
        payload: { marketId: MARKET, side: 'buy', orderType: 'limit', price: '100', quantity: '1' },
      });
    const none = await place({ cookie });
    t.same(
      [none.statusCode, none.json().code],
      [403, 'EX_CSRF_TOKEN_INVALID'],
      'a change without the token is refused',
    );
    const wrong = await place({ cookie, 'x-csrf-token': `${csrf.slice(0, -1)}${csrf.endsWith('A') ? 'B' : 'A'}` });
    t.same([wrong.statusCode, wrong.json().code], [403, 'EX_CSRF_TOKEN_INVALID'], 'so is a wrong token');
    const other = await app.inject({
      method: 'POST',
      url: '/v1/auth/session',
      payload: { username: 'webuser', password: 'correct horse battery' },
    });
    const otherCsrf = other.json().csrfToken as string;
    t.not(otherCsrf, csrf, 'each session has its own token');
    const crossed = await place({ cookie, 'x-csrf-token': otherCsrf });
    t.equal(crossed.statusCode, 403, "another session's token does not fit");
    const ok = await place({ cookie, 'x-csrf-token': csrf });
    t.equal(ok.statusCode, 201, 'with its token the order is placed');
    t.equal(
      (await place(user.bearer)).statusCode,
      201,
      'a bearer token needs no CSRF token (no browser sends it by itself)',
    );
    const plain = await app.inject({
      method: 'POST',
      url: '/v1/orders',
      headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'text/plain' },
      payload: '{}',
    });
    t.same(
      [plain.statusCode, plain.json().code],
      [415, 'EX_UNSUPPORTED_MEDIA_TYPE'],
      'a text/plain body (what a form of another site can post) is refused',
    );

    const auth = authenticator(tg.gw.auth);
    const upgrade = (origin: string) =>
      ({ method: 'GET', url: '/v1/ws', headers: { cookie, origin, host: 'exchange.test' } }) as never;
    t.same(
      await auth(upgrade('http://exchange.test')),
      { userId: user.userId },
      'the WebSocket takes the cookie from a page of this origin',
    );
    t.equal(await auth(upgrade('https://evil.test')), null, 'and not from a page of another origin');

    const out = await app.inject({
      method: 'DELETE',
      url: '/v1/auth/session',
      headers: { cookie, 'x-csrf-token': csrf },
    });
    t.equal(out.statusCode, 204);
    t.match(
      String(out.headers['set-cookie']),
      /^ex_session=; Path=\/; Max-Age=0; HttpOnly; SameSite=Strict$/,
      'logging out clears the cookie',
    );
    t.same(
      (await app.inject({ method: 'GET', url: '/v1/auth/session', headers: { cookie } })).json().signedIn,
      false,
      'and ends the session',
    );

    const tls = await app.inject({
      method: 'POST',
      url: '/v1/auth/session',
      headers: { 'x-forwarded-proto': 'https' },
      payload: { username: 'webuser', password: 'correct horse battery' },
    });
    t.match(
      String(tls.headers['set-cookie']),
      /^__Host-ex_session=s_[A-Za-z0-9_-]{43}; Path=\/; Max-Age=86400; HttpOnly; SameSite=Strict; Secure$/,
      'under TLS: Secure and __Host- prefixed',
    );
  });

  t.test('GET /v1/info and deposits waiting for confirmations', async (t) => {
    t.same((await app.inject({ method: 'GET', url: '/v1/info' })).json(), {
      devnetFaucet: false,
      depositConfirmations: 3,
    });
    await tg.db.sql`INSERT INTO chain_watch_cursor (chain_id, next_block) VALUES (1337, 102)`;
    await tg.db.sql`
      INSERT INTO chain_deposits (chain_id, tx_hash, log_index, block_number, block_hash, token, asset_id, user_id, to_address, amount, state)
      VALUES (1337, ${`0x${'a'.repeat(64)}`}, 0, 101, ${`0x${'b'.repeat(64)}`}, '0x5FbDB2315678afecb367f032d93F642f64180aa3', ${USDT}, ${user.userId}, '0x1', 2500000, 'seen'),
             (1337, ${`0x${'c'.repeat(64)}`}, 0, 90, ${`0x${'d'.repeat(64)}`}, '0x5FbDB2315678afecb367f032d93F642f64180aa3', ${USDT}, ${user.userId}, '0x1', 1, 'credited')`;
    const r = await app.inject({ method: 'GET', url: '/v1/deposits/incoming', headers: user.bearer });
    t.match(
      r.json(),
      {
        deposits: [
          {
            txHash: `0x${'a'.repeat(64)}`,
            asset: 'USDT',
            amount: '2.5',
            blockNumber: 101,
            confirmations: 1,
            requiredConfirmations: 3,
          },
        ],
      },
      'the seen deposit with its confirmations; the credited one is not incoming',
    );
    t.equal(r.json().deposits.length, 1);
    const stranger = await registerUser(tg.gw, 'stranger');
    t.same(
      (await app.inject({ method: 'GET', url: '/v1/deposits/incoming', headers: stranger.bearer })).json(),
      { deposits: [] },
      'nobody else sees them',
    );
  });
});
