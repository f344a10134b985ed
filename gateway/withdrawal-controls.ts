// The gateway's withdrawal controls, checked before the engine is asked to hold the funds (so a refusal costs the
// user nothing and leaves no pending withdrawal): the venue's withdrawal halt, the address book with its time
// lock, and the rolling 24 h limit per user and asset. The approval threshold, the halt (again), a user's freeze
// and an operator's rejection are the chain service's, checked before it signs (custody/controls.ts):
// docs/security.md says why each check lives where it does.

import { randomBytes } from 'node:crypto';
import type { Sql } from 'postgres';
import { assetLimits } from '../custody/controls.js';
import { gatewayError } from './errors.js';
import type { AssetInfo } from './units.js';
import { formatUnits } from './units.js';

export const WINDOW_MS = 24 * 3600_000;

export interface BookAddress {
  readonly addressId: string;
  readonly address: string;
  readonly label: string;
  readonly createdAt: string;
  readonly usableAt: string;
}

interface AddressRowDb {
  address_id: string;
  address: string;
  label: string;
  created_at: Date;
  usable_at: Date;
}

const view = (r: AddressRowDb): BookAddress => ({
  addressId: r.address_id,
  address: r.address,
  label: r.label,
  createdAt: r.created_at.toISOString(),
  usableAt: r.usable_at.toISOString(),
});

export class WithdrawalControls {
  constructor(
    private readonly sql: Sql,
    private readonly opts: { readonly addressDelayMs: number; readonly addressesPerUserMax: number },
    private readonly nowMs: () => number,
  ) {}

  async listAddresses(userId: number): Promise<BookAddress[]> {
    const rows = await this.sql<AddressRowDb[]>`
      SELECT address_id, address, label, created_at, usable_at FROM custody_withdrawal_addresses WHERE user_id = ${userId} AND removed_at IS NULL ORDER BY created_at, address_id`;
    return rows.map(view);
  }

  /** Adds an address, usable after the time lock. The caller has checked the checksum and the user's code. */
  async addAddress(userId: number, address: string, label: string): Promise<BookAddress> {
    const now = new Date(this.nowMs());
    const row = {
      address_id: `wa_${randomBytes(12).toString('hex')}`,
      user_id: userId,
      address,
      label,
      created_at: now,
      usable_at: new Date(now.getTime() + this.opts.addressDelayMs),
    };
    const added = await this.sql.begin(async (tx) => {
      await tx`SELECT user_id FROM gateway_accounts WHERE user_id = ${userId} FOR UPDATE`;
      const [{ n }] = await tx<
        { n: number }[]
      >`SELECT count(*)::int AS n FROM custody_withdrawal_addresses WHERE user_id = ${userId} AND removed_at IS NULL`;
      if (n >= this.opts.addressesPerUserMax) throw gatewayError('EX_WITHDRAWAL_ADDRESSES_MAX');
      const r = await tx`INSERT INTO custody_withdrawal_addresses ${tx(row)} ON CONFLICT DO NOTHING`;
      return r.count === 1;
    });
    if (!added) throw gatewayError('EX_WITHDRAWAL_ADDRESS_EXISTS');
    return view(row);
  }

  /** Removal is immediate: a withdrawal to it is refused from now on. */
  async removeAddress(userId: number, addressId: string): Promise<BookAddress> {
    const [row] = await this.sql<
      AddressRowDb[]
    >`UPDATE custody_withdrawal_addresses SET removed_at = ${new Date(this.nowMs())}
      WHERE address_id = ${addressId} AND user_id = ${userId} AND removed_at IS NULL RETURNING address_id, address, label, created_at, usable_at`;
    if (row === undefined) throw gatewayError('EX_WITHDRAWAL_ADDRESS_NOT_FOUND');
    return view(row);
  }

  /** Refuses while the operator's halt is on. */
  async assertNotHalted(): Promise<void> {
    const [row] = await this.sql<{ halted: boolean }[]>`SELECT withdrawals_halted AS halted FROM custody_controls`;
    if (row?.halted !== false) throw gatewayError('EX_WITHDRAWALS_HALTED');
  }

  /** The destination must be in the user's book and past its time lock. */
  async assertUsable(userId: number, address: string): Promise<void> {
    const [row] = await this.sql<{ usable_at: Date }[]>`
      SELECT usable_at FROM custody_withdrawal_addresses WHERE user_id = ${userId} AND address = ${address} AND removed_at IS NULL`;
    if (row === undefined) throw gatewayError('EX_WITHDRAWAL_ADDRESS_NOT_IN_BOOK');
    if (row.usable_at.getTime() > this.nowMs())
      throw gatewayError('EX_WITHDRAWAL_ADDRESS_LOCKED', undefined, { usableAt: row.usable_at.toISOString() });
  }

  /**
   * Admits the request against the rolling 24 h limit and records it, under the user's row lock (two requests at
   * once cannot both fit in what is left). Refunded withdrawals (failed in the engine) and refused requests do not
   * count. Returns whether the asset's approval threshold applies.
   */
  async admit(w: {
    withdrawalId: string;
    userId: number;
    asset: AssetInfo;
    amount: bigint;
    address: string;
  }): Promise<{ approvalRequired: boolean }> {
    return this.sql.begin(async (tx) => {
      const limits = await assetLimits(tx, w.asset.assetId);
      await tx`SELECT user_id FROM gateway_accounts WHERE user_id = ${w.userId} FOR UPDATE`;
      const now = this.nowMs();
      if (limits.dailyWithdrawalLimit !== null) {
        const [{ used }] = await tx<{ used: string }[]>`
          SELECT coalesce(sum(r.amount), 0)::text AS used FROM custody_withdrawal_requests r
          WHERE r.user_id = ${w.userId} AND r.asset_id = ${w.asset.assetId} AND r.requested_at > ${new Date(now - WINDOW_MS)} AND NOT r.refused
            AND NOT EXISTS (SELECT 1 FROM withdrawals f WHERE f.withdrawal_id = r.withdrawal_id AND f.status = 'failed')`;
        const left = limits.dailyWithdrawalLimit - BigInt(used);
        if (w.amount > left)
          throw gatewayError('EX_WITHDRAWAL_LIMIT_EXCEEDED', undefined, {
            remaining: formatUnits(left > 0n ? left : 0n, w.asset.decimals),
          });
      }
      await tx`INSERT INTO custody_withdrawal_requests ${tx({ withdrawal_id: w.withdrawalId, user_id: w.userId, asset_id: w.asset.assetId, amount: w.amount.toString(), address: w.address, requested_at: new Date(now) })}`;
      return { approvalRequired: limits.approvalThreshold !== null && w.amount > limits.approvalThreshold };
    });
  }

  /** The engine refused the request: it does not count towards the limit. */
  async refused(withdrawalId: string): Promise<void> {
    await this.sql`UPDATE custody_withdrawal_requests SET refused = true WHERE withdrawal_id = ${withdrawalId}`;
  }
}
