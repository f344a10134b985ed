// JSON codec between the wire schemas (schemas.ts) and the engine's in-memory commands and events. Pure: no I/O.
//
// decodeCommand never throws: whatever bytes arrive on the command topic, it returns either a command for
// Engine.apply or a rejection (id, code, detail) for Engine.applyInvalid, so a malformed record costs one
// rejection event and never stops the stream. Checks run in this order, each answering with its code:
//   1. bytes that are not UTF-8 JSON of an object, or an object without a usable `id`  -> COMMAND_MALFORMED
//   2. `v` is not 1                                                                    -> COMMAND_UNSUPPORTED_VERSION
//   3. `type` is not a command type of version 1                                       -> COMMAND_UNKNOWN_TYPE
//   4. any other violation of the type's schema (including a `timeMs` field)           -> COMMAND_MALFORMED
// The version is checked before the type because the version defines which types exist.
//
// The rejection's `id` is what lets a producer waiting for its answer find it (events carry it as `cmdId`):
// it is the command's own id whenever that id is usable, i.e. a string satisfying the id rule (1-128 printable
// ASCII characters), however wrong the rest of the command is. When there is no usable id (bad JSON, not an
// object, id missing, not a string, too long, with spaces or control characters) the id is '' - deterministic,
// so a replay gives the same event, and never an echo of arbitrary producer bytes. Such a rejection cannot be
// matched to its producer; the daemon's log (with the record offset) is where it can be traced.

import { Compile } from 'typebox/compile';
import type { Validator } from 'typebox/compile';
import type { TSchema } from 'typebox';
import type { Command } from '../core/commands.js';
import type { RejectCode } from '../core/codes.js';
import type { EngineEvent } from '../core/events.js';
import { COMMAND_ID_MAX_LENGTH, isPrintableId } from '../core/formats.js';
import { COMMAND_SCHEMAS, EVENT_SCHEMAS, WIRE_VERSION, bigintFields } from './schemas.js';

/** A command as a producer writes it: the daemon adds `timeMs`. */
export type CommandInput = Command extends infer C ? (C extends Command ? Omit<C, 'timeMs'> : never) : never;

export type DecodeResult =
  | { readonly ok: true; readonly command: Command }
  | { readonly ok: false; readonly id: string; readonly code: RejectCode; readonly detail: string };

/** Commands are a few hundred bytes; anything much larger is refused before parsing. */
export const COMMAND_BYTES_MAX = 16 * 1024;
const DETAIL_MAX_LENGTH = 200;

/** A message on the events topic that is not a valid event of this version. */
export class WireError extends Error {
  override readonly name = 'WireError';
}

// ---------------------------------------------------------------------------------------------------------------
// Compiled once per type: the validator plus the field order and bigint fields that encoding and decoding use.

interface Codec {
  readonly validator: Validator;
  /** Field names in schema order: encoding writes them in this order, so the bytes never depend on the object. */
  readonly fields: readonly string[];
  /** Per field in `fields`: does it carry a bigint as a decimal string? */
  readonly isBigint: readonly boolean[];
  /** The bigint fields alone, for decoding. */
  readonly bigints: readonly string[];
  /** `"name":` of each field, with a leading comma after the first, precomputed for encoding. */
  readonly prefixes: readonly string[];
  readonly schema: { readonly properties: Record<string, unknown>; readonly required?: readonly string[] };
  /** One validator per field, compiled on the first error that needs it (the error path only). */
  readonly fieldValidators: Map<string, Validator>;
}

function codecFor(schema: Codec['schema']): Codec {
  const fields = Object.keys(schema.properties);
  const bigints = bigintFields(schema);
  return {
    validator: Compile(schema as TSchema) as Validator,
    fields,
    isBigint: fields.map((f) => bigints.includes(f)),
    bigints,
    prefixes: fields.map((f, i) => (i === 0 ? '' : ',') + JSON.stringify(f) + ':'),
    schema,
    fieldValidators: new Map(),
  };
}

function codecs(schemas: Record<string, Codec['schema']>): Map<string, Codec> {
  return new Map(Object.entries(schemas).map(([type, schema]) => [type, codecFor(schema)]));
}

const COMMAND_CODECS = codecs(COMMAND_SCHEMAS);
const EVENT_CODECS = codecs(EVENT_SCHEMAS);

// ---------------------------------------------------------------------------------------------------------------
// Commands

const utf8 = new TextDecoder('utf-8', { fatal: true });
function reject(id: string, code: RejectCode, detail: string): DecodeResult {
  return {
    ok: false,
    id,
    code,
    detail: detail.length > DETAIL_MAX_LENGTH ? detail.slice(0, DETAIL_MAX_LENGTH - 3) + '...' : detail,
  };
}

/**
 * Decodes one record of the command topic. `timeMs` is the record's Kafka timestamp; it becomes the command's
 * time (a command carrying its own `timeMs` is malformed). Never throws.
 */
