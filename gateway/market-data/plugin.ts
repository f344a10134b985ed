// Market data as one Fastify plugin: REST (markets, assets, depth, trades, ticker, candles) and the WebSocket
// streams at /v1/ws, fed either by the events topic (an instance given `events`: it builds its books itself and,
// unless told otherwise, publishes what changed on Redis) or by Redis alone (a relay instance, without `events`).
// Without Redis (the embedded single-instance exchange) there are no relays: the instance reads the events itself
// and publishes nothing, and must say so (`publish: false`). See docs/market-data.md.

import fp from 'fastify-plugin';
import websocket from '@fastify/websocket';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { Sql } from 'postgres';
import type { Logger } from 'pino';
import { Hub } from './hub.js';
import type { HubStats } from './hub.js';
import { RedisRelay } from './relay.js';
import { marketDataRoutes } from './routes.js';
import { MarketDataService } from './service.js';
import type { MarketDataFeed } from './service.js';
import type { MarketEventSource } from './source.js';
import { marketDataWs } from './ws.js';

export interface MarketDataLimits {
  /** Bytes a WebSocket client may have waiting to be sent before it is disconnected as too slow. */
  readonly sendBacklogBytesMax: number;
  readonly subscriptionsPerConnectionMax: number;
  readonly connectionsMax: number;
  readonly messageBytesMax: number;
  readonly messagesPerSecMax: number;
  readonly closeTimeoutMs: number;
  /** First back-off after a failed read or a gap (doubling, up to 30 s). */
  readonly retryDelayMs: number;
  /** How often a publishing instance writes full snapshots of changed books for relays. */
  readonly snapshotIntervalMs: number;
  readonly resyncBufferMax: number;
  readonly resyncPollMs: number;
}

export const DEFAULT_MARKET_DATA_LIMITS: MarketDataLimits = {
  sendBacklogBytesMax: 1 << 20,
  subscriptionsPerConnectionMax: 50,
  connectionsMax: 10_000,
  messageBytesMax: 4096,
  messagesPerSecMax: 50,
  closeTimeoutMs: 5000,
  retryDelayMs: 500,
  snapshotIntervalMs: 1000,
  resyncBufferMax: 10_000,
  resyncPollMs: 200,
};

export interface MarketDataPluginOptions {
  readonly sql: Sql;
  /** For relays (publishing, or being one). Absent: a single instance, which needs `events` and `publish: false`. */
  readonly redis?: Redis;
  /** Prefix of every Redis key and channel market data uses (with `redis`). */
  readonly redisPrefix?: string;
  /** The events topic (gateway/events-feed.ts in production). Without it the instance is a relay of what others publish on Redis. */
  readonly events?: MarketEventSource;
  /** Whether an instance with `events` publishes on Redis for relays (default true). */
  readonly publish?: boolean;
  /** Called on the WebSocket upgrade request; null means anonymous (public channels only). */
  readonly authenticate: (request: FastifyRequest) => Promise<{ userId: number } | null>;
  readonly logger?: Logger;
  /** Wall clock for the ticker's and candles' default windows (tests pin it). */
  readonly nowMs?: () => number;
  readonly limits?: Partial<MarketDataLimits>;
}

export interface MarketDataStatus {
  readonly ready: boolean;
  /** Engine seq the books are at (the relay: the last record seen). */
  readonly lastSeq: number | null;
  readonly mode: 'consumer' | 'relay';
  readonly rebuilds: number;
  readonly ws: HubStats;
}

export interface MarketDataHandle {
  status(): MarketDataStatus;
  readonly feed: MarketDataFeed;
  readonly hub: Hub;
}

declare module 'fastify' {
  interface FastifyInstance {
    marketData: MarketDataHandle;
  }
}

async function plugin(app: FastifyInstance, opts: MarketDataPluginOptions): Promise<void> {
  const limits = { ...DEFAULT_MARKET_DATA_LIMITS, ...opts.limits };
  const logger = (opts.logger ?? app.log) as Logger;
  const nowMs = opts.nowMs ?? Date.now;
  const hub = new Hub(limits, logger);
  const relay = relayRedis(opts);
  const feed: MarketDataFeed =
    opts.events === undefined
      ? new RedisRelay({
          ...(relay as RelayRedis),
          hub,
          logger,
          resyncBufferMax: limits.resyncBufferMax,
          resyncPollMs: limits.resyncPollMs,
        })
      : new MarketDataService({
          sql: opts.sql,
          source: opts.events,
          hub,
          logger,
          retryDelayMs: limits.retryDelayMs,
          publish:
            opts.publish === false ? null : { ...(relay as RelayRedis), snapshotIntervalMs: limits.snapshotIntervalMs },
        });
  const view = () => feed.view;

  // Before @fastify/websocket's own preClose (hooks run in order), which closes every client without a code.
  app.addHook('preClose', async () => hub.closeAll('MARKET_DATA_WS_SHUTDOWN'));
  if (!app.hasDecorator('websocketServer')) {
    // ws closes a connection whose message exceeds maxPayload; below it, oversized messages get an error message.
    await app.register(websocket, { options: { maxPayload: Math.max(64 * 1024, limits.messageBytesMax * 4) } });
  }
  await app.register(marketDataRoutes, { sql: opts.sql, view, nowMs });
  await app.register(marketDataWs, {
    hub,
    view,
    authenticate: opts.authenticate,
    messageBytesMax: limits.messageBytesMax,
    messagesPerSecMax: limits.messagesPerSecMax,
    nowMs,
  });

  app.decorate('marketData', {
    feed,
    hub,
    status: (): MarketDataStatus => ({
      ready: feed.view !== null,
      lastSeq: feed.view?.lastSeq ?? null,
      mode: opts.events === undefined ? 'relay' : 'consumer',
      rebuilds: feed instanceof MarketDataService ? feed.rebuilds : (feed as RedisRelay).resyncs,
      ws: hub.stats,
    }),
  });
  app.addHook('onReady', async () => feed.start());
  app.addHook('onClose', async () => feed.stop());
}

interface RelayRedis {
  readonly redis: Redis;
  readonly prefix: string;
}

/** Redis for relays; null for a single instance, which must read the events itself and not publish. */
function relayRedis(opts: MarketDataPluginOptions): RelayRedis | null {
  if (opts.redis !== undefined && opts.redisPrefix !== undefined)
    return { redis: opts.redis, prefix: opts.redisPrefix };
  if (opts.redis !== undefined || opts.redisPrefix !== undefined)
    throw new Error('market data: `redis` and `redisPrefix` go together');
  if (opts.events === undefined) throw new Error('market data: a relay instance (no `events`) needs `redis`');
  if (opts.publish !== false)
    throw new Error('market data without `redis` has no relays: pass `publish: false` (a single instance)');
  return null;
}

export const marketDataPlugin = fp(plugin, { name: 'market-data', fastify: '5.x' });
