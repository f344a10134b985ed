// The persistence consumer as a process: events topic -> PostgreSQL. SIGTERM/SIGINT stop it after the batch in
// hand; SIGKILL at any point is harmless (the position commits with the rows). An event it cannot apply stops it
// with exit code 1 and a message naming the event.

import pino from 'pino';
import { kafkaClient } from '../kafka/client.js';
import { ConfigError, readPersistenceConfig } from './config.js';
import type { PersistenceConfig } from './config.js';
import { PersistenceConsumer } from './consumer.js';
import { connectPostgres } from './db.js';
import { KafkaEventSource } from './kafka-source.js';

async function main(): Promise<void> {
  let config: PersistenceConfig;
  try {
    config = readPersistenceConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`persistence: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const logger = pino({ level: config.logLevel, base: { service: 'persistence' } });
  // One connection: batches are sequential, and the staging tables live on it.
  const sql = connectPostgres(config.databaseUrl, { max: 1 });
  const source = new KafkaEventSource({
    kafka: kafkaClient(config.kafkaBrokers, config.groupId),
    topic: config.eventsTopic,
    groupId: config.groupId,
  });
  const consumer = new PersistenceConsumer({ sql, source, logger, batchRecordsMax: config.batchRecordsMax });
  const stop = (signal: string): void => {
    logger.info({ signal }, 'stopping');
    consumer.stop().catch((err) => logger.error({ err }, 'stop failed'));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const statsTimer = setInterval(
    () =>
      logger.info(
        { position: consumer.position, eventsWritten: consumer.eventsWritten, batches: consumer.batchesWritten },
        'progress',
      ),
    10_000,
  );
  statsTimer.unref();
  try {
    await consumer.run();
  } catch (err) {
    // The message names the event (seq, type, cmdId) for a ProjectionError.
    logger.fatal(
      { err, code: (err as { code?: unknown }).code, position: consumer.position },
      `persistence stopped: ${(err as Error).message}`,
    );
    await sql.end({ timeout: 5 }).catch(() => undefined);
    throw err;
  }
  await sql.end({ timeout: 5 });
  logger.info({ position: consumer.position, eventsWritten: consumer.eventsWritten }, 'stopped');
}

main()
  .then(() => process.exit(0))
  .catch((err) => {
    console.error(`persistence: fatal: ${(err as Error).message}`);
    process.exit(1);
  });
