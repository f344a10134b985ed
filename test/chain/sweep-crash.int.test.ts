// A sweep survives a real SIGKILL of its process (not an injected exception): killed with the gas top-up signed
// and stored but not broadcast, then killed again with the token transfer signed and stored but not broadcast,
// a fresh sweeper finishes it with exactly one top-up and one transfer, the stored ones.

import path from 'node:path';
import t from 'tap';
import { depositAddressFor } from '../../chain/addresses.js';
import { RecordingSink } from '../../chain/engine-io.js';
import { tokenBalance } from '../../chain/erc20.js';
import { Sweeper } from '../../chain/sweeper.js';
import { DepositWatcher } from '../../chain/watcher.js';
import { runChildUntilKilled, sendEth, startChainEnv } from './support.js';
import type { ChainEnv } from './support.js';

t.test('a sweep SIGKILLed after each signing step resumes without a second top-up or transfer', async (t) => {
  const env = await startChainEnv(t);
  const hot = env.keys.hotWalletAddress();
  const gas = env.keys.gasWalletAddress();
  await sendEth(env, gas, '1');
  const a = await depositAddressFor(env.db.sql, env.keys, 1);
  const amount = 4n * 10n ** 18n + 11n;
  await (await env.tokens.tka.contract.getFunction('mint')(a.address, amount)).wait();
  await env.mine(3);
  await new DepositWatcher({
    sql: env.db.sql,
    provider: env.provider,
    config: env.config,
    sink: new RecordingSink(),
    log: env.log,
  }).tick();
  const row = async () => (await env.db.sql`SELECT * FROM chain_sweeps`)[0];

  await runChildUntilKilled(env, 'sweep-crash-child.ts', 'topup_signed');
  const signed = await row();
  t.equal(signed.state, 'topup_signed', 'killed with the top-up stored');
  t.equal(await env.provider.getTransactionCount(gas), 0, 'and not broadcast');

  await runChildUntilKilled(env, 'sweep-crash-child.ts', 'transfer_signed');
  const transferSigned = await row();
  t.equal(
    transferSigned.state,
    'transfer_signed',
    'the restarted process re-broadcast the stored top-up, then was killed with the transfer stored',
  );
  t.equal(transferSigned.topup_tx_hash, signed.topup_tx_hash, 'the same top-up transaction');
  t.equal(await env.provider.getTransactionCount(a.address), 0, 'the transfer not broadcast');

  const sweeper = new Sweeper({
    sql: env.db.sql,
    provider: env.provider,
    config: env.config,
    keys: env.keys,
    log: env.log,
  });
  for (let i = 0; i < 40 && (await row()).state !== 'done'; i++) {
    await sweeper.tick();
    await env.mine(1);
  }
  const done = await row();
  t.equal(done.state, 'done', 'the resumed sweep finished');
  t.equal(done.transfer_tx_hash, transferSigned.transfer_tx_hash, 'the stored transfer is the one mined');
  t.equal(
    (await env.provider.getTransactionReceipt(done.topup_tx_hash))?.status,
    1,
    'the stored top-up is the one mined',
  );
  t.equal(await env.provider.getTransactionCount(gas), 1, 'one top-up');
  t.equal(await env.provider.getTransactionCount(a.address), 1, 'one transfer');
  t.equal(
    await tokenBalance(env.provider, env.tokens.tka.address, hot),
    amount,
    'the hot wallet holds exactly the deposit',
  );
  t.equal(await tokenBalance(env.provider, env.tokens.tka.address, a.address), 0n, 'the deposit address is empty');
  t.equal((await env.db.sql`SELECT count(*)::int AS n FROM chain_sweeps`)[0].n, 1, 'one sweep');
});
