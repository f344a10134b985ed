// One config per chain, a JSON file validated at start: every bad field is named in the error
// (CHAIN_CONFIG_INVALID with `field`). Amounts are decimal strings of base units (JSON numbers lose precision).
// Token decimals and symbols are then checked against the contracts (erc20.ts checkTokens).

import { readFile } from 'node:fs/promises';
import { getAddress, isAddress } from 'ethers';
import { ChainError } from './errors.js';

export interface TokenConfig {
  /** The engine's asset id this token is credited to and withdrawn from. */
  readonly assetId: number;
  readonly symbol: string;
  /** EIP-55 checksummed. */
  readonly address: string;
  readonly decimals: number;
  /** A deposit address holding at least this many base units is swept to the hot wallet. */
  readonly sweepThreshold: bigint;
  /** Smallest withdrawal in base units. */
  readonly withdrawalMin: bigint;
}

export interface ChainConfig {
  readonly name: string;
  readonly chainId: number;
  readonly rpcUrl: string;
  /** A deposit or withdrawal counts once its block has this many blocks on top, itself included (1 = mined). */
  readonly confirmations: number;
  readonly pollIntervalMs: number;
  /** First block the watcher reads when it has no cursor yet (the block the deposit addresses went live). */
  readonly startBlock: number;
  /** Blocks per eth_getLogs call. */
  readonly logBlockRangeMax: number;
  /** How many recent block hashes are remembered for reorg detection; at least confirmations + 1. */
  readonly reorgWindowBlocks: number;
  readonly tokens: readonly TokenConfig[];
  readonly sweep: { readonly enabled: boolean; readonly gasLimitMarginPct: number };
  readonly withdrawals: {
    /** A broadcast transaction unmined after this long is replaced at the same nonce with higher fees. */
    readonly stuckAfterMs: number;
    /** Fee increase of a replacement; nodes require at least 10. */
    readonly feeBumpPct: number;
    /** Never pay more than this per gas, in wei: a fee spike leaves withdrawals waiting instead. */
    readonly maxFeePerGasCapWei: bigint;
    /** Withdrawals signed but not yet confirmed, at most. */
    readonly inFlightMax: number;
    readonly gasLimitMarginPct: number;
  };
}

type Obj = Record<string, unknown>;

function fail(field: string, what: string): never {
  throw new ChainError('CHAIN_CONFIG_INVALID', `${field}: ${what}`, field);
}

function obj(v: unknown, field: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(field, 'must be an object');
  return v as Obj;
}

function int(o: Obj, key: string, field: string, range: { min: number; max: number; dflt?: number }): number {
  const v = o[key] ?? range.dflt;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) fail(`${field}.${key}`, 'must be an integer');
  if (v < range.min || v > range.max) fail(`${field}.${key}`, `must be in [${range.min}, ${range.max}]`);
  return v;
}

function str(o: Obj, key: string, field: string, re?: RegExp): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0) fail(`${field}.${key}`, 'must be a non-empty string');
  if (re !== undefined && !re.test(v)) fail(`${field}.${key}`, `must match ${re}`);
  return v;
}

function units(o: Obj, key: string, field: string, dflt?: bigint): bigint {
  const v = o[key];
  if (v === undefined && dflt !== undefined) return dflt;
  if (typeof v !== 'string' || !/^[0-9]{1,78}$/.test(v)) fail(`${field}.${key}`, 'must be a decimal string of base units');
  const n = BigInt(v);
  if (n >= 1n << 256n) fail(`${field}.${key}`, 'exceeds uint256');
  return n;
}

function checkKeys(o: Obj, field: string, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) fail(`${field}.${k}`, 'unknown field (a typo?)');
}

const TOKEN_KEYS = ['assetId', 'symbol', 'address', 'decimals', 'sweepThreshold', 'withdrawalMin'] as const;

function parseToken(v: unknown, field: string): TokenConfig {
  const o = obj(v, field);
  checkKeys(o, field, TOKEN_KEYS);
  const address = str(o, 'address', field);
  // A mixed-case address must carry a valid EIP-55 checksum: a typo in a token address would lose funds.
  if (!isAddress(address)) fail(`${field}.address`, 'not an address, or a bad EIP-55 checksum');
  return {
    assetId: int(o, 'assetId', field, { min: 0, max: 0xffff }),
    symbol: str(o, 'symbol', field, /^[A-Za-z0-9.\-_]{1,16}$/),
    address: getAddress(address),
    decimals: int(o, 'decimals', field, { min: 0, max: 36 }),
    sweepThreshold: units(o, 'sweepThreshold', field),
    withdrawalMin: units(o, 'withdrawalMin', field, 1n),
  };
}

