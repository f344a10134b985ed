// The events readers' stop codes (kafka/errors.ts) and the table in docs/events-topic.md are the same list with the
// same meanings.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { EVENTS_ERROR_CODES } from '../../kafka/errors.js';
import { REPO_ROOT } from '../../testkit/daemon-process.js';

t.test('docs/events-topic.md lists every events error code with its meaning, and no other', async (t) => {
  const doc = await readFile(path.join(REPO_ROOT, 'docs/events-topic.md'), 'utf8');
  const documented = new Map(
    [...codeTable(doc).matchAll(/^\| `([A-Z][A-Z0-9_]+)` \| (.+) \|$/gm)].map((m) => [m[1], m[2]]),
  );
  t.same([...documented.entries()].sort(), Object.entries(EVENTS_ERROR_CODES).sort());
});

/** The doc's `| code | meaning |` table, up to the blank line after it. */
function codeTable(doc: string): string {
  const start = doc.indexOf('| code | meaning |');
  if (start < 0) throw new Error('no | code | meaning | table');
  const end = doc.indexOf('\n\n', start);
  return doc.slice(start, end < 0 ? undefined : end);
}
