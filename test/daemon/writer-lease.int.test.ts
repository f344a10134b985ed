// The writer lease on a real Redis (REDIS_URL, default 127.0.0.1:6379), without a broker: one holder at a time,
// expiry by time, a renewal answered late counts as lost, and the keeper's election callbacks.

import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import t from 'tap';
import { LEASE_LATE_WARN_SHARE, LeaseKeeper, WriterLease } from '../../engine/daemon/writer-lease.js';
import type { LateRenewal } from '../../engine/daemon/writer-lease.js';
import { sleep, waitFor } from '../../testkit/daemon-process.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
t.teardown(() => redis.quit());

function leaseOf(key: string, leaseMs: number, nowMs?: () => number): WriterLease {
  return new WriterLease({ redis, key, token: randomUUID(), leaseMs, nowMs });
}

const freshKey = (): string => `test:engine-lease:${randomUUID()}`;

t.test('one holder at a time; release hands the lease over at once', async (t) => {
  const key = freshKey();
  const a = leaseOf(key, 5_000);
  const b = leaseOf(key, 5_000);
  t.equal(await a.tryAcquire(), true, 'the first takes it');
  t.equal(await b.tryAcquire(), false, 'the second does not');
  t.equal(a.holds(), true);
  t.equal(b.holds(), false);
  t.equal(await b.renew(), false, 'a process that never held it cannot renew it');
  await b.release(); // compare-and-delete: not b's to delete
  t.equal(await redis.exists(key), 1, "a non-holder's release leaves the lease in place");
  t.equal(await a.renew(), true, 'the holder renews');
  await a.release();
  t.equal(a.holds(), false, 'released: the holder may no longer write');
  t.equal(await b.tryAcquire(), true, 'the other takes it right after the release');
  await b.release();
});

t.test('a lease that is not renewed expires by time, and its holder stops on its own clock', async (t) => {
  const key = freshKey();
  const a = leaseOf(key, 300);
  const b = leaseOf(key, 300);
  t.equal(await a.tryAcquire(), true);
  await sleep(350);
  t.equal(a.holds(), false, "past its local deadline the holder may not write, whatever Redis's state");
  t.equal(await b.tryAcquire(), true, 'the other takes the expired lease');
  t.equal(await a.renew(), false, 'the old holder cannot renew what is now the other one’s');
  await b.release();
});

t.test('a renewal answered after its deadline counts as lost (a frozen or starved process)', async (t) => {
  const key = freshKey();
  let clockMs = 0;
  let stepMs = 1;
  // Every reading of the clock moves it on by stepMs: a reply read back stepMs after the request was sent.
  const lease = leaseOf(key, 1_000, () => (clockMs += stepMs));
  t.equal(await lease.tryAcquire(), true);
  stepMs = 1_000;
  t.equal(await lease.renew(), false, 'Redis extended it, but the reply came a whole lease after the request');
  t.equal(lease.holds(), false, 'and the process no longer writes');
  t.equal(await redis.exists(key), 1, 'the key itself was extended: a standby takes it only once it expires');
  await redis.del(key);
});

t.test('the keeper: one of two is elected; when it stops, the other takes over', async (t) => {
  const key = freshKey();
  const elected: string[] = [];
  const lost: string[] = [];
  const keepers = ['a', 'b'].map((name) => {
    const keeper = new LeaseKeeper(leaseOf(key, 400), (err) => t.fail(String(err)));
    keeper.start(
      () => elected.push(name),
      (reason) => lost.push(`${name}: ${reason}`),
    );
    return { name, keeper };
  });
  await waitFor(
    async () => elected.length > 0,
    5_000,
    () => 'nobody elected',
  );
  await sleep(1_000); // several renewals: the holder keeps it, the other keeps trying
  t.equal(elected.length, 1, `only one is elected (${elected.join()})`);
  t.same(lost, [], 'the holder renews in time');
  const first = keepers.find((k) => k.name === elected[0]);
  await first?.keeper.stop(); // a clean stop releases
  await waitFor(
    async () => elected.length === 2,
    1_000,
    () => `no takeover: ${elected.join()}`,
  );
  t.not(elected[1], elected[0], 'the other one took over');
  for (const k of keepers) await k.keeper.stop();
  t.equal(await redis.exists(key), 0, 'the last holder released it');
});

