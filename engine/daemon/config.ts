// The daemon's settings, read from the environment and validated at start: a bad value stops the process
// with a message naming the variable. With no KAFKA_BROKERS the daemon runs on the embedded file log.

import { brokersVar, ConfigError, intVar, logLevelVar, nameVar, topicsVar } from '../../config/env.js';
import type { Env } from '../../config/env.js';

export { ConfigError };

export interface DaemonConfig {
  readonly kafkaBrokers: string[] | null;
  readonly dataDir: string;
  readonly engineId: string;
  readonly commandsTopic: string;
  readonly eventsTopic: string;
  readonly batchMax: number;
  readonly snapshotEveryCommands: number;
  readonly snapshotKeep: number;
  readonly logLevel: string;
}

/**
 * Node flags the daemon runs with (the `engine` npm script). A 64 MiB young generation: a batch's events (about a
 * megabyte per thousand commands) then die young instead of being promoted and collected by the old generation,
 * which measured about a third less CPU per command on the Kafka benchmark.
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];

export function readDaemonConfig(env: Env = process.env): DaemonConfig {
  return {
    kafkaBrokers: brokersVar(env),
    dataDir: env.DATA_DIR && env.DATA_DIR !== '' ? env.DATA_DIR : '.data',
    engineId: nameVar(env, 'ENGINE_ID', 'engine-0'),
    ...topicsVar(env),
    batchMax: intVar(env, 'ENGINE_BATCH_MAX', 1000, 1, 100_000),
    snapshotEveryCommands: intVar(env, 'ENGINE_SNAPSHOT_EVERY', 100_000, 1, 1_000_000_000),
    snapshotKeep: intVar(env, 'ENGINE_SNAPSHOT_KEEP', 3, 1, 100),
    logLevel: logLevelVar(env),
  };
}
