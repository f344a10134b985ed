// Command-id deduplication inside the engine's state: a producer that retries a command (same id) gets
// COMMAND_DUPLICATE_ID and no second effect, deterministically, across snapshots. The bounds of the memory
// (commandIdsMax, commandIdWindowMs) are tested in bounds.test.ts.

import t from 'tap';
import { restore, snapshot, snapshotJson } from '../../engine/core/index.js';
import { stateHash } from '../../engine/daemon/snapshot-store.js';
import { CommandIdMemory, idHash } from '../../engine/core/command-ids.js';
import type { Command } from '../../engine/core/index.js';
import { Prng } from '../../testkit/prng.js';
import { Fixture, USDC, depositCmd, resultOf } from './support.js';

function counterless(f: Fixture): string {
  const s = JSON.parse(new TextDecoder().decode(snapshotJson(f.engine))) as { counters: Record<string, number> };
  delete s.counters.eventSeq;
  delete s.counters.commandsApplied;
  delete s.counters.lastTimeMs;
  return JSON.stringify(s);
}

t.test('a retried command id has no second effect and answers COMMAND_DUPLICATE_ID', async (t) => {
  const f = new Fixture();
  t.match(resultOf(f.when(depositCmd('retry-me', 'd1'))), { status: 'accepted', cmdId: 'retry-me' });
  const before = counterless(f);
  // Even a different body: the id names the command, and a producer's retry is the same command.
  const events = f.when(depositCmd('retry-me', 'd2'));
  t.equal(events.length, 1, 'only the commandResult');
  t.match(resultOf(events), { status: 'rejected', code: 'COMMAND_DUPLICATE_ID', cmdId: 'retry-me', orderId: null });
  t.equal(counterless(f), before, 'state unchanged, the second deposit not credited');
  t.equal(f.balance(1, USDC).available, 5n, 'credited once');
});

t.test("a rejected command's id is taken too: its answer was given", async (t) => {
  const f = new Fixture();
  t.match(resultOf(f.when({ id: 'x', type: 'cancelOrder', userId: 1, orderId: 999 } as never)), {
    status: 'rejected',
    code: 'ORDER_NOT_FOUND',
  });
  t.match(resultOf(f.when(depositCmd('x', 'd1'))), { code: 'COMMAND_DUPLICATE_ID' });
});

t.test('a record that never decoded does not take its id', async (t) => {
  const f = new Fixture();
  t.match(resultOf(f.engine.applyInvalid('fixed-later', f.nowMs, 'COMMAND_MALFORMED')), {
    code: 'COMMAND_MALFORMED',
    cmdId: 'fixed-later',
  });
  t.match(
    resultOf(f.when(depositCmd('fixed-later', 'd1'))),
    { status: 'accepted' },
    'the corrected command is applied',
  );
});

t.test('the memory is part of the snapshot and the state hash', async (t) => {
  const f = new Fixture();
  f.when(depositCmd('kept', 'd1'));
  const copy = restore(snapshot(f.engine));
  t.equal(stateHash(copy), stateHash(f.engine), 'same hash after restore');
  const a = f.engine.apply({
    v: 1,
    id: 'kept',
    timeMs: f.nowMs + 1,
    type: 'deposit',
    userId: 1,
    assetId: USDC,
    amount: 5n,
    depositId: 'd9',
  });
  const b = copy.apply({
    v: 1,
    id: 'kept',
    timeMs: f.nowMs + 1,
    type: 'deposit',
    userId: 1,
    assetId: USDC,
    amount: 5n,
    depositId: 'd9',
  });
  t.match(resultOf(b), { code: 'COMMAND_DUPLICATE_ID' }, 'the restored engine still knows the id');
  t.same(b, a, 'and answers exactly as the original');
  t.equal(stateHash(copy), stateHash(f.engine));
  copy.commandIds.add('only-in-the-copy', copy.lastTimeMs);
  t.not(stateHash(copy), stateHash(f.engine), 'the hash covers the remembered ids');
});

