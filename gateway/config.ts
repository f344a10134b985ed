// The gateway's settings, read from the environment and validated at start: a bad value stops the process with a
// message naming the variable. `GatewayOptions` is the part buildGateway uses (tests construct it directly).

import os from 'node:os';
import { parseXpub } from '../chain/hd.js';
import { DEFAULT_GUARD_OPTIONS } from './auth/guard.js';
import type { GuardOptions } from './auth/guard.js';

import {
  boolVar,
  ConfigError,
  hostVar,
  intVar,
  logLevelVar,
  nameVar as plainNameVar,
  redisUrlVar,
  requiredBrokersVar,
  requiredPostgresUrl,
  topicsVar,
} from '../config/env.js';
import type { Env } from '../config/env.js';

export { ConfigError };

/** What the HTTP layer needs; main.ts adds where the services are. */
export interface GatewayOptions {
  /** AES-256-GCM key for API-key secrets at rest (HMAC needs the secret server-side). 32 bytes. */
  readonly secretKey: Buffer;
  /** Extended public key of m/44'/60'/0'/0: deposit addresses are its non-hardened children. */
  readonly depositXpub: string;
  readonly redisPrefix: string;
  readonly commandTimeoutMs: number;
  readonly sessionTtlMs: number;
  /** A signed request's timestamp may be at most this far from the gateway's clock, either way. */
  readonly signatureWindowMs: number;
  readonly rateLimitIpPerMin: number;
  readonly rateLimitKeyPerMin: number;
  readonly bodyLimitBytes: number;
  /** scrypt N (CPU/memory cost), a power of two. */
  readonly scryptCost: number;
  readonly apiKeysPerUserMax: number;
  readonly trustProxy: boolean;
  /** Back-off of failed logins and one-time codes (auth/guard.ts). */
  readonly authGuard: GuardOptions;
  /** A new withdrawal address is usable this long after it was added (the time lock). */
  readonly withdrawalAddressDelayMs: number;
  readonly withdrawalAddressesPerUserMax: number;
}

export interface GatewayConfig extends GatewayOptions {
  readonly host: string;
  readonly port: number;
  readonly databaseUrl: string;
  /** Null when REDIS_URL is not set: in-process stores, for a single gateway instance (gateway/stores/). */
  readonly redisUrl: string | null;
  readonly kafkaBrokers: string[];
  readonly commandsTopic: string;
  readonly eventsTopic: string;
  readonly instanceId: string;
  readonly pendingCommandsMax: number;
  readonly logLevel: string;
}

export const DEFAULT_OPTIONS = {
  redisPrefix: 'gw:',
  commandTimeoutMs: 5000,
  sessionTtlMs: 24 * 3600 * 1000,
  signatureWindowMs: 30_000,
  rateLimitIpPerMin: 1200,
  rateLimitKeyPerMin: 6000,
  bodyLimitBytes: 16 * 1024,
  scryptCost: 1 << 15,
  apiKeysPerUserMax: 20,
  trustProxy: false,
  authGuard: DEFAULT_GUARD_OPTIONS,
  withdrawalAddressDelayMs: 24 * 3600_000,
  withdrawalAddressesPerUserMax: 100,
} as const;

/** Gateway names may carry a colon (e.g. an instance named host:port). */
const nameVar = (env: Env, name: string, fallback: string): string =>
  plainNameVar(env, name, fallback, { colon: true });

function required(env: Env, name: string): string {
  const value = env[name];
  if (value === undefined || value === '') throw new ConfigError(`${name} is required`);
  return value;
}

export function secretKeyVar(env: Env): Buffer {
  const raw = required(env, 'GATEWAY_SECRET_KEY');
  // The value is a secret: never echoed in the message.
  if (!/^[0-9a-fA-F]{64}$/.test(raw))
    throw new ConfigError(
      'GATEWAY_SECRET_KEY must be 64 hex characters (32 random bytes, e.g. `openssl rand -hex 32`)',
    );
  return Buffer.from(raw, 'hex');
}

function xpubVar(env: Env): string {
  const raw = required(env, 'DEPOSIT_XPUB');
  try {
    parseXpub(raw);
  } catch (err) {
    throw new ConfigError(
      `DEPOSIT_XPUB must be the extended public key of m/44'/60'/0'/0 (npm run keys:show prints it): ${(err as Error).message}`,
    );
  }
  return raw;
}

