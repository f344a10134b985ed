// Wallet: the user's deposit address (allocated once, derived from the deposit branch's public key), balances,
// deposits, and withdrawals (request with the withdraw scope; follow their state). Every query is scoped to the
// caller's user id.

import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { getAddress } from 'ethers';
import Type from 'typebox';
import { depositAddressFor } from '../../chain/addresses.js';
import { gatewayError } from '../errors.js';
import {
  BalanceList,
  DepositAddress,
  DepositList,
  IncomingDepositList,
  Withdrawal,
  WithdrawalBody,
  WithdrawalIdParams,
  WithdrawalList,
  WithdrawalRequested,
  errorResponses,
} from '../schemas.js';
import type { AssetInfo } from '../units.js';
import { amountToUnits, formatUnits } from '../units.js';
import { newCommandId, send } from './commands.js';
import type { ClientInfo, Principal } from '../auth/service.js';
import type { RouteContext } from './context.js';
import { clientOf, principalOf } from './context.js';
import { COMMAND_VERSION } from '../../engine/core/index.js';

const tags = ['wallet'];
const security: { [name: string]: string[] }[] = [{ session: [] }, { apiKey: [] }];
const PageQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
    before: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: Number.MAX_SAFE_INTEGER,
        description: "Cursor: the previous page's nextBefore.",
      }),
    ),
  },
  { additionalProperties: false },
);

/** EIP-55: the address exactly as its checksummed form (a lower-case or mistyped one is refused). */
export function isChecksummedAddress(address: string): boolean {
  try {
    return getAddress(address) === address;
  } catch {
    return false;
  }
}

interface WithdrawalRowDb {
  withdrawal_id: string;
  asset_id: number;
  amount: string;
  destination: string;
  status: 'pending' | 'completed' | 'failed';
  tx_hash: string | null;
  fail_reason: string | null;
  requested_seq: string;
  requested_at: Date;
  finished_at: Date | null;
  approval: 'pending' | 'approved' | 'rejected' | null;
}

/** The withdrawal's columns with its approval, if it needed one (custody_withdrawal_controls). */
const WITHDRAWAL_COLUMNS = `w.withdrawal_id, w.asset_id, w.amount::text, w.destination, w.status, w.tx_hash, w.fail_reason, w.requested_seq, w.requested_at, w.finished_at,
  CASE WHEN c.state = 'awaiting_approval' THEN 'pending' WHEN c.state = 'rejected' THEN 'rejected' WHEN c.decided_by IS NOT NULL THEN 'approved' END AS approval`;

/**
 * A withdrawal request, whichever API it comes through (POST /v1/withdrawals, Binance's capital/withdraw/apply), with
 * every control the gateway owns (withdrawal-controls.ts): the address EIP-55 checksummed and in the caller's address
 * book past its time lock, the venue not halted, the amount exact in the asset's decimals, within the available
 * balance and the rolling 24 h limit, and with a session a one-time code once 2FA is on. Recorded in the audit log.
 */
export async function requestWithdrawal(
  ctx: RouteContext,
  p: Principal,
  body: { asset: string; amount: string; address: string; otp?: string },
  client: ClientInfo,
) {
  if (!isChecksummedAddress(body.address)) throw gatewayError('EX_ADDRESS_INVALID');
  const a = await ctx.markets.asset(body.asset);
  if (a === null) throw gatewayError('EX_ASSET_UNKNOWN');
  const amount = amountToUnits(body.amount, a.decimals);
  const controls = ctx.withdrawalControls;
  await controls.assertNotHalted();
  await controls.assertUsable(p.userId, body.address);
  // A fast, friendly check against the stored balance; the engine's own check (RISK_INSUFFICIENT_FUNDS) decides.
  const [bal] = await ctx.sql<
    { available: string }[]
  >`SELECT available::text FROM balances WHERE user_id = ${p.userId} AND asset_id = ${a.assetId}`;
  if (amount > BigInt(bal?.available ?? '0')) throw gatewayError('EX_INSUFFICIENT_BALANCE');
  // With a session, a one-time code once 2FA is on; an API key's withdraw scope needed one when it was created.
  if (p.via === 'session') await ctx.twoFactor.verifyIfEnabled(p.userId, body.otp);
  const withdrawalId = `w-${randomUUID()}`;
  const { approvalRequired } = await controls.admit({
    withdrawalId,
    userId: p.userId,
    asset: a,
    amount,
    address: body.address,
  });
  const audit = (action: 'withdrawal.requested' | 'withdrawal.refused', detail: Record<string, unknown>) =>
    ctx.audit.append(ctx.sql, {
      actorType: 'user',
      actorId: String(p.userId),
      userId: p.userId,
      action,
      detail: {
        withdrawalId,
        asset: a.symbol,
        amount: body.amount,
        address: body.address,
        via: p.keyId ?? 'session',
        ...detail,
      },
      ip: client.ip,
    });
  let sent;
  try {
    sent = await send(
      ctx,
      {
        v: COMMAND_VERSION,
        type: 'requestWithdrawal',
        id: newCommandId(),
        userId: p.userId,
        assetId: a.assetId,
        amount,
        withdrawalId,
        destination: body.address,
      },
      { userId: p.userId },
    );
  } catch (err) {
    await controls.refused(withdrawalId);
    await audit('withdrawal.refused', { code: (err as { code?: string }).code ?? 'EX_INTERNAL' });
    throw err;
  }
  await audit('withdrawal.requested', { approvalRequired, status: sent.status });
  return { withdrawalId, sent, approvalRequired };
}

