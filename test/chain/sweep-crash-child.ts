// Child of sweep-crash.int.test.ts: runs the sweeper until a sweep reaches CRASH_AT (topup_signed or
// transfer_signed: the signed transaction is stored, not yet broadcast), says so on stdout and waits there to be
// SIGKILLed by the parent.

import postgres from 'postgres';
import pino from 'pino';
import { parseChainConfig } from '../../chain/config.js';
import { makeProvider } from '../../chain/erc20.js';
import { HdKeys } from '../../chain/hd.js';
import { Sweeper } from '../../chain/sweeper.js';

const config = parseChainConfig(JSON.parse(process.env.CHAIN_CONFIG_JSON!));
const crashAt = process.env.CRASH_AT;
const sql = postgres(process.env.DATABASE_URL!, { max: 2, onnotice: () => {} });
const sweeper = new Sweeper({
  sql,
  provider: makeProvider(config),
  config,
  keys: new HdKeys(process.env.CHAIN_TEST_MNEMONIC!),
  log: pino({ level: 'silent' }),
  hooks: {
    afterStep: async (_sweepId, state) => {
      if (state !== crashAt) return;
      process.stdout.write(`AT ${state}\n`);
      await new Promise(() => {}); // never resolves: the parent kills us here
    },
  },
});
for (;;) {
  await sweeper.tick();
  await new Promise((r) => setTimeout(r, 50));
}
