// The daemon's snapshot write does not hold the event loop for the whole book: the engine's snapshot is encoded in
// slices of orders and the file's SHA-256 in slices of bytes, with the event loop's timers (the lease's renewals)
// run between them, and the bytes are the same as encoded in one go.

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { restore, snapshot } from '../../engine/core/index.js';
import { encodeSnapshot } from '../../engine/daemon/snapshot-encode.js';
import { SnapshotStore } from '../../engine/daemon/snapshot-store.js';
import { Fixture } from '../engine/support.js';

/** An engine with `count` resting orders of one user, on levels 1000.. and 3000.. */
function bookOf(count: number): Fixture {
  const f = new Fixture();
  for (const user of [1, 2]) f.fund(user, { weth: '1000', usdc: '10000000' });
  for (let i = 0; i < count / 2; i++) {
    f.rest(1, 'buy', String(1000 + i), '1');
    f.rest(2, 'sell', String(3000 + i), '1');
  }
  return f;
}

t.test(
  'given a book, when it is encoded in slices, then the bytes are snapshot()s and timers ran between',
  async (t) => {
    const f = bookOf(200);
    // A timer that keeps re-arming itself stands for the lease's renewals falling due during the encoding.
    let ticks = 0;
    let armed = true;
    const tick = (): void => {
      ticks++;
      if (armed) setTimeout(tick, 0);
    };
    setTimeout(tick, 0);
    const encoded = await encodeSnapshot(f.engine, 20);
    armed = false;
    t.same(encoded.bytes, snapshot(f.engine), 'the bytes of one go');
    t.equal(encoded.slices, 200 / 20 + 2, 'a slice per 20 orders, one for the command ids and the end');
    t.ok(ticks >= encoded.slices - 1, `the timer ran ${ticks} times while ${encoded.slices} slices were encoded`);
    t.ok(encoded.sliceMsMax >= 0, `the longest slice took ${encoded.sliceMsMax.toFixed(1)} ms`);
  },
);

t.test('a body larger than a hash slice is stored, verifies and loads back, with timers run meanwhile', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'snapshot-encode-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const store = new SnapshotStore({ dir });
  const f = bookOf(20);
  // Padding past three 8 MB hash slices; only the checksum's slicing is under test, so any bytes do.
  const body = new Uint8Array(25 * 1024 * 1024).map((_, i) => (i * 31) & 0xff);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 0);
  await store.write(body, 7);
  clearInterval(timer);
  t.ok(ticks >= 2, `the timer ran ${ticks} times during the write`);
  const loaded = await store.loadNewest();
  t.equal(loaded?.offset, 7);
  t.ok(loaded !== null && Buffer.from(loaded.bytes).equals(body), 'the same bytes, checksum verified');
  await store.write(snapshot(f.engine), 8);
  const newest = await store.loadNewest();
  t.equal(newest?.offset, 8);
  t.same(snapshot(restore(newest?.bytes ?? new Uint8Array())), snapshot(f.engine), 'and an engine snapshot restores');
});
