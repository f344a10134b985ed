// `npm run demo` against `npm start`: the launcher runs on a fresh data directory, the demo (demo/main.ts) runs as
// a child process against the API and devnet RPC the launcher prints, and must exit 0: two users registered,
// deposits from the faucet credited, crossing limit and market orders filled, balances exact after fees, a
// withdrawal completed and its tokens on chain at the outside address. Then the faucet route's refusals (4xx with
// their codes) and its place in the OpenAPI document, and a clean stop with SIGINT.

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import { freePort } from '../../chain/devnet/node.js';
import { bannerUrl, run, stopWithSigint, until } from '../../testkit/launcher.js';

const REPO = path.join(import.meta.dirname, '..', '..');
/**
 * A hang guard, not a speed check: a start on a fresh clone also makes the migrated database template, and tap runs
 * two files at a time, so under a loaded machine a start has taken over two minutes.
 */
const START_TIMEOUT_MS = 300_000;
const DEMO_TIMEOUT_MS = 600_000;

t.test('npm run demo walks through the running exchange and exits 0', async (t) => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'exchange-demo-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const env = {
    DATA_DIR: dataDir,
    EMBEDDED_PG_PORT: '0',
    DEVNET_PORT: String(await freePort()),
    GATEWAY_PORT: String(await freePort()),
    LOG_LEVEL: 'warn',
  };
  const ex = run(process.execPath, ['--import', 'tsx', path.join(REPO, 'exchange', 'main.ts')], { cwd: REPO, env });
  t.teardown(() => void stopWithSigint(ex, { graceMs: 30_000 }));
  await until(
    "the launcher's banner",
    () => (ex.output().includes('exchange-core is running') ? true : null),
    START_TIMEOUT_MS,
    ex,
  );
  const apiUrl = bannerUrl(ex.output(), 'API:');
  const rpcUrl = bannerUrl(ex.output(), 'devnet RPC:');
  t.ok(apiUrl !== null && rpcUrl !== null, `the banner names the API (${apiUrl}) and the devnet RPC (${rpcUrl})`);

  // As a newcomer would: the URLs exactly as printed, passed as arguments.
  const demo = run(process.execPath, ['--import', 'tsx', path.join(REPO, 'demo', 'main.ts'), apiUrl!, rpcUrl!], {
    cwd: REPO,
  });
  const timer = setTimeout(() => demo.child.kill('SIGKILL'), DEMO_TIMEOUT_MS);
  const code = await demo.exited;
  clearTimeout(timer);
  t.equal(code, 0, 'the demo exits 0');
  if (code !== 0) t.comment(`demo output:\n${demo.output()}\nlauncher output (tail):\n${ex.output().slice(-4000)}`);
  const out = demo.output();
  for (const line of [
    "the faucet minted 10 TKA to alice's deposit address",
    "alice's balances are exactly TKA 8, USDT 199.251",
    "bob's balances are exactly TKA 2, USDT 800.1505",
    'the outside address holds exactly 1.5 TKA on chain',
    'every step held',
  ])
    t.ok(out.includes(line), `the demo printed: ${line}`);

  const api = apiUrl!.replace(/\/v1$/, '');
  await faucetRefusals(t, api);
  t.equal(await stopWithSigint(ex), 0, 'the launcher stops on SIGINT with exit code 0');
});

async function faucetRefusals(t: Test, api: string): Promise<void> {
  const post = async (p: string, body: unknown, token?: string) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    const res = await fetch(api + p, { method: 'POST', headers, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as { code?: string; token?: string } };
  };
  const credentials = { username: 'faucet_user', password: 'a long enough password' };
  t.equal((await post('/v1/auth/register', credentials)).status, 201);
  const token = (await post('/v1/auth/login', credentials)).body.token!;
  const cases: [string, unknown, string | undefined, number, string][] = [
    ['no session', { asset: 'TKA', amount: '1' }, undefined, 401, 'EX_UNAUTHENTICATED'],
    ['an unknown token', { asset: 'NOPE', amount: '1' }, token, 404, 'EX_FAUCET_UNKNOWN_TOKEN'],
    ['more than the faucet gives', { asset: 'USDT', amount: '1000001' }, token, 400, 'EX_FAUCET_AMOUNT_OUT_OF_RANGE'],
    ['zero', { asset: 'USDT', amount: '0' }, token, 400, 'EX_FAUCET_AMOUNT_OUT_OF_RANGE'],
    ['more decimals than the asset', { asset: 'USDT', amount: '0.0000001' }, token, 400, 'EX_AMOUNT_TOO_PRECISE'],
    ['an amount that is not a decimal string', { asset: 'USDT', amount: 1 }, token, 400, 'EX_DECIMAL_INVALID'],
    ['a body without an amount', { asset: 'USDT' }, token, 400, 'EX_BAD_REQUEST'],
  ];
  for (const [what, body, tok, status, code] of cases) {
    const r = await post('/v1/devnet/faucet', body, tok);
    t.same([r.status, r.body.code], [status, code], `faucet refuses ${what}: ${status} ${code}`);
  }
  const doc = (await (await fetch(`${api}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, { security?: unknown }>>;
  };
  t.same(
    doc.paths['/v1/devnet/faucet']?.post?.security,
    [{ session: [] }],
    'the faucet route is in the OpenAPI document, session only',
  );
}