t.test(
  'the hash-table memory answers exactly as a FIFO of ids would, through growth, eviction and expiry',
  async (t) => {
    // Few distinct ids (so repeats are common) and small capacities (so eviction, wrap-around and backward-shift
    // deletion run often); the reference is the obvious Set plus FIFO. The last runs use ids of 1-128
    // characters, so the text the ids are kept in wraps around and grows while entries come and go.
    for (const [max, windowMs, seed, longIds] of [
      [1, 50, 1, false],
      [7, 1_000_000, 2, false],
      [1500, 400, 3, false],
      [3000, 1_000_000, 4, false],
      [700, 1_000_000, 5, true],
      [5000, 300, 6, true],
    ] as const) {
      const rng = new Prng(seed);
      const memory = new CommandIdMemory(max, windowMs);
      const fifo: Array<[string, number]> = [];
      const live = new Set<string>();
      const dropOldest = (): void => {
        live.delete((fifo.shift() as [string, number])[0]);
      };
      let nowMs = 0;
      let mismatches = 0;
      for (let i = 0; i < 20_000; i++) {
        nowMs += rng.nextUint32() % 3;
        const n = rng.nextUint32() % 4000;
        // A long id's length follows from its number, so a repeat is the same id.
        const id = longIds ? `c${n}`.padEnd(1 + ((n * 7919) % 128), '~') : `c${n}`;
        while (fifo.length > 0 && nowMs - fifo[0][1] >= windowMs) dropOldest();
        const expected = live.has(id);
        if (!expected) {
          if (fifo.length === max) dropOldest();
          fifo.push([id, nowMs]);
          live.add(id);
        }
        if (memory.seenOrAdd(id, nowMs) !== expected) mismatches++;
      }
      t.equal(
        mismatches,
        0,
        `max ${max}, window ${windowMs} ms, seed ${seed}${longIds ? ', ids of 1-128 characters' : ''}: no wrong answer`,
      );
      t.equal(JSON.stringify(memory.entries()), JSON.stringify(fifo), 'the same ids and times, oldest first');
      const copy = new CommandIdMemory(max, windowMs);
      for (const [id, timeMs] of memory.entries()) copy.add(id, timeMs);
      t.ok(
        fifo.every(([id]) => copy.has(id)),
        'rebuilt from its entries, it knows every id',
      );
      // A binary snapshot's restore loads the joined bytes in bulk: the same memory.
      const loaded = new CommandIdMemory(max, windowMs);
      loaded.load(
        memory.joinedIds(),
        memory.entries().map(([, timeMs]) => timeMs),
      );
      t.equal(JSON.stringify(loaded.entries()), JSON.stringify(fifo), 'loaded in bulk: the same entries');
      t.ok(
        fifo.every(([id]) => loaded.has(id)) && !loaded.has('never-added'),
        'loaded in bulk, it knows every id and no other',
      );
    }
  },
);

t.test('the id hash is the same on every run (the table layout may differ, the answers may not)', async (t) => {
  t.equal(idHash(''), 0x811c9dc5, 'the offset basis');
  t.equal(idHash('a'), 0xe40c292c, 'FNV-1a ("a")');
});

t.test('two ids with the same hash are told apart by their text', async (t) => {
  // A 32-bit FNV-1a collision found by a search over `cmd-N`: the table sees one hash, the ids differ.
  const [a, b] = ['cmd-449599', 'cmd-612382'];
  t.equal(idHash(a), idHash(b), 'the two ids collide');
  const memory = new CommandIdMemory(4, 1_000_000);
  t.notOk(memory.seenOrAdd(a, 0), 'the first is new');
  t.notOk(memory.seenOrAdd(b, 1), 'the second is new too, though its hash is known');
  t.ok(memory.seenOrAdd(a, 2) && memory.seenOrAdd(b, 3), 'both are repeats afterwards');
  // Evicting the first (the oldest) must remove its own slot, not its twin's.
  for (const id of ['x', 'y', 'z']) memory.seenOrAdd(id, 4);
  t.notOk(memory.has(a), 'the oldest is forgotten');
  t.ok(memory.has(b), 'its twin is still known');
});

/** `count` ids of `length` characters, numbered from `from`, as the byte ring stores them. */
const ids = (from: number, count: number, length: number): string[] =>
  Array.from({ length: count }, (_, i) => `id${from + i}-`.padEnd(length, 'x'));

t.test(
  'ids that wrap past the end of the byte ring, and a ring that grows while wrapped, keep their text',
  async (t) => {
    const memory = new CommandIdMemory(1000, 1_000_000);
    const ringBytes = memory.ringBytes;
    const reference: Array<[string, number]> = [];
    const add = (id: string, timeMs: number): void => {
      t.notOk(memory.seenOrAdd(id, timeMs), `${id.slice(0, 8)} is new`);
      reference.push([id, timeMs]);
      if (reference.length > 1000) reference.shift();
    };
    // 1,000 ids of 60 bytes fill the memory (60,000 bytes of the ring); each id of 128 then evicts one of 60, so
    // the write position passes the ring's end (an id split across it) before the live bytes outgrow the ring.
    for (const id of ids(0, 1000, 60)) add(id, 1);
    t.equal(memory.ringBytes, ringBytes, 'full at max, the ring has not grown');
    let wrapped = false;
    for (const id of ids(1000, 200, 128)) {
      add(id, 2);
      if (memory.ringBytes === ringBytes) wrapped ||= reference.length === 1000;
    }
    t.ok(
      wrapped && memory.ringBytes === 2 * ringBytes,
      'it wrapped, then doubled with live ids on both sides of the end',
    );
    t.equal(JSON.stringify(memory.entries()), JSON.stringify(reference), 'every live id and time, oldest first');
    t.ok(
      reference.every(([id]) => memory.seenOrAdd(id, 3)),
      'each is a repeat',
    );
    t.notOk(memory.has(ids(199, 1, 60)[0]), 'an evicted id is forgotten');
    const joined = new TextDecoder().decode(memory.joinedIds());
    t.equal(joined, reference.map(([id]) => id).join('\n'), 'the snapshot bytes: the ids joined by a newline');
  },
);

