// The embedded exchange's local EVM chain: ganache 7.9.2 as a child process, its chain state in a directory
// (`--database.dbPath`), so the chain survives a restart like the exchange's own data: a deposit the database
// remembers is still on the chain. We chose ganache over Hardhat 2.29 (the node the chain tests use) for that
// reason alone: Hardhat's node keeps its state in memory and loses it on exit. Ganache's EVM predates cancun,
// so the devnet contracts are compiled for shanghai (chain/devnet/compile.ts).
//
// Blocks come every `blockTimeSec` seconds (interval mining), so deposits gather confirmations while nobody sends
// transactions, as on a real chain. The child exits with its parent (it watches its stdin, whose pipe closes when
// the parent dies, even by SIGKILL).

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { freePort } from '../../chain/devnet/node.js';

const require = createRequire(import.meta.url);
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

export interface GanacheOptions {
  /** Directory of the chain's database (created if missing). */
  readonly dbPath: string;
  readonly chainId: number;
  /** The devnet's funded accounts come from this mnemonic (a public, well-known one: devnet only). */
  readonly mnemonic: string;
  readonly blockTimeSec: number;
  /** 0 or undefined: a free port. */
  readonly port?: number;
}

export interface Ganache {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * The child: ganache's server API (not its CLI, whose signal handling leaves the process running behind our stdin
 * watchdog). SIGTERM closes the server and its database, then exits; SIGINT is ignored, so a Ctrl-C in the terminal
 * reaches only the parent, which stops the chain's users first and the devnet last.
 */
function childScript(opts: GanacheOptions, port: number): string {
  const options = {
    database: { dbPath: opts.dbPath },
    chain: { chainId: opts.chainId, networkId: opts.chainId },
    wallet: { mnemonic: opts.mnemonic, totalAccounts: 2, defaultBalance: 1_000_000 },
    miner: { blockTime: opts.blockTimeSec },
    logging: { quiet: true },
  };
  const ganache = require.resolve('ganache');
  return `
const ganache = require(${JSON.stringify(ganache)});
const server = ganache.server(${JSON.stringify(options)});
let closing = null;
const close = () => (closing ??= server.close().catch(() => {}).then(() => process.exit(0)));
process.on('SIGINT', () => {});
process.on('SIGTERM', close);
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
server.listen(${port}, '127.0.0.1').catch((err) => { console.error(String(err)); process.exit(1); });`;
}

export async function startGanache(opts: GanacheOptions): Promise<Ganache> {
  const port = opts.port !== undefined && opts.port !== 0 ? opts.port : await freePort();
  // detached: its own process group, so a terminal's Ctrl-C does not reach it.
  const child = spawn(process.execPath, ['-e', childScript(opts, port)], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  let output = '';
  const keep = (b: Buffer): void => {
    if (output.length < 8192) output += b.toString();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForRpc(url, child, () => output);
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  return { url, port, stop: () => stopChild(child) };
}

async function waitForRpc(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the devnet (ganache) exited with code ${child.exitCode}: ${output()}`);
    try {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }) });
      if (res.ok && ((await res.json()) as { result?: string }).result !== undefined) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the devnet (ganache) did not answer on ${url} within ${START_TIMEOUT_MS} ms: ${output()}`);
}

/** SIGTERM lets ganache close its database cleanly; SIGKILL only if it does not exit in time. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}