export function parseChainConfig(v: unknown): ChainConfig {
  const o = obj(v, 'config');
  checkKeys(o, 'config', ['name', 'chainId', 'rpcUrl', 'confirmations', 'pollIntervalMs', 'startBlock', 'logBlockRangeMax', 'reorgWindowBlocks', 'tokens', 'sweep', 'withdrawals']);
  const rpcUrl = str(o, 'rpcUrl', 'config', /^(https?|wss?):\/\//);
  const confirmations = int(o, 'confirmations', 'config', { min: 1, max: 1000 });
  if (!Array.isArray(o.tokens) || o.tokens.length === 0) fail('config.tokens', 'must be a non-empty array');
  const tokens = o.tokens.map((t, i) => parseToken(t, `config.tokens[${i}]`));
  uniqueBy(tokens, (t) => t.address, 'address');
  uniqueBy(tokens, (t) => String(t.assetId), 'assetId');
  const sweep = obj(o.sweep ?? {}, 'config.sweep');
  checkKeys(sweep, 'config.sweep', ['enabled', 'gasLimitMarginPct']);
  if (sweep.enabled !== undefined && typeof sweep.enabled !== 'boolean') fail('config.sweep.enabled', 'must be a boolean');
  const w = obj(o.withdrawals ?? {}, 'config.withdrawals');
  checkKeys(w, 'config.withdrawals', ['stuckAfterMs', 'feeBumpPct', 'maxFeePerGasCapWei', 'inFlightMax', 'gasLimitMarginPct']);
  return {
    name: str(o, 'name', 'config', /^[a-z0-9-]{1,32}$/),
    chainId: int(o, 'chainId', 'config', { min: 1, max: Number.MAX_SAFE_INTEGER }),
    rpcUrl,
    confirmations,
    pollIntervalMs: int(o, 'pollIntervalMs', 'config', { min: 10, max: 600_000, dflt: 4_000 }),
    startBlock: int(o, 'startBlock', 'config', { min: 0, max: Number.MAX_SAFE_INTEGER }),
    logBlockRangeMax: int(o, 'logBlockRangeMax', 'config', { min: 1, max: 10_000, dflt: 500 }),
    reorgWindowBlocks: int(o, 'reorgWindowBlocks', 'config', { min: confirmations + 1, max: 10_000, dflt: confirmations + 64 }),
    tokens,
    sweep: { enabled: sweep.enabled !== false, gasLimitMarginPct: int(sweep, 'gasLimitMarginPct', 'config.sweep', { min: 0, max: 100, dflt: 20 }) },
    withdrawals: {
      stuckAfterMs: int(w, 'stuckAfterMs', 'config.withdrawals', { min: 1_000, max: 86_400_000, dflt: 180_000 }),
      feeBumpPct: int(w, 'feeBumpPct', 'config.withdrawals', { min: 10, max: 200, dflt: 20 }),
      maxFeePerGasCapWei: units(w, 'maxFeePerGasCapWei', 'config.withdrawals', 500_000_000_000n),
      inFlightMax: int(w, 'inFlightMax', 'config.withdrawals', { min: 1, max: 1_000, dflt: 64 }),
      gasLimitMarginPct: int(w, 'gasLimitMarginPct', 'config.withdrawals', { min: 0, max: 100, dflt: 20 }),
    },
  };
}

function uniqueBy<T>(xs: readonly T[], key: (x: T) => string, name: string): void {
  const seen = new Set<string>();
  xs.forEach((x, i) => {
    const k = key(x).toLowerCase();
    if (seen.has(k)) fail(`config.tokens[${i}].${name}`, `duplicate ${name}`);
    seen.add(k);
  });
}

export async function loadChainConfig(path: string): Promise<ChainConfig> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new ChainError('CHAIN_CONFIG_INVALID', `${path}: cannot read JSON: ${(err as Error).message}`, 'config');
  }
  return parseChainConfig(json);
}

export function tokenByAsset(config: ChainConfig, assetId: number): TokenConfig | undefined {
  return config.tokens.find((t) => t.assetId === assetId);
}
