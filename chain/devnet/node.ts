// A Hardhat 2 node (EDR, offline) as a child process on a free loopback port: the real EVM behind the chain tests
// and the embedded exchange's devnet. Stop it with stop(); a test process that dies takes it along (the child
// watches its stdin, closed when the parent exits).

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const START_TIMEOUT_MS = 60_000;
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
  const child = spawn(process.execPath, ['-e', watchdog, cli, 'node', '--hostname', '127.0.0.1', '--port', String(port)], {
    cwd: REPO,
    env: { ...process.env, HARDHAT_DISABLE_TELEMETRY_PROMPT: 'true', HARDHAT_CONFIG: path.join(REPO, 'hardhat.config.cjs') },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (b: Buffer): void => {
    if (output.length < 8192) output += b.toString();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  try {
    const chainId = await waitForRpc(url, child, () => output);
    child.stdout!.off('data', keep);
    child.stdout!.resume(); // keep draining: a full pipe would block the node
    return { url, port, chainId, stop: () => stopChild(child) };
  } catch (err) {
    await stopChild(child);
    throw err;
  }
}

async function waitForRpc(url: string, child: ChildProcess, output: () => string): Promise<bigint> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`hardhat node exited (${child.exitCode}): ${output()}`);
    try {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }) });
      const body = (await res.json()) as { result?: string };
      if (body.result !== undefined) return BigInt(body.result);
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`hardhat node did not answer on ${url} within ${START_TIMEOUT_MS} ms: ${output()}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
