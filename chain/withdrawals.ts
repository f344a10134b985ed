// Withdrawals from the hot wallet. Each tick: report finished ones to the engine, (re-)broadcast signed ones, track
// broadcast ones (confirm, replace when stuck), then sign queued ones while there is room and money.
//
// Never twice: a withdrawal gets exactly one nonce, allocated in PostgreSQL in the same transaction that stores its
// signed transaction, before anything is broadcast. After a crash the stored transaction is re-broadcast; a stuck
// one is replaced at the same nonce (every version stored, any may be mined). So at most one transfer per
// withdrawal can ever be mined. failWithdrawal (which refunds the user) is sent only for a withdrawal refused
// before signing, or whose mined transaction reverted with N confirmations: never for one that might still be mined.

import { getAddress, ZeroAddress } from 'ethers';
import type { JsonRpcProvider, TransactionReceipt, Wallet } from 'ethers';
import type { Logger } from 'pino';
import type { Sql } from 'postgres';
import type { WithdrawalPending } from '../engine/core/index.js';
import { AuditLog } from '../audit/log.js';
import { ensureControl, markSigned, signingGate } from '../custody/controls.js';
import type { ChainConfig, TokenConfig } from './config.js';
import { tokenByAsset } from './config.js';
import type { ChainCommand, CommandSink } from './engine-io.js';
import { chainCommandId } from './engine-io.js';
import { receiptHasTransfer, tokenBalance, transferData } from './erc20.js';
import { assert } from './errors.js';
import type { ChainErrorCode } from './errors.js';
import type { HdKeys } from './hd.js';
import { broadcastRaw, currentFees, signTx, takeNonce, withMargin } from './tx.js';
import type { Fees } from './tx.js';
import { COMMAND_VERSION } from '../engine/core/index.js';

const UINT256_MAX = (1n << 256n) - 1n;
/** Rows handled per step per tick. */
export const WITHDRAWAL_BATCH_MAX = 256;

export type Validation =
  { ok: true; token: TokenConfig; destination: string } | { ok: false; code: ChainErrorCode; detail: string };

/** Pure: is this withdrawal safe to sign? Runs before anything touches a key. */
export function validateWithdrawal(
  config: ChainConfig,
  w: { assetId: number; amount: bigint; destination: string },
): Validation {
  const token = tokenByAsset(config, w.assetId);
  if (token === undefined)
    return {
      ok: false,
      code: 'WITHDRAWAL_UNKNOWN_ASSET',
      detail: `asset ${w.assetId} is not a token of chain ${config.chainId}`,
    };
  if (typeof w.destination !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(w.destination)) {
    return { ok: false, code: 'WITHDRAWAL_BAD_ADDRESS', detail: 'not a 0x-prefixed 20-byte hex address' };
  }
  let destination: string;
  try {
    // All-lower or all-upper case carries no checksum and is accepted; mixed case must be valid EIP-55.
    destination = getAddress(w.destination);
  } catch {
    return { ok: false, code: 'WITHDRAWAL_BAD_ADDRESS', detail: 'bad EIP-55 checksum' };
  }
  if (destination === ZeroAddress)
    return { ok: false, code: 'WITHDRAWAL_BAD_ADDRESS', detail: 'the zero address burns tokens' };
  if (config.tokens.some((t) => t.address === destination))
    return { ok: false, code: 'WITHDRAWAL_BAD_ADDRESS', detail: 'a token contract cannot receive withdrawals' };
  if (typeof w.amount !== 'bigint' || w.amount <= 0n || w.amount > UINT256_MAX)
    return { ok: false, code: 'WITHDRAWAL_BAD_AMOUNT', detail: 'amount must be in [1, 2^256-1] base units' };
  if (w.amount < token.withdrawalMin)
    return {
      ok: false,
      code: 'WITHDRAWAL_BAD_AMOUNT',
      detail: `below the minimum ${token.withdrawalMin} of ${token.symbol}`,
    };
  return { ok: true, token, destination };
}

