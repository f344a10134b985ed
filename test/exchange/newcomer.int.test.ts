// Checked as a newcomer would: clone the repository (its committed HEAD) into a fresh directory, run the README's
// first command exactly as written (`npm ci && npm start`), wait for the API, open /docs, register a user through
// the API, stop it with Ctrl-C (SIGINT to the process group, as a terminal sends it); run `npm start` again, log in
// as that user, and stop it with SIGTERM to npm's own pid (as a script would): it stops cleanly, nothing is left.
// npm reports a Ctrl-C by dying of SIGINT itself once its script has exited (a shell shows 130), whatever the
// script's exit code, so the launcher's own clean exit (code 0) is read from its log: "exchange stopped" with clean
// true and nothing fatal (exchange/main.ts exits 0 exactly then). The environment is a newcomer's shell (PATH, HOME,
// locale), plus free ports and a data directory in the temporary directory; npm's cache is the machine's (warm),
// and `prefer-offline` keeps `npm ci` from asking the registry about what the cache has (the command is unchanged).
//
// NEWCOMER_REPO clones another repository instead (e.g. a copy with uncommitted work committed, to try it).

import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import { freePort } from '../../chain/devnet/node.js';
import { bannerUrl, run, stopWithSigint, until } from '../../testkit/launcher.js';
import type { Running } from '../../testkit/launcher.js';

const REPO = path.join(import.meta.dirname, '..', '..');
/** npm ci (about 20 s with a warm cache here) plus the first start (devnet deployment, migrations). */
const FIRST_START_TIMEOUT_MS = 480_000;
const START_TIMEOUT_MS = 180_000;

/** The first line of README.md's first ```sh block: what a newcomer runs first. */
function firstCommand(readme: string): string {
  const m = /^```sh\n([^\n]+)/m.exec(readme);
  if (m === null) throw new Error('README.md has no ```sh block');
  return m[1].trim();
}

function newcomerEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of ['PATH', 'HOME', 'USER', 'LANG', 'LC_ALL', 'TMPDIR', 'TERM'])
    if (process.env[name] !== undefined) env[name] = process.env[name];
  return {
    ...env,
    npm_config_prefer_offline: 'true',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    ...extra,
  };
}

async function started(r: Running, api: string, timeoutMs: number): Promise<void> {
  await until('the banner', () => (r.output().includes('exchange-core is running') ? true : null), timeoutMs, r);
  await until(
    'GET /health',
    async () => ((await fetch(`${api}/health`).catch(() => null))?.status === 200 ? true : null),
    30_000,
    r,
  );
}

async function ctrlC(t: Test, r: Running, what: string): Promise<void> {
  const code = await stopWithSigint(r, { group: true });
  t.ok(
    code === 0 || r.child.signalCode === 'SIGINT',
    `${what}: the command ends as a Ctrl-C ends it (code ${code}, signal ${r.child.signalCode})`,
  );
  t.match(
    r.output(),
    /"clean":true[^\n]*"msg":"exchange stopped"/,
    `${what}: the exchange stopped cleanly (its exit code 0)`,
  );
  t.notMatch(r.output(), /"level":60/, `${what}: nothing failed`);
}

t.test("a newcomer clones, runs the README's first command, registers, stops, starts again and logs in", async (t) => {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'exchange-newcomer-'));
  t.teardown(() => rm(tmp, { recursive: true, force: true }));
  const clone = path.join(tmp, 'exchange-core');
  await promisify(execFile)('git', ['clone', '--quiet', process.env.NEWCOMER_REPO ?? REPO, clone]);
  const command = firstCommand(await readFile(path.join(clone, 'README.md'), 'utf8'));
  t.match(command, /npm start/, `the README's first command starts the exchange: ${command}`);
  const gatewayPort = await freePort();
  const env = newcomerEnv({
    DATA_DIR: path.join(tmp, 'data'),
    GATEWAY_PORT: String(gatewayPort),
    DEVNET_PORT: String(await freePort()),
    EMBEDDED_PG_PORT: '0',
    LOG_LEVEL: 'info',
  });
  const api = `http://127.0.0.1:${gatewayPort}`;

  const first = run('sh', ['-c', command], { cwd: clone, baseEnv: env, detached: true });
  t.teardown(() => void stopWithSigint(first, { group: true, graceMs: 10_000 }));
  const t0 = Date.now();
  await started(first, api, FIRST_START_TIMEOUT_MS);
  t.comment(`npm ci and the first start took ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  t.equal(bannerUrl(first.output(), 'API:'), `${api}/v1`, 'it printed where the API is');
  const docs = await fetch(`${api}/docs`);
  t.equal(docs.status, 200, '/docs answers 200');
  t.match(docs.headers.get('content-type') ?? '', /text\/html/, '/docs is an HTML page');
  t.match(await docs.text(), /swagger/i, '/docs is Swagger UI');
  const credentials = JSON.stringify({ username: 'newcomer', password: 'correct horse battery staple' });
  const post = (p: string) =>
    fetch(api + p, { method: 'POST', headers: { 'content-type': 'application/json' }, body: credentials });
  const registered = await post('/v1/auth/register');
  t.equal(registered.status, 201, 'a user registers through the API');
  const { userId } = (await registered.json()) as { userId: number };
  await ctrlC(t, first, 'Ctrl-C');

  // Started as a script would start it in the background: npm itself is the child (its own process group, so the
  // check below can see whether anything it started is left).
  const again = run('npm', ['start'], { cwd: clone, baseEnv: env, detached: true });
  t.teardown(() => void stopWithSigint(again, { group: true, graceMs: 10_000 }));
  await started(again, api, START_TIMEOUT_MS);
  const login = await post('/v1/auth/login');
  t.equal(login.status, 200, 'after npm start again, the user logs in');
  t.equal(((await login.json()) as { userId: number }).userId, userId, 'as the same user id');
  t.equal((await post('/v1/auth/register')).status, 409, 'and the username is still taken');
  await stopOwnPid(t, again, 'SIGTERM');
});

/** SIGTERM to the `npm start` process alone (not its group): npm passes it on, and everything stops cleanly. */
async function stopOwnPid(t: Test, r: Running, signal: NodeJS.Signals): Promise<void> {
  r.child.kill(signal);
  const timer = setTimeout(() => void stopWithSigint(r, { group: true, graceMs: 1_000 }), 60_000);
  const code = await r.exited;
  clearTimeout(timer);
  t.equal(code, 0, `${signal} to npm's own pid: npm exits 0`);
  t.match(
    r.output(),
    /"clean":true[^\n]*"msg":"exchange stopped"/,
    `${signal} to npm's own pid: the exchange stopped cleanly`,
  );
  let left = true;
  try {
    process.kill(-r.child.pid!, 0);
  } catch {
    left = false;
  }
  t.notOk(left, 'nothing it started is left running (the devnet included)');
}
