// The snapshot store keeps the newest few snapshots and, on load, skips any that a crash or a bad disk damaged,
// falling back to the previous one.

import { mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { SnapshotStore, fileName } from '../../engine/daemon/snapshot-store.js';

const bytesOf = (text: string): Uint8Array => new TextEncoder().encode(text);
const textOf = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

async function tempDir(t: Test): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'snapshot-store-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A store whose skipped files are collected as [file name, reason]. */
function storeIn(dir: string, keep?: number): { store: SnapshotStore; skipped: Array<[string, string]> } {
  const skipped: Array<[string, string]> = [];
  const store = new SnapshotStore({ dir, keep, onSkip: (p, reason) => skipped.push([path.basename(p), reason]) });
  return { store, skipped };
}

t.test('a written snapshot loads back with its bytes and offset', async (t) => {
  const dir = await tempDir(t);
  const { store } = storeIn(path.join(dir, 'nested', 'snapshots'));
  t.equal(await store.loadNewest(), null, 'an empty (even missing) directory has no snapshot');
  const body = new Uint8Array(10_000).map((_, i) => (i * 7) & 0xff);
  await store.write(body, 41);
  await store.write(bytesOf('newer'), 99);
  const loaded = await store.loadNewest();
  t.equal(loaded?.offset, 99);
  t.equal(textOf(loaded!.bytes), 'newer');
  t.equal(path.basename(loaded!.path), fileName(99));
  const all = [];
  for await (const s of store.loadAll()) all.push([s.offset, s.bytes.length]);
  t.same(
    all,
    [
      [99, 5],
      [41, 10_000],
    ],
    'loadAll is newest first',
  );
  t.same((await store.loadAll().next()).value?.bytes, bytesOf('newer'));
});

t.test('an empty snapshot body round-trips', async (t) => {
  const { store } = storeIn(await tempDir(t));
  await store.write(new Uint8Array(0), 0);
  const loaded = await store.loadNewest();
  t.equal(loaded?.offset, 0);
  t.equal(loaded?.bytes.length, 0);
});

t.test('only the newest `keep` snapshots are kept, by offset', async (t) => {
  const dir = await tempDir(t);
  const { store } = storeIn(dir, 2);
  for (const offset of [5, 10, 15, 20]) await store.write(bytesOf(`at ${offset}`), offset);
  t.same((await readdir(dir)).sort(), [fileName(15), fileName(20)]);
  const { store: defaultStore } = storeIn(await tempDir(t));
  for (let offset = 0; offset < 6; offset++) await defaultStore.write(bytesOf(`at ${offset}`), offset);
  t.same(
    (await defaultStore.list()).map((f) => f.offset),
    [5, 4, 3],
    'the default keeps 3',
  );
});

t.test('offsets order snapshots numerically, not by write time', async (t) => {
  const { store } = storeIn(await tempDir(t), 5);
  await store.write(bytesOf('big'), 1_000_000);
  await store.write(bytesOf('small'), 9);
  t.equal((await store.loadNewest())?.offset, 1_000_000);
});

t.test('a truncated newest snapshot is skipped for the previous one', async (t) => {
  const dir = await tempDir(t);
  const { store, skipped } = storeIn(dir);
  await store.write(bytesOf('old state'), 100);
  await store.write(bytesOf('new state, about to be cut short'), 200);
  const newest = path.join(dir, fileName(200));
  await truncate(newest, (await stat(newest)).size - 3);
  const loaded = await store.loadNewest();
  t.equal(loaded?.offset, 100);
  t.equal(textOf(loaded!.bytes), 'old state');
  t.equal(skipped.length, 1);
  t.equal(skipped[0][0], fileName(200));
  t.match(skipped[0][1], /length mismatch/);
});

t.test('a newest snapshot cut inside its header is skipped', async (t) => {
  const dir = await tempDir(t);
  const { store, skipped } = storeIn(dir);
  await store.write(bytesOf('old'), 1);
  await store.write(bytesOf('new'), 2);
  await truncate(path.join(dir, fileName(2)), 20);
  t.equal((await store.loadNewest())?.offset, 1);
  t.match(skipped, [[fileName(2), /truncated/]]);
});

t.test('a bit flip anywhere in the newest snapshot is detected and skipped', async (t) => {
  const dir = await tempDir(t);
  const { store, skipped } = storeIn(dir);
  await store.write(bytesOf('old state'), 100);
  await store.write(bytesOf('new state'), 200);
  const newest = path.join(dir, fileName(200));
  const original = await readFile(newest);
  // Body bytes, the stored digest, the offset field and the length field.
  for (const at of [original.length - 1, 65, 40, 19, 27]) {
    const flipped = Buffer.from(original);
    flipped[at] ^= 0x10;
    await writeFile(newest, flipped);
    skipped.length = 0;
    const loaded = await store.loadNewest();
    t.equal(loaded?.offset, 100, `flip at byte ${at} falls back`);
    t.equal(skipped.length, 1, `flip at byte ${at} is reported`);
    t.match(skipped[0][1], /checksum mismatch|length mismatch/);
  }
});

t.test('a snapshot renamed to another offset is rejected', async (t) => {
  const dir = await tempDir(t);
  const { store, skipped } = storeIn(dir);
  await store.write(bytesOf('covers 7'), 7);
  await writeFile(path.join(dir, fileName(8)), await readFile(path.join(dir, fileName(7))));
  t.equal((await store.loadNewest())?.offset, 7);
  t.match(skipped, [[fileName(8), /offset mismatch/]]);
});

t.test('a leftover temp file is ignored by load and removed by the next write', async (t) => {
  const dir = await tempDir(t);
  const { store, skipped } = storeIn(dir);
  await store.write(bytesOf('durable'), 10);
  // What a crash between writing the temp file and renaming it leaves: complete, newer, but never published.
  const temp = `${fileName(20)}.tmp-12345-1`;
  await writeFile(path.join(dir, temp), await readFile(path.join(dir, fileName(10))));
  const loaded = await store.loadNewest();
  t.equal(loaded?.offset, 10);
  t.same(skipped, [], 'a temp file is not a snapshot, so it is not even reported');
  await store.write(bytesOf('next'), 30);
  t.notOk((await readdir(dir)).includes(temp), 'the next write cleans it up');
});

t.test('accept() falls back to an older snapshot when a valid one does not restore', async (t) => {
  const { store, skipped } = storeIn(await tempDir(t));
  await store.write(bytesOf('good'), 1);
  await store.write(bytesOf('semantically bad'), 2);
  const tried: string[] = [];
  const loaded = await store.loadNewest((bytes) => {
    tried.push(textOf(bytes));
    return textOf(bytes) === 'good';
  });
  t.equal(loaded?.offset, 1);
  t.same(tried, ['semantically bad', 'good']);
  t.match(skipped, [[fileName(2), /rejected/]]);
  t.equal(await store.loadNewest(() => false), null, 'none accepted: null');
});

t.test('concurrent writes are serialized and all land', async (t) => {
  const dir = await tempDir(t);
  const { store } = storeIn(dir, 10);
  await Promise.all([1, 2, 3, 4, 5].map((offset) => store.write(bytesOf(`s${offset}`), offset)));
  t.same(
    (await store.list()).map((f) => f.offset),
    [5, 4, 3, 2, 1],
  );
  t.same(
    (await readdir(dir)).filter((n) => n.includes('.tmp-')),
    [],
  );
});

t.test('bad arguments are refused', async (t) => {
  t.throws(() => new SnapshotStore({ dir: 'x', keep: 0 }), RangeError);
  const { store } = storeIn(await tempDir(t));
  await t.rejects(store.write(bytesOf('x'), -1), RangeError);
  await t.rejects(store.write(bytesOf('x'), 1.5), RangeError);
});
