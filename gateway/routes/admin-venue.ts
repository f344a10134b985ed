// The operator API's writes (/v1/admin/…, tag admin), each recorded in the audit log with the operator's name:
//   admin     add an asset or a market (the engine's addAsset/addMarket, as the launcher sends them), set an asset's
//             withdrawal limit and approval threshold, engage and release the kill switch;
//   operator  change a market's status, freeze and unfreeze a user, approve or reject a pending withdrawal.
// An approval or rejection only records the decision (custody/controls.ts): the chain service, before it signs,
// sends the approved withdrawal or fails the rejected one in the engine (failWithdrawal), which releases its funds.

import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { decide } from '../../custody/controls.js';
import type { Decision } from '../../custody/controls.js';
import {
  AdminAsset,
  AdminCommandResult,
  AdminWithdrawalList,
  AdminWithdrawalQuery,
  AssetIdParams,
  AssetLimitsBody,
  Decided,
  DecisionBody,
  FreezeBody,
  KillSwitchBody,
  KillSwitchResult,
  MarketIdParams,
  MarketStatusBody,
  NewAsset,
  NewMarket,
  UserFrozen,
  UserIdParams,
} from '../admin-schemas.js';
import { gatewayError } from '../errors.js';
import { WithdrawalIdParams, errorResponses } from '../schemas.js';
import { amountToUnits, formatUnits } from '../units.js';
import { engageKillSwitch, releaseKillSwitch, setUserFrozen } from '../venue-controls.js';
import { adminTags as tags, operatorSecurity as security } from './admin.js';
import { newCommandId, send } from './commands.js';
import type { RouteContext } from './context.js';
import { clientOf, operatorOf } from './context.js';
import { COMMAND_VERSION } from '../../engine/core/index.js';

const admin = { auth: 'operator:admin' as const };
const operator = { auth: 'operator:operator' as const };
const viewer = { auth: 'operator:viewer' as const };
const WITHDRAWALS_LISTED_MAX = 500;

