// The Kafka client every service builds on (kafkajs), with its log lines bridged to pino.

import { Kafka, logLevel } from 'kafkajs';
import type { LogEntry, logCreator } from 'kafkajs';
import type { Logger } from 'pino';

export function kafkaClient(brokers: string[], clientId: string, logger?: Logger): Kafka {
  const logging =
    logger === undefined ? { logLevel: logLevel.ERROR } : { logLevel: logLevel.WARN, logCreator: toPino(logger) };
  return new Kafka({ brokers, clientId, ...logging, retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 2000 } });
}

/**
 * kafkajs's log lines as pino records. kafkajs reports at ERROR every error response (Connection) and every
 * retry it is about to make, which is routine: those go to debug, since the caller gets the error if the retries
 * run out, and the service logs what it does about it. Other warnings and errors stay warnings.
 */
function toPino(logger: Logger): logCreator {
  const kafkaLogger = logger.child({ component: 'kafkajs' });
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const {
        message,
        timestamp: _timestamp,
        logger: _name,
        ...fields
      } = log as LogEntry['log'] & { logger?: unknown };
      const record = { namespace, ...fields };
      const routine = namespace === 'Connection' || 'retryCount' in fields;
      if ((level === logLevel.ERROR || level === logLevel.WARN) && !routine) kafkaLogger.warn(record, message);
      else if (level <= logLevel.INFO) kafkaLogger.debug(record, message);
      else kafkaLogger.trace(record, message);
    };
}
