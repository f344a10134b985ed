// Market data as one Fastify plugin: REST (markets, assets, depth, trades, ticker, candles) and the WebSocket
// streams at /v1/ws, fed either by the events topic (an instance given `events`: it builds its books itself and,
// unless told otherwise, publishes what changed on Redis) or by Redis alone (a relay instance, without `events`).
// See docs/market-data.md.

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
  readonly redis: Redis;
  /** Prefix of every Redis key and channel market data uses. */
  readonly redisPrefix: string;
  /** The events topic (KafkaMarketSource). Without it the instance is a relay of what others publish on Redis. */
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
  const feed: MarketDataFeed =
    opts.events === undefined
      ? new RedisRelay({ redis: opts.redis, prefix: opts.redisPrefix, hub, logger, resyncBufferMax: limits.resyncBufferMax, resyncPollMs: limits.resyncPollMs })
      : new MarketDataService({
          sql: opts.sql, source: opts.events, hub, logger, retryDelayMs: limits.retryDelayMs,
          publish: opts.publish === false ? null : { redis: opts.redis, prefix: opts.redisPrefix, snapshotIntervalMs: limits.snapshotIntervalMs },
        });
  const view = () => feed.view;

  if (!app.hasDecorator('websocketServer')) {
    // ws closes a connection whose message exceeds maxPayload; below it, oversized messages get an error message.
    await app.register(websocket, { options: { maxPayload: Math.max(64 * 1024, limits.messageBytesMax * 4) } });
  }
  await app.register(marketDataRoutes, { sql: opts.sql, view, nowMs });
  await app.register(marketDataWs, { hub, view, authenticate: opts.authenticate, messageBytesMax: limits.messageBytesMax, messagesPerSecMax: limits.messagesPerSecMax, nowMs });

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
  app.addHook('preClose', async () => hub.closeAll('MARKET_DATA_WS_SHUTDOWN'));
  app.addHook('onClose', async () => feed.stop());
}

export const marketDataPlugin = fp(plugin, { name: 'market-data', fastify: '5.x' });
