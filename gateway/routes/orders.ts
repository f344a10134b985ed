// Trading: place (every order type), cancel one, cancel all, amend; read an order by id or client order id, open
// orders, order history, the user's trades, and the outcome of a command answered "unknown". Every query is
// scoped to the caller's user id in its WHERE clause: another user's order is indistinguishable from none.

import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Static } from 'typebox';
import type { RejectCode } from '../../engine/core/index.js';
import type { OrderAmended, OrderClosed } from '../../engine/core/index.js';
import type { CommandInput } from '../../engine/wire/codec.js';
import { gatewayError } from '../errors.js';
import { fillsOf, placementOutcome } from '../results.js';
import {
  AmendBody,
  AmendResult,
  CancelAllQuery,
  CancelResult,
  ClientOrderIdParams,
  CommandIdParams,
  CommandStatus,
  OrderIdParams,
  Order,
  OrderList,
  Page,
  PlaceOrderBody,
  PlaceOrderResult,
  TradeList,
  errorResponses,
} from '../schemas.js';
import type { MarketInfo } from '../units.js';
import { amountToUnits, formatLots, formatPriceTicks, priceToUnits, qtyToUnits } from '../units.js';
import { commandLookup, newCommandId, readCommandRecord, send } from './commands.js';
import type { RouteContext } from './context.js';
import { principalOf } from './context.js';
import { ORDER_COLUMNS, orderView, orderViews, tradeView, userTrades } from './order-views.js';
import type { OrderRowDb } from './order-views.js';
import { COMMAND_VERSION } from '../../engine/core/index.js';

const tags = ['trading'];
const security: { [name: string]: string[] }[] = [{ session: [] }, { apiKey: [] }];
/** Orders placed through this instance, for amend's market lookup before persistence has the row. Bounded. */
const RECENT_ORDERS_MAX = 100_000;

interface RecentOrder {
  readonly userId: number;
  readonly marketId: number;
}

type PlaceBody = Static<typeof PlaceOrderBody>;

async function marketOf(ctx: RouteContext, marketId: number): Promise<MarketInfo> {
  const m = await ctx.markets.market(marketId);
  if (m === null) throw gatewayError('EX_MARKET_UNKNOWN');
  return m;
}

function placeCommand(body: PlaceBody, m: MarketInfo, userId: number): CommandInput {
  return {
    v: COMMAND_VERSION,
    type: 'placeOrder',
    id: newCommandId(),
    userId,
    marketId: body.marketId,
    side: body.side,
    orderType: body.orderType,
    ...(body.price !== undefined ? { price: priceToUnits(body.price, m) } : {}),
    ...(body.stopPrice !== undefined ? { stopPrice: priceToUnits(body.stopPrice, m, 'stopPrice') } : {}),
    ...(body.quantity !== undefined ? { quantity: qtyToUnits(body.quantity, m) } : {}),
    ...(body.quoteQuantity !== undefined
      ? { quoteQuantity: amountToUnits(body.quoteQuantity, m.quoteDecimals, 'quoteQuantity') }
      : {}),
    ...(body.timeInForce !== undefined ? { timeInForce: body.timeInForce } : {}),
    ...(body.postOnly !== undefined ? { postOnly: body.postOnly } : {}),
    ...(body.stp !== undefined ? { stp: body.stp } : {}),
    ...(body.clientOrderId !== undefined ? { clientOrderId: body.clientOrderId } : {}),
  };
}

/** How long a repeated placement waits for persistence to store the events up to its own, and how often it looks. */
const STORED_WAIT_MS = 2000;
const STORED_POLL_MS = 20;

/**
 * The user's order as stored once persistence has applied the events up to `seq` (a read after the command that
 * named it); null when persistence is not there within STORED_WAIT_MS.
 */
async function storedOrderAt(
  ctx: RouteContext,
  userId: number,
  orderId: number,
  seq: number,
): Promise<OrderRowDb | null> {
  const deadline = Date.now() + STORED_WAIT_MS;
  for (;;) {
    const [pos] = await ctx.sql<{ last_seq: string }[]>`SELECT last_seq FROM persistence_position WHERE id = 1`;
    if (pos !== undefined && Number(pos.last_seq) >= seq) {
      const [row] = await ctx.sql<
        OrderRowDb[]
      >`SELECT ${ctx.sql.unsafe(ORDER_COLUMNS)} FROM orders WHERE order_id = ${orderId} AND user_id = ${userId}`;
      return row ?? null;
    }
    if (Date.now() >= deadline) return null;
    await new Promise((resolve) => setTimeout(resolve, STORED_POLL_MS));
  }
}