t.test('eviction at max and expiry free the oldest ids first, with their bytes', async (t) => {
  const memory = new CommandIdMemory(3, 100);
  for (const [i, id] of ['a', 'bb', 'ccc', 'dddd'].entries()) memory.seenOrAdd(id, i);
  t.same(
    memory.entries(),
    [
      ['bb', 1],
      ['ccc', 2],
      ['dddd', 3],
    ],
    'the fourth id evicted the first',
  );
  t.notOk(memory.has('a'), 'the evicted id is forgotten');
  memory.expire(102);
  t.same(memory.entries(), [['dddd', 3]], 'ids of time 1 and 2 are 100 ms old at 102: expired; time 3 is not');
  t.notOk(memory.seenOrAdd('bb', 102), 'an expired id is new again');
  memory.expire(1_000);
  t.equal(memory.size, 0, 'all expired');
  t.equal(new TextDecoder().decode(memory.joinedIds()), '', 'no bytes left');
  t.notOk(memory.seenOrAdd('dddd', 1_000), 'and the memory is usable after emptying');
});

t.test('a bulk load keeps the newest max ids, as adding them one by one would', async (t) => {
  const source = new CommandIdMemory(10, 1_000_000);
  for (const id of ids(0, 10, 20)) source.add(id, 5);
  const times = source.entries().map(([, timeMs]) => timeMs);
  const small = new CommandIdMemory(4, 1_000_000);
  small.load(source.joinedIds(), times);
  const oneByOne = new CommandIdMemory(4, 1_000_000);
  for (const [id, timeMs] of source.entries()) oneByOne.add(id, timeMs);
  t.same(small.entries(), oneByOne.entries(), 'the same four newest ids');
  t.equal(small.size, 4);
});

t.test('a bulk load refuses bytes this engine never wrote', async (t) => {
  const enc = (text: string): Uint8Array => new TextEncoder().encode(text);
  const load = (text: string | Uint8Array, times: number[]): void =>
    new CommandIdMemory(10, 1_000_000).load(typeof text === 'string' ? enc(text) : text, times);
  t.doesNotThrow(() => load('a\nb', [1, 2]), 'two ids, two times');
  t.doesNotThrow(() => load('', []), 'none');
  t.throws(() => load('a\nb', [1]), { message: /no bytes past the last id/ }, 'more ids than times');
  t.throws(() => load('a', [1, 2]), { message: /1-128 bytes/ }, 'fewer ids than times');
  t.throws(() => load('a\n\nb', [1, 2, 3]), { message: /1-128 bytes/ }, 'an empty id');
  t.throws(() => load('x'.repeat(129), [1]), { message: /1-128 bytes/ }, 'an id of 129 bytes');
  t.throws(() => load('a b', [1]), { message: /printable/ }, 'a space');
  t.throws(() => load(new Uint8Array([0x61, 0xc3, 0xa9]), [1]), { message: /printable/ }, 'a non-ASCII byte');
  t.throws(() => load('a\nb\na', [1, 2, 3]), { message: /each command id once/ }, 'a repeated id');
  t.throws(
    () => {
      const m = new CommandIdMemory(10, 1_000_000);
      m.add('x', 0);
      m.load(enc('a'), [1]);
    },
    { message: /empty memory/ },
    'into a memory that already holds ids',
  );
});

t.test('equal histories give equal state hashes, however the byte ring is laid out', async (t) => {
  // A small memory whose ring has wrapped (ids evicted at max), and its copy restored from the binary snapshot,
  // whose ring is packed from byte 0: the same ids and times, the same hash, before and after more commands.
  const commandIdsMax = 700;
  const f = new Fixture({ limits: { commandIdsMax } });
  for (let i = 0; i < 2000; i++) f.when(depositCmd(`dep-${i}-`.padEnd(100, 'z'), `d${i}`));
  t.equal(f.engine.commandIds.size, commandIdsMax, 'full');
  const copy = restore(snapshot(f.engine));
  t.equal(stateHash(copy), stateHash(f.engine), 'the restored copy: the same hash');
  const twin = new Fixture({ limits: { commandIdsMax }, empty: true });
  for (const cmd of f.applied) twin.engine.apply(cmd);
  t.equal(stateHash(twin.engine), stateHash(f.engine), 'the same commands from the start: the same hash');
  for (let i = 0; i < 300; i++) {
    const cmd = depositCmd(`more-${i}`, `m${i}`);
    const a = f.when(cmd);
    t.same(copy.apply({ ...cmd, v: 1, timeMs: f.nowMs } as Command), a, `more-${i}: the same events`);
  }
  t.equal(stateHash(copy), stateHash(f.engine), 'after 300 more commands: the same hash');
});