interface Row {
  withdrawal_id: string;
  user_id: string;
  asset_id: number;
  token: string | null;
  destination: string;
  amount: string;
  state: string;
  status_code: string | null;
  status_detail: string | null;
  nonce: string | null;
  gas_limit: string | null;
  max_fee_per_gas: string | null;
  max_priority_fee: string | null;
  raw_tx: string | null;
  tx_hash: string | null;
  broadcast_at: Date | null;
  mined_tx_hash: string | null;
  kind: 'user' | 'cold';
}

export interface WithdrawalHooks {
  /** Test hook: called after a signed transaction is stored and before it is broadcast. */
  afterSign?(withdrawalId: string): Promise<void>;
  /** Test hook: called after a broadcast and before its state is stored. */
  afterBroadcast?(withdrawalId: string): Promise<void>;
}

/** What signing a queued row came to: signed, held back by a custody control (with why), or refused by one. */
type SignOutcome =
  { readonly result: 'signed' | 'rejected' | 'skipped' } | { readonly result: 'wait'; readonly code: string };

export class WithdrawalProcessor {
  private readonly hot: Wallet;
  private readonly audit: AuditLog;

  constructor(
    private readonly deps: {
      sql: Sql;
      provider: JsonRpcProvider;
      config: ChainConfig;
      keys: HdKeys;
      sink: CommandSink;
      log: Logger;
      hooks?: WithdrawalHooks;
      nowMs?: () => number;
    },
  ) {
    this.hot = deps.keys.hotWallet(deps.provider);
    this.audit = new AuditLog(() => this.now());
  }

  /** Records a withdrawalPending event (idempotent: a redelivered event changes nothing). Refused ones are failed. */
  async intake(
    ev: Pick<WithdrawalPending, 'withdrawalId' | 'userId' | 'assetId' | 'amount' | 'destination'>,
  ): Promise<'queued' | 'rejected' | 'ignored' | 'duplicate'> {
    const { sql, config, log } = this.deps;
    const v = validateWithdrawal(config, ev);
    // Another chain's asset: its own chain service handles it.
    if (!v.ok && v.code === 'WITHDRAWAL_UNKNOWN_ASSET') return 'ignored';
    const row = {
      withdrawal_id: ev.withdrawalId,
      chain_id: config.chainId,
      user_id: ev.userId,
      asset_id: ev.assetId,
      token: v.ok ? v.token.address : null,
      destination: v.ok ? v.destination : String(ev.destination).slice(0, 200),
      amount: ev.amount.toString(),
      state: v.ok ? 'queued' : 'rejected',
      status_code: v.ok ? null : v.code,
      status_detail: v.ok ? null : v.detail,
    };
    const r = await sql`INSERT INTO chain_withdrawals ${sql(row)} ON CONFLICT (withdrawal_id) DO NOTHING`;
    // The custody control (approval above the asset's threshold) exists before the row can be signed; signing
    // makes sure again (custody/controls.ts), so a crash between the two statements loses nothing.
    if (v.ok)
      await ensureControl(sql, {
        withdrawalId: ev.withdrawalId,
        userId: ev.userId,
        assetId: ev.assetId,
        amount: ev.amount,
        destination: v.destination,
      });
    if (r.count === 0) return 'duplicate';
    if (!v.ok)
      log.warn({ withdrawalId: ev.withdrawalId, code: v.code, detail: v.detail }, 'withdrawal refused before signing');
    return v.ok ? 'queued' : 'rejected';
  }

  async tick(): Promise<void> {
    await this.report();
    await this.broadcastSigned();
    await this.track();
    await this.signQueued();
    await this.broadcastSigned();
  }

  private async rows(states: string[], limit = WITHDRAWAL_BATCH_MAX): Promise<Row[]> {
    const { sql, config } = this.deps;
    return sql<
      Row[]
    >`SELECT * FROM chain_withdrawals WHERE chain_id = ${config.chainId} AND state IN ${sql(states)} ORDER BY nonce NULLS LAST, created_at, withdrawal_id LIMIT ${limit}`;
  }

