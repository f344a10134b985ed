// The readers' decoding of the events topic (kafka/event-record.ts): a record the daemon writes decodes to the same
// events as the fully validating decoder gives, and a record whose framing is wrong stops the reader with
// EVENTS_BAD_RECORD and its offset.

import t from 'tap';
import type { EngineEvent } from '../../engine/core/index.js';
import { EVENT_EXAMPLES } from '../../engine/wire/examples.js';
import { decodeEventRecord, encodeEventRecords } from '../../engine/wire/codec.js';
import { decodeTrustedEventRecord } from '../../kafka/event-record.js';

/** One event of every type, numbered as one run. */
const allTypes = Object.values(EVENT_EXAMPLES).map((ev, i) => ({ ...ev, seq: 1 + i }) as EngineEvent);
const records = encodeEventRecords(allTypes);
const good = JSON.parse(records[0]) as { v: number; events: Record<string, unknown>[] };

t.test('every event type decodes as the validating decoder decodes it, bigints included', async (t) => {
  t.equal(records.length, 1, 'the example is one record');
  const fromBytes = decodeTrustedEventRecord(Buffer.from(records[0]), 7);
  t.strictSame(fromBytes, decodeEventRecord(records[0]));
  t.strictSame(fromBytes, allTypes);
  t.ok(
    fromBytes.some((ev) => Object.values(ev).some((v) => typeof v === 'bigint')),
    'the example has bigint fields, and they come back as bigints',
  );
  // kafkajs hands each value as a view into the fetch response's buffer: decoded in place, its offset counts.
  const fetch = Buffer.from(`garbage before${records[0]}and after`);
  const view = fetch.subarray('garbage before'.length, 'garbage before'.length + Buffer.byteLength(records[0]));
  t.strictSame(decodeTrustedEventRecord(view, 7), allTypes, 'a value inside a larger buffer');
});

t.test('a record with wrong framing is EVENTS_BAD_RECORD, naming its offset', async (t) => {
  const [first, second] = good.events;
  const withBigint = good.events.find((ev) => ev.type === 'depositCredited') as Record<string, unknown>;
  const bad: Array<[string, unknown]> = [
    ['not JSON', '{nope'],
    ['an empty value', null],
    ['an array', '[]'],
    ['another envelope version', { ...good, v: 2 }],
    ['no events', { v: 1 }],
    ['empty events', { v: 1, events: [] }],
    ['an event that is not an object', { v: 1, events: [1] }],
    ['another event version', { v: 1, events: [{ ...first, v: 2 }] }],
    ['an unknown event type', { v: 1, events: [{ ...first, type: 'orderTeleported' }] }],
    ['a seq that is not a whole number', { v: 1, events: [{ ...first, seq: 1.5 }] }],
    ['a seq of 0', { v: 1, events: [{ ...first, seq: 0 }] }],
    ['a gap in seq', { v: 1, events: [first, { ...second, seq: (first.seq as number) + 2 }] }],
    ['seqs out of order', { v: 1, events: [second, first] }],
    ['a bigint field that is a number', { v: 1, events: [{ ...withBigint, amount: 5 }] }],
    ['a bigint field in hex', { v: 1, events: [{ ...withBigint, amount: '0x10' }] }],
  ];
  for (const [name, value] of bad) {
    const text = value === null ? null : typeof value === 'string' ? value : JSON.stringify(value);
    t.throws(
      () => decodeTrustedEventRecord(text, 42),
      { name: 'EventStreamError', code: 'EVENTS_BAD_RECORD', offset: 42 },
      name,
    );
  }
});
