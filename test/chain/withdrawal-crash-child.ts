// Child of withdrawals.int.test.ts: runs the withdrawal processor until it reaches CRASH_AT (afterSign: the signed
// transaction is stored, not broadcast; afterBroadcast: broadcast, state not yet stored), says so on stdout and
// waits there to be SIGKILLed by the parent.

import postgres from 'postgres';
import pino from 'pino';
import { parseChainConfig } from '../../chain/config.js';
import { makeProvider } from '../../chain/erc20.js';
import { RecordingSink } from '../../chain/engine-io.js';
import { HdKeys } from '../../chain/hd.js';
import { WithdrawalProcessor } from '../../chain/withdrawals.js';

const config = parseChainConfig(JSON.parse(process.env.CHAIN_CONFIG_JSON!));
const crashAt = process.env.CRASH_AT;
const sql = postgres(process.env.DATABASE_URL!, { max: 2, onnotice: () => {} });
const provider = makeProvider(config);
const stop = async (point: string): Promise<void> => {
  if (point !== crashAt) return;
  process.stdout.write(`AT ${point}\n`);
  await new Promise(() => {}); // never resolves: the parent kills us here
};
const proc = new WithdrawalProcessor({
  sql,
  provider,
  config,
  keys: new HdKeys(process.env.CHAIN_TEST_MNEMONIC!),
  sink: new RecordingSink(),
  log: pino({ level: 'silent' }),
  hooks: { afterSign: () => stop('afterSign'), afterBroadcast: () => stop('afterBroadcast') },
});
for (;;) {
  await proc.tick();
  await new Promise((r) => setTimeout(r, 50));
}
