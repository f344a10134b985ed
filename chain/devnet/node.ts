// A Hardhat 2 node (EDR, offline) as a child process on a free loopback port: the real EVM behind the chain tests
// and the embedded exchange's devnet. Stop it with stop(); a test process that dies takes it along (the child
// watches its stdin, closed when the parent exits).

import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { keepOutput, stopChild, waitForRpc } from './rpc-child.js';

const require = createRequire(import.meta.url);
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 5_000;
const START_ATTEMPTS_MAX = 3;

export interface DevNode {
  readonly url: string;
  readonly port: number;
  readonly chainId: bigint;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Starts a node; retries on another port when the chosen one was taken between probe and bind. */
export async function startDevNode(opts: { port?: number } = {}): Promise<DevNode> {
  let lastError: unknown;
  for (let attempt = 0; attempt < START_ATTEMPTS_MAX; attempt++) {
    const port = opts.port ?? (await freePort());
    try {
      return await startOnce(port);
    } catch (err) {
      lastError = err;
      if (opts.port !== undefined) break;
    }
  }
  throw lastError;
}

async function startOnce(port: number): Promise<DevNode> {
  const cli = path.join(path.dirname(require.resolve('hardhat/package.json')), 'internal', 'cli', 'bootstrap.js');
  // The node exits when its stdin closes (our end of the pipe closes when we die, even by SIGKILL), so an aborted
  // test never leaves a node running. argv[1] stays the CLI path, as Hardhat expects.
  const watchdog = `process.stdin.on('close',()=>process.exit(0));process.stdin.resume();require(${JSON.stringify(cli)})`;
  const child = spawn(
    process.execPath,
    ['-e', watchdog, cli, 'node', '--hostname', '127.0.0.1', '--port', String(port)],
    {
      cwd: REPO,
      env: {
        ...process.env,
        HARDHAT_DISABLE_TELEMETRY_PROMPT: 'true',
        HARDHAT_CONFIG: path.join(REPO, 'hardhat.config.cjs'),
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  const output = keepOutput(child);
  const url = `http://127.0.0.1:${port}`;
  try {
    const chainId = await waitForRpc(url, child, output, 'hardhat node', START_TIMEOUT_MS);
    return { url, port, chainId, stop: () => stopChild(child, STOP_TIMEOUT_MS) };
  } catch (err) {
    await stopChild(child, STOP_TIMEOUT_MS);
    throw err;
  }
}
