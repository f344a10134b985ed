// Running `npm start`'s launcher (or any command) as a child process in a test or a bench: its output collected,
// waiting for a condition with a deadline (failing early, with the output, when the process exits), and stopping it
// with SIGINT as Ctrl-C would (SIGKILL after a grace period, so a hung stop cannot hang the test).

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

export interface Running {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  output(): string;
}

/**
 * `env` is added to `baseEnv` (default: this process's environment). `detached`: its own process group, so a stop
 * can reach everything it started (sh -> npm -> node), as a terminal's Ctrl-C does.
 */
export function run(
  command: string,
  args: readonly string[],
  opts: { cwd: string; env?: Record<string, string>; baseEnv?: NodeJS.ProcessEnv; detached?: boolean },
): Running {
  const env = { ...(opts.baseEnv ?? process.env), ...opts.env };
  const child = spawn(command, args, {
    cwd: opts.cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.detached ?? false,
  });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => out };
}

export async function until<T>(
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
      throw new Error(`process exited (${r.child.exitCode}) while waiting for ${what}:\n${r.output().slice(-4000)}`);
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${r === undefined ? '' : `:\n${r.output().slice(-4000)}`}`);
    await new Promise((res) => setTimeout(res, 250));
  }
}

/** The banner's line `label url`, e.g. "API:" or "devnet RPC:". */
export function bannerUrl(output: string, label: string): string | null {
  const m = new RegExp(`^\\s*${label}\\s+(https?://\\S+)`, 'm').exec(output);
  return m === null ? null : m[1];
}

/** SIGINT (to the process group when `group`), SIGKILL after `graceMs`; resolves with the exit code. */
export async function stopWithSigint(
  r: Running,
  opts: { group?: boolean; graceMs?: number } = {},
): Promise<number | null> {
  if (r.child.exitCode !== null || r.child.signalCode !== null) return r.child.exitCode;
  const signal = (s: NodeJS.Signals): void => {
    try {
      if (opts.group === true) process.kill(-r.child.pid!, s);
      else r.child.kill(s);
    } catch {
      // already gone
    }
  };
  signal('SIGINT');
  const timer = setTimeout(() => signal('SIGKILL'), opts.graceMs ?? 60_000);
  const code = await r.exited;
  clearTimeout(timer);
  return code;
}
