// Binance's WebSocket endpoints on the market-data hub's connections (same limits: connections, subscriptions,
// message size and rate, slow consumers):
//   /ws, /ws/<stream>[/<stream>...], /ws/<listenKey>   raw messages; SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS
//                                                      answered {"result":...,"id":...}; a path segment that is
//                                                      neither (ccxt connects to /ws/<n>) opens a bare connection
//   /stream?streams=a/b                                the same, each message wrapped as {"stream":...,"data":...}
//   /ws-api/v3                                         the WebSocket API's user-data stream: ping, time,
//                                                      userDataStream.subscribe.signature, userDataStream.unsubscribe

import type { FastifyInstance, FastifyRequest } from 'fastify';
import type {} from '@fastify/websocket';
import type { RawData, WebSocket } from 'ws';
import { Connection } from '../market-data/hub.js';
import type { Hub } from '../market-data/hub.js';
import { GatewayError } from '../errors.js';
import type { BinanceContext } from './context.js';
import { BinanceError, toBinanceError } from './errors.js';
import { LISTEN_KEY, listenKeyUser } from './routes-wallet.js';
import { replayTtlMs, signatureMatches, timestampAccepted, timing, wsPayload } from './signing.js';
import { combinedChannel, listenKeyChannel, parseStream, rawChannel, wsApiChannel } from './streams.js';

export interface BinanceWsOptions {
  readonly b: BinanceContext;
  readonly hub: Hub;
  readonly messageBytesMax: number;
  readonly messagesPerSecMax: number;
}

type Mode = 'raw' | 'combined';

/** Binance's WebSocket errors: 1 invalid value, 2 invalid request, 3 invalid JSON. */
const wsError = (code: number, msg: string, id: unknown) => JSON.stringify({ error: { code, msg }, id: id ?? null });

export async function binanceWs(app: FastifyInstance, opts: BinanceWsOptions): Promise<void> {
  const { hub } = opts;
  const full = async (): Promise<void> => {
    if (hub.isFull)
      throw new BinanceError(-1003, 'Too many WebSocket connections on this gateway; try another or later.', 503);
  };
  const hidden = { hide: true } as Record<string, unknown>;

  const open = (socket: WebSocket, req: FastifyRequest, mode: Mode, initial: string[]): Connection => {
    const conn = new Connection(socket, null);
    hub.add(conn);
    socket.on('message', (data: RawData, isBinary: boolean) => void onMarketMessage(opts, conn, mode, data, isBinary));
    socket.on('close', () => hub.remove(conn));
    socket.on('error', (err: Error) => {
      req.log.debug({ err }, 'binance websocket error');
      hub.remove(conn);
    });
    void subscribePath(opts, conn, mode, initial);
    return conn;
  };

  app.get(
    '/ws',
    { websocket: true, config: { auth: 'public' as const }, preValidation: full, schema: hidden },
    (socket: WebSocket, req: FastifyRequest) => void open(socket, req, 'raw', []),
  );
  app.get(
    '/ws/*',
    { websocket: true, config: { auth: 'public' as const }, preValidation: full, schema: hidden },
    (socket: WebSocket, req: FastifyRequest) => {
      const rest = (req.params as { '*': string })['*'];
      void open(
        socket,
        req,
        'raw',
        rest.split('/').filter((s) => s !== ''),
      );
    },
  );
  app.get(
    '/stream',
    { websocket: true, config: { auth: 'public' as const }, preValidation: full, schema: hidden },
    (socket: WebSocket, req: FastifyRequest) => {
      const streams = new URLSearchParams(req.url.slice(req.url.indexOf('?') + 1)).get('streams') ?? '';
      void open(
        socket,
        req,
        'combined',
        streams.split('/').filter((s) => s !== ''),
      );
    },
  );
  app.get(
    '/ws-api/v3',
    { websocket: true, config: { auth: 'public' as const }, preValidation: full, schema: hidden },
    (socket: WebSocket, req: FastifyRequest) => {
      const conn = new Connection(socket, null);
      hub.add(conn);
      socket.on('message', (data: RawData, isBinary: boolean) => void onApiMessage(opts, conn, req.ip, data, isBinary));
      socket.on('close', () => hub.remove(conn));
      socket.on('error', (err: Error) => {
        req.log.debug({ err }, 'binance websocket api error');
        hub.remove(conn);
      });
    },
  );
}

