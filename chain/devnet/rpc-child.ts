// What running a local EVM node as a child process takes, whichever node it is (Hardhat for tests, ganache for
// the embedded exchange): keep the start of its output for error messages, wait until its JSON-RPC answers, and
// stop it with SIGTERM first so it can close its files, SIGKILL only if it does not exit in time.

import type { ChildProcess } from 'node:child_process';

const OUTPUT_KEPT_CHARS = 8192;

/** The first few kilobytes of the child's stdout and stderr; the rest is read and dropped so its pipes never fill. */
export function keepOutput(child: ChildProcess): () => string {
  let output = '';
  const keep = (b: Buffer): void => {
    if (output.length < OUTPUT_KEPT_CHARS) output += b.toString();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => output;
}

/** Polls eth_chainId until it answers; throws (with the child's output) when the child exits or time runs out. */
export async function waitForRpc(
  url: string,
  child: ChildProcess,
  output: () => string,
  what: string,
  timeoutMs: number,
): Promise<bigint> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode}: ${output()}`);
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      });
      const body = (await res.json()) as { result?: string };
      if (res.ok && body.result !== undefined) return BigInt(body.result);
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not answer on ${url} within ${timeoutMs} ms: ${output()}`);
}

export async function stopChild(child: ChildProcess, killAfterMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  await exited;
  clearTimeout(timer);
}
