// Shared by the gateway tests: a gateway on a throwaway database and a Redis key prefix of its own, in front of a
// real engine. The engine runs in this process (LocalEngineBus): commands are encoded and decoded with the wire
// codec, applied by Engine, and their events projected into PostgreSQL by the persistence projector and writer,
// exactly as the daemon and the consumer do over Kafka (the e2e test runs those as processes).

import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { deleteKeys } from '../../testkit/redis.js';
import { Engine } from '../../engine/core/index.js';
import type { EngineEvent } from '../../engine/core/events.js';
import { decodeCommand, encodeCommand } from '../../engine/wire/codec.js';
import type { CommandInput } from '../../engine/wire/codec.js';
import { HdKeys } from '../../chain/hd.js';
import { Projector } from '../../persistence/projector.js';
import { BatchWriter } from '../../persistence/writer.js';
import { buildGateway } from '../../gateway/app.js';
import type { Gateway } from '../../gateway/app.js';
import type { CommandBus, CommandMeta, CommandOutcome, LateResultHandler } from '../../gateway/command-bus.js';
import { PendingCommands } from '../../gateway/command-bus.js';
import { DEFAULT_OPTIONS } from '../../gateway/config.js';
import type { GatewayOptions } from '../../gateway/config.js';
import { migrateGateway } from '../../gateway/migrate.js';
import type { DevnetFaucet } from '../../gateway/routes/faucet.js';
import type { ChainProgress } from '../../gateway/routes/health.js';
import { lateResultRecorder } from '../../gateway/routes/commands.js';
import { redisStores } from '../../gateway/stores/gateway-stores.js';
import type { GatewayStores } from '../../gateway/stores/gateway-stores.js';
import { signRequest } from '../../testkit/signing-client.js';
import { AuditLog } from '../../audit/log.js';
import { OperatorAccounts } from '../../gateway/auth/operators.js';
import { totpNow } from '../../gateway/auth/totp.js';
import { createTestDatabase } from '../../testkit/pg.js';
import type { TestDatabase } from '../../testkit/pg.js';
import type { Sql } from 'postgres';
import type { Logger } from 'pino';

export const TEST_MNEMONIC = 'test test test test test test test test test test test junk';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The engine in-process, behind the same interface as the Kafka bus. `hold()` makes results late (timeouts). */
export class LocalEngineBus implements CommandBus {
  readonly engine = new Engine();
  private readonly projector = new Projector();
  private readonly writer: BatchWriter;
  private readonly pending: PendingCommands;
  private readonly listeners = new Set<(events: readonly EngineEvent[]) => void>();
  private chain: Promise<void> = Promise.resolve();
  private offset = -1;
  private lastTimeMs = 0;
  private held: { cmd: CommandInput }[] | null = null;
  /** Commands the engine applied (accepted or rejected), for "no state change" checks. */
  applied = 0;

  /** Where late results go (the gateway's Redis recorder). */
  onLate: LateResultHandler | undefined;

  constructor(sql: Sql, opts: { timeoutMs: number; pendingMax?: number }) {
    this.writer = new BatchWriter(sql);
    this.pending = new PendingCommands({
      pendingMax: opts.pendingMax ?? 10_000,
      timeoutMs: opts.timeoutMs,
      onLate: (cmdId, meta, result) => this.onLate?.(cmdId, meta, result),
    });
  }

  submit(cmd: CommandInput, meta: CommandMeta): Promise<CommandOutcome> {
    const outcome = this.pending.wait(cmd.id, meta);
    if (this.held !== null) this.held.push({ cmd });
    else this.enqueue(cmd);
    return outcome;
  }

  /** Results are held back (the engine "is slow") until release(). */
  hold(): void {
    this.held = [];
  }

  async release(): Promise<void> {
    const held = this.held ?? [];
    this.held = null;
    for (const h of held) this.enqueue(h.cmd);
    await this.chain;
  }

  /** Applies commands without waiting through the HTTP layer (setup: assets, markets, deposits). */
  async apply(cmd: CommandInput): Promise<EngineEvent[]> {
    let out: EngineEvent[] = [];
    this.enqueue(cmd, (events) => (out = events));
    await this.chain;
    return out;
  }

