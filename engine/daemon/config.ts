// The daemon's settings, read from the environment and validated at start: a bad value stops the process
// with a message naming the variable. With no KAFKA_BROKERS the daemon runs on the embedded file log.

import { ConfigError, brokersVar, intVar, logLevelVar, nameVar, redisUrlVar, topicsVar } from '../../config/env.js';
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
  /** Redis holding the writer lease; null: no election, this process is the only engine (no standby). */
  readonly leaseRedisUrl: string | null;
  /** How long a lease lasts without renewal: failover takes about this long after a writer dies. */
  readonly leaseMs: number;
  /** Test only: a standby applies the command at this offset as malformed (null: never). */
  readonly standbyFaultOffset: number | null;
}

/**
 * Node flags the daemon runs with (the `engine` npm script, the Docker image, compose). A 64 MiB young generation:
 * a batch's events (about a megabyte per thousand commands) then die young instead of being promoted and collected
 * by the old generation, which measured about a third less CPU per command on the Kafka benchmark. At that size
 * from the start (--min-semi-space-size): V8 otherwise starts it at 1 MiB and doubles it scavenge by scavenge, and a
 * restart's restore of a million orders, all of them long-lived, went through 24 scavenges instead of 7
 * (bench/README.md, "Failover and restart").
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64', '--min-semi-space-size=64'];

/**
 * ENGINE_LEASE_MS's default. Failover waits for the lease to expire, so it takes about this long; and a writer
 * whose event loop stalls for most of a lease loses it (a renewal goes out every quarter lease), so the lease must
 * outlast the longest stall by a margin. docs/running.md gives the figures behind 1,500 ms.
 */
export const ENGINE_LEASE_MS_DEFAULT = 1_500;

export function readDaemonConfig(env: Env = process.env): DaemonConfig {
  const kafkaBrokers = brokersVar(env);
  const leaseRedisUrl = redisUrlVar(env, 'ENGINE_LEASE_REDIS_URL', 'one engine, no standby');
  if (leaseRedisUrl !== null && kafkaBrokers === null)
    throw new ConfigError('ENGINE_LEASE_REDIS_URL needs KAFKA_BROKERS: standby engines follow the events topic');
  const faultOffset = intVar(env, 'ENGINE_TEST_STANDBY_FAULT_OFFSET', -1, -1, Number.MAX_SAFE_INTEGER);
  return {
    kafkaBrokers,
    leaseRedisUrl,
    leaseMs: intVar(env, 'ENGINE_LEASE_MS', ENGINE_LEASE_MS_DEFAULT, 200, 60_000),
    standbyFaultOffset: faultOffset < 0 ? null : faultOffset,
    dataDir: env.DATA_DIR && env.DATA_DIR !== '' ? env.DATA_DIR : '.data',
    engineId: nameVar(env, 'ENGINE_ID', 'engine-0'),
    ...topicsVar(env),
    batchMax: intVar(env, 'ENGINE_BATCH_MAX', 1000, 1, 100_000),
    snapshotEveryCommands: intVar(env, 'ENGINE_SNAPSHOT_EVERY', 100_000, 1, 1_000_000_000),
    snapshotKeep: intVar(env, 'ENGINE_SNAPSHOT_KEEP', 3, 1, 100),
    logLevel: logLevelVar(env),
  };
}
