// Builds the AsyncAPI 3.0 document of the engine's Kafka interface from the wire schemas (engine/wire/schemas.ts)
// and the rejection codes (engine/core/codes.ts), so the document cannot drift from the code: a test regenerates
// it and compares with the committed docs/asyncapi.yaml. Pure: generate.ts does the file I/O.

import { REJECT_CODES, REJECT_DESCRIPTIONS } from '../../engine/core/index.js';
import type { RejectCode } from '../../engine/core/index.js';
import { COMMAND_BYTES_MAX, encodeCommand, encodeEvent, encodeEventRecords } from '../../engine/wire/codec.js';
import { COMMAND_EXAMPLES, EVENT_EXAMPLES, EVENT_RECORD_EXAMPLE } from '../../engine/wire/examples.js';
import type { EngineEvent } from '../../engine/core/index.js';
import type { CommandInput } from '../../engine/wire/codec.js';
import { COMMAND_SCHEMAS, EVENT_SCHEMAS, EventRecordWire, WIRE_VERSION } from '../../engine/wire/schemas.js';
import { toYaml } from './yaml.js';

import { DEFAULT_COMMANDS_TOPIC, DEFAULT_EVENTS_TOPIC } from '../../config/env.js';

// The services' defaults (config/env.ts), re-exported for the generator and its test.
export { DEFAULT_COMMANDS_TOPIC, DEFAULT_EVENTS_TOPIC };

