// Custody controls end to end on a real local chain: the gateway (PostgreSQL, Redis, the engine in this process)
// and the chain service's withdrawal sender on one database, an operator acting through the operator API. A
// withdrawal above the approval threshold waits unsigned until an operator approves it, is then sent and completes
// for the user; a rejected one is never signed and the engine refunds exactly its amount; the kill switch and a
// user's freeze hold withdrawals before signing (and the kill switch refuses new requests and orders);
// above its cap the hot wallet moves the excess to the watch-only cold address, below its refill level it alerts.

import t from 'tap';
import { Wallet } from 'ethers';
import type { EngineEvent, WithdrawalPending } from '../../engine/core/events.js';
import type { ChainCommand } from '../../chain/engine-io.js';
import { parseChainConfig } from '../../chain/config.js';
import { tokenBalance } from '../../chain/erc20.js';
import { HotWalletKeeper } from '../../chain/hot-wallet.js';
import { ChainMetrics } from '../../chain/metrics.js';
import { WithdrawalProcessor } from '../../chain/withdrawals.js';
import { addWithdrawalAddress, createOperator, deposit, registerUser, startTestGateway } from '../gateway/support.js';
import { sendEth, startChainEnv } from './support.js';

const TKA = 1;
const TKB = 2;
const E18 = 10n ** 18n;
const COLD = Wallet.createRandom().address;

