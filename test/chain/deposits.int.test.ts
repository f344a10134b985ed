// Deposits on a real local chain: credited only after N confirmations, a reorg before that credits nothing, a
// re-read log credits once, the chain service keeps crediting while a node stops answering its withdrawal step (and
// sends that withdrawal once), a reorg deeper than the confirmations halts crediting.

import t from 'tap';
import { Engine } from '../../engine/core/engine.js';
import { depositAddressFor } from '../../chain/addresses.js';
import { RecordingSink } from '../../chain/engine-io.js';
import { parseChainConfig } from '../../chain/config.js';
import { makeProvider, tokenBalance } from '../../chain/erc20.js';
import { ChainService } from '../../chain/service.js';
import { startStatusServer } from '../../chain/status-server.js';
import type { WithdrawalPending } from '../../engine/core/events.js';
import { startTestGateway } from '../gateway/support.js';
import { DepositWatcher } from '../../chain/watcher.js';
import { HDNodeWallet, Mnemonic, Wallet } from 'ethers';
import { sendEth, startChainEnv, startRpcProxy } from './support.js';

t.test('deposits', async (t) => {
  const env = await startChainEnv(t);
  const sink = new RecordingSink();
  const watcher = new DepositWatcher({
    sql: env.db.sql,
    provider: env.provider,
    config: env.config,
    sink,
    log: env.log,
  });
  const alice = await depositAddressFor(env.db.sql, env.keys, 101);
  const bob = await depositAddressFor(env.db.sql, env.keys, 102);

  t.test('deposit addresses: allocated once per user, equal to ethers HD wallet derivation', async (t) => {
    t.equal(alice.index, 0);
    t.equal(bob.index, 1);
    t.same(await depositAddressFor(env.db.sql, env.keys, 101), alice, 'a second call returns the same slot');
    const concurrent = await Promise.all(
      [201, 202, 203, 201, 202, 203].map((u) => depositAddressFor(env.db.sql, env.keys, u)),
    );
    t.same(
      new Set(concurrent.map((a) => a.index)),
      new Set([2, 3, 4]),
      'concurrent allocations: one slot per user, no gaps',
    );
    const m = Mnemonic.fromPhrase(env.mnemonic);
    for (const a of [alice, bob, ...concurrent]) {
      t.equal(
        a.address,
        HDNodeWallet.fromMnemonic(m, `m/44'/60'/0'/0/${a.index}`).address,
        `index ${a.index} matches ethers`,
      );
    }
    t.not(env.keys.hotWalletAddress(), env.keys.gasWalletAddress());
    t.equal(env.keys.hotWalletAddress(), HDNodeWallet.fromMnemonic(m, "m/44'/60'/1'/0/0").address);
  });

  t.test('credited only after N confirmations, with txHash:logIndex as depositId', async (t) => {
    const before = sink.commands.length;
    const amount = 1_234_567_890_123_456_789n;
    const txHash = await mintTo(env.tokens.tka, alice.address, amount);
    let r = await watcher.tick();
    t.equal(r.seen, 1, 'seen in its block');
    t.equal(r.credited, 0, '1 confirmation of 3: not credited');
    await env.mine(1);
    r = await watcher.tick();
    t.equal(r.credited, 0, '2 confirmations of 3: not credited');
    t.equal(sink.commands.length, before);
    await env.mine(1);
    r = await watcher.tick();
    t.equal(r.credited, 1, '3 confirmations: credited');
    const cmd = sink.commands.at(-1)!;
    t.match(cmd, { type: 'deposit', userId: 101, assetId: 1, amount });
    t.ok(
      cmd.type === 'deposit' && cmd.depositId.startsWith(`${txHash.toLowerCase()}:`),
      'depositId is txHash:logIndex',
    );
    await env.mine(5);
    r = await watcher.tick();
    t.equal(r.credited, 0, 'credited once');
    t.equal(sink.commands.length, before + 1);
  });

  t.test('6-decimal and USDT-style tokens; transfers to other addresses ignored', async (t) => {
    const before = sink.commands.length;
    await mintTo(env.tokens.tkb, bob.address, 5_000_000n);
    await mintTo(env.tokens.usdt, bob.address, 7_000_001n);
    await mintTo(env.tokens.usdt, env.keys.hotWalletAddress(), 9n);
    await env.mine(3);
    await watcher.tick();
    const got = sink.commands.slice(before).map((c) => (c.type === 'deposit' ? [c.userId, c.assetId, c.amount] : null));
    t.same(got, [
      [102, 2, 5_000_000n],
      [102, 3, 7_000_001n],
    ]);
  });

  t.test('a reorg before N confirmations credits nothing', async (t) => {
    const before = sink.commands.length;
    const snap = await env.rpc('evm_snapshot');
    await mintTo(env.tokens.tka, alice.address, 777n);
    await env.mine(1);
    let r = await watcher.tick();
    t.equal(r.seen, 1, 'seen at 2 confirmations');
    t.equal(await env.rpc('evm_revert', [snap]), true);
    await env.mine(4); // the other branch, longer, without the deposit
    r = await watcher.tick();
    t.equal(r.dropped, 1, 'the deposit of the replaced block is dropped');
    t.equal(r.halted, false);
    await env.mine(3);
    await watcher.tick();
    t.equal(sink.commands.length, before, 'nothing credited');
    const [row] = await env.db.sql`SELECT state FROM chain_deposits WHERE amount = 777`;
    t.equal(row.state, 'dropped');
  });

  t.test(
    'a replayed log credits once (cursor rewound, watcher restarted; the engine refuses the repeated id)',
    async (t) => {
      const before = sink.commands.length;
      await env.db.sql`UPDATE chain_watch_cursor SET next_block = ${env.config.startBlock}`;
      const restarted = new DepositWatcher({
        sql: env.db.sql,
        provider: env.provider,
        config: env.config,
        sink,
        log: env.log,
      });
      for (let i = 0; i < 5; i++) await restarted.tick();
      t.equal(sink.commands.length, before, 're-reading old blocks sends nothing again');
      // And if a crash re-sent a Deposit command (sent, then crashed before marking), the engine credits it once.
      const first = sink.commands.find((c) => c.type === 'deposit')!;
      const engine = new Engine();
      engine.apply({ v: 1, type: 'addAsset', id: 'a1', timeMs: 1, assetId: 1, symbol: 'TKA', decimals: 18 });
      const ok = engine.apply({ ...first, timeMs: 2 } as never);
      const again = engine.apply({ ...first, id: first.id + ':resend', timeMs: 3 } as never);
      t.match(ok.at(-1), { type: 'commandResult', status: 'accepted' });
      t.match(again.at(-1), { type: 'commandResult', status: 'rejected', code: 'DEPOSIT_DUPLICATE' });
    },
  );

  t.test(
    'a node that stops answering the withdrawal step holds up only that loop: deposits are credited, the withdrawal goes once',
    async (t) => {
      // The service's RPC goes through a proxy that, once told, passes eth_sendRawTransaction to the node (it is mined)
      // but holds the answer back: the sender waits 2 s per attempt and retries, its loop makes no progress. A deposit
      // mined meanwhile must be credited well within one such wait (it would not be if the loops were one).
      const proxy = await startRpcProxy(env.node.url);
      t.teardown(() => proxy.close());
      const config = parseChainConfig({
        ...env.rawConfig,
        rpcUrl: proxy.url,
        rpc: { timeoutMs: 2_000, attempts: 3 },
        staleAfterMs: 1_000,
      });
      const provider = makeProvider(config);
      t.teardown(() => provider.destroy());
      const out = new RecordingSink();
      const service = new ChainService({ sql: env.db.sql, provider, config, keys: env.keys, sink: out, log: env.log });
      const hot = env.keys.hotWalletAddress();
      await mintTo(env.tokens.tka, hot, 10n ** 18n);
      await sendEth(env, hot, '1');
      await service.start();
      t.teardown(() => service.stop());
      const status = await startStatusServer({ service, sql: env.db.sql, host: '127.0.0.1', port: 0 });
      t.teardown(() => status.close());
      // The embedded exchange's gateway (npm start) runs with the chain service in its process: its /ready has the loops.
      const tg = await startTestGateway('chainready', {}, { db: env.db, chainProgress: () => service.progress() });
      t.teardown(() => tg.close());
      await until(
        async () => service.progress().loops.withdrawals !== null && service.progress().loops.deposits !== null,
        'the loops ticked',
      );

      proxy.hang(['eth_sendRawTransaction']);
      const dest = Wallet.createRandom().address;
      await service.onWithdrawalPending({
        withdrawalId: 'w-node-hangs',
        userId: 101,
        assetId: 1,
        amount: 5n,
        destination: dest,
      } as WithdrawalPending);
      await until(
        async () => (proxy.held.get('eth_sendRawTransaction') ?? 0) >= 1,
        'the signed withdrawal reached the node',
      );
      await mintTo(env.tokens.tka, bob.address, 4242n);
      await env.mine(3);
      await until(
        async () => out.commands.some((c) => c.type === 'deposit' && c.amount === 4242n),
        'the deposit is credited while the sender waits on the node',
        1_500,
      );
      await until(async () => (service.progress().loops.withdrawals ?? 0) > 1_000, 'the withdrawal loop falls behind');
      const ready = await fetch(`${status.url}/ready`);
      const body = (await ready.json()) as { status: string; loopProgressAgeMs: Record<string, number> };
      t.equal(ready.status, 503, '/ready says so');
      t.ok(
        body.loopProgressAgeMs.withdrawals > 1_000 && body.loopProgressAgeMs.deposits < 1_000,
        `each loop's age: ${JSON.stringify(body.loopProgressAgeMs)}`,
      );
      t.match(
        await (await fetch(`${status.url}/metrics`)).text(),
        /chain_loop_progress_age_seconds\{loop="withdrawals"\} [1-9]/,
        'and the metric',
      );
      const gwReady = await tg.gw.app.inject({ method: 'GET', url: '/ready' });
      t.match(
        [gwReady.statusCode, gwReady.json()],
        [
          503,
          { status: 'unready', checks: { postgres: true, chain: false }, chainLoopProgressAgeMs: { deposits: Number } },
        ],
        'and a gateway in the same process',
      );

      // Answered again: the sender's next tick re-broadcasts the stored transaction, which the node already mined; the
      // receipt decides, and no second transaction is signed.
      proxy.resume();
      await until(async () => {
        await env.mine(1);
        return out.commands.some((c) => c.type === 'completeWithdrawal');
      }, 'the withdrawal completes once the node answers');
      t.equal(await env.provider.getTransactionCount(hot), 1, 'the hot wallet sent one transaction: nothing twice');
      t.equal(await tokenBalance(env.provider, env.tokens.tka.address, dest), 5n);
      t.equal(out.commands.filter((c) => c.type === 'completeWithdrawal').length, 1, 'completed once');
      await until(
        async () => (await tg.gw.app.inject({ method: 'GET', url: '/ready' })).json().checks.chain === true,
        "the gateway's /ready sees the withdrawal loop back",
        5_000,
      );
      await service.stop();
    },
  );

  t.test('a reorg deeper than the confirmations halts crediting', async (t) => {
    const snap = await env.rpc('evm_snapshot');
    await mintTo(env.tokens.tka, alice.address, 888n);
    await env.mine(3);
    let r = await watcher.tick();
    t.equal(r.credited, 1, 'credited at 3 confirmations');
    const before = sink.commands.length;
    await env.rpc('evm_revert', [snap]);
    await env.mine(6);
    await mintTo(env.tokens.tka, alice.address, 999n);
    await env.mine(3);
    r = await watcher.tick();
    t.equal(r.halted, true, 'halted');
    r = await watcher.tick();
    t.equal(r.halted, true, 'stays halted');
    t.equal(sink.commands.length, before, 'no more credits on this chain');
    const [c] = await env.db.sql`SELECT halted, halt_reason FROM chain_watch_cursor`;
    t.equal(c.halted, true);
    t.match(c.halt_reason, /reorg/);
  });
});

async function mintTo(
  token: {
    contract: { getFunction(n: string): (...a: unknown[]) => Promise<{ hash: string; wait(): Promise<unknown> }> };
  },
  to: string,
  amount: bigint,
): Promise<string> {
  const tx = await token.contract.getFunction('mint')(to, amount);
  await tx.wait();
  return tx.hash;
}

async function until(done: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > end) throw new Error(`not reached in ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
