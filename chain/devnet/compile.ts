// The devnet tokens' ABI and bytecode. They are committed (chain/devnet/artifacts.json, like a lock file) so that
// neither `npm start` nor the tests load the Solidity compiler: solc-js takes about a second and 100 MB to load
// and 4-5 s and 250 MB more to compile OpenZeppelin's ERC20, and a process keeps that memory once it has loaded it.
// Each committed entry carries the key of what it was compiled from (compiler, OpenZeppelin, the sources, the EVM
// version); when the key no longer matches, the contracts are compiled here (solc-js, bundled and offline, loaded
// only then) and cached under .cache/ (ignored by git). test/chain/devnet-artifacts.test.ts fails while the
// committed file is stale; `npm run devnet:artifacts` rewrites it.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoCacheDir } from '../../config/paths.js';

export interface Artifact {
  readonly abi: unknown[];
  readonly bytecode: string;
}

export interface DevnetArtifacts {
  readonly TestToken: Artifact;
  readonly NoReturnToken: Artifact;
}

/**
 * 'cancun' for Hardhat's EDR and today's networks; 'shanghai' for ganache 7, whose EVM predates cancun's opcodes
 * (MCOPY, which solc emits for cancun, is an invalid opcode there).
 */
export type EvmVersion = 'cancun' | 'shanghai';
export const EVM_VERSIONS: readonly EvmVersion[] = ['cancun', 'shanghai'];

/** chain/devnet/artifacts.json: per EVM version, the key it was compiled under and the artifacts. */
export type CommittedArtifacts = Record<EvmVersion, { readonly key: string } & DevnetArtifacts>;

const require = createRequire(import.meta.url);
const HERE = path.dirname(fileURLToPath(import.meta.url));
export const COMMITTED_ARTIFACTS_FILE = path.join(HERE, 'artifacts.json');
const CONTRACTS = ['TestToken.sol', 'NoReturnToken.sol'] as const;

interface SolcOutput {
  errors?: { severity: string; formattedMessage: string }[];
  contracts: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string } } }>>;
}

type Sources = Record<string, { content: string }>;

async function readSources(): Promise<Sources> {
  const sources: Sources = {};
  for (const name of CONTRACTS) sources[name] = { content: await readFile(path.join(HERE, 'contracts', name), 'utf8') };
  return sources;
}

/** What the bytecode follows from, without loading the compiler: its version and OpenZeppelin's come from npm. */
function artifactsKey(sources: Sources, evmVersion: EvmVersion): string {
  const version = (pkg: string): string => (require(`${pkg}/package.json`) as { version: string }).version;
  return createHash('sha256')
    .update(JSON.stringify([version('solc'), version('@openzeppelin/contracts'), evmVersion, sources]))
    .digest('hex')
    .slice(0, 16);
}

export async function compileDevnetContracts(opts: { evmVersion?: EvmVersion } = {}): Promise<DevnetArtifacts> {
  const evmVersion = opts.evmVersion ?? 'cancun';
  const sources = await readSources();
  const key = artifactsKey(sources, evmVersion);
  const committed = (await readJson<CommittedArtifacts>(COMMITTED_ARTIFACTS_FILE))?.[evmVersion];
  if (committed?.key === key) return { TestToken: committed.TestToken, NoReturnToken: committed.NoReturnToken };
  const cacheFile = path.join(repoCacheDir(HERE, 'chain-devnet'), `artifacts-${key}.json`);
  const cached = await readJson<DevnetArtifacts>(cacheFile);
  if (cached !== null) return cached;
  const artifacts = compileWithSolc(sources, evmVersion);
  await mkdir(path.dirname(cacheFile), { recursive: true });
  // Write then rename: two test files compiling at once never read a half-written cache.
  const tmp = `${cacheFile}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(artifacts));
  await rename(tmp, cacheFile);
  return artifacts;
}

/** Compiles for every EVM version with solc (never from a cache): what artifacts.json must hold. */
export async function compileCommittedArtifacts(): Promise<CommittedArtifacts> {
  const sources = await readSources();
  const entry = (evmVersion: EvmVersion) => ({
    key: artifactsKey(sources, evmVersion),
    ...compileWithSolc(sources, evmVersion),
  });
  return { cancun: entry('cancun'), shanghai: entry('shanghai') };
}

/** The key each EVM version's artifacts must carry for the current sources and packages. */
export async function currentArtifactKeys(): Promise<Record<EvmVersion, string>> {
  const sources = await readSources();
  return { cancun: artifactsKey(sources, 'cancun'), shanghai: artifactsKey(sources, 'shanghai') };
}

function compileWithSolc(sources: Sources, evmVersion: EvmVersion): DevnetArtifacts {
  // Loaded here only: see the top of the file for what it costs.
  const solc = require('solc') as {
    compile(input: string, opts: { import(p: string): { contents?: string; error?: string } }): string;
  };
  const input = {
    language: 'Solidity',
    sources,
    settings: {
      evmVersion,
      optimizer: { enabled: true, runs: 200 },
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
    },
  };
  const out = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport })) as SolcOutput;
  const errors = (out.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0) throw new Error(`solc: ${errors.map((e) => e.formattedMessage).join('\n')}`);
  const pick = (file: string, name: string): Artifact => {
    const c = out.contracts[file][name];
    return { abi: c.abi, bytecode: '0x' + c.evm.bytecode.object };
  };
  return { TestToken: pick('TestToken.sol', 'TestToken'), NoReturnToken: pick('NoReturnToken.sol', 'NoReturnToken') };
}

async function readJson<T>(file: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    // Missing or unreadable: the caller falls back to the next source.
    return null;
  }
}

function findImport(p: string): { contents?: string; error?: string } {
  try {
    return { contents: readFileSync(require.resolve(p), 'utf8') };
  } catch {
    return { error: `not found: ${p}` };
  }
}
