// The daemon's settings, read from the environment and validated at start: a bad value stops the process
// with a message naming the variable. With no KAFKA_BROKERS the daemon runs on the embedded file log.

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

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function intVar(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return value;
}

function nameVar(env: Env, name: string, fallback: string): string {
  const value = env[name] ?? fallback;
  if (!/^[A-Za-z0-9._-]{1,200}$/.test(value)) throw new ConfigError(`${name} must be 1-200 characters of A-Z a-z 0-9 . _ -, got "${value}"`);
  return value;
}

function brokersVar(env: Env): string[] | null {
  const raw = env.KAFKA_BROKERS;
  if (raw === undefined || raw.trim() === '') return null;
  const brokers = raw.split(',').map((b) => b.trim());
  for (const b of brokers) if (!/^[A-Za-z0-9.-]+:\d{1,5}$/.test(b)) throw new ConfigError(`KAFKA_BROKERS must be a comma-separated list of host:port, got "${raw}"`);
  return brokers;
}

export function readDaemonConfig(env: Env = process.env): DaemonConfig {
  return {
    kafkaBrokers: brokersVar(env),
    dataDir: env.DATA_DIR && env.DATA_DIR !== '' ? env.DATA_DIR : '.data',
    engineId: nameVar(env, 'ENGINE_ID', 'engine-0'),
    commandsTopic: nameVar(env, 'KAFKA_COMMANDS_TOPIC', 'exchange.commands.v1'),
    eventsTopic: nameVar(env, 'KAFKA_EVENTS_TOPIC', 'exchange.events.v1'),
    batchMax: intVar(env, 'ENGINE_BATCH_MAX', 1000, 1, 100_000),
    snapshotEveryCommands: intVar(env, 'ENGINE_SNAPSHOT_EVERY', 100_000, 1, 1_000_000_000),
    snapshotKeep: intVar(env, 'ENGINE_SNAPSHOT_KEEP', 3, 1, 100),
    logLevel: nameVar(env, 'LOG_LEVEL', 'info'),
  };
}