export interface AsyncApiOptions {
  readonly commandsTopic?: string;
  readonly eventsTopic?: string;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** Codes the daemon gives to records it cannot decode; the rest come from the engine. */
const DECODE_CODES: readonly RejectCode[] = [
  'COMMAND_MALFORMED',
  'COMMAND_UNSUPPORTED_VERSION',
  'COMMAND_UNKNOWN_TYPE',
];

/** Message ids: command and event types could share a name one day; the suffix keeps the ids apart. */
export const commandMessageId = (type: string): string => `${type}Command`;
/** The events topic has one message: a record of one command's events. */
export const EVENT_RECORD_MESSAGE_ID = 'eventRecord';

export function buildAsyncApi(options: AsyncApiOptions = {}): JsonObject {
  const commandsTopic = options.commandsTopic ?? DEFAULT_COMMANDS_TOPIC;
  const eventsTopic = options.eventsTopic ?? DEFAULT_EVENTS_TOPIC;
  const commandTypes = Object.keys(COMMAND_SCHEMAS) as (keyof typeof COMMAND_SCHEMAS)[];
  const eventTypes = Object.keys(EVENT_SCHEMAS) as (keyof typeof EVENT_SCHEMAS)[];

  const schemas: JsonObject = {};
  const messages: JsonObject = {};
  for (const type of commandTypes) {
    const schema = COMMAND_SCHEMAS[type];
    schemas[schema.title] = toJson(schema);
    messages[commandMessageId(type)] = message(
      type,
      schema.title,
      schema.description,
      commandKey(),
      encodeCommand(COMMAND_EXAMPLES[type] as CommandInput),
    );
  }
  // Event schemas are components the record's `events` items refer to, each with its own example.
  for (const type of eventTypes) {
    const schema = EVENT_SCHEMAS[type];
    const description =
      type === 'commandResult' ? `${schema.description}\n\n${rejectionCodesTable()}` : schema.description;
    schemas[schema.title] = {
      ...toJson(schema),
      description,
      examples: [JSON.parse(encodeEvent(EVENT_EXAMPLES[type] as EngineEvent)) as Json],
    };
  }
  const record = toJson(EventRecordWire);
  const recordProperties = record.properties as JsonObject;
  recordProperties.events = {
    ...(recordProperties.events as JsonObject),
    items: { oneOf: eventTypes.map((type) => ({ $ref: `#/components/schemas/${EVENT_SCHEMAS[type].title}` })) },
  };
  schemas[EventRecordWire.title] = record;
  messages[EVENT_RECORD_MESSAGE_ID] = message(
    EVENT_RECORD_MESSAGE_ID,
    EventRecordWire.title,
    EventRecordWire.description,
    eventKey(),
    encodeEventRecords(EVENT_RECORD_EXAMPLE)[0],
  );

  const channelMessages = (ids: string[]): JsonObject =>
    Object.fromEntries(ids.map((id) => [id, { $ref: `#/components/messages/${id}` }]));
  const operationMessages = (channel: string, ids: string[]): Json[] =>
    ids.map((id) => ({ $ref: `#/channels/${channel}/messages/${id}` }));
  const commandIds = commandTypes.map(commandMessageId);
  const eventIds = [EVENT_RECORD_MESSAGE_ID];

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Exchange engine: commands and events',
      version: `${WIRE_VERSION}.0.0`,
      description: overview(commandsTopic, eventsTopic),
      license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
    },
    defaultContentType: 'application/json',
    servers: {
      kafka: {
        host: '{bootstrap}',
        protocol: 'kafka',
        description:
          'The Kafka cluster holding both topics. The address is a placeholder: each deployment gives its own bootstrap servers.',
        variables: { bootstrap: { default: 'localhost:9092', description: 'host:port of a bootstrap broker.' } },
      },
    },
    channels: {
      commands: {
        address: commandsTopic,
        title: 'Engine commands',
        description:
          `Commands for one engine instance, in execution order. Topic name configurable; default \`${DEFAULT_COMMANDS_TOPIC}\`.\n\n` +
          'One partition: its order is the order in which the engine applies the commands, so every producer sees the same sequence. ' +
          "The topic must use `message.timestamp.type=LogAppendTime`: the record timestamp becomes the command's time, and with " +
          "LogAppendTime it is the broker's, not the producer's. Retention must cover the commands since the engine's newest " +
          'snapshot: recovery replays them.',
        servers: [{ $ref: '#/servers/kafka' }],
        messages: channelMessages(commandIds),
        bindings: {
          kafka: {
            partitions: 1,
            topicConfiguration: { 'cleanup.policy': ['delete'], 'message.timestamp.type': 'LogAppendTime' },
            bindingVersion: '0.5.0',
          },
        },
      },
      events: {
        address: eventsTopic,
        title: 'Engine events',
        description:
          `Everything the engine did, in order. Topic name configurable; default \`${DEFAULT_EVENTS_TOPIC}\`.\n\n` +
          'One partition. Each record holds a run of consecutive events (EventRecordV1), which a consumer reads one by one. ' +
          'Written only by the engine daemon, without transactions (read uncommitted is fine): an event may appear more than ' +
          'once, so a consumer deduplicates by `seq` (see Answers and deduplication). Never compacted: every event matters.',
        servers: [{ $ref: '#/servers/kafka' }],
        messages: channelMessages(eventIds),
        bindings: {
          kafka: { partitions: 1, topicConfiguration: { 'cleanup.policy': ['delete'] }, bindingVersion: '0.5.0' },
        },
      },
    },
    operations: {
      sendCommand: {
        action: 'send',
        channel: { $ref: '#/channels/commands' },
        title: 'Send a command to the engine',
        summary: 'Append a command; its answer arrives on the events topic under the same id.',
        description:
          "What the daemon does with each record, in partition order: it stamps the record timestamp as the command's time, " +
          'decodes the value against the schema its `type` names, and applies the command to the engine, which emits the ' +
          "command's events (the last one its `commandResult`). A record it cannot decode is answered with a rejected " +
          '`commandResult` and the stream goes on. The events of a batch of commands are appended by an idempotent producer ' +
          '(acks=all, no transaction); after a crash the daemon resumes after the last `seq` in the events topic, so no command ' +
          'is applied twice, though an event may be written twice: consumers deduplicate by `seq`.',
        messages: operationMessages('commands', commandIds),
      },
      receiveEvents: {
        action: 'receive',
        channel: { $ref: '#/channels/events' },
        title: "Receive the engine's events",
        summary: "Read the engine's events in `seq` order, many per record.",
        description:
          'Events arrive in `seq` order, 1, 2, 3, ... with no gap: a consumer that sees a gap or a repeat has lost or re-read ' +
          "events (and should rewind or skip by `seq`). A command's events are contiguous and end with its `commandResult`; " +
          'balanceChanged events, one per (user, asset) the command touched, come just before it with the final figures.',
        messages: operationMessages('events', eventIds),
      },
    },
    components: { schemas, messages },
  };
}

