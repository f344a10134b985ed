// The WebSocket endpoint /v1/ws. A client sends JSON operations ({"op":"subscribe","channel":"depth:BTC-USDC"},
// unsubscribe, ping); a bad one gets an `error` message with a code and the connection stays. Channels:
// depth:<symbol> (a snapshot, then deltas chained by prevSeq -> seq), trades:<symbol>, and `user` (the
// connection's own order and balance events), which needs the upgrade request to have authenticated.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import type {} from '@fastify/websocket'; // route option `websocket: true`
import type { RawData, WebSocket } from 'ws';
import { Compile } from 'typebox/compile';
import { MARKET_SYMBOL } from '../../engine/core/index.js';
import { gatewayError } from '../errors.js';
import type { MarketInfo } from '../units.js';
import { Connection } from './hub.js';
import type { Hub } from './hub.js';
import { USER_CHANNEL, depthSnapshotMessage } from './messages.js';
import { ClientMessage } from './schemas.js';
import type { ClientMessageT } from './schemas.js';
import type { BookView } from './service.js';

export interface WsOptions {
  readonly hub: Hub;
  readonly view: () => BookView | null;
  readonly authenticate: (request: FastifyRequest) => Promise<{ userId: number } | null>;
  /** Larger messages get MARKET_DATA_WS_MESSAGE_TOO_LARGE (ws itself closes at its maxPayload, set higher). */
  readonly messageBytesMax: number;
  /** Messages a connection may send per second; past it errors, past four times it the connection is closed. */
  readonly messagesPerSecMax: number;
  readonly nowMs: () => number;
}

const checkMessage = Compile(ClientMessage);
const CHANNEL = new RegExp(`^(depth|trades):(${MARKET_SYMBOL})$`);

export async function marketDataWs(app: FastifyInstance, opts: WsOptions): Promise<void> {
  const userOf = new WeakMap<FastifyRequest, number>();

  const preValidation = async (req: FastifyRequest): Promise<void> => {
    if (opts.hub.isFull)
      throw gatewayError('EX_UNAVAILABLE', 'too many WebSocket connections on this gateway; try another or later');
    let who: { userId: number } | null;
    try {
      who = await opts.authenticate(req);
    } catch (err) {
      req.log.warn({ err }, 'websocket authentication failed to run');
      throw gatewayError('EX_UNAVAILABLE', 'authentication is unavailable; retry shortly');
    }
    if (who !== null) userOf.set(req, who.userId);
  };

  // Public: anyone may read the public channels; the private stream needs credentials, checked by preValidation.
  app.get(
    '/v1/ws',
    { websocket: true, config: { auth: 'public' }, preValidation, schema: { hide: true } as Record<string, unknown> },
    (socket: WebSocket, req: FastifyRequest) => {
      const conn = new Connection(socket, userOf.get(req) ?? null);
      opts.hub.add(conn);
      // Handlers are attached at once: messages that arrive now must not be lost.
      socket.on('message', (data: RawData, isBinary: boolean) => onMessage(opts, conn, data, isBinary));
      socket.on('close', () => opts.hub.remove(conn));
      socket.on('error', (err: Error) => {
        req.log.debug({ err }, 'websocket error');
        opts.hub.remove(conn);
      });
    },
  );
}

