// The wire codec: every command and event type survives a round trip exactly (uint256 amounts included), every
// malformed record gets its code and a usable answer id, and event bytes do not depend on how the object was built.

import t from 'tap';
import { Engine, UINT256_MAX, checkInvariants } from '../../engine/core/index.js';
import type { Command, CommandType, EngineEvent, EventType, RejectCode } from '../../engine/core/index.js';
import {
  COMMAND_BYTES_MAX,
  EVENT_RECORD_BYTES_TARGET,
  EventRecordPacker,
  WireError,
  decodeCommand,
  decodeEvent,
  decodeEventRecord,
  encodeCommand,
  encodeEvent,
  encodeEventRecords,
} from '../../engine/wire/codec.js';
import type { CommandInput } from '../../engine/wire/codec.js';
import { COMMAND_EXAMPLES, EVENT_EXAMPLES } from '../../engine/wire/examples.js';
import { COMMAND_SCHEMAS, EVENT_SCHEMAS } from '../../engine/wire/schemas.js';

const T0 = 1_767_225_600_000;
const UINT256_MAX_TEXT = '115792089237316195423570985008687907853269984665640564039457584007913129639935';
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

/** A JSON command built by hand, for the cases encodeCommand would refuse to write. */
function raw(fields: Record<string, unknown>): string {
  return JSON.stringify(fields);
}

const deposit = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  v: 1,
  type: 'deposit',
  id: 'dep-1',
  userId: 7,
  assetId: 1,
  amount: '5000000',
  depositId: 'tx-1',
  ...extra,
});

function decodeOk(bytes: Uint8Array | string, timeMs = T0): Command {
  const r = decodeCommand(bytes, timeMs);
  if (!r.ok) throw new Error(`expected a command, got ${r.code}: ${r.detail}`);
  return r.command;
}

t.test('every command type round-trips exactly, with the record time stamped on', async (t) => {
  for (const type of Object.keys(COMMAND_SCHEMAS) as CommandType[]) {
    const cmd = COMMAND_EXAMPLES[type];
    const text = encodeCommand(cmd as CommandInput);
    t.strictSame(decodeOk(text, T0 + 5), { ...cmd, timeMs: T0 + 5 }, `${type} from a string`);
    t.strictSame(decodeOk(utf8(text), T0 + 6), { ...cmd, timeMs: T0 + 6 }, `${type} from bytes`);
  }
});

t.test('uint256 max crosses the wire exactly, both ways', async (t) => {
  const text = encodeCommand({ ...deposit(), amount: UINT256_MAX } as unknown as CommandInput);
  t.match(text, `"amount":"${UINT256_MAX_TEXT}"`, 'written as its exact decimal string');
  const cmd = decodeOk(text);
  t.equal((cmd as { amount: bigint }).amount, UINT256_MAX);

  const ev: EngineEvent = {
    v: 1,
    seq: 9,
    cmdId: 'dep-1',
    timeMs: T0,
    type: 'balanceChanged',
    userId: 7,
    assetId: 1,
    available: UINT256_MAX,
    held: UINT256_MAX - 1n,
    pending: 0n,
  };
  const wire = encodeEvent(ev);
  t.match(wire, `"available":"${UINT256_MAX_TEXT}"`);
  t.strictSame(decodeEvent(wire), ev);
});

t.test('every event type round-trips exactly', async (t) => {
  for (const type of Object.keys(EVENT_SCHEMAS) as EventType[]) {
    const ev = EVENT_EXAMPLES[type] as EngineEvent;
    t.strictSame(decodeEvent(encodeEvent(ev)), ev, type);
    t.strictSame(decodeEvent(utf8(encodeEvent(ev))), ev, `${type} from bytes`);
  }
});

