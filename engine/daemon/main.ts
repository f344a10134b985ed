// `npm run engine`: the engine daemon as a process. Kafka when KAFKA_BROKERS is set, else the embedded file log
// under DATA_DIR. SIGTERM/SIGINT stop it after the batch in hand; SIGKILL at any point is recovered on restart.
// With ENGINE_LEASE_REDIS_URL, instances with the same ENGINE_ID elect one writer; the others are hot standbys.

import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Redis } from 'ioredis';
import pino from 'pino';
import { kafkaClient } from '../../kafka/client.js';
import { ConfigError, readDaemonConfig } from './config.js';
import type { DaemonConfig } from './config.js';
import { EngineDaemon } from './daemon.js';
import type { StandbyOptions } from './daemon.js';
import { FileLog } from './file-log.js';
import { KafkaCommandLog } from './kafka-log.js';
import type { CommandLog } from './log.js';
import { SnapshotStore } from './snapshot-store.js';
import { StandbyError } from './standby-errors.js';
import { KafkaPublishedFollower } from './standby.js';
import { LeaseKeeper, WriterLease } from './writer-lease.js';
import type { LateRenewal } from './writer-lease.js';

async function openLog(config: DaemonConfig, logger: pino.Logger, lease: WriterLease | null): Promise<CommandLog> {
  if (config.kafkaBrokers === null) {
    logger.info({ dataDir: config.dataDir }, 'no KAFKA_BROKERS: using the embedded file log');
    return FileLog.open(path.join(config.dataDir, 'log'), {
      onTruncate: (file, droppedBytes, reason) =>
        logger.warn({ file, droppedBytes, reason }, 'cut a torn tail off the log'),
    });
  }
  const log = new KafkaCommandLog({
    brokers: config.kafkaBrokers,
    clientId: config.engineId,
    commandsTopic: config.commandsTopic,
    eventsTopic: config.eventsTopic,
    groupIdPrefix: `${config.engineId}.engine`,
    logger,
    mayWrite: lease === null ? undefined : () => lease.holds(),
  });
  await log.connect();
  return log;
}

/** The writer lease of this engine id, or null without ENGINE_LEASE_REDIS_URL (a single engine). */
function openLease(config: DaemonConfig): { lease: WriterLease; redis: Redis } | null {
  if (config.leaseRedisUrl === null) return null;
  // Commands fail fast while Redis is away (no offline queue): a renewal must not wait past the lease.
  const redis = new Redis(config.leaseRedisUrl, {
    maxRetriesPerRequest: 1,
    connectTimeout: config.leaseMs,
    commandTimeout: config.leaseMs,
    enableOfflineQueue: false,
  });
  const lease = new WriterLease({
    redis,
    key: `engine-lease:${config.engineId}`,
    token: randomUUID(),
    leaseMs: config.leaseMs,
  });
  return { lease, redis };
}

function standbyOptions(config: DaemonConfig, lease: WriterLease, logger: pino.Logger): StandbyOptions {
  const brokers = config.kafkaBrokers ?? [];
  return {
    follower: new KafkaPublishedFollower({
      kafka: kafkaClient(brokers, `${config.engineId}-standby`, logger),
      eventsTopic: config.eventsTopic,
      groupIdPrefix: `${config.engineId}.standby`,
      batchRecordsMax: config.batchMax,
    }),
    election: new LeaseKeeper(
      lease,
      (err) => logger.warn({ err }, 'cannot reach the lease store'),
      (late) => logger.warn(roundLate(late), 'lease renewal late: the event loop was busy or starved'),
    ),
    faultOffset: config.standbyFaultOffset,
  };
}

const roundLate = (late: LateRenewal): Record<string, number> =>
  Object.fromEntries(Object.entries(late).map(([k, v]) => [k, Math.round(v)]));

export async function main(): Promise<void> {
  // performance.now() counts from process start: this is the process start and module load (tsx included).
  const moduleLoadMs = performance.now();
  let config: DaemonConfig;
  try {
    config = readDaemonConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`engine: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const logger = pino({ level: config.logLevel, base: { service: 'engine', engineId: config.engineId } });
  // Signals are taken from the first moment: a stop asked for during start-up happens once the daemon exists.
  let daemon: EngineDaemon | null = null;
  let stopAsked = false;
  const stopDaemon = (d: EngineDaemon): void => void d.stop().catch((err) => logger.error({ err }, 'stop failed'));
  const stop = (signal: string): void => {
    logger.info({ signal }, 'stopping');
    stopAsked = true;
    if (daemon !== null) stopDaemon(daemon);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const leased = openLease(config);
  leased?.redis.on('error', (err) => logger.debug({ err }, 'lease store connection'));
  const openStartedMs = performance.now();
  const log = await openLog(config, logger, leased?.lease ?? null);
  // Start-up phases (a cold restart's breakdown; 'engine daemon recovered' and 'caught up' log the rest).
  logger.info(
    { moduleLoadMs: Math.round(moduleLoadMs), logOpenMs: Math.round(performance.now() - openStartedMs) },
    'engine starting',
  );
  const snapshots = new SnapshotStore({
    dir: path.join(config.dataDir, 'snapshots', config.engineId),
    keep: config.snapshotKeep,
    onSkip: (file, reason) => logger.warn({ file, reason }, 'skipped a snapshot that does not verify'),
  });
  daemon = new EngineDaemon({
    log,
    snapshots,
    logger,
    batchMax: config.batchMax,
    snapshotEveryCommands: config.snapshotEveryCommands,
    standby: leased === null ? undefined : standbyOptions(config, leased.lease, logger),
  });
  if (stopAsked) stopDaemon(daemon);
  try {
    await daemon.run();
  } catch (err) {
    // ENGINE_STANDBY_DIVERGED, ENGINE_LEASE_LOST: one log line with the code, for alerting.
    if (err instanceof StandbyError) logger.fatal({ code: err.code, err }, 'engine stopped: %s', err.code);
    throw err;
  } finally {
    if (log instanceof FileLog) await log.close();
    leased?.redis.disconnect();
  }
  logger.info({ appliedOffset: daemon.appliedOffset, eventSeq: daemon.engine.eventSeq }, 'stopped');
}

main()
  // Client libraries may keep timers or sockets after a clean stop; the work is flushed, so end the process.
  .then(() => process.exit(0))
  .catch((err) => {
    console.error('engine: fatal', err);
    process.exit(1);
  });
