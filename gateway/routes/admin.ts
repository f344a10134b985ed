// The operator API's sessions and reads (/v1/admin/…, tag admin): log in with password and TOTP code, and read what
// an operator needs to run the venue (assets with their limits, markets with their status, a user's balances and
// orders, the whole audit log, the hot and cold wallets, the venue's switches). Writes are in admin-venue.ts.
// Operators authenticate with their own session token (`Bearer o_…`); a user's credentials never reach these routes.

import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { readAudit } from '../../audit/log.js';
import {
  AdminAssetList,
  AdminAuditQuery,
  AdminBalanceList,
  AdminMarketList,
  AdminOrderList,
  AdminPageQuery,
  OperatorLoginBody,
  OperatorMe,
  OperatorSession,
  UserIdParams,
  VenueControls,
  WalletFiguresList,
} from '../admin-schemas.js';
import { gatewayError } from '../errors.js';
import { AuditPage, errorResponses } from '../schemas.js';
import { formatUnits } from '../units.js';
import { readControls } from '../venue-controls.js';
import { auditView } from './account.js';
import type { RouteContext } from './context.js';
import { clientOf, operatorOf } from './context.js';
import { ORDER_COLUMNS, orderViews } from './order-views.js';
import type { OrderRowDb } from './order-views.js';

export const adminTags = ['admin'];
export const operatorSecurity: { [name: string]: string[] }[] = [{ operatorSession: [] }];
const viewer = { auth: 'operator:viewer' as const };