export const walletRoutes: FastifyPluginAsync<{ ctx: RouteContext; depositConfirmations: number | null }> = async (
  fastify,
  { ctx, depositConfirmations },
) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const asset = async (assetId: number): Promise<AssetInfo> =>
    (await ctx.markets.assetById(assetId)) ?? { assetId, symbol: String(assetId), decimals: 0 };
  const withdrawalView = async (r: WithdrawalRowDb) => {
    const a = await asset(r.asset_id);
    return {
      withdrawalId: r.withdrawal_id,
      asset: a.symbol,
      amount: formatUnits(BigInt(r.amount), a.decimals),
      address: r.destination,
      status: r.status,
      txHash: r.tx_hash,
      failReason: r.fail_reason,
      requestedAt: r.requested_at.toISOString(),
      finishedAt: r.finished_at?.toISOString() ?? null,
      approval: r.approval,
    };
  };

  app.get(
    '/v1/deposit-address',
    {
      config: { auth: 'read' },
      schema: {
        tags,
        security,
        summary: 'Your deposit address (allocated on first call)',
        response: { 200: DepositAddress, ...errorResponses },
      },
    },
    async (request) => {
      const { address } = await depositAddressFor(ctx.sql, ctx.depositKeys, principalOf(request).userId);
      return { address };
    },
  );

  app.get(
    '/v1/balances',
    {
      config: { auth: 'read' },
      schema: { tags, security, summary: 'Your balances', response: { 200: BalanceList, ...errorResponses } },
    },
    async (request) => {
      const rows = await ctx.sql<{ asset_id: number; available: string; held: string; pending: string }[]>`
      SELECT asset_id, available::text, held::text, pending::text FROM balances WHERE user_id = ${principalOf(request).userId} ORDER BY asset_id`;
      const balances = [];
      for (const r of rows) {
        const a = await asset(r.asset_id);
        balances.push({
          asset: a.symbol,
          assetId: r.asset_id,
          available: formatUnits(BigInt(r.available), a.decimals),
          held: formatUnits(BigInt(r.held), a.decimals),
          pending: formatUnits(BigInt(r.pending), a.decimals),
        });
      }
      return { balances };
    },
  );

  app.get(
    '/v1/deposits',
    {
      config: { auth: 'read' },
      schema: {
        tags,
        security,
        summary: 'Your credited deposits (newest first, paged)',
        querystring: PageQuery,
        response: { 200: DepositList, ...errorResponses },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 100;
      const cursor = request.query.before === undefined ? ctx.sql`` : ctx.sql`AND seq < ${request.query.before}`;
      const rows = await ctx.sql<
        { deposit_id: string; asset_id: number; amount: string; status: 'credited'; seq: string; credited_at: Date }[]
      >`
      SELECT deposit_id, asset_id, amount::text, status, seq, credited_at FROM deposits WHERE user_id = ${principalOf(request).userId} ${cursor} ORDER BY seq DESC LIMIT ${limit}`;
      const deposits = [];
      for (const r of rows) {
        const a = await asset(r.asset_id);
        deposits.push({
          depositId: r.deposit_id,
          asset: a.symbol,
          amount: formatUnits(BigInt(r.amount), a.decimals),
          status: r.status,
          creditedAt: r.credited_at.toISOString(),
          seq: Number(r.seq),
        });
      }
      return { deposits, nextBefore: rows.length === limit ? Number(rows[rows.length - 1].seq) : null };
    },
  );

  app.get(
    '/v1/deposits/incoming',
    {
      config: { auth: 'read' },
      schema: {
        tags,
        security,
        summary: 'Deposits seen on chain, not yet credited (waiting for confirmations)',
        response: { 200: IncomingDepositList, ...errorResponses },
        description:
          'Transfers to your deposit address that the chain service has seen in a block, oldest first (at most 100). Each is credited (and leaves this list for GET /v1/deposits) once it has the required confirmations.',
      },
    },
    async (request) => {
      const rows = await ctx.sql<
        {
          tx_hash: string;
          log_index: number;
          asset_id: number;
          amount: string;
          block_number: string;
          seen_blocks: string | null;
          created_at: Date;
        }[]
      >`
      SELECT d.tx_hash, d.log_index, d.asset_id, d.amount::text, d.block_number, c.next_block - d.block_number AS seen_blocks, d.created_at
      FROM chain_deposits d LEFT JOIN chain_watch_cursor c ON c.chain_id = d.chain_id
      WHERE d.user_id = ${principalOf(request).userId} AND d.state = 'seen' ORDER BY d.block_number, d.log_index LIMIT 100`;
      const deposits = [];
      for (const r of rows) {
        const a = await asset(r.asset_id);
        // The watcher has read up to next_block - 1: the blocks from the deposit's own to there confirm it.
        const seen = Math.max(0, Number(r.seen_blocks ?? 0));
        deposits.push({
          txHash: r.tx_hash,
          logIndex: r.log_index,
          asset: a.symbol,
          amount: formatUnits(BigInt(r.amount), a.decimals),
          blockNumber: Number(r.block_number),
          confirmations: depositConfirmations === null ? seen : Math.min(seen, depositConfirmations),
          requiredConfirmations: depositConfirmations,
          seenAt: r.created_at.toISOString(),
        });
      }
      return { deposits };
    },
  );

  app.post(
    '/v1/withdrawals',
    {
      config: { auth: 'withdraw' },
      schema: {
        tags,
        security,
        summary: 'Request a withdrawal (scope withdraw)',
        body: WithdrawalBody,
        response: { 201: WithdrawalRequested, 202: WithdrawalRequested, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { withdrawalId, sent, approvalRequired } = await requestWithdrawal(
        ctx,
        principalOf(request),
        request.body,
        clientOf(request),
      );
      if (sent.status === 'unknown')
        return reply.code(202).send({
          status: 'unknown',
          commandId: sent.cmdId,
          lookup: `/v1/withdrawals/${withdrawalId}`,
          withdrawalId,
          approvalRequired,
        });
      return reply
        .code(201)
        .send({ status: 'pending', commandId: sent.cmdId, lookup: null, withdrawalId, approvalRequired });
    },
  );

  app.get(
    '/v1/withdrawals',
    {
      config: { auth: 'read' },
      schema: {
        tags,
        security,
        summary: 'Your withdrawals (newest first, paged)',
        querystring: PageQuery,
        response: { 200: WithdrawalList, ...errorResponses },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 100;
      const cursor =
        request.query.before === undefined ? ctx.sql`` : ctx.sql`AND w.requested_seq < ${request.query.before}`;
      const rows = await ctx.sql<WithdrawalRowDb[]>`
      SELECT ${ctx.sql.unsafe(WITHDRAWAL_COLUMNS)} FROM withdrawals w LEFT JOIN custody_withdrawal_controls c ON c.withdrawal_id = w.withdrawal_id
      WHERE w.user_id = ${principalOf(request).userId} ${cursor} ORDER BY w.requested_seq DESC LIMIT ${limit}`;
      const withdrawals = [];
      for (const r of rows) withdrawals.push(await withdrawalView(r));
      return { withdrawals, nextBefore: rows.length === limit ? Number(rows[rows.length - 1].requested_seq) : null };
    },
  );

  app.get(
    '/v1/withdrawals/:withdrawalId',
    {
      config: { auth: 'read' },
      schema: {
        tags,
        security,
        summary: 'One of your withdrawals',
        params: WithdrawalIdParams,
        response: { 200: Withdrawal, ...errorResponses },
      },
    },
    async (request) => {
      const [row] = await ctx.sql<WithdrawalRowDb[]>`
      SELECT ${ctx.sql.unsafe(WITHDRAWAL_COLUMNS)} FROM withdrawals w LEFT JOIN custody_withdrawal_controls c ON c.withdrawal_id = w.withdrawal_id
      WHERE w.withdrawal_id = ${request.params.withdrawalId} AND w.user_id = ${principalOf(request).userId}`;
      if (row === undefined) throw gatewayError('EX_WITHDRAWAL_NOT_FOUND');
      return withdrawalView(row);
    },
  );
};
