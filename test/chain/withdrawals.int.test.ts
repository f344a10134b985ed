// Withdrawals on a real local chain: refused before signing when invalid, queued (not failed) when the hot wallet
// is underfunded, 50 at once with 50 consecutive nonces and exact balances, a stuck one replaced at its nonce, and
// a SIGKILL between signing and broadcasting (or broadcasting and recording) never sends twice.

import path from 'node:path';
import t from 'tap';
import { Wallet, getAddress } from 'ethers';
import { RecordingSink } from '../../chain/engine-io.js';
import { tokenBalance } from '../../chain/erc20.js';
import { WithdrawalProcessor, validateWithdrawal } from '../../chain/withdrawals.js';
import { runChildUntilKilled, sendEth, startChainEnv } from './support.js';
import type { ChainEnv } from './support.js';

let nextId = 1;

function pending(assetId: number, amount: bigint, destination: string) {
  return { withdrawalId: `w${nextId++}`, userId: 7, assetId, amount, destination };
}

async function tickUntil(
  proc: WithdrawalProcessor,
  env: ChainEnv,
  done: () => Promise<boolean>,
  what: string,
): Promise<void> {
  for (let i = 0; i < 200; i++) {
    await proc.tick();
    if (await done()) return;
    await env.mine(1);
  }
  throw new Error(`not reached: ${what}`);
}

async function states(env: ChainEnv, ids: string[]): Promise<string[]> {
  const rows = await env.db.sql<
    { state: string }[]
  >`SELECT state FROM chain_withdrawals WHERE withdrawal_id IN ${env.db.sql(ids)} ORDER BY withdrawal_id`;
  return rows.map((r) => r.state);
}

