// Snapshots: restore(snapshot(e)) is the same state (same hash, same bytes), and behaves the same from then on
// (same events, same hashes), at every cut point of a scenario that exercises every structure; damaged
// bytes are refused.

import t from 'tap';
import { Engine, SNAPSHOT_FORMAT, restore, snapshot, snapshotJson, snapshotSlices } from '../../engine/core/index.js';
import { stateHash } from '../../engine/daemon/snapshot-store.js';
import type { Command, EngineEvent } from '../../engine/core/index.js';
import { Fixture, USDC, WETH, assertSound, toJson, usdc, weth } from './support.js';

const WBTC = 2;

/** A state with every kind of thing in it: both books at several levels, partial fills, pending stops on
 * both sides (one by quote budget), remembered client ids (one rejected), deposits, withdrawals, fees,
 * two markets. */
function richScenario(): Fixture {
  const f = new Fixture({ limits: { clientOrderIdWindowMs: 60_000, depositIdWindowMs: 120_000 } });
  f.ok({ type: 'addAsset', assetId: WBTC, symbol: 'WBTC', decimals: 8 });
  f.ok({
    type: 'addMarket',
    marketId: 1,
    symbol: 'WBTC-USDC',
    baseAssetId: WBTC,
    quoteAssetId: USDC,
    tickSize: 10_000n,
    lotSize: 10_000n,
    minNotional: 0n,
    makerFeeBps: 5,
    takerFeeBps: 15,
  });
  for (const user of [1, 2, 3, 4]) f.fund(user, { weth: '20', usdc: '100000' });
  f.deposit(2, WBTC, 10n ** 8n);
  f.rest(1, 'buy', '1990', '1', { clientOrderId: 'bid-1' });
  f.rest(1, 'buy', '1995', '0.5');
  f.rest(3, 'buy', '1995', '0.7', { stp: 'expireMaker' });
  f.rest(2, 'sell', '2005', '1', { clientOrderId: 'ask-1' });
  f.rest(2, 'sell', '2010', '2');
  f.rest(4, 'sell', '2005', '0.3', { postOnly: true });
  f.limit(3, 'buy', '2005', '0.6');
  f.limit(4, 'sell', '1995', '0.2');
  f.place(1, {
    side: 'buy',
    orderType: 'stopLimit',
    stopPrice: usdc('2008'),
    price: usdc('2010'),
    quantity: weth('0.5'),
    clientOrderId: 'stop-1',
  });
  f.place(3, { side: 'buy', orderType: 'stopMarket', stopPrice: usdc('2010'), quoteQuantity: usdc('1500') });
  f.place(4, { side: 'sell', orderType: 'stopMarket', stopPrice: usdc('1990'), quantity: weth('0.4') });
  f.place(2, {
    side: 'sell',
    orderType: 'stopLimit',
    stopPrice: usdc('1980'),
    price: usdc('1975'),
    quantity: weth('1'),
  });
  f.limit(4, 'buy', '1000', '10000', { clientOrderId: 'too-big' });
  f.when({
    type: 'placeOrder',
    userId: 2,
    marketId: 1,
    side: 'sell',
    orderType: 'limit',
    price: usdc('60000'),
    quantity: 5_000_000n,
  });
  f.ok({
    type: 'requestWithdrawal',
    userId: 1,
    assetId: USDC,
    amount: usdc('500'),
    withdrawalId: 'w-1',
    destination: '0xaaa',
  });
  f.ok({
    type: 'requestWithdrawal',
    userId: 2,
    assetId: WETH,
    amount: weth('1'),
    withdrawalId: 'w-2',
    destination: '0xbbb',
  });
  f.ok({
    type: 'requestWithdrawal',
    userId: 3,
    assetId: USDC,
    amount: usdc('1'),
    withdrawalId: 'w-3',
    destination: '0xccc',
  });
  f.ok({ type: 'completeWithdrawal', withdrawalId: 'w-3', txHash: '0x01' });
  f.ok({ type: 'amendOrder', userId: 1, orderId: 1, quantity: weth('0.8') });
  // Venue controls: a market that only cancels, a frozen user with funds, one frozen before it had an account.
  f.ok({ type: 'setMarketStatus', marketId: 1, status: 'cancelOnly' });
  f.fund(5, { usdc: '10' });
  f.ok({ type: 'setUserFrozen', userId: 5, frozen: true });
  f.ok({ type: 'setUserFrozen', userId: 6, frozen: true });
  return f;
}

