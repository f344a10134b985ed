// Engine benchmark: replays a seeded synthetic stream of commands in-process through the engine and, side by
// side, through the `nodejs-order-book` package (the peer), then prints one JSON line on stdout.
//
//   npm run bench:engine                          shallow stream (the default)
//   npm run bench:engine -- --stream deep         deep stream
//   npm run bench:engine -- --stream resting      1,000,000 resting orders: memory per order
//   npm run bench:engine -- --quick               check after a change: 300,000 commands, one pass each (< 20 s)
// Options: --seed N (42), --commands N (1,000,000), --warmup N (100,000), --rounds N (3 engine throughput
// passes), --peer-rounds N (3; 1 on deep), --no-peer, --no-peer-latency. --quick sets the defaults of
// --commands 300,000, --warmup 30,000, --rounds 1 and --peer-rounds 1; explicit options still win.
// The JSON line names the commit measured (`commit`, with `+dirty` for uncommitted changes).
//
// Every command object is built before timing. The engine, then the peer, runs:
//   1. a warm-up pass of the first --warmup commands on a separate instance;
//   2. throughput passes: a fresh instance each, the whole stream, one wall-clock measurement, no per-command
//      timer; the median is reported;
//   3. a latency pass: a fresh instance, the whole stream, process.hrtime.bigint() around every command.
// Both must end with the same resting orders and the same depth (peerAgrees). Timings on a shared machine
// swing with its load: the JSON carries the 1-minute load average and CPU-time rates next to wall-time ones.
// Progress goes to stderr; stdout gets exactly one JSON line.

import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { Engine } from '../engine/core/index.js';
import type { Command } from '../engine/core/index.js';
import { applyAll, generateStream, KIND_NAMES, MARKET_ID, STREAMS } from './stream.js';
import type { Stream, StreamSpec } from './stream.js';
import { applyPeer, newPeer, peerCalls, peerDepth, peerRestingOrders } from './peer.js';
import type { PeerCall } from './peer.js';
import {
  MB,
  collectGarbage,
  intArg,
  log,
  parseArgs,
  peakRssBytes,
  percentilesUs,
  round,
  sampleRss,
  timerOverheadNs,
} from './measure.js';
import { runResting } from './engine-memory.js';

const GOALS = {
  commandsPerSec: 1_000_000,
  ratioVsPeer: { shallow: 4, deep: 20 } as Record<string, number>,
  latencyUsP99: 5,
};
const SAMPLE_MASK = 0xffff;

interface PassResult {
  seconds: number;
  /** Process CPU time (user + system, every thread) during the pass. */
  cpuSeconds: number;
  /** Events (engine) or response items (peer) counted, so no work can be optimized away. */
  consumed: number;
}

interface LatencyResult extends PassResult {
  p50: number;
  p99: number;
  p999: number;
  max: number;
  /** Nanoseconds per command, in stream order. */
  samplesNs: Float64Array;
}

function cpuSecondsSince(c0: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(c0);
  return (d.user + d.system) / 1e6;
}

function freshEngine(stream: Stream): Engine {
  const e = new Engine();
  applyAll(e, stream.setup);
  return e;
}

function enginePass(e: Engine, cmds: readonly Command[], count: number): PassResult {
  let consumed = 0;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    consumed += e.apply(cmds[i]).length;
    if ((i & SAMPLE_MASK) === 0) sampleRss();
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { seconds, cpuSeconds: cpuSecondsSince(c0), consumed };
}

function engineLatencyPass(e: Engine, cmds: readonly Command[]): LatencyResult {
  const lat = new Float64Array(cmds.length);
  let consumed = 0;
  const c0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < cmds.length; i++) {
    const t0 = process.hrtime.bigint();
    consumed += e.apply(cmds[i]).length;
    lat[i] = Number(process.hrtime.bigint() - t0);
    if ((i & SAMPLE_MASK) === 0) sampleRss();
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const [p50, p99, p999, max] = percentilesUs(lat, [0.5, 0.99, 0.999, 1]);
  return { seconds, cpuSeconds: cpuSecondsSince(c0), consumed, p50, p99, p999, max, samplesNs: lat };
}

type Peer = ReturnType<typeof newPeer>;