t.test('withdrawals', async (t) => {
  const env = await startChainEnv(t);
  const sink = new RecordingSink();
  const proc = new WithdrawalProcessor({
    sql: env.db.sql,
    provider: env.provider,
    config: env.config,
    keys: env.keys,
    sink,
    log: env.log,
  });
  const hot = env.keys.hotWalletAddress();
  const dest = Wallet.createRandom().address;

  t.test('an invalid address or amount is refused before anything is signed', async (t) => {
    const bad = [
      pending(1, 10n, dest.toLowerCase().replace(/^0x/, '0x').slice(0, 41)), // 19.5 bytes
      pending(1, 10n, mangleChecksum(dest)),
      pending(1, 10n, '0x0000000000000000000000000000000000000000'),
      pending(1, 10n, env.tokens.tka.address),
      pending(1, 0n, dest),
      pending(1, -5n, dest),
      pending(1, 1n << 256n, dest),
    ];
    for (const w of bad) t.equal(await proc.intake(w), 'rejected', `${w.destination} ${w.amount}`);
    t.equal(await proc.intake(pending(99, 10n, dest)), 'ignored', "another chain's asset is left to its chain service");
    await proc.tick();
    const rows = await env.db.sql`SELECT state, status_code, nonce, raw_tx FROM chain_withdrawals`;
    t.equal(rows.length, bad.length);
    t.ok(
      rows.every((r) => r.state === 'rejected' && r.nonce === null && r.raw_tx === null),
      'none signed',
    );
    t.same(rows.map((r) => r.status_code).sort(), [
      'WITHDRAWAL_BAD_ADDRESS',
      'WITHDRAWAL_BAD_ADDRESS',
      'WITHDRAWAL_BAD_ADDRESS',
      'WITHDRAWAL_BAD_ADDRESS',
      'WITHDRAWAL_BAD_AMOUNT',
      'WITHDRAWAL_BAD_AMOUNT',
      'WITHDRAWAL_BAD_AMOUNT',
    ]);
    t.equal((await env.db.sql`SELECT count(*)::int AS n FROM chain_withdrawal_txs`)[0].n, 0);
    t.equal(await env.provider.getTransactionCount(hot), 0, 'the hot wallet sent nothing');
    t.same(
      sink.commands.map((c) => c.type),
      bad.map(() => 'failWithdrawal'),
      'each refused one is failed (refunded) in the engine',
    );
    t.equal(await proc.intake(bad[0]), 'duplicate', 'a redelivered event changes nothing');
    t.equal(
      validateWithdrawal(env.config, { assetId: 1, amount: 1n, destination: dest.toLowerCase() }).ok,
      true,
      'all-lowercase (no checksum) is accepted',
    );
  });

  t.test('an underfunded hot wallet leaves the withdrawal queued with a clear status, then it goes', async (t) => {
    const w = pending(2, 3_000_000n, dest);
    t.equal(await proc.intake(w), 'queued');
    await proc.tick();
    let [row] = await env.db
      .sql`SELECT state, status_code, status_detail FROM chain_withdrawals WHERE withdrawal_id = ${w.withdrawalId}`;
    t.equal(row.state, 'queued');
    t.equal(row.status_code, 'HOT_WALLET_UNDERFUNDED');
    t.match(row.status_detail, /lacks 3000000 base units/);
    await env.tokens.tkb.contract
      .getFunction('mint')(hot, 3_000_000n)
      .then((tx) => tx.wait());
    await proc.tick();
    [row] = await env.db.sql`SELECT state, status_code FROM chain_withdrawals WHERE withdrawal_id = ${w.withdrawalId}`;
    t.equal(row.status_code, 'HOT_WALLET_UNDERFUNDED', 'tokens alone are not enough: no ETH for gas');
    await sendEth(env, hot, '10');
    await tickUntil(proc, env, async () => (await states(env, [w.withdrawalId]))[0] === 'confirmed', 'confirmed');
    t.equal(await tokenBalance(env.provider, env.tokens.tkb.address, dest), 3_000_000n);
    await proc.tick();
    t.match(sink.commands.at(-1), { type: 'completeWithdrawal', withdrawalId: w.withdrawalId });
  });

  t.test('50 concurrent withdrawals: 50 distinct consecutive nonces, all confirm with exact balances', async (t) => {
    const nonce0 = await env.provider.getTransactionCount(hot);
    const dests = Array.from({ length: 50 }, () => Wallet.createRandom().address);
    const amounts = dests.map((_, i) => 10n ** 18n + BigInt(i) * 1_000_000_007n);
    const total = amounts.reduce((a, b) => a + b, 0n);
    await env.tokens.tka.contract
      .getFunction('mint')(hot, total + 5n)
      .then((tx) => tx.wait());
    const hotBefore = await tokenBalance(env.provider, env.tokens.tka.address, hot);
    const ws = dests.map((d, i) => pending(1, amounts[i], d));
    const results = await Promise.all(ws.map((w) => proc.intake(w)));
    t.ok(results.every((r) => r === 'queued'));
    const ids = ws.map((w) => w.withdrawalId);
    const sent = sink.commands.length;
    await tickUntil(proc, env, async () => (await states(env, ids)).every((s) => s === 'confirmed'), 'all confirmed');
    const rows = await env.db.sql<
      { nonce: string; tx_hash: string; mined_tx_hash: string }[]
    >`SELECT nonce, tx_hash, mined_tx_hash FROM chain_withdrawals WHERE withdrawal_id IN ${env.db.sql(ids)} ORDER BY nonce`;
    t.same(
      rows.map((r) => Number(r.nonce)),
      Array.from({ length: 50 }, (_, i) => nonce0 + i),
      'consecutive nonces, none shared or skipped',
    );
    for (const r of rows) {
      const tx = await env.provider.getTransaction(r.mined_tx_hash);
      t.equal(tx?.nonce, Number(r.nonce), 'mined at its stored nonce');
    }
    for (const [i, d] of dests.entries())
      t.equal(await tokenBalance(env.provider, env.tokens.tka.address, d), amounts[i], `destination ${i} exact`);
    t.equal(
      await tokenBalance(env.provider, env.tokens.tka.address, hot),
      hotBefore - total,
      'hot wallet down by exactly the total',
    );
    t.equal(await env.provider.getTransactionCount(hot), nonce0 + 50);
    await proc.tick();
    const completes = sink.commands.slice(sent).filter((c) => c.type === 'completeWithdrawal');
    t.equal(new Set(completes.map((c) => c.withdrawalId)).size, 50, 'one completeWithdrawal each');
  });

  t.test('a stuck transaction is replaced with higher fees at the same nonce; one transfer lands', async (t) => {
    await env.rpc('evm_setAutomine', [false]);
    let clockMs = Date.now();
    const slow = new WithdrawalProcessor({
      sql: env.db.sql,
      provider: env.provider,
      config: env.config,
      keys: env.keys,
      sink,
      log: env.log,
      nowMs: () => clockMs,
    });
    const w = pending(3, 1_500_000n, dest);
    await env.tokens.usdt.contract.getFunction('mint')(hot, 1_500_000n);
    await env.rpc('evm_mine');
    t.equal(await slow.intake(w), 'queued');
    await slow.tick();
    const [first] = await env.db
      .sql`SELECT state, tx_hash, nonce, max_fee_per_gas FROM chain_withdrawals WHERE withdrawal_id = ${w.withdrawalId}`;
    t.equal(first.state, 'broadcast');
    clockMs += env.config.withdrawals.stuckAfterMs + 1;
    await slow.tick();
    const [second] = await env.db
      .sql`SELECT tx_hash, nonce, max_fee_per_gas, status_code FROM chain_withdrawals WHERE withdrawal_id = ${w.withdrawalId}`;
    t.not(second.tx_hash, first.tx_hash, 'a new transaction');
    t.equal(second.nonce, first.nonce, 'at the same nonce');
    t.ok(BigInt(second.max_fee_per_gas) > BigInt(first.max_fee_per_gas), 'with a higher fee');
    t.equal(second.status_code, 'REPLACED');
    await env.rpc('evm_setAutomine', [true]);
    await env.mine(1);
    await tickUntil(slow, env, async () => (await states(env, [w.withdrawalId]))[0] === 'confirmed', 'confirmed');
    const [done] = await env.db
      .sql`SELECT mined_tx_hash FROM chain_withdrawals WHERE withdrawal_id = ${w.withdrawalId}`;
    t.equal(done.mined_tx_hash, second.tx_hash, 'the replacement was mined');
    t.equal(await env.provider.getTransactionReceipt(first.tx_hash), null, 'the original never was');
    t.equal(
      await tokenBalance(env.provider, env.tokens.usdt.address, dest),
      1_500_000n,
      'one transfer (USDT-style token)',
    );
  });

  for (const crashAt of ['afterSign', 'afterBroadcast'] as const) {
    t.test(`SIGKILL ${crashAt} never sends the withdrawal twice`, async (t) => {
      const to = Wallet.createRandom().address;
      const amount = 123_456_789n;
      await env.tokens.tkb.contract
        .getFunction('mint')(hot, amount)
        .then((tx) => tx.wait());
      const nonce0 = await env.provider.getTransactionCount(hot);
      const w = pending(2, amount, to);
      t.equal(await proc.intake(w), 'queued');
      await runChildUntilKilled(env, 'withdrawal-crash-child.ts', crashAt);
      const [row] = await env.db
        .sql`SELECT state, nonce FROM chain_withdrawals WHERE withdrawal_id = ${w.withdrawalId}`;
      t.equal(row.state, 'signed', 'killed with the signed transaction stored');
      t.equal(Number(row.nonce), nonce0);
      const sent = sink.commands.length;
      await tickUntil(
        proc,
        env,
        async () => (await states(env, [w.withdrawalId]))[0] === 'confirmed',
        'confirmed after restart',
      );
      for (let i = 0; i < 3; i++) await proc.tick();
      t.equal(await tokenBalance(env.provider, env.tokens.tkb.address, to), amount, 'received exactly once');
      t.equal(await env.provider.getTransactionCount(hot), nonce0 + 1, 'the hot wallet sent one transaction');
      t.equal(
        (
          await env.db.sql`SELECT count(*)::int AS n FROM chain_withdrawal_txs WHERE withdrawal_id = ${w.withdrawalId}`
        )[0].n,
        1,
        'one signed transaction, re-broadcast',
      );
      t.equal(
        sink.commands.slice(sent).filter((c) => c.type === 'completeWithdrawal' && c.withdrawalId === w.withdrawalId)
          .length,
        1,
      );
    });
  }
});

function mangleChecksum(address: string): string {
  // Flip the case of the first letter: still hex, now a wrong EIP-55 checksum.
  const a = getAddress(address);
  const i = a.slice(2).search(/[a-fA-F]/) + 2;
  const c = a[i];
  return a.slice(0, i) + (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()) + a.slice(i + 1);
}
