// The LOBSTER replay tells the exchange's own departures from time priority (exchangeInversions) apart from the
// engine's (priorityViolations), on four-row files written here: two sell orders at one price, then the file
// executes one of them. Executing the younger first is the exchange's inversion; an engine that queues
// last-in-first-out and so hits the younger order when the file executes the older one is a violation.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { replayLobster } from '../../tools/lobster/replay.js';
import type { ReplayResult } from '../../tools/lobster/replay.js';
import { patchLifo } from './lifo-patch.js';

/** Messages: add 10 (older), add 11 (younger), execute `executed`, delete the other; level-1 book after each. */
async function replayTwoOrders(dir: string, executed: 10 | 11): Promise<ReplayResult> {
  const other = executed === 10 ? 11 : 10;
  const sizes = { 10: 100, 11: 30 };
  const messages = [
    '34200.1,1,10,100,10100,-1',
    '34200.2,1,11,30,10100,-1',
    `34200.3,4,${executed},${sizes[executed]},10100,-1`,
    `34200.4,3,${other},${sizes[other]},10100,-1`,
  ];
  const orderbook = ['10100,100,9900,50', '10100,130,9900,50', `10100,${sizes[other]},9900,50`, '9999999999,0,9900,50'];
  const messagePath = path.join(dir, `message-${executed}.csv`);
  const orderbookPath = path.join(dir, `orderbook-${executed}.csv`);
  await writeFile(messagePath, `${messages.join('\n')}\n`);
  await writeFile(orderbookPath, `${orderbook.join('\n')}\n`);
  return replayLobster({ messagePath, orderbookPath });
}

t.test(
  'the exchange executing the younger of two orders at one price is an exchange inversion, not a violation',
  async (t) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lobster-inversion-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const r = await replayTwoOrders(dir, 11);
    t.equal(r.mismatches, 0, 'the replay stays in step with the file');
    t.equal(r.priorityViolations, 0, 'the engine queued the older order first, as it must');
    t.equal(r.exchangeInversions, 1);
    t.strictSame(
      r.inversions,
      [{ row: 3, message: '34200.3,4,11,30,10100,-1', olderAhead: '10' }],
      'listed with its row and the older order',
    );
  },
);

t.test('executing the older order first is neither', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lobster-inversion-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const r = await replayTwoOrders(dir, 10);
  t.match(r, { mismatches: 0, priorityViolations: 0, exchangeInversions: 0, inversions: [] });
});

t.test('an engine that queues last-in-first-out is a priority violation, never an inversion', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lobster-inversion-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  t.teardown(patchLifo());
  const r = await replayTwoOrders(dir, 10);
  t.equal(r.priorityViolations, 1, 'the engine hit the younger order');
  t.equal(r.details[0]?.row, 3);
  t.equal(r.exchangeInversions, 0);
});
