// Snapshot stall: how long the engine daemon's event loop is held while it writes a snapshot of a large book. A
// writer whose event loop is held past its lease loses the lease (engine/daemon/writer-lease.ts), so the longest
// stall bounds how short the lease can be (docs/running.md). One JSON line on stdout.
//
//   npm run bench:snapshot-stall -- [--resting 1000000] [--runs 3] [--seed 42]
//
// Builds an engine with --resting non-crossing orders (bench/engine-memory.ts's book, a command id each), then
// writes its snapshot --runs times to a temporary SnapshotStore the way the daemon does, while a 10 ms timer runs:
// stallMsMax is the longest the timer fired late (the longest gap between two ticks, less the period). On a
// tree without engine/daemon/snapshot-encode.ts (before the sliced encoding), the daemon's way was
// snapshot() then SnapshotStore.write(), and that is what runs.

import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { Engine, snapshot } from '../engine/core/index.js';
import { SnapshotStore } from '../engine/daemon/snapshot-store.js';
import { Prng } from '../testkit/prng.js';
import { USERS, placeRestingOrders } from './engine-memory.js';
import { collectGarbage, intArg, log, parseArgs, round } from './measure.js';
import { applyAll, setupCommands } from './stream.js';

const TIMER_PERIOD_MS = 10;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

type Encode = (e: Engine) => Promise<{ bytes: Uint8Array; sliceMsMax?: number }>;

/** A timer every TIMER_PERIOD_MS; stop() gives the longest it fired late (the gap up to stop() included). */
function watchStalls(): { stop: () => number } {
  let lastMs = performance.now();
  let lateMsMax = 0;
  const tick = (): void => {
    const nowMs = performance.now();
    lateMsMax = Math.max(lateMsMax, nowMs - lastMs - TIMER_PERIOD_MS);
    lastMs = nowMs;
  };
  const timer = setInterval(tick, TIMER_PERIOD_MS);
  return {
    stop: () => {
      clearInterval(timer);
      tick();
      return lateMsMax;
    },
  };
}

/** The daemon's encoding: sliced where the tree has it, else snapshot() in one go (the daemon before it). */
async function daemonEncode(): Promise<{ encode: Encode; sliced: boolean }> {
  const modulePath = '../engine/daemon/snapshot-encode.js';
  try {
    const m = (await import(modulePath)) as { encodeSnapshot: Encode };
    return { encode: m.encodeSnapshot, sliced: true };
  } catch {
    return { encode: (e) => Promise.resolve({ bytes: snapshot(e) }), sliced: false };
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const resting = intArg(args, 'resting', 1_000_000);
  const runs = intArg(args, 'runs', 3);
  const loadAvg1 = loadavg()[0];
  const e = new Engine();
  applyAll(e, setupCommands(USERS, 0));
  placeRestingOrders(e, new Prng(intArg(args, 'seed', 42)), resting);
  const { encode, sliced } = await daemonEncode();
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-snapshot-stall-'));
  const store = new SnapshotStore({ dir, keep: 1 });
  const results = [];
  try {
    for (let run = 0; run < runs; run++) {
      collectGarbage();
      const stalls = watchStalls();
      await sleep(3 * TIMER_PERIOD_MS); // the timer is ticking before the snapshot starts
      const startedMs = performance.now();
      const { bytes, sliceMsMax } = await encode(e);
      const encodedMs = performance.now();
      await store.write(bytes, run);
      const doneMs = performance.now();
      results.push({
        stallMsMax: round(stalls.stop(), 1),
        sliceMsMax: sliceMsMax === undefined ? null : round(sliceMsMax, 1),
        encodeMs: round(encodedMs - startedMs, 1),
        writeMs: round(doneMs - encodedMs, 1),
        bytes: bytes.length,
      });
      log(`run ${run}: ${JSON.stringify(results.at(-1))}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const out = {
    bench: 'snapshot-stall',
    node: process.version,
    cores: cpus().length,
    loadAvg1: round(loadAvg1),
    loadAvg1End: round(loadavg()[0]),
    restingOrders: e.openOrdersTotal,
    sliced,
    stallMsMax: Math.max(...results.map((r) => r.stallMsMax)),
    runs: results,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
