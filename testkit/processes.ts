// Runs the persistence consumer and the reconcile CLI as real processes (spawned with tsx), for the Kafka tests.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './daemon-process.js';

export interface Proc {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

/** `nodeFlags` go before the script (node refuses some in NODE_OPTIONS, --cpu-prof among them). */
export function spawnTs(file: string, env: Record<string, string>, nodeFlags: readonly string[] = []): Proc {
  const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', path.join(REPO_ROOT, file)], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-50_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, exited, output: () => output };
}