/** The streams and listen keys of the URL path; anything else there is ignored (ccxt's /ws/<n>). */
async function subscribePath(opts: BinanceWsOptions, conn: Connection, mode: Mode, segments: string[]): Promise<void> {
  for (const s of segments.slice(0, opts.hub.limits.subscriptionsPerConnectionMax)) {
    if (LISTEN_KEY.test(s)) {
      const userId = await listenKeyUser(opts.b, s);
      if (userId === null)
        opts.hub.send(conn, JSON.stringify({ e: 'listenKeyExpired', E: opts.b.nowMs(), listenKey: s }));
      else opts.hub.subscribe(conn, listenKeyChannel(userId));
      continue;
    }
    if (parseStream(s) !== null) opts.hub.subscribe(conn, channelOf(mode, s));
  }
}

const channelOf = (mode: Mode, stream: string): string =>
  mode === 'raw' ? rawChannel(stream) : combinedChannel(stream);

/** The JSON object of a text message within the size and rate limits, or null (an error was sent or the client closed). */
function readMessage(
  opts: BinanceWsOptions,
  conn: Connection,
  data: RawData,
  isBinary: boolean,
): Record<string, unknown> | null {
  const now = opts.b.nowMs();
  if (conn.closed) return null;
  if (now - conn.windowStartMs >= 1000) {
    conn.windowStartMs = now;
    conn.messagesInWindow = 0;
  }
  conn.messagesInWindow++;
  if (conn.messagesInWindow > 4 * opts.messagesPerSecMax) {
    opts.hub.close(conn, 'MARKET_DATA_WS_FLOOD');
    return null;
  }
  if (conn.messagesInWindow > opts.messagesPerSecMax) {
    opts.hub.send(conn, wsError(2, `Too many messages; at most ${opts.messagesPerSecMax} a second.`, null));
    return null;
  }
  const size = Array.isArray(data)
    ? data.reduce((n, x) => n + x.length, 0)
    : data instanceof ArrayBuffer
      ? data.byteLength
      : data.length;
  if (isBinary || size > opts.messageBytesMax) {
    opts.hub.send(conn, wsError(2, `Invalid request: JSON text of at most ${opts.messageBytesMax} bytes.`, null));
    return null;
  }
  try {
    const msg: unknown = JSON.parse(
      Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8'),
    );
    if (typeof msg === 'object' && msg !== null && !Array.isArray(msg)) return msg as Record<string, unknown>;
  } catch {
    // answered below
  }
  opts.hub.send(conn, wsError(3, 'Invalid JSON: expected an object.', null));
  return null;
}

const idOf = (msg: Record<string, unknown>): unknown => {
  const id = msg.id;
  return (typeof id === 'number' && Number.isSafeInteger(id)) || (typeof id === 'string' && id.length <= 64)
    ? id
    : null;
};

