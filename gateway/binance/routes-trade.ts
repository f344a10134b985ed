// Binance's signed trading routes under /api/v3: order (new, test, query, cancel), openOrders (query, cancel all),
// order/cancelReplace, allOrders, myTrades, account. Commands go through the gateway's command bus; reads come from
// persistence's tables after waiting (bounded) until they hold the caller's own last command (read-your-writes).

import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RouteAuthenticate } from '../auth/service.js';
import type { OrderRowDb, TradeRowDb } from '../routes/order-views.js';
import { ORDER_COLUMNS } from '../routes/order-views.js';
import { principalOf } from '../routes/context.js';
import { newCommandId } from '../routes/commands.js';
import type { MarketInfo } from '../units.js';
import { formatUnits } from '../units.js';
import type { BinanceContext } from './context.js';
import { binanceSymbol, paramsOf, readsCaughtUp, READ_YOUR_WRITES_TIMEOUT_MS } from './context.js';
import { BinanceError, binanceError, BINANCE_MESSAGES, toBinanceError } from './errors.js';
import { GatewayError } from '../errors.js';
import { canceledOrders, placement, sendFor } from './orders.js';
import { clientOrderId, integer, oneOf, optional, required } from './params.js';
import { TIME_MS_MAX } from './params.js';
import type { Params } from './params.js';
import * as S from './schemas.js';
import { myTradeFromRow, orderFromEvents, orderFromRow } from './views.js';
import { COMMAND_VERSION } from '../../engine/core/index.js';

const OPEN_STATUSES = ['pendingTrigger', 'new', 'partiallyFilled'];
/** Binance's list routes answer at most 1000 rows (default 500); open orders are bounded by the engine's per-user max. */
const LIST_MAX = 1000;
const OPEN_ORDERS_MAX = 10_000;

