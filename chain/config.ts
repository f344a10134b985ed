// One config per chain, a JSON file validated at start: every bad field is named in the error
// (CHAIN_CONFIG_INVALID with `field`). Amounts are decimal strings of base units (JSON numbers lose precision).
// Token decimals and symbols are then checked against the contracts (erc20.ts checkTokens).

import { readFile } from 'node:fs/promises';
import { ZeroAddress, getAddress, isAddress } from 'ethers';
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
  /** Hot wallet cap: above it (after in-flight and queued withdrawals) the excess moves to the cold address. Null: no cap. */
  readonly hotWalletCap: bigint | null;
  /** What a move to cold storage leaves in the hot wallet (default: the cap). */
  readonly hotWalletTarget: bigint | null;
  /** Below this (after in-flight withdrawals) the hot wallet raises HOT_WALLET_LOW: refill it from cold storage. */
  readonly hotWalletRefillBelow: bigint | null;
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
  /** Watch-only cold storage (no key here): where the hot wallet's excess above its cap goes. */
  readonly coldAddress: string | null;
  /** Every JSON-RPC call: answered within timeoutMs or retried, at most `attempts` times in all (chain/rpc.ts). */
  readonly rpc: { readonly timeoutMs: number; readonly attempts: number };
  /** A loop (deposits, sweeps, withdrawals) without progress for this long makes /ready answer 503. */
  readonly staleAfterMs: number;
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
  if (typeof v !== 'string' || !/^[0-9]{1,78}$/.test(v))
    fail(`${field}.${key}`, 'must be a decimal string of base units');
  const n = BigInt(v);
  if (n >= 1n << 256n) fail(`${field}.${key}`, 'exceeds uint256');
  return n;
}

function checkKeys(o: Obj, field: string, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) fail(`${field}.${k}`, 'unknown field (a typo?)');
}

const TOKEN_KEYS = [
  'assetId',
  'symbol',
  'address',
  'decimals',
  'sweepThreshold',
  'withdrawalMin',
  'hotWalletCap',
  'hotWalletTarget',
  'hotWalletRefillBelow',
] as const;

function optionalUnits(o: Obj, key: string, field: string): bigint | null {
  return o[key] === undefined ? null : units(o, key, field);
}

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
    ...hotWallet(o, field),
  };
}

function hotWallet(
  o: Obj,
  field: string,
): Pick<TokenConfig, 'hotWalletCap' | 'hotWalletTarget' | 'hotWalletRefillBelow'> {
  const cap = optionalUnits(o, 'hotWalletCap', field);
  const target = optionalUnits(o, 'hotWalletTarget', field);
  const refill = optionalUnits(o, 'hotWalletRefillBelow', field);
  if (target !== null && (cap === null || target > cap))
    fail(`${field}.hotWalletTarget`, 'needs hotWalletCap and must not exceed it');
  if (refill !== null && cap !== null && refill >= (target ?? cap))
    fail(
      `${field}.hotWalletRefillBelow`,
      'must be below what a move to cold storage leaves (hotWalletTarget, or the cap)',
    );
  return { hotWalletCap: cap, hotWalletTarget: cap === null ? null : (target ?? cap), hotWalletRefillBelow: refill };
}

function coldAddressOf(o: Obj, tokens: readonly TokenConfig[]): string | null {
  if (o.coldAddress === undefined) {
    if (tokens.some((t) => t.hotWalletCap !== null))
      fail('config.coldAddress', 'is required when a token has a hotWalletCap');
    return null;
  }
  const a = str(o, 'coldAddress', 'config');
  if (!isAddress(a)) fail('config.coldAddress', 'not an address, or a bad EIP-55 checksum');
  const address = getAddress(a);
  if (address === ZeroAddress || tokens.some((t) => t.address === address))
    fail('config.coldAddress', 'cannot be the zero address or a token contract');
  return address;
}

export function parseChainConfig(v: unknown): ChainConfig {
  const o = obj(v, 'config');
  checkKeys(o, 'config', [
    'name',
    'chainId',
    'rpcUrl',
    'confirmations',
    'pollIntervalMs',
    'startBlock',
    'logBlockRangeMax',
    'reorgWindowBlocks',
    'tokens',
    'coldAddress',
    'sweep',
    'withdrawals',
    'rpc',
    'staleAfterMs',
  ]);
  const rpc = obj(o.rpc ?? {}, 'config.rpc');
  checkKeys(rpc, 'config.rpc', ['timeoutMs', 'attempts']);
  const pollIntervalMs = int(o, 'pollIntervalMs', 'config', { min: 10, max: 600_000, dflt: 4_000 });
  const rpcTimeoutMs = int(rpc, 'timeoutMs', 'config.rpc', { min: 100, max: 300_000, dflt: 10_000 });
  const rpcAttempts = int(rpc, 'attempts', 'config.rpc', { min: 1, max: 10, dflt: 3 });
  const rpcUrl = str(o, 'rpcUrl', 'config', /^(https?|wss?):\/\//);
  const confirmations = int(o, 'confirmations', 'config', { min: 1, max: 1000 });
  if (!Array.isArray(o.tokens) || o.tokens.length === 0) fail('config.tokens', 'must be a non-empty array');
  const tokens = o.tokens.map((t, i) => parseToken(t, `config.tokens[${i}]`));
  uniqueBy(tokens, (t) => t.address, 'address');
  uniqueBy(tokens, (t) => String(t.assetId), 'assetId');
  const sweep = obj(o.sweep ?? {}, 'config.sweep');
  checkKeys(sweep, 'config.sweep', ['enabled', 'gasLimitMarginPct']);
  if (sweep.enabled !== undefined && typeof sweep.enabled !== 'boolean')
    fail('config.sweep.enabled', 'must be a boolean');
  const w = obj(o.withdrawals ?? {}, 'config.withdrawals');
  checkKeys(w, 'config.withdrawals', [
    'stuckAfterMs',
    'feeBumpPct',
    'maxFeePerGasCapWei',
    'inFlightMax',
    'gasLimitMarginPct',
  ]);
  return {
    name: str(o, 'name', 'config', /^[a-z0-9-]{1,32}$/),
    chainId: int(o, 'chainId', 'config', { min: 1, max: Number.MAX_SAFE_INTEGER }),
    rpcUrl,
    confirmations,
    pollIntervalMs,
    startBlock: int(o, 'startBlock', 'config', { min: 0, max: Number.MAX_SAFE_INTEGER }),
    logBlockRangeMax: int(o, 'logBlockRangeMax', 'config', { min: 1, max: 10_000, dflt: 500 }),
    reorgWindowBlocks: int(o, 'reorgWindowBlocks', 'config', {
      min: confirmations + 1,
      max: 10_000,
      dflt: confirmations + 64,
    }),
    tokens,
    coldAddress: coldAddressOf(o, tokens),
    rpc: { timeoutMs: rpcTimeoutMs, attempts: rpcAttempts },
    // A tick can take a few RPC calls' worst case (timeouts and retries) before it makes progress again.
    staleAfterMs: int(o, 'staleAfterMs', 'config', {
      min: 1_000,
      max: 86_400_000,
      dflt: Math.max(120_000, 10 * pollIntervalMs, 4 * rpcTimeoutMs * rpcAttempts),
    }),
    sweep: {
      enabled: sweep.enabled !== false,
      gasLimitMarginPct: int(sweep, 'gasLimitMarginPct', 'config.sweep', { min: 0, max: 100, dflt: 20 }),
    },
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
