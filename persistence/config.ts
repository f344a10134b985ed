// The consumer's and reconcile's settings from the environment, validated at start: a bad value stops the
// process with a message naming the variable.

import {
  ConfigError,
  intVar,
  logLevelVar,
  nameVar,
  requiredBrokersVar,
  requiredPostgresUrl,
  topicsVar,
} from '../config/env.js';
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
  const databaseUrl = requiredPostgresUrl(env, 'DATABASE_URL');
  const kafkaBrokers = requiredBrokersVar(env);
  return {
    databaseUrl,
    kafkaBrokers,
    ...topicsVar(env),
    groupId: nameVar(env, 'PERSISTENCE_GROUP_ID', 'persistence'),
    batchRecordsMax: intVar(env, 'PERSISTENCE_BATCH_MAX', 2000, 1, 50_000),
    logLevel: logLevelVar(env),
    snapshotDir: env.SNAPSHOT_DIR !== undefined && env.SNAPSHOT_DIR !== '' ? env.SNAPSHOT_DIR : null,
  };
}