/** Commands after the cut: trades that trigger stops (cascading), cancels, amends, repeats, wallet work. */
function laterCommands(startMs: number): Command[] {
  const bodies: Array<Record<string, unknown>> = [
    {
      type: 'placeOrder',
      userId: 3,
      marketId: 0,
      side: 'buy',
      orderType: 'limit',
      price: usdc('2010'),
      quantity: weth('2'),
    },
    {
      type: 'placeOrder',
      userId: 1,
      marketId: 0,
      side: 'buy',
      orderType: 'limit',
      price: usdc('1990'),
      quantity: weth('1'),
      clientOrderId: 'bid-1',
    },
    {
      type: 'placeOrder',
      userId: 4,
      marketId: 0,
      side: 'buy',
      orderType: 'limit',
      price: usdc('1000'),
      quantity: weth('10000'),
      clientOrderId: 'too-big',
    },
    { type: 'amendOrder', userId: 1, orderId: 1, price: usdc('1985') },
    { type: 'amendOrder', userId: 1, orderId: 2, quantity: weth('0.4') },
    { type: 'cancelOrder', userId: 1, clientOrderId: 'bid-1' },
    { type: 'placeOrder', userId: 4, marketId: 0, side: 'sell', orderType: 'market', quantity: weth('3') },
    { type: 'deposit', userId: 1, assetId: USDC, amount: usdc('5'), depositId: 'fund-1' },
    { type: 'completeWithdrawal', withdrawalId: 'w-1', txHash: '0x02' },
    { type: 'failWithdrawal', withdrawalId: 'w-2', reason: 'gas' },
    {
      type: 'placeOrder',
      userId: 2,
      marketId: 1,
      side: 'sell',
      orderType: 'limit',
      price: usdc('59000'),
      quantity: 1_000_000n,
    },
    {
      type: 'placeOrder',
      userId: 5,
      marketId: 0,
      side: 'buy',
      orderType: 'limit',
      price: usdc('1'),
      quantity: weth('1'),
    },
    { type: 'setMarketStatus', marketId: 1, status: 'trading' },
    {
      type: 'placeOrder',
      userId: 2,
      marketId: 1,
      side: 'sell',
      orderType: 'limit',
      price: usdc('59000'),
      quantity: 1_000_000n,
    },
    { type: 'cancelAll', userId: 2 },
    { type: 'placeOrder', userId: 3, marketId: 0, side: 'buy', orderType: 'market', quoteQuantity: usdc('3000') },
    { type: 'cancelAll', userId: 1, marketId: 0 },
  ];
  return bodies.map((body, i) => ({ ...body, v: 1, id: `later-${i}`, timeMs: startMs + 1000 * (i + 1) }) as Command);
}

function applyAll(engine: Engine, commands: Command[]): EngineEvent[][] {
  return commands.map((cmd) => {
    const events = engine.apply(cmd);
    assertSound(engine, `after ${cmd.id}`);
    return events;
  });
}

t.test(
  'given a rich state, when it is snapshotted and restored, then the copy has the same hash, bytes and soundness',
  async (t) => {
    const f = richScenario();
    t.ok(
      f.engine.stopOrdersTotal >= 3 && f.engine.withdrawals.size === 2 && f.fees(USDC) > 0n,
      'the scenario has stops, withdrawals and fees',
    );

    const bytes = snapshot(f.engine);
    const copy = restore(bytes);

    t.equal(stateHash(copy), stateHash(f.engine));
    t.same(snapshot(copy), bytes, 'canonical: the same bytes again');
    assertSound(copy, 'after restore');
    t.pass('the restored state is sound');
  },
);

