// The web trading page in a real browser (Debian's Chromium through playwright-core) against the exchange
// started the README's way (`npm start`, embedded, on a fresh data directory): two people in two browser
// contexts sign up, take devnet tokens from the faucet, see the deposits arrive, place crossing orders and see the
// trade in both books, in their trade lists and balances with exact figures; amend and cancel; a refused order
// shows the API's code and message; a withdrawal completes; the depth recovers after a missed delta and after the
// WebSocket is dropped; API keys are created, listed and revoked; two-factor authentication is turned on and
// then asked for at login; the page fits a phone's width. No console
// errors or failed requests beyond the refusals the flows cause on purpose. One exchange and one browser for all.
//
// Screenshots of the trading page (laptop and phone widths) are written to WEB_SCREENSHOT_DIR (default
// .tap/screenshots under the repository), named in the test's output.

import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import type { BrowserContext, Page, WebSocketRoute } from 'playwright-core';
import { freePort } from '../../chain/devnet/node.js';
import { totpNow } from '../../gateway/auth/totp.js';
import { launchChromium } from '../../testkit/chromium.js';
import { run, stopWithSigint, until } from '../../testkit/launcher.js';
import { ANY, PageProblems, cells, seeRow, seeText } from './support.js';

const REPO = path.join(import.meta.dirname, '..', '..');
const START_TIMEOUT_MS = 240_000;
const SCREENSHOT_DIR = process.env.WEB_SCREENSHOT_DIR ?? path.join(REPO, '.tap', 'screenshots');
const PASSWORD = 'a long enough password';
/** Where the withdrawal goes: an address outside the exchange. */
const OUTSIDE = '0x000000000000000000000000000000000000dEaD';