t.test('the keeper reports a lease taken from under it, and never takes it again', async (t) => {
  const key = freshKey();
  const events: string[] = [];
  const keeper = new LeaseKeeper(leaseOf(key, 400), (err) => t.fail(String(err)));
  keeper.start(
    () => events.push('acquired'),
    () => events.push('lost'),
  );
  await waitFor(
    async () => events.includes('acquired'),
    5_000,
    () => 'not elected',
  );
  await redis.set(key, 'someone-else', 'PX', 400);
  await waitFor(
    async () => events.includes('lost'),
    2_000,
    () => events.join(),
  );
  await sleep(600); // the other lease expires: this keeper must not come back
  t.same(events, ['acquired', 'lost']);
  await keeper.stop();
  t.equal(await redis.exists(key), 0);
});

t.test('a keeper stopped while its request for the lease is in flight gives the lease back at once', async (t) => {
  const key = freshKey();
  const lease = leaseOf(key, 60_000);
  // The reply comes back 300 ms after Redis granted it: the process is stopping (a standby that failed) meanwhile.
  const tryAcquire = lease.tryAcquire.bind(lease);
  lease.tryAcquire = async () => {
    const ok = await tryAcquire();
    await sleep(300);
    return ok;
  };
  const elected: string[] = [];
  const keeper = new LeaseKeeper(lease, (err) => t.fail(String(err)));
  keeper.start(
    () => elected.push('acquired'),
    () => elected.push('lost'),
  );
  await waitFor(
    async () => (await redis.exists(key)) === 1,
    5_000,
    () => 'the lease was never taken',
  );
  await keeper.stop();
  t.equal(await redis.exists(key), 0, 'released when stop() returns, not after the 60 s lease');
  t.same(elected, [], 'and never reported as elected');
});

t.test('a holder that stops gives the lease back at once, and a second stop does nothing more', async (t) => {
  const key = freshKey();
  const keeper = new LeaseKeeper(leaseOf(key, 60_000), (err) => t.fail(String(err)));
  let acquired = false;
  keeper.start(
    () => (acquired = true),
    () => t.fail('lost'),
  );
  await waitFor(
    async () => acquired,
    5_000,
    () => 'not elected',
  );
  await keeper.stop();
  t.equal(await redis.exists(key), 0, 'released at once');
  await redis.set(key, 'someone-else', 'PX', 5_000);
  await keeper.stop();
  t.equal(await redis.get(key), 'someone-else', "a second stop leaves the next holder's lease alone");
  await redis.del(key);
});

t.test(
  'a renewal that fires late (the event loop was busy) is reported with how late, and keeps the lease',
  async (t) => {
    const key = freshKey();
    const late: LateRenewal[] = [];
    const keeper = new LeaseKeeper(
      leaseOf(key, 2_000),
      (err) => t.fail(String(err)),
      (l) => late.push(l),
    );
    let acquired = false;
    keeper.start(
      () => (acquired = true),
      (reason) => t.fail(`lost: ${reason}`),
    );
    await waitFor(
      async () => acquired,
      5_000,
      () => 'not elected',
    );
    await sleep(50); // the first renewal is due 500 ms after the lease was taken
    // Busy for 1.2 s: the renewal fires about 700 ms late, past the warning share (500 ms), within the lease.
    const busyUntilMs = performance.now() + 1_200;
    while (performance.now() < busyUntilMs);
    await waitFor(
      async () => late.length > 0,
      2_000,
      () => 'no late renewal reported',
    );
    t.ok(late[0].firedLateMs > 2_000 * LEASE_LATE_WARN_SHARE, `fired ${Math.round(late[0].firedLateMs)} ms late`);
    t.ok(late[0].marginMs > 0, 'fired with lease left');
    t.equal(late[0].leaseMs, 2_000);
    await keeper.stop();
  },
);