t.test("the engine's own events, of every type, round-trip through the wire", async (t) => {
  // A session driven entirely through the codec: JSON commands in, events out through encodeEvent/decodeEvent.
  const engine = new Engine();
  const seen = new Set<string>();
  let seq = 0;
  let time = T0;
  const run = (cmd: CommandInput): EngineEvent[] => sendBytes(utf8(encodeCommand(cmd)));
  const sendBytes = (bytes: Uint8Array): EngineEvent[] => {
    time += 1000;
    const decoded = decodeCommand(bytes, time);
    const events = decoded.ok ? engine.apply(decoded.command) : engine.applyInvalid(decoded.id, time, decoded.code);
    t.strictSame(checkInvariants(engine), [], 'engine sound');
    for (const ev of events) {
      t.equal(ev.seq, ++seq, 'seq has no gap');
      t.strictSame(decodeEvent(encodeEvent(ev)), ev, `${ev.type} #${ev.seq}`);
      seen.add(ev.type);
    }
    t.strictSame(
      encodeEventRecords(events).flatMap((r) => decodeEventRecord(r)),
      events,
      `the events of ${decoded.ok ? decoded.command.id : 'a rejected record'} round-trip as records`,
    );
    return events;
  };
  const lot = 10n ** 14n;
  const usdc = (n: bigint): bigint => n * 1_000_000n;
  const base = { v: 1 as const };
  run({ ...base, id: 'a1', type: 'addAsset', assetId: 0, symbol: 'WETH', decimals: 18 });
  run({ ...base, id: 'a2', type: 'addAsset', assetId: 1, symbol: 'USDC', decimals: 6 });
  run({
    ...base,
    id: 'm1',
    type: 'addMarket',
    marketId: 0,
    symbol: 'WETH-USDC',
    baseAssetId: 0,
    quoteAssetId: 1,
    tickSize: 10_000n,
    lotSize: lot,
    minNotional: 1n,
    makerFeeBps: 10,
    takerFeeBps: 20,
  });
  run({ ...base, id: 'd1', type: 'deposit', userId: 1, assetId: 1, amount: usdc(100_000n), depositId: 'tx-1' });
  run({ ...base, id: 'd2', type: 'deposit', userId: 2, assetId: 0, amount: 10n * 10n ** 18n, depositId: 'tx-2' });
  const order = (
    id: string,
    userId: number,
    side: 'buy' | 'sell',
    price: bigint | undefined,
    lots: bigint,
    extra: Partial<CommandInput> = {},
  ): CommandInput =>
    ({
      ...base,
      id,
      type: 'placeOrder',
      userId,
      marketId: 0,
      side,
      orderType: price === undefined ? 'market' : 'limit',
      ...(price === undefined ? {} : { price }),
      quantity: lots * lot,
      ...extra,
    }) as CommandInput;
  run(order('o1', 2, 'sell', usdc(2000n), 10_000n, { clientOrderId: 'ask-1' })); // rests 1 WETH
  run(order('o2', 1, 'buy', usdc(2000n), 4_000n)); // partial fill of the ask, full fill of the bid
  run(order('o3', 1, 'buy', usdc(1990n), 1_000n)); // rests
  run({
    ...base,
    id: 'o4',
    type: 'placeOrder',
    userId: 2,
    marketId: 0,
    side: 'sell',
    orderType: 'stopMarket',
    stopPrice: usdc(1990n),
    quantity: 1_000n * lot,
  });
  run(order('o5', 2, 'sell', undefined, 1_000n)); // trades at 1990, triggers the stop, which finds no bids
  run({ ...base, id: 'o6', type: 'amendOrder', userId: 2, orderId: 1, quantity: 5_000n * lot });
  run({ ...base, id: 'o7', type: 'cancelOrder', userId: 2, clientOrderId: 'ask-1' });
  run(order('o8', 1, 'buy', usdc(2000n) + 1n, 1n)); // off the tick
  run({
    ...base,
    id: 'w1',
    type: 'requestWithdrawal',
    userId: 1,
    assetId: 1,
    amount: usdc(100n),
    withdrawalId: 'wd-1',
    destination: '0xabc',
  });
  run({ ...base, id: 'w2', type: 'completeWithdrawal', withdrawalId: 'wd-1', txHash: '0xdef' });
  run({
    ...base,
    id: 'w3',
    type: 'requestWithdrawal',
    userId: 1,
    assetId: 1,
    amount: usdc(50n),
    withdrawalId: 'wd-2',
    destination: '0xabc',
  });
  run({ ...base, id: 'w4', type: 'failWithdrawal', withdrawalId: 'wd-2' });
  run({ ...base, id: 'v1', type: 'setMarketStatus', marketId: 0, status: 'halted' });
  run({ ...base, id: 'v2', type: 'setUserFrozen', userId: 2, frozen: true });
  const invalid = sendBytes(utf8('{"id":"bad-1","v":1,"type":"deposit"}'));
  t.match(invalid, [
    { type: 'commandResult', status: 'rejected', code: 'COMMAND_MALFORMED', cmdId: 'bad-1', timeMs: time },
  ]);

  t.strictSame([...seen].sort(), Object.keys(EVENT_SCHEMAS).sort(), 'the session produced every event type');
});

