// Sweeps on a real local chain: deposit addresses over the threshold are swept to the hot wallet after a gas
// top-up of exactly gasLimit x maxFeePerGas; the hot wallet ends with exactly the deposited tokens; a crash after
// any step resumes without a second top-up or transfer; a USDT-style token works.

import t from 'tap';
import { Transaction } from 'ethers';
import { depositAddressFor } from '../../chain/addresses.js';
import { RecordingSink } from '../../chain/engine-io.js';
import { tokenBalance } from '../../chain/erc20.js';
import { Sweeper } from '../../chain/sweeper.js';
import { DepositWatcher } from '../../chain/watcher.js';
import { sendEth, startChainEnv } from './support.js';

t.test('sweeps', async (t) => {
  const env = await startChainEnv(t);
  const watcher = new DepositWatcher({
    sql: env.db.sql,
    provider: env.provider,
    config: env.config,
    sink: new RecordingSink(),
    log: env.log,
  });
  const hot = env.keys.hotWalletAddress();
  const gas = env.keys.gasWalletAddress();
  await sendEth(env, gas, '1');
  const a = await depositAddressFor(env.db.sql, env.keys, 1);
  const b = await depositAddressFor(env.db.sql, env.keys, 2);
  const c = await depositAddressFor(env.db.sql, env.keys, 3);
  const mint = async (tok: 'tka' | 'usdt', to: string, amount: bigint) =>
    (await env.tokens[tok].contract.getFunction('mint')(to, amount)).wait();
  await mint('tka', a.address, 2n * 10n ** 18n + 17n);
  await mint('tka', a.address, 3n);
  await mint('usdt', b.address, 5_000_001n);
  await mint('tka', c.address, 10n ** 17n); // below the 1 TKA threshold: stays
  await env.mine(3);
  await watcher.tick();
  const credited = await env.db.sql`SELECT count(*)::int AS n FROM chain_deposits WHERE state = 'credited'`;
  t.equal(credited[0].n, 4, 'deposits credited first');

  // A crash (an exception out of the tick: all in-memory state lost) after every step that stores a signed tx.
  let crashes = 0;
  const crashedAfter = new Set<string>();
  const crashing = new Sweeper({
    sql: env.db.sql,
    provider: env.provider,
    config: env.config,
    keys: env.keys,
    log: env.log,
    hooks: {
      afterStep: async (_id, state) => {
        crashes++;
        crashedAfter.add(state);
        throw new Error('crash');
      },
    },
  });
  for (let i = 0; i < 6; i++) await crashing.tick().catch(() => undefined);
  t.ok(crashes >= 2, 'crashed after storing signed transactions');
  t.same(
    [...crashedAfter].sort(),
    ['topup_signed', 'transfer_signed'],
    'after each step that stores a signed transaction',
  );
  const sweeper = new Sweeper({
    sql: env.db.sql,
    provider: env.provider,
    config: env.config,
    keys: env.keys,
    log: env.log,
  });
  for (let i = 0; i < 40; i++) {
    await sweeper.tick();
    const open = await env.db.sql`SELECT count(*)::int AS n FROM chain_sweeps WHERE state <> 'done'`;
    const done = await env.db.sql`SELECT count(*)::int AS n FROM chain_sweeps WHERE state = 'done'`;
    if (open[0].n === 0 && done[0].n === 2) break;
    await env.mine(1);
  }
  const sweeps = await env.db.sql`SELECT * FROM chain_sweeps ORDER BY id`;
  t.same(
    sweeps.map((s) => s.state),
    ['done', 'done'],
    'two sweeps, both done',
  );
  t.equal(
    await tokenBalance(env.provider, env.tokens.tka.address, hot),
    2n * 10n ** 18n + 20n,
    'hot wallet holds exactly the TKA deposits',
  );
  t.equal(
    await tokenBalance(env.provider, env.tokens.usdt.address, hot),
    5_000_001n,
    'and exactly the USDT-style deposit',
  );
  t.equal(await tokenBalance(env.provider, env.tokens.tka.address, a.address), 0n);
  t.equal(
    await tokenBalance(env.provider, env.tokens.tka.address, c.address),
    10n ** 17n,
    'below the threshold: not swept',
  );
  t.equal(await env.provider.getTransactionCount(gas), 2, 'the gas wallet sent exactly one top-up per sweep');
  for (const s of sweeps) {
    t.equal(
      await env.provider.getTransactionCount(s.address),
      1,
      `deposit address ${s.address} sent exactly one transfer`,
    );
    const topup = Transaction.from(s.topup_raw_tx);
    t.equal(topup.value, BigInt(s.gas_limit) * BigInt(s.max_fee_per_gas), 'top-up is exactly gasLimit x maxFeePerGas');
    const transfer = Transaction.from(s.transfer_raw_tx);
    t.equal(transfer.gasLimit, BigInt(s.gas_limit));
    t.equal(
      transfer.maxFeePerGas,
      BigInt(s.max_fee_per_gas),
      'transfer sent with exactly the fee fields topped up for',
    );
    const r = (await env.provider.getTransactionReceipt(s.transfer_tx_hash))!;
    t.equal(
      await env.provider.getBalance(s.address),
      topup.value! - r.gasUsed * r.gasPrice,
      'the address keeps only the unspent gas',
    );
  }
  const swept = await env.db.sql`SELECT count(*)::int AS n FROM chain_deposits WHERE sweep_id IS NOT NULL`;
  t.equal(swept[0].n, 3, 'the swept deposits are linked to their sweep');
  for (let i = 0; i < 3; i++) await sweeper.tick();
  t.equal((await env.db.sql`SELECT count(*)::int AS n FROM chain_sweeps`)[0].n, 2, 'nothing left to sweep');
});