export async function tradeRoutes(
  app: FastifyInstance,
  opts: { b: BinanceContext; signed: RouteAuthenticate },
): Promise<void> {
  const { b } = opts;
  const sql = b.ctx.sql;
  const conf = (auth: 'read' | 'trade') => ({ auth, authenticate: opts.signed });
  const schema = (summary: string, fields: Record<string, string>, reply: unknown) => ({
    tags: S.TAGS,
    security: S.SECURITY,
    summary,
    querystring: S.params(fields, true),
    response: { 200: reply, ...S.errorReplies },
  });
  const orderFields = {
    symbol: 'BASEQUOTE',
    side: 'BUY or SELL',
    type: 'LIMIT, LIMIT_MAKER, MARKET, STOP_LOSS, STOP_LOSS_LIMIT',
    timeInForce: 'GTC, IOC, FOK',
    quantity: 'base',
    quoteOrderQty: 'quote (MARKET and STOP_LOSS buys)',
    price: 'quote per base',
    stopPrice: 'trigger price',
    newClientOrderId: '^[.A-Z:/a-z0-9_-]{1,36}$',
    newOrderRespType: 'ACK, RESULT or FULL',
    selfTradePreventionMode: 'NONE, EXPIRE_TAKER, EXPIRE_MAKER, EXPIRE_BOTH, DECREMENT',
  };

  const place = async (request: FastifyRequest) => {
    const { userId } = principalOf(request);
    const p = paramsOf(request);
    const m = b.symbols.market(required(p, 'symbol'));
    const { cmd, respType } = placement(p, m, userId);
    const sent = await sendFor(b, cmd);
    if (sent.result.duplicateOf !== null) throw binanceError('NEW_ORDER_REJECTED', 'Duplicate order sent.');
    const orderId = sent.result.orderId as number;
    const full = orderFromEvents(sent.events, orderId, m);
    if (full === null) throw new Error(`invariant violated: accepted order ${orderId} has no orderAccepted event`);
    if (respType === 'ACK')
      return {
        symbol: full.symbol,
        orderId,
        orderListId: -1,
        clientOrderId: full.clientOrderId,
        transactTime: full.transactTime,
      };
    if (respType === 'RESULT') return { ...full, fills: undefined };
    return full;
  };

  app.post(
    '/api/v3/order',
    { config: conf('trade'), schema: schema('Place an order', orderFields, S.OrderReply) },
    place,
  );

  app.post(
    '/api/v3/order/test',
    { config: conf('trade'), schema: schema("Check an order's parameters without placing it", orderFields, S.Empty) },
    async (request) => {
      const p = paramsOf(request);
      placement(p, b.symbols.market(required(p, 'symbol')), principalOf(request).userId);
      return {};
    },
  );

  app.get(
    '/api/v3/order',
    {
      config: conf('read'),
      schema: schema(
        'One of your orders',
        { symbol: 'BASEQUOTE', orderId: 'id', origClientOrderId: 'client order id' },
        S.OrderReply,
      ),
    },
    async (request) => {
      const { userId } = principalOf(request);
      const p = paramsOf(request);
      const m = b.symbols.market(required(p, 'symbol'));
      await readsCaughtUp(b, userId);
      const row = await findOrder(b, userId, m, p);
      if (row === undefined) throw binanceError('NO_SUCH_ORDER', BINANCE_MESSAGES.noSuchOrder);
      return orderFromRow(row, m);
    },
  );

  app.delete(
    '/api/v3/order',
    {
      config: conf('trade'),
      schema: schema(
        'Cancel an order',
        {
          symbol: 'BASEQUOTE',
          orderId: 'id',
          origClientOrderId: 'client order id',
          newClientOrderId: 'id of the cancel',
        },
        S.OrderReply,
      ),
    },
    async (request) => cancelOne(b, principalOf(request).userId, paramsOf(request), 'orderId', 'origClientOrderId'),
  );

  app.delete(
    '/api/v3/openOrders',
    {
      config: conf('trade'),
      schema: schema('Cancel all your open orders of a symbol', { symbol: 'BASEQUOTE' }, S.OrderList),
    },
    async (request) => {
      const { userId } = principalOf(request);
      const m = b.symbols.market(required(paramsOf(request), 'symbol'));
      const sent = await sendFor(b, {
        v: COMMAND_VERSION,
        type: 'cancelAll',
        id: newCommandId(),
        userId,
        marketId: m.marketId,
      });
      const closed = canceledOrders(sent.events);
      if (closed.length === 0) throw binanceError('CANCEL_REJECTED', BINANCE_MESSAGES.unknownOrder);
      const rows = await rowsAfter(
        b,
        userId,
        sent.result.seq,
        closed.map((c) => c.orderId),
      );
      return closed.map((c) => {
        const row = rows.get(c.orderId);
        return row === undefined
          ? { symbol: binanceSymbol(m), orderId: c.orderId, orderListId: -1, clientOrderId: '', status: 'CANCELED' }
          : { ...orderFromRow(row, m), origClientOrderId: row.client_order_id ?? '' };
      });
    },
  );

  app.post(
    '/api/v3/order/cancelReplace',
    {
      config: conf('trade'),
      schema: schema(
        'Cancel an order and place a new one (editOrder)',
        {
          ...orderFields,
          cancelReplaceMode: 'STOP_ON_FAILURE or ALLOW_FAILURE',
          cancelOrderId: 'id',
          cancelOrigClientOrderId: 'client order id',
        },
        S.CancelReplaceReply,
      ),
    },
    async (request, reply) => {
      const { userId } = principalOf(request);
      const p = paramsOf(request);
      const mode =
        oneOf(p, 'cancelReplaceMode', ['STOP_ON_FAILURE', 'ALLOW_FAILURE']) ??
        (() => {
          throw binanceError(
            'MANDATORY_PARAM_EMPTY_OR_MALFORMED',
            "Mandatory parameter 'cancelReplaceMode' was not sent, was empty/null, or malformed.",
          );
        })();
      const m = b.symbols.market(required(p, 'symbol'));
      // Checked before the cancel, so bad parameters of the new order cancel nothing.
      placement(p, m, userId);
      let cancelResponse: unknown;
      let canceled = true;
      try {
        cancelResponse = await cancelOne(b, userId, p, 'cancelOrderId', 'cancelOrigClientOrderId');
      } catch (err) {
        canceled = false;
        cancelResponse = asBinance(err).body();
        if (mode === 'STOP_ON_FAILURE') {
          throw binanceError('CANCEL_REPLACE_FAILED', 'Order cancel-replace failed.', 400, {
            data: { cancelResult: 'FAILURE', newOrderResult: 'NOT_ATTEMPTED', cancelResponse, newOrderResponse: null },
          });
        }
      }
      try {
        const newOrderResponse = await place(request);
        return reply.send({
          cancelResult: canceled ? 'SUCCESS' : 'FAILURE',
          newOrderResult: 'SUCCESS',
          cancelResponse,
          newOrderResponse,
        });
      } catch (err) {
        const data = {
          cancelResult: canceled ? 'SUCCESS' : 'FAILURE',
          newOrderResult: 'FAILURE',
          cancelResponse,
          newOrderResponse: asBinance(err).body(),
        };
        throw canceled
          ? binanceError('CANCEL_REPLACE_PARTIALLY_FAILED', 'Order cancel-replace partially failed.', 400, { data })
          : binanceError('CANCEL_REPLACE_FAILED', 'Order cancel-replace failed.', 400, { data });
      }
    },
  );

  app.get(
    '/api/v3/openOrders',
    {
      config: conf('read'),
      schema: schema('Your open orders (of a symbol, or all)', { symbol: 'BASEQUOTE' }, S.OrderList),
    },
    async (request) => {
      const { userId } = principalOf(request);
      const symbol = optional(paramsOf(request), 'symbol');
      const m = symbol === undefined ? null : b.symbols.market(symbol);
      await readsCaughtUp(b, userId);
      const market = m === null ? sql`` : sql`AND market_id = ${m.marketId}`;
      const rows = await sql<OrderRowDb[]>`
      SELECT ${sql.unsafe(ORDER_COLUMNS)} FROM orders WHERE user_id = ${userId} AND status IN ${sql(OPEN_STATUSES)} ${market} ORDER BY order_id LIMIT ${OPEN_ORDERS_MAX}`;
      return withMarkets(b, rows, orderFromRow);
    },
  );

  app.get(
    '/api/v3/allOrders',
    {
      config: conf('read'),
      schema: schema(
        'Your orders of a symbol, oldest first',
        { symbol: 'BASEQUOTE', orderId: 'from this id', startTime: 'ms', endTime: 'ms', limit: '1..1000 (500)' },
        S.OrderList,
      ),
    },
    async (request) => {
      const { userId } = principalOf(request);
      const p = paramsOf(request);
      const m = b.symbols.market(required(p, 'symbol'));
      const range = timeRange(p, 'created_at', b);
      const fromId = integer(p, 'orderId', 0, Number.MAX_SAFE_INTEGER);
      const limit = integer(p, 'limit', 1, LIST_MAX) ?? 500;
      await readsCaughtUp(b, userId);
      const from = fromId === undefined ? sql`` : sql`AND order_id >= ${fromId}`;
      // Without a starting point, the most recent `limit` orders (still listed oldest first).
      const rows = await sql<OrderRowDb[]>`
      SELECT * FROM (SELECT ${sql.unsafe(ORDER_COLUMNS)} FROM orders WHERE user_id = ${userId} AND market_id = ${m.marketId} ${from} ${range}
                     ORDER BY order_id ${fromId === undefined ? sql`DESC` : sql``} LIMIT ${limit}) o ORDER BY order_id`;
      return rows.map((r) => orderFromRow(r, m));
    },
  );

  app.get(
    '/api/v3/myTrades',
    {
      config: conf('read'),
      schema: schema(
        'Your trades of a symbol, oldest first',
        {
          symbol: 'BASEQUOTE',
          orderId: 'of this order',
          fromId: 'from this trade id',
          startTime: 'ms',
          endTime: 'ms',
          limit: '1..1000 (500)',
        },
        { type: 'array', items: S.MyTrade },
      ),
    },
    async (request) => {
      const { userId } = principalOf(request);
      const p = paramsOf(request);
      const m = b.symbols.market(required(p, 'symbol'));
      await readsCaughtUp(b, userId);
      const rows = await myTrades(b, userId, m, p);
      return rows.map((r) => myTradeFromRow(r, m));
    },
  );

  app.get(
    '/api/v3/account',
    {
      config: conf('read'),
      schema: schema(
        'Your balances: free is available, locked is held by orders plus pending withdrawals',
        { omitZeroBalances: 'true or false' },
        S.Account,
      ),
    },
    async (request) => {
      const principal = principalOf(request);
      await readsCaughtUp(b, principal.userId);
      const omitZero = optional(paramsOf(request), 'omitZeroBalances') === 'true';
      const rows = await sql<{ asset_id: number; available: string; locked: string; updated: Date | null }[]>`
      SELECT asset_id, available::text, (held + pending)::text AS locked, NULL::timestamptz AS updated FROM balances WHERE user_id = ${principal.userId}`;
      const byAsset = new Map(rows.map((r) => [r.asset_id, r]));
      const balances = [];
      for (const a of b.symbols.assets()) {
        const r = byAsset.get(a.assetId);
        if (omitZero && (r === undefined || (r.available === '0' && r.locked === '0'))) continue;
        balances.push({
          asset: a.symbol,
          free: formatUnits(BigInt(r?.available ?? '0'), a.decimals),
          locked: formatUnits(BigInt(r?.locked ?? '0'), a.decimals),
        });
      }
      const fees = feeBps(b.symbols.all());
      const rate = (bps: number) => formatUnits(BigInt(bps), 4);
      return {
        makerCommission: fees.maker,
        takerCommission: fees.taker,
        buyerCommission: 0,
        sellerCommission: 0,
        commissionRates: { maker: rate(fees.maker), taker: rate(fees.taker), buyer: '0', seller: '0' },
        canTrade: principal.scopes.includes('trade'),
        canWithdraw: principal.scopes.includes('withdraw'),
        canDeposit: true,
        brokered: false,
        requireSelfTradePrevention: false,
        preventSor: false,
        updateTime: b.nowMs(),
        accountType: 'SPOT',
        balances,
        permissions: ['SPOT'],
        uid: principal.userId,
      };
    },
  );
}