t.test(
  'amounts pass the codec with a sign or past uint256, so the engine answers with its specific code',
  async (t) => {
    const engine = new Engine();
    const apply = (fields: Record<string, unknown>): RejectCode | null => {
      const r = decodeCommand(raw(fields), T0);
      if (!r.ok) throw new Error(`codec refused: ${r.code} ${r.detail}`);
      const events = engine.apply(r.command);
      return (events[events.length - 1] as { code: RejectCode | null }).code;
    };
    t.equal(apply({ v: 1, type: 'addAsset', id: 'a1', assetId: 1, symbol: 'USDC', decimals: 6 }), null);
    t.equal(apply(deposit({ id: 'n1', amount: '-5' })), 'WALLET_AMOUNT_NOT_POSITIVE');
    t.equal(apply(deposit({ id: 'n2', amount: '0' })), 'WALLET_AMOUNT_NOT_POSITIVE');
    t.equal(apply(deposit({ id: 'n3', amount: (UINT256_MAX + 1n).toString() })), 'WALLET_AMOUNT_OVERFLOW');
    t.equal(
      apply(deposit({ id: 'n4', amount: '9'.repeat(80) })),
      'WALLET_AMOUNT_OVERFLOW',
      '80 digits is the longest the wire carries',
    );
    t.equal(apply(deposit({ id: 'n5', userId: 0 })), 'WALLET_USER_INVALID');
    t.equal(
      apply({ v: 1, type: 'addAsset', id: 'a2', assetId: 2, symbol: 'usdc', decimals: 6 }),
      'ASSET_SYMBOL_INVALID',
    );
  },
);

interface Malformed {
  readonly name: string;
  readonly bytes: string | Uint8Array;
  readonly code: RejectCode;
  /** The id the rejection must carry: the producer's when usable, else ''. */
  readonly id: string;
}

