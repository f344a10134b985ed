// Measurement helpers shared by the engine benchmarks: GC on demand, RSS sampling, percentiles, arguments.

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** A full GC, whether or not node was started with --expose-gc (the flag can be set at run time). */
export const collectGarbage: () => void = (() => {
  const g = (globalThis as { gc?: () => void }).gc;
  if (typeof g === 'function') return g;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

export const MB = 1024 * 1024;

let peakRss = 0;
/** Samples the resident set size; the benchmarks call it every 65,536 commands and between phases. */
export function sampleRss(): number {
  const rss = process.memoryUsage.rss();
  if (rss > peakRss) peakRss = rss;
  return rss;
}
export const peakRssBytes = (): number => peakRss;

/** Percentiles (0..1) of nanosecond samples, in microseconds. */
export function percentilesUs(samplesNs: Float64Array, ps: readonly number[]): number[] {
  const sorted = Float64Array.from(samplesNs).sort();
  return ps.map((p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] / 1000);
}

/** Median cost of one pair of process.hrtime.bigint() calls, in nanoseconds. */
export function timerOverheadNs(): number {
  const n = 200_000;
  const samples = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    samples[i] = Number(process.hrtime.bigint() - t0);
  }
  return percentilesUs(samples, [0.5])[0] * 1000;
}

export const round = (x: number, digits = 2): number => Number(x.toFixed(digits));

/** `--name value` pairs and bare `--flag`s. */
export function parseArgs(argv: readonly string[]): Map<string, string> {
  const args = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith('--')) {
      args.set(a.slice(2), next);
      i++;
    } else args.set(a.slice(2), 'true');
  }
  return args;
}

export function intArg(args: Map<string, string>, name: string, dflt: number): number {
  const v = args.get(name);
  if (v === undefined) return dflt;
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got ${v}`);
  return n;
}

export const log = (msg: string): void => {
  process.stderr.write(`[bench] ${msg}\n`);
};
