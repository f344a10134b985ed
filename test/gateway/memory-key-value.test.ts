// The in-process KeyValueStore on an injected clock: Redis's expiry rule at the boundary, the entry bound in both
// modes (refuse a new key when full of live entries / evict the least recently written), expired entries making
// room, and a seeded random sequence against a naive model (an unbounded map with expiries). The same semantics
// against a real Redis: key-value.int.test.ts. MEMKV_SEED=<seed> replays the random sequence.

import t from 'tap';
import { StoreFullError } from '../../gateway/stores/key-value.js';
import { MemoryKeyValueStore } from '../../gateway/stores/memory-key-value.js';
import type { MemoryStoreOptions } from '../../gateway/stores/memory-key-value.js';
import { memoryStores } from '../../gateway/stores/gateway-stores.js';
import { Prng } from '../../testkit/prng.js';

function store(opts: Partial<MemoryStoreOptions> = {}): { kv: MemoryKeyValueStore; clock: { ms: number } } {
  const clock = { ms: 1_000_000 };
  return {
    kv: new MemoryKeyValueStore({ name: 'test', entriesMax: 1000, whenFull: 'reject', nowMs: () => clock.ms, ...opts }),
    clock,
  };
}

t.test('a key lives until the clock passes its expiry (alive at exactly the expiry, as in Redis)', async (t) => {
  const { kv, clock } = store();
  t.equal(await kv.setIfAbsent('k', 'v', 100), true);
  clock.ms += 100;
  t.equal(await kv.get('k'), 'v', 'alive at exactly now + ttl');
  t.equal(await kv.setIfAbsent('k', 'w', 100), false, 'still present for set-if-absent');
  clock.ms += 1;
  t.equal(await kv.get('k'), null, 'gone one millisecond later');
  t.equal(kv.size, 0, 'reading an expired key drops it');
  t.equal(await kv.setIfAbsent('k', 'w', 100), true, 'an expired key is absent');
  t.equal(await kv.get('k'), 'w');
});

t.test('set-if-absent on a live key changes neither its value nor its expiry', async (t) => {
  const { kv, clock } = store();
  await kv.setIfAbsent('k', 'first', 100);
  clock.ms += 50;
  t.equal(await kv.setIfAbsent('k', 'second', 10_000), false);
  clock.ms += 51;
  t.equal(await kv.get('k'), null, 'the first expiry still holds');
});

t.test('set replaces the value and the expiry, and takes no new room', async (t) => {
  const { kv, clock } = store({ entriesMax: 1 });
  await kv.set('k', 'a', 100);
  await kv.set('k', 'b', 1000);
  clock.ms += 500;
  t.equal(await kv.get('k'), 'b');
  await kv.set('k', 'c', 10);
  clock.ms += 11;
  t.equal(await kv.get('k'), null, 'a shorter expiry replaces a longer one');
});

t.test(
  'whenFull reject: a new key in a store full of live entries is refused; expired entries make room',
  async (t) => {
    const { kv, clock } = store({ entriesMax: 3, fullSweepIntervalMs: 1000 });
    await kv.setIfAbsent('a', '1', 10_000);
    await kv.setIfAbsent('b', '1', 5);
    await kv.setIfAbsent('c', '1', 10_000);
    await t.rejects(kv.setIfAbsent('d', '1', 10_000), StoreFullError, 'full of live entries');
    await t.rejects(kv.set('d', '1', 10_000), StoreFullError, 'set of a new key too');
    t.equal(await kv.setIfAbsent('a', '2', 10_000), false, 'a key already held still answers');
    await kv.set('c', '2', 10_000);
    t.equal(await kv.get('c'), '2', 'replacing a held key needs no room');
    t.equal(kv.size, 3);
    clock.ms += 10;
    // b (in the middle: the front entry is live) expired; the full scan ran at the refusal above, less than the
    // sweep interval ago, so the store still refuses until the interval has passed.
    await t.rejects(kv.setIfAbsent('d', '1', 10_000), StoreFullError, 'full scans are rate limited');
    clock.ms += 1000;
    t.equal(await kv.setIfAbsent('d', '1', 10_000), true, 'the full scan dropped the expired entry');
    t.equal(kv.size, 3, 'never above the bound');
    t.equal(await kv.get('b'), null);
    t.equal(await kv.get('a'), '1');
  },
);

