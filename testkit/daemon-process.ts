// Real engine daemon processes and the seeded command stream they are fed: shared by the daemon tests
// (test/daemon/recovery-support.ts) and the benchmarks (bench/kafka.ts, bench/gateway.ts).

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DAEMON_NODE_FLAGS } from '../engine/daemon/config.js';
import { encodeCommand } from '../engine/wire/codec.js';
import type { CommandInput } from '../engine/wire/codec.js';
import { STREAMS, generateStream } from '../bench/stream.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * A seeded stream: setup (assets, market, deposits) then limit/market/cancel orders, plus a few malformed
 * records and a few producer retries (a record appended again later with the same command id).
 */
export function seededCommands(seed: number, count: number): Uint8Array[] {
  const stream = generateStream({ ...STREAMS.shallow, users: 50, seed, commands: count });
  const encoder = new TextEncoder();
  const values = [...stream.setup, ...stream.commands].map(({ timeMs: _t, ...cmd }) =>
    encoder.encode(encodeCommand(cmd as CommandInput)),
  );
  // Malformed records in the middle: they must get rejection events, never stop the stream.
  const bad = [
    '{not json',
    '{"v":1,"type":"teleport","id":"bad-type"}',
    '{"v":2,"type":"cancelAll","id":"bad-version","userId":1}',
    '{"v":1,"type":"deposit","id":"bad-amount","userId":1,"assetId":1,"amount":"12abc","depositId":"x"}',
  ];
  bad.forEach((text, i) =>
    values.splice(Math.floor(((i + 1) * values.length) / (bad.length + 1)), 0, encoder.encode(text)),
  );
  // Retries: each must be answered COMMAND_DUPLICATE_ID with no second effect, also across crashes.
  for (const at of [0.3, 0.55, 0.8]) {
    const i = Math.floor(at * values.length);
    values.splice(i + 50, 0, values[i]);
  }
  return values;
}

export interface DaemonProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
  /** True once the daemon logged that it is consuming (needs LOG_LEVEL=info): its signal handlers are in place. */
  ready(): boolean;
}

/**
 * How the daemon process runs: 'tsx' from the TypeScript sources (`npm run engine`, the tests), or 'dist' as the
 * Docker image runs it, node on the daemon's bundle in dist/ with the image's flags (compose/Dockerfile). The caller
 * brings dist/ and the bundle up to date first (tools/build/dist.mjs ensureDist, ensureBundles).
 */
export type DaemonRuntime = 'tsx' | 'dist';
export const DAEMON_RUNTIMES: readonly DaemonRuntime[] = ['tsx', 'dist'];

function daemonArgs(runtime: DaemonRuntime): string[] {
  if (runtime === 'dist')
    return ['--enable-source-maps', ...DAEMON_NODE_FLAGS, path.join(REPO_ROOT, 'dist/engine/daemon/main.bundle.js')];
  return [...DAEMON_NODE_FLAGS, '--import', 'tsx', path.join(REPO_ROOT, 'engine/daemon/main.ts')];
}

export function startDaemon(env: Record<string, string>, runtime: DaemonRuntime = 'tsx'): DaemonProcess {
  const child = spawn(process.execPath, daemonArgs(runtime), {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let ready = false;
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-20_000);
    if (output.includes('engine daemon consuming')) ready = true;
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, exited, output: () => output, ready: () => ready };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/**
 * A sleep that does not keep the process alive, for the losing side of a race (a timeout): a test file then ends
 * when its work does, not when its longest timeout would have fired (a forgotten 120 s timer held one file open
 * for ~105 s after its last test).
 */
export const raceTimeout = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

/** Polls `check` until it returns true; throws with `describe()` after `timeoutMs`. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${describe()}`);
    await sleep(50);
  }
}