const longId = 'x'.repeat(129);
const MALFORMED: Malformed[] = [
  { name: 'bad JSON', bytes: '{"id":"c1",', code: 'COMMAND_MALFORMED', id: '' },
  { name: 'empty record', bytes: new Uint8Array(0), code: 'COMMAND_MALFORMED', id: '' },
  { name: 'not UTF-8', bytes: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), code: 'COMMAND_MALFORMED', id: '' },
  { name: 'JSON null', bytes: 'null', code: 'COMMAND_MALFORMED', id: '' },
  { name: 'JSON array', bytes: '[{"id":"c1"}]', code: 'COMMAND_MALFORMED', id: '' },
  { name: 'JSON string', bytes: '"c1"', code: 'COMMAND_MALFORMED', id: '' },
  {
    name: 'too large',
    bytes: raw(deposit({ depositId: 'x'.repeat(COMMAND_BYTES_MAX) })),
    code: 'COMMAND_MALFORMED',
    id: '',
  },
  { name: 'no id', bytes: raw(deposit({ id: undefined })), code: 'COMMAND_MALFORMED', id: '' },
  { name: 'numeric id', bytes: raw(deposit({ id: 17 })), code: 'COMMAND_MALFORMED', id: '' },
  { name: 'empty id', bytes: raw(deposit({ id: '' })), code: 'COMMAND_MALFORMED', id: '' },
  { name: 'id with a space', bytes: raw(deposit({ id: 'a b' })), code: 'COMMAND_MALFORMED', id: '' },
  { name: 'id of 129 characters', bytes: raw(deposit({ id: longId })), code: 'COMMAND_MALFORMED', id: '' },
  { name: 'id with a control character', bytes: raw(deposit({ id: 'a\u0000' })), code: 'COMMAND_MALFORMED', id: '' },
  { name: 'no version', bytes: raw(deposit({ v: undefined })), code: 'COMMAND_UNSUPPORTED_VERSION', id: 'dep-1' },
  { name: 'version 2', bytes: raw(deposit({ v: 2 })), code: 'COMMAND_UNSUPPORTED_VERSION', id: 'dep-1' },
  { name: 'version as a string', bytes: raw(deposit({ v: '1' })), code: 'COMMAND_UNSUPPORTED_VERSION', id: 'dep-1' },
  {
    name: 'version 2 of an unknown type',
    bytes: raw(deposit({ v: 2, type: 'teleport' })),
    code: 'COMMAND_UNSUPPORTED_VERSION',
    id: 'dep-1',
  },
  { name: 'no type', bytes: raw(deposit({ type: undefined })), code: 'COMMAND_UNKNOWN_TYPE', id: 'dep-1' },
  { name: 'unknown type', bytes: raw(deposit({ type: 'teleport' })), code: 'COMMAND_UNKNOWN_TYPE', id: 'dep-1' },
  {
    name: 'an event type',
    bytes: raw(deposit({ type: 'depositCredited' })),
    code: 'COMMAND_UNKNOWN_TYPE',
    id: 'dep-1',
  },
  {
    name: 'a prototype key as type',
    bytes: raw(deposit({ type: 'constructor' })),
    code: 'COMMAND_UNKNOWN_TYPE',
    id: 'dep-1',
  },
  { name: 'type not a string', bytes: raw(deposit({ type: 3 })), code: 'COMMAND_UNKNOWN_TYPE', id: 'dep-1' },
  { name: 'missing field', bytes: raw(deposit({ depositId: undefined })), code: 'COMMAND_MALFORMED', id: 'dep-1' },
  { name: 'unknown field', bytes: raw(deposit({ memo: 'hi' })), code: 'COMMAND_MALFORMED', id: 'dep-1' },
  { name: 'timeMs from the producer', bytes: raw(deposit({ timeMs: T0 })), code: 'COMMAND_MALFORMED', id: 'dep-1' },
  {
    name: '__proto__ field',
    bytes:
      '{"v":1,"type":"deposit","id":"dep-1","userId":7,"assetId":1,"amount":"5","depositId":"tx","__proto__":{"x":1}}',
    code: 'COMMAND_MALFORMED',
    id: 'dep-1',
  },
  { name: 'amount as a JSON number', bytes: raw(deposit({ amount: 5000000 })), code: 'COMMAND_MALFORMED', id: 'dep-1' },
  { name: 'amount with a fraction', bytes: raw(deposit({ amount: '1.5' })), code: 'COMMAND_MALFORMED', id: 'dep-1' },
  { name: 'amount with a leading zero', bytes: raw(deposit({ amount: '05' })), code: 'COMMAND_MALFORMED', id: 'dep-1' },
  { name: 'amount with a plus sign', bytes: raw(deposit({ amount: '+5' })), code: 'COMMAND_MALFORMED', id: 'dep-1' },
  { name: 'amount minus zero', bytes: raw(deposit({ amount: '-0' })), code: 'COMMAND_MALFORMED', id: 'dep-1' },
  { name: 'amount in hex', bytes: raw(deposit({ amount: '0x10' })), code: 'COMMAND_MALFORMED', id: 'dep-1' },
  { name: 'amount empty', bytes: raw(deposit({ amount: '' })), code: 'COMMAND_MALFORMED', id: 'dep-1' },
  { name: 'amount with spaces', bytes: raw(deposit({ amount: ' 5' })), code: 'COMMAND_MALFORMED', id: 'dep-1' },
  {
    name: 'amount of 81 digits',
    bytes: raw(deposit({ amount: '1'.repeat(81) })),
    code: 'COMMAND_MALFORMED',
    id: 'dep-1',
  },
  { name: 'user id with a fraction', bytes: raw(deposit({ userId: 7.5 })), code: 'COMMAND_MALFORMED', id: 'dep-1' },
  { name: 'user id beyond 2^53', bytes: raw(deposit({ userId: 2 ** 53 })), code: 'COMMAND_MALFORMED', id: 'dep-1' },
  { name: 'user id as a string', bytes: raw(deposit({ userId: '7' })), code: 'COMMAND_MALFORMED', id: 'dep-1' },
  {
    name: 'external id too long',
    bytes: raw(deposit({ depositId: 'x'.repeat(257) })),
    code: 'COMMAND_MALFORMED',
    id: 'dep-1',
  },
  {
    name: 'side not in the enum',
    bytes: raw({
      v: 1,
      type: 'placeOrder',
      id: 'p1',
      userId: 7,
      marketId: 0,
      side: 'long',
      orderType: 'limit',
      price: '1',
      quantity: '1',
    }),
    code: 'COMMAND_MALFORMED',
    id: 'p1',
  },
  {
    name: 'postOnly not a boolean',
    bytes: raw({
      v: 1,
      type: 'placeOrder',
      id: 'p1',
      userId: 7,
      marketId: 0,
      side: 'buy',
      orderType: 'limit',
      price: '1',
      quantity: '1',
      postOnly: 'yes',
    }),
    code: 'COMMAND_MALFORMED',
    id: 'p1',
  },
  {
    name: 'optional field null',
    bytes: raw({ v: 1, type: 'cancelAll', id: 'p1', userId: 7, marketId: null }),
    code: 'COMMAND_MALFORMED',
    id: 'p1',
  },
];

