// The custody checks that stand before a signature, shared by the chain service (intake, signing) and the
// operator API (approve, reject). Each withdrawal the engine holds gets a control row when the chain service takes
// it in; the signer and an operator's decision both lock that row, so a rejection and a signature cannot cross.

import type { Sql, TransactionSql } from 'postgres';

export type ControlState = 'clear' | 'awaiting_approval' | 'approved' | 'rejected' | 'signed';

/** Why a queued withdrawal is not signed now (status_code of chain_withdrawals), or why it was refused. */
export type GateWait = 'WITHDRAWALS_HALTED' | 'USER_FROZEN' | 'AWAITING_APPROVAL';
export type GateRefusal = 'WITHDRAWAL_REJECTED_BY_OPERATOR';

export type Gate =
  | { readonly action: 'sign' }
  | { readonly action: 'wait'; readonly code: GateWait }
  | { readonly action: 'reject'; readonly code: GateRefusal; readonly detail: string };

export interface ControlledWithdrawal {
  readonly withdrawalId: string;
  readonly userId: number;
  readonly assetId: number;
  readonly amount: bigint;
  readonly destination: string;
}

export interface AssetLimits {
  readonly dailyWithdrawalLimit: bigint | null;
  readonly approvalThreshold: bigint | null;
}

type Db = Sql | TransactionSql;

export async function assetLimits(db: Db, assetId: number): Promise<AssetLimits> {
  const [row] = await db<{ daily: string | null; threshold: string | null }[]>`
    SELECT daily_withdrawal_limit::text AS daily, approval_threshold::text AS threshold FROM custody_asset_limits WHERE asset_id = ${assetId}`;
  return {
    dailyWithdrawalLimit: row?.daily == null ? null : BigInt(row.daily),
    approvalThreshold: row?.threshold == null ? null : BigInt(row.threshold),
  };
}

export const needsApproval = (limits: AssetLimits, amount: bigint): boolean =>
  limits.approvalThreshold !== null && amount > limits.approvalThreshold;

/**
 * The control row of a withdrawal the engine holds: awaiting approval above the asset's threshold, clear otherwise.
 * Idempotent (a redelivered event, or the gateway having written it first, changes nothing; an operator's earlier
 * rejection stays).
 */
export async function ensureControl(db: Db, w: ControlledWithdrawal): Promise<ControlState> {
  const limits = await assetLimits(db, w.assetId);
  const state: ControlState = needsApproval(limits, w.amount) ? 'awaiting_approval' : 'clear';
  await db`INSERT INTO custody_withdrawal_controls (withdrawal_id, user_id, asset_id, amount, destination, state)
    VALUES (${w.withdrawalId}, ${w.userId}, ${w.assetId}, ${w.amount.toString()}, ${w.destination}, ${state}) ON CONFLICT (withdrawal_id) DO NOTHING`;
  const [row] = await db<
    { state: ControlState }[]
  >`SELECT state FROM custody_withdrawal_controls WHERE withdrawal_id = ${w.withdrawalId}`;
  return row.state;
}

/**
 * Inside the signing transaction, before anything is signed: may this withdrawal be signed now? Takes the control
 * row's lock (an operator's decision waits for this transaction, and this one for a decision in progress), and
 * reads the venue's halt and the user's freeze as committed now. On 'sign' the caller signs and calls markSigned in
 * the same transaction.
 */
export async function signingGate(tx: TransactionSql, w: ControlledWithdrawal): Promise<Gate> {
  const [controls] = await tx<
    { halted: boolean }[]
  >`SELECT withdrawals_halted AS halted FROM custody_controls FOR SHARE`;
  if (controls?.halted !== false) return { action: 'wait', code: 'WITHDRAWALS_HALTED' };
  const [frozen] = await tx`SELECT 1 FROM custody_frozen_users WHERE user_id = ${w.userId}`;
  if (frozen !== undefined) return { action: 'wait', code: 'USER_FROZEN' };
  // A withdrawal taken in before the control table existed has no row yet: it gets one now, by the same rule.
  await ensureControl(tx, w);
  const [row] = await tx<{ state: ControlState; reason: string | null; decided_by: string | null }[]>`
    SELECT state, reason, decided_by FROM custody_withdrawal_controls WHERE withdrawal_id = ${w.withdrawalId} FOR UPDATE`;
  switch (row.state) {
    case 'clear':
    case 'approved':
      return { action: 'sign' };
    case 'awaiting_approval':
      return { action: 'wait', code: 'AWAITING_APPROVAL' };
    case 'rejected':
      return {
        action: 'reject',
        code: 'WITHDRAWAL_REJECTED_BY_OPERATOR',
        detail: `rejected by ${row.decided_by ?? 'an operator'}${row.reason === null ? '' : `: ${row.reason}`}`,
      };
    case 'signed':
      // One signer per chain (advisory lock) and one signature per queued row: a second would be a bug.
      throw new Error(`withdrawal ${w.withdrawalId} is queued but its control says signed`);
    default: {
      const _exhaustive: never = row.state;
      throw new Error(`unknown control state ${String(_exhaustive)}`);
    }
  }
}

export async function markSigned(tx: TransactionSql, withdrawalId: string): Promise<void> {
  const u =
    await tx`UPDATE custody_withdrawal_controls SET state = 'signed' WHERE withdrawal_id = ${withdrawalId} AND state IN ('clear', 'approved')`;
  if (u.count !== 1) throw new Error(`withdrawal ${withdrawalId}: control not signable`);
}

export type Decision = 'approve' | 'reject';

/**
 * An operator's decision. Approve: only a withdrawal awaiting approval. Reject: any not yet signed (awaiting,
 * approved, or clear but held up, e.g. by a freeze); a withdrawal the chain service has not taken in yet gets its
 * row now, rejected. Returns the state before, or null when there is nothing to decide (signed, or already
 * decided that way).
 */
export async function decide(
  sql: Sql,
  w: ControlledWithdrawal,
  d: { decision: Decision; by: string; reason: string | null; nowMs: number },
  /** Runs in the decision's transaction (the audit entry commits with the decision, or neither does). */
  recorded?: (tx: TransactionSql, previous: ControlState) => Promise<unknown>,
): Promise<ControlState | null> {
  return sql.begin(async (tx) => {
    await ensureControl(tx, w);
    const [row] = await tx<
      { state: ControlState }[]
    >`SELECT state FROM custody_withdrawal_controls WHERE withdrawal_id = ${w.withdrawalId} FOR UPDATE`;
    const allowed: ControlState[] =
      d.decision === 'approve' ? ['awaiting_approval'] : ['clear', 'awaiting_approval', 'approved'];
    if (!allowed.includes(row.state)) return null;
    await tx`UPDATE custody_withdrawal_controls SET state = ${d.decision === 'approve' ? 'approved' : 'rejected'}, decided_by = ${d.by}, decided_at = ${new Date(d.nowMs)}, reason = ${d.reason}
      WHERE withdrawal_id = ${w.withdrawalId}`;
    await recorded?.(tx, row.state);
    return row.state;
  });
}