function onMessage(opts: WsOptions, conn: Connection, data: RawData, isBinary: boolean): void {
  const hub = opts.hub;
  if (conn.closed) return;
  const now = opts.nowMs();
  if (now - conn.windowStartMs >= 1000) {
    conn.windowStartMs = now;
    conn.messagesInWindow = 0;
  }
  conn.messagesInWindow++;
  if (conn.messagesInWindow > 4 * opts.messagesPerSecMax) return hub.close(conn, 'MARKET_DATA_WS_FLOOD');
  if (conn.messagesInWindow > opts.messagesPerSecMax) {
    if (conn.messagesInWindow === opts.messagesPerSecMax + 1)
      hub.sendError(
        conn,
        'MARKET_DATA_WS_RATE_LIMITED',
        `more than ${opts.messagesPerSecMax} messages in a second`,
        null,
      );
    return;
  }
  const size = Array.isArray(data)
    ? data.reduce((n, b) => n + b.length, 0)
    : data instanceof ArrayBuffer
      ? data.byteLength
      : data.length;
  if (size > opts.messageBytesMax)
    return hub.sendError(
      conn,
      'MARKET_DATA_WS_MESSAGE_TOO_LARGE',
      `messages are at most ${opts.messageBytesMax} bytes`,
      null,
    );
  if (isBinary) return hub.sendError(conn, 'MARKET_DATA_WS_BAD_MESSAGE', 'messages are JSON text', null);
  let msg: unknown;
  try {
    msg = JSON.parse(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8'));
  } catch {
    return hub.sendError(conn, 'MARKET_DATA_WS_BAD_MESSAGE', 'not JSON', null);
  }
  if (!checkMessage.Check(msg))
    return hub.sendError(
      conn,
      'MARKET_DATA_WS_BAD_MESSAGE',
      'expected {"op":"subscribe"|"unsubscribe","channel":"..."} or {"op":"ping"}',
      echoId(msg),
    );
  handle(opts, conn, msg);
}

/** The client's id, when it is of a type we echo (a bad message's id is still useful to the client). */
function echoId(msg: unknown): string | number | null {
  if (typeof msg !== 'object' || msg === null) return null;
  const id = (msg as { id?: unknown }).id;
  return (typeof id === 'number' && Number.isSafeInteger(id)) || (typeof id === 'string' && id.length <= 64)
    ? id
    : null;
}

function handle(opts: WsOptions, conn: Connection, msg: ClientMessageT): void {
  const hub = opts.hub;
  const id = msg.id ?? null;
  if (msg.op === 'ping') return hub.send(conn, JSON.stringify({ type: 'pong', id }));
  const channel = msg.channel;
  if (msg.op === 'unsubscribe') {
    if (conn.subscriptions.has(channel)) hub.unsubscribe(conn, channel);
    return hub.send(conn, JSON.stringify({ type: 'unsubscribed', channel, id }));
  }
  let market: MarketInfo | null = null;
  const view = opts.view();
  if (channel === USER_CHANNEL) {
    if (conn.userId === null)
      return hub.sendError(
        conn,
        'MARKET_DATA_WS_UNAUTHENTICATED',
        'authenticate the upgrade request to use the user channel',
        id,
        channel,
      );
  } else {
    const match = CHANNEL.exec(channel);
    if (match === null)
      return hub.sendError(
        conn,
        'MARKET_DATA_WS_CHANNEL_UNKNOWN',
        'channels are depth:<symbol>, trades:<symbol> and user',
        id,
        channel,
      );
    if (view === null)
      return hub.sendError(
        conn,
        'MARKET_DATA_WS_UNAVAILABLE',
        'market data is starting; subscribe again shortly',
        id,
        channel,
      );
    const marketId = view.marketIdBySymbol.get(match[2]);
    if (marketId === undefined)
      return hub.sendError(conn, 'MARKET_DATA_WS_CHANNEL_UNKNOWN', `no market has the symbol ${match[2]}`, id, channel);
    market = view.markets.get(marketId) as MarketInfo;
  }
  if (!conn.subscriptions.has(channel) && conn.subscriptions.size >= hub.limits.subscriptionsPerConnectionMax) {
    return hub.sendError(
      conn,
      'MARKET_DATA_WS_TOO_MANY_SUBSCRIPTIONS',
      `at most ${hub.limits.subscriptionsPerConnectionMax} subscriptions per connection`,
      id,
      channel,
    );
  }
  hub.subscribe(conn, channel);
  hub.send(conn, JSON.stringify({ type: 'subscribed', channel, id }));
  // The snapshot is taken and sent in the same turn as the subscription: every later delta follows it.
  if (market !== null && channel.startsWith('depth:')) {
    const book = (view as BookView).books.get(market.marketId);
    // A relay's book being resynchronised sends its snapshot when it is ready.
    if (book !== undefined && book.seq >= 0)
      hub.send(conn, JSON.stringify(depthSnapshotMessage(book.snapshot(), market)));
  }
}