/** The document as YAML, as committed in docs/asyncapi.yaml. */
export function renderAsyncApi(options: AsyncApiOptions = {}): string {
  return (
    '# Generated by tools/asyncapi/generate.ts from engine/wire/schemas.ts: do not edit by hand.\n' +
    toYaml(buildAsyncApi(options))
  );
}

function message(
  type: string,
  schemaTitle: string,
  description: string,
  key: JsonObject,
  exampleJson: string,
): JsonObject {
  const summary = description.split('\n')[0];
  return {
    name: type,
    title: titleOf(type),
    summary,
    ...(description === summary ? {} : { description }),
    contentType: 'application/json',
    payload: { $ref: `#/components/schemas/${schemaTitle}` },
    bindings: { kafka: { key, bindingVersion: '0.5.0' } },
    examples: [{ name: `${type}Example`, payload: JSON.parse(exampleJson) as Json }],
  };
}

function commandKey(): JsonObject {
  return {
    type: 'string',
    description: 'Ignored by the daemon (one partition); producers may leave it empty or set it to the command id.',
  };
}

function eventKey(): JsonObject {
  return { type: 'string', description: 'None (null): one partition, and a record holds events of many commands.' };
}

/** placeOrder -> "Place order". */
function titleOf(type: string): string {
  const words = type.replace(/([A-Z])/g, ' $1').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The schema as plain JSON (TypeBox keeps its bookkeeping in non-enumerable keys, which JSON drops). */
function toJson(schema: unknown): JsonObject {
  return JSON.parse(JSON.stringify(schema)) as JsonObject;
}

function rejectionCodesTable(): string {
  const rows = (Object.keys(REJECT_CODES) as RejectCode[]).map(
    (code) => `| ${code} | ${REJECT_CODES[code]} | ${REJECT_DESCRIPTIONS[code]} |`,
  );
  return [
    'Rejection codes (stable: never renumbered, renamed or reused):',
    '',
    '| Code | Number | Meaning |',
    '| --- | --- | --- |',
    ...rows,
  ].join('\n');
}

function overview(commandsTopic: string, eventsTopic: string): string {
  return [
    "The public interface of the exchange's matching engine. Services integrate by appending commands to the commands topic " +
      `(\`${commandsTopic}\`) and reading the engine's events from the events topic (\`${eventsTopic}\`). The operations below ` +
      "are written from such a service's side: it sends commands and receives events; the engine daemon consumes the one and " +
      'produces the other.',
    '',
    '## Format',
    '',
    `- Each record value is one UTF-8 JSON object, versioned by \`v\` (this document: version ${WIRE_VERSION}): on the commands topic a command named by its \`type\`, ` +
      'on the events topic a record holding a run of events, each event named by its `type`. ' +
      "Every type has its own JSON schema under components.schemas; the gateway and the engine's codec use the same schemas " +
      '(engine/wire/schemas.ts, from which this document is generated). Fields not in the schema are refused.',
    '- Amounts, prices, balances and fees are decimal strings of integer base units (e.g. "1500000" is 1.5 USDC with 6 decimals): ' +
      'never JSON numbers and never fractions, since values go up to 2^256-1. Canonical form: no leading zeros, no plus sign. ' +
      'On commands they may carry a minus sign, so that a negative value reaches the engine and is refused with its specific code.',
    '- Command prices are quote base units per whole base token. On order events, prices travel in ticks and quantities in lots ' +
      'of the market (exact integers): price = priceTicks x tickSize and quantity = qtyLots x lotSize.',
    '- The schemas check shape (JSON types, enums, bounded lengths); the engine checks meaning and answers with a specific code ' +
      '(an unknown market, a price off the tick, a negative amount, a symbol with lower-case letters).',
    '',
    '## Time',
    '',
    'Commands have no time field. The daemon stamps each command with the timestamp of its Kafka record, which the commands ' +
      'topic sets at append time (`message.timestamp.type=LogAppendTime`): producers cannot choose their own time, and a replay ' +
      'of the topic gives the same times and so the same events. Engine time never runs backwards: a timestamp earlier than the ' +
      "previous command's counts as the previous command's. Events carry the time as `timeMs`.",
    '',
    '## Ordering',
    '',
    'One engine instance consumes exactly one partition of the commands topic (each topic has one partition per engine instance). ' +
      'The partition order is the execution order; the engine is deterministic, so the same commands in the same order always give ' +
      'the same events. Events are numbered by `seq`, 1, 2, 3, ... without gaps across the whole stream.',
    '',
    '## Answers and deduplication',
    '',
    '- Every command, valid or not, gets exactly one `commandResult`, the last of its events. All its events carry the command ' +
      '`id` as `cmdId`; a producer waits for the `commandResult` with its id.',
    '- Command ids must be unique. A producer unsure whether its command was appended (a timeout) sends it again with the same ' +
      'id: the engine applies an id once, and answers a repeat with `COMMAND_DUPLICATE_ID` without changing anything, so the ' +
      "first command's events stand (a producer waiting for its answer takes the first commandResult with its id). The engine " +
      'remembers the last 1,000,000 command ids of the past hour of command time (its limits commandIdsMax and ' +
      "commandIdWindowMs): a retry must come within that horizon. The ids are part of the engine's state, its snapshots " +
      'and its state hash, so a restarted engine recognizes the same repeats; an id is matched exactly (by hash, then ' +
      'character for character), never by a hash alone.',
    '- placeOrder is also idempotent by `clientOrderId` per user: a repeat places nothing and returns the first result, with ' +
      '`duplicateOf` naming the first command.',
    "- The daemon appends each batch's events without a transaction (an idempotent producer, acks=all) and never takes a " +
      'record back: read uncommitted is fine. Each record carries a header `cmdOffsets` (`<first>-<last>`: the command offsets ' +
      "of its batch). On start the daemon reads the events topic's last record, replays its snapshot and the commands silently " +
      'up to that `seq`, and writes only higher ones. So every command is applied once, but an event may appear in the topic ' +
      'more than once: after a crash between a send and its acknowledgement, or while a second daemon for the same partition ' +
      '(a zombie) runs, and copies may be cut into records at other places. **Consumers must deduplicate by `seq`**: keep the ' +
      'last `seq` applied, skip every event at or below it (a record may straddle it: apply only its tail), and stop on a ' +
      'record that starts above it + 1 (a gap). The events themselves are the same whoever wrote them: the engine is deterministic.',
    '',
    '## Records that are not valid commands',
    '',
    'They never stop the stream. Each gets a `commandResult` with status `rejected`:',
    '',
    ...DECODE_CODES.map((code) => `- \`${code}\`: ${decodeCodeText(code)}`),
    '',
    "Its `cmdId` is the record's `id` when that is a usable id (a string of 1-128 printable ASCII characters), whatever else is " +
      'wrong, so the producer gets its answer; otherwise it is the empty string (the rejection cannot be matched to a producer).',
    '',
    'The full list of rejection codes is in the description of the commandResult message.',
  ].join('\n');
}

function decodeCodeText(code: RejectCode): string {
  switch (code) {
    case 'COMMAND_MALFORMED':
      return (
        `not UTF-8 JSON, not an object, larger than ${COMMAND_BYTES_MAX} bytes, no usable id, or not matching the schema of its type ` +
        '(a missing or unknown field - `timeMs` included -, a wrong JSON type, an amount that is not a canonical decimal string).'
      );
    case 'COMMAND_UNSUPPORTED_VERSION':
      return `\`v\` is not ${WIRE_VERSION} (checked before the type: the version defines which types exist).`;
    case 'COMMAND_UNKNOWN_TYPE':
      return '`type` names no command of this version.';
    default:
      return REJECT_DESCRIPTIONS[code];
  }
}
