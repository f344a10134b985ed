// Sweeps: moves tokens from deposit addresses that hold at least the token's threshold to the hot wallet.
// A deposit address has no ETH, so each sweep is a step machine persisted in chain_sweeps:
//   planned          gas estimated, fees fixed, amount = the address's balance
//   topup_signed     gas wallet -> address: exactly gasLimit x maxFeePerGas minus what it already holds; stored, then sent
//   funded           the top-up is mined (or none was needed)
//   transfer_signed  address -> hot wallet: the token transfer with exactly those gas fields; stored, then sent
//   done | failed    after N confirmations; failed raises an alert and blocks further sweeps of that address
// Every transaction is stored signed before it is broadcast and each step is re-entrant, so a crash anywhere
// resumes with a re-broadcast of the same transaction: never a second top-up or transfer.
// Only addresses whose deposits are all credited are swept: an unconfirmed deposit could still be reorged away.

import type { JsonRpcProvider } from 'ethers';
import type { Logger } from 'pino';
import type { Sql } from 'postgres';
import type { ChainConfig } from './config.js';
import { receiptHasTransfer, tokenBalance, transferData } from './erc20.js';
import { assert } from './errors.js';
import type { HdKeys } from './hd.js';
import { broadcastRaw, currentFees, signTx, takeNonce, withMargin } from './tx.js';

/** Sweeps planned or advanced per tick. */
export const SWEEP_BATCH_MAX = 64;
const ETH_TRANSFER_GAS = 21_000n;

interface SweepRow {
  id: string;
  token: string;
  addr_index: number;
  address: string;
  amount: string;
  state: 'planned' | 'topup_signed' | 'funded' | 'transfer_signed' | 'done' | 'failed';
  gas_limit: string;
  max_fee_per_gas: string;
  max_priority_fee: string;
  topup_amount: string;
  topup_raw_tx: string | null;
  topup_tx_hash: string | null;
  transfer_raw_tx: string | null;
  transfer_tx_hash: string | null;
  created_at: Date;
}

export interface SweepHooks {
  /** Test hook: after a step's state was stored (before its broadcast, for the signing steps). */
  afterStep?(sweepId: string, state: string): Promise<void>;
}

export class Sweeper {
  constructor(
    private readonly deps: {
      sql: Sql;
      provider: JsonRpcProvider;
      config: ChainConfig;
      keys: HdKeys;
      log: Logger;
      hooks?: SweepHooks;
    },
  ) {}

  async tick(): Promise<void> {
    if (!this.deps.config.sweep.enabled) return;
    await this.plan();
    const { sql, config } = this.deps;
    const active = await sql<
      SweepRow[]
    >`SELECT * FROM chain_sweeps WHERE chain_id = ${config.chainId} AND state NOT IN ('done', 'failed') ORDER BY id LIMIT ${SWEEP_BATCH_MAX}`;
    for (const s of active) await this.advance(s);
  }

