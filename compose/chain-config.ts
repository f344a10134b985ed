// The chain service's config in Docker Compose: the operator's file (CHAIN_CONFIG_TEMPLATE, in compose/secrets) with
// `rpcUrl` taken from CHAIN_RPC_URL, written to CHAIN_CONFIG for the chain service (compose/chain-entrypoint.sh).
// Why: the RPC URL often carries a provider's API key, and it has no default, so the stack never talks to a chain
// (mainnet least of all) that the operator did not name. The result is validated here with the chain service's own
// parser, so a bad file stops the container with the field named before anything connects.
//   CHAIN_CONFIG_TEMPLATE=secrets/chain.json CHAIN_RPC_URL=https://... CHAIN_CONFIG=/tmp/chain.json \
//     node dist/compose/chain-config.js      (npm run build first; or node --import tsx compose/chain-config.ts)

import { readFile, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { parseChainConfig } from '../chain/config.js';
import type { ChainConfig } from '../chain/config.js';

/** Variables this step reads; the compose test checks the chain service sets nothing else besides chain/main.ts's. */
export const CHAIN_CONFIG_STEP_VARS = ['CHAIN_CONFIG_TEMPLATE', 'CHAIN_RPC_URL', 'CHAIN_CONFIG'] as const;

type Env = Record<string, string | undefined>;

/** The template with its rpcUrl replaced (or added), as JSON text, after the chain service's validation. */
export function withRpcUrl(template: unknown, rpcUrl: string): { json: string; config: ChainConfig } {
  if (typeof template !== 'object' || template === null || Array.isArray(template))
    throw new Error('CHAIN_CONFIG_TEMPLATE must hold a JSON object');
  const merged = { ...(template as Record<string, unknown>), rpcUrl };
  const config = parseChainConfig(merged);
  return { json: JSON.stringify(merged, null, 2) + '\n', config };
}

function need(env: Env, name: string): string {
  const value = env[name];
  if (value === undefined || value === '') throw new Error(`${name} is required`);
  return value;
}

export async function writeChainConfig(env: Env = process.env): Promise<ChainConfig> {
  const templatePath = need(env, 'CHAIN_CONFIG_TEMPLATE');
  const rpcUrl = need(env, 'CHAIN_RPC_URL');
  const outPath = need(env, 'CHAIN_CONFIG');
  let template: unknown;
  try {
    template = JSON.parse(await readFile(templatePath, 'utf8'));
  } catch (err) {
    throw new Error(`CHAIN_CONFIG_TEMPLATE ${templatePath}: cannot read JSON: ${(err as Error).message}`);
  }
  const { json, config } = withRpcUrl(template, rpcUrl);
  // 0600: the URL may hold an API key.
  await writeFile(outPath, json, { mode: 0o600 });
  return config;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  writeChainConfig().then(
    // The URL is not printed: it may hold an API key.
    (config) =>
      process.stdout.write(
        `chain config: ${config.name} (chain id ${config.chainId}) written to ${process.env.CHAIN_CONFIG}\n`,
      ),
    (err: unknown) => {
      process.stderr.write(`chain config: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}