export function decodeCommand(bytes: Uint8Array | string, timeMs: number): DecodeResult {
  if (bytes.length > COMMAND_BYTES_MAX)
    return reject('', 'COMMAND_MALFORMED', `command larger than ${COMMAND_BYTES_MAX} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(typeof bytes === 'string' ? bytes : utf8.decode(bytes));
  } catch {
    return reject('', 'COMMAND_MALFORMED', 'not UTF-8 JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return reject('', 'COMMAND_MALFORMED', 'not a JSON object');
  const obj = value as Record<string, unknown>;
  if (!isPrintableId(obj.id, COMMAND_ID_MAX_LENGTH))
    return reject('', 'COMMAND_MALFORMED', 'id missing or not 1-128 printable ASCII characters');
  const id = obj.id;
  if (obj.v !== WIRE_VERSION) return reject(id, 'COMMAND_UNSUPPORTED_VERSION', `v must be ${WIRE_VERSION}`);
  const codec = typeof obj.type === 'string' ? COMMAND_CODECS.get(obj.type) : undefined;
  if (codec === undefined)
    return reject(id, 'COMMAND_UNKNOWN_TYPE', `unknown command type ${JSON.stringify(obj.type) ?? 'undefined'}`);
  if (!codec.validator.Check(obj)) return reject(id, 'COMMAND_MALFORMED', describeErrors(codec, obj));
  for (const name of codec.bigints) {
    const text = obj[name];
    if (text !== undefined) obj[name] = BigInt(text as string);
  }
  obj.timeMs = timeMs;
  return { ok: true, command: obj as unknown as Command };
}

/** Encodes a command for the command topic (producers), in schema field order. Throws when it breaks the schema. */
export function encodeCommand(cmd: CommandInput): string {
  const codec = COMMAND_CODECS.get((cmd as { type: unknown }).type as string);
  if (codec === undefined)
    throw new WireError(`unknown command type ${JSON.stringify((cmd as { type: unknown }).type)}`);
  const text = encodeWith(codec, cmd as unknown as Record<string, unknown>, true);
  const check = JSON.parse(text) as unknown;
  if (!codec.validator.Check(check))
    throw new WireError(`command does not match its schema: ${describeErrors(codec, check)}`);
  return text;
}

// ---------------------------------------------------------------------------------------------------------------
// Events

/**
 * Encodes an engine event for the events topic: fields in schema order, bigints as decimal strings, no
 * whitespace, so the same event always gives the same bytes (whatever order its object was built in). Not
 * validated (hot path; the engine is the only writer); throws only on an event the engine cannot have made.
 */
export function encodeEvent(ev: EngineEvent): string {
  const codec = EVENT_CODECS.get(ev.type);
  if (codec === undefined) throw new WireError(`unknown event type ${JSON.stringify(ev.type)}`);
  return encodeWith(codec, ev as unknown as Record<string, unknown>, false);
}

/** Decodes and validates one event's JSON text. Throws WireError when it is not a v1 event. */
export function decodeEvent(text: string | Uint8Array): EngineEvent {
  return eventFromJson(parseJson(text, 'event'));
}

/**
 * A record of the events topic holds a contiguous run of events in `seq` order: `{"v":1,"events":[…]}`, the
 * events of a batch of commands, cut into records of at most about EVENT_RECORD_BYTES_TARGET (never inside an
 * event). Few large records keep the broker client's per-record cost (about 10 µs in kafkajs) off the hot path;
 * a consumer reads the events one by one, so where the cuts fall does not matter to it. A command's events may
 * span two records; its commandResult is always its last event.
 *
 * Why 120 KiB and not more: every reader turns a record into one string for JSON.parse, and V8 puts a string
 * past 128 KiB (its largest regular heap object) in the large-object space, where making it costs about 50 times
 * as much: 136 MB of records as 261 KB strings took 650-860 ms here, as 131 KB strings 14 ms (Node 20). The
 * daemon's encoder flattens each record into one string too. The envelope and the string header fit in the rest.
 */
export const EVENT_RECORD_BYTES_TARGET = 120 * 1024;
/** A record's text around its comma-joined events (a standby compares records as text: divergence.ts). */
export const EVENT_RECORD_HEAD = '{"v":' + WIRE_VERSION + ',"events":[';
export const EVENT_RECORD_TAIL = ']}';

/** Packs events into records as they come: add() each event in order, then take() the records. */
export class EventRecordPacker {
  private readonly records: string[] = [];
  private body = '';

  add(ev: EngineEvent): void {
    this.addEncoded(encodeEvent(ev));
  }

  /** Events already encoded: one, or a comma-joined run of them (never cut apart). */
  addEncoded(text: string): void {
    if (this.body.length > 0 && this.body.length + text.length > EVENT_RECORD_BYTES_TARGET) this.cut();
    this.body = this.body.length > 0 ? this.body + ',' + text : text;
  }

  /** The records of every event added since the last take(). */
  take(): string[] {
    if (this.body.length > 0) this.cut();
    return this.records.splice(0);
  }

  private cut(): void {
    this.records.push(EVENT_RECORD_HEAD + this.body + EVENT_RECORD_TAIL);
    this.body = '';
  }
}

/** The records for a run of events (in `seq` order). */
export function encodeEventRecords(events: readonly EngineEvent[]): string[] {
  const packer = new EventRecordPacker();
  for (const ev of events) packer.add(ev);
  return packer.take();
}

/** Decodes and validates one record of the events topic (consumers). Throws WireError when it is not a v1 record. */
export function decodeEventRecord(value: string | Uint8Array): EngineEvent[] {
  const obj = parseJson(value, 'event record');
  if (obj.v !== WIRE_VERSION) throw new WireError(`unsupported event record version ${JSON.stringify(obj.v)}`);
  const extra = Object.keys(obj).filter((k) => k !== 'v' && k !== 'events');
  if (extra.length > 0) throw new WireError(`unexpected field in event record: ${extra.join(', ')}`);
  const { events } = obj;
  if (!Array.isArray(events) || events.length === 0) throw new WireError('event record has no events');
  return events.map((item: unknown, i) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item))
      throw new WireError(`event ${i} of the record is not a JSON object`);
    const ev = eventFromJson(item as Record<string, unknown>);
    if (i > 0 && ev.seq !== (events[i - 1] as { seq: number }).seq + 1)
      throw new WireError(
        `event ${i} of the record has seq ${ev.seq} after ${(events[i - 1] as { seq: number }).seq}: a record is a run of consecutive events`,
      );
    return ev;
  });
}

function parseJson(text: string | Uint8Array, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(typeof text === 'string' ? text : utf8.decode(text));
  } catch {
    throw new WireError(`${what} is not UTF-8 JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new WireError(`${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

function eventFromJson(obj: Record<string, unknown>): EngineEvent {
  if (obj.v !== WIRE_VERSION) throw new WireError(`unsupported event version ${JSON.stringify(obj.v)}`);
  const type = obj.type;
  const codec = typeof type === 'string' ? EVENT_CODECS.get(type) : undefined;
  if (codec === undefined) throw new WireError(`unknown event type ${JSON.stringify(type)}`);
  if (!codec.validator.Check(obj))
    throw new WireError(`${String(type)} event does not match its schema: ${describeErrors(codec, obj)}`);
  for (const name of codec.bigints) obj[name] = BigInt(obj[name] as string);
  return obj as unknown as EngineEvent;
}

// ---------------------------------------------------------------------------------------------------------------
// Shared

/** JSON text of `obj`'s schema fields in schema order; undefined fields are skipped when `optionalAllowed`. */
function encodeWith(codec: Codec, obj: Record<string, unknown>, optionalAllowed: boolean): string {
  let out = '{';
  let first = true;
  for (let i = 0; i < codec.fields.length; i++) {
    const name = codec.fields[i];
    const value = obj[name];
    if (value === undefined) {
      if (optionalAllowed) continue;
      throw new WireError(`${String(obj.type)}: field ${name} is missing`);
    }
    if (codec.isBigint[i] && typeof value !== 'bigint')
      throw new WireError(`${String(obj.type)}: field ${name} must be a bigint`);
    // The precomputed prefix carries a comma unless it is the first field; optional fields may skip the first.
    out += first && i > 0 ? codec.prefixes[i].slice(1) : codec.prefixes[i];
    out += typeof value === 'bigint' ? '"' + value.toString() + '"' : JSON.stringify(value);
    first = false;
  }
  return out + '}';
}

/**
 * A short, stable description of the first schema violation: an unknown field, else the first field in schema
 * order that is missing or wrong. Field by field rather than the whole object's error list, which costs ten
 * times more: a stream of malformed records must not be much slower to reject than good ones are to apply.
 */
function describeErrors(codec: Codec, value: unknown): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (key === 'timeMs' && !Object.hasOwn(codec.schema.properties, key))
      return 'unexpected field "timeMs": the daemon stamps the record time';
    if (!Object.hasOwn(codec.schema.properties, key)) return `unexpected field ${JSON.stringify(key)}`;
  }
  const required = codec.schema.required ?? [];
  for (const name of codec.fields) {
    const field = obj[name];
    if (field === undefined) {
      if (required.includes(name)) return `missing field ${JSON.stringify(name)}`;
      continue;
    }
    const validator = fieldValidator(codec, name);
    if (!validator.Check(field)) return `/${name}: ${validator.Errors(field)[0]?.message ?? 'invalid'}`;
  }
  return 'does not match the schema';
}

function fieldValidator(codec: Codec, name: string): Validator {
  let validator = codec.fieldValidators.get(name);
  if (validator === undefined) {
    validator = Compile(codec.schema.properties[name] as TSchema) as Validator;
    codec.fieldValidators.set(name, validator);
  }
  return validator;
}