  private enqueue(cmd: CommandInput, onEvents?: (events: EngineEvent[]) => void): void {
    this.chain = this.chain.then(async () => {
      this.lastTimeMs = Math.max(this.lastTimeMs, Date.now());
      const decoded = decodeCommand(encodeCommand(cmd), this.lastTimeMs);
      const events = decoded.ok
        ? this.engine.apply(decoded.command)
        : this.engine.applyInvalid(decoded.id, this.lastTimeMs, decoded.code);
      this.applied++;
      this.offset++;
      await this.writer.write(this.projector.project([{ offset: this.offset, timestampMs: this.lastTimeMs, events }]));
      onEvents?.(events);
      this.pending.deliver(events);
      for (const l of this.listeners) l(events);
    });
  }

  subscribe(listener: (events: readonly EngineEvent[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  healthy(): boolean {
    return true;
  }

  async close(): Promise<void> {
    this.pending.close();
    await this.chain;
  }
}

export interface TestGateway {
  readonly gw: Gateway;
  readonly bus: LocalEngineBus;
  readonly db: TestDatabase;
  readonly redis: Redis;
  readonly prefix: string;
  readonly options: GatewayOptions;
  close(): Promise<void>;
}

export const SECRET_KEY = Buffer.alloc(32, 7);

/** `extra.stores` replaces the Redis stores (e.g. memoryStores()); Redis is connected either way, for cleanup. */
export async function startTestGateway(
  name: string,
  overrides: Partial<GatewayOptions> = {},
  extra: {
    nowMs?: () => number;
    logger?: Logger;
    stores?: GatewayStores;
    pendingMax?: number;
    faucet?: DevnetFaucet;
    webRoot?: string;
    depositConfirmations?: number;
    db?: TestDatabase;
    chainProgress?: ChainProgress;
  } = {},
): Promise<TestGateway> {
  // A database of its own, or one shared with another part of the test (e.g. a chain service's); dropped by its owner.
  const db = extra.db ?? (await createTestDatabase(`gw_${name}`));
  await migrateGateway(db.sql);
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2, lazyConnect: false });
  const prefix = `test:gw:${name}:${process.pid}:${randomBytes(3).toString('hex')}:`;
  const options: GatewayOptions = {
    ...DEFAULT_OPTIONS,
    secretKey: SECRET_KEY,
    depositXpub: new HdKeys(TEST_MNEMONIC).depositXpub(),
    redisPrefix: prefix,
    // Cheap hashes: the tests register many users on two shared cores.
    scryptCost: 1024,
    ...overrides,
  };
  const bus = new LocalEngineBus(db.sql, { timeoutMs: options.commandTimeoutMs, pendingMax: extra.pendingMax });
  const stores = extra.stores ?? redisStores(redis);
  bus.onLate = lateResultRecorder(stores.commands, prefix);
  const gw = await buildGateway({
    sql: db.sql,
    stores,
    bus,
    options,
    nowMs: extra.nowMs,
    logger: extra.logger,
    faucet: extra.faucet,
    webRoot: extra.webRoot,
    depositConfirmations: extra.depositConfirmations,
    chainProgress: extra.chainProgress,
  });
  await gw.app.ready();
  return {
    gw,
    bus,
    db,
    redis,
    prefix,
    options,
    async close() {
      await gw.app.close();
      await bus.close();
      await deleteKeys(redis, prefix);
      redis.disconnect();
      if (extra.db === undefined) await db.drop();
    },
  };
}

// ---- market setup: ETH (18 decimals) / USDT (6 decimals), tick 0.01 USDT, lot 0.0001 ETH ------------------------

export const ETH = 1;
export const USDT = 2;
export const MARKET = 1;

export async function setupMarket(bus: LocalEngineBus): Promise<void> {
  await bus.apply({ v: 1, type: 'addAsset', id: 'setup-a1', assetId: ETH, symbol: 'ETH', decimals: 18 });
  await bus.apply({ v: 1, type: 'addAsset', id: 'setup-a2', assetId: USDT, symbol: 'USDT', decimals: 6 });
  await bus.apply({
    v: 1,
    type: 'addMarket',
    id: 'setup-m1',
    marketId: MARKET,
    symbol: 'ETH-USDT',
    baseAssetId: ETH,
    quoteAssetId: USDT,
    tickSize: 10_000n,
    lotSize: 100_000_000_000_000n,
    minNotional: 1_000_000n,
    makerFeeBps: 10,
    takerFeeBps: 20,
  });
}

export async function deposit(bus: LocalEngineBus, userId: number, assetId: number, amount: bigint): Promise<void> {
  const [result] = (
    await bus.apply({
      v: 1,
      type: 'deposit',
      id: `dep-${userId}-${assetId}-${randomBytes(4).toString('hex')}`,
      userId,
      assetId,
      amount,
      depositId: `d-${randomBytes(8).toString('hex')}`,
    })
  ).slice(-1);
  if (result.type !== 'commandResult' || result.status !== 'accepted')
    throw new Error(`deposit refused: ${JSON.stringify(result)}`);
}

// ---- users -------------------------------------------------------------------------------------------------------

export interface TestUser {
  readonly userId: number;
  readonly username: string;
  readonly token: string;
  readonly bearer: Record<string, string>;
}

export async function registerUser(
  gw: Gateway,
  username: string,
  password = 'correct horse battery',
): Promise<TestUser> {
  const reg = await gw.app.inject({ method: 'POST', url: '/v1/auth/register', payload: { username, password } });
  if (reg.statusCode !== 201) throw new Error(`register ${username}: ${reg.statusCode} ${reg.body}`);
  const login = await gw.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { username, password } });
  if (login.statusCode !== 200) throw new Error(`login ${username}: ${login.statusCode} ${login.body}`);
  const { token, userId } = login.json() as { token: string; userId: number };
  return { userId, username, token, bearer: { authorization: `Bearer ${token}` } };
}