t.test("every malformed record gets its code and, when usable, the producer's id", async (t) => {
  for (const m of MALFORMED) {
    const r = decodeCommand(m.bytes, T0);
    t.match(r, { ok: false, code: m.code, id: m.id }, m.name);
    if (!r.ok) t.ok(r.detail.length > 0 && r.detail.length <= 200, `${m.name}: a short detail (${r.detail})`);
  }
});

t.test('a malformed record becomes one rejected commandResult in sequence, and the stream goes on', async (t) => {
  const engine = new Engine();
  const first = engine.apply(
    decodeOk(raw({ v: 1, type: 'addAsset', id: 'a1', assetId: 0, symbol: 'WETH', decimals: 18 }), T0),
  );
  let seq = first[first.length - 1].seq;
  for (const [i, m] of MALFORMED.entries()) {
    const r = decodeCommand(m.bytes, T0 + i);
    if (r.ok) throw new Error(`${m.name} decoded`);
    const events = engine.applyInvalid(r.id, T0 + i, r.code);
    t.strictSame(
      events,
      [
        {
          v: 1,
          seq: ++seq,
          cmdId: m.id,
          timeMs: T0 + i,
          type: 'commandResult',
          status: 'rejected',
          code: m.code,
          orderId: null,
          duplicateOf: null,
        },
      ],
      m.name,
    );
    t.strictSame(decodeEvent(encodeEvent(events[0])), events[0], `${m.name}: its rejection is a valid event`);
  }
  const after = engine.apply(
    decodeOk(raw({ v: 1, type: 'addAsset', id: 'a2', assetId: 1, symbol: 'USDC', decimals: 6 }), T0 + 1000),
  );
  t.match(
    after,
    [
      { type: 'assetAdded', seq: seq + 1 },
      { type: 'commandResult', status: 'accepted', seq: seq + 2 },
    ],
    'the next command is applied normally',
  );
  t.strictSame(checkInvariants(engine), []);
});