  /** Sends completeWithdrawal / failWithdrawal for finished rows, then marks them reported. */
  private async report(): Promise<void> {
    const { sql, config, sink } = this.deps;
    const rows = await sql<
      Row[]
    >`SELECT * FROM chain_withdrawals WHERE chain_id = ${config.chainId} AND state IN ('confirmed', 'failed', 'rejected') AND NOT reported AND kind = 'user'
      ORDER BY updated_at LIMIT ${WITHDRAWAL_BATCH_MAX}`;
    if (rows.length === 0) return;
    const commands: ChainCommand[] = rows.map((r) =>
      r.state === 'confirmed'
        ? {
            v: COMMAND_VERSION,
            type: 'completeWithdrawal',
            id: chainCommandId('withdrawal-complete', r.withdrawal_id),
            withdrawalId: r.withdrawal_id,
            txHash: r.mined_tx_hash!,
          }
        : {
            v: COMMAND_VERSION,
            type: 'failWithdrawal',
            id: chainCommandId('withdrawal-fail', r.withdrawal_id),
            withdrawalId: r.withdrawal_id,
            reason: `${r.status_code}: ${r.status_detail ?? ''}`.slice(0, 200),
          },
    );
    // Sent before marked: a crash in between re-sends; the engine refuses a second completion of the same id.
    await sink.send(commands);
    await sql`UPDATE chain_withdrawals SET reported = true, updated_at = now() WHERE withdrawal_id IN ${sql(rows.map((r) => r.withdrawal_id))}`;
  }

  private async broadcastSigned(): Promise<void> {
    const { sql, provider, log, hooks } = this.deps;
    for (const r of await this.rows(['signed'])) {
      const b = await broadcastRaw(provider, r.raw_tx!);
      if (b.result === 'error') {
        log.error(
          { withdrawalId: r.withdrawal_id, nonce: r.nonce, error: b.message },
          'broadcast failed; retrying next tick',
        );
        // In nonce order: a later nonce cannot be mined before this one anyway.
        return;
      }
      await hooks?.afterBroadcast?.(r.withdrawal_id);
      await sql.begin(async (tx) => {
        const u =
          await tx`UPDATE chain_withdrawals SET state = 'broadcast', broadcast_at = ${new Date(this.now())}, updated_at = now() WHERE withdrawal_id = ${r.withdrawal_id} AND state = 'signed'`;
        if (u.count !== 1) return;
        await this.audit.append(tx, {
          actorType: 'system',
          actorId: `chain-${this.deps.config.name}`,
          userId: r.kind === 'user' ? Number(r.user_id) : null,
          action: 'withdrawal.sent',
          detail: {
            withdrawalId: r.withdrawal_id,
            kind: r.kind,
            assetId: r.asset_id,
            amount: r.amount,
            destination: r.destination,
            txHash: r.tx_hash,
            nonce: r.nonce,
          },
        });
      });
    }
  }

  /** Confirms mined withdrawals, fails reverted ones, re-broadcasts or replaces unmined ones. */
  private async track(): Promise<void> {
    const { sql, provider, config } = this.deps;
    const rows = await this.rows(['broadcast']);
    if (rows.length === 0) return;
    const head = await provider.getBlockNumber();
    let fees: Fees | null = null;
    for (const r of rows) {
      const hashes = await sql<
        { tx_hash: string; raw_tx: string }[]
      >`SELECT tx_hash, raw_tx FROM chain_withdrawal_txs WHERE withdrawal_id = ${r.withdrawal_id} ORDER BY attempt`;
      let receipt: TransactionReceipt | null = null;
      for (const h of hashes) {
        receipt = await provider.getTransactionReceipt(h.tx_hash);
        if (receipt !== null) break;
      }
      if (receipt !== null) {
        if (head - receipt.blockNumber + 1 >= config.confirmations) await this.finish(r, receipt);
        else await this.markMined(r, receipt.hash, receipt.blockNumber);
        continue;
      }
      // Mined earlier, gone now: its block was replaced and the transaction is back in the mempool (or lost).
      if (r.mined_tx_hash !== null) await this.markMined(r, null, null);
      const ageMs = this.now() - r.broadcast_at!.getTime();
      if (ageMs < config.withdrawals.stuckAfterMs) {
        await broadcastRaw(provider, r.raw_tx!); // nodes may have dropped it; idempotent
        continue;
      }
      fees ??= await currentFees(provider);
      await this.replace(r, fees, hashes.length);
    }
  }

