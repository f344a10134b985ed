// A real local chain for the chain tests: a Hardhat node on a free loopback port, the devnet tokens deployed,
// a throwaway PostgreSQL database with the chain migrations, and a fresh mnemonic for our keys.

import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as bip39 from 'bip39';
import { parseEther } from 'ethers';
import type { JsonRpcProvider, JsonRpcSigner } from 'ethers';
import pino from 'pino';
import type { Logger } from 'pino';
import type { Test } from 'tap';
import { migrateChain } from '../../chain/migrate.js';
import { parseChainConfig } from '../../chain/config.js';
import type { ChainConfig } from '../../chain/config.js';
import { makeProvider } from '../../chain/erc20.js';
import { HdKeys } from '../../chain/hd.js';
import { startDevNode } from '../../chain/devnet/node.js';
import type { DevNode } from '../../chain/devnet/node.js';
import { deployDevTokens } from '../../chain/devnet/tokens.js';
import type { DevTokens } from '../../chain/devnet/tokens.js';
import { createTestDatabase } from '../../testkit/pg.js';
import type { TestDatabase } from '../../testkit/pg.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

export interface ChainEnv {
  readonly node: DevNode;
  readonly db: TestDatabase;
  readonly provider: JsonRpcProvider;
  /** Hardhat's first account: 10,000 ETH, pays for deployments, mints and ETH funding. */
  readonly funder: JsonRpcSigner;
  readonly tokens: DevTokens;
  readonly mnemonic: string;
  readonly keys: HdKeys;
  readonly config: ChainConfig;
  /** The config as JSON gives it (for a child process). */
  readonly rawConfig: Record<string, unknown>;
  readonly log: Logger;
  rpc(method: string, params?: unknown[]): Promise<unknown>;
  mine(blocks: number): Promise<void>;
  head(): Promise<number>;
}

export async function startChainEnv(t: Test, overrides: Record<string, unknown> = {}): Promise<ChainEnv> {
  const node = await startDevNode();
  t.teardown(() => node.stop());
  const db = await createTestDatabase('chain');
  t.teardown(() => db.drop());
  await migrateChain(db.sql);
  const provider = makeProvider({ rpcUrl: node.url, chainId: Number(node.chainId), pollIntervalMs: 50 });
  t.teardown(() => provider.destroy());
  const funder = await provider.getSigner(0);
  const tokens = await deployDevTokens(funder);
  const startBlock = await provider.getBlockNumber();
  const rawConfig = {
    name: 'devnet',
    chainId: Number(node.chainId),
    rpcUrl: node.url,
    confirmations: 3,
    pollIntervalMs: 50,
    startBlock: startBlock + 1,
    logBlockRangeMax: 50,
    tokens: [
      { assetId: 1, symbol: 'TKA', address: tokens.tka.address, decimals: 18, sweepThreshold: '1000000000000000000' },
      { assetId: 2, symbol: 'TKB', address: tokens.tkb.address, decimals: 6, sweepThreshold: '1000000' },
      { assetId: 3, symbol: 'USDT', address: tokens.usdt.address, decimals: 6, sweepThreshold: '1000000' },
    ],
    withdrawals: { stuckAfterMs: 1_000 },
    ...overrides,
  };
  const config = parseChainConfig(rawConfig);
  const mnemonic = bip39.generateMnemonic(128);
  const rpc = (method: string, params: unknown[] = []): Promise<unknown> => provider.send(method, params);
  return {
    node,
    db,
    provider,
    funder,
    tokens,
    mnemonic,
    keys: new HdKeys(mnemonic),
    config,
    rawConfig,
    log: pino({ level: process.env.CHAIN_TEST_LOG ?? 'silent' }),
    rpc,
    async mine(blocks: number) {
      await rpc('hardhat_mine', ['0x' + blocks.toString(16)]);
    },
    head: () => provider.getBlockNumber(),
  };
}

export async function sendEth(env: ChainEnv, to: string, eth: string): Promise<void> {
  const tx = await env.funder.sendTransaction({ to, value: parseEther(eth) });
  await tx.wait();
}

/**
 * Runs a crash-child script (`childFile` next to this file) until it prints `AT <crashAt>`, then SIGKILLs it and
 * checks that the kill, not anything else, ended it.
 */
export async function runChildUntilKilled(env: ChainEnv, childFile: string, crashAt: string): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(HERE, childFile)], {
    env: {
      ...process.env,
      CHAIN_CONFIG_JSON: JSON.stringify(env.rawConfig),
      DATABASE_URL: env.db.url,
      CHAIN_TEST_MNEMONIC: env.mnemonic,
      CRASH_AT: crashAt,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once('exit', (_code, signal) => resolve(signal)),
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`child did not reach ${crashAt}`)), 60_000);
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes(`AT ${crashAt}`)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before ${crashAt}`)));
  });
  child.kill('SIGKILL');
  if ((await exited) !== 'SIGKILL') throw new Error('child not killed by SIGKILL');
}

/**
 * A JSON-RPC proxy in front of the node that can stop answering chosen methods: their requests still reach the
 * node (a transaction is mined) but the answer is held back until resume(), as from a node whose responses are
 * lost. Everything else passes through.
 */
export interface RpcProxy {
  readonly url: string;
  /** Holds the answers of these methods from now on. */
  hang(methods: readonly string[]): void;
  /** Answers everything held and holds nothing more. */
  resume(): void;
  /** Requests of held methods that reached the node. */
  readonly held: Map<string, number>;
  close(): Promise<void>;
}

export async function startRpcProxy(targetUrl: string): Promise<RpcProxy> {
  let hanging = new Set<string>();
  let release: () => void = () => {};
  let released = Promise.resolve();
  const held = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const methods = ([JSON.parse(body)].flat() as { method?: string }[]).map((m) => m.method ?? '');
      const hold = methods.some((m) => hanging.has(m));
      if (hold) for (const m of methods) held.set(m, (held.get(m) ?? 0) + 1);
      const wait = hold ? released : Promise.resolve();
      fetch(targetUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
        .then(async (r) => {
          const text = await r.text();
          await wait;
          if (!res.destroyed) res.writeHead(r.status, { 'content-type': 'application/json' }).end(text);
        })
        .catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    held,
    hang(methods) {
      hanging = new Set(methods);
      released = new Promise<void>((resolve) => (release = resolve));
    },
    resume() {
      hanging = new Set();
      release();
    },
    async close() {
      release();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
