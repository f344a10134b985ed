// `npm start` for real: exchange/main.ts as a process on a fresh data directory (embedded PostgreSQL, ganache
// devnet, file log, engine, persistence, chain service, gateway). A user registers through the API; a faucet mint
// to a deposit address is a deposit: the chain service sees it, the engine credits it, persistence writes it to
// PostgreSQL. SIGINT exits 0. A second start resumes: the user logs in, the deposit and balance are still there,
// credited once, and a new deposit is credited too. Then SIGINT again.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import postgres from 'postgres';
import type { Sql } from 'postgres';
import { depositAddressFor } from '../../chain/addresses.js';
import { makeProvider } from '../../chain/erc20.js';
import { HdKeys } from '../../chain/hd.js';
import { readKeystoreFile } from '../../chain/keystore.js';
import { freePort } from '../../chain/devnet/node.js';
import { Faucet, readDevnetState } from '../../exchange/devnet/provision.js';

const REPO = path.join(import.meta.dirname, '..', '..');
/**
 * A hang guard, not a speed check: a start on a fresh clone also makes the migrated database template, and tap runs
 * two files at a time, so under a loaded machine a start has taken over two minutes.
 */
const START_TIMEOUT_MS = 300_000;
const USER_ID = 42;

interface Running {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  output(): string;
}

function startExchange(env: Record<string, string>): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'exchange', 'main.ts')], {
    cwd: REPO,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => out };
}

