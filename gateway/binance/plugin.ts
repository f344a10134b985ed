// The Binance-compatible API (spot) as one encapsulated Fastify plugin over the gateway's own services: the same
// command bus, stores (replay protection, rate limits, listen keys), PostgreSQL and market-data hub. Inside it:
// form bodies (application/x-www-form-urlencoded, kept raw for the signature), Binance's error answers for every
// error (ours mapped by errors.ts), Binance's signing on the signed routes, and the streams tap. Registered by
// buildGateway after market data. See docs/binance-compat.md.

import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Principal, RouteAuthenticate } from '../auth/service.js';
import type { GatewayError } from '../errors.js';
import { DEFAULT_MARKET_DATA_LIMITS } from '../market-data/plugin.js';
import type { RouteContext } from '../routes/context.js';
import { PersistenceBarrier, SymbolIndex, UserSeqs, paramsOf } from './context.js';
import type { BinanceContext } from './context.js';
import { BinanceError, binanceError, BINANCE_MESSAGES, toBinanceError } from './errors.js';
import { queryOf } from './params.js';
import { marketRoutes } from './routes-market.js';
import { tradeRoutes } from './routes-trade.js';
import { walletRoutes } from './routes-wallet.js';
import { readSigned, replayTtlMs, signatureMatches, timestampAccepted } from './signing.js';
import { BinanceStreams } from './streams.js';
import { binanceWs } from './ws.js';

export interface BinancePluginOptions {
  readonly ctx: RouteContext;
  /** Turns our errors (Fastify's included) into the gateway's; app.ts's toGatewayError. */
  readonly toGatewayError: (err: FastifyError | Error) => GatewayError;
  readonly nowMs?: () => number;
}

/** Binance features we do not have: every method on these paths answers -1020 (a 404 elsewhere under /api/v3). */
const UNSUPPORTED_PATHS = [
  '/api/v3/order/oco',
  '/api/v3/orderList/*',
  '/api/v3/sor/*',
  '/api/v3/order/amend/*',
  '/sapi/*',
  '/fapi/*',
  '/dapi/*',
  '/eapi/*',
  '/papi/*',
  '/api/v3/*',
];

export async function binancePlugin(app: FastifyInstance, opts: BinancePluginOptions): Promise<void> {
  const nowMs = opts.nowMs ?? Date.now;
  const md = app.marketData;
  const view = () => md.feed.view;
  const b: BinanceContext = {
    ctx: opts.ctx,
    view,
    symbols: new SymbolIndex(view),
    persisted: new PersistenceBarrier(opts.ctx.sql),
    userSeqs: new UserSeqs(),
    nowMs,
  };

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (request, body, done) => {
    // Parameters are read from the raw text (paramsOf), which the signature covers exactly as received.
    request.rawBody = body as string;
    done(null, {});
  });
  app.setErrorHandler(async (err: FastifyError | BinanceError, request: FastifyRequest, reply: FastifyReply) => {
    // A request refused before the admission step still counts against its IP (gateway/admission.ts).
    const e =
      err instanceof BinanceError
        ? err
        : toBinanceError(await opts.ctx.admission.errorBeforeAdmission(request, reply, opts.toGatewayError(err)));
    if (e.statusCode >= 500) request.log.error({ err }, 'binance route failed');
    return reply.code(e.statusCode).send(e.body());
  });

  // The signature is remembered by the gateway's admission step, with the rate limits (gateway/admission.ts).
  const signed: RouteAuthenticate = async (request, beforeLookup) => {
    const key = request.headers['x-mbx-apikey'];
    if (key === undefined) return null;
    if (typeof key !== 'string') throw binanceError('BAD_API_KEY_FMT', BINANCE_MESSAGES.badApiKeyFormat, 401);
    const s = readSigned(queryOf(request.url), request.rawBody ?? '', paramsOf(request));
    return opts.ctx.auth.verifyKey({
      keyId: key,
      ip: request.ip,
      timestampOk: timestampAccepted(s, nowMs()),
      signature: s.signature,
      matches: (secret) => signatureMatches(secret, s.payload, s.signature),
      replayTtlMs: replayTtlMs(s),
      beforeLookup,
    });
  };
  const keyOnly: RouteAuthenticate = async (request, beforeLookup) => {
    const key = request.headers['x-mbx-apikey'];
    if (key === undefined) return null;
    if (typeof key !== 'string') throw binanceError('BAD_API_KEY_FMT', BINANCE_MESSAGES.badApiKeyFormat, 401);
    return {
      principal: await opts.ctx.auth.unsignedKeyPrincipal(key, request.ip, beforeLookup),
      replay: null,
      refusal: null,
    };
  };

  await app.register(marketRoutes, { b });
  await app.register(tradeRoutes, { b, signed });
  await app.register(walletRoutes, { b, signed, keyOnly });
  for (const url of UNSUPPORTED_PATHS) {
    app.all(url, { config: { auth: 'public' }, schema: { hide: true } }, async () => {
      throw url === '/api/v3/*'
        ? new BinanceError(-1020, BINANCE_MESSAGES.unsupported, 404)
        : binanceError('UNSUPPORTED_OPERATION', BINANCE_MESSAGES.unsupported);
    });
  }

  const limits = DEFAULT_MARKET_DATA_LIMITS;
  await app.register(binanceWs, {
    b,
    hub: md.hub,
    messageBytesMax: limits.messageBytesMax,
    messagesPerSecMax: limits.messagesPerSecMax,
  });
  const streams = new BinanceStreams(b, md.hub, app.log as unknown as Logger);
  const removeTap = md.feed.addTap(streams);
  streams.start();
  app.addHook('onClose', async () => {
    removeTap();
    streams.stop();
  });
}
