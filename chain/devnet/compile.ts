// Compiles the devnet tokens with solc-js (bundled, offline) and OpenZeppelin from node_modules. The artifacts are
// cached under .cache/ (ignored by git) by a hash of the sources and compiler version, so repeated test runs skip
// the 1-2 s compile.

import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Artifact {
  readonly abi: unknown[];
  readonly bytecode: string;
}

export interface DevnetArtifacts {
  readonly TestToken: Artifact;
  readonly NoReturnToken: Artifact;
}

const require = createRequire(import.meta.url);
const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const CONTRACTS = ['TestToken.sol', 'NoReturnToken.sol'] as const;
const CACHE_DIR = path.join(REPO, '.cache', 'chain-devnet');

interface SolcOutput {
  errors?: { severity: string; formattedMessage: string }[];
  contracts: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string } } }>>;
}

/**
 * `evmVersion`: 'cancun' (default) for Hardhat's EDR and today's networks; 'shanghai' for ganache 7, whose EVM
 * predates cancun's opcodes (MCOPY, which solc emits for cancun, is an invalid opcode there).
 */
export async function compileDevnetContracts(
  opts: { evmVersion?: 'cancun' | 'shanghai' } = {},
): Promise<DevnetArtifacts> {
  const evmVersion = opts.evmVersion ?? 'cancun';
  const solc = require('solc') as {
    version(): string;
    compile(input: string, opts: { import(p: string): { contents?: string; error?: string } }): string;
  };
  const sources: Record<string, { content: string }> = {};
  for (const name of CONTRACTS) sources[name] = { content: await readFile(path.join(HERE, 'contracts', name), 'utf8') };
  const key = createHash('sha256')
    .update(solc.version())
    .update(JSON.stringify(sources))
    .update(evmVersion === 'cancun' ? '' : evmVersion)
    .digest('hex')
    .slice(0, 16);
  const cacheFile = path.join(CACHE_DIR, `artifacts-${key}.json`);
  try {
    return JSON.parse(await readFile(cacheFile, 'utf8')) as DevnetArtifacts;
  } catch {
    // Not cached yet (or unreadable): compile below.
  }
  const input = {
    language: 'Solidity',
    sources,
    // cancun: supported by Hardhat 2.29's EDR and by mainnet/Sepolia.
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
  const artifacts: DevnetArtifacts = {
    TestToken: pick('TestToken.sol', 'TestToken'),
    NoReturnToken: pick('NoReturnToken.sol', 'NoReturnToken'),
  };
  await mkdir(CACHE_DIR, { recursive: true });
  // Write then rename: two test files compiling at once never read a half-written cache.
  const tmp = `${cacheFile}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(artifacts));
  await rename(tmp, cacheFile);
  return artifacts;
}

function findImport(p: string): { contents?: string; error?: string } {
  try {
    return { contents: require('node:fs').readFileSync(require.resolve(p), 'utf8') as string };
  } catch {
    return { error: `not found: ${p}` };
  }
}