function asBinance(err: unknown): BinanceError {
  if (err instanceof BinanceError) return err;
  if (err instanceof GatewayError) return toBinanceError(err);
  throw err;
}

/** Binance's account-level commission: the markets' fee when they agree, else the highest (what an order may pay). */
function feeBps(markets: readonly MarketInfo[]): { maker: number; taker: number } {
  return {
    maker: Math.max(0, ...markets.map((m) => m.makerFeeBps)),
    taker: Math.max(0, ...markets.map((m) => m.takerFeeBps)),
  };
}

function timeRange(p: Params, column: string, b: BinanceContext) {
  const sql = b.ctx.sql;
  const start = integer(p, 'startTime', 0, TIME_MS_MAX);
  const end = integer(p, 'endTime', 0, TIME_MS_MAX);
  if (start !== undefined && end !== undefined && end - start > 24 * 3_600_000)
    throw binanceError('MORE_THAN_XX_HOURS', 'More than 24 hours between startTime and endTime.');
  return sql`${start === undefined ? sql`` : sql`AND ${sql(column)} >= ${new Date(start)}`} ${end === undefined ? sql`` : sql`AND ${sql(column)} <= ${new Date(end)}`}`;
}

async function withMarkets<T>(
  b: BinanceContext,
  rows: readonly OrderRowDb[],
  view: (r: OrderRowDb, m: MarketInfo) => T,
): Promise<T[]> {
  const out: T[] = [];
  const markets = b.symbols.ready().markets;
  for (const r of rows) {
    const m = markets.get(r.market_id);
    if (m !== undefined) out.push(view(r, m));
  }
  return out;
}

