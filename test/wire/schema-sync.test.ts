// The wire schemas mirror engine/core's Command and EngineEvent exactly. Two layers:
// - type level (checked by `tsc --noEmit -p .`): the schema maps have exactly the core's types as keys, and every
//   schema's static type equals the core type with bigints as strings (and, for commands, without timeMs):
//   same field names, same optionality, same enums;
// - run time (checked by tap): the same key lists, each schema's `type` literal, and the unions' members.

import t from 'tap';
import type { Command, CommandType, EngineEvent, EventType } from '../../engine/core/index.js';
import { COMMAND_SCHEMAS, CommandWire, EVENT_SCHEMAS, EventWire } from '../../engine/wire/schemas.js';
import type { CommandWireOf, EventWireOf } from '../../engine/wire/schemas.js';
import type { EventOf } from '../../engine/wire/examples.js';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;
/** Drops readonly and flattens intersections, so equal shapes compare equal. */
type Flat<T> = { -readonly [K in keyof T]: T[K] };
type WireValue<V> = V extends bigint ? string : V;
/** The wire form of a core type: bigints become decimal strings, `dropped` fields disappear. */
type ToWire<T, Dropped extends string> = Flat<{ [K in keyof T as K extends Dropped ? never : K]: WireValue<T[K]> }>;

type CommandOf<K extends CommandType> = Extract<Command, { type: K }>;
/** Command types whose schema differs from the core type (never when all agree). */
type CommandMismatches = {
  [K in CommandType]: Equal<Flat<CommandWireOf<K>>, ToWire<CommandOf<K>, 'timeMs'>> extends true ? never : K;
}[CommandType];
type EventMismatches = {
  [K in EventType]: Equal<Flat<EventWireOf<K>>, ToWire<EventOf<K>, never>> extends true ? never : K;
}[EventType];

export type TypeLevelChecks = [
  Expect<Equal<keyof typeof COMMAND_SCHEMAS, CommandType>>,
  Expect<Equal<keyof typeof EVENT_SCHEMAS, EventType>>,
  Expect<Equal<CommandMismatches, never>>,
  Expect<Equal<EventMismatches, never>>,
];

// Run-time lists of the core's types. Object literals typed Record<Union, true> must name every member and no
// other, so these lists cannot fall behind engine/core without a compile error.
const CORE_COMMAND_TYPES: Record<CommandType, true> = {
  addAsset: true,
  addMarket: true,
  deposit: true,
  requestWithdrawal: true,
  completeWithdrawal: true,
  failWithdrawal: true,
  placeOrder: true,
  cancelOrder: true,
  cancelAll: true,
  amendOrder: true,
  setMarketStatus: true,
  setUserFrozen: true,
};
const CORE_EVENT_TYPES: Record<EventType, true> = {
  commandResult: true,
  assetAdded: true,
  marketAdded: true,
  orderAccepted: true,
  orderRejected: true,
  orderRested: true,
  orderTriggered: true,
  orderPartiallyFilled: true,
  orderFilled: true,
  orderCanceled: true,
  orderExpired: true,
  orderAmended: true,
  trade: true,
  balanceChanged: true,
  depositCredited: true,
  withdrawalPending: true,
  withdrawalCompleted: true,
  withdrawalFailed: true,
  marketStatusChanged: true,
  userFrozenChanged: true,
};

const sorted = (xs: Iterable<string>): string[] => [...xs].sort();
const typeConst = (schema: unknown): unknown =>
  (schema as { properties: { type: { const: unknown } } }).properties.type.const;

t.test('the command schema map has exactly the core command types', async (t) => {
  t.strictSame(sorted(Object.keys(COMMAND_SCHEMAS)), sorted(Object.keys(CORE_COMMAND_TYPES)));
  for (const [type, schema] of Object.entries(COMMAND_SCHEMAS))
    t.equal(typeConst(schema), type, `${type} schema's type literal`);
});

t.test('the event schema map has exactly the core event types', async (t) => {
  t.strictSame(sorted(Object.keys(EVENT_SCHEMAS)), sorted(Object.keys(CORE_EVENT_TYPES)));
  for (const [type, schema] of Object.entries(EVENT_SCHEMAS))
    t.equal(typeConst(schema), type, `${type} schema's type literal`);
});

t.test('the CommandWire and EventWire unions hold exactly the mapped schemas', async (t) => {
  t.strictSame(sorted(CommandWire.anyOf.map((s) => String(typeConst(s)))), sorted(Object.keys(COMMAND_SCHEMAS)));
  t.strictSame(sorted(EventWire.anyOf.map((s) => String(typeConst(s)))), sorted(Object.keys(EVENT_SCHEMAS)));
  for (const s of CommandWire.anyOf)
    t.equal(s, COMMAND_SCHEMAS[typeConst(s) as CommandType], 'the union member is the mapped schema object');
  for (const s of EventWire.anyOf)
    t.equal(s, EVENT_SCHEMAS[typeConst(s) as EventType], 'the union member is the mapped schema object');
});

t.test('no command schema accepts timeMs and every schema refuses unknown fields', async (t) => {
  for (const [type, schema] of Object.entries(COMMAND_SCHEMAS)) {
    t.notOk('timeMs' in schema.properties, `${type} has no timeMs on the wire`);
    t.equal(
      (schema as { additionalProperties?: unknown }).additionalProperties,
      false,
      `${type} refuses unknown fields`,
    );
  }
  for (const [type, schema] of Object.entries(EVENT_SCHEMAS))
    t.equal(
      (schema as { additionalProperties?: unknown }).additionalProperties,
      false,
      `${type} refuses unknown fields`,
    );
});

// Keeps EngineEvent referenced for readers: EventOf splits the shared fill/close interfaces per type.
export type _EventUnion = EngineEvent;
