// docs/market-data.md lists exactly the WebSocket error and close codes errors.ts defines, with the same numbers.

import { readFile } from 'node:fs/promises';
import t from 'tap';
import { WS_CLOSE, WS_ERRORS } from '../../gateway/market-data/errors.js';

const doc = await readFile(new URL('../../docs/market-data.md', import.meta.url), 'utf8');

t.test('every error code is documented, and the document names no other', async (t) => {
  const documented = new Set([...doc.matchAll(/^\| `(MARKET_DATA_WS_[A-Z_]+)` \|/gm)].map((m) => m[1]));
  t.same([...documented].sort(), Object.keys(WS_ERRORS).sort());
});

t.test('every close code is documented with its number', async (t) => {
  const rows = [...doc.matchAll(/\| (\d{4}) \| `(MARKET_DATA_WS_[A-Z_]+)` \|/g)].map((m) => [m[2], Number(m[1])]);
  t.same(Object.fromEntries(rows), Object.fromEntries(Object.entries(WS_CLOSE).map(([k, v]) => [k, v.code])));
});