  private async markMined(r: Row, txHash: string | null, block: number | null): Promise<void> {
    if (r.mined_tx_hash === txHash) return;
    await this.deps
      .sql`UPDATE chain_withdrawals SET mined_tx_hash = ${txHash}, mined_block = ${block}, updated_at = now() WHERE withdrawal_id = ${r.withdrawal_id} AND state = 'broadcast'`;
  }

  private async finish(r: Row, receipt: TransactionReceipt): Promise<void> {
    const { sql, log } = this.deps;
    const ok = receiptHasTransfer(receipt, {
      token: r.token!,
      from: this.hot.address,
      to: r.destination,
      amount: BigInt(r.amount),
    });
    if (ok) {
      await sql`UPDATE chain_withdrawals SET state = 'confirmed', mined_tx_hash = ${receipt.hash}, mined_block = ${receipt.blockNumber}, status_code = null, status_detail = null, updated_at = now()
        WHERE withdrawal_id = ${r.withdrawal_id} AND state = 'broadcast'`;
      return;
    }
    // Mined without the transfer (reverted, or a token that returns false): the tokens did not move, so the
    // nonce is spent and the user is refunded.
    log.error(
      { withdrawalId: r.withdrawal_id, txHash: receipt.hash, status: receipt.status },
      'withdrawal transaction mined without its transfer; failing it',
    );
    await sql`UPDATE chain_withdrawals SET state = 'failed', mined_tx_hash = ${receipt.hash}, mined_block = ${receipt.blockNumber}, status_code = 'WITHDRAWAL_TX_REVERTED',
      status_detail = ${`tx ${receipt.hash} status ${receipt.status}`}, updated_at = now() WHERE withdrawal_id = ${r.withdrawal_id} AND state = 'broadcast'`;
  }

  /** Same nonce, higher fees: the replacement or the original gets mined, never both. */
  private async replace(r: Row, fees: Fees, attempts: number): Promise<void> {
    const { sql, provider, config, log } = this.deps;
    const bump = (x: bigint): bigint => x + (x * BigInt(config.withdrawals.feeBumpPct)) / 100n + 1n;
    const prio = maxBig(bump(BigInt(r.max_priority_fee!)), fees.maxPriorityFeePerGas);
    const maxFee = maxBig(bump(BigInt(r.max_fee_per_gas!)), fees.maxFeePerGas, prio);
    if (maxFee > config.withdrawals.maxFeePerGasCapWei) {
      await sql`UPDATE chain_withdrawals SET status_code = 'FEE_CAP_REACHED', status_detail = ${`replacement would pay ${maxFee} wei/gas > cap`}, updated_at = now() WHERE withdrawal_id = ${r.withdrawal_id}`;
      await broadcastRaw(provider, r.raw_tx!);
      return;
    }
    const signed = await signTx(this.hot, {
      chainId: config.chainId,
      nonce: Number(r.nonce),
      to: r.token!,
      data: transferData(r.destination, BigInt(r.amount)),
      gasLimit: BigInt(r.gas_limit!),
      maxFeePerGas: maxFee,
      maxPriorityFeePerGas: prio,
      value: 0n,
    });
    await sql.begin(async (tx) => {
      await tx`INSERT INTO chain_withdrawal_txs (withdrawal_id, attempt, tx_hash, raw_tx, max_fee_per_gas, max_priority_fee)
        VALUES (${r.withdrawal_id}, ${attempts}, ${signed.hash}, ${signed.raw}, ${maxFee.toString()}, ${prio.toString()})`;
      await tx`UPDATE chain_withdrawals SET raw_tx = ${signed.raw}, tx_hash = ${signed.hash}, max_fee_per_gas = ${maxFee.toString()}, max_priority_fee = ${prio.toString()},
        broadcast_at = ${new Date(this.now())}, status_code = 'REPLACED', status_detail = ${`attempt ${attempts + 1}`}, updated_at = now() WHERE withdrawal_id = ${r.withdrawal_id}`;
    });
    const b = await broadcastRaw(provider, signed.raw);
    log.warn(
      {
        withdrawalId: r.withdrawal_id,
        nonce: r.nonce,
        attempt: attempts + 1,
        maxFee: maxFee.toString(),
        result: b.result,
        error: b.message,
      },
      'stuck withdrawal replaced with higher fees',
    );
  }

