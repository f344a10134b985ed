// Binance's wallet routes under /sapi/v1/capital (deposit address, deposit history, withdraw apply and history) and
// the user-data stream's listen keys (POST/PUT/DELETE /api/v3/userDataStream). One EVM chain: Binance's network
// "ETH" (ccxt's name for ERC-20). Margin, futures and the rest of /sapi are Binance features we do not have: they
// answer Binance's -1020 (plugin.ts).

import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { depositAddressFor } from '../../chain/addresses.js';
import type { Principal, RouteAuthenticate } from '../auth/service.js';
import { clientOf, principalOf } from '../routes/context.js';
import { requestWithdrawal } from '../routes/wallet.js';
import type { AssetInfo } from '../units.js';
import { formatUnits } from '../units.js';
import type { BinanceContext } from './context.js';
import { paramsOf, readsCaughtUp } from './context.js';
import { binanceError } from './errors.js';
import { decimal, integer, optional, required } from './params.js';
import { TIME_MS_MAX } from './params.js';
import type { Params } from './params.js';
import * as S from './schemas.js';

/** The one network: an EVM chain, named as Binance names Ethereum. */
export const NETWORK = 'ETH';
/** Binance's listen keys live 60 minutes unless kept alive. */
export const LISTEN_KEY_TTL_MS = 60 * 60_000;
const HISTORY_MAX = 1000;

const listenKeyKey = (prefix: string, listenKey: string): string => `${prefix}bn:lk:${listenKey}`;
export const LISTEN_KEY = /^[A-Za-z0-9]{60}$/;

/** The user a live listen key belongs to (the commands store keeps them: Redis, or in-process for one instance). */
export async function listenKeyUser(b: BinanceContext, listenKey: string): Promise<number | null> {
  if (!LISTEN_KEY.test(listenKey)) return null;
  const text = await b.ctx.stores.commands.get(listenKeyKey(b.ctx.options.redisPrefix, listenKey));
  if (text === null) return null;
  const record = JSON.parse(text) as { userId?: number };
  return typeof record.userId === 'number' ? record.userId : null;
}

function coinOf(b: BinanceContext, p: Params): AssetInfo {
  const a = b.symbols.asset(required(p, 'coin'));
  if (a === undefined) throw binanceError('BAD_ASSET', 'Invalid asset.');
  const network = optional(p, 'network');
  if (network !== undefined && network.toUpperCase() !== NETWORK)
    throw binanceError(
      'INVALID_PARAMETER',
      `Invalid data sent for parameter 'network': the only network is ${NETWORK}.`,
    );
  return a;
}

/** Binance's withdrawal statuses: 4 processing, 5 failure, 6 completed. */
const WITHDRAWAL_STATUS = { pending: 4, failed: 5, completed: 6 } as const;

const utcTime = (d: Date): string => d.toISOString().replace('T', ' ').slice(0, 19);