export const orderRoutes: FastifyPluginAsync<{ ctx: RouteContext }> = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const recentOrders = new Map<number, RecentOrder>();
  const remember = (orderId: number, order: RecentOrder): void => {
    if (recentOrders.size >= RECENT_ORDERS_MAX) recentOrders.delete(recentOrders.keys().next().value as number);
    recentOrders.set(orderId, order);
  };
  /**
   * The market of the caller's own order, or EX_ORDER_NOT_FOUND. Scoped to the user on both paths: another user's
   * order must take the same path and give the same answer as one that does not exist.
   */
  const ownOrderMarket = async (userId: number, orderId: number): Promise<number> => {
    const recent = recentOrders.get(orderId);
    if (recent !== undefined && recent.userId === userId) return recent.marketId;
    const [row] = await ctx.sql<
      { market_id: number }[]
    >`SELECT market_id FROM orders WHERE order_id = ${orderId} AND user_id = ${userId}`;
    if (row === undefined) throw gatewayError('EX_ORDER_NOT_FOUND');
    return row.market_id;
  };

  const canceledViews = async (events: readonly { type: string }[]) => {
    const out = [];
    for (const ev of events) {
      if (ev.type !== 'orderCanceled') continue;
      const c = ev as OrderClosed;
      const m = await ctx.markets.market(c.marketId);
      out.push({
        orderId: c.orderId,
        remainingQuantity: m === null ? String(c.remainingLots) : formatLots(c.remainingLots, m),
      });
    }
    return out;
  };

  const cancel = async (cmd: CommandInput, userId: number) => {
    const sent = await send(ctx, cmd, { userId });
    if (sent.status === 'unknown')
      return { status: 'unknown' as const, commandId: sent.cmdId, lookup: commandLookup(sent.cmdId), canceled: [] };
    return {
      status: 'accepted' as const,
      commandId: sent.cmdId,
      lookup: null,
      canceled: await canceledViews(sent.events),
    };
  };

  app.post(
    '/v1/orders',
    {
      config: { auth: 'trade' },
      schema: {
        tags,
        security,
        summary: 'Place an order',
        body: PlaceOrderBody,
        description:
          "Answers with the engine's result: 201 accepted (with the fills so far), 422 rejected with the engine's code, or 202 status unknown when the result did not come in time.",
        response: { 201: PlaceOrderResult, 202: PlaceOrderResult, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { userId } = principalOf(request);
      const m = await marketOf(ctx, request.body.marketId);
      const cmd = placeCommand(request.body, m, userId);
      const sent = await send(ctx, cmd, { userId });
      if (sent.status === 'unknown') {
        const lookup =
          request.body.clientOrderId !== undefined
            ? `/v1/orders/by-client-id/${encodeURIComponent(request.body.clientOrderId)}`
            : commandLookup(sent.cmdId);
        return reply.code(202).send({
          status: 'unknown',
          commandId: sent.cmdId,
          lookup,
          orderId: null,
          orderStatus: null,
          filledQuantity: null,
          remainingQuantity: null,
          fills: [],
          duplicateOf: null,
        });
      }
      const orderId = sent.result.orderId;
      if (orderId !== null) remember(orderId, { userId, marketId: m.marketId });
      const duplicateOf = sent.result.duplicateOf;
      if (duplicateOf !== null && orderId !== null) {
        // Nothing was placed: answer with the first order as it stands now, as GET /v1/orders/{id} would.
        const row = await storedOrderAt(ctx, userId, orderId, sent.events[sent.events.length - 1].seq);
        const now = row === null ? null : orderView(row, m);
        return reply.code(201).send({
          status: 'accepted',
          commandId: sent.cmdId,
          lookup: now === null ? `/v1/orders/${orderId}` : null,
          orderId,
          fills: [],
          duplicateOf,
          orderStatus: now?.status ?? null,
          filledQuantity: now?.filledQuantity ?? null,
          remainingQuantity: now?.remainingQuantity ?? null,
        });
      }
      return reply.code(201).send({
        status: 'accepted',
        commandId: sent.cmdId,
        lookup: null,
        ...placementOutcome(sent.events, orderId, m),
        duplicateOf,
      });
    },
  );

  app.delete(
    '/v1/orders/:orderId',
    {
      config: { auth: 'trade' },
      schema: {
        tags,
        security,
        summary: 'Cancel an order',
        params: OrderIdParams,
        response: { 200: CancelResult, 202: CancelResult, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { userId } = principalOf(request);
      const res = await cancel(
        { v: COMMAND_VERSION, type: 'cancelOrder', id: newCommandId(), userId, orderId: request.params.orderId },
        userId,
      );
      return reply.code(res.status === 'unknown' ? 202 : 200).send(res);
    },
  );

  app.delete(
    '/v1/orders/by-client-id/:clientOrderId',
    {
      config: { auth: 'trade' },
      schema: {
        tags,
        security,
        summary: 'Cancel an order by client order id',
        params: ClientOrderIdParams,
        response: { 200: CancelResult, 202: CancelResult, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { userId } = principalOf(request);
      const res = await cancel(
        {
          v: COMMAND_VERSION,
          type: 'cancelOrder',
          id: newCommandId(),
          userId,
          clientOrderId: request.params.clientOrderId,
        },
        userId,
      );
      return reply.code(res.status === 'unknown' ? 202 : 200).send(res);
    },
  );

  app.delete(
    '/v1/orders',
    {
      config: { auth: 'trade' },
      schema: {
        tags,
        security,
        summary: 'Cancel all your open orders (optionally of one market)',
        querystring: CancelAllQuery,
        response: { 200: CancelResult, 202: CancelResult, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { userId } = principalOf(request);
      const marketId = request.query.marketId;
      const res = await cancel(
        {
          v: COMMAND_VERSION,
          type: 'cancelAll',
          id: newCommandId(),
          userId,
          ...(marketId !== undefined ? { marketId } : {}),
        },
        userId,
      );
      return reply.code(res.status === 'unknown' ? 202 : 200).send(res);
    },
  );

  app.patch(
    '/v1/orders/:orderId',
    {
      config: { auth: 'trade' },
      schema: {
        tags,
        security,
        summary: 'Amend price and/or quantity of a resting limit order',
        params: OrderIdParams,
        body: AmendBody,
        response: { 200: AmendResult, 202: AmendResult, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { userId } = principalOf(request);
      const orderId = request.params.orderId;
      const m = await marketOf(ctx, await ownOrderMarket(userId, orderId));
      const body = request.body;
      const cmd: CommandInput = {
        v: COMMAND_VERSION,
        type: 'amendOrder',
        id: newCommandId(),
        userId,
        orderId,
        ...(body.price !== undefined ? { price: priceToUnits(body.price, m) } : {}),
        ...(body.quantity !== undefined ? { quantity: qtyToUnits(body.quantity, m) } : {}),
      };
      const sent = await send(ctx, cmd, { userId });
      if (sent.status === 'unknown') {
        return reply.code(202).send({
          status: 'unknown',
          commandId: sent.cmdId,
          lookup: commandLookup(sent.cmdId),
          orderId,
          price: null,
          quantity: null,
          remainingQuantity: null,
          keptPriority: null,
          fills: [],
        });
      }
      const amended = sent.events.find((e): e is OrderAmended => e.type === 'orderAmended' && e.orderId === orderId);
      return reply.send({
        status: 'accepted',
        commandId: sent.cmdId,
        lookup: null,
        orderId,
        price: amended === undefined ? null : formatPriceTicks(amended.priceTicks, m),
        quantity: amended === undefined ? null : formatLots(amended.qtyLots, m),
        remainingQuantity: amended === undefined ? null : formatLots(amended.remainingLots, m),
        keptPriority: amended?.keptPriority ?? null,
        fills: fillsOf(sent.events, orderId, m),
      });
    },
  );

  // ---- reads ----------------------------------------------------------------------------------------------

  const readConfig = { auth: 'read' as const };

  app.get(
    '/v1/orders/:orderId',
    {
      config: readConfig,
      schema: {
        tags,
        security,
        summary: 'An order by id',
        params: OrderIdParams,
        response: { 200: Order, ...errorResponses },
      },
    },
    async (request) => {
      const { userId } = principalOf(request);
      const [row] = await ctx.sql<
        OrderRowDb[]
      >`SELECT ${ctx.sql.unsafe(ORDER_COLUMNS)} FROM orders WHERE order_id = ${request.params.orderId} AND user_id = ${userId}`;
      if (row === undefined) throw gatewayError('EX_ORDER_NOT_FOUND');
      return orderView(row, await marketOf(ctx, row.market_id));
    },
  );

  app.get(
    '/v1/orders/by-client-id/:clientOrderId',
    {
      config: readConfig,
      schema: {
        tags,
        security,
        summary: 'Your latest order with this client order id',
        params: ClientOrderIdParams,
        response: { 200: Order, ...errorResponses },
      },
    },
    async (request) => {
      const { userId } = principalOf(request);
      const [row] = await ctx.sql<OrderRowDb[]>`
      SELECT ${ctx.sql.unsafe(ORDER_COLUMNS)} FROM orders WHERE user_id = ${userId} AND client_order_id = ${request.params.clientOrderId} ORDER BY created_seq DESC LIMIT 1`;
      if (row === undefined) throw gatewayError('EX_ORDER_NOT_FOUND');
      return orderView(row, await marketOf(ctx, row.market_id));
    },
  );

  const listOrders = async (userId: number, q: Static<typeof Page>, openOnly: boolean) => {
    const limit = q.limit ?? 100;
    const market = q.marketId === undefined ? ctx.sql`` : ctx.sql`AND market_id = ${q.marketId}`;
    const cursor = q.before === undefined ? ctx.sql`` : ctx.sql`AND order_id < ${q.before}`;
    const open = openOnly ? ctx.sql`AND status IN ('pendingTrigger', 'new', 'partiallyFilled')` : ctx.sql``;
    const rows = await ctx.sql<OrderRowDb[]>`
      SELECT ${ctx.sql.unsafe(ORDER_COLUMNS)} FROM orders WHERE user_id = ${userId} ${market} ${open} ${cursor} ORDER BY order_id DESC LIMIT ${limit}`;
    return {
      orders: await orderViews(rows, ctx.markets),
      nextBefore: rows.length === limit ? Number(rows[rows.length - 1].order_id) : null,
    };
  };

  app.get(
    '/v1/orders/open',
    {
      config: readConfig,
      schema: {
        tags,
        security,
        summary: 'Your open orders (newest first, paged)',
        querystring: Page,
        response: { 200: OrderList, ...errorResponses },
      },
    },
    async (request) => listOrders(principalOf(request).userId, request.query, true),
  );

  app.get(
    '/v1/orders/history',
    {
      config: readConfig,
      schema: {
        tags,
        security,
        summary: 'All your orders (newest first, paged)',
        querystring: Page,
        response: { 200: OrderList, ...errorResponses },
      },
    },
    async (request) => listOrders(principalOf(request).userId, request.query, false),
  );

  app.get(
    '/v1/trades',
    {
      config: readConfig,
      schema: {
        tags,
        security,
        summary: 'Your trades (newest first, paged)',
        querystring: Page,
        response: { 200: TradeList, ...errorResponses },
      },
    },
    async (request) => {
      const { userId } = principalOf(request);
      const limit = request.query.limit ?? 100;
      const rows = await userTrades(
        ctx.sql,
        userId,
        request.query.marketId ?? null,
        request.query.before ?? null,
        limit,
      );
      const trades = [];
      for (const r of rows) {
        const m = await ctx.markets.market(r.market_id);
        if (m !== null) trades.push(tradeView(r, m));
      }
      return { trades, nextBefore: rows.length === limit ? Number(rows[rows.length - 1].trade_id) : null };
    },
  );

  app.get(
    '/v1/commands/:commandId',
    {
      config: readConfig,
      schema: {
        tags,
        security,
        summary: 'The outcome of a command answered with status unknown',
        params: CommandIdParams,
        response: { 200: CommandStatus, ...errorResponses },
      },
    },
    async (request) => {
      const { userId } = principalOf(request);
      const commandId = request.params.commandId;
      const record = await readCommandRecord(ctx.stores.commands, ctx.options.redisPrefix, commandId);
      if (record !== null && record.userId === userId)
        return { commandId, status: record.status, code: record.code, orderId: record.orderId };
      const [rejected] = await ctx.sql<
        { code: RejectCode }[]
      >`SELECT code FROM order_rejections WHERE cmd_id = ${commandId} AND user_id = ${userId}`;
      if (rejected !== undefined) return { commandId, status: 'rejected' as const, code: rejected.code, orderId: null };
      throw gatewayError('EX_COMMAND_NOT_FOUND');
    },
  );
};
