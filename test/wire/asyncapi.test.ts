// docs/asyncapi.yaml is the published description of the engine's Kafka interface. It must be what the generator
// makes from the current schemas, a valid AsyncAPI 3 document, and complete: every command type has a documented
// message whose payload is exactly its wire schema, and the events topic's one message (a record of a command's
// events) admits exactly the event schemas.

import { readFileSync } from 'node:fs';
import t from 'tap';
import { DiagnosticSeverity, Parser } from '@asyncapi/parser';
import type { AsyncAPIDocumentInterface } from '@asyncapi/parser';
import { REJECT_CODES } from '../../engine/core/codes.js';
import { decodeCommand, decodeEvent, decodeEventRecord } from '../../engine/wire/codec.js';
import { COMMAND_SCHEMAS, EVENT_SCHEMAS, EventRecordWire } from '../../engine/wire/schemas.js';
import {
  DEFAULT_COMMANDS_TOPIC,
  DEFAULT_EVENTS_TOPIC,
  EVENT_RECORD_MESSAGE_ID,
  buildAsyncApi,
  commandMessageId,
  renderAsyncApi,
} from '../../tools/asyncapi/document.js';
import { toYaml } from '../../tools/asyncapi/yaml.js';

const DOC_PATH = new URL('../../docs/asyncapi.yaml', import.meta.url);
const committed = readFileSync(DOC_PATH, 'utf8');

async function parse(text: string): Promise<{ document: AsyncAPIDocumentInterface; errors: string[] }> {
  const { document, diagnostics } = await new Parser().parse(text);
  const errors = diagnostics
    .filter((d) => d.severity === DiagnosticSeverity.Error)
    .map((d) => `${d.code} at ${d.path.join('.')}: ${d.message}`);
  if (document === undefined) throw new Error(`the document does not parse:\n${errors.join('\n')}`);
  return { document, errors };
}

/** A parsed schema without the parser's own `x-parser-*` annotations. */
function withoutParserKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutParserKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k]) => !k.startsWith('x-parser-'))
      .map(([k, v]) => [k, withoutParserKeys(v)]),
  );
}

const plain = (schema: unknown): unknown => JSON.parse(JSON.stringify(schema));

t.test('the committed docs/asyncapi.yaml is what the generator makes now', async (t) => {
  t.equal(committed, renderAsyncApi(), 'stale: run `npm run asyncapi:generate` and commit docs/asyncapi.yaml');
});

t.test('the document is valid AsyncAPI 3 and complete', async (t) => {
  const { document, errors } = await parse(committed);
  t.strictSame(errors, [], 'no error-severity diagnostics');
  t.equal(document.version(), '3.0.0');
  t.equal(document.channels().get('commands')?.address(), DEFAULT_COMMANDS_TOPIC);
  t.equal(document.channels().get('events')?.address(), DEFAULT_EVENTS_TOPIC);

  const commands = document.channels().get('commands');
  const send = document.operations().get('sendCommand');
  if (commands === undefined || send === undefined)
    throw new Error('commands channel or sendCommand operation missing');
  t.equal(send.action(), 'send');
  const commandIds = Object.keys(COMMAND_SCHEMAS).map(commandMessageId).sort();
  t.strictSame(
    commands
      .messages()
      .all()
      .map((m) => m.id())
      .sort(),
    commandIds,
    'commands: one message per type, no other',
  );
  t.strictSame(
    send
      .messages()
      .all()
      .map((m) => m.id())
      .sort(),
    commandIds,
    'sendCommand: every message',
  );
  for (const [type, schema] of Object.entries(COMMAND_SCHEMAS)) {
    const message = commands.messages().get(commandMessageId(type));
    if (message === undefined) throw new Error(`no message for ${type}`);
    t.equal(message.name(), type);
    t.ok(message.hasSummary() && (message.summary() ?? '').length > 0, `${type} has a summary`);
    t.strictSame(
      withoutParserKeys(message.payload()?.json()),
      plain(schema),
      `${type}: the payload is exactly its wire schema`,
    );
  }

  const events = document.channels().get('events');
  const receive = document.operations().get('receiveEvents');
  if (events === undefined || receive === undefined)
    throw new Error('events channel or receiveEvents operation missing');
  t.equal(receive.action(), 'receive');
  t.strictSame(
    events
      .messages()
      .all()
      .map((m) => m.id()),
    [EVENT_RECORD_MESSAGE_ID],
    'events: one message, the event record',
  );
  t.strictSame(
    receive
      .messages()
      .all()
      .map((m) => m.id()),
    [EVENT_RECORD_MESSAGE_ID],
    'receiveEvents: the event record',
  );
  const payload = withoutParserKeys(events.messages().get(EVENT_RECORD_MESSAGE_ID)?.payload()?.json()) as {
    properties: { events: { items: { oneOf: Array<Record<string, unknown>> } } };
  };
  const { events: eventsField, ...envelope } = payload.properties;
  const { events: expectedEventsField, ...expectedEnvelope } = plain(EventRecordWire.properties) as Record<
    string,
    { items?: unknown }
  >;
  t.strictSame(envelope, expectedEnvelope, 'the record envelope is exactly its wire schema');
  t.strictSame(
    { ...eventsField, items: undefined },
    { ...expectedEventsField, items: undefined },
    'and so is its events array, items aside',
  );
  const items = eventsField.items.oneOf.map(({ examples: _e, description: _d, ...schema }) => schema);
  const expected = Object.values(EVENT_SCHEMAS).map((schema) => {
    const { description: _d, ...rest } = plain(schema) as Record<string, unknown>;
    return rest;
  });
  t.strictSame(items, expected, 'its events are exactly the event wire schemas, one per type');
});