t.test('applyInvalid keeps engine time monotonic like apply', async (t) => {
  const engine = new Engine();
  engine.applyInvalid('c1', T0 + 100, 'COMMAND_MALFORMED');
  const [late] = engine.applyInvalid('c2', T0, 'COMMAND_UNKNOWN_TYPE');
  t.equal(late.timeMs, T0 + 100, "an earlier record timestamp counts as the previous command's time");
  t.equal(engine.lastTimeMs, T0 + 100);
  t.equal(engine.commandsApplied, 2, 'counted as commands, as apply counts a rejected one');
});

t.test('event bytes are deterministic: schema field order, whatever order the object was built in', async (t) => {
  const ev = EVENT_EXAMPLES.trade as EngineEvent;
  const reversed = Object.fromEntries(Object.entries(ev).reverse()) as unknown as EngineEvent;
  t.equal(encodeEvent(reversed), encodeEvent(ev));
  t.equal(encodeEvent(decodeEvent(encodeEvent(ev))), encodeEvent(ev), 'decode then encode gives the same bytes');
  // The exact bytes of one event, pinned: a change here changes the public format.
  t.equal(
    encodeEvent(EVENT_EXAMPLES.commandResult as EngineEvent),
    '{"v":1,"type":"commandResult","seq":1012,"cmdId":"gw-7f3a","timeMs":1767225600000,"status":"accepted","code":null,"orderId":42,"duplicateOf":null}',
  );
  t.equal(
    encodeEvent(EVENT_EXAMPLES.balanceChanged as EngineEvent),
    '{"v":1,"type":"balanceChanged","seq":1010,"cmdId":"gw-7f3a","timeMs":1767225600000,"userId":7,"assetId":1,"available":"3998000000","held":"400800000","pending":"0"}',
  );
});

t.test('encodeCommand writes schema order, drops timeMs and refuses what the schema refuses', async (t) => {
  const cmd = { ...COMMAND_EXAMPLES.cancelAll, timeMs: T0 } as Command;
  t.equal(
    encodeCommand(cmd),
    '{"v":1,"type":"cancelAll","id":"gw-7f3c","userId":7,"marketId":0}',
    'a full Command loses its timeMs',
  );
  t.equal(
    encodeCommand({ v: 1, type: 'cancelAll', id: 'c', userId: 7 }),
    '{"v":1,"type":"cancelAll","id":"c","userId":7}',
    'absent optional fields are left out',
  );
  t.throws(() => encodeCommand({ ...COMMAND_EXAMPLES.cancelAll, id: 'has space' }), WireError);
  t.throws(
    () => encodeCommand({ ...COMMAND_EXAMPLES.deposit, amount: 5 as unknown as bigint }),
    WireError,
    'an amount must be a bigint',
  );
  t.throws(() => encodeCommand({ ...COMMAND_EXAMPLES.cancelAll, type: 'nope' } as unknown as CommandInput), WireError);
});

t.test('decodeEvent refuses what is not a v1 event', async (t) => {
  const good = JSON.parse(encodeEvent(EVENT_EXAMPLES.depositCredited as EngineEvent)) as Record<string, unknown>;
  const cases: [string, string][] = [
    ['bad JSON', '{'],
    ['not an object', '[1]'],
    ['version 2', JSON.stringify({ ...good, v: 2 })],
    ['unknown type', JSON.stringify({ ...good, type: 'depositDebited' })],
    ['a command', encodeCommand(COMMAND_EXAMPLES.deposit)],
    ['unknown field', JSON.stringify({ ...good, extra: 1 })],
    ['missing field', JSON.stringify({ ...good, amount: undefined })],
    ['negative amount', JSON.stringify({ ...good, amount: '-1' })],
    ['amount as a number', JSON.stringify({ ...good, amount: 1 })],
    ['seq 0', JSON.stringify({ ...good, seq: 0 })],
  ];
  for (const [name, text] of cases) t.throws(() => decodeEvent(text), WireError, name);
});