/** The caller's order named by orderId or origClientOrderId (the latest with that client id) in the market. */
async function findOrder(
  b: BinanceContext,
  userId: number,
  m: MarketInfo,
  p: Params,
  idName = 'orderId',
  clientName = 'origClientOrderId',
): Promise<OrderRowDb | undefined> {
  const sql = b.ctx.sql;
  const orderId = integer(p, idName, 1, Number.MAX_SAFE_INTEGER);
  const coid = clientOrderId(p, clientName);
  if (orderId === undefined && coid === undefined)
    throw binanceError(
      'MANDATORY_PARAM_EMPTY_OR_MALFORMED',
      `Param '${idName}' or '${clientName}' must be sent, but both were empty/null!`,
    );
  const where = orderId !== undefined ? sql`order_id = ${orderId}` : sql`client_order_id = ${coid as string}`;
  const [row] = await sql<OrderRowDb[]>`
    SELECT ${sql.unsafe(ORDER_COLUMNS)} FROM orders WHERE ${where} AND user_id = ${userId} AND market_id = ${m.marketId} ORDER BY created_seq DESC LIMIT 1`;
  return row;
}

/** Rows of `orderIds` once persistence holds the command at `seq` (bounded wait). */
async function rowsAfter(
  b: BinanceContext,
  userId: number,
  seq: number,
  orderIds: number[],
): Promise<Map<number, OrderRowDb>> {
  await b.persisted.waitFor(seq, READ_YOUR_WRITES_TIMEOUT_MS);
  const sql = b.ctx.sql;
  const rows = await sql<
    OrderRowDb[]
  >`SELECT ${sql.unsafe(ORDER_COLUMNS)} FROM orders WHERE user_id = ${userId} AND order_id IN ${sql(orderIds)}`;
  return new Map(rows.map((r) => [Number(r.order_id), r]));
}

