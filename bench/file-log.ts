// Embedded file log benchmark: durable append throughput (each append resolves after its fdatasync) and commit
// throughput, in a fresh temp directory (by default under os.tmpdir(); --dir puts it on another disk).
//
//   node --import tsx bench/file-log.ts                     all scenarios, 200-byte records
//   node --import tsx bench/file-log.ts --seconds 5 --bytes 500
//
// Scenarios: one producer awaiting each append of 1 record; one producer awaiting each append of 1000;
// 16 producers appending 1 record each concurrently (group commit coalesces them behind each fsync);
// commits of 1000 events of --bytes each. Progress goes to stderr; stdout gets one JSON line.

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FileLog } from '../engine/daemon/file-log.js';
import { intArg, log, parseArgs, round } from './measure.js';

interface Result {
  records: number;
  seconds: number;
  recordsPerSec: number;
  /** Appends (or commits) awaited per second; each is one write + fdatasync. Absent when appends are coalesced. */
  durableWritesPerSec?: number;
}

async function timed(
  seconds: number,
  step: () => Promise<number>,
): Promise<{ records: number; steps: number; elapsed: number }> {
  const t0 = process.hrtime.bigint();
  const deadline = t0 + BigInt(Math.round(seconds * 1e9));
  let records = 0;
  let steps = 0;
  while (process.hrtime.bigint() < deadline) {
    records += await step();
    steps++;
  }
  return { records, steps, elapsed: Number(process.hrtime.bigint() - t0) / 1e9 };
}

async function withLog<T>(root: string, name: string, body: (log: FileLog) => Promise<T>): Promise<T> {
  const log = await FileLog.open(path.join(root, name));
  try {
    return await body(log);
  } finally {
    await log.close();
  }
}

function result(records: number, writes: number, elapsed: number): Result {
  return {
    records,
    seconds: round(elapsed, 3),
    recordsPerSec: Math.round(records / elapsed),
    durableWritesPerSec: Math.round(writes / elapsed),
  };
}

async function sequentialAppends(root: string, batch: number, bytes: number, seconds: number): Promise<Result> {
  const values = Array.from({ length: batch }, () => new Uint8Array(bytes).fill(0x61));
  return withLog(root, `seq-${batch}`, async (fileLog) => {
    const { records, steps, elapsed } = await timed(seconds, async () => (await fileLog.append(values)).length);
    return result(records, steps, elapsed);
  });
}

async function concurrentAppends(root: string, producers: number, bytes: number, seconds: number): Promise<Result> {
  const value = [new Uint8Array(bytes).fill(0x62)];
  return withLog(root, `concurrent-${producers}`, async (fileLog) => {
    const t0 = process.hrtime.bigint();
    const runs = await Promise.all(
      Array.from({ length: producers }, () => timed(seconds, async () => (await fileLog.append(value)).length)),
    );
    const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
    const records = runs.reduce((sum, r) => sum + r.records, 0);
    return { records, seconds: round(elapsed, 3), recordsPerSec: Math.round(records / elapsed) };
  });
}

async function commits(root: string, batch: number, bytes: number, seconds: number): Promise<Result> {
  return withLog(root, 'commits', async (fileLog) => {
    const events = Array.from({ length: batch }, (_, i) => ({ key: `cmd-${i}`, value: 'e'.repeat(bytes) }));
    let lastOffset = -1;
    const { records, steps, elapsed } = await timed(seconds, async () => {
      await fileLog.append([new Uint8Array(1)]);
      await fileLog.commit(events, ++lastOffset);
      return batch;
    });
    return result(records, steps, elapsed);
  });
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const seconds = intArg(args, 'seconds', 3);
  const bytes = intArg(args, 'bytes', 200);
  const root = await mkdtemp(path.join(args.get('dir') ?? os.tmpdir(), 'bench-file-log-'));
  try {
    log(`file log bench in ${root}: ${seconds} s per scenario, ${bytes}-byte records`);
    const out = {
      bench: 'file-log',
      node: process.version,
      recordBytes: bytes,
      appendBatch1: await sequentialAppends(root, 1, bytes, seconds),
      appendBatch1000: await sequentialAppends(root, 1000, bytes, seconds),
      append16ProducersBatch1: await concurrentAppends(root, 16, bytes, seconds),
      commitBatch1000Events: await commits(root, 1000, bytes, seconds),
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();
