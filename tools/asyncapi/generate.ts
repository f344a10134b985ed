// Writes docs/asyncapi.yaml from the wire schemas. Usage:
//   tsx tools/asyncapi/generate.ts [--commands-topic NAME] [--events-topic NAME] [--out PATH]
// The committed file uses the default topic names; test/wire/asyncapi.test.ts fails when it is stale.

import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_COMMANDS_TOPIC, DEFAULT_EVENTS_TOPIC, renderAsyncApi } from './document.js';

const { values } = parseArgs({
  options: {
    'commands-topic': { type: 'string', default: DEFAULT_COMMANDS_TOPIC },
    'events-topic': { type: 'string', default: DEFAULT_EVENTS_TOPIC },
    out: { type: 'string', default: 'docs/asyncapi.yaml' },
  },
});

const yaml = renderAsyncApi({ commandsTopic: values['commands-topic'], eventsTopic: values['events-topic'] });
writeFileSync(values.out, yaml);
console.log(`wrote ${values.out} (${yaml.length} bytes)`);
