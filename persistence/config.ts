// The consumer's and reconcile's settings from the environment, validated at start: a bad value stops the
// process with a message naming the variable.

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

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

export function readPersistenceConfig(env: Env = process.env): PersistenceConfig {
  const databaseUrl = env.DATABASE_URL ?? '';
  if (!/^postgres(ql)?:\/\//.test(databaseUrl)) throw new ConfigError('DATABASE_URL must be a postgres:// URL');
  const rawBrokers = env.KAFKA_BROKERS ?? '';
  const kafkaBrokers = rawBrokers.split(',').map((b) => b.trim()).filter((b) => b !== '');
  if (kafkaBrokers.length === 0 || kafkaBrokers.some((b) => !/^[A-Za-z0-9.-]+:\d{1,5}$/.test(b))) throw new ConfigError(`KAFKA_BROKERS must be a comma-separated list of host:port, got "${rawBrokers}"`);
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
