// The chain service's settings from the environment, read with the shared readers of config/env.ts and validated
// before anything connects: a bad value is named at once (ConfigError).

import {
  hostVar,
  intVar,
  logLevelVar,
  pathVar,
  requiredBrokersVar,
  requiredPostgresUrl,
  topicsVar,
} from '../config/env.js';
import type { Env } from '../config/env.js';

export interface ChainSettings {
  /** The chain's JSON file (chain/config.ts validates its content). */
  readonly configPath: string;
  readonly databaseUrl: string;
  readonly kafkaBrokers: string[];
  readonly commandsTopic: string;
  readonly eventsTopic: string;
  readonly keystorePath: string;
  readonly statusHost: string;
  readonly statusPort: number;
  readonly logLevel: string;
}

export function readChainSettings(env: Env): ChainSettings {
  return {
    configPath: pathVar(env, 'CHAIN_CONFIG', null),
    databaseUrl: requiredPostgresUrl(env, 'DATABASE_URL'),
    kafkaBrokers: requiredBrokersVar(env),
    ...topicsVar(env),
    keystorePath: pathVar(env, 'KEYSTORE_PATH', 'keystore.json'),
    statusHost: hostVar(env, 'CHAIN_STATUS_HOST', '127.0.0.1'),
    statusPort: intVar(env, 'CHAIN_STATUS_PORT', 9464, 0, 65535),
    logLevel: logLevelVar(env),
  };
}