export const adminRoutes: FastifyPluginAsync<{ ctx: RouteContext }> = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = adminTags;
  const security = operatorSecurity;

  app.post(
    '/v1/admin/auth/login',
    {
      config: { auth: 'public' },
      schema: {
        tags,
        summary: 'Operator login: password and TOTP code, an operator session',
        body: OperatorLoginBody,
        response: { 200: OperatorSession, ...errorResponses },
        description:
          "Unknown names, disabled operators and wrong passwords answer alike (EX_BAD_CREDENTIALS); a code is always required (EX_OTP_REQUIRED) and accepted once. Failures back off per name and address like users' logins.",
      },
    },
    async (request) => ctx.operators.login(request.body, clientOf(request)),
  );

  app.post(
    '/v1/admin/auth/logout',
    {
      config: viewer,
      schema: {
        tags,
        security,
        summary: 'End this operator session',
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await ctx.operators.logout(request, operatorOf(request), clientOf(request));
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/admin/me',
    {
      config: viewer,
      schema: {
        tags,
        security,
        summary: 'Who this operator session is',
        response: { 200: OperatorMe, ...errorResponses },
      },
    },
    async (request) => {
      const o = operatorOf(request);
      return { name: o.name, role: o.role };
    },
  );

  app.get(
    '/v1/admin/assets',
    {
      config: viewer,
      schema: {
        tags,
        security,
        summary: 'Assets with their withdrawal limit and approval threshold',
        response: { 200: AdminAssetList, ...errorResponses },
      },
    },
    async () => {
      const rows = await ctx.sql<
        { asset_id: number; symbol: string; decimals: number; daily: string | null; threshold: string | null }[]
      >`
      SELECT a.asset_id, a.symbol, a.decimals, l.daily_withdrawal_limit::text AS daily, l.approval_threshold::text AS threshold
      FROM assets a LEFT JOIN custody_asset_limits l USING (asset_id) ORDER BY a.asset_id`;
      const fmt = (v: string | null, d: number) => (v === null ? null : formatUnits(BigInt(v), d));
      return {
        assets: rows.map((r) => ({
          assetId: r.asset_id,
          symbol: r.symbol,
          decimals: r.decimals,
          dailyWithdrawalLimit: fmt(r.daily, r.decimals),
          approvalThreshold: fmt(r.threshold, r.decimals),
        })),
      };
    },
  );

  app.get(
    '/v1/admin/markets',
    {
      config: viewer,
      schema: {
        tags,
        security,
        summary: 'Markets with their status (trading, cancelOnly, halted)',
        response: { 200: AdminMarketList, ...errorResponses },
      },
    },
    async () => {
      const rows = await ctx.sql<
        {
          market_id: number;
          symbol: string;
          base_asset_id: number;
          quote_asset_id: number;
          tick_size: string;
          lot_size: string;
          min_notional: string;
          maker_fee_bps: number;
          taker_fee_bps: number;
          status: 'trading' | 'cancelOnly' | 'halted';
        }[]
      >`
      SELECT market_id, symbol, base_asset_id, quote_asset_id, tick_size::text, lot_size::text, min_notional::text, maker_fee_bps, taker_fee_bps, status FROM markets ORDER BY market_id`;
      return {
        markets: rows.map((m) => ({
          marketId: m.market_id,
          symbol: m.symbol,
          baseAssetId: m.base_asset_id,
          quoteAssetId: m.quote_asset_id,
          tickSize: m.tick_size,
          lotSize: m.lot_size,
          minNotional: m.min_notional,
          makerFeeBps: m.maker_fee_bps,
          takerFeeBps: m.taker_fee_bps,
          status: m.status,
        })),
      };
    },
  );

  app.get(
    '/v1/admin/users/:userId/balances',
    {
      config: viewer,
      schema: {
        tags,
        security,
        summary: "A user's balances and whether the user is frozen",
        params: UserIdParams,
        response: { 200: AdminBalanceList, ...errorResponses },
      },
    },
    async (request) => {
      const { userId } = request.params;
      const [account] = await ctx.sql<
        { frozen: boolean }[]
      >`SELECT EXISTS (SELECT 1 FROM custody_frozen_users f WHERE f.user_id = a.user_id) AS frozen FROM gateway_accounts a WHERE a.user_id = ${userId}`;
      if (account === undefined) throw gatewayError('EX_USER_NOT_FOUND');
      const rows = await ctx.sql<{ asset_id: number; available: string; held: string; pending: string }[]>`
      SELECT asset_id, available::text, held::text, pending::text FROM balances WHERE user_id = ${userId} ORDER BY asset_id`;
      const balances = [];
      for (const r of rows) {
        const a = (await ctx.markets.assetById(r.asset_id)) ?? { symbol: String(r.asset_id), decimals: 0 };
        balances.push({
          asset: a.symbol,
          assetId: r.asset_id,
          available: formatUnits(BigInt(r.available), a.decimals),
          held: formatUnits(BigInt(r.held), a.decimals),
          pending: formatUnits(BigInt(r.pending), a.decimals),
        });
      }
      return { userId, frozen: account.frozen, balances };
    },
  );

  app.get(
    '/v1/admin/users/:userId/orders',
    {
      config: viewer,
      schema: {
        tags,
        security,
        summary: "A user's orders, open and closed (newest first, paged)",
        params: UserIdParams,
        querystring: AdminPageQuery,
        response: { 200: AdminOrderList, ...errorResponses },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 100;
      const cursor = request.query.before === undefined ? ctx.sql`` : ctx.sql`AND order_id < ${request.query.before}`;
      const rows = await ctx.sql<
        OrderRowDb[]
      >`SELECT ${ctx.sql.unsafe(ORDER_COLUMNS)} FROM orders WHERE user_id = ${request.params.userId} ${cursor} ORDER BY order_id DESC LIMIT ${limit}`;
      return {
        orders: await orderViews(rows, ctx.markets),
        nextBefore: rows.length === limit ? Number(rows[rows.length - 1].order_id) : null,
      };
    },
  );

  app.get(
    '/v1/admin/audit',
    {
      config: viewer,
      schema: {
        tags,
        security,
        summary: "The audit log: every user's and operator's entries, with the operators' names (newest first)",
        querystring: AdminAuditQuery,
        response: { 200: AuditPage, ...errorResponses },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 100;
      const rows = await readAudit(ctx.sql, {
        userId: request.query.userId ?? null,
        beforeSeq: request.query.before ?? null,
        limit,
      });
      return {
        entries: rows.map((r) => auditView(r, true)),
        nextBefore: rows.length === limit ? rows[rows.length - 1].seq : null,
      };
    },
  );

  app.get(
    '/v1/admin/wallets',
    {
      config: viewer,
      schema: {
        tags,
        security,
        summary: 'Hot and cold wallet figures per token, as the chain service last wrote them',
        response: { 200: WalletFiguresList, ...errorResponses },
      },
    },
    async () => {
      const rows = await ctx.sql<
        {
          chain_id: string;
          token: string;
          asset_id: number;
          symbol: string;
          hot_address: string;
          hot_balance: string;
          in_flight: string;
          queued: string;
          cold_address: string | null;
          cold_balance: string | null;
          hot_cap: string | null;
          refill_below: string | null;
          low: boolean;
          updated_at: Date;
        }[]
      >`
      SELECT chain_id, token, asset_id, symbol, hot_address, hot_balance::text, in_flight::text, queued::text, cold_address, cold_balance::text, hot_cap::text, refill_below::text, low, updated_at
      FROM custody_wallet_figures ORDER BY chain_id, asset_id`;
      return {
        wallets: rows.map((r) => ({
          chainId: Number(r.chain_id),
          token: r.token,
          assetId: r.asset_id,
          symbol: r.symbol,
          hotAddress: r.hot_address,
          hotBalance: r.hot_balance,
          inFlight: r.in_flight,
          queued: r.queued,
          coldAddress: r.cold_address,
          coldBalance: r.cold_balance,
          hotCap: r.hot_cap,
          refillBelow: r.refill_below,
          low: r.low,
          updatedAt: r.updated_at.toISOString(),
        })),
      };
    },
  );

  app.get(
    '/v1/admin/controls',
    {
      config: viewer,
      schema: {
        tags,
        security,
        summary: "The venue's switches: the kill switch and the withdrawal halt",
        response: { 200: VenueControls, ...errorResponses },
      },
    },
    async () => readControls(ctx.sql),
  );
};