  /** Signs queued withdrawals (oldest first) while in-flight room, token and ETH allow; the rest wait with a status. */
  private async signQueued(): Promise<void> {
    const { sql, provider, config } = this.deps;
    const [{ inflight }] = await sql<
      { inflight: number }[]
    >`SELECT count(*)::int AS inflight FROM chain_withdrawals WHERE chain_id = ${config.chainId} AND state IN ('signed', 'broadcast')`;
    const room = config.withdrawals.inFlightMax - inflight;
    if (room <= 0) return;
    const queued = await this.rows(['queued'], Math.min(room, WITHDRAWAL_BATCH_MAX));
    if (queued.length === 0) return;
    const fees = await currentFees(provider);
    if (fees.maxFeePerGas > config.withdrawals.maxFeePerGasCapWei) {
      await this.setStatus(
        queued,
        'FEE_CAP_REACHED',
        `network asks ${fees.maxFeePerGas} wei/gas, cap ${config.withdrawals.maxFeePerGasCapWei}`,
      );
      return;
    }
    const budget = await this.budget();
    for (const r of queued) {
      const amount = BigInt(r.amount);
      const tokenLeft = (budget.tokens.get(r.token!) ?? (await this.tokenBudget(r.token!, budget))) - amount;
      if (tokenLeft < 0n) {
        await this.setStatus(
          [r],
          'HOT_WALLET_UNDERFUNDED',
          `hot wallet ${this.hot.address} lacks ${-tokenLeft} base units of ${r.token} (after in-flight withdrawals)`,
        );
        continue;
      }
      const gasLimit = withMargin(
        await provider.estimateGas({ from: this.hot.address, to: r.token!, data: transferData(r.destination, amount) }),
        config.withdrawals.gasLimitMarginPct,
      );
      const ethLeft = budget.eth - gasLimit * fees.maxFeePerGas;
      if (ethLeft < 0n) {
        await this.setStatus(
          [r],
          'HOT_WALLET_UNDERFUNDED',
          `hot wallet ${this.hot.address} lacks ${-ethLeft} wei for gas (after in-flight withdrawals)`,
        );
        continue;
      }
      const outcome = await this.sign(r, gasLimit, fees);
      if (outcome.result === 'wait') {
        await this.setStatus([r], outcome.code, 'held by a custody control before signing (docs/security.md)');
        continue;
      }
      if (outcome.result !== 'signed') continue;
      budget.tokens.set(r.token!, tokenLeft);
      budget.eth = ethLeft;
    }
  }

  /** What the hot wallet can still spend: balances minus the worst case of what is signed and not yet mined. */
  private async budget(): Promise<{ eth: bigint; tokens: Map<string, bigint>; inflight: Row[] }> {
    const inflight = await this.rows(['signed', 'broadcast'], this.deps.config.withdrawals.inFlightMax);
    let eth = await this.deps.provider.getBalance(this.hot.address);
    for (const r of inflight) if (r.mined_tx_hash === null) eth -= BigInt(r.gas_limit!) * BigInt(r.max_fee_per_gas!);
    return { eth, tokens: new Map(), inflight };
  }

  private async tokenBudget(token: string, budget: { tokens: Map<string, bigint>; inflight: Row[] }): Promise<bigint> {
    let left = await tokenBalance(this.deps.provider, token, this.hot.address);
    // A mined-but-unconfirmed transfer already left the balance; only unmined ones are subtracted.
    for (const r of budget.inflight) if (r.token === token && r.mined_tx_hash === null) left -= BigInt(r.amount);
    budget.tokens.set(token, left);
    return left;
  }