t.test('encodeEvent refuses an event the engine cannot have made', async (t) => {
  const ev = EVENT_EXAMPLES.depositCredited as EngineEvent;
  t.throws(() => encodeEvent({ ...ev, amount: undefined } as unknown as EngineEvent), WireError, 'a missing field');
  t.throws(
    () => encodeEvent({ ...ev, amount: 5 } as unknown as EngineEvent),
    WireError,
    'a number where a bigint belongs',
  );
  t.throws(() => encodeEvent({ ...ev, type: 'nope' } as unknown as EngineEvent), WireError, 'an unknown type');
});

t.test('events travel as records of consecutive events, cut by size, never inside an event', async (t) => {
  const result = EVENT_EXAMPLES.commandResult as EngineEvent;
  const fill = EVENT_EXAMPLES.orderPartiallyFilled as EngineEvent;
  const one = encodeEventRecords([{ ...fill, seq: 1 } as EngineEvent, { ...result, seq: 2 } as EngineEvent]);
  t.equal(one.length, 1, 'a few events: one record');
  t.match(
    one[0],
    /^\{"v":1,"events":\[\{"v":1,"type":"orderPartiallyFilled"/,
    'envelope first, in a fixed field order',
  );

  // Many commands' events in one run, as the daemon packs a batch.
  const many: EngineEvent[] = [];
  for (let c = 0; c < 700; c++) {
    many.push({ ...fill, seq: many.length + 1, cmdId: `c${c}` } as EngineEvent);
    many.push({ ...fill, seq: many.length + 1, cmdId: `c${c}` } as EngineEvent);
    many.push({ ...result, seq: many.length + 1, cmdId: `c${c}` } as EngineEvent);
  }
  const records = encodeEventRecords(many);
  t.ok(records.length > 1, `${many.length} events split over ${records.length} records`);
  t.ok(
    records.every((r) => r.length <= EVENT_RECORD_BYTES_TARGET + 20),
    'none past the target size (plus the envelope)',
  );
  // V8's largest regular heap object is 128 KiB; a longer string is made in the large-object space, ~50x slower.
  t.ok(
    records.every((r) => r.length + 64 <= 128 * 1024),
    'each record decodes into a regular heap string (under 128 KiB with its header)',
  );
  const back = records.map((r) => decodeEventRecord(r));
  t.strictSame(back.flat(), many, 'together they are the events, in order');

  const packer = new EventRecordPacker();
  for (const ev of many.slice(0, 3)) packer.add(ev);
  t.strictSame(
    packer.take(),
    ['{"v":1,"events":[' + many.slice(0, 3).map(encodeEvent).join(',') + ']}'],
    'the packer wraps the encoded events in one envelope',
  );
  t.strictSame(packer.take(), [], 'and starts empty again');
});

t.test('decodeEventRecord refuses what is not a v1 record of consecutive events', async (t) => {
  const two = [
    { ...(EVENT_EXAMPLES.orderRested as EngineEvent), seq: 5 },
    { ...(EVENT_EXAMPLES.commandResult as EngineEvent), seq: 6 },
  ] as EngineEvent[];
  const good = JSON.parse(encodeEventRecords(two)[0]) as { v: number; events: object[] };
  const bad: Array<[string, unknown]> = [
    ['not json', '{nope'],
    ['an array', '[]'],
    ['another version', { ...good, v: 2 }],
    ['no events', { v: 1 }],
    ['empty events', { ...good, events: [] }],
    ['an extra field', { ...good, cmdId: 'x' }],
    ['a gap in seq', { ...good, events: [good.events[0], { ...good.events[1], seq: 7 }] }],
    ['an invalid event', { ...good, events: [{ ...good.events[0], seq: 0 }] }],
    ['an event that is not an object', { ...good, events: [1] }],
  ];
  for (const [name, value] of bad) {
    t.throws(() => decodeEventRecord(typeof value === 'string' ? value : JSON.stringify(value)), WireError, name);
  }
  t.strictSame(decodeEventRecord(JSON.stringify(good)), two, 'the good one decodes');
});