  private async plan(): Promise<void> {
    const { sql, config, provider, keys, log } = this.deps;
    const candidates = await sql<{ address: string; token: string; addr_index: number }[]>`
      SELECT DISTINCT d.to_address AS address, d.token, a.addr_index
      FROM chain_deposits d JOIN chain_deposit_addresses a ON a.address = d.to_address
      WHERE d.chain_id = ${config.chainId} AND d.state = 'credited' AND d.sweep_id IS NULL
        AND NOT EXISTS (SELECT 1 FROM chain_deposits s WHERE s.chain_id = d.chain_id AND s.to_address = d.to_address AND s.state = 'seen')
        AND NOT EXISTS (SELECT 1 FROM chain_sweeps w WHERE w.chain_id = d.chain_id AND w.address = d.to_address AND w.state <> 'done')
      ORDER BY d.to_address, d.token LIMIT ${SWEEP_BATCH_MAX}`;
    const planned = new Set<string>();
    for (const c of candidates) {
      if (planned.has(c.address)) continue; // one active sweep per address; the next token goes next tick
      const token = config.tokens.find((t) => t.address === c.token);
      assert(token !== undefined, 'a credited deposit is of a configured token');
      const amount = await tokenBalance(provider, token.address, c.address);
      if (amount < token.sweepThreshold || amount === 0n) continue;
      const hot = keys.hotWalletAddress();
      const gas = await provider.estimateGas({ from: c.address, to: token.address, data: transferData(hot, amount) });
      const fees = await currentFees(provider);
      const row = {
        chain_id: config.chainId,
        token: token.address,
        addr_index: c.addr_index,
        address: c.address,
        amount: amount.toString(),
        state: 'planned',
        gas_limit: withMargin(gas, config.sweep.gasLimitMarginPct).toString(),
        max_fee_per_gas: fees.maxFeePerGas.toString(),
        max_priority_fee: fees.maxPriorityFeePerGas.toString(),
      };
      await sql`INSERT INTO chain_sweeps ${sql(row)} ON CONFLICT DO NOTHING`;
      planned.add(c.address);
      log.info({ address: c.address, token: token.symbol, amount: amount.toString() }, 'sweep planned');
    }
  }

  private async advance(s: SweepRow): Promise<void> {
    switch (s.state) {
      case 'planned':
        return this.topUp(s);
      case 'topup_signed':
        return this.awaitTopUp(s);
      case 'funded':
        return this.transfer(s);
      case 'transfer_signed':
        return this.awaitTransfer(s);
      case 'done':
      case 'failed':
        return;
      default: {
        const _exhaustive: never = s.state;
        throw new Error(`unknown sweep state ${String(_exhaustive)}`);
      }
    }
  }

  private async topUp(s: SweepRow): Promise<void> {
    const { sql, config, provider, keys, hooks } = this.deps;
    const need = BigInt(s.gas_limit) * BigInt(s.max_fee_per_gas);
    const has = await provider.getBalance(s.address);
    if (has >= need) {
      await sql`UPDATE chain_sweeps SET state = 'funded', updated_at = now() WHERE id = ${s.id} AND state = 'planned'`;
      return this.transfer({ ...s, state: 'funded' });
    }
    const topup = need - has;
    const gasWallet = keys.gasWallet(provider);
    const signed = await sql.begin(async (tx) => {
      const nonce = await takeNonce(tx, config.chainId, gasWallet.address, () =>
        provider.getTransactionCount(gasWallet.address, 'pending'),
      );
      const t = await signTx(gasWallet, {
        chainId: config.chainId,
        nonce,
        to: s.address,
        value: topup,
        gasLimit: ETH_TRANSFER_GAS,
        maxFeePerGas: BigInt(s.max_fee_per_gas),
        maxPriorityFeePerGas: BigInt(s.max_priority_fee),
      });
      const u =
        await tx`UPDATE chain_sweeps SET state = 'topup_signed', topup_amount = ${topup.toString()}, topup_nonce = ${nonce}, topup_raw_tx = ${t.raw}, topup_tx_hash = ${t.hash}, updated_at = now()
        WHERE id = ${s.id} AND state = 'planned'`;
      assert(u.count === 1, 'one sweeper per chain signs a planned sweep');
      return t;
    });
    await hooks?.afterStep?.(s.id, 'topup_signed');
    await broadcastRaw(provider, signed.raw);
  }

  private async awaitTopUp(s: SweepRow): Promise<void> {
    const { sql, provider, log } = this.deps;
    const receipt = await provider.getTransactionReceipt(s.topup_tx_hash!);
    if (receipt === null) {
      const b = await broadcastRaw(provider, s.topup_raw_tx!);
      if (b.result === 'error')
        log.error({ sweepId: s.id, error: b.message }, 'top-up broadcast failed (is the gas wallet funded?); retrying');
      return;
    }
    if (receipt.status !== 1) return this.fail(s, `top-up ${receipt.hash} reverted`);
    await sql`UPDATE chain_sweeps SET state = 'funded', updated_at = now() WHERE id = ${s.id} AND state = 'topup_signed'`;
    await this.transfer({ ...s, state: 'funded' });
  }