t.test(
  'given an engine and its restored copy, when the same commands follow, then both give identical events and hashes',
  async (t) => {
    const f = richScenario();
    const copy = restore(snapshot(f.engine));
    const commands = laterCommands(f.nowMs);

    const original = applyAll(f.engine, commands);
    const restored = applyAll(copy, commands);

    for (let i = 0; i < commands.length; i++)
      t.equal(toJson(restored[i]), toJson(original[i]), `events of ${commands[i].id}`);
    t.equal(stateHash(copy), stateHash(f.engine));
    const flat = original.flat();
    t.ok(
      flat.some((e) => e.type === 'orderTriggered') && flat.some((e) => e.type === 'trade'),
      'the commands traded and triggered stops',
    );
    const results = original.map((events) => events[events.length - 1]).filter((e) => e.type === 'commandResult');
    t.ok(
      results.some((r) => r.duplicateOf !== null),
      'a client id repeat was answered from the restored memory',
    );
    t.ok(
      results.every(
        (r, i) => r.status === 'accepted' || ['later-2', 'later-7', 'later-10', 'later-11'].includes(commands[i].id),
      ),
      'only the expected rejections',
    );
    t.match(results[10], { code: 'MARKET_CANCEL_ONLY' }, 'the restored market still only cancels');
    t.match(results[11], { code: 'USER_FROZEN' }, 'the restored user is still frozen');
    t.ok(
      flat.some((e) => e.type === 'orderAmended') && flat.some((e) => e.type === 'orderCanceled'),
      'amends and cancels ran',
    );
  },
);

t.test(
  'at every cut point, snapshot + restore + the rest gives the same events and final hash as one uninterrupted run',
  async (t) => {
    const f = richScenario();
    const commands = [...f.applied, ...laterCommands(f.nowMs)];
    const limits = f.engine.limits;
    const straight = new Engine(limits);
    const expected = applyAll(straight, commands).map(toJson);
    const finalHash = stateHash(straight);

    let mismatches = 0;
    for (let cut = 0; cut <= commands.length; cut++) {
      const before = new Engine(limits);
      applyAll(before, commands.slice(0, cut));
      const resumed = restore(snapshot(before));
      const events = applyAll(resumed, commands.slice(cut)).map(toJson);
      if (stateHash(resumed) !== finalHash || events.some((e, i) => e !== expected[cut + i])) {
        mismatches++;
        t.fail(`cut after ${cut} commands diverges`);
      }
    }
    t.equal(mismatches, 0, `${commands.length + 1} cut points`);
  },
);

t.test('a snapshot encoded in slices is the same bytes, paused after every slice of orders', async (t) => {
  const f = richScenario();
  const orders = f.engine.orders.size;
  t.ok(orders >= 8, `${orders} open and stop orders`);
  for (const ordersPerSlice of [1, 3, orders, orders + 1]) {
    const slices = snapshotSlices(f.engine, ordersPerSlice);
    let pauses = 0;
    let step = slices.next();
    for (; step.done !== true; step = slices.next()) pauses++;
    t.same(step.value, snapshot(f.engine), `${ordersPerSlice} orders per slice: snapshot()'s bytes`);
    // One pause per full slice of orders, and one before the command ids.
    t.equal(pauses, Math.floor(orders / ordersPerSlice) + 1, `${ordersPerSlice} orders per slice: ${pauses} pauses`);
  }
  t.throws(() => snapshotSlices(f.engine, 0).next(), /ordersPerSlice/);
});

t.test('a command applied while a snapshot is encoded in slices is a programmer error: it throws', async (t) => {
  const f = richScenario();
  const slices = snapshotSlices(f.engine, 2);
  slices.next();
  f.fund(1, { usdc: '1' });
  t.throws(() => slices.next(), /no command is applied while a snapshot is encoded/);
});

