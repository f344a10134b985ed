// Settings of the embedded exchange (`npm start`), from the environment, validated at start: a bad value stops the
// process with a message naming the variable. The embedded mode runs every component in this process on local
// stand-ins; variables that point at real infrastructure belong to the separate services (npm run engine,
// persistence, chain, gateway) and are refused here rather than half-used.

import { ConfigError, boolVar, intVar, logLevelVar, postgresUrlVar } from '../config/env.js';
import type { Env, LogLevel } from '../config/env.js';
import { readGatewayTuning } from '../gateway/config.js';
import type { GatewayTuning } from '../gateway/config.js';

export { ConfigError };

export interface EmbeddedConfig {
  readonly dataDir: string;
  /** External PostgreSQL instead of the embedded one (e.g. tests, or a developer's own server). */
  readonly databaseUrl: string | null;
  /** Loopback port of the embedded PostgreSQL; 0 = any free port. */
  readonly pgPort: number;
  /** Loopback port of the devnet's JSON-RPC; 0 = any free port. */
  readonly devnetPort: number;
  readonly devnetBlockTimeSec: number;
  /** Blocks (incl. the transaction's own) before a devnet deposit is credited. */
  readonly devnetConfirmations: number;
  readonly gatewayHost: string;
  readonly gatewayPort: number;
  /** Run the gateway in the process (when it can: see exchange/gateway-embedded.ts). */
  readonly gateway: boolean;
  /** The gateway's GATEWAY_* settings, read as the gateway service reads them (gateway/config.ts). */
  readonly gatewayTuning: GatewayTuning;
  readonly logLevel: LogLevel;
}

/** Variables of the separate services that the embedded mode cannot honour. */
const SERVICE_ONLY = [
  'KAFKA_BROKERS',
  'CHAIN_CONFIG',
  'KEYSTORE_PATH',
  'KEYSTORE_PASSPHRASE',
  'KEYSTORE_PASSPHRASE_FILE',
] as const;

export function readEmbeddedConfig(env: Env = process.env): EmbeddedConfig {
  for (const name of SERVICE_ONLY) {
    if (env[name] !== undefined && env[name] !== '') {
      throw new ConfigError(
        `${name} is set, but npm start runs the embedded exchange (file log, embedded PostgreSQL, local devnet, generated keystore). Unset it, or run the services separately: npm run engine | persistence | chain | gateway (see docs/running.md)`,
      );
    }
  }
  const databaseUrl = postgresUrlVar(env, 'DATABASE_URL', { required: false, meaning: 'the embedded PostgreSQL' });
  const logLevel = logLevelVar(env);
  const gatewayHost = env.GATEWAY_HOST ?? '127.0.0.1';
  if (!/^[A-Za-z0-9.:-]{1,255}$/.test(gatewayHost))
    throw new ConfigError(`GATEWAY_HOST must be a host name or address, got "${gatewayHost}"`);
  const dataDir = env.DATA_DIR !== undefined && env.DATA_DIR !== '' ? env.DATA_DIR : '.data';
  return {
    dataDir,
    databaseUrl,
    pgPort: intVar(env, 'EMBEDDED_PG_PORT', 0, 0, 65535),
    devnetPort: intVar(env, 'DEVNET_PORT', 8545, 0, 65535),
    devnetBlockTimeSec: intVar(env, 'DEVNET_BLOCK_TIME_SEC', 1, 1, 60),
    devnetConfirmations: intVar(env, 'DEVNET_CONFIRMATIONS', 2, 1, 100),
    gatewayHost,
    gatewayPort: intVar(env, 'GATEWAY_PORT', 8080, 0, 65535),
    gateway: boolVar(env, 'EMBEDDED_GATEWAY', true),
    // DEVNET: a new withdrawal address is usable at once, so the demo can withdraw (24 h in front of a real chain).
    gatewayTuning: readGatewayTuning(env, 0),
    logLevel,
  };
}