export async function walletRoutes(
  app: FastifyInstance,
  opts: { b: BinanceContext; signed: RouteAuthenticate; keyOnly: RouteAuthenticate },
): Promise<void> {
  const { b } = opts;
  const sql = b.ctx.sql;
  const schema = (summary: string, fields: Record<string, string>, reply: unknown, signed = true) => ({
    tags: S.TAGS,
    security: S.SECURITY,
    summary,
    querystring: S.params(fields, signed),
    response: { 200: reply, ...S.errorReplies },
  });

  app.get(
    '/sapi/v1/capital/deposit/address',
    {
      config: { auth: 'read', authenticate: opts.signed },
      schema: schema('Your deposit address (one for every asset)', { coin: 'asset', network: 'ETH' }, S.DepositAddress),
    },
    async (request) => {
      const a = coinOf(b, paramsOf(request));
      const { address } = await depositAddressFor(sql, b.ctx.depositKeys, principalOf(request).userId);
      return { coin: a.symbol, address, tag: '', url: '' };
    },
  );

  app.get(
    '/sapi/v1/capital/deposit/hisrec',
    {
      config: { auth: 'read', authenticate: opts.signed },
      schema: schema(
        'Your deposits: credited (1) and seen on chain, waiting for confirmations (0)',
        {
          coin: 'asset',
          status: '0 or 1',
          startTime: 'ms',
          endTime: 'ms',
          offset: 'rows to skip',
          limit: '1..1000 (1000)',
        },
        { type: 'array', items: S.DepositItem },
      ),
    },
    async (request) => {
      const { userId } = principalOf(request);
      const p = paramsOf(request);
      const a = optional(p, 'coin') === undefined ? null : coinOf(b, p);
      const status = integer(p, 'status', 0, 7);
      const start = integer(p, 'startTime', 0, TIME_MS_MAX);
      const end = integer(p, 'endTime', 0, TIME_MS_MAX);
      const limit = integer(p, 'limit', 1, HISTORY_MAX) ?? HISTORY_MAX;
      const offset = integer(p, 'offset', 0, 1_000_000) ?? 0;
      await readsCaughtUp(b, userId);
      const asset = a === null ? sql`` : sql`AND asset_id = ${a.assetId}`;
      const [{ address }] = [await depositAddressFor(sql, b.ctx.depositKeys, userId)];
      const rows = await sql<{ id: string; asset_id: number; amount: string; status: number; at: Date }[]>`
      SELECT * FROM (
        SELECT deposit_id AS id, asset_id, amount::text, 1 AS status, credited_at AS at FROM deposits WHERE user_id = ${userId} ${asset}
        UNION ALL
        SELECT tx_hash || ':' || log_index, asset_id, amount::text, 0, created_at FROM chain_deposits WHERE user_id = ${userId} AND state = 'seen' ${asset}
      ) d WHERE true ${start === undefined ? sql`` : sql`AND at >= ${new Date(start)}`} ${end === undefined ? sql`` : sql`AND at <= ${new Date(end)}`} ${status === undefined ? sql`` : sql`AND status = ${status}`}
      ORDER BY at DESC, id LIMIT ${limit} OFFSET ${offset}`;
      return rows.map((r) => {
        const asset = b.symbols.ready().assets.get(r.asset_id);
        const decimals = asset?.decimals ?? 0;
        return {
          id: r.id,
          amount: formatUnits(BigInt(r.amount), decimals),
          coin: asset?.symbol ?? String(r.asset_id),
          network: NETWORK,
          status: r.status,
          address,
          addressTag: '',
          txId: r.id.split(':')[0],
          insertTime: r.at.getTime(),
          transferType: 0,
          confirmTimes: '',
          unlockConfirm: 0,
          walletType: 0,
        };
      });
    },
  );

  app.post(
    '/sapi/v1/capital/withdraw/apply',
    {
      config: { auth: 'withdraw', authenticate: opts.signed },
      schema: schema(
        'Withdraw (scope withdraw): the address EIP-55 checksummed, the amount exact',
        { coin: 'asset', network: 'ETH', address: 'EIP-55 address', amount: 'in whole tokens' },
        S.WithdrawApplied,
      ),
    },
    async (request) => {
      const p = paramsOf(request);
      const a = coinOf(b, p);
      if (optional(p, 'addressTag') !== undefined)
        throw binanceError('PARAM_NOT_REQUIRED', "Parameter 'addressTag' sent when not required.");
      const amount = decimal(p, 'amount') ?? required(p, 'amount');
      const principal = principalOf(request);
      const userId = principal.userId;
      // Every control of POST /v1/withdrawals applies (address book and time lock, limits, halt): routes/wallet.ts.
      const { withdrawalId, sent } = await requestWithdrawal(
        b.ctx,
        principal,
        { asset: a.symbol, amount, address: required(p, 'address') },
        clientOf(request),
      );
      if (sent.status === 'accepted') b.userSeqs.note(userId, sent.result.seq);
      // An answer that did not come in time still names the withdrawal: its history shows what became of it.
      return { id: withdrawalId };
    },
  );

  app.get(
    '/sapi/v1/capital/withdraw/history',
    {
      config: { auth: 'read', authenticate: opts.signed },
      schema: schema(
        'Your withdrawals: 4 processing, 5 failed, 6 completed',
        {
          coin: 'asset',
          status: '4, 5 or 6',
          startTime: 'ms',
          endTime: 'ms',
          offset: 'rows to skip',
          limit: '1..1000 (1000)',
        },
        { type: 'array', items: S.WithdrawItem },
      ),
    },
    async (request) => {
      const { userId } = principalOf(request);
      const p = paramsOf(request);
      const a = optional(p, 'coin') === undefined ? null : coinOf(b, p);
      const status = integer(p, 'status', 0, 6);
      const ours =
        status === undefined ? null : (Object.entries(WITHDRAWAL_STATUS).find(([, v]) => v === status)?.[0] ?? 'none');
      const limit = integer(p, 'limit', 1, HISTORY_MAX) ?? HISTORY_MAX;
      const offset = integer(p, 'offset', 0, 1_000_000) ?? 0;
      const start = integer(p, 'startTime', 0, TIME_MS_MAX);
      const end = integer(p, 'endTime', 0, TIME_MS_MAX);
      await readsCaughtUp(b, userId);
      const rows = await sql<
        {
          withdrawal_id: string;
          asset_id: number;
          amount: string;
          destination: string;
          status: keyof typeof WITHDRAWAL_STATUS;
          tx_hash: string | null;
          fail_reason: string | null;
          requested_at: Date;
          finished_at: Date | null;
        }[]
      >`
      SELECT withdrawal_id, asset_id, amount::text, destination, status, tx_hash, fail_reason, requested_at, finished_at FROM withdrawals
      WHERE user_id = ${userId} ${a === null ? sql`` : sql`AND asset_id = ${a.assetId}`} ${ours === null ? sql`` : sql`AND status = ${ours}`}
        ${start === undefined ? sql`` : sql`AND requested_at >= ${new Date(start)}`} ${end === undefined ? sql`` : sql`AND requested_at <= ${new Date(end)}`}
      ORDER BY requested_seq DESC LIMIT ${limit} OFFSET ${offset}`;
      return rows.map((r) => {
        const asset = b.symbols.ready().assets.get(r.asset_id);
        return {
          id: r.withdrawal_id,
          amount: formatUnits(BigInt(r.amount), asset?.decimals ?? 0),
          transactionFee: '0',
          coin: asset?.symbol ?? String(r.asset_id),
          status: WITHDRAWAL_STATUS[r.status],
          address: r.destination,
          txId: r.tx_hash ?? '',
          applyTime: utcTime(r.requested_at),
          network: NETWORK,
          transferType: 0,
          withdrawOrderId: '',
          info: r.fail_reason ?? '',
          confirmNo: 0,
          walletType: 0,
          txKey: '',
          ...(r.finished_at === null ? {} : { completeTime: utcTime(r.finished_at) }),
        };
      });
    },
  );

  // ---- listen keys for the user-data stream (API key, no signature: as Binance) ----------------------------------
  const keyOnly = { auth: 'read' as const, authenticate: opts.keyOnly };
  const lkSchema = (summary: string) => ({
    tags: S.TAGS,
    security: S.SECURITY,
    summary,
    querystring: S.params({ listenKey: 'the key (PUT, DELETE)' }, false),
    response: { 200: S.ListenKey, ...S.errorReplies },
  });
  const store = b.ctx.stores.commands;
  const prefix = b.ctx.options.redisPrefix;

  app.post(
    '/api/v3/userDataStream',
    {
      config: keyOnly,
      schema: lkSchema('A listen key for /ws/<listenKey> (valid 60 minutes; keep it alive with PUT)'),
    },
    async (request) => {
      const { userId, keyId } = principalOf(request);
      const listenKey = randomBytes(45)
        .toString('base64')
        .replace(/[^A-Za-z0-9]/g, '')
        .padEnd(60, '0')
        .slice(0, 60);
      await store.set(listenKeyKey(prefix, listenKey), JSON.stringify({ userId, keyId }), LISTEN_KEY_TTL_MS);
      return { listenKey };
    },
  );

  const owned = async (request: FastifyRequest): Promise<string> => {
    const listenKey = required(paramsOf(request), 'listenKey');
    if ((await listenKeyUser(b, listenKey)) !== principalOf(request).userId)
      throw binanceError('INVALID_LISTEN_KEY', 'This listenKey does not exist.');
    return listenKey;
  };
  app.put(
    '/api/v3/userDataStream',
    { config: keyOnly, schema: lkSchema('Keep a listen key alive for 60 more minutes') },
    async (request) => {
      const listenKey = await owned(request);
      const { userId, keyId } = principalOf(request);
      await store.set(listenKeyKey(prefix, listenKey), JSON.stringify({ userId, keyId }), LISTEN_KEY_TTL_MS);
      return {};
    },
  );
  app.delete('/api/v3/userDataStream', { config: keyOnly, schema: lkSchema('Close a listen key') }, async (request) => {
    const listenKey = await owned(request);
    // The store has no delete: a closed key is overwritten by a record naming no user, which expires soon.
    await store.set(listenKeyKey(prefix, listenKey), JSON.stringify({ closed: true }), 60_000);
    return {};
  });
}
