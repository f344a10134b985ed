// `npm run engine`: the engine daemon as a process. Kafka when KAFKA_BROKERS is set, else the embedded file log
// under DATA_DIR. SIGTERM/SIGINT stop it after the batch in hand; SIGKILL at any point is recovered on restart.

import path from 'node:path';
import pino from 'pino';
import { ConfigError, readDaemonConfig } from './config.js';
import type { DaemonConfig } from './config.js';
import { EngineDaemon } from './daemon.js';
import { FileLog } from './file-log.js';
import { KafkaCommandLog } from './kafka-log.js';
import type { CommandLog } from './log.js';
import { SnapshotStore } from './snapshot-store.js';

async function openLog(config: DaemonConfig, logger: pino.Logger): Promise<CommandLog> {
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
  });
  await log.connect();
  return log;
}

export async function main(): Promise<void> {
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
  const log = await openLog(config, logger);
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
  });
  if (stopAsked) stopDaemon(daemon);
  try {
    await daemon.run();
  } finally {
    if (log instanceof FileLog) await log.close();
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
