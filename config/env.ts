// Reading settings from the environment, shared by every service's config reader: each bad value is refused at
// start with a ConfigError naming the variable and what it must be, never replaced by a default.

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export type Env = Record<string, string | undefined>;

export function intVar(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min || value > max)
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return value;
}

/** An identifier (topic, group or instance name): 1-200 of A-Z a-z 0-9 . _ - (and `:` when `colon`). */
export function nameVar(env: Env, name: string, fallback: string, opts: { colon?: boolean } = {}): string {
  const value = env[name] ?? fallback;
  const ok = opts.colon === true ? /^[A-Za-z0-9._:-]{1,200}$/ : /^[A-Za-z0-9._-]{1,200}$/;
  if (!ok.test(value))
    throw new ConfigError(
      `${name} must be 1-200 characters of A-Z a-z 0-9 . _ ${opts.colon === true ? ': ' : ''}-, got "${value}"`,
    );
  return value;
}

/** pino's levels. pino refuses any other name only when the logger is made, which is after the settings are read. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** LOG_LEVEL (default info), one of LOG_LEVELS: every service and the embedded exchange read it here. */
export function logLevelVar(env: Env): LogLevel {
  const value = env.LOG_LEVEL ?? 'info';
  const level = LOG_LEVELS.find((l) => l === value);
  if (level === undefined) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${value}"`);
  return level;
}

export function boolVar(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

/** A file path (or name): any non-blank value; whoever opens it names what is wrong with it. */
export function pathVar(env: Env, name: string, fallback: string | null): string {
  const value = env[name] === undefined || env[name] === '' ? fallback : env[name];
  if (value === null || value === undefined) throw new ConfigError(`${name} is required: a file path`);
  if (value.trim() !== value)
    throw new ConfigError(`${name} must be a file path without leading or trailing spaces, got "${value}"`);
  return value;
}

/** A host name or address to listen on. */
export function hostVar(env: Env, name: string, fallback: string): string {
  const value = env[name] ?? fallback;
  if (!/^[A-Za-z0-9.:-]{1,255}$/.test(value))
    throw new ConfigError(`${name} must be a host name or address, got "${value}"`);
  return value;
}

/** KAFKA_BROKERS as host:port entries; null when unset or blank. */
export function brokersVar(env: Env): string[] | null {
  const raw = env.KAFKA_BROKERS;
  if (raw === undefined || raw.trim() === '') return null;
  const brokers = raw.split(',').map((b) => b.trim());
  for (const b of brokers)
    if (!/^[A-Za-z0-9.-]+:\d{1,5}$/.test(b))
      throw new ConfigError(`KAFKA_BROKERS must be a comma-separated list of host:port, got "${raw}"`);
  return brokers;
}

/** KAFKA_BROKERS for a service that cannot run without Kafka. */
export function requiredBrokersVar(env: Env): string[] {
  const brokers = brokersVar(env);
  if (brokers === null) throw new ConfigError('KAFKA_BROKERS is required: a comma-separated list of host:port');
  return brokers;
}

/** The engine's two topics by default: one source for every service, the AsyncAPI document and the docs. */
export const DEFAULT_COMMANDS_TOPIC = 'exchange.commands.v1';
export const DEFAULT_EVENTS_TOPIC = 'exchange.events.v1';

/** KAFKA_COMMANDS_TOPIC and KAFKA_EVENTS_TOPIC, each a valid topic name, defaulting to the topics above. */
export function topicsVar(env: Env): { commandsTopic: string; eventsTopic: string } {
  return {
    commandsTopic: nameVar(env, 'KAFKA_COMMANDS_TOPIC', DEFAULT_COMMANDS_TOPIC),
    eventsTopic: nameVar(env, 'KAFKA_EVENTS_TOPIC', DEFAULT_EVENTS_TOPIC),
  };
}

/** A redis:// (or rediss://) URL, or null when unset; `meaning` says what no URL means. */
export function redisUrlVar(env: Env, name: string, meaning: string): string | null {
  const raw = env[name];
  if (raw === undefined || raw === '') return null;
  if (!/^rediss?:\/\/\S+$/.test(raw)) throw new ConfigError(`${name} must be a redis:// URL (or unset: ${meaning})`);
  return raw;
}

export const POSTGRES_URL = /^postgres(ql)?:\/\/\S+$/;

/**
 * A postgres:// URL (DATABASE_URL). `unset`: the message when it is missing and required, or null when the caller
 * has a use for no URL (npm start then runs its embedded PostgreSQL).
 */
export function postgresUrlVar(
  env: Env,
  name: string,
  unset: { required: true } | { required: false; meaning: string },
): string | null {
  const raw = env[name];
  if (raw === undefined || raw === '') {
    if (unset.required) throw new ConfigError(`${name} is required: a postgres:// URL`);
    return null;
  }
  if (!POSTGRES_URL.test(raw))
    throw new ConfigError(`${name} must be a postgres:// URL${unset.required ? '' : ` (or unset: ${unset.meaning})`}`);
  return raw;
}

/** A required postgres:// URL. */
export function requiredPostgresUrl(env: Env, name: string): string {
  const url = postgresUrlVar(env, name, { required: true });
  if (url === null) throw new ConfigError(`${name} is required`);
  return url;
}
