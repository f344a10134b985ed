// Child process for file-log.test.ts's SIGKILL test (not a test itself). It opens the log in argv[2] and, until
// killed, runs PRODUCERS producers appending small batches of "r<round>p<k>-<i>" (i counting up per producer)
// while a daemon-like loop consumes the commands and commits one event "ev:<value>" per command keyed by its
// offset. Acknowledged work goes to stdout (a pipe, written synchronously on Linux, so a line printed before the
// kill reaches the parent): "acked <k> <i>" once value i of producer k is durable, "committed <offset>".
//
// Every FileHandle write here writes at most a few KiB and yields first, like a disk under pressure: the kill
// then often lands between the pieces of one frame (leaving a torn frame for the reopen to cut off), and the
// log's loop over short writes is exercised.

import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { FileLog } from '../../engine/daemon/file-log.js';
import { Prng } from '../../testkit/prng.js';

const PRODUCERS = 3;
const BIG_VALUE_BYTES = 64 << 10;
const MAX_WRITE_BYTES = 4096;
const [dir, roundText] = process.argv.slice(2);
const round = Number(roundText);
const prng = new Prng(round * 7919 + 1);
await makeWritesShortAndSlow();
const log = await FileLog.open(dir);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function produce(k: number): Promise<void> {
  for (let i = 0; ;) {
    const values: Uint8Array[] = [];
    const n = prng.int(1, 8);
    for (let j = 0; j < n; j++) values.push(encoder.encode(`r${round}p${k}-${i + j}`));
    // Now and then a large record, so that the kill sometimes lands inside a write and leaves a torn frame.
    if (prng.chance(0.2)) values[n - 1] = encoder.encode(`r${round}p${k}-${i + n - 1}-`.padEnd(BIG_VALUE_BYTES, 'x'));
    await log.append(values);
    i += n;
    process.stdout.write(`acked ${k} ${i - 1}\n`);
  }
}

async function daemon(): Promise<void> {
  await log.consume((await log.committedOffset()) + 1, 50, async (records) => {
    const lastOffset = records[records.length - 1].offset;
    await log.commit(
      records.map((r) => ({ key: String(r.offset), value: `ev:${decoder.decode(r.value)}` })),
      lastOffset,
    );
    process.stdout.write(`committed ${lastOffset}\n`);
  });
}

process.stdout.write('ready\n');
await Promise.all([daemon(), ...Array.from({ length: PRODUCERS }, (_, k) => produce(k))]);

async function makeWritesShortAndSlow(): Promise<void> {
  const probe = await open(process.execPath, 'r');
  const proto = Object.getPrototypeOf(probe) as { write: (...args: unknown[]) => Promise<unknown> };
  await probe.close();
  const write = proto.write;
  proto.write = async function (this: FileHandle, ...args: unknown[]) {
    await new Promise((resolve) => setImmediate(resolve));
    const [buffer, offset, length, position] = args;
    if (!(buffer instanceof Uint8Array) || typeof length !== 'number') return write.apply(this, args);
    return write.call(this, buffer, offset, Math.min(length, prng.int(1, MAX_WRITE_BYTES)), position);
  };
}
