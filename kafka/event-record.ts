// Decoding a record of the events topic on the consumers' side. The topic is trusted: its only writer is the engine
// daemon, which encodes the engine's own event objects (engine/wire/codec.ts encodeEvent, fields in schema order).
// Checking every event against its schema again was most of a consumer's decoding time and can only find a bug in
// the writer, so the readers check the framing instead: the record's envelope, each event's version and known
// type, and consecutive `seq`s (what deduplication and gap detection rely on), and turn the decimal strings of
// bigint fields into bigints. Anything else wrong in a record stops the reader as EVENTS_BAD_RECORD with its offset.
// Untrusted input (a file handed in by an operator, tests) keeps decodeEventRecord's full validation.

import type { EngineEvent } from '../engine/core/index.js';
import { EVENT_SCHEMAS, WIRE_VERSION, bigintFields } from '../engine/wire/schemas.js';
import { EventStreamError } from './errors.js';

/** Per event type, the fields that carry a bigint as a decimal string. */
const BIGINT_FIELDS: ReadonlyMap<string, readonly string[]> = new Map(
  Object.entries(EVENT_SCHEMAS).map(([type, schema]) => [type, bigintFields(schema)]),
);

/** A decimal integer as the encoder writes a bigint (BigInt() alone would also take hex, binary and blanks). */
const DECIMAL = /^-?\d+$/;

/** The events of one record, checked as the file comment says; throws EventStreamError(EVENTS_BAD_RECORD). */
export function decodeTrustedEventRecord(value: Uint8Array | string | null, offset: number): EngineEvent[] {
  const bad = (detail: string): EventStreamError =>
    new EventStreamError('EVENTS_BAD_RECORD', `events topic record at offset ${offset}: ${detail}`, offset);
  let record: unknown;
  try {
    record = JSON.parse(typeof value === 'string' ? value : utf8Of(value));
  } catch {
    throw bad('not JSON');
  }
  const { v, events } = (record ?? {}) as { v?: unknown; events?: unknown };
  if (v !== WIRE_VERSION) throw bad(`envelope version ${JSON.stringify(v)}, expected ${WIRE_VERSION}`);
  if (!Array.isArray(events) || events.length === 0) throw bad('no events');
  for (let i = 0; i < events.length; i++) {
    const problem = fixEvent(events[i], i === 0 ? null : (events[i - 1] as EngineEvent).seq);
    if (problem !== null) throw bad(`event ${i}: ${problem}`);
  }
  return events as EngineEvent[];
}

/** The bytes as text, read in place: Buffer.from(bytes) would copy a 120 KiB record first. */
function utf8Of(value: Uint8Array | null): string {
  if (value === null) return '';
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
}

/** Checks one event's framing and turns its bigint fields into bigints; returns what is wrong, or null. */
function fixEvent(item: unknown, previousSeq: number | null): string | null {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return 'not a JSON object';
  const ev = item as Record<string, unknown>;
  if (ev.v !== WIRE_VERSION) return `version ${JSON.stringify(ev.v)}`;
  const fields = typeof ev.type === 'string' ? BIGINT_FIELDS.get(ev.type) : undefined;
  if (fields === undefined) return `unknown type ${JSON.stringify(ev.type)}`;
  const seq = ev.seq;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) return `seq ${JSON.stringify(seq)}`;
  if (previousSeq !== null && seq !== previousSeq + 1)
    return `seq ${seq} after ${previousSeq}: a record is a run of consecutive events`;
  for (const name of fields) {
    const text = ev[name];
    if (typeof text !== 'string' || !DECIMAL.test(text)) return `${ev.type} field ${name} is not a decimal integer`;
    ev[name] = BigInt(text);
  }
  return null;
}
