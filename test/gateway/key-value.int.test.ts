// One contract, run against both KeyValueStores: Redis (a real server, keys under a prefix of this run, deleted at
// the end) and in-process memory (real clock). The in-process store must behave as Redis's SET NX PX / SET PX /
// GET do, since the gateway treats them as interchangeable. Expiry waits are generous (a loaded machine only
// makes a short-lived key older, never younger; the keys that must still be there live for minutes).

import { randomBytes } from 'node:crypto';
import t from 'tap';
import { Redis } from 'ioredis';
import type { AdmissionStore } from '../../gateway/stores/admission-store.js';
import { memoryStores } from '../../gateway/stores/gateway-stores.js';
import type { KeyValueStore } from '../../gateway/stores/key-value.js';
import { MemoryKeyValueStore } from '../../gateway/stores/memory-key-value.js';
import { RedisAdmissionStore } from '../../gateway/stores/redis-admission.js';
import { RedisKeyValueStore } from '../../gateway/stores/redis-key-value.js';
import { REDIS_URL, deleteKeys } from './support.js';

const LONG_MS = 120_000;
const SHORT_MS = 1500;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
const prefix = `test:kv:${process.pid}:${randomBytes(3).toString('hex')}:`;
t.teardown(async () => {
  await deleteKeys(redis, prefix);
  redis.disconnect();
});

const impls: [string, KeyValueStore][] = [
  ['redis', new RedisKeyValueStore(redis)],
  ['memory', new MemoryKeyValueStore({ name: 'contract', entriesMax: 10_000, whenFull: 'reject' })],
];

for (const [name, kv] of impls) {
  // Both implementations under one prefix would collide in Redis only; the memory one is separate anyway.
  const k = (key: string): string => `${prefix}${name}:${key}`;

  t.test(`${name}: set-if-absent = SET NX PX`, async (t) => {
    t.equal(await kv.get(k('nx')), null, 'absent: null');
    t.equal(await kv.setIfAbsent(k('nx'), 'first', LONG_MS), true, 'absent: stored');
    t.equal(await kv.setIfAbsent(k('nx'), 'second', LONG_MS), false, 'present: refused');
    t.equal(await kv.get(k('nx')), 'first', 'present: the value is unchanged');
    t.equal(await kv.setIfAbsent(k('empty'), '', LONG_MS), true);
    t.equal(await kv.get(k('empty')), '', 'an empty value is a value, not absence');
    t.equal(await kv.setIfAbsent(k('empty'), 'x', LONG_MS), false);
    const text = 'ünïcødé 💥 {"json":true}';
    await kv.setIfAbsent(k('text'), text, LONG_MS);
    t.equal(await kv.get(k('text')), text, 'any text round-trips');
  });

  t.test(`${name}: exactly one of many concurrent set-if-absent wins`, async (t) => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => kv.setIfAbsent(k('race'), `v${i}`, LONG_MS)),
    );
    t.equal(results.filter((r) => r).length, 1);
    const winner = results.indexOf(true);
    t.equal(await kv.get(k('race')), `v${winner}`, "the winner's value is stored");
  });

  t.test(`${name}: expiry, and set-if-absent does not extend it`, async (t) => {
    t.equal(await kv.setIfAbsent(k('ttl'), 'a', SHORT_MS), true);
    t.equal(await kv.setIfAbsent(k('ttl'), 'b', LONG_MS), false, 'refused while present');
    await kv.set(k('longer'), 'x', SHORT_MS);
    await kv.set(k('longer'), 'y', LONG_MS);
    await kv.set(k('shorter'), 'x', LONG_MS);
    await kv.set(k('shorter'), 'y', SHORT_MS);
    await sleep(SHORT_MS + 1000);
    t.equal(await kv.get(k('ttl')), null, 'expired at the first ttl: the refused call did not extend it');
    t.equal(await kv.setIfAbsent(k('ttl'), 'c', LONG_MS), true, 'an expired key is absent');
    t.equal(await kv.get(k('ttl')), 'c');
    t.equal(await kv.get(k('longer')), 'y', 'set replaced the expiry with a longer one');
    t.equal(await kv.get(k('shorter')), null, 'set replaced the expiry with a shorter one');
  });

  t.test(`${name}: set overwrites, present or not`, async (t) => {
    await kv.set(k('set'), 'a', LONG_MS);
    await kv.set(k('set'), 'b', LONG_MS);
    t.equal(await kv.get(k('set')), 'b');
    t.equal(await kv.setIfAbsent(k('set'), 'c', LONG_MS), false);
  });

  t.test(`${name}: increment counts from 1 in a window fixed by the first count; delete removes`, async (t) => {
    const counts = await Promise.all(Array.from({ length: 20 }, () => kv.increment(k('count'), LONG_MS)));
    t.same(
      counts.sort((a, b) => a - b),
      Array.from({ length: 20 }, (_, i) => i + 1),
      'concurrent increments each get their own count',
    );
    t.equal(await kv.get(k('count')), '20');
    t.equal(await kv.increment(k('window'), SHORT_MS), 1);
    await sleep(SHORT_MS / 2);
    t.equal(await kv.increment(k('window'), LONG_MS), 2, 'a later increment does not extend the window');
    await sleep(SHORT_MS / 2 + 1000);
    t.equal(await kv.get(k('window')), null, "the window ended at the first count's ttl");
    t.equal(await kv.increment(k('window'), LONG_MS), 1, 'and counting starts again');
    await kv.delete(k('count'));
    await kv.delete(k('never-there'));
    t.equal(await kv.get(k('count')), null);
  });

  t.test(`${name}: a ttl Redis refuses is refused`, async (t) => {
    for (const ttl of [0, -5, 2.5]) await t.rejects(kv.setIfAbsent(k('bad'), 'v', ttl), `ttl ${ttl}`);
    t.equal(await kv.get(k('bad')), null, 'nothing stored');
  });
}

