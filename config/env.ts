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
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return value;
}

/** An identifier (topic, group or instance name): 1-200 of A-Z a-z 0-9 . _ - (and `:` when `colon`). */
export function nameVar(env: Env, name: string, fallback: string, opts: { colon?: boolean } = {}): string {
  const value = env[name] ?? fallback;
  const ok = opts.colon === true ? /^[A-Za-z0-9._:-]{1,200}$/ : /^[A-Za-z0-9._-]{1,200}$/;
  if (!ok.test(value)) throw new ConfigError(`${name} must be 1-200 characters of A-Z a-z 0-9 . _ ${opts.colon === true ? ': ' : ''}-, got "${value}"`);
  return value;
}

export function boolVar(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

/** KAFKA_BROKERS as host:port entries; null when unset or blank. */
export function brokersVar(env: Env): string[] | null {
  const raw = env.KAFKA_BROKERS;
  if (raw === undefined || raw.trim() === '') return null;
  const brokers = raw.split(',').map((b) => b.trim());
  for (const b of brokers) if (!/^[A-Za-z0-9.-]+:\d{1,5}$/.test(b)) throw new ConfigError(`KAFKA_BROKERS must be a comma-separated list of host:port, got "${raw}"`);
  return brokers;
}