async function until<T>(
  what: string,
  probe: () => Promise<T | null | undefined> | T | null | undefined,
  timeoutMs: number,
  r?: Running,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== null && v !== undefined) return v;
    if (r !== undefined && r.child.exitCode !== null)
      throw new Error(`exchange exited (${r.child.exitCode}) while waiting for ${what}:\n${r.output().slice(-4000)}`);
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${r === undefined ? '' : `:\n${r.output().slice(-4000)}`}`);
    await new Promise((res) => setTimeout(res, 250));
  }
}

async function stopWithSigint(r: Running): Promise<number | null> {
  r.child.kill('SIGINT');
  const timer = setTimeout(() => r.child.kill('SIGKILL'), 60_000);
  const code = await r.exited;
  clearTimeout(timer);
  return code;
}

async function balanceOf(sql: Sql, userId: number, assetId: number): Promise<bigint | null> {
  const rows = await sql<
    { available: string }[]
  >`SELECT available::text AS available FROM balances WHERE user_id = ${userId} AND asset_id = ${assetId}`;
  return rows.length === 0 ? null : BigInt(rows[0].available);
}

t.test(
  'the embedded exchange: deposit via the faucet credited and persisted, SIGINT exits 0, restart resumes',
  async (t) => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'exchange-embedded-'));
    t.teardown(() => rm(dataDir, { recursive: true, force: true }));
    const pgPort = await freePort();
    const devnetPort = await freePort();
    const gatewayPort = await freePort();
    const env = {
      DATA_DIR: dataDir,
      EMBEDDED_PG_PORT: String(pgPort),
      DEVNET_PORT: String(devnetPort),
      GATEWAY_PORT: String(gatewayPort),
      LOG_LEVEL: 'info',
      DEVNET_CONFIRMATIONS: '2',
    };
    const dbUrl = `postgres://postgres@127.0.0.1:${pgPort}/postgres`;
    const api = `http://127.0.0.1:${gatewayPort}`;
    const credentials = JSON.stringify({ username: 'newcomer', password: 'correct horse battery staple' });
    const post = (url: string, body: string) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

    // ---- first start ----
    let ex = startExchange(env);
    t.teardown(() => ex.child.kill('SIGKILL'));
    await until(
      'the first start',
      () => (ex.output().includes('exchange-core is running') ? true : null),
      START_TIMEOUT_MS,
      ex,
    );
    t.equal((await fetch(`${api}/docs/`)).status, 200, 'Swagger UI answers');
    t.equal((await post(`${api}/v1/auth/register`, credentials)).status, 201, 'a user registers through the API');
    const devnet = await readDevnetState(path.join(dataDir, 'devnet', 'devnet.json'));
    t.ok(devnet !== null && devnet.listed, 'devnet.json names the deployed tokens, listed in the engine');
    const usdt = devnet!.tokens.find((x) => x.symbol === 'USDT')!;
    const passphrase = (await readFile(path.join(dataDir, 'keystore.passphrase'), 'utf8')).trim();
    const keys = new HdKeys(await readKeystoreFile(path.join(dataDir, 'keystore.json'), passphrase));
    let sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
    // What the gateway does for a user: allocate the deposit address (chain_deposit_addresses), then the faucet.
    const { address } = await depositAddressFor(sql, keys, USER_ID);
    const provider = makeProvider({
      rpcUrl: `http://127.0.0.1:${devnetPort}`,
      chainId: devnet!.chainId,
      pollIntervalMs: 250,
    });
    t.teardown(() => provider.destroy());
    // Start-up: the banner gives the time to ready and each phase's; the devnet's eight set-up transactions (three
    // deployments, two fundings, three mints) are in one block.
    const phasesLine = /ready in: +\d+\.\d s\n +\((.*)\)/.exec(ex.output())?.[1] ?? '';
    // Side by side, so in the order they finish.
    for (const phase of ['postgres', 'devnet', 'keystore', 'contracts', 'engine recovery', 'gateway listen'])
      t.match(phasesLine, new RegExp(`${phase} \\d+\\.\\d s`), `the banner gives ${phase}'s time`);
    t.match(ex.output(), /"phases":\[\{"name":"[^"]+","ms":\d+\}.*"msg":"start-up phases"/, 'and the log has them');
    const setUp = await provider.getBlock(devnet!.startBlock + 1);
    t.equal(setUp?.transactions.length, 8, 'the set-up transactions were mined in one block');
    const faucet = new Faucet(provider, devnet!.tokens);
    const first = 250n * 10n ** 6n;
    const minted = await faucet.mint(address, 'USDT', first);
    t.match(minted.txHash, /^0x[0-9a-f]{64}$/, 'the faucet minted to the deposit address');

    const credited = await until(
      'the deposit in PostgreSQL',
      async () => {
        const rows = await sql<
          { amount: string }[]
        >`SELECT amount::text AS amount FROM deposits WHERE user_id = ${USER_ID}`;
        return rows.length > 0 ? rows : null;
      },
      60_000,
      ex,
    );
    t.same(
      credited.map((r) => BigInt(r.amount)),
      [first],
      "persistence wrote the engine's depositCredited",
    );
    t.equal(
      await balanceOf(sql, USER_ID, usdt.assetId),
      first,
      "the engine's balance (balanceChanged) is in PostgreSQL",
    );
    const [chainRow] =
      await sql`SELECT state FROM chain_deposits WHERE tx_hash = ${minted.txHash.toLowerCase()} OR tx_hash = ${minted.txHash}`;
    t.equal(chainRow?.state, 'credited', 'the chain service marked it credited');
    await sql.end({ timeout: 5 });

    t.equal(await stopWithSigint(ex), 0, 'SIGINT: exit code 0');
    t.match(ex.output(), /"clean":true/, 'every component stopped cleanly');

    // ---- second start: the same state, nothing credited twice ----
    ex = startExchange(env);
    await until(
      'the second start',
      () => (ex.output().includes('exchange-core is running') ? true : null),
      START_TIMEOUT_MS,
      ex,
    );
    t.notMatch(ex.output(), /first start of the devnet/, 'the devnet was not deployed again');
    t.equal(
      (await post(`${api}/v1/auth/login`, credentials)).status,
      200,
      'the registered user logs in after the restart',
    );
    sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
    t.teardown(() => sql.end({ timeout: 5 }));
    t.equal(await balanceOf(sql, USER_ID, usdt.assetId), first, 'the balance survived the restart');
    const second = 7n * 10n ** 6n;
    await faucet.mint(address, 'USDT', second);
    await until(
      'the second deposit',
      async () => ((await balanceOf(sql, USER_ID, usdt.assetId)) === first + second ? true : null),
      60_000,
      ex,
    );
    const rows = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM deposits WHERE user_id = ${USER_ID}`;
    t.equal(rows[0].n, 2, 'two deposits, each credited once (the first not again after the restart)');
    const [pos] = await sql<{ last_seq: string }[]>`SELECT last_seq::text FROM persistence_position`;
    t.ok(Number(pos.last_seq) > 0, `persistence resumed at its stored position (seq ${pos.last_seq})`);
    t.equal(await stopWithSigint(ex), 0, 'SIGINT after the restart: exit code 0');
  },
);