async function onMarketMessage(
  opts: BinanceWsOptions,
  conn: Connection,
  mode: Mode,
  data: RawData,
  isBinary: boolean,
): Promise<void> {
  const msg = readMessage(opts, conn, data, isBinary);
  if (msg === null) return;
  const id = idOf(msg);
  const hub = opts.hub;
  if (msg.method === 'LIST_SUBSCRIPTIONS') {
    const prefix = mode === 'raw' ? 'bn:r:' : 'bn:c:';
    return hub.send(
      conn,
      JSON.stringify({
        result: [...conn.subscriptions].filter((c) => c.startsWith(prefix)).map((c) => c.slice(prefix.length)),
        id,
      }),
    );
  }
  if (msg.method !== 'SUBSCRIBE' && msg.method !== 'UNSUBSCRIBE')
    return hub.send(
      conn,
      wsError(2, 'Invalid request: method must be SUBSCRIBE, UNSUBSCRIBE or LIST_SUBSCRIPTIONS.', id),
    );
  const params = msg.params;
  if (!Array.isArray(params) || !params.every((p) => typeof p === 'string'))
    return hub.send(conn, wsError(1, 'Invalid value type: params must be an array of stream names.', id));
  const bad = (params as string[]).find((s) => parseStream(s) === null);
  if (bad !== undefined) return hub.send(conn, wsError(2, `Invalid request: unknown stream ${bad.slice(0, 64)}.`, id));
  if (msg.method === 'UNSUBSCRIBE') {
    for (const s of params as string[]) hub.unsubscribe(conn, channelOf(mode, s));
    return hub.send(conn, JSON.stringify({ result: null, id }));
  }
  const fresh = (params as string[]).filter((s) => !conn.subscriptions.has(channelOf(mode, s)));
  if (conn.subscriptions.size + fresh.length > hub.limits.subscriptionsPerConnectionMax) {
    return hub.send(
      conn,
      wsError(2, `Invalid request: at most ${hub.limits.subscriptionsPerConnectionMax} streams per connection.`, id),
    );
  }
  for (const s of fresh) hub.subscribe(conn, channelOf(mode, s));
  hub.send(conn, JSON.stringify({ result: null, id }));
}

const apiError = (id: unknown, status: number, code: number, msg: string) =>
  JSON.stringify({ id, status, error: { code, msg } });

async function onApiMessage(
  opts: BinanceWsOptions,
  conn: Connection,
  ip: string,
  data: RawData,
  isBinary: boolean,
): Promise<void> {
  const msg = readMessage(opts, conn, data, isBinary);
  if (msg === null) return;
  const id = idOf(msg);
  const hub = opts.hub;
  const b = opts.b;
  switch (msg.method) {
    case 'ping':
      return hub.send(conn, JSON.stringify({ id, status: 200, result: {} }));
    case 'time':
      return hub.send(conn, JSON.stringify({ id, status: 200, result: { serverTime: b.nowMs() } }));
    case 'userDataStream.unsubscribe':
      for (const c of [...conn.subscriptions]) if (c.startsWith('bn:a:')) hub.unsubscribe(conn, c);
      return hub.send(conn, JSON.stringify({ id, status: 200, result: {} }));
    case 'userDataStream.subscribe.signature':
      break;
    default:
      return hub.send(conn, apiError(id, 400, -1020, 'This operation is not supported.'));
  }
  const params = msg.params;
  if (typeof params !== 'object' || params === null || Array.isArray(params))
    return hub.send(
      conn,
      apiError(id, 400, -1102, "Mandatory parameter 'params' was not sent, was empty/null, or malformed."),
    );
  const p = params as Record<string, unknown>;
  try {
    const t = timing(new Map(Object.entries(p).map(([k, v]) => [k, String(v)])));
    const signature = typeof p.signature === 'string' ? p.signature : '';
    const payload = wsPayload(p);
    const principal = await b.ctx.auth.keyPrincipal({
      keyId: typeof p.apiKey === 'string' ? p.apiKey : '',
      ip,
      timestampOk: timestampAccepted(t, b.nowMs()),
      signature,
      matches: (secret) => signatureMatches(secret, payload, signature),
      replayTtlMs: replayTtlMs(t),
    });
    if (!principal.scopes.includes('read'))
      throw new BinanceError(-2015, 'Invalid API-key, IP, or permissions for action.', 403);
    if (conn.closed) return;
    hub.subscribe(conn, wsApiChannel(principal.userId));
    hub.send(conn, JSON.stringify({ id, status: 200, result: { subscriptionId: 0 } }));
  } catch (err) {
    const e = err instanceof BinanceError ? err : err instanceof GatewayError ? toBinanceError(err) : null;
    if (e === null) throw err;
    hub.send(conn, apiError(id, e.statusCode, e.code, e.message));
  }
}
