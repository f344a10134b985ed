// The consumer's and reconcile's settings from the environment, validated at start: a bad value stops the
// process with a message naming the variable.

import { ConfigError, brokersVar, intVar, nameVar } from '../config/env.js';
import type { Env } from '../config/env.js';

export { ConfigError };

export interface PersistenceConfig {
  readonly databaseUrl: string;
  readonly kafkaBrokers: string[];
  readonly eventsTopic: string;
  readonly commandsTopic: string;
  readonly groupId: string;
  readonly batchRecordsMax: number;
  readonly logLevel: string;
  /** Engine snapshots to start reconcile's replay from (optional: without it, replay from the first command). */
  readonly snapshotDir: string | null;
}

export function readPersistenceConfig(env: Env = process.env): PersistenceConfig {
  const databaseUrl = env.DATABASE_URL ?? '';
  if (!/^postgres(ql)?:\/\//.test(databaseUrl)) throw new ConfigError('DATABASE_URL must be a postgres:// URL');
  const kafkaBrokers = brokersVar(env);
  if (kafkaBrokers === null) throw new ConfigError('KAFKA_BROKERS is required: a comma-separated list of host:port');
  return {
    databaseUrl,
    kafkaBrokers,
    eventsTopic: nameVar(env, 'KAFKA_EVENTS_TOPIC', 'exchange.events.v1'),
    commandsTopic: nameVar(env, 'KAFKA_COMMANDS_TOPIC', 'exchange.commands.v1'),
    groupId: nameVar(env, 'PERSISTENCE_GROUP_ID', 'persistence'),
    batchRecordsMax: intVar(env, 'PERSISTENCE_BATCH_MAX', 2000, 1, 50_000),
    logLevel: nameVar(env, 'LOG_LEVEL', 'info'),
    snapshotDir: env.SNAPSHOT_DIR !== undefined && env.SNAPSHOT_DIR !== '' ? env.SNAPSHOT_DIR : null,
  };
}