t.test('approval, rejection, halt, freeze and the cold wallet', async (t) => {
  const base = await startChainEnv(t);
  const rawTokens = (base.rawConfig.tokens as Record<string, unknown>[]).map((tk) =>
    tk.assetId === TKB ? { ...tk, hotWalletCap: '5000000', hotWalletRefillBelow: '1000000' } : tk,
  );
  const config = parseChainConfig({ ...base.rawConfig, tokens: rawTokens, coldAddress: COLD });
  const tg = await startTestGateway('custody', { withdrawalAddressDelayMs: 0 }, { db: base.db });
  t.teardown(() => tg.close());
  const app = tg.gw.app;
  for (const [assetId, symbol, decimals] of [
    [TKA, 'TKA', 18],
    [TKB, 'TKB', 6],
  ] as const)
    await tg.bus.apply({ v: 1, type: 'addAsset', id: `asset-${assetId}`, assetId, symbol, decimals });
  const sink = {
    send: async (cmds: readonly ChainCommand[]) => {
      for (const c of cmds) await tg.bus.apply(c);
    },
  };
  const proc = new WithdrawalProcessor({
    sql: base.db.sql,
    provider: base.provider,
    config,
    keys: base.keys,
    sink,
    log: base.log,
  });
  const metrics = new ChainMetrics();
  const keeper = new HotWalletKeeper({
    sql: base.db.sql,
    provider: base.provider,
    config,
    hotAddress: base.keys.hotWalletAddress(),
    log: base.log,
    metrics,
  });
  // The engine's withdrawalPending events reach the chain service's intake, as over Kafka.
  const intakes: Promise<unknown>[] = [];
  tg.bus.subscribe((events: readonly EngineEvent[]) => {
    for (const e of events) if (e.type === 'withdrawalPending') intakes.push(proc.intake(e as WithdrawalPending));
  });
  const hot = base.keys.hotWalletAddress();
  await base.tokens.tka.contract
    .getFunction('mint')(hot, 100n * E18)
    .then((tx) => tx.wait());
  await sendEth(base, hot, '10');
  await tg.db.sql`INSERT INTO custody_asset_limits (asset_id, approval_threshold) VALUES (${TKA}, ${E18.toString()})`;

  const user = await registerUser(tg.gw, 'frank');
  await deposit(tg.bus, user.userId, TKA, 20n * E18);
  const dest = Wallet.createRandom().address;
  await addWithdrawalAddress(tg.gw, user, dest);
  const withdraw = async (amount: string) => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/withdrawals',
      headers: user.bearer,
      payload: { asset: 'TKA', amount, address: dest },
    });
    if (res.statusCode !== 201) throw new Error(res.body);
    await Promise.all(intakes);
    return res.json() as { withdrawalId: string; approvalRequired: boolean };
  };
  const view = async (id: string) =>
    (await app.inject({ method: 'GET', url: `/v1/withdrawals/${id}`, headers: user.bearer })).json();
  const chainRow = async (id: string) =>
    (await tg.db.sql`SELECT state, status_code, nonce FROM chain_withdrawals WHERE withdrawal_id = ${id}`)[0];
  const available = async () =>
    (await tg.db.sql`SELECT available::text FROM balances WHERE user_id = ${user.userId} AND asset_id = ${TKA}`)[0]
      .available as string;
  const olga = await createOperator(tg, 'olga', 'operator');
  const admin = await createOperator(tg, 'adam', 'admin');
  const operatorCall = async (url: string, who: { bearer: Record<string, string> }, payload: object = {}) => {
    const res = await app.inject({ method: 'POST', url, headers: who.bearer, payload });
    return { status: res.statusCode, body: res.json() };
  };
  const settle = async (until: () => Promise<boolean>, what: string) => {
    for (let i = 0; i < 60; i++) {
      await proc.tick();
      if (await until()) return;
      await base.mine(1);
    }
    throw new Error(`not reached: ${what}`);
  };

  await t.test('above the threshold: waits unsigned, is sent once approved, completes for the user', async (t) => {
    const w = await withdraw('5');
    t.equal(w.approvalRequired, true);
    for (let i = 0; i < 3; i++) await proc.tick();
    t.match(
      await chainRow(w.withdrawalId),
      { state: 'queued', status_code: 'AWAITING_APPROVAL', nonce: null },
      'nothing signed',
    );
    t.equal(await base.provider.getTransactionCount(hot), 0, 'the hot wallet sent nothing');
    t.match(await view(w.withdrawalId), { status: 'pending', approval: 'pending' });
    const listed = (await app.inject({ method: 'GET', url: '/v1/admin/withdrawals', headers: olga.bearer })).json()
      .withdrawals;
    t.match(
      listed,
      [
        {
          withdrawalId: w.withdrawalId,
          userId: user.userId,
          asset: 'TKA',
          amount: '5',
          control: 'awaiting_approval',
          chainStatus: 'AWAITING_APPROVAL',
        },
      ],
      'the operator sees it waiting',
    );
    t.match(await operatorCall(`/v1/admin/withdrawals/${w.withdrawalId}/approve`, olga), {
      status: 200,
      body: { decision: 'approved', previous: 'awaiting_approval' },
    });
    await settle(async () => (await view(w.withdrawalId)).status === 'completed', 'completed');
    t.match(await view(w.withdrawalId), { status: 'completed', approval: 'approved', txHash: /^0x/ });
    t.equal(await tokenBalance(base.provider, base.tokens.tka.address, dest), 5n * E18, 'the tokens arrived');
    const [sent] = await tg.db.sql`SELECT detail FROM audit_log WHERE action = 'withdrawal.sent'`;
    t.match(JSON.parse(sent.detail), { withdrawalId: w.withdrawalId, kind: 'user' }, 'the audit log has the sending');
  });

  await t.test('a rejected one is never signed and the engine refunds exactly its amount', async (t) => {
    const before = await available();
    const w = await withdraw('3');
    t.equal(BigInt(await available()), BigInt(before) - 3n * E18, 'held while pending');
    const nonceBefore = await base.provider.getTransactionCount(hot);
    t.match(await operatorCall(`/v1/admin/withdrawals/${w.withdrawalId}/reject`, olga, { reason: 'unusual' }), {
      status: 200,
      body: { decision: 'rejected', previous: 'awaiting_approval' },
    });
    await settle(async () => (await view(w.withdrawalId)).status === 'failed', 'failed');
    t.equal(await available(), before, 'refunded to the base unit');
    t.match(await view(w.withdrawalId), {
      status: 'failed',
      approval: 'rejected',
      failReason: /WITHDRAWAL_REJECTED_BY_OPERATOR/,
    });
    t.match(await chainRow(w.withdrawalId), { state: 'rejected', nonce: null });
    t.equal(await base.provider.getTransactionCount(hot), nonceBefore, 'nothing was sent for it');
    t.match(
      await operatorCall(`/v1/admin/withdrawals/${w.withdrawalId}/approve`, olga),
      { status: 404, body: { code: 'EX_WITHDRAWAL_NOT_FOUND' } },
      'a rejected (failed) withdrawal is no longer pending',
    );
    const decisions = await tg.db
      .sql`SELECT action, actor_id, detail FROM audit_log WHERE action IN ('withdrawal.approved', 'withdrawal.rejected') ORDER BY seq`;
    t.match(
      decisions,
      [
        { action: 'withdrawal.approved', actor_id: 'olga' },
        { action: 'withdrawal.rejected', actor_id: 'olga' },
      ],
      'both decisions are audited',
    );
  });

  await t.test('the kill switch and a freeze hold withdrawals before signing', async (t) => {
    const w = await withdraw('0.5');
    t.equal((await operatorCall('/v1/admin/kill-switch/engage', admin, { reason: 'drill' })).status, 200);
    const nonceBefore = await base.provider.getTransactionCount(hot);
    await proc.tick();
    t.match(await chainRow(w.withdrawalId), { state: 'queued', status_code: 'WITHDRAWALS_HALTED', nonce: null });
    const refused = await app.inject({
      method: 'POST',
      url: '/v1/withdrawals',
      headers: user.bearer,
      payload: { asset: 'TKA', amount: '0.1', address: dest },
    });
    t.equal(refused.json().code, 'EX_WITHDRAWALS_HALTED', 'no new request while the kill switch is on');
    t.equal((await operatorCall('/v1/admin/kill-switch/release', admin, { reason: 'drill over' })).status, 200);
    t.match(await operatorCall(`/v1/admin/users/${user.userId}/freeze`, olga, { reason: 'check' }), {
      status: 200,
      body: { frozen: true },
    });
    await proc.tick();
    t.match(await chainRow(w.withdrawalId), { state: 'queued', status_code: 'USER_FROZEN', nonce: null });
    t.equal(await base.provider.getTransactionCount(hot), nonceBefore, 'nothing signed while halted or frozen');
    t.equal((await operatorCall(`/v1/admin/users/${user.userId}/unfreeze`, olga)).status, 200);
    await settle(async () => (await view(w.withdrawalId)).status === 'completed', 'completed after the freeze');
  });

  await t.test(
    'above its cap the hot wallet moves the excess to cold storage; below the refill level it alerts',
    async (t) => {
      await keeper.tick();
      t.equal(
        (await metrics.registry.getSingleMetric('chain_hot_wallet_low')!.get()).values.find(
          (v) => v.labels.token === 'TKB',
        )?.value,
        1,
        'TKB is below its refill level',
      );
      await base.tokens.tkb.contract
        .getFunction('mint')(hot, 8_000_000n)
        .then((tx) => tx.wait());
      await keeper.tick();
      const [cold] = await tg.db
        .sql`SELECT withdrawal_id, amount::text, destination, kind FROM chain_withdrawals WHERE kind = 'cold'`;
      t.match(cold, { amount: '3000000', destination: COLD }, 'the excess over the cap of 5 TKB');
      await keeper.tick();
      t.equal(
        (await tg.db.sql`SELECT count(*)::int AS n FROM chain_withdrawals WHERE kind = 'cold'`)[0].n,
        1,
        'one open transfer at a time',
      );
      await settle(async () => (await chainRow(cold.withdrawal_id)).state === 'confirmed', 'cold transfer confirmed');
      t.equal(await tokenBalance(base.provider, base.tokens.tkb.address, COLD), 3_000_000n);
      t.equal(await tokenBalance(base.provider, base.tokens.tkb.address, hot), 5_000_000n);
      await proc.tick();
      t.equal(
        (await tg.db.sql`SELECT reported FROM chain_withdrawals WHERE kind = 'cold'`)[0].reported,
        false,
        'nothing is reported to the engine for it',
      );
      await keeper.tick();
      const [fig] = await tg.db
        .sql`SELECT hot_balance::text, cold_balance::text, low FROM custody_wallet_figures WHERE asset_id = ${TKB}`;
      t.same(fig, { hot_balance: '5000000', cold_balance: '3000000', low: false }, 'the figures operators read');
      const wallets = (await app.inject({ method: 'GET', url: '/v1/admin/wallets', headers: olga.bearer })).json()
        .wallets;
      t.match(
        wallets.find((x: { assetId: number }) => x.assetId === TKB),
        {
          symbol: 'TKB',
          hotBalance: '5000000',
          coldBalance: '3000000',
          coldAddress: COLD,
          hotCap: '5000000',
          low: false,
        },
        'GET /v1/admin/wallets',
      );
    },
  );
});
