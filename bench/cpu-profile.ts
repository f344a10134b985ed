// Summarizes a V8 .cpuprofile (node --cpu-prof): where the process's CPU time went, by area (kafkajs, engine core,
// wire codec, daemon, GC, ...) and by function (self time, and total time counting each function once per
// sample however deep it recurses). bench/kafka.ts --profile DIR writes the profiles and prints these summaries.
//
//   node --import tsx bench/cpu-profile.ts FILE.cpuprofile [--top 25]

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { intArg, parseArgs } from './measure.js';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: number[];
}

interface CpuProfile {
  readonly nodes: ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: number[];
  readonly timeDeltas: number[];
}

export interface FunctionCost {
  readonly name: string;
  readonly ms: number;
  /** Share of the busy time (everything but idle). */
  readonly share: number;
}

export interface ProfileSummary {
  readonly wallMs: number;
  /** Sampled time not idle: the process's CPU time, as seen by the profiler. */
  readonly busyMs: number;
  readonly areas: FunctionCost[];
  readonly self: FunctionCost[];
  readonly total: FunctionCost[];
}

/** Which part of the system a frame belongs to, from its script URL (or V8's pseudo-frames). */
export function areaOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') {
    if (functionName === '(garbage collector)') return 'gc';
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(program)') return 'v8 (program)';
    return 'native';
  }
  if (url.includes('/node_modules/kafkajs/')) return 'kafkajs';
  if (url.includes('/node_modules/pino')) return 'pino';
  if (url.includes('/node_modules/typebox/')) return 'typebox (command validation)';
  if (url.includes('/node_modules/tsx/') || url.includes('/node_modules/esbuild/')) return 'tsx (start-up)';
  if (url.includes('/node_modules/')) return 'other packages';
  if (url.includes('/engine/core/')) return 'engine core';
  if (url.includes('/engine/wire/')) return 'wire codec';
  if (url.includes('/engine/daemon/')) return 'daemon';
  if (url.startsWith('node:')) return 'node internals';
  return 'other';
}

const REPO_URL = pathToFileURL(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')).href + '/';

/** Function name and a short location: repo-relative, or from node_modules/ on. */
function frameKey(frame: CallFrame): string {
  const packageAt = frame.url.lastIndexOf('/node_modules/');
  const file = packageAt >= 0 ? frame.url.slice(packageAt + 1) : frame.url.replace(REPO_URL, '');
  return `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
}

/**
 * `windowUs` keeps only the samples taken within [from, to] on the profile's clock, which is CLOCK_MONOTONIC in
 * microseconds like process.hrtime.bigint() / 1000n in any process of the machine: start-up can be left out.
 */
export function summarizeProfile(profile: CpuProfile, top = 25, windowUs?: readonly [number, number]): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parentOf.set(child, node.id);
  }
  const areaMs = new Map<string, number>();
  const selfMs = new Map<string, number>();
  const totalMs = new Map<string, number>();
  const add = (map: Map<string, number>, key: string, ms: number): void => {
    map.set(key, (map.get(key) ?? 0) + ms);
  };
  let idleMs = 0;
  let wallMs = 0;
  let atUs = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    // timeDeltas[i] is the time before sample i; the next delta is the time this sample stands for.
    atUs += profile.timeDeltas[i];
    if (windowUs !== undefined && (atUs < windowUs[0] || atUs > windowUs[1])) continue;
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    wallMs += ms;
    const leaf = byId.get(profile.samples[i]);
    if (leaf === undefined) continue;
    const area = areaOf(leaf.callFrame);
    if (area === 'idle') {
      idleMs += ms;
      continue;
    }
    add(areaMs, area, ms);
    add(selfMs, frameKey(leaf.callFrame), ms);
    const seen = new Set<string>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parentOf.get(id)) {
      const frame = (byId.get(id) as ProfileNode).callFrame;
      if (frame.functionName === '(root)') continue;
      const key = frameKey(frame);
      if (!seen.has(key)) {
        seen.add(key);
        add(totalMs, key, ms);
      }
    }
  }
  const busyMs = wallMs - idleMs;
  const ranked = (map: Map<string, number>, n: number): FunctionCost[] =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, ms]) => ({ name, ms: Math.round(ms), share: Number((ms / busyMs).toFixed(3)) }));
  return {
    wallMs: Math.round(wallMs),
    busyMs: Math.round(busyMs),
    areas: ranked(areaMs, 20),
    self: ranked(selfMs, top),
    total: ranked(totalMs, top),
  };
}

export async function summarizeProfileFile(
  file: string,
  top = 25,
  windowUs?: readonly [number, number],
): Promise<ProfileSummary> {
  return summarizeProfile(JSON.parse(await readFile(file, 'utf8')) as CpuProfile, top, windowUs);
}

export function formatSummary(title: string, s: ProfileSummary): string {
  const pct = (share: number): string => `${(share * 100).toFixed(1).padStart(5)}%`;
  const rows = (costs: FunctionCost[]): string =>
    costs.map((c) => `  ${pct(c.share)} ${String(c.ms).padStart(7)} ms  ${c.name}`).join('\n');
  return [
    `${title}: ${s.busyMs} ms busy of ${s.wallMs} ms sampled`,
    'by area (self time):',
    rows(s.areas),
    'by function, self time:',
    rows(s.self),
    'by function, total time (callees included):',
    rows(s.total),
  ].join('\n');
}

async function main(): Promise<void> {
  const [file, ...rest] = process.argv.slice(2);
  if (file === undefined) throw new Error('usage: bench/cpu-profile.ts FILE.cpuprofile [--top N]');
  const top = intArg(parseArgs(rest), 'top', 25);
  process.stdout.write(`${formatSummary(file, await summarizeProfileFile(file, top))}\n`);
}

if (process.argv[1]?.endsWith('cpu-profile.ts')) await main();
