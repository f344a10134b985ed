// `npm run bench:start`: how long `npm start` takes to a ready exchange, and the memory of everything it runs.
// It runs the README's command (`npm start`, through npm, as a newcomer does) on a fresh data directory, waits for
// the banner, samples the resident memory of the whole process tree (npm, the exchange, the devnet), stops it with
// Ctrl-C, then starts it again on the same data (the second start: recovery instead of set-up).
//   --clone   a fresh clone of the committed HEAD instead of this checkout (node_modules linked from here, so
//             npm ci is not timed): no dist/, no .cache/, as a newcomer's first start after `npm ci`
//   --ref REV   with --clone: check out REV in the clone (a before figure from the same bench)
//   --settle-ms N   how long after ready the memory is read (default 5000)
// The goals (issue 13): second start under 10 s, first under 20 s, under 600 MB RSS. Every other figure on this
// machine moves with the load of whatever else runs, so the load average is printed with them.
// Ends with one JSON line: firstStartMs, secondStartMs, rssMb (first start, settleMs after ready), secondRssMb,
// peakRssMb (highest sample over both starts), each start's phases (the exchange's own log), commit, load.

import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../chain/devnet/node.js';
import { run, stopWithSigint, until } from '../testkit/launcher.js';
import type { Running } from '../testkit/launcher.js';
import { intArg, parseArgs } from './measure.js';

const REPO = path.resolve(import.meta.dirname, '..');
const START_TIMEOUT_MS = 300_000;
const SAMPLE_EVERY_MS = 250;
const PAGE_BYTES = 4096;

/** Resident bytes of `rootPid` and all its descendants, from /proc (Linux). */
async function treeRssBytes(rootPid: number): Promise<number> {
  const parentOf = new Map<number, number>();
  const rssOf = new Map<number, number>();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = await readFile(`/proc/${name}/stat`, 'utf8');
      // The command name is in parentheses and may hold spaces: the fields after the last ')' are fixed.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parentOf.set(Number(name), Number(fields[1]));
      rssOf.set(Number(name), Number(fields[21]) * PAGE_BYTES);
    } catch {
      // The process ended while we read.
    }
  }
  let total = 0;
  for (const [pid, rss] of rssOf) {
    for (let p: number | undefined = pid; p !== undefined && p > 1; p = parentOf.get(p)) {
      if (p === rootPid) {
        total += rss;
        break;
      }
    }
  }
  return total;
}

interface StartFigures {
  readonly readyMs: number;
  readonly rssMb: number;
  readonly peakRssMb: number;
  readonly phases: unknown;
}

async function timedStart(cwd: string, env: Record<string, string>, settleMs: number): Promise<StartFigures> {
  const startedMs = performance.now();
  const r: Running = run('npm', ['start'], { cwd, env, detached: true });
  let peak = 0;
  const sampler = setInterval(() => {
    void treeRssBytes(r.child.pid!).then((b) => (peak = Math.max(peak, b)));
  }, SAMPLE_EVERY_MS);
  try {
    await until(
      'the banner',
      () => (r.output().includes('exchange-core is running') ? true : null),
      START_TIMEOUT_MS,
      r,
    );
    const readyMs = Math.round(performance.now() - startedMs);
    await new Promise((res) => setTimeout(res, settleMs));
    const rss = await treeRssBytes(r.child.pid!);
    const phasesLine = r
      .output()
      .split('\n')
      .find((l) => l.includes('"msg":"start-up phases"'));
    const phases = phasesLine === undefined ? null : (JSON.parse(phasesLine) as { phases: unknown }).phases;
    process.stderr.write(`ready in ${readyMs} ms, ${Math.round(rss / 2 ** 20)} MB\n`);
    return { readyMs, rssMb: Math.round(rss / 2 ** 20), peakRssMb: Math.round(Math.max(peak, rss) / 2 ** 20), phases };
  } finally {
    clearInterval(sampler);
    const code = await stopWithSigint(r, { group: true });
    if (!/"clean":true[^\n]*"msg":"exchange stopped"/.test(r.output()))
      process.stderr.write(`the exchange did not stop cleanly (exit ${code}):\n${r.output().slice(-3000)}\n`);
  }
}

async function checkout(tmp: string, clone: boolean, ref: string | undefined): Promise<string> {
  if (!clone) return REPO;
  const dir = path.join(tmp, 'exchange-core');
  execFileSync('git', ['clone', '--quiet', REPO, dir]);
  if (ref !== undefined) execFileSync('git', ['checkout', '--quiet', ref], { cwd: dir });
  await symlink(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return dir;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const clone = args.has('clone');
  const settleMs = intArg(args, 'settle-ms', 5000);
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'bench-start-'));
  try {
    const cwd = await checkout(tmp, clone, args.get('ref'));
    const env = {
      DATA_DIR: path.join(tmp, 'data'),
      GATEWAY_PORT: String(await freePort()),
      DEVNET_PORT: String(await freePort()),
      LOG_LEVEL: 'info',
    };
    const loadAverageStart = os.loadavg()[0];
    const first = await timedStart(cwd, env, settleMs);
    const second = await timedStart(cwd, env, settleMs);
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, encoding: 'utf8' }).trim();
    const line = {
      bench: 'start',
      checkout: clone ? 'fresh clone' : 'this checkout',
      firstStartMs: first.readyMs,
      secondStartMs: second.readyMs,
      rssMb: first.rssMb,
      secondRssMb: second.rssMb,
      peakRssMb: Math.max(first.peakRssMb, second.peakRssMb),
      firstPhases: first.phases,
      secondPhases: second.phases,
      commit,
      loadAverageStart: Number(loadAverageStart.toFixed(2)),
      loadAverageEnd: Number(os.loadavg()[0].toFixed(2)),
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

await main();