export function readGatewayConfig(env: Env = process.env): GatewayConfig {
  const databaseUrl = requiredPostgresUrl(env, 'DATABASE_URL');
  const redisUrl = redisUrlVar(env, 'REDIS_URL', 'in-process stores, one instance only');
  const kafkaBrokers = requiredBrokersVar(env);
  const host = hostVar(env, 'GATEWAY_HOST', '0.0.0.0');
  return {
    host,
    port: intVar(env, 'GATEWAY_PORT', 8080, 0, 65535),
    databaseUrl,
    redisUrl,
    kafkaBrokers,
    ...topicsVar(env),
    instanceId: nameVar(
      env,
      'GATEWAY_ID',
      `${os
        .hostname()
        .replace(/[^A-Za-z0-9.-]/g, '-')
        .slice(0, 100)}-${process.pid}`,
    ),
    pendingCommandsMax: intVar(env, 'GATEWAY_PENDING_COMMANDS_MAX', 10_000, 1, 1_000_000),
    logLevel: logLevelVar(env),
    secretKey: secretKeyVar(env),
    depositXpub: xpubVar(env),
    redisPrefix: nameVar(env, 'REDIS_PREFIX', DEFAULT_OPTIONS.redisPrefix),
    ...readGatewayTuning(env, DEFAULT_OPTIONS.withdrawalAddressDelayMs),
  };
}

/** The gateway's settings that `npm start`'s embedded gateway reads too (rates, limits, timeouts, log-in back-off). */
export type GatewayTuning = Pick<
  GatewayOptions,
  | 'commandTimeoutMs'
  | 'sessionTtlMs'
  | 'signatureWindowMs'
  | 'rateLimitIpPerMin'
  | 'rateLimitKeyPerMin'
  | 'bodyLimitBytes'
  | 'scryptCost'
  | 'apiKeysPerUserMax'
  | 'trustProxy'
  | 'withdrawalAddressDelayMs'
  | 'withdrawalAddressesPerUserMax'
  | 'authGuard'
>;

/** One reader for both: the service and the embedded exchange differ only in the address time lock's default. */
export function readGatewayTuning(env: Env, withdrawalAddressDelayMsDefault: number): GatewayTuning {
  return {
    commandTimeoutMs: intVar(env, 'GATEWAY_COMMAND_TIMEOUT_MS', DEFAULT_OPTIONS.commandTimeoutMs, 100, 120_000),
    sessionTtlMs:
      intVar(env, 'GATEWAY_SESSION_TTL_SECONDS', DEFAULT_OPTIONS.sessionTtlMs / 1000, 60, 30 * 24 * 3600) * 1000,
    signatureWindowMs: intVar(env, 'GATEWAY_SIGNATURE_WINDOW_MS', DEFAULT_OPTIONS.signatureWindowMs, 1000, 600_000),
    rateLimitIpPerMin: intVar(env, 'GATEWAY_RATE_LIMIT_IP_PER_MIN', DEFAULT_OPTIONS.rateLimitIpPerMin, 1, 10_000_000),
    rateLimitKeyPerMin: intVar(
      env,
      'GATEWAY_RATE_LIMIT_KEY_PER_MIN',
      DEFAULT_OPTIONS.rateLimitKeyPerMin,
      1,
      10_000_000,
    ),
    bodyLimitBytes: intVar(env, 'GATEWAY_BODY_LIMIT_BYTES', DEFAULT_OPTIONS.bodyLimitBytes, 1024, 1024 * 1024),
    scryptCost: powerOfTwoVar(env, 'GATEWAY_SCRYPT_COST', DEFAULT_OPTIONS.scryptCost),
    apiKeysPerUserMax: intVar(env, 'GATEWAY_API_KEYS_PER_USER_MAX', DEFAULT_OPTIONS.apiKeysPerUserMax, 1, 1000),
    trustProxy: boolVar(env, 'GATEWAY_TRUST_PROXY', DEFAULT_OPTIONS.trustProxy),
    withdrawalAddressDelayMs:
      intVar(env, 'GATEWAY_WITHDRAWAL_ADDRESS_DELAY_SECONDS', withdrawalAddressDelayMsDefault / 1000, 0, 30 * 86_400) *
      1000,
    withdrawalAddressesPerUserMax: DEFAULT_OPTIONS.withdrawalAddressesPerUserMax,
    authGuard: {
      ...DEFAULT_GUARD_OPTIONS,
      accountFailuresFree: intVar(
        env,
        'GATEWAY_LOGIN_FAILURES_FREE',
        DEFAULT_GUARD_OPTIONS.accountFailuresFree,
        1,
        1000,
      ),
      ipFailuresFree: intVar(env, 'GATEWAY_LOGIN_IP_FAILURES_FREE', DEFAULT_GUARD_OPTIONS.ipFailuresFree, 1, 100_000),
      lockMaxMs: intVar(env, 'GATEWAY_AUTH_LOCK_MAX_SECONDS', DEFAULT_GUARD_OPTIONS.lockMaxMs / 1000, 1, 86_400) * 1000,
    },
  };
}

export function powerOfTwoVar(env: Env, name: string, fallback: number): number {
  const value = intVar(env, name, fallback, 1024, 1 << 20);
  if ((value & (value - 1)) !== 0)
    throw new ConfigError(`${name} must be a power of two from 1024 to 1048576, got "${value}"`);
  return value;
}
