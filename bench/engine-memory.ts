// Memory per resting order: places N non-crossing GTC limit orders into one engine and measures the heap and
// the resident set after a full GC. Commands are built and applied in chunks so the benchmark's own command
// objects are garbage by the time memory is measured: what remains is the engine's state.
// Run as `npm run bench:engine -- --stream resting` (one JSON line on stdout).

import { COMMAND_VERSION, Engine } from '../engine/core/index.js';
import type { Command } from '../engine/core/index.js';
import { applyAll, expSample, MARKET_ID, setupCommands } from './stream.js';
import { Prng } from '../testkit/prng.js';
import { MB, collectGarbage, log, round } from './measure.js';
import { heapSummary } from './heap-summary.js';

const MID_TICKS = 10_000;
const CHUNK = 10_000;
/** 1,000,000 orders at the engine's default 1,000 open orders per user need at least 1,000 users. */
export const USERS = 2_000;
const GOAL = { restingOrders: 1_000_000, rssMb: 400 };

/** How many kinds of object the heap breakdown lists (--heap-summary). */
const HEAP_KINDS_LISTED = 12;

export function runResting(seed: number, count: number, withHeapSummary = false): Record<string, unknown> {
  const rng = new Prng(seed);
  const e = new Engine();
  applyAll(e, setupCommands(USERS, 0));
  collectGarbage();
  const before = process.memoryUsage();
  log(
    `resting: placing ${count.toLocaleString('en')} non-crossing orders (seed ${seed}); baseline rss ${(before.rss / MB).toFixed(1)} MB, heap ${(before.heapUsed / MB).toFixed(1)} MB`,
  );

  const t0 = process.hrtime.bigint();
  placeRestingOrders(e, rng, count);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const rssBeforeGcMb = process.memoryUsage.rss() / MB;
  collectGarbage();
  const after = process.memoryUsage();
  const resting = e.openOrdersTotal;
  if (resting !== count) throw new Error(`expected ${count} resting orders, found ${resting}: some crossed`);
  const book = (e.markets[MARKET_ID] as NonNullable<Engine['markets'][number]>).book;
  const result = {
    bench: 'engine-memory',
    stream: { name: 'resting', seed, commands: count, users: USERS, midTicks: MID_TICKS },
    restingOrders: resting,
    levels: book.bids.levelCount + book.asks.levelCount,
    rssMb: round(after.rss / MB, 1),
    rssBeforeGcMb: round(rssBeforeGcMb, 1),
    heapUsedMb: round(after.heapUsed / MB, 1),
    baselineRssMb: round(before.rss / MB, 1),
    baselineHeapUsedMb: round(before.heapUsed / MB, 1),
    bytesPerOrder: Math.round((after.heapUsed - before.heapUsed) / resting),
    rssBytesPerOrder: Math.round((after.rss - before.rss) / resting),
    placeCommandsPerSec: Math.round(count / seconds),
    goalMet: resting >= GOAL.restingOrders && after.rss / MB < GOAL.rssMb,
    node: process.version,
    ...(withHeapSummary ? { heapBytesPerOrderByKind: heapBytesPerOrder(resting) } : {}),
  };
  log(
    `  ${resting.toLocaleString('en')} resting: rss ${result.rssMb} MB, heap ${result.heapUsedMb} MB, ${result.bytesPerOrder} heap bytes per order`,
  );
  return result;
}

/** Places `count` non-crossing GTC limit orders (users 1..USERS, set up by setupCommands(USERS, 0)) in chunks. */
export function placeRestingOrders(e: Engine, rng: Prng, count: number): void {
  for (let start = 0; start < count; start += CHUNK) {
    const chunk: Command[] = [];
    for (let i = start; i < Math.min(count, start + CHUNK); i++) {
      const side = i % 2 === 0 ? 'buy' : 'sell';
      // Same shape as the stream's book: offsets from an exponential of mean 20 ticks, never crossing.
      const offset = 1 + Math.floor(expSample(rng, 20));
      const price = side === 'buy' ? MID_TICKS - offset : MID_TICKS + offset;
      chunk.push({
        v: COMMAND_VERSION,
        id: `r${i}`,
        timeMs: 1_700_000_000_000 + i,
        type: 'placeOrder',
        userId: 1 + (i % USERS),
        marketId: MARKET_ID,
        side,
        orderType: 'limit',
        price: BigInt(price),
        quantity: BigInt(rng.int(1, 100)),
        timeInForce: 'GTC',
        stp: 'none',
      });
    }
    for (const cmd of chunk) {
      const events = e.apply(cmd);
      const result = events[events.length - 1];
      if (result.type !== 'commandResult' || result.status !== 'accepted')
        throw new Error(
          `resting order ${cmd.id} rejected: ${String(result.type === 'commandResult' ? result.code : result.type)}`,
        );
    }
    if ((start + CHUNK) % 200_000 === 0)
      log(`  ${(start + CHUNK).toLocaleString('en')} placed, rss ${(process.memoryUsage.rss() / MB).toFixed(0)} MB`);
  }
}

/** The heap's largest kinds of object, in bytes per resting order (the baseline's few MB included). */
function heapBytesPerOrder(resting: number): Record<string, number> {
  const shares = heapSummary(HEAP_KINDS_LISTED);
  for (const s of shares)
    log(`  ${(s.bytes / resting).toFixed(1).padStart(7)} B/order  ${String(s.count).padStart(9)} objects  ${s.kind}`);
  return Object.fromEntries(shares.map((s) => [s.kind, round(s.bytes / resting, 1)]));
}
