// docs/reject-codes.md lists exactly the codes of engine/core/codes.ts, with the same numbers, subsystems and
// descriptions; numbers are unique and each lies in its subsystem's range. The ranges come from the range
// comments in codes.ts ("// 300-399 order validation"), so a new subsystem is declared there first.

import { readFileSync } from 'node:fs';
import t from 'tap';
import { REJECT_CODES, REJECT_DESCRIPTIONS } from '../../engine/core/index.js';
import type { RejectCode } from '../../engine/core/index.js';

interface Range {
  min: number;
  max: number;
  /** The comment's words before any ':' or '(' ("risk: balances and holds" -> "risk"). */
  subsystem: string;
}

interface DocRow {
  code: number;
  name: string;
  subsystem: string;
  description: string;
}

const codesSource = readFileSync(new URL('../../engine/core/codes.ts', import.meta.url), 'utf8');
const doc = readFileSync(new URL('../../docs/reject-codes.md', import.meta.url), 'utf8');

function rangesOf(source: string): Range[] {
  return [...source.matchAll(/^\s*\/\/ (\d+)-(\d+) (.+)$/gm)].map((m) => ({
    min: Number(m[1]),
    max: Number(m[2]),
    subsystem: m[3].split(/[:(]/)[0].trim(),
  }));
}

function rowsOf(markdown: string): DocRow[] {
  const rows: DocRow[] = [];
  for (const m of markdown.matchAll(/^\| (\d+) \| `([A-Z0-9_]+)` \| ([^|]+?) \| (.*) \|$/gm)) {
    rows.push({ code: Number(m[1]), name: m[2], subsystem: m[3], description: m[4].replace(/\\\|/g, '|') });
  }
  return rows;
}

const ranges = rangesOf(codesSource);
const rows = rowsOf(doc);
const entries = Object.entries(REJECT_CODES) as Array<[RejectCode, number]>;
const rangeOf = (code: number): Range | undefined => ranges.find((r) => code >= r.min && code <= r.max);

/** The table line a code should have, printed on failure so the doc is easy to bring up to date. */
function expectedLine(name: RejectCode): string {
  const code = REJECT_CODES[name];
  return `| ${code} | \`${name}\` | ${rangeOf(code)?.subsystem ?? '?'} | ${REJECT_DESCRIPTIONS[name].replace(/\|/g, '\\|')} |`;
}

t.test('codes.ts declares subsystem ranges that do not overlap', async (t) => {
  t.ok(ranges.length >= 7, `found ${ranges.length} range comments`);
  const sorted = [...ranges].sort((a, b) => a.min - b.min);
  for (let i = 0; i < sorted.length; i++) {
    t.ok(sorted[i].min <= sorted[i].max, `${sorted[i].subsystem} is a range`);
    if (i > 0)
      t.ok(sorted[i - 1].max < sorted[i].min, `${sorted[i - 1].subsystem} and ${sorted[i].subsystem} do not overlap`);
  }
});

t.test('code numbers are unique, and each lies in a declared subsystem range', async (t) => {
  const numbers = entries.map(([, code]) => code);
  t.equal(new Set(numbers).size, numbers.length, 'no number is used twice');
  for (const [name, code] of entries)
    t.ok(rangeOf(code) !== undefined, `${name} (${code}) is inside a subsystem range`);
});

t.test('every code has a description', async (t) => {
  t.same(Object.keys(REJECT_DESCRIPTIONS).sort(), Object.keys(REJECT_CODES).sort());
  for (const [name] of entries) t.ok(REJECT_DESCRIPTIONS[name].length > 0, name);
});

t.test('docs/reject-codes.md lists exactly the codes of codes.ts', async (t) => {
  const documented = rows.map((r) => r.name);
  t.equal(new Set(documented).size, documented.length, 'no code is listed twice');
  const missing = entries.filter(([name]) => !documented.includes(name)).map(([name]) => expectedLine(name));
  t.same(missing, [], 'codes missing from the doc (lines to add)');
  const unknown = documented.filter((name) => !(name in REJECT_CODES));
  t.same(unknown, [], 'codes in the doc that codes.ts does not have');
});

t.test('each documented code has the number, subsystem and description of codes.ts', async (t) => {
  for (const row of rows) {
    if (!(row.name in REJECT_CODES)) continue;
    const name = row.name as RejectCode;
    const line = expectedLine(name);
    t.equal(row.code, REJECT_CODES[name], `${name} number (want: ${line})`);
    t.equal(row.subsystem, rangeOf(row.code)?.subsystem, `${name} subsystem matches its range`);
    t.equal(row.description, REJECT_DESCRIPTIONS[name], `${name} description`);
  }
  t.same(
    rows.map((r) => r.code),
    [...rows.map((r) => r.code)].sort((a, b) => a - b),
    'the table is in number order',
  );
});
