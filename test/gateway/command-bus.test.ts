// PendingCommands against events-topic records as the daemon writes them: a batch's events of many commands in one
// record, and a command's events cut across two records. Every command must get its own result and only its own
// events, however the records are cut; a result that comes after its command timed out goes to onLate.

import t from 'tap';
import { Engine } from '../../engine/core/index.js';
import type { CommandResult, EngineEvent } from '../../engine/core/events.js';
import { decodeEventRecord, encodeEventRecords } from '../../engine/wire/codec.js';
import { PendingCommands } from '../../gateway/command-bus.js';
import type { CommandOutcome } from '../../gateway/command-bus.js';

/** A market with two funded users, then three placements whose events (and only those) the tests deliver. */
function batchEvents(): { events: EngineEvent[]; cmdIds: string[] } {
  const engine = new Engine();
  let timeMs = 1_000;
  const apply = (cmd: Record<string, unknown>): EngineEvent[] =>
    engine.apply({ v: 1, timeMs: timeMs++, ...cmd } as never);
  apply({ type: 'addAsset', id: 'a1', assetId: 1, symbol: 'ETH', decimals: 18 });
  apply({ type: 'addAsset', id: 'a2', assetId: 2, symbol: 'USDT', decimals: 6 });
  apply({
    type: 'addMarket',
    id: 'm1',
    marketId: 1,
    symbol: 'ETH-USDT',
    baseAssetId: 1,
    quoteAssetId: 2,
    tickSize: 10_000n,
    lotSize: 10n ** 14n,
    minNotional: 1_000_000n,
    makerFeeBps: 10,
    takerFeeBps: 20,
  });
  apply({ type: 'deposit', id: 'd1', userId: 1, assetId: 1, amount: 10n ** 20n, depositId: 'd1' });
  apply({ type: 'deposit', id: 'd2', userId: 2, assetId: 2, amount: 10n ** 12n, depositId: 'd2' });
  const cmdIds = ['p1', 'p2', 'p3'];
  const events = [
    // A resting sell, a buy that trades with it (many events), and a rejected order (one event).
    ...apply({
      type: 'placeOrder',
      id: 'p1',
      userId: 1,
      marketId: 1,
      side: 'sell',
      orderType: 'limit',
      price: 2_000_000_000n,
      quantity: 10n ** 18n,
    }),
    ...apply({
      type: 'placeOrder',
      id: 'p2',
      userId: 2,
      marketId: 1,
      side: 'buy',
      orderType: 'limit',
      price: 2_000_000_000n,
      quantity: 10n ** 17n,
    }),
    ...apply({
      type: 'placeOrder',
      id: 'p3',
      userId: 2,
      marketId: 9,
      side: 'buy',
      orderType: 'limit',
      price: 2_000_000_000n,
      quantity: 10n ** 17n,
    }),
  ];
  return { events, cmdIds };
}

/** As the gateway reads them: encoded by the daemon's packer, decoded by the consumer. */
const asRecord = (events: EngineEvent[]): EngineEvent[] => {
  const records = encodeEventRecords(events);
  if (records.length !== 1) throw new Error(`expected one record, got ${records.length}`);
  return decodeEventRecord(records[0]);
};

const resultOf = (o: CommandOutcome): CommandResult => {
  if (o.status !== 'done') throw new Error(`command ${o.cmdId} is ${o.status}`);
  return o.result;
};

t.test('one record carrying several commands resolves each with its own events', async (t) => {
  const { events, cmdIds } = batchEvents();
  const pending = new PendingCommands({ pendingMax: 10, timeoutMs: 60_000 });
  const outcomes = cmdIds.map((id) => pending.wait(id, { userId: 1 }));
  pending.deliver(asRecord(events));
  const done = await Promise.all(outcomes);
  t.equal(pending.size, 0, 'nothing left waiting');
  for (const [i, o] of done.entries()) {
    t.equal(o.status, 'done', `${cmdIds[i]} answered`);
    if (o.status !== 'done') continue;
    t.ok(
      o.events.every((e) => e.cmdId === cmdIds[i]),
      `${cmdIds[i]} got only its own events`,
    );
    t.equal(o.events.length, events.filter((e) => e.cmdId === cmdIds[i]).length, `${cmdIds[i]} got all its events`);
  }
  t.equal(resultOf(done[0]).status, 'accepted');
  t.ok(
    done[1].status === 'done' && done[1].events.some((e) => e.type === 'trade'),
    'the buy that traded carries its trade',
  );
  t.equal(resultOf(done[2]).code, 'ORDER_MARKET_UNKNOWN', 'the rejected order carries its own code');
});

t.test(
  'a command whose events are cut across two records is answered after the second, with all of them',
  async (t) => {
    const { events } = batchEvents();
    const p2 = events.filter((e) => e.cmdId === 'p2');
    t.ok(p2.length >= 3, 'the trading command has several events to cut between');
    const cut = events.indexOf(p2[1]);
    const pending = new PendingCommands({ pendingMax: 10, timeoutMs: 60_000 });
    const outcome = pending.wait('p2', { userId: 2 });
    let answered = false;
    void outcome.then(() => (answered = true));
    pending.deliver(asRecord(events.slice(0, cut)));
    await new Promise((r) => setImmediate(r));
    t.notOk(answered, 'not answered before its commandResult');
    pending.deliver(asRecord(events.slice(cut)));
    const o = await outcome;
    t.equal(o.status, 'done');
    if (o.status === 'done')
      t.same(
        o.events.map((e) => e.seq),
        p2.map((e) => e.seq),
        'every event, in order',
      );
  },
);

t.test('a result inside a multi-command record after its command timed out reaches onLate', async (t) => {
  const { events } = batchEvents();
  const late: { cmdId: string; userId: number; status: string }[] = [];
  const pending = new PendingCommands({
    pendingMax: 10,
    timeoutMs: 60_000,
    onLate: (cmdId, meta, result) => late.push({ cmdId, userId: meta.userId, status: result.status }),
  });
  // p1 and p2 still wait; p3 was answered `unknown` (as after a time-out): only p3's result is late.
  const p1 = pending.wait('p1', { userId: 1 });
  const p2 = pending.wait('p2', { userId: 2 });
  const p3 = pending.wait('p3', { userId: 2 });
  pending.giveUp('p3');
  t.equal((await p3).status, 'unknown', 'p3 answered unknown first');
  pending.deliver(asRecord(events));
  t.equal((await p1).status, 'done', 'p1 answered with its result');
  t.equal((await p2).status, 'done', 'p2 answered with its result');
  t.same(late, [{ cmdId: 'p3', userId: 2, status: 'rejected' }], 'only the timed-out command, with its result');
});
