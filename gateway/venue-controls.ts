// What operators change on the venue, beyond single engine commands: the kill switch (every market halted and every
// withdrawal held before signing, with one call, and undone with one) and a user's freeze (the engine refuses the
// user's orders and withdrawal requests; the chain service does not sign the user's pending withdrawals). The
// database side is written first and committed: should the engine commands after it be lost (a crash, a timeout),
// withdrawals are already held, and calling again sends them again (engaging is idempotent).

import type { Sql } from 'postgres';
import type { MarketStatus } from '../engine/core/index.js';
import { gatewayError } from './errors.js';
import { newCommandId, send } from './routes/commands.js';
import type { RouteContext } from './routes/context.js';
import { COMMAND_VERSION } from '../engine/core/index.js';

export interface ControlsView {
  readonly killSwitchEngaged: boolean;
  readonly withdrawalsHalted: boolean;
  readonly marketStatusesBefore: Record<string, MarketStatus> | null;
  readonly updatedAt: string;
  readonly updatedBy: string | null;
}

/** Bounds the kill switch's fan-out: one command per market. */
export const MARKETS_MAX = 10_000;

interface ControlsRowDb {
  kill_switch_engaged: boolean;
  withdrawals_halted: boolean;
  market_statuses_before: Record<string, MarketStatus> | null;
  updated_at: Date;
  updated_by: string | null;
}

const view = (r: ControlsRowDb): ControlsView => ({
  killSwitchEngaged: r.kill_switch_engaged,
  withdrawalsHalted: r.withdrawals_halted,
  marketStatusesBefore: r.market_statuses_before,
  updatedAt: r.updated_at.toISOString(),
  updatedBy: r.updated_by,
});

export async function readControls(sql: Sql): Promise<ControlsView> {
  const [row] = await sql<
    ControlsRowDb[]
  >`SELECT kill_switch_engaged, withdrawals_halted, market_statuses_before, updated_at, updated_by FROM custody_controls`;
  return view(row);
}

async function marketStatuses(sql: Sql): Promise<{ market_id: number; status: MarketStatus }[]> {
  const rows = await sql<
    { market_id: number; status: MarketStatus }[]
  >`SELECT market_id, status FROM markets ORDER BY market_id LIMIT ${MARKETS_MAX + 1}`;
  if (rows.length > MARKETS_MAX) throw new Error(`more than ${MARKETS_MAX} markets`);
  return rows;
}

async function setStatuses(
  ctx: RouteContext,
  statuses: readonly { marketId: number; status: MarketStatus }[],
): Promise<string[]> {
  const ids: string[] = [];
  for (const s of statuses) {
    const sent = await send(
      ctx,
      { v: COMMAND_VERSION, type: 'setMarketStatus', id: newCommandId(), marketId: s.marketId, status: s.status },
      { userId: 0 },
    );
    ids.push(sent.cmdId);
  }
  return ids;
}

/**
 * Engages the kill switch: withdrawals halted (the gateway refuses requests, the chain service signs nothing more)
 * and every market halted, their statuses before kept for the release. Engaging again keeps the statuses first
 * recorded and halts whatever is not halted (a market added since, or a command lost).
 */
export async function engageKillSwitch(
  ctx: RouteContext,
  { by, ip, reason }: { by: string; ip: string; reason: string },
): Promise<ControlsView & { commandIds: string[] }> {
  const markets = await marketStatuses(ctx.sql);
  const row = await ctx.sql.begin(async (tx) => {
    const [before] = await tx<ControlsRowDb[]>`SELECT * FROM custody_controls FOR UPDATE`;
    const statuses =
      before.market_statuses_before ?? Object.fromEntries(markets.map((m) => [String(m.market_id), m.status]));
    const [after] = await tx<
      ControlsRowDb[]
    >`UPDATE custody_controls SET kill_switch_engaged = true, withdrawals_halted = true, market_statuses_before = ${tx.json(statuses)},
      updated_at = ${new Date(ctx.nowMs())}, updated_by = ${by} RETURNING *`;
    await ctx.audit.append(tx, {
      actorType: 'operator',
      actorId: by,
      userId: null,
      action: 'kill_switch.engaged',
      detail: { reason, markets: markets.length, again: before.kill_switch_engaged },
      ip,
    });
    return after;
  });
  const commandIds = await setStatuses(
    ctx,
    markets.filter((m) => m.status !== 'halted').map((m) => ({ marketId: m.market_id, status: 'halted' as const })),
  );
  return { ...view(row), commandIds };
}

/** Releases it: withdrawals resume and each market gets back the status it had (a market added since: trading). */
export async function releaseKillSwitch(
  ctx: RouteContext,
  { by, ip, reason }: { by: string; ip: string; reason: string },
): Promise<ControlsView & { commandIds: string[] }> {
  const markets = await marketStatuses(ctx.sql);
  const { row, before } = await ctx.sql.begin(async (tx) => {
    const [b] = await tx<ControlsRowDb[]>`SELECT * FROM custody_controls FOR UPDATE`;
    if (!b.kill_switch_engaged) throw gatewayError('EX_KILL_SWITCH_NOT_ENGAGED');
    const [after] = await tx<
      ControlsRowDb[]
    >`UPDATE custody_controls SET kill_switch_engaged = false, withdrawals_halted = false, market_statuses_before = NULL,
      updated_at = ${new Date(ctx.nowMs())}, updated_by = ${by} RETURNING *`;
    await ctx.audit.append(tx, {
      actorType: 'operator',
      actorId: by,
      userId: null,
      action: 'kill_switch.released',
      detail: { reason, statusesRestored: b.market_statuses_before ?? {} },
      ip,
    });
    return { row: after, before: b.market_statuses_before ?? {} };
  });
  const restore = markets
    .map((m) => ({ marketId: m.market_id, status: before[String(m.market_id)] ?? 'trading' }))
    .filter((s) => s.status !== 'halted');
  const commandIds = await setStatuses(ctx, restore);
  return { ...view(row), commandIds };
}

/** Freezes or unfreezes a user: the chain service's row (no signing) and the engine's flag (no orders, no requests). */
export async function setUserFrozen(
  ctx: RouteContext,
  u: { userId: number; frozen: boolean; reason: string | null; by: string; ip: string },
) {
  const [account] = await ctx.sql`SELECT 1 FROM gateway_accounts WHERE user_id = ${u.userId}`;
  if (account === undefined) throw gatewayError('EX_USER_NOT_FOUND');
  await ctx.sql.begin(async (tx) => {
    if (u.frozen)
      await tx`INSERT INTO custody_frozen_users (user_id, frozen_by, reason) VALUES (${u.userId}, ${u.by}, ${u.reason}) ON CONFLICT (user_id) DO NOTHING`;
    else await tx`DELETE FROM custody_frozen_users WHERE user_id = ${u.userId}`;
    await ctx.audit.append(tx, {
      actorType: 'operator',
      actorId: u.by,
      userId: u.userId,
      action: u.frozen ? 'user.frozen' : 'user.unfrozen',
      detail: { reason: u.reason },
      ip: u.ip,
    });
  });
  const sent = await send(
    ctx,
    { v: COMMAND_VERSION, type: 'setUserFrozen', id: newCommandId(), userId: u.userId, frozen: u.frozen },
    { userId: u.userId },
  );
  return { status: sent.status, commandId: sent.cmdId, userId: u.userId, frozen: u.frozen };
}
