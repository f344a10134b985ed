// Reads compose/docker-compose.yml as Docker Compose would: YAML with merge keys (`<<: *anchor`), then ${VAR}
// interpolation. There is no Docker engine here, so the tests check the file by reading it.
// `yaml` is installed through @fastify/swagger and tap (not a direct dependency).

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { HdKeys } from '../../chain/hd.js';
import { BUNDLES, buildInputs, outputOf } from '../../tools/build/dist.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const COMPOSE_DIR = path.join(ROOT, 'compose');

export interface Service {
  readonly image?: string;
  readonly build?: { context: string; dockerfile: string };
  readonly command?: string[];
  readonly entrypoint?: string[];
  readonly user?: string;
  readonly environment?: Record<string, string>;
  readonly ports?: string[];
  readonly volumes?: string[];
  readonly healthcheck?: {
    test: string[];
    interval?: string;
    timeout?: string;
    retries?: number;
    start_period?: string;
  };
  readonly depends_on?: Record<string, { condition: string }>;
  readonly init?: boolean;
}

export interface ComposeFile {
  readonly services: Record<string, Service>;
  readonly volumes?: Record<string, unknown>;
}

/** The exchange's own services (built from compose/Dockerfile), as opposed to Kafka, PostgreSQL and Redis. */
export const EXCHANGE_SERVICES = ['engine', 'persistence', 'chain', 'gateway'] as const;

// ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}
const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g;

export async function composeText(): Promise<string> {
  return readFile(path.join(COMPOSE_DIR, 'docker-compose.yml'), 'utf8');
}

/** Every variable the file interpolates, and whether Compose refuses to start without it (`:?`). */
export function composeVariables(text: string): Map<string, { required: boolean; fallback: string | null }> {
  const vars = new Map<string, { required: boolean; fallback: string | null }>();
  for (const m of text.matchAll(VARIABLE)) {
    const required = m[2] === ':?' || m[2] === '?';
    const fallback = m[2] === ':-' || m[2] === '-' ? m[3] : null;
    vars.set(m[1], { required, fallback });
  }
  return vars;
}

/**
 * The file after interpolation with `vars`. A required variable missing from `vars` fails as Compose would; a
 * variable with a default takes it.
 */
export function interpolate(text: string, vars: Record<string, string>): string {
  return text.replace(VARIABLE, (_whole, name: string, op: string | undefined, arg: string | undefined) => {
    const value = vars[name];
    if (value !== undefined && value !== '') return value;
    if (op === ':?' || op === '?') throw new Error(`required variable ${name} is missing a value: ${arg}`);
    if (op === ':-' || op === '-') return arg ?? '';
    return '';
  });
}

export function parseCompose(text: string): ComposeFile {
  return parse(text, { merge: true }) as ComposeFile;
}

export async function loadCompose(vars: Record<string, string>): Promise<ComposeFile> {
  return parseCompose(interpolate(await composeText(), vars));
}

export async function packageScripts(): Promise<Record<string, string>> {
  const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  return pkg.scripts;
}

// The BIP-39 test vector: a valid mnemonic that holds nothing.
const TEST_MNEMONIC = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';

/**
 * Stand-ins for the variables the file requires (`${VAR:?…}`), which Compose takes from compose/.env: supplied only
 * for those (a test checks it), in the form the services demand.
 */
export function placeholderVars(): Record<string, string> {
  return {
    CHAIN_RPC_URL: 'https://sepolia.rpc.example',
    GATEWAY_SECRET_KEY: 'ab'.repeat(32),
    DEPOSIT_XPUB: new HdKeys(TEST_MNEMONIC).depositXpub(),
  };
}

/** `env` behind a proxy that records every variable a config reader looks up. */
export function recordingEnv(env: Record<string, string>): {
  env: Record<string, string | undefined>;
  read: Set<string>;
} {
  const read = new Set<string>();
  const proxy = new Proxy(env as Record<string, string | undefined>, {
    get(target, key) {
      if (typeof key === 'string') read.add(key);
      return Reflect.get(target, key);
    },
  });
  return { env: proxy, read };
}

/**
 * The source a dist/ path is built from (tools/build/dist.mjs's mapping, or the entry point of one of its bundles),
 * or null when the build emits no such file.
 */
export async function builtFrom(distPath: string): Promise<string | null> {
  const bundle = BUNDLES.find((b) => b.outfile === distPath);
  if (bundle !== undefined) return bundle.entry;
  const { sources, assets } = await buildInputs(ROOT);
  return [...sources, ...assets].find((rel) => outputOf(rel) === distPath) ?? null;
}