function peerPass(ob: Peer, calls: readonly PeerCall[], count: number): PassResult {
  let consumed = 0;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    consumed += applyPeer(ob, calls[i]);
    if ((i & SAMPLE_MASK) === 0) sampleRss();
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { seconds, cpuSeconds: cpuSecondsSince(c0), consumed };
}

function peerLatencyPass(ob: Peer, calls: readonly PeerCall[]): LatencyResult {
  const lat = new Float64Array(calls.length);
  let consumed = 0;
  const c0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls.length; i++) {
    const t0 = process.hrtime.bigint();
    consumed += applyPeer(ob, calls[i]);
    lat[i] = Number(process.hrtime.bigint() - t0);
    if ((i & SAMPLE_MASK) === 0) sampleRss();
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const [p50, p99, p999, max] = percentilesUs(lat, [0.5, 0.99, 0.999, 1]);
  return { seconds, cpuSeconds: cpuSecondsSince(c0), consumed, p50, p99, p999, max, samplesNs: lat };
}

/** p50/p99 per kind of command: says which commands make the tail. */
function latencyByKind(
  samplesNs: Float64Array,
  kinds: Uint8Array,
): Record<string, { count: number; p50: number; p99: number }> {
  const out: Record<string, { count: number; p50: number; p99: number }> = {};
  KIND_NAMES.forEach((name, kind) => {
    const picked = samplesNs.filter((_, i) => kinds[i] === kind);
    if (picked.length === 0) return;
    const [p50, p99] = percentilesUs(picked, [0.5, 0.99]);
    out[name] = { count: picked.length, p50: round(p50, 3), p99: round(p99, 3) };
  });
  return out;
}

type Depth = { bids: Array<[number, number]>; asks: Array<[number, number]> };

function engineDepth(e: Engine): Depth {
  const book = (e.markets[MARKET_ID] as NonNullable<Engine['markets'][number]>).book;
  const levels = (side: typeof book.bids): Array<[number, number]> => {
    const out: Array<[number, number]> = [];
    side.forEachLevel((l) => {
      out.push([l.priceTicks, l.totalLots]);
    });
    return out.sort((a, b) => a[0] - b[0]);
  };
  return { bids: levels(book.bids), asks: levels(book.asks) };
}

const sameDepth = (a: Depth, b: Depth): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Between phases: drop garbage so one phase's leftovers do not land in the next one's timing. */
function settle(): void {
  collectGarbage();
  sampleRss();
}

interface RunOptions {
  warmup: number;
  /** Engine throughput passes; the median is reported. */
  rounds: number;
  withPeer: boolean;
  peerRounds: number;
  peerLatency: boolean;
}