t.test('whenFull evictOldest: the least recently written entry makes room', async (t) => {
  const { kv } = store({ entriesMax: 2, whenFull: 'evictOldest' });
  await kv.set('a', '1', 10_000);
  await kv.set('b', '1', 10_000);
  await kv.set('a', '2', 10_000); // a is now the newest write
  await kv.set('c', '1', 10_000);
  t.same([await kv.get('a'), await kv.get('b'), await kv.get('c')], ['2', null, '1']);
  t.equal(await kv.setIfAbsent('d', '1', 10_000), true);
  t.same([await kv.get('a'), await kv.get('c'), await kv.get('d')], [null, '1', '1']);
  t.equal(kv.size, 2);
});

t.test('expired entries at the front are dropped on every write', async (t) => {
  const { kv, clock } = store();
  for (let i = 0; i < 100; i++) await kv.set(`k${i}`, 'v', 10);
  clock.ms += 11;
  await kv.set('new', 'v', 10);
  t.equal(kv.size, 1, 'the hundred expired entries are gone without being read');
});

t.test('a ttl Redis would refuse is refused', async (t) => {
  const { kv } = store();
  for (const ttl of [0, -1, 1.5, Number.NaN]) await t.rejects(kv.setIfAbsent('k', 'v', ttl), RangeError, `ttl ${ttl}`);
  t.throws(() => new MemoryKeyValueStore({ name: 'x', entriesMax: 0, whenFull: 'reject' }), RangeError);
});

t.test(
  'memoryStores: signatures refuse when full, command records evict, and neither crowds out the other',
  async (t) => {
    const stores = memoryStores({ signaturesMax: 2, commandRecordsMax: 2 });
    t.equal(stores.kind, 'memory');
    for (let i = 0; i < 5; i++) await stores.commands.set(`cmd:${i}`, 'r', 60_000);
    t.equal(await stores.commands.get('cmd:4'), 'r');
    t.equal(await stores.commands.get('cmd:0'), null, 'the oldest record is forgotten');
    t.equal(await stores.signatures.setIfAbsent('sig:a', '1', 60_000), true);
    t.equal(await stores.signatures.setIfAbsent('sig:b', '1', 60_000), true);
    await t.rejects(
      stores.signatures.setIfAbsent('sig:c', '1', 60_000),
      StoreFullError,
      'a live signature is never forgotten',
    );
    await stores.ping();
  },
);

t.test('memoryStores: a full rate-limit counter store forgets the least recently counted key', async (t) => {
  const stores = memoryStores({ rateLimitCountersMax: 2 });
  const countIp = async (ip: string) =>
    (await stores.admission.admit({ ip: { key: ip, max: 10 }, signature: null, principal: null, windowMs: 60_000 })).ip
      ?.count;
  t.same([await countIp('a'), await countIp('a'), await countIp('b')], [1, 2, 1]);
  t.equal(await countIp('c'), 1, 'a third key: the store is full');
  t.equal(await countIp('a'), 1, 'a was the least recently counted: forgotten, its count restarts');
  t.equal(await countIp('c'), 2, 'c is still counted');
});

t.test('a seeded random sequence agrees with a naive model', async (t) => {
  const seed = Number(process.env.MEMKV_SEED ?? Date.now() % 1_000_000);
  t.comment(`seed ${seed} (MEMKV_SEED replays it)`);
  const r = new Prng(seed);
  const { kv, clock } = store({ entriesMax: 1_000_000 });
  const model = new Map<string, { value: string; expiresMs: number }>();
  const modelLive = (k: string) => {
    const e = model.get(k);
    return e !== undefined && clock.ms <= e.expiresMs ? e : undefined;
  };
  let mismatches = 0;
  for (let i = 0; i < 20_000; i++) {
    clock.ms += r.int(0, 20);
    const key = `k${r.int(0, 30)}`;
    const value = `v${i}`;
    const ttl = r.int(1, 200);
    switch (r.int(0, 2)) {
      case 0: {
        const fresh = modelLive(key) === undefined;
        if (fresh) model.set(key, { value, expiresMs: clock.ms + ttl });
        if ((await kv.setIfAbsent(key, value, ttl)) !== fresh) mismatches++;
        break;
      }
      case 1:
        model.set(key, { value, expiresMs: clock.ms + ttl });
        await kv.set(key, value, ttl);
        break;
      default:
        if ((await kv.get(key)) !== (modelLive(key)?.value ?? null)) mismatches++;
    }
  }
  t.equal(mismatches, 0, `seed ${seed}`);
});
