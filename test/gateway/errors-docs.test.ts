// The error codes in gateway/errors.ts and the table in docs/gateway.md are the same list with the same statuses.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { GATEWAY_ERRORS, engineRejection, gatewayError } from '../../gateway/errors.js';
import { REPO_ROOT } from '../daemon/recovery-support.js';

t.test('docs/gateway.md lists every gateway error code with its status, and no other', async (t) => {
  const doc = await readFile(path.join(REPO_ROOT, 'docs/gateway.md'), 'utf8');
  const documented = new Map([...doc.matchAll(/^\| `(EX_[A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]));
  const defined = new Map(Object.entries(GATEWAY_ERRORS).map(([code, def]) => [code, def.status]));
  t.same([...documented.entries()].sort(), [...defined.entries()].sort());
});

t.test(
  'the factory gives the code, status and message of the table; engine codes pass through (or become their gateway equivalent)',
  async (t) => {
    const e = gatewayError('EX_ORDER_NOT_FOUND');
    t.equal(e.code, 'EX_ORDER_NOT_FOUND');
    t.equal(e.statusCode, 404);
    t.equal(e.message, GATEWAY_ERRORS.EX_ORDER_NOT_FOUND.message);
    t.equal(engineRejection('RISK_INSUFFICIENT_FUNDS').statusCode, 422);
    t.same(
      [engineRejection('ORDER_NOT_FOUND').code, engineRejection('ORDER_NOT_FOUND').statusCode],
      ['EX_ORDER_NOT_FOUND', 404],
      "the engine's not-found is the gateway's",
    );
    for (const [code, def] of Object.entries(GATEWAY_ERRORS))
      t.ok(def.status >= 400 && def.status <= 599, `${code} is an error status`);
  },
);