  private async transfer(s: SweepRow): Promise<void> {
    const { sql, config, provider, keys, hooks, log } = this.deps;
    const need = BigInt(s.gas_limit) * BigInt(s.max_fee_per_gas);
    const has = await provider.getBalance(s.address);
    if (has < need) {
      log.warn({ sweepId: s.id, has: has.toString(), need: need.toString() }, 'deposit address not funded yet');
      return;
    }
    const wallet = keys.depositWallet(s.addr_index, provider);
    assert(wallet.address === s.address, 'the sweep address is derived from its index');
    // The address sends only sweeps, one at a time, each confirmed before the next: its mined count is its nonce.
    const nonce = await provider.getTransactionCount(s.address, 'latest');
    const t = await signTx(wallet, {
      chainId: config.chainId,
      nonce,
      to: s.token,
      data: transferData(keys.hotWalletAddress(), BigInt(s.amount)),
      value: 0n,
      gasLimit: BigInt(s.gas_limit),
      maxFeePerGas: BigInt(s.max_fee_per_gas),
      maxPriorityFeePerGas: BigInt(s.max_priority_fee),
    });
    const u =
      await sql`UPDATE chain_sweeps SET state = 'transfer_signed', transfer_nonce = ${nonce}, transfer_raw_tx = ${t.raw}, transfer_tx_hash = ${t.hash}, updated_at = now()
      WHERE id = ${s.id} AND state = 'funded'`;
    assert(u.count === 1, 'one sweeper per chain signs a funded sweep');
    await hooks?.afterStep?.(s.id, 'transfer_signed');
    await broadcastRaw(provider, t.raw);
  }

  private async awaitTransfer(s: SweepRow): Promise<void> {
    const { sql, config, provider, keys, log } = this.deps;
    const receipt = await provider.getTransactionReceipt(s.transfer_tx_hash!);
    if (receipt === null) {
      const b = await broadcastRaw(provider, s.transfer_raw_tx!);
      if (b.result === 'error')
        log.error({ sweepId: s.id, error: b.message }, 'sweep transfer broadcast failed; retrying');
      return;
    }
    const head = await provider.getBlockNumber();
    if (head - receipt.blockNumber + 1 < config.confirmations) return;
    if (
      !receiptHasTransfer(receipt, {
        token: s.token,
        from: s.address,
        to: keys.hotWalletAddress(),
        amount: BigInt(s.amount),
      })
    ) {
      return this.fail(s, `transfer ${receipt.hash} mined without the token transfer (status ${receipt.status})`);
    }
    await sql.begin(async (tx) => {
      await tx`UPDATE chain_sweeps SET state = 'done', updated_at = now() WHERE id = ${s.id} AND state = 'transfer_signed'`;
      // The deposits this sweep moved: credited to this address before it was planned.
      await tx`UPDATE chain_deposits SET sweep_id = ${s.id} WHERE chain_id = ${config.chainId} AND to_address = ${s.address} AND token = ${s.token}
        AND state = 'credited' AND sweep_id IS NULL AND credited_at <= ${s.created_at}`;
    });
    log.info({ sweepId: s.id, address: s.address, amount: s.amount, txHash: receipt.hash }, 'swept');
  }

  private async fail(s: SweepRow, detail: string): Promise<void> {
    await this.deps
      .sql`UPDATE chain_sweeps SET state = 'failed', detail = ${detail}, updated_at = now() WHERE id = ${s.id}`;
    this.deps.log.error(
      { alert: 'SWEEP_FAILED', sweepId: s.id, address: s.address, detail },
      'sweep failed; sweeps of this address stop until an operator resolves it',
    );
  }
}
