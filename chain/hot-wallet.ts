// The hot wallet's size. Every withdrawal loop: each token's hot balance less what is signed and not yet mined,
// figures for operators (custody_wallet_figures), an alert below the refill threshold (log HOT_WALLET_LOW, gauge
// chain_hot_wallet_low; withdrawals it cannot pay wait as HOT_WALLET_UNDERFUNDED), and above the cap a transfer of
// the excess to the cold address. The transfer is a row of chain_withdrawals (kind 'cold'): the same sender signs
// it with the hot wallet's nonces, so nonces stay owned by one sender. The cold address is watch-only: no key here.

import type { JsonRpcProvider } from 'ethers';
import type { Logger } from 'pino';
import type { Sql } from 'postgres';
import type { ChainConfig, TokenConfig } from './config.js';
import { tokenBalance } from './erc20.js';
import type { ChainMetrics } from './metrics.js';

export interface HotWalletFigures {
  readonly hot: bigint;
  readonly inFlight: bigint;
  readonly queued: bigint;
  readonly cold: bigint | null;
}

/** Pure: how much to move to cold storage (0n: none), given what the hot wallet must still pay. */
export function coldExcess(
  t: Pick<TokenConfig, 'hotWalletCap' | 'hotWalletTarget'>,
  f: Pick<HotWalletFigures, 'hot' | 'inFlight' | 'queued'>,
): bigint {
  if (t.hotWalletCap === null || t.hotWalletTarget === null) return 0n;
  const free = f.hot - f.inFlight - f.queued;
  return free > t.hotWalletCap ? free - t.hotWalletTarget : 0n;
}

export class HotWalletKeeper {
  private readonly low = new Map<string, boolean>();

  constructor(
    private readonly deps: {
      sql: Sql;
      provider: JsonRpcProvider;
      config: ChainConfig;
      hotAddress: string;
      log: Logger;
      metrics?: ChainMetrics;
      nowMs?: () => number;
    },
  ) {}

  async tick(): Promise<void> {
    for (const t of this.deps.config.tokens) await this.token(t);
  }

  private async token(t: TokenConfig): Promise<void> {
    const { sql, config, log, metrics } = this.deps;
    const f = await this.figures(t);
    const spendable = f.hot - f.inFlight;
    const low = t.hotWalletRefillBelow !== null && spendable < t.hotWalletRefillBelow;
    metrics?.hotBalance.set({ token: t.symbol }, Number(spendable));
    metrics?.hotLow.set({ token: t.symbol }, low ? 1 : 0);
    if (low && this.low.get(t.symbol) !== true) {
      log.warn(
        {
          alert: 'HOT_WALLET_LOW',
          token: t.symbol,
          spendable: spendable.toString(),
          refillBelow: t.hotWalletRefillBelow!.toString(),
          queued: f.queued.toString(),
        },
        `hot wallet ${t.symbol} below its refill threshold: refill it from cold storage`,
      );
    }
    this.low.set(t.symbol, low);
    await sql`INSERT INTO custody_wallet_figures ${sql({
      chain_id: config.chainId,
      token: t.address,
      asset_id: t.assetId,
      symbol: t.symbol,
      hot_address: this.deps.hotAddress,
      hot_balance: f.hot.toString(),
      in_flight: f.inFlight.toString(),
      queued: f.queued.toString(),
      cold_address: config.coldAddress,
      cold_balance: f.cold?.toString() ?? null,
      hot_cap: t.hotWalletCap?.toString() ?? null,
      refill_below: t.hotWalletRefillBelow?.toString() ?? null,
      low,
      updated_at: new Date(this.now()),
    })} ON CONFLICT (chain_id, token) DO UPDATE SET hot_balance = EXCLUDED.hot_balance, in_flight = EXCLUDED.in_flight, queued = EXCLUDED.queued,
      cold_balance = EXCLUDED.cold_balance, hot_cap = EXCLUDED.hot_cap, refill_below = EXCLUDED.refill_below, low = EXCLUDED.low, updated_at = EXCLUDED.updated_at`;
    const excess = coldExcess(t, f);
    if (excess > 0n) await this.planCold(t, excess);
  }

  private async figures(t: TokenConfig): Promise<HotWalletFigures> {
    const { sql, provider, config } = this.deps;
    const hot = await tokenBalance(provider, t.address, this.deps.hotAddress);
    // Mined transfers already left the balance; unmined ones (signed, broadcast) will.
    const [{ inflight, queued }] = await sql<{ inflight: string; queued: string }[]>`
      SELECT coalesce(sum(amount) FILTER (WHERE state IN ('signed', 'broadcast') AND mined_tx_hash IS NULL), 0)::text AS inflight,
             coalesce(sum(amount) FILTER (WHERE state = 'queued'), 0)::text AS queued
      FROM chain_withdrawals WHERE chain_id = ${config.chainId} AND token = ${t.address}`;
    const cold = config.coldAddress === null ? null : await tokenBalance(provider, t.address, config.coldAddress);
    return { hot, inFlight: BigInt(inflight), queued: BigInt(queued), cold };
  }

  /** One open transfer to cold storage per token (a unique index): the next waits until it is mined. */
  private async planCold(t: TokenConfig, amount: bigint): Promise<void> {
    const { sql, config, log } = this.deps;
    const id = `cold-${config.chainId}-${t.symbol}-${this.now()}`;
    const r = await sql`INSERT INTO chain_withdrawals ${sql({
      withdrawal_id: id,
      chain_id: config.chainId,
      user_id: 0,
      asset_id: t.assetId,
      token: t.address,
      destination: config.coldAddress!,
      amount: amount.toString(),
      state: 'queued',
      kind: 'cold',
    })} ON CONFLICT DO NOTHING`;
    if (r.count === 1)
      log.info(
        { id, token: t.symbol, amount: amount.toString(), coldAddress: config.coldAddress },
        'hot wallet above its cap: moving the excess to cold storage',
      );
  }

  private now(): number {
    return (this.deps.nowMs ?? Date.now)();
  }
}