t.test('a truncated or damaged snapshot throws on restore', async (t) => {
  const bytes = snapshot(richScenario().engine);
  const cuts = [0, 1, Math.floor(bytes.length / 3), Math.floor(bytes.length / 2), bytes.length - 2, bytes.length - 1];
  for (const cut of cuts)
    t.throws(() => restore(bytes.subarray(0, cut)), `truncated to ${cut} of ${bytes.length} bytes`);
  t.throws(() => restore(new Uint8Array([...bytes, 0])), { message: /after the last section/ }, 'a byte too many');
  const nextFormat = bytes.slice();
  new DataView(nextFormat.buffer).setUint32(4, SNAPSHOT_FORMAT + 1, true);
  t.throws(() => restore(nextFormat), { message: `snapshot format ${SNAPSHOT_FORMAT + 1} is supported` });

  const json = snapshotJson(richScenario().engine);
  const notUtf8 = new Uint8Array([...json.subarray(0, 20), 0xff, 0xfe, ...json.subarray(20)]);
  t.throws(() => restore(notUtf8), 'invalid UTF-8');
  const text = new TextDecoder().decode(json);
  t.throws(() => restore(new TextEncoder().encode(text.replace('"format":3', '"format":5'))), {
    message: 'snapshot format 5 is supported',
  });
  t.throws(() => restore(new TextEncoder().encode(text.replace('"status":"cancelOnly"', '"status":"paused"'))), {
    message: /status/,
  });
  t.throws(() => restore(new TextEncoder().encode(text.replace('"frozenUsers":[5,6]', '"frozenUsers":[5,6,77]'))), {
    message: /frozen user 77/,
  });
});

t.test(
  'a format-3 (JSON) snapshot, as engines before the binary format wrote it, restores to the same state',
  async (t) => {
    const f = richScenario();
    const restored = restore(snapshotJson(f.engine));
    t.equal(stateHash(restored), stateHash(f.engine), 'the same state hash');
    t.same(snapshot(restored), snapshot(f.engine), 'and written again, the same format-4 bytes');
    assertSound(restored, 'after restoring format 3');
    t.pass('the restored state is sound');
  },
);

t.test(
  'a format-2 snapshot (before venue controls) restores with every market trading and nobody frozen',
  async (t) => {
    const f = new Fixture();
    f.fund(1, { usdc: '100' });
    f.rest(1, 'buy', '2000', '0.01');
    const current = JSON.parse(new TextDecoder().decode(snapshotJson(f.engine))) as Record<string, unknown> & {
      markets: Array<Record<string, unknown>>;
    };
    const v2 = { ...current, format: 2, markets: current.markets.map(({ status: _status, ...m }) => m) };
    delete (v2 as { frozenUsers?: unknown }).frozenUsers;

    const restored = restore(new TextEncoder().encode(JSON.stringify(v2)));

    t.equal(restored.markets[0]?.status, 'trading');
    t.equal(restored.accounts.get(1)?.frozen, false);
    t.equal(stateHash(restored), stateHash(f.engine), 'the same state as the engine it came from');
  },
);

t.test('a restored book takes a quarter more orders before its order table grows', (t) => {
  // Sized for exactly the orders restored, a book just under a power of two relinked every order on one of the
  // first orders after a restart (1,000 orders here; a million in bench:failover's restart).
  const f = new Fixture();
  for (const user of [1, 2]) f.fund(user, { weth: '1000', usdc: '10000000' });
  for (let i = 0; i < 500; i++) {
    f.rest(1, 'buy', String(1000 + i), '1');
    f.rest(2, 'sell', String(3000 + i), '1');
  }
  t.equal(f.engine.orders.size, 1000);
  t.equal(f.engine.orders.capacity, 1024, 'the engine that placed them grew by doubling');
  const restored = restore(snapshot(f.engine));
  t.ok(restored.orders.capacity >= 1250, `a restore reserves room: ${restored.orders.capacity} for 1,000 orders`);
  t.equal(stateHash(restored), stateHash(f.engine), 'and the state is the same');
  t.end();
});