t.test('the trading page, two people, every flow', async (t) => {
  const started = Date.now();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'exchange-web-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  const env = {
    DATA_DIR: dataDir,
    EMBEDDED_PG_PORT: '0',
    DEVNET_PORT: String(await freePort()),
    GATEWAY_PORT: String(port),
    LOG_LEVEL: 'warn',
  };
  // The README's command, in its own process group so the stop reaches npm and the node it runs, as Ctrl-C does.
  const ex = run('npm', ['start'], { cwd: REPO, env, detached: true });
  t.teardown(() => void stopWithSigint(ex, { group: true, graceMs: 30_000 }));
  await until(
    "the launcher's banner",
    () => (ex.output().includes('exchange-core is running') ? true : null),
    START_TIMEOUT_MS,
    ex,
  );
  const base = `http://127.0.0.1:${port}`;
  t.match(ex.output(), `Web page:     ${base}/`, 'the banner names the web page');
  t.comment(`exchange started in ${Math.round((Date.now() - started) / 1000)} s`);

  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const problems = new PageProblems();
  const open = async (name: string, width = 1400): Promise<{ ctx: BrowserContext; page: Page }> => {
    const ctx = await browser.newContext({ viewport: { width, height: 900 } });
    const page = await ctx.newPage();
    problems.watch(page, name);
    return { ctx, page };
  };
  const alice = await open('alice');
  const bob = await open('bob');

  await t.test('sign up, log out, log in', async (t) => {
    for (const [who, p] of [
      ['alice', alice.page],
      ['bob', bob.page],
    ] as const) {
      await p.goto(`${base}/signup`);
      await p.getByLabel('Username').fill(`${who}_web`);
      await p.getByLabel('Password').fill(PASSWORD);
      await p.getByRole('button', { name: 'Sign up' }).click();
      await seeText(p.getByTestId('username'), `${who}_web`);
      t.equal(new URL(p.url()).pathname, '/wallet', `${who} lands on the wallet after signing up`);
    }
    const cookies = await alice.ctx.cookies(base);
    t.match(
      cookies.find((c) => c.name === 'ex_session'),
      { httpOnly: true, sameSite: 'Strict' },
      'the session is an HttpOnly, SameSite=Strict cookie',
    );
    t.notOk(
      await alice.page.evaluate('document.cookie.includes("ex_session")'),
      'page scripts cannot read the session',
    );
    await alice.page.getByRole('button', { name: 'Log out' }).click();
    await seeText(alice.page.locator('h1'), 'Log in');
    await alice.page.getByLabel('Username').fill('alice_web');
    await alice.page.getByLabel('Password').fill('the wrong password');
    await alice.page.getByRole('button', { name: 'Log in' }).click();
    await seeText(alice.page.getByRole('alert'), 'EX_BAD_CREDENTIALS: Unknown username or wrong password.');
    t.ok(problems.expect('alice: 401 POST /v1/auth/session'), 'a wrong password is refused with its code, shown');
    await alice.page.getByLabel('Password').fill(PASSWORD);
    await alice.page.getByRole('button', { name: 'Log in' }).click();
    await seeText(alice.page.getByTestId('username'), 'alice_web');
  });

  await t.test('the faucet mints, the deposits are credited', async (t) => {
    for (const [p, asset, amount] of [
      [alice.page, 'TKA', '10'],
      [bob.page, 'USDT', '1000'],
    ] as const) {
      await p.goto(`${base}/wallet`);
      await p.getByLabel('Asset').first().selectOption(asset);
      await p.getByLabel('Amount').first().fill(amount);
      await p.getByRole('button', { name: 'Get test tokens' }).click();
      await seeText(
        p.getByTestId('faucet-result'),
        `Minted ${amount === '1000' ? '1,000' : amount} ${asset} to your deposit address; it is credited after 2 confirmations.`,
        60_000,
      );
      t.match(
        await p.getByTestId('deposit-address').innerText(),
        /^0x[0-9a-fA-F]{40}$/,
        'the deposit address is shown',
      );
      t.equal(await p.getByRole('img', { name: /QR code of your deposit address/ }).count(), 1, 'with its QR code');
    }
    await seeRow(alice.page.locator('[data-testid=balances] tr[data-asset=TKA]'), ['TKA', '10', '0', '0'], 60_000);
    await seeRow(bob.page.locator('[data-testid=balances] tr[data-asset=USDT]'), ['USDT', '1,000', '0', '0'], 60_000);
    await seeText(alice.page.getByTestId('deposits'), 'TKA');
    t.pass('both deposits are credited: alice 10 TKA, bob 1,000 USDT');
  });

  await t.test('crossing orders: the trade in both books, trade lists and balances', async (t) => {
    await alice.page.goto(`${base}/trade/TKA-USDT`);
    await bob.page.goto(`${base}/trade/TKA-USDT`);
    const a = alice.page;
    await a.getByRole('button', { name: 'Sell TKA' }).first().click();
    await a.getByLabel('Price (USDT)').fill('100');
    await a.getByLabel('Quantity (TKA)').fill('2');
    await seeText(a.getByTestId('hold'), '2 TKA');
    await seeText(a.getByTestId('fee'), '0.4 USDT (at most (maker 10 bps, taker 20 bps))');
    await a.locator('form button[type=submit]').click();
    await seeText(a.getByTestId('order-result'), /^Order \d+ placed: new, filled 0 TKA\.$/);
    const ask = bob.page.getByRole('button', { name: 'Ask 100.00, quantity 2.0000: use this price' });
    await ask.waitFor({ timeout: 20_000 });
    t.pass("bob sees alice's ask in the book: 100.00 x 2.0000");
    // Keyboard: the level is a button; Enter puts its price in the form.
    await ask.focus();
    await bob.page.keyboard.press('Enter');
    // The form re-renders after the key press: read the field until it shows the price (bounded).
    const price = bob.page.getByLabel('Price (USDT)');
    for (const deadline = Date.now() + 5000; (await price.inputValue()) !== '100' && Date.now() < deadline;)
      await new Promise((r) => setTimeout(r, 50));
    t.equal(await price.inputValue(), '100', 'a price picked in the book fills the form');
    await bob.page.getByLabel('Quantity (TKA)').fill('1.5');
    await seeText(bob.page.getByTestId('hold'), '150.3 USDT');
    await bob.page.locator('form button[type=submit]').click();
    await seeText(bob.page.getByTestId('order-result'), /^Order \d+ placed: filled, filled 1\.5 TKA\.$/);
    for (const p of [a, bob.page]) {
      await p.getByRole('button', { name: 'Ask 100.00, quantity 0.5000: use this price' }).waitFor({ timeout: 20_000 });
      await seeRow(p.locator('[data-testid=recent-trades] tbody tr'), ['100.00', '1.5000']);
      await seeText(p.getByTestId('last-price'), '100.00');
    }
    t.pass('both books show 0.5000 left at 100.00, both trade lists the trade of 1.5000 at 100.00');
    await bob.page.getByRole('tab', { name: 'My trades' }).click();
    await seeRow(bob.page.locator('[data-testid=my-trades] tbody tr'), [
      ANY,
      'TKA-USDT',
      'Buy',
      'taker',
      '100.00',
      '1.5000',
      '150 USDT',
      '0.3 USDT',
    ]);
    await a.getByRole('tab', { name: 'My trades' }).click();
    await seeRow(a.locator('[data-testid=my-trades] tbody tr'), [
      ANY,
      'TKA-USDT',
      'Sell',
      'maker',
      '100.00',
      '1.5000',
      '150 USDT',
      '0.15 USDT',
    ]);
    await bob.page.getByRole('tab', { name: 'Balances' }).click();
    await seeRow(bob.page.locator('[data-testid=balances] tr[data-asset=USDT]'), ['USDT', '849.7', '0', '0']);
    await seeRow(bob.page.locator('[data-testid=balances] tr[data-asset=TKA]'), ['TKA', '1.5', '0', '0']);
    await a.getByRole('tab', { name: 'Balances' }).click();
    await seeRow(a.locator('[data-testid=balances] tr[data-asset=TKA]'), ['TKA', '8', '0.5', '0']);
    await seeRow(a.locator('[data-testid=balances] tr[data-asset=USDT]'), ['USDT', '149.85', '0', '0']);
    t.pass('balances exact after fees: bob 849.7 USDT + 1.5 TKA, alice 8 TKA (0.5 held) + 149.85 USDT');
  });

  await t.test('amend and cancel; a refused order shows its code', async (t) => {
    const a = alice.page;
    await a.getByRole('tab', { name: 'Open orders' }).click();
    const row = a.locator('[data-testid=open-orders] tbody tr[data-order-id]');
    await seeRow(row, [ANY, 'TKA-USDT', 'Sell', 'Limit', '100.00', '2.0000', '1.5000', '0.5000', 'partiallyFilled']);
    const orderId = await row.first().getAttribute('data-order-id');
    await a.getByRole('button', { name: `Amend order ${orderId}` }).click();
    await a.getByLabel(`New price of order ${orderId}`).fill('101');
    await a.getByRole('button', { name: 'Save' }).click();
    await seeText(a.getByTestId('orders-message'), `Order ${orderId} amended: 2 at 101.`);
    await seeRow(row, [ANY, 'TKA-USDT', 'Sell', 'Limit', '101.00', '2.0000', '1.5000', '0.5000', 'partiallyFilled']);
    await bob.page
      .getByRole('button', { name: 'Ask 101.00, quantity 0.5000: use this price' })
      .waitFor({ timeout: 20_000 });
    t.pass("the amended price shows in alice's open orders and in bob's book");
    await a.getByRole('button', { name: `Cancel order ${orderId}` }).click();
    await seeText(a.getByTestId('orders-message'), `Order ${orderId} canceled.`);
    await seeText(a.getByTestId('open-orders'), 'No open orders.');
    await seeText(bob.page.getByTestId('asks'), /^$/);
    t.pass("the canceled order leaves the open orders and bob's book");

    await a.getByLabel('Price (USDT)').fill('100.001');
    await a.getByLabel('Quantity (TKA)').fill('1');
    await seeText(
      a.getByTestId('form-problem'),
      'The price must be a plain decimal with at most 2 decimals (step 0.01).',
    );
    await a.getByRole('button', { name: 'Buy TKA' }).first().click();
    await a.getByLabel('Price (USDT)').fill('100');
    await a.getByLabel('Quantity (TKA)').fill('50');
    await a.locator('form button[type=submit]').click();
    await seeText(a.getByTestId('order-result'), /^RISK_INSUFFICIENT_FUNDS: /);
    t.ok(
      problems.expect('alice: 422 POST /v1/orders'),
      'the exchange refused it (422) and the page shows the code and message',
    );
    await a.getByRole('button', { name: 'Sell TKA' }).first().click();
    await a.getByLabel('Quantity (TKA)').fill('1');
    await a.getByLabel('Post only (never takes)').check();
    await a.locator('form button[type=submit]').click();
    await seeText(a.getByTestId('order-result'), /^Order \d+ placed: new, filled 0 TKA\.$/);
    await a.getByRole('button', { name: 'Cancel all' }).click();
    await seeText(a.getByTestId('orders-message'), '1 order canceled.');
  });

  await t.test('the depth recovers after a missed delta and after the WebSocket is dropped', async (t) => {
    const viewer = await open('viewer');
    let route: WebSocketRoute | null = null;
    let dropDepth = 0;
    // A proxy between the page and the gateway: it can lose a depth delta on the way, or cut the connection.
    await viewer.page.routeWebSocket(/\/v1\/ws$/, (ws) => {
      const server = ws.connectToServer();
      ws.onMessage((m) => server.send(m));
      server.onMessage((m) => {
        if (dropDepth > 0 && typeof m === 'string' && m.startsWith('{"type":"depth"')) return void dropDepth--;
        ws.send(m);
      });
      route = ws;
    });
    await viewer.page.goto(`${base}/trade/TKA-USDT`);
    await seeText(viewer.page.locator('.live'), 'Live');
    await viewer.page.waitForTimeout(500);
    const place = async (price: string) => {
      const before = await alice.page.getByTestId('order-result').innerText();
      await alice.page.getByLabel('Price (USDT)').fill(price);
      await alice.page.locator('form button[type=submit]').click();
      // Each answer names a new order id, so the text changes.
      await seeText(
        alice.page.getByTestId('order-result'),
        new RegExp(`^(?!${before.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$)Order \\d+ placed: new`),
      );
    };
    await alice.page.getByLabel('Post only (never takes)').uncheck();
    dropDepth = 1;
    await place('120');
    await place('121');
    for (const p of ['120.00', '121.00'])
      await viewer.page
        .getByRole('button', { name: `Ask ${p}, quantity 1.0000: use this price` })
        .waitFor({ timeout: 20_000 });
    t.equal(dropDepth, 0, 'one delta was lost on the way');
    t.pass('the book saw the gap by its sequence numbers and resynchronised: both asks are there');
    await (route as WebSocketRoute | null)?.close({ code: 1011, reason: 'test: connection dropped' });
    await seeText(viewer.page.locator('.live'), 'Reconnecting');
    await seeText(viewer.page.locator('.live'), 'Live', 30_000);
    await place('122');
    await viewer.page
      .getByRole('button', { name: 'Ask 122.00, quantity 1.0000: use this price' })
      .waitFor({ timeout: 20_000 });
    t.equal(
      await viewer.page.getByTestId('asks').getByRole('button').count(),
      3,
      'after reconnecting, the book is exactly the three asks',
    );
    await alice.page.getByRole('button', { name: 'Cancel all' }).click();
    await seeText(viewer.page.getByTestId('asks'), /^$/);
    await viewer.ctx.close();
  });

  await t.test('a withdrawal completes', async (t) => {
    const a = alice.page;
    await a.goto(`${base}/wallet`);
    await seeText(a.getByTestId('withdraw-no-address'), 'Add an address to your withdrawal address book first');
    await a.getByLabel('Address (EIP-55 checksummed)').fill(OUTSIDE);
    await a.getByLabel('Name', { exact: true }).fill('outside wallet');
    await a.getByRole('button', { name: 'Add address' }).click();
    await seeText(a.getByTestId('book-result'), 'Added outside wallet: usable now.'); // npm start's time lock is 0
    await seeRow(a.locator(`[data-testid=address-book] tr[data-address="${OUTSIDE}"]`), [
      'outside wallet',
      OUTSIDE,
      'now',
      'Remove',
    ]);
    await a.getByLabel('Asset').nth(1).selectOption('TKA');
    await a.getByLabel('Amount').nth(1).fill('1.25');
    t.match(
      await a.locator('select[name=withdrawTo] option:checked').innerText(),
      `outside wallet (${OUTSIDE})`,
      "the book's address is chosen",
    );
    await a.getByRole('button', { name: 'Withdraw' }).click();
    await seeText(a.getByTestId('withdraw-result'), 'Withdrawal requested: 1.25 TKA, pending.');
    const row = a.locator('[data-testid=withdrawals] tbody tr');
    await seeText(row.first(), 'completed', 90_000);
    const c = await cells(row.first());
    t.same(
      c.slice(1, 5),
      ['TKA', '1.25', OUTSIDE, 'completed'],
      'the withdrawal shows completed, with its transaction',
    );
    t.match(c[5], /^0x[0-9a-f]{64}$/);
    await seeRow(a.locator('[data-testid=balances] tr[data-asset=TKA]'), ['TKA', '7.25', '0', '0']);
    t.pass("alice's TKA: 8.5 less the 1.25 withdrawn");
    await a.getByRole('button', { name: 'Remove outside wallet' }).click();
    await seeText(a.getByTestId('book-result'), 'Removed outside wallet.');
    await seeText(a.getByTestId('withdraw-no-address'), 'Add an address to your withdrawal address book first');
  });

  await t.test('API keys: created with scopes, the secret shown once, listed, revoked', async (t) => {
    const a = alice.page;
    await a.goto(`${base}/account`);
    await a.getByLabel('Label').fill('my bot');
    await a.getByLabel('trade').check();
    await a.getByRole('button', { name: 'Create key' }).click();
    const shown = await seeText(a.getByTestId('new-key'), 'Copy the secret now');
    t.match(shown, /Secret [A-Za-z0-9_-]{43}/, 'the secret is shown');
    await seeRow(a.locator('[data-testid=api-keys] tbody tr'), ['my bot']);
    t.equal((await cells(a.locator('[data-testid=api-keys] tbody tr').first()))[2], 'read, trade');
    await a.getByRole('button', { name: 'I have stored it' }).click();
    t.equal(await a.getByTestId('new-key').count(), 0, 'and never again');
    await a.getByRole('button', { name: 'Revoke key my bot' }).click();
    await seeText(a.getByTestId('api-keys'), 'No API keys.');
  });

  await t.test("two-factor: turned on with the QR code's secret, then asked for at login", async (t) => {
    const b = bob.page;
    await b.goto(`${base}/account`);
    await seeText(b.getByTestId('two-factor-status'), 'Off.');
    await b.getByRole('button', { name: 'Turn on' }).click();
    await b.getByRole('img', { name: 'QR code for your authenticator app' }).waitFor({ timeout: 20_000 });
    t.pass('the set-up shows a QR code');
    const secret = (await b.getByTestId('two-factor-secret').innerText()).trim();
    await b.getByLabel('Code from the app').fill(totpNow(secret, Date.now()));
    await b.getByRole('button', { name: 'Confirm and turn on' }).click();
    const shown = await seeText(b.getByTestId('recovery-codes'), 'Recovery codes');
    const recovery = /[A-Za-z0-9]{5}-?[A-Za-z0-9]{5}/.exec(shown.split('only now.')[1] ?? '')?.[0];
    t.ok(recovery !== undefined, 'recovery codes are shown once');
    await seeText(b.getByTestId('two-factor-status'), 'On. 10 recovery codes left.');
    await b.getByRole('button', { name: 'Log out' }).click();
    await b.getByLabel('Username').fill('bob_web');
    await b.getByLabel('Password').fill(PASSWORD);
    await b.getByRole('button', { name: 'Log in' }).click();
    await seeText(b.getByRole('alert'), 'Two-factor authentication is on: enter the code');
    t.ok(problems.expect('bob: 401 POST /v1/auth/session'), 'the password alone is not enough (401 EX_OTP_REQUIRED)');
    // The code that turned it on was used once already: a recovery code logs in now.
    await b.getByLabel('Two-factor code').fill(recovery!);
    await b.getByRole('button', { name: 'Log in' }).click();
    await seeText(b.getByTestId('username'), 'bob_web');
    t.pass('with the code, bob is logged in');
  });

  await t.test('themes, phone width, screenshots, first render', async (t) => {
    const a = alice.page;
    const t0 = Date.now();
    await a.goto(`${base}/trade/TKA-USDT`);
    await a.getByRole('heading', { name: 'Order book' }).waitFor();
    t.comment(
      `first render of the trading page: ${Date.now() - t0} ms (navigation to the book on screen; bench:web measures it)`,
    );
    const before = await a.evaluate('document.documentElement.dataset.theme');
    await a.getByRole('button', { name: /Switch to (light|dark) theme/ }).click();
    t.not(await a.evaluate('document.documentElement.dataset.theme'), before, 'the theme switches');
    await mkdir(SCREENSHOT_DIR, { recursive: true });
    const laptop = path.join(SCREENSHOT_DIR, 'trading-page.png');
    await a.screenshot({ path: laptop, fullPage: true });
    t.comment(`screenshot of the trading page: ${laptop}`);
    const phone = await open('phone', 390);
    await phone.ctx.addCookies(await alice.ctx.cookies(base));
    await phone.page.goto(`${base}/trade/TKA-USDT`);
    await phone.page.getByRole('heading', { name: 'Order book' }).waitFor();
    t.ok(
      await phone.page.evaluate('document.documentElement.scrollWidth <= innerWidth'),
      "nothing overflows a phone's width",
    );
    const phoneShot = path.join(SCREENSHOT_DIR, 'trading-page-phone.png');
    await phone.page.screenshot({ path: phoneShot, fullPage: true });
    t.comment(`screenshot at a phone's width: ${phoneShot}`);
    await phone.ctx.close();
  });

  t.same(problems.console, [], 'no console errors');
  t.same(problems.failed, [], 'no failed requests');
  t.same(problems.errorAnswers, [], 'no error answers beyond the refusals the flows caused on purpose');
  // npm itself ends by the signal (no exit code); the exchange under it stops cleanly well before the grace period.
  const code = await stopWithSigint(ex, { group: true, graceMs: 60_000 });
  t.ok(
    code === 0 || ex.child.signalCode === 'SIGINT',
    `Ctrl-C stops npm start (exit ${code}, signal ${ex.child.signalCode})`,
  );
  t.comment(`the whole browser test took ${Math.round((Date.now() - started) / 1000)} s`);
});