// The admission step (IP limit, signature, principal limit in one call): the same contract on both stores.
const admissions: [string, AdmissionStore][] = [
  ['redis', new RedisAdmissionStore(redis)],
  ['memory', memoryStores().admission],
];

for (const [name, store] of admissions) {
  const k = (key: string): string => `${prefix}adm:${name}:${key}`;
  const admit = (ip: string, sig: string | null, who: string | null, max = { ip: 100, principal: 100 }) =>
    store.admit({
      ip: { key: k(`ip:${ip}`), max: max.ip },
      signature: sig === null ? null : { key: k(`sig:${sig}`), ttlMs: LONG_MS },
      principal: who === null ? null : { key: k(`p:${who}`), max: max.principal },
      windowMs: LONG_MS,
    });

  t.test(`${name}: admission counts the IP and the principal in a window fixed by the first count`, async (t) => {
    const first = await admit('a', 's1', 'u');
    t.same([first.refused, first.ip?.count, first.principal?.count], [null, 1, 1]);
    t.ok(
      first.ip !== null && first.ip.ttlMs > LONG_MS - 5000 && first.ip.ttlMs <= LONG_MS,
      'the window runs from the first count',
    );
    const second = await admit('a', 's2', 'u');
    t.same([second.refused, second.ip?.count, second.principal?.count], [null, 2, 2]);
    t.ok(second.principal !== null && second.principal.ttlMs <= LONG_MS);
    const bare = await store.admit({
      ip: null,
      signature: null,
      principal: { key: k('p:bare'), max: 1 },
      windowMs: LONG_MS,
    });
    t.same([bare.refused, bare.ip, bare.principal?.count], [null, null, 1], 'an IP counted already is left out');
  });

  t.test(`${name}: a replayed signature is refused before the principal counts`, async (t) => {
    t.equal((await admit('b', 'same', 'v')).refused, null);
    const replay = await admit('b', 'same', 'v');
    t.same(
      [replay.refused, replay.ip?.count, replay.principal],
      ['replayed', 2, null],
      'the IP counted, the principal not',
    );
    t.equal((await admit('b', 'other', 'v')).principal?.count, 2, 'the replay did not count against the principal');
  });

  t.test(`${name}: an IP over its limit is refused before its signature is remembered`, async (t) => {
    const tight = { ip: 1, principal: 100 };
    t.equal((await admit('c', 'c1', 'w', tight)).refused, null);
    const over = await admit('c', 'c2', 'w', tight);
    t.same([over.refused, over.ip?.count, over.principal], ['ip', 2, null]);
    t.equal((await admit('c-elsewhere', 'c2', 'w')).refused, null, 'its signature was not remembered');
    t.equal((await admit('c-elsewhere', 'c3', 'w')).principal?.count, 3, 'nor its principal counted');
  });

  t.test(`${name}: a principal over its limit is refused with its signature remembered`, async (t) => {
    const tight = { ip: 100, principal: 1 };
    t.equal((await admit('d', 'd1', 'x', tight)).refused, null);
    const over = await admit('d', 'd2', 'x', tight);
    t.same([over.refused, over.principal?.count], ['principal', 2]);
    t.equal((await admit('d', 'd2', 'y')).refused, 'replayed', "the refused request's signature is remembered");
  });
}

t.test('redis: the raw SET NX PX the store issues is refused by Redis itself for a bad ttl', async (t) => {
  // Pins that assertTtlMs mirrors Redis rather than inventing a rule.
  await t.rejects(redis.set(`${prefix}raw`, 'v', 'PX', 0, 'NX'), /invalid expire time/);
  await t.rejects(redis.set(`${prefix}raw`, 'v', 'PX', -5, 'NX'), /invalid expire time/);
});

t.test('cleanup: no key of this run is left in Redis', async (t) => {
  await deleteKeys(redis, prefix);
  t.equal((await redis.keys(`${prefix}*`)).length, 0);
});
