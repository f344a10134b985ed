// The end-to-end stack of the gateway tests, every part real and every service a process: a Kafka broker, the
// engine daemon, the persistence consumer (persistence/main.ts) and the gateway (gateway/main.ts) on a throwaway
// PostgreSQL database and a Redis key prefix of its own. Everything started here is stopped by the test's teardown.

import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Kafka } from 'kafkajs';
import { Redis } from 'ioredis';
import { HdKeys } from '../../chain/hd.js';
import { KafkaCommandWriter } from '../../kafka/command-writer.js';
import { ensureTopics } from '../../kafka/topics.js';
import { kafkaClient } from '../../kafka/client.js';
import { encodeCommand } from '../../engine/wire/codec.js';
import type { CommandInput } from '../../engine/wire/codec.js';
import { pickFreeLoopbackPorts, startKafkaBroker } from '../../tools/kafka/broker.js';
import { startDaemon, waitFor } from '../daemon/recovery-support.js';
import type { DaemonProcess } from '../daemon/recovery-support.js';
import { spawnTs } from '../../testkit/processes.js';
import type { Proc } from '../../testkit/processes.js';
import { createTestDatabase } from '../../testkit/pg.js';
import { REDIS_URL, TEST_MNEMONIC, deleteKeys } from './support.js';

export const WAIT_MS = 60_000;

/** What tap's `t` gives the stack: somewhere to register its clean-up. */
interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface HttpAnswer {
  readonly status: number;
  readonly json: any;
}

export interface E2eStack {
  readonly kafka: Kafka;
  readonly topics: { readonly commandsTopic: string; readonly eventsTopic: string };
  readonly port: number;
  readonly base: string;
  readonly gateway: Proc;
  readonly persistence: Proc;
  /** The running daemon (replaced by restartDaemon). */
  daemon: DaemonProcess;
  restartDaemon(): DaemonProcess;
  /** Appends commands to the commands topic directly (admin and deposit commands have no HTTP route). */
  send(cmds: CommandInput[]): Promise<unknown>;
  http(
    method: string,
    url: string,
    opts?: { token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<HttpAnswer>;
}

export async function startE2eStack(t: Teardown, name: string): Promise<E2eStack> {
  const broker = await startKafkaBroker();
  t.teardown(() => broker.stop());
  const kafka = kafkaClient([broker.brokers], `gateway-${name}`);
  const id = `gw-${randomUUID().slice(0, 8)}`;
  const topics = { commandsTopic: `${id}.commands`, eventsTopic: `${id}.events` };
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, topics);
  await admin.disconnect();
  const writer = new KafkaCommandWriter(kafka, topics.commandsTopic);
  await writer.connect();
  t.teardown(() => writer.close());
  const send = (cmds: CommandInput[]) => writer.append(cmds.map((c) => new TextEncoder().encode(encodeCommand(c))));

  const db = await createTestDatabase(`gw_${name.replace(/[^a-z0-9_]/g, '_')}`);
  t.teardown(() => db.drop());
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `gw-${name}-`));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const redisPrefix = `test:gw:${name}:${process.pid}:${randomBytes(3).toString('hex')}:`;
  const redis = new Redis(REDIS_URL);
  t.teardown(async () => {
    await deleteKeys(redis, redisPrefix);
    redis.disconnect();
  });

  const env = {
    KAFKA_BROKERS: broker.brokers,
    KAFKA_COMMANDS_TOPIC: topics.commandsTopic,
    KAFKA_EVENTS_TOPIC: topics.eventsTopic,
    DATABASE_URL: db.url,
  };
  const daemonEnv = { ...env, DATA_DIR: dataDir, ENGINE_ID: id, LOG_LEVEL: 'info' };
  const daemon = startDaemon(daemonEnv);
  const persistence = spawnTs('persistence/main.ts', env);
  t.teardown(() => (persistence.child.exitCode === null ? void persistence.child.kill('SIGKILL') : undefined));
  const [port] = await pickFreeLoopbackPorts(1);
  const gateway = spawnTs('gateway/main.ts', {
    ...env,
    REDIS_URL,
    REDIS_PREFIX: redisPrefix,
    GATEWAY_HOST: '127.0.0.1',
    GATEWAY_PORT: String(port),
    GATEWAY_ID: id,
    GATEWAY_SECRET_KEY: randomBytes(32).toString('hex'),
    DEPOSIT_XPUB: new HdKeys(TEST_MNEMONIC).depositXpub(),
    GATEWAY_SCRYPT_COST: '1024',
    GATEWAY_COMMAND_TIMEOUT_MS: '3000',
    LOG_LEVEL: 'info',
    // Tests withdraw to an address they have just put in the address book.
    GATEWAY_WITHDRAWAL_ADDRESS_DELAY_SECONDS: '0',
  });
  t.teardown(() => (gateway.child.exitCode === null ? void gateway.child.kill('SIGKILL') : undefined));
  const base = `http://127.0.0.1:${port}`;
  const http = async (
    method: string,
    url: string,
    opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<HttpAnswer> => {
    const res = await fetch(base + url, {
      method,
      headers: {
        ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
        ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...opts.headers,
      },
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
    return { status: res.status, json: (await res.json().catch(() => null)) as any };
  };

  const stack: E2eStack = {
    kafka,
    topics,
    port,
    base,
    gateway,
    persistence,
    send,
    http,
    daemon,
    restartDaemon: () => (stack.daemon = startDaemon(daemonEnv)),
  };
  t.teardown(() => (stack.daemon.child.exitCode === null ? void stack.daemon.child.kill('SIGKILL') : undefined));
  return stack;
}

/** The market both end-to-end tests trade on (ETH-USDT, tick 0.01 USDT, lot 0.0001 ETH), and its assets. */
export const SETUP_COMMANDS: CommandInput[] = [
  { v: 1, type: 'addAsset', id: 'a1', assetId: 1, symbol: 'ETH', decimals: 18 },
  { v: 1, type: 'addAsset', id: 'a2', assetId: 2, symbol: 'USDT', decimals: 6 },
  {
    v: 1,
    type: 'addMarket',
    id: 'm1',
    marketId: 1,
    symbol: 'ETH-USDT',
    baseAssetId: 1,
    quoteAssetId: 2,
    tickSize: 10_000n,
    lotSize: 10n ** 14n,
    minNotional: 1_000_000n,
    makerFeeBps: 10,
    takerFeeBps: 20,
  },
];

/** Waits for /ready; the gateway's output is in the error when it never comes. */
export async function waitReady(s: E2eStack): Promise<void> {
  await waitFor(
    async () => (await s.http('GET', '/ready').catch(() => ({ status: 0 }))).status === 200,
    WAIT_MS,
    () => `gateway ready: ${s.gateway.output().slice(-3000)}`,
  );
}

/** Registers and logs in each user over HTTP: their ids and session tokens. */
export async function registerUsers<N extends string>(
  s: E2eStack,
  names: readonly N[],
): Promise<Record<N, { userId: number; token: string; status: number }>> {
  const users = {} as Record<N, { userId: number; token: string; status: number }>;
  for (const name of names) {
    const reg = await s.http('POST', '/v1/auth/register', {
      body: { username: name, password: 'correct horse battery' },
    });
    const login = (
      await s.http('POST', '/v1/auth/login', { body: { username: name, password: 'correct horse battery' } })
    ).json;
    users[name] = { userId: login.userId, token: login.token, status: reg.status };
  }
  return users;
}