t.test('every field of every wire schema is documented', async (t) => {
  for (const [type, schema] of [
    ...Object.entries(COMMAND_SCHEMAS),
    ...Object.entries(EVENT_SCHEMAS),
    ['eventRecord', EventRecordWire] as const,
  ]) {
    t.ok(schema.description.length > 0 && schema.title.length > 0, `${type} has a title and a description`);
    for (const [field, property] of Object.entries(schema.properties)) {
      const description = (property as { description?: unknown }).description;
      t.ok(typeof description === 'string' && description.length > 0, `${type}.${field} has a description`);
    }
  }
});

t.test('the document lists every rejection code', async (t) => {
  const doc = buildAsyncApi() as { components: { schemas: Record<string, { description?: string }> } };
  const table = doc.components.schemas[EVENT_SCHEMAS.commandResult.title].description ?? '';
  for (const [code, number] of Object.entries(REJECT_CODES)) t.match(table, `| ${code} | ${number} |`, code);
});

t.test('every message example is a valid record of its type', async (t) => {
  const doc = buildAsyncApi() as { components: { messages: Record<string, { examples: { payload: unknown }[] }> } };
  for (const type of Object.keys(COMMAND_SCHEMAS)) {
    const [example] = doc.components.messages[commandMessageId(type)].examples;
    const decoded = decodeCommand(JSON.stringify(example.payload), 0);
    t.ok(decoded.ok, `${type} example decodes`);
    t.match(decoded, { ok: true, command: { type } });
  }
  const [record] = doc.components.messages[EVENT_RECORD_MESSAGE_ID].examples;
  const events = decodeEventRecord(JSON.stringify(record.payload));
  t.equal(
    events[events.length - 1].type,
    'commandResult',
    'the record example decodes and ends with its commandResult',
  );
  const schemas = (doc as unknown as { components: { schemas: Record<string, { examples: unknown[] }> } }).components
    .schemas;
  for (const [type, schema] of Object.entries(EVENT_SCHEMAS)) {
    const [example] = schemas[schema.title].examples;
    t.equal(decodeEvent(JSON.stringify(example)).type, type, `${type} example decodes`);
  }
});

t.test('topic names are configurable', async (t) => {
  const doc = buildAsyncApi({ commandsTopic: 'venue-a.commands', eventsTopic: 'venue-a.events' }) as {
    channels: Record<string, { address: string }>;
  };
  t.equal(doc.channels.commands.address, 'venue-a.commands');
  t.equal(doc.channels.events.address, 'venue-a.events');
});

t.test('the YAML emitter writes strings a YAML reader gives back unchanged', async (t) => {
  // Read back by the parser itself, through an info extension, so the check uses the same YAML reader as the docs.
  const samples = [
    'true',
    'False',
    'null',
    '~',
    'yes',
    'off',
    '1',
    '-5',
    '0x10',
    '1e3',
    '3.0.0',
    '',
    ' leading space',
    'trailing space ',
    '#not a comment',
    'a: b',
    'a #b',
    '- item',
    '[x]',
    '{y}',
    '*alias',
    '&anchor',
    '!tag',
    '|',
    '>',
    '"quoted"',
    "'single'",
    'multi\nline',
    'multi\nline\n',
    'ends\n\n',
    '\nstarts with newline',
    'blank\n\nlines',
    'tab\there',
    'nul\u0000x',
    'é ü 中文',
    '$ref',
    '@at',
    '%pct',
  ];
  const doc = buildAsyncApi() as { info: Record<string, unknown> };
  doc.info['x-samples'] = samples;
  doc.info['x-nested'] = {
    list: [{ a: 1, b: [true, null, 'x'] }, [], {}, [[1, 2], { c: 'd' }]],
    number: -9007199254740991,
  };
  const { document } = await parse(toYaml(doc));
  t.strictSame(document.info().extensions().get('x-samples')?.value(), samples);
  t.strictSame(document.info().extensions().get('x-nested')?.value(), doc.info['x-nested']);
});