export const adminVenueRoutes: FastifyPluginAsync<{ ctx: RouteContext }> = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const audited = (request: Parameters<typeof clientOf>[0]) => ({
    by: operatorOf(request).name,
    ip: clientOf(request).ip,
  });

  app.post(
    '/v1/admin/assets',
    {
      config: admin,
      schema: {
        tags,
        security,
        summary: "Add an asset (the engine's addAsset)",
        body: NewAsset,
        response: { 201: AdminCommandResult, 202: AdminCommandResult, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { by, ip } = audited(request);
      const sent = await send(
        ctx,
        { v: COMMAND_VERSION, type: 'addAsset', id: newCommandId(), ...request.body },
        { userId: 0 },
      );
      await ctx.audit.append(ctx.sql, {
        actorType: 'operator',
        actorId: by,
        userId: null,
        action: 'asset.added',
        detail: { ...request.body, status: sent.status, commandId: sent.cmdId },
        ip,
      });
      return reply.code(sent.status === 'accepted' ? 201 : 202).send({ status: sent.status, commandId: sent.cmdId });
    },
  );

  app.put(
    '/v1/admin/assets/:assetId/limits',
    {
      config: admin,
      schema: {
        tags,
        security,
        summary: "Set an asset's rolling 24 h withdrawal limit and approval threshold",
        params: AssetIdParams,
        body: AssetLimitsBody,
        response: { 200: AdminAsset, ...errorResponses },
      },
    },
    async (request) => {
      const { by, ip } = audited(request);
      const a = await ctx.markets.assetById(request.params.assetId);
      if (a === null) throw gatewayError('EX_ASSET_UNKNOWN');
      const b = request.body;
      const daily =
        b.dailyWithdrawalLimit === null
          ? null
          : amountToUnits(b.dailyWithdrawalLimit, a.decimals, 'dailyWithdrawalLimit');
      const threshold =
        b.approvalThreshold === null ? null : amountToUnits(b.approvalThreshold, a.decimals, 'approvalThreshold');
      await ctx.sql.begin(async (tx) => {
        await tx`INSERT INTO custody_asset_limits (asset_id, daily_withdrawal_limit, approval_threshold, updated_at, updated_by)
        VALUES (${a.assetId}, ${daily?.toString() ?? null}, ${threshold?.toString() ?? null}, ${new Date(ctx.nowMs())}, ${by})
        ON CONFLICT (asset_id) DO UPDATE SET daily_withdrawal_limit = EXCLUDED.daily_withdrawal_limit, approval_threshold = EXCLUDED.approval_threshold,
          updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by`;
        await ctx.audit.append(tx, {
          actorType: 'operator',
          actorId: by,
          userId: null,
          action: 'asset.limits_changed',
          detail: { asset: a.symbol, ...b },
          ip,
        });
      });
      return {
        assetId: a.assetId,
        symbol: a.symbol,
        decimals: a.decimals,
        dailyWithdrawalLimit: b.dailyWithdrawalLimit,
        approvalThreshold: b.approvalThreshold,
      };
    },
  );

  app.post(
    '/v1/admin/markets',
    {
      config: admin,
      schema: {
        tags,
        security,
        summary: "Add a market (the engine's addMarket)",
        body: NewMarket,
        response: { 201: AdminCommandResult, 202: AdminCommandResult, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { by, ip } = audited(request);
      const b = request.body;
      const cmd = {
        ...b,
        tickSize: BigInt(b.tickSize),
        lotSize: BigInt(b.lotSize),
        minNotional: BigInt(b.minNotional),
      };
      const sent = await send(
        ctx,
        { v: COMMAND_VERSION, type: 'addMarket', id: newCommandId(), ...cmd },
        { userId: 0 },
      );
      await ctx.audit.append(ctx.sql, {
        actorType: 'operator',
        actorId: by,
        userId: null,
        action: 'market.added',
        detail: { ...b, status: sent.status, commandId: sent.cmdId },
        ip,
      });
      return reply.code(sent.status === 'accepted' ? 201 : 202).send({ status: sent.status, commandId: sent.cmdId });
    },
  );

  app.put(
    '/v1/admin/markets/:marketId/status',
    {
      config: operator,
      schema: {
        tags,
        security,
        summary: "Set a market's status: trading, cancelOnly (cancels only) or halted (nothing)",
        params: MarketIdParams,
        body: MarketStatusBody,
        response: { 200: AdminCommandResult, 202: AdminCommandResult, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { by, ip } = audited(request);
      const { marketId } = request.params;
      const sent = await send(
        ctx,
        { v: COMMAND_VERSION, type: 'setMarketStatus', id: newCommandId(), marketId, status: request.body.status },
        { userId: 0 },
      );
      await ctx.audit.append(ctx.sql, {
        actorType: 'operator',
        actorId: by,
        userId: null,
        action: 'market.status_changed',
        detail: { marketId, status: request.body.status, commandId: sent.cmdId },
        ip,
      });
      return reply.code(sent.status === 'accepted' ? 200 : 202).send({ status: sent.status, commandId: sent.cmdId });
    },
  );

  for (const frozen of [true, false]) {
    app.post(
      `/v1/admin/users/:userId/${frozen ? 'freeze' : 'unfreeze'}`,
      {
        config: operator,
        schema: {
          tags,
          security,
          params: UserIdParams,
          body: FreezeBody,
          response: { 200: UserFrozen, ...errorResponses },
          summary: frozen
            ? 'Freeze a user: no new orders or withdrawal requests, pending withdrawals not signed'
            : 'Unfreeze a user',
        },
      },
      async (request) => {
        const { by, ip } = audited(request);
        return setUserFrozen(ctx, {
          userId: request.params.userId,
          frozen,
          reason: request.body?.reason ?? null,
          by,
          ip,
        });
      },
    );
  }

  app.get(
    '/v1/admin/withdrawals',
    {
      config: viewer,
      schema: {
        tags,
        security,
        summary: 'Pending withdrawals (by default those awaiting approval), oldest first',
        querystring: AdminWithdrawalQuery,
        response: { 200: AdminWithdrawalList, ...errorResponses },
      },
    },
    async (request) => {
      const onlyAwaiting =
        (request.query.approval ?? 'pending') === 'pending' ? ctx.sql`AND c.state = 'awaiting_approval'` : ctx.sql``;
      const rows = await ctx.sql<
        {
          withdrawal_id: string;
          user_id: string;
          asset_id: number;
          amount: string;
          destination: string;
          requested_at: Date;
          state: string | null;
          decided_by: string | null;
          status_code: string | null;
        }[]
      >`
      SELECT w.withdrawal_id, w.user_id, w.asset_id, w.amount::text, w.destination, w.requested_at, c.state, c.decided_by, cw.status_code
      FROM withdrawals w LEFT JOIN custody_withdrawal_controls c USING (withdrawal_id) LEFT JOIN chain_withdrawals cw USING (withdrawal_id)
      WHERE w.status = 'pending' ${onlyAwaiting} ORDER BY w.requested_seq LIMIT ${WITHDRAWALS_LISTED_MAX}`;
      const withdrawals = [];
      for (const r of rows) {
        const a = (await ctx.markets.assetById(r.asset_id)) ?? { symbol: String(r.asset_id), decimals: 0 };
        withdrawals.push({
          withdrawalId: r.withdrawal_id,
          userId: Number(r.user_id),
          asset: a.symbol,
          amount: formatUnits(BigInt(r.amount), a.decimals),
          address: r.destination,
          requestedAt: r.requested_at.toISOString(),
          control: r.state as never,
          decidedBy: r.decided_by,
          chainStatus: r.status_code,
        });
      }
      return { withdrawals };
    },
  );

  for (const decision of ['approve', 'reject'] as const satisfies readonly Decision[]) {
    app.post(
      `/v1/admin/withdrawals/:withdrawalId/${decision}`,
      {
        config: operator,
        schema: {
          tags,
          security,
          params: WithdrawalIdParams,
          body: DecisionBody,
          response: { 200: Decided, ...errorResponses },
          summary:
            decision === 'approve'
              ? 'Approve a withdrawal awaiting approval: the chain service sends it'
              : 'Reject a pending withdrawal not yet signed: the chain service fails it in the engine, which releases the funds',
        },
      },
      async (request) =>
        decideWithdrawal(ctx, request.params.withdrawalId, decision, {
          reason: request.body?.reason ?? null,
          ...audited(request),
        }),
    );
  }

  for (const engage of [true, false]) {
    app.post(
      `/v1/admin/kill-switch/${engage ? 'engage' : 'release'}`,
      {
        config: admin,
        schema: {
          tags,
          security,
          body: KillSwitchBody,
          response: { 200: KillSwitchResult, ...errorResponses },
          summary: engage
            ? 'Engage the kill switch: every market halted, every withdrawal held before signing'
            : 'Release the kill switch: withdrawals resume, markets get back their statuses from before',
        },
      },
      async (request) => {
        const { by, ip } = audited(request);
        const reason = request.body.reason;
        return engage ? engageKillSwitch(ctx, { by, ip, reason }) : releaseKillSwitch(ctx, { by, ip, reason });
      },
    );
  }
};

async function decideWithdrawal(
  ctx: RouteContext,
  withdrawalId: string,
  decision: Decision,
  d: { reason: string | null; by: string; ip: string },
) {
  const [w] = await ctx.sql<{ user_id: string; asset_id: number; amount: string; destination: string }[]>`
    SELECT user_id, asset_id, amount::text, destination FROM withdrawals WHERE withdrawal_id = ${withdrawalId} AND status = 'pending'`;
  if (w === undefined) throw gatewayError('EX_WITHDRAWAL_NOT_FOUND');
  const userId = Number(w.user_id);
  const controlled = {
    withdrawalId,
    userId,
    assetId: w.asset_id,
    amount: BigInt(w.amount),
    destination: w.destination,
  };
  const previous = await decide(
    ctx.sql,
    controlled,
    { decision, by: d.by, reason: d.reason, nowMs: ctx.nowMs() },
    (tx, before) =>
      ctx.audit.append(tx, {
        actorType: 'operator',
        actorId: d.by,
        userId,
        action: decision === 'approve' ? 'withdrawal.approved' : 'withdrawal.rejected',
        detail: { withdrawalId, reason: d.reason, previous: before },
        ip: d.ip,
      }),
  );
  // decide() answers null for what it cannot decide: signed, rejected, or (approve) one that needs no approval.
  if (previous === null || previous === 'rejected' || previous === 'signed')
    throw gatewayError('EX_WITHDRAWAL_NOT_DECIDABLE');
  return { withdrawalId, decision: decision === 'approve' ? ('approved' as const) : ('rejected' as const), previous };
}