/** Cancels the order named by `idName` or `clientName` and answers with its final state. */
async function cancelOne(b: BinanceContext, userId: number, p: Params, idName: string, clientName: string) {
  const m = b.symbols.market(required(p, 'symbol'));
  await readsCaughtUp(b, userId);
  const row = await findOrder(b, userId, m, p, idName, clientName);
  // An order stored in another market, or already closed, is unknown to a cancel; one not stored yet (placed a moment
  // ago through another gateway instance) is left to the engine, which knows it.
  if (row !== undefined && !OPEN_STATUSES.includes(row.status))
    throw binanceError('CANCEL_REJECTED', BINANCE_MESSAGES.unknownOrder);
  const orderId = integer(p, idName, 1, Number.MAX_SAFE_INTEGER);
  const target =
    row !== undefined
      ? { orderId: Number(row.order_id) }
      : orderId !== undefined
        ? { orderId }
        : { clientOrderId: clientOrderId(p, clientName) as string };
  const sent = await sendFor(b, { v: COMMAND_VERSION, type: 'cancelOrder', id: newCommandId(), userId, ...target });
  const [closed] = canceledOrders(sent.events);
  if (closed === undefined) throw binanceError('CANCEL_REJECTED', BINANCE_MESSAGES.unknownOrder);
  const rows = await rowsAfter(b, userId, sent.result.seq, [closed.orderId]);
  const final = rows.get(closed.orderId);
  const cancelId = optional(p, 'newClientOrderId');
  if (final === undefined)
    return {
      symbol: binanceSymbol(m),
      orderId: closed.orderId,
      orderListId: -1,
      origClientOrderId: '',
      clientOrderId: cancelId ?? '',
      transactTime: closed.timeMs,
      status: 'CANCELED',
    };
  return {
    ...orderFromRow(final, m),
    origClientOrderId: final.client_order_id ?? '',
    clientOrderId: cancelId ?? final.client_order_id ?? '',
    transactTime: closed.timeMs,
  };
}

/** The caller's side of their trades in the market, oldest first (a self-trade is two rows: maker and taker). */
async function myTrades(b: BinanceContext, userId: number, m: MarketInfo, p: Params): Promise<TradeRowDb[]> {
  const sql = b.ctx.sql;
  const orderId = integer(p, 'orderId', 1, Number.MAX_SAFE_INTEGER);
  const fromId = integer(p, 'fromId', 0, Number.MAX_SAFE_INTEGER);
  const limit = integer(p, 'limit', 1, LIST_MAX) ?? 500;
  const range = timeRange(p, 'executed_at', b);
  const from = fromId === undefined ? sql`` : sql`AND trade_id >= ${fromId}`;
  const byOrder = (col: string) => (orderId === undefined ? sql`` : sql`AND ${sql(col)} = ${orderId}`);
  const rows = await sql<TradeRowDb[]>`
    SELECT * FROM (
      SELECT trade_id, maker_order_id AS order_id, market_id, CASE taker_side WHEN 'buy' THEN 'sell' ELSE 'buy' END AS side, 'maker' AS liquidity,
             price_ticks, qty_lots, quote_amount::text, maker_fee::text AS fee, executed_at
      FROM trades WHERE maker_user_id = ${userId} AND market_id = ${m.marketId} ${byOrder('maker_order_id')} ${from} ${range}
      UNION ALL
      SELECT trade_id, taker_order_id, market_id, taker_side, 'taker', price_ticks, qty_lots, quote_amount::text, taker_fee::text, executed_at
      FROM trades WHERE taker_user_id = ${userId} AND market_id = ${m.marketId} ${byOrder('taker_order_id')} ${from} ${range}
    ) t ORDER BY trade_id ${fromId === undefined && orderId === undefined ? sql`DESC` : sql``}, liquidity LIMIT ${limit}`;
  return fromId === undefined && orderId === undefined ? rows.reverse() : rows;
}