const median = (xs: readonly number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

function runStream(spec: StreamSpec, opts: RunOptions): Record<string, unknown> {
  // Shared machines: the load when the run started says how far to trust its timings.
  const loadAtStart = loadavg()[0];
  log(
    `stream ${spec.name}, seed ${spec.seed}: generating ${spec.commands.toLocaleString('en')} commands (untimed, by the engine itself)`,
  );
  const stream = generateStream(spec, (n) => log(`  generated ${n.toLocaleString('en')}`));
  const { stats } = stream;
  log(
    `  mix: ${stats.limits} limits (${stats.marketableLimits} traded on arrival), ${stats.cancels} cancels, ${stats.markets} markets; resting max ${stats.restingOrdersMax}, final ${stats.restingOrdersFinal}`,
  );
  const calls = opts.withPeer ? peerCalls(stream.peerOps) : [];
  const cmds = stream.commands;
  const warm = Math.min(opts.warmup, cmds.length);
  settle();
  // The pre-built commands of both engines stay in memory through every pass: part of every RSS figure below.
  const streamHeapMb = process.memoryUsage().heapUsed / MB;

  log(`engine: warm-up on ${warm.toLocaleString('en')} commands`);
  enginePass(freshEngine(stream), cmds, warm);
  settle();
  const thr: PassResult[] = [];
  let depth: Depth = { bids: [], asks: [] };
  let restingOrdersFinal = 0;
  let engineHeapMb = 0;
  for (let r = 0; r < opts.rounds; r++) {
    const e = freshEngine(stream);
    thr.push(enginePass(e, cmds, cmds.length));
    const d = engineDepth(e);
    if (r > 0 && (!sameDepth(d, depth) || e.openOrdersTotal !== restingOrdersFinal))
      throw new Error('the engine ended two passes of the same stream in different states');
    depth = d;
    restingOrdersFinal = e.openOrdersTotal;
    settle();
    // After a full GC with this engine still alive: its state (the pre-built stream subtracted).
    engineHeapMb = process.memoryUsage().heapUsed / MB - streamHeapMb;
    log(
      `engine: throughput pass ${r + 1}/${opts.rounds}: ${Math.round(cmds.length / thr[r].seconds).toLocaleString('en')} commands/s, ${thr[r].consumed.toLocaleString('en')} events, resting ${restingOrdersFinal}`,
    );
  }
  settle();
  const commandsPerSec = cmds.length / median(thr.map((t) => t.seconds));
  const commandsPerCpuSec = cmds.length / median(thr.map((t) => t.cpuSeconds));
  const levelsFinal = depth.bids.length + depth.asks.length;
  log('engine: latency pass (hrtime around every command)');
  const timerNs = timerOverheadNs();
  const eLat = freshEngine(stream);
  const lat = engineLatencyPass(eLat, cmds);
  log(
    `  p50 ${lat.p50.toFixed(2)} µs, p99 ${lat.p99.toFixed(2)} µs, p99.9 ${lat.p999.toFixed(2)} µs, max ${lat.max.toFixed(0)} µs (timer pair ${timerNs.toFixed(0)} ns)`,
  );
  const latencyUsByKind = latencyByKind(lat.samplesNs, stream.kinds);
  const deterministic =
    eLat.openOrdersTotal === restingOrdersFinal &&
    sameDepth(engineDepth(eLat), depth) &&
    restingOrdersFinal === stats.restingOrdersFinal;
  settle();
  const enginePeakRssMb = peakRssBytes() / MB;

  const out: Record<string, unknown> = {
    bench: 'engine',
    stream: {
      name: spec.name,
      seed: spec.seed,
      commands: cmds.length,
      marketLotsMax: spec.marketLotsMax,
      midTicks: spec.midTicks,
      offsetMeanTicks: spec.offsetMeanTicks,
      users: spec.users,
    },
    commandsPerSec: Math.round(commandsPerSec),
    commandsPerCpuSec: Math.round(commandsPerCpuSec),
    commandsPerSecRounds: thr.map((t) => Math.round(cmds.length / t.seconds)),
    throughputMethod: `median of ${opts.rounds} passes (fresh engine each) without per-command timers: commands / wall time; commandsPerCpuSec uses process CPU time (GC threads included)`,
    latencyUsP50: round(lat.p50, 3),
    latencyUsP99: round(lat.p99, 3),
    latencyUsP999: round(lat.p999, 3),
    latencyUsMax: round(lat.max, 1),
    latencyUsByKind,
    latencyMethod: 'separate pass, process.hrtime.bigint() around every command (timer overhead included)',
    timerOverheadNs: Math.round(timerNs),
    latencyPassCommandsPerSec: Math.round(cmds.length / lat.seconds),
    peakRssMb: round(enginePeakRssMb, 1),
    peakRssMethod:
      'max process RSS sampled every 65,536 commands from stream generation to the end of the engine passes (before the peer runs); includes the pre-built stream',
    engineHeapMb: round(engineHeapMb, 1),
    streamHeapMb: round(streamHeapMb, 1),
    restingOrdersFinal,
    restingOrdersMax: stats.restingOrdersMax,
    levelsFinal,
    eventsPerCommand: round(thr[0].consumed / cmds.length, 3),
    mix: {
      limits: stats.limits,
      marketableLimits: stats.marketableLimits,
      cancels: stats.cancels,
      markets: stats.markets,
      cancelsReplacedByLimits: stats.cancelsReplaced,
    },
    feeBps: spec.feeBps,
    stp: 'none',
    deterministic,
  };

  if (opts.withPeer) {
    log(`peer (nodejs-order-book): warm-up on ${warm.toLocaleString('en')} commands`);
    peerPass(newPeer(), calls, warm);
    settle();
    const pThr: PassResult[] = [];
    let peerAgrees = true;
    let peerResting = 0;
    for (let r = 0; r < opts.peerRounds; r++) {
      const ob = newPeer();
      pThr.push(peerPass(ob, calls, calls.length));
      peerResting = peerRestingOrders(ob);
      peerAgrees &&= peerResting === restingOrdersFinal && sameDepth(peerDepth(ob), depth);
      settle();
      log(
        `peer: throughput pass ${r + 1}/${opts.peerRounds}: ${Math.round(calls.length / pThr[r].seconds).toLocaleString('en')} commands/s, agrees with the engine: ${peerAgrees}`,
      );
    }
    const peerCommandsPerSec = calls.length / median(pThr.map((t) => t.seconds));
    const peerCommandsPerCpuSec = calls.length / median(pThr.map((t) => t.cpuSeconds));
    Object.assign(out, {
      peer: 'nodejs-order-book@10.1.1',
      peerCommandsPerSec: Math.round(peerCommandsPerSec),
      peerCommandsPerCpuSec: Math.round(peerCommandsPerCpuSec),
      peerCommandsPerSecRounds: pThr.map((t) => Math.round(calls.length / t.seconds)),
      ratioVsPeer: round(commandsPerSec / peerCommandsPerSec, 2),
      ratioVsPeerCpu: round(commandsPerCpuSec / peerCommandsPerCpuSec, 2),
      peerRestingOrdersFinal: peerResting,
      peerAgrees,
    });
    if (opts.peerLatency) {
      log('peer: latency pass');
      const pLat = peerLatencyPass(newPeer(), calls);
      log(`  p50 ${pLat.p50.toFixed(2)} µs, p99 ${pLat.p99.toFixed(2)} µs, p99.9 ${pLat.p999.toFixed(2)} µs`);
      Object.assign(out, {
        peerLatencyUsP50: round(pLat.p50, 3),
        peerLatencyUsP99: round(pLat.p99, 3),
        peerLatencyUsP999: round(pLat.p999, 3),
      });
    }
  }
  if (opts.withPeer) out.peerPeakRssMb = round(peakRssBytes() / MB, 1);
  out.goalsMet = {
    commandsPerSec: commandsPerSec >= GOALS.commandsPerSec,
    latencyUsP99: lat.p99 < GOALS.latencyUsP99,
    ratioVsPeer:
      opts.withPeer && GOALS.ratioVsPeer[spec.name] !== undefined
        ? (out.ratioVsPeer as number) >= GOALS.ratioVsPeer[spec.name]
        : null,
  };
  out.node = process.version;
  out.loadAvg1mAtStart = round(loadAtStart, 2);
  out.cpus = cpus().length;
  return out;
}

/** The commit the figures belong to: short hash, `+dirty` when the work tree differs; null outside git. */
function currentCommit(): string | null {
  try {
    const git = (args: string[]): string =>
      execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const hash = git(['rev-parse', '--short', 'HEAD']);
    return git(['status', '--porcelain', '--untracked-files=no']) === '' ? hash : `${hash}+dirty`;
  } catch {
    return null;
  }
}

const QUICK = { commands: 300_000, warmup: 30_000, rounds: 1, peerRounds: 1 };

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const quick = args.has('quick');
  const name = args.get('stream') ?? 'shallow';
  const seed = intArg(args, 'seed', 42);
  const commands = intArg(args, 'commands', quick ? QUICK.commands : 1_000_000);
  const commit = currentCommit();
  if (name === 'resting') {
    process.stdout.write(`${JSON.stringify({ ...runResting(seed, commands, args.has('heap-summary')), commit })}\n`);
    return;
  }
  const base = STREAMS[name];
  if (base === undefined) throw new Error(`unknown --stream ${name}: shallow, deep or resting`);
  const spec: StreamSpec = { ...base, seed, commands };
  const result = runStream(spec, {
    warmup: intArg(args, 'warmup', quick ? QUICK.warmup : 100_000),
    rounds: Math.max(1, intArg(args, 'rounds', quick ? QUICK.rounds : 3)),
    withPeer: !args.has('no-peer'),
    // The peer takes a minute or more per deep pass: one round there unless asked.
    peerRounds: Math.max(1, intArg(args, 'peer-rounds', quick || name === 'deep' ? QUICK.peerRounds : 3)),
    peerLatency: !args.has('no-peer-latency'),
  });
  process.stdout.write(`${JSON.stringify({ ...result, quick, commit })}\n`);
}

main();
