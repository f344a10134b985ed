// The embedded file log: commands come back in order with consecutive offsets, commits are atomic and durable,
// a torn tail from a crash is cut off on reopen (while damage to durable data is refused), concurrent producers
// each get every record in exactly once, and a process SIGKILLed mid-stream leaves a log that reopens consistently.

import { spawn } from 'node:child_process';
import { appendFile, mkdtemp, open, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { crc32, crc32Fallback } from '../../engine/daemon/durable-fs.js';
import {
  DirectoryLockedError,
  FileLog,
  FileLogFailedError,
  LogCorruptError,
  readCommittedEvents,
} from '../../engine/daemon/file-log.js';
import type { FileLogOptions } from '../../engine/daemon/file-log.js';
import { encodeCommandFrame, encodeEventFrame } from '../../engine/daemon/log-frames.js';
import type { CommandRecord, EventRecord } from '../../engine/daemon/log.js';
import { Prng } from '../../testkit/prng.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const bytesOf = (s: string): Uint8Array => encoder.encode(s);
const textOf = (r: CommandRecord): string => decoder.decode(r.value);
const HEADER_BYTES = 16;

async function tempDir(t: Test): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'file-log-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Opens the log and closes it at the end of the test unless the test closed it. */
async function openLog(t: Test, dir: string, opts?: FileLogOptions): Promise<FileLog> {
  const log = await FileLog.open(dir, opts);
  t.teardown(() => log.close());
  return log;
}

/** Records truncations reported while opening. */
function truncations(): { opts: FileLogOptions; seen: Array<[string, number, string]> } {
  const seen: Array<[string, number, string]> = [];
  return { opts: { onTruncate: (file, bytes, reason) => seen.push([file, bytes, reason]) }, seen };
}

/** Consumes from `fromOffset` until `count` records arrived, then stops; returns them and the batch sizes. */
async function consumeN(
  log: FileLog,
  fromOffset: number,
  batchMax: number,
  count: number,
): Promise<{ records: CommandRecord[]; batches: number[] }> {
  const records: CommandRecord[] = [];
  const batches: number[] = [];
  await log.consume(fromOffset, batchMax, async (batch) => {
    batches.push(batch.length);
    records.push(...batch);
    if (records.length >= count) void log.stop();
  });
  return { records, batches };
}

const events = (...pairs: Array<[string, string]>): EventRecord[] => pairs.map(([key, value]) => ({ key, value }));

t.test('appends get consecutive offsets from 0 and consume returns them in order, in bounded batches', async (t) => {
  const dir = await tempDir(t);
  let clockMs = 1_000;
  const log = await openLog(t, dir, { now: () => clockMs });
  t.same(await log.append([bytesOf('a'), bytesOf('b')]), [0, 1]);
  clockMs = 2_000;
  t.same(await log.append([bytesOf('c')]), [2]);
  clockMs = 1_500; // the wall clock stepped back
  t.same(await log.append([bytesOf('d'), bytesOf(''), bytesOf('f')]), [3, 4, 5]);
  t.same(await log.append([]), [], 'an empty append writes nothing');
  t.equal(log.nextOffset, 6);

  const { records, batches } = await consumeN(log, 0, 4, 6);
  t.same(
    records.map((r) => r.offset),
    [0, 1, 2, 3, 4, 5],
  );
  t.same(records.map(textOf), ['a', 'b', 'c', 'd', '', 'f']);
  t.same(
    records.map((r) => r.timestampMs),
    [1_000, 1_000, 2_000, 2_000, 2_000, 2_000],
    'stamped by the clock, never backwards',
  );
  t.ok(
    batches.every((n) => n <= 4),
    `batches ${batches} are at most batchMax`,
  );
  t.same((await log.readCommands(4)).map(textOf), ['', 'f'], 'reading from the middle');
});

t.test('consume from a later offset skips what is before it, across many frames', async (t) => {
  const log = await openLog(t, await tempDir(t));
  // Large values so the sparse index gets several entries and seeking uses one.
  const big = new Uint8Array(100_000).fill(7);
  for (let i = 0; i < 40; i++) await log.append([bytesOf(`v${i}`), big]);
  const { records } = await consumeN(log, 61, 5, 80 - 61);
  t.same(
    records.map((r) => r.offset),
    Array.from({ length: 19 }, (_, i) => 61 + i),
  );
  t.equal(textOf(records[1]), 'v31');
});

t.test('consume waits for appends, delivers them, and resolves after stop', async (t) => {
  const log = await openLog(t, await tempDir(t), { pollIntervalMs: 5_000 });
  const seen: string[] = [];
  const consuming = log.consume(0, 10, async (batch) => {
    seen.push(...batch.map(textOf));
  });
  await new Promise((r) => setTimeout(r, 30));
  t.same(seen, [], 'nothing to deliver yet');
  const started = Date.now();
  await log.append([bytesOf('x')]);
  while (seen.length < 1) await new Promise((r) => setTimeout(r, 1));
  t.ok(Date.now() - started < 1_000, 'the append woke the consumer (not the 5 s poll)');
  await log.append([bytesOf('y'), bytesOf('z')]);
  while (seen.length < 3) await new Promise((r) => setTimeout(r, 1));
  t.same(seen, ['x', 'y', 'z']);
  await log.stop();
  await consuming;
  let calledAfterStop = false;
  await log.consume(0, 10, async () => {
    calledAfterStop = true;
  });
  t.notOk(calledAfterStop, 'stop is final: a later consume returns at once');
});

t.test('consumers only see commands whose append is durable', async (t) => {
  const log = await openLog(t, await tempDir(t), { pollIntervalMs: 5 });
  const seen: string[] = [];
  const consuming = log.consume(0, 10, async (batch) => {
    seen.push(...batch.map(textOf));
  });
  let releaseSync!: () => void;
  const syncGate = new Promise<void>((resolve) => (releaseSync = resolve));
  let appended: Promise<number[]> | undefined;
  await withFileHandlePatch(
    'datasync',
    async function (this: FileHandle, datasync) {
      await syncGate;
      return datasync.call(this);
    },
    async () => {
      appended = log.append([bytesOf('pending')]);
      await new Promise((r) => setTimeout(r, 50)); // written, not yet fsync'd; the consumer polls meanwhile
      t.same(seen, [], "a written but not yet fsync'd command is not delivered");
      releaseSync();
      t.same(await appended, [0]);
    },
  );
  while (seen.length < 1) await new Promise((r) => setTimeout(r, 1));
  t.same(seen, ['pending'], 'delivered once durable');
  await log.stop();
  await consuming;
});

t.test('commits are durable, committedOffset follows the last one, readers see committed events only', async (t) => {
  const dir = await tempDir(t);
  const log = await FileLog.open(dir);
  t.equal(await log.committedOffset(), -1, 'nothing committed yet');
  await log.append([bytesOf('c0'), bytesOf('c1'), bytesOf('c2'), bytesOf('c3')]);
  await log.commit(events(['c0', 'e0'], ['c0', 'e1'], ['c1', 'é2 ✓']), 1);
  t.equal(await log.committedOffset(), 1);
  await log.commit([], 2);
  await log.commit(events(['c3', 'e3']), 3);
  t.equal(await log.committedOffset(), 3);
  await t.rejects(log.commit(events(['x', 'y']), 3), RangeError, 'a commit must advance the offset');
  await t.rejects(log.commit(events(['x', 'y']), 4), RangeError, 'a commit cannot cover commands not in the log');
  t.same(
    (await log.readEvents()).map((e) => [e.index, e.commitOffset, e.key, e.value]),
    [
      [0, 1, 'c0', 'e0'],
      [1, 1, 'c0', 'e1'],
      [2, 1, 'c1', 'é2 ✓'],
      [3, 3, 'c3', 'e3'],
    ],
  );
  t.same(
    (await log.readEvents(2, 1)).map((e) => e.value),
    ['é2 ✓'],
    'from an index, bounded',
  );
  await log.close();

  const reopened = await openLog(t, dir);
  t.equal(await reopened.committedOffset(), 3, 'the committed offset survives a reopen');
  t.equal(reopened.eventCount, 4);
  t.same(
    (await readCommittedEvents(dir, 1)).map((e) => e.value),
    ['e1', 'é2 ✓', 'e3'],
    'the lock-free reader agrees',
  );
});

t.test('a torn tail in commands.log is cut off on reopen; durable commands survive', async (t) => {
  const cases: Array<[string, (frame: Buffer) => Buffer]> = [
    ['a cut frame header', (f) => f.subarray(0, 5)],
    ['a cut payload', (f) => f.subarray(0, f.length - 3)],
    ['a checksum mismatch in the last frame', (f) => flipLastByte(f)],
    ['zeros a crash left', (f) => Buffer.alloc(f.length)],
  ];
  for (const [name, tear] of cases) {
    const dir = await tempDir(t);
    const log = await FileLog.open(dir);
    await log.append([bytesOf('one'), bytesOf('two')]);
    await log.append([bytesOf('three')]);
    await log.close();
    const commandsLog = path.join(dir, 'commands.log');
    const durableBytes = (await stat(commandsLog)).size;
    await appendFile(commandsLog, tear(encodeCommandFrame(3, 5, [bytesOf('torn'), bytesOf('write')])));

    const { opts, seen } = truncations();
    const reopened = await FileLog.open(dir, opts);
    t.equal((await stat(commandsLog)).size, durableBytes, `${name}: cut back to the durable end`);
    t.equal(seen.length, 1, `${name}: reported`);
    t.equal(seen[0]?.[0], 'commands.log');
    t.same((await reopened.readCommands(0)).map(textOf), ['one', 'two', 'three'], `${name}: durable commands intact`);
    t.same(await reopened.append([bytesOf('four')]), [3], `${name}: appends continue at the next offset`);
    await reopened.close();
  }
});

t.test('a torn commit in events.log is cut off on reopen; earlier commits survive', async (t) => {
  for (const [name, tear] of [
    ['a cut commit frame', (f: Buffer) => f.subarray(0, f.length - 1)],
    ['a checksum mismatch in the last commit', flipLastByte],
  ] as const) {
    const dir = await tempDir(t);
    const log = await FileLog.open(dir);
    await log.append([bytesOf('a'), bytesOf('b'), bytesOf('c')]);
    await log.commit(events(['a', 'ea']), 0);
    await log.commit(events(['b', 'eb']), 1);
    await log.close();
    const eventsLog = path.join(dir, 'events.log');
    const durableBytes = (await stat(eventsLog)).size;
    await appendFile(eventsLog, tear(encodeEventFrame(2, 2, events(['c', 'ec']))));
    t.same(
      (await readCommittedEvents(dir)).map((e) => e.value),
      ['ea', 'eb'],
      `${name}: the lock-free reader ignores the torn commit`,
    );

    const { opts, seen } = truncations();
    const reopened = await FileLog.open(dir, opts);
    t.equal((await stat(eventsLog)).size, durableBytes, `${name}: cut back`);
    t.match(seen, [['events.log', Number, String]], `${name}: reported`);
    t.equal(await reopened.committedOffset(), 1, `${name}: the torn commit does not count`);
    t.same(
      (await reopened.readEvents()).map((e) => e.value),
      ['ea', 'eb'],
    );
    await reopened.commit(events(['c', 'ec again']), 2);
    t.same(
      (await reopened.readEvents(2)).map((e) => [e.index, e.value]),
      [[2, 'ec again']],
      `${name}: the retried commit takes its place`,
    );
    await reopened.close();
  }
});

t.test('damage before the last frame is corruption, not a torn write: open refuses and changes nothing', async (t) => {
  for (const file of ['commands.log', 'events.log']) {
    const dir = await tempDir(t);
    const log = await FileLog.open(dir);
    await log.append([bytesOf('first frame')]);
    await log.append([bytesOf('second frame')]);
    await log.commit(events(['k', 'first commit']), 0);
    await log.commit(events(['k', 'second commit']), 1);
    await log.close();
    const target = path.join(dir, file);
    const data = await readFile(target);
    data[HEADER_BYTES + 20] ^= 0x01; // inside the first frame; an intact frame follows
    await writeFile(target, data);
    await t.rejects(FileLog.open(dir), LogCorruptError, `${file}: refused`);
    t.equal((await stat(target)).size, data.length, `${file}: nothing truncated`);
  }
});

t.test('events committed past the end of commands.log are refused as lost command data', async (t) => {
  const dir = await tempDir(t);
  const log = await FileLog.open(dir);
  await log.append([bytesOf('a')]);
  await log.append([bytesOf('b')]);
  await log.commit(events(['b', 'eb']), 1);
  await log.close();
  const commandsLog = path.join(dir, 'commands.log');
  const firstFrameEnd = HEADER_BYTES + encodeCommandFrame(0, 0, [bytesOf('a')]).length;
  await truncate(commandsLog, firstFrameEnd); // as if the second append had never been durable
  await t.rejects(FileLog.open(dir), { name: 'LogCorruptError', message: /lost durable data/ });
});

t.test('a file that is not a log is refused', async (t) => {
  const dir = await tempDir(t);
  await writeFile(path.join(dir, 'commands.log'), "this is somebody else's file");
  await t.rejects(FileLog.open(dir), { name: 'LogCorruptError', message: /bad magic/ });
});

t.test('a header cut short while creating the file is rewritten', async (t) => {
  const dir = await tempDir(t);
  await writeFile(path.join(dir, 'commands.log'), Buffer.from('EXCMD'));
  await writeFile(path.join(dir, 'events.log'), Buffer.alloc(0));
  const log = await openLog(t, dir);
  t.same(await log.append([bytesOf('works')]), [0]);
});

t.test('concurrent producers: every record lands exactly once, each producer in its own order', async (t) => {
  const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
  t.comment(`seed ${seed}`);
  const prng = new Prng(seed);
  const dir = await tempDir(t);
  const log = await FileLog.open(dir);
  const PRODUCERS = 8;
  const APPENDS = 60;
  const acked = new Map<string, number>();
  await Promise.all(
    Array.from({ length: PRODUCERS }, async (_, k) => {
      const writer = log.writer();
      for (let i = 0; i < APPENDS; i++) {
        const n = prng.int(1, 5);
        const values = Array.from({ length: n }, (_, j) => `p${k}-${i}-${j}`);
        if (prng.chance(0.3)) await new Promise((r) => setTimeout(r, prng.int(0, 2)));
        const offsets = await writer.append(values.map(bytesOf));
        t.equal(offsets.length, n);
        offsets.forEach((offset, j) => acked.set(values[j], offset));
      }
      await writer.close();
      await t.rejects(writer.append([bytesOf('late')]), /closed/, 'a closed writer refuses');
    }),
  );
  await log.close();

  const reopened = await openLog(t, dir);
  const records = await reopened.readCommands(0);
  t.equal(records.length, acked.size, 'as many records as acknowledged values');
  t.ok(
    records.every((r, i) => r.offset === i),
    'offsets are consecutive from 0',
  );
  t.ok(
    records.every((r) => acked.get(textOf(r)) === r.offset),
    'each value sits at the offset its append returned',
  );
  t.equal(new Set(records.map(textOf)).size, records.length, 'no value twice');
  for (let k = 0; k < PRODUCERS; k++) {
    const mine = records.map(textOf).filter((v) => v.startsWith(`p${k}-`));
    const expected = Array.from({ length: APPENDS }, (_, i) => i).flatMap((i) =>
      mine.filter((v) => v.startsWith(`p${k}-${i}-`)),
    );
    t.same(mine, expected, `producer ${k}'s values are in its append order`);
  }
});

t.test('a failed write is rolled back and the append can be retried at the same offset', async (t) => {
  const dir = await tempDir(t);
  const log = await openLog(t, dir);
  await log.append([bytesOf('before')]);
  const sizeBefore = (await stat(path.join(dir, 'commands.log'))).size;
  await withFileHandlePatch(
    'write',
    async function (this: FileHandle, write, args) {
      // Half the frame reaches the file, then the disk is full.
      const [buffer, offset, length, position] = args as [Uint8Array, number, number, number];
      await write.call(this, buffer, offset, Math.floor(length / 2), position);
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    },
    async () => {
      await t.rejects(log.append([bytesOf('lost')]), { code: 'ENOSPC' });
      await t.rejects(log.commit(events(['k', 'v']), 0), { code: 'ENOSPC' });
    },
  );
  t.equal((await stat(path.join(dir, 'commands.log'))).size, sizeBefore, 'the partial frame was cut back off');
  t.same(await log.append([bytesOf('after')]), [1], 'the next append takes the offset the failed one did not get');
  await log.commit(events(['k', 'v']), 1);
  t.same((await log.readCommands(0)).map(textOf), ['before', 'after']);
  t.equal(await log.committedOffset(), 1);
});

t.test('a failed fsync makes the log refuse all further work (a retried fsync cannot be trusted)', async (t) => {
  const dir = await tempDir(t);
  const log = await openLog(t, dir);
  await log.append([bytesOf('durable')]);
  await withFileHandlePatch(
    'datasync',
    async () => {
      throw Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
    },
    async () => {
      await t.rejects(log.commit(events(['k', 'v']), 0), FileLogFailedError);
    },
  );
  await t.rejects(log.append([bytesOf('x')]), FileLogFailedError, 'appends refused');
  await t.rejects(log.commit(events(['k', 'v']), 0), FileLogFailedError, 'commits refused');
  await t.rejects(
    log.consume(0, 10, async () => {}),
    FileLogFailedError,
    'consume refused',
  );
  await log.close();
  const reopened = await openLog(t, dir);
  t.same((await reopened.readCommands(0)).map(textOf), ['durable'], 'a restart recovers from what is on disk');
});

t.test('close lets queued appends and commits finish, then refuses new work', async (t) => {
  const dir = await tempDir(t);
  const log = await FileLog.open(dir);
  await log.append([bytesOf('a')]);
  const appended = log.append([bytesOf('b'), bytesOf('c')]);
  const committed = log.commit(events(['a', 'ea']), 0);
  const closed = log.close();
  await t.rejects(log.append([bytesOf('late')]), /closed/, 'an append after close() is refused');
  await t.rejects(log.commit(events(['b', 'eb']), 1), /closed/, 'a commit after close() is refused');
  t.same(await appended, [1, 2]);
  await committed;
  await closed;
  await t.rejects(log.readCommands(0), /closed/, 'reads after close are refused');
  const reopened = await openLog(t, dir);
  t.same((await reopened.readCommands(0)).map(textOf), ['a', 'b', 'c']);
  t.equal(await reopened.committedOffset(), 0);
});

t.test('one process per data directory: a second open is refused until the first closes', async (t) => {
  const dir = await tempDir(t);
  const log = await FileLog.open(dir);
  await t.rejects(FileLog.open(dir), DirectoryLockedError);
  await t.rejects(FileLog.open(dir), { message: /held by this process/ });
  await log.close();
  await t.rejects(log.append([bytesOf('x')]), /closed/, 'a closed log refuses appends');
  const again = await openLog(t, dir);
  t.same(await again.append([bytesOf('x')]), [0]);
});

t.test('a lock left by a dead process is taken over; a live holder is reported by pid', async (t) => {
  const dir = await tempDir(t);
  const dead = spawn(process.execPath, ['-e', '']);
  const deadPid = dead.pid;
  await new Promise((resolve) => dead.on('exit', resolve));
  await writeFile(
    path.join(dir, 'LOCK'),
    JSON.stringify({ pid: deadPid, host: os.hostname(), startTicks: null, acquiredAt: 'then' }),
  );
  const log = await FileLog.open(dir);
  await log.close();

  const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
  t.teardown(() => live.kill('SIGKILL'));
  await writeFile(
    path.join(dir, 'LOCK'),
    JSON.stringify({ pid: live.pid, host: os.hostname(), startTicks: null, acquiredAt: 'now' }),
  );
  await t.rejects(FileLog.open(dir), { name: 'DirectoryLockedError', message: new RegExp(`pid ${live.pid}`) });
});

t.test('the CRC-32 fallback agrees with the native one', async (t) => {
  const prng = new Prng(7);
  for (const length of [0, 1, 3, 64, 1000]) {
    const bytes = new Uint8Array(length).map(() => prng.int(0, 255));
    t.equal(crc32Fallback(bytes), crc32(bytes), `length ${length}`);
  }
  t.equal(crc32Fallback(bytesOf('123456789')), 0xcbf43926, 'the standard check value');
});

t.test('a process SIGKILLed amid appends and commits leaves a log that reopens consistently', async (t) => {
  const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
  t.comment(`seed ${seed}`);
  const prng = new Prng(seed);
  const dir = await tempDir(t);
  const child = fileURLToPath(new URL('./file-log-crash-child.ts', import.meta.url));
  const ROUNDS = 5;
  for (let round = 0; round < ROUNDS; round++) {
    const delayMs = prng.int(20, 300);
    const out = await runAndKill(child, [dir, String(round)], delayMs);
    const acked = [...out.matchAll(/^acked (\d+) (\d+)$/gm)].map((m) => [Number(m[1]), Number(m[2])]);
    const committed = [...out.matchAll(/^committed (\d+)$/gm)].map((m) => Number(m[1]));

    const { opts, seen } = truncations();
    const log = await FileLog.open(dir, opts);
    const records = await log.readCommands(0);
    const values = records.map(textOf);
    const label = `round ${round} (killed after ${delayMs} ms, ${acked.length} acks, ${committed.length} commits, truncated ${JSON.stringify(seen)})`;
    t.ok(
      records.every((r, i) => r.offset === i),
      `${label}: command offsets consecutive`,
    );
    t.ok(
      records.every((r, i) => i === 0 || r.timestampMs >= records[i - 1].timestampMs),
      `${label}: timestamps non-decreasing`,
    );
    for (let k = 0; k < 3; k++) {
      const mine = values.filter((v) => v.startsWith(`r${round}p${k}-`)).map((v) => Number(v.split('-')[1])); // big values end in '-xxx…'
      t.ok(
        mine.every((i, j) => i === j),
        `${label}: producer ${k} has a gap-free prefix`,
      );
      const lastAcked = Math.max(-1, ...acked.filter(([p]) => p === k).map(([, i]) => i));
      t.ok(
        mine.length > lastAcked,
        `${label}: producer ${k}'s acknowledged appends (up to ${lastAcked}) survived (have ${mine.length})`,
      );
    }
    const committedOffset = await log.committedOffset();
    t.ok(committedOffset >= Math.max(-1, ...committed), `${label}: acknowledged commits survived`);
    t.ok(committedOffset < records.length, `${label}: commits cover existing commands only`);
    const evs = await log.readEvents(0);
    t.equal(evs.length, committedOffset + 1, `${label}: one event per committed command`);
    t.ok(
      evs.every((e, i) => e.key === String(i) && e.value === `ev:${values[i]}`),
      `${label}: event i is for command i, exactly once`,
    );
    const next = await log.append([bytesOf(`after round ${round}`)]);
    t.same(next, [records.length], `${label}: appends continue after the last command`);
    await log.close();
  }
});

type Method = (this: FileHandle, ...args: unknown[]) => Promise<unknown>;

/** Replaces a FileHandle method (for every handle) while `body` runs, to inject I/O errors. */
async function withFileHandlePatch(
  name: 'write' | 'datasync',
  replacement: (this: FileHandle, original: Method, args: unknown[]) => Promise<unknown>,
  body: () => Promise<void>,
): Promise<void> {
  const probe = await open(process.execPath, 'r');
  const proto = Object.getPrototypeOf(probe) as Record<string, Method>;
  await probe.close();
  const original = proto[name];
  proto[name] = function (this: FileHandle, ...args: unknown[]) {
    return replacement.call(this, original, args);
  };
  try {
    await body();
  } finally {
    proto[name] = original;
  }
}

function flipLastByte(frame: Buffer): Buffer {
  const copy = Buffer.from(frame);
  copy[copy.length - 1] ^= 0xff;
  return copy;
}

/** Runs the child, waits for "ready", SIGKILLs it `delayMs` later, and returns its stdout once it has exited. */
async function runAndKill(script: string, args: string[], delayMs: number): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  // 'close' comes after the exit (the pid is reaped, so its lock is stale) and after stdout is drained.
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const ready = await Promise.race([
    new Promise<boolean>((resolve) => {
      const check = (): void => {
        if (out.startsWith('ready\n')) resolve(true);
      };
      child.stdout.on('data', check);
    }),
    exited.then(() => false),
  ]);
  if (!ready) throw new Error(`crash child exited before it was ready: ${err}`);
  await new Promise((r) => setTimeout(r, delayMs));
  child.kill('SIGKILL');
  await exited;
  if (err.trim() !== '') throw new Error(`crash child wrote to stderr: ${err}`);
  return out;
}