  /**
   * Signs a queued row in one transaction with its nonce, unless a custody control holds it (halt, freeze, approval)
   * or refuses it (an operator's rejection: the row becomes rejected and report() refunds it in the engine).
   */
  private async sign(r: Row, gasLimit: bigint, fees: Fees): Promise<SignOutcome> {
    const { sql, provider, config, hooks, log } = this.deps;
    const v = validateWithdrawal(config, { assetId: r.asset_id, amount: BigInt(r.amount), destination: r.destination });
    assert(
      v.ok && v.destination === r.destination && v.token.address === r.token,
      'a queued withdrawal read back from the database is still valid',
    );
    const outcome = await sql.begin(async (tx): Promise<SignOutcome> => {
      // Row lock: a second processor (there should be one per chain) cannot sign it too.
      const [cur] = await tx<
        { state: string }[]
      >`SELECT state FROM chain_withdrawals WHERE withdrawal_id = ${r.withdrawal_id} FOR UPDATE`;
      if (cur.state !== 'queued') return { result: 'skipped' };
      if (r.kind === 'user') {
        const gate = await signingGate(tx, {
          withdrawalId: r.withdrawal_id,
          userId: Number(r.user_id),
          assetId: r.asset_id,
          amount: BigInt(r.amount),
          destination: r.destination,
        });
        if (gate.action === 'wait') return { result: 'wait', code: gate.code };
        if (gate.action === 'reject') {
          await tx`UPDATE chain_withdrawals SET state = 'rejected', status_code = ${gate.code}, status_detail = ${gate.detail.slice(0, 200)}, updated_at = now() WHERE withdrawal_id = ${r.withdrawal_id}`;
          log.warn(
            { withdrawalId: r.withdrawal_id, code: gate.code },
            'withdrawal rejected by an operator before signing; failing it (refund)',
          );
          return { result: 'rejected' };
        }
        await markSigned(tx, r.withdrawal_id);
      }
      const nonce = await takeNonce(tx, config.chainId, this.hot.address, () =>
        provider.getTransactionCount(this.hot.address, 'pending'),
      );
      const signed = await signTx(this.hot, {
        chainId: config.chainId,
        nonce,
        to: v.token.address,
        data: transferData(v.destination, BigInt(r.amount)),
        gasLimit,
        maxFeePerGas: fees.maxFeePerGas,
        maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
        value: 0n,
      });
      const u =
        await tx`UPDATE chain_withdrawals SET state = 'signed', nonce = ${nonce}, gas_limit = ${gasLimit.toString()}, max_fee_per_gas = ${fees.maxFeePerGas.toString()},
        max_priority_fee = ${fees.maxPriorityFeePerGas.toString()}, raw_tx = ${signed.raw}, tx_hash = ${signed.hash}, status_code = null, status_detail = null, updated_at = now()
        WHERE withdrawal_id = ${r.withdrawal_id} AND state = 'queued'`;
      assert(u.count === 1, 'only a queued withdrawal is signed');
      await tx`INSERT INTO chain_withdrawal_txs (withdrawal_id, attempt, tx_hash, raw_tx, max_fee_per_gas, max_priority_fee)
        VALUES (${r.withdrawal_id}, 0, ${signed.hash}, ${signed.raw}, ${fees.maxFeePerGas.toString()}, ${fees.maxPriorityFeePerGas.toString()})`;
      return { result: 'signed' };
    });
    if (outcome.result === 'signed') await hooks?.afterSign?.(r.withdrawal_id);
    return outcome;
  }

  private async setStatus(rows: Row[], code: string, detail: string): Promise<void> {
    const { sql, log } = this.deps;
    const changed = rows.filter((r) => r.status_code !== code || r.status_detail !== detail);
    if (changed.length === 0) return;
    await sql`UPDATE chain_withdrawals SET status_code = ${code}, status_detail = ${detail}, updated_at = now() WHERE withdrawal_id IN ${sql(changed.map((r) => r.withdrawal_id))} AND state = 'queued'`;
    log.warn({ code, detail, withdrawals: changed.length }, 'withdrawals wait');
  }

  private now(): number {
    return (this.deps.nowMs ?? Date.now)();
  }
}

function maxBig(...xs: bigint[]): bigint {
  return xs.reduce((a, b) => (a > b ? a : b));
}
