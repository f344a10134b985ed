// Small process helpers: a short command run to completion, waiting for and killing a child, finding a program.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const SIGKILL_WAIT_MS = 10_000;
const LOG_TAIL_LINES = 60;
const CAPTURED_OUTPUT_MAX_BYTES = 64 * 1024;

export interface BrokerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** stdout and stderr interleaved, only the last CAPTURED_OUTPUT_MAX_BYTES. */
  output: string;
}

/** Runs a short-lived command to completion; kills it (SIGKILL) when it outlives timeoutMs. */
export function runProcess(command: string, args: string[], timeoutMs: number, cwd?: string): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const capture = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-CAPTURED_OUTPUT_MAX_BYTES);
    };
    child.stdout.on('data', capture);
    child.stderr.on('data', capture);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} did not finish within ${timeoutMs} ms; output tail:\n${tailLines(output)}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

export function tailLines(text: string, lineCount = LOG_TAIL_LINES): string {
  return text
    .split('\n')
    .slice(-lineCount - 1)
    .join('\n');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function isNodeError(err: unknown, code: string): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === code;
}

/**
 * On Linux, util-linux's setpriv sets PR_SET_PDEATHSIG before exec'ing java, so the kernel kills the
 * broker even when this process dies without running 'exit' handlers (SIGKILL, an unhandled SIGTERM).
 */
export function withParentDeathSignal(command: string, args: string[]): { command: string; args: string[] } {
  const setpriv = process.platform === 'linux' ? findOnPath('setpriv') : undefined;
  if (!setpriv) return { command, args };
  return { command: setpriv, args: ['--pdeathsig', 'KILL', command, ...args] };
}

function findOnPath(executable: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, executable))) return path.join(dir, executable);
  }
  return undefined;
}

export async function waitForExit(exited: Promise<BrokerExit>, timeoutMs: number): Promise<BrokerExit | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), timeoutMs);
  });
  try {
    return await Promise.race([exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

export async function killAndWait(child: ChildProcess, exited: Promise<BrokerExit>): Promise<void> {
  if (child.pid === undefined || hasExited(child)) return; // never started, or already gone
  child.kill('SIGKILL');
  if (!(await waitForExit(exited, SIGKILL_WAIT_MS))) {
    throw new Error(`broker pid ${child.pid} survived SIGKILL for ${SIGKILL_WAIT_MS} ms`);
  }
}
