// `npm run gateway`: the REST gateway as a process. Configuration from the environment (config.ts; a bad value
// stops it with exit code 2 and a message naming the variable). Applies the migrations it depends on, connects
// PostgreSQL, Redis (in-process stores when REDIS_URL is not set: one instance only) and Kafka, then listens.
// SIGTERM/SIGINT: stop accepting, finish requests in flight (those waiting for the engine are answered, "unknown" at
// worst), close the connections, exit 0.

import pino from 'pino';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { kafkaClient } from '../kafka/client.js';
import { buildGateway } from './app.js';
import type { Authenticate } from './app.js';
import { marketDataPlugin } from './market-data/plugin.js';
import { ConfigError, readGatewayConfig } from './config.js';
import type { GatewayConfig } from './config.js';
import { GatewayEventsFeed } from './events-feed.js';
import { KafkaCommandBus } from './kafka-bus.js';
import { gatewayLoggerOptions } from './logging.js';
import { GatewayMetrics } from './metrics.js';
import { migrateGateway } from './migrate.js';
import { lateResultRecorder } from './routes/commands.js';
import { memoryStores, redisStores } from './stores/gateway-stores.js';
import { DEFAULT_WEB_ROOT, webPageBuilt } from './web/page.js';

/** Events records handed on at once, and how long a fetch waits for data (bounds the added latency at low rates). */
const EVENTS_BATCH_RECORDS_MAX = 500;
const EVENTS_MAX_WAIT_MS = 100;

async function main(): Promise<void> {
  let config: GatewayConfig;
  try {
    config = readGatewayConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`gateway: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const logger = pino(gatewayLoggerOptions(config.logLevel));
  const sql = postgres(config.databaseUrl, { max: 20, onnotice: () => {} });
  const applied = await migrateGateway(sql);
  logger.info({ applied }, 'migrations checked');
  // Auto-pipelining: the admission scripts of the requests handled in one event-loop turn go out in one socket
  // write (each write was a system call of its own, the largest single cost under load). ioredis leaves
  // (un)subscribe and the like out of it, so the market-data relay's subscriber (a duplicate) is unaffected.
  const redis =
    config.redisUrl === null
      ? null
      : new Redis(config.redisUrl, {
          maxRetriesPerRequest: 2,
          connectTimeout: 2000,
          enableOfflineQueue: true,
          enableAutoPipelining: true,
        });
  if (redis === null) {
    logger.warn(
      'REDIS_URL is not set: rate limits, signature replay protection and command lookups are kept in this process, and market data has no relays; run a single gateway instance only',
    );
  }
  const stores = redis === null ? memoryStores() : redisStores(redis);
  const kafka = kafkaClient(config.kafkaBrokers, `gateway-${config.instanceId}`, logger);
  const metrics = new GatewayMetrics();
  // One reader of the events topic for the results and market data (events-feed.ts).
  const events = new GatewayEventsFeed({
    kafka,
    topic: config.eventsTopic,
    groupIdPrefix: `gateway.${config.instanceId}`,
    logger,
    batchRecordsMax: EVENTS_BATCH_RECORDS_MAX,
    maxWaitTimeMs: EVENTS_MAX_WAIT_MS,
  });
  const bus = new KafkaCommandBus({
    kafka,
    commandsTopic: config.commandsTopic,
    eventsTopic: config.eventsTopic,
    events,
    pendingMax: config.pendingCommandsMax,
    timeoutMs: config.commandTimeoutMs,
    logger,
    onLate: lateResultRecorder(stores.commands, config.redisPrefix),
    onRecordTimestamp: (ms) => metrics.onRecordTimestamp(ms),
    onAppendSeconds: (seconds) => metrics.commandAppend.observe(seconds),
  });
  await bus.start();
  const admin = kafka.admin();
  await admin.connect();
  const kafkaReady = async (): Promise<boolean> => (await admin.describeCluster()).brokers.length > 0;
  // Market data (gateway/market-data/): reads the events topic through the instance's one reader and publishes to
  // the other instances on Redis; without Redis there are no other instances, so nothing to publish.
  const marketData = ({ authenticate }: { authenticate: Authenticate }) => ({
    plugin: marketDataPlugin as never,
    options: {
      sql,
      logger,
      authenticate,
      ...(redis === null ? { publish: false } : { redis, redisPrefix: `${config.redisPrefix}md:` }),
      events,
    },
  });
  const webRoot = (await webPageBuilt(DEFAULT_WEB_ROOT)) ? DEFAULT_WEB_ROOT : undefined;
  if (webRoot === undefined)
    logger.info({ webRoot: DEFAULT_WEB_ROOT }, 'no built web page (npm run build:web): serving the API only');
  const { app } = await buildGateway({
    sql,
    stores,
    bus,
    options: config,
    logger,
    metrics,
    kafkaReady,
    marketData,
    webRoot,
  });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    void (async () => {
      await app.close();
      await bus.close();
      await admin.disconnect().catch(() => undefined);
      redis?.disconnect();
      await sql.end({ timeout: 5 });
      logger.info('stopped');
      process.exit(0);
    })().catch((err) => {
      logger.error({ err }, 'stop failed');
      process.exit(1);
    });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const address = await app.listen({ host: config.host, port: config.port });
  logger.info({ address, instanceId: config.instanceId, stores: stores.kind }, 'gateway listening');
}

main().catch((err) => {
  console.error(`gateway: fatal: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
