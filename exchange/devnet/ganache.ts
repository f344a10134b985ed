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
import { createRequire } from 'node:module';
import { freePort } from '../../chain/devnet/node.js';
import { keepOutput, stopChild, waitForRpc } from '../../chain/devnet/rpc-child.js';

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
  const child = spawn(process.execPath, ['-e', childScript(opts, port)], {
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  const output = keepOutput(child);
  const url = `http://127.0.0.1:${port}`;
  // SIGTERM lets ganache close its database cleanly (its chain must survive a restart).
  const stop = (): Promise<void> => stopChild(child, STOP_TIMEOUT_MS);
  try {
    await waitForRpc(url, child, output, 'the devnet (ganache)', START_TIMEOUT_MS);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, port, stop };
}