export async function createKey(
  gw: Gateway,
  user: TestUser,
  scopes: string[],
): Promise<{ keyId: string; secret: string }> {
  const res = await gw.app.inject({
    method: 'POST',
    url: '/v1/api-keys',
    headers: user.bearer,
    payload: { label: 'test', scopes },
  });
  if (res.statusCode !== 201) throw new Error(`create key: ${res.statusCode} ${res.body}`);
  return res.json() as { keyId: string; secret: string };
}

/** Headers of a request signed with an API key. */
export function signedHeaders(
  key: { keyId: string; secret: string },
  method: string,
  url: string,
  body: string,
  timestampMs = Date.now(),
): Record<string, string> {
  return signRequest(key, { method, url, body, timestampMs });
}

/** Adds an address to the user's withdrawal address book (session; `otp` once 2FA is on). */
export async function addWithdrawalAddress(
  gw: Gateway,
  user: TestUser,
  address: string,
  otp?: string,
): Promise<{ addressId: string; usableAt: string }> {
  const res = await gw.app.inject({
    method: 'POST',
    url: '/v1/withdrawal-addresses',
    headers: user.bearer,
    payload: { address, label: 'test', ...(otp === undefined ? {} : { otp }) },
  });
  if (res.statusCode !== 201) throw new Error(`add withdrawal address: ${res.statusCode} ${res.body}`);
  return res.json() as { addressId: string; usableAt: string };
}

// ---- operators ---------------------------------------------------------------------------------------------------

export interface TestOperator {
  readonly name: string;
  readonly role: string;
  readonly password: string;
  readonly secret: string;
  /** The code the login used: a later Date.now() may fall in the next 30 s step, whose code is new and valid. */
  readonly loginOtp: string;
  readonly token: string;
  readonly bearer: Record<string, string>;
}

/** Creates an operator as `npm run admin -- create-operator` does, and logs in with password and a current code. */
export async function createOperator(
  tg: TestGateway,
  name: string,
  role: 'viewer' | 'operator' | 'admin',
): Promise<TestOperator> {
  const accounts = new OperatorAccounts({
    sql: tg.db.sql,
    secretKey: tg.options.secretKey,
    scryptCost: tg.options.scryptCost,
    audit: new AuditLog(),
  });
  const e = await accounts.create(name, role);
  const loginOtp = totpNow(e.secret, Date.now());
  const login = await tg.gw.app.inject({
    method: 'POST',
    url: '/v1/admin/auth/login',
    payload: { name, password: e.password, otp: loginOtp },
  });
  if (login.statusCode !== 200) throw new Error(`operator login ${name}: ${login.statusCode} ${login.body}`);
  const token = login.json().token as string;
  return {
    name,
    role,
    password: e.password,
    secret: e.secret,
    loginOtp,
    token,
    bearer: { authorization: `Bearer ${token}` },
  };
}

// Re-exported for the gateway tests, which import their helpers from here.
export { deleteKeys };
