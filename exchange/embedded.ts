// The whole exchange in one process, on local stand-ins, its state under one data directory:
//   DATA_DIR/log/            the engine's file log (commands.log, events.log): Kafka's two topics
//   DATA_DIR/snapshots/      engine snapshots
//   DATA_DIR/pg/             embedded PostgreSQL (PGlite), served on a loopback port
//   DATA_DIR/devnet/         the local EVM chain's database (ganache) and devnet.json (token addresses)
//   DATA_DIR/keystore.json   the chain service's keys, DATA_DIR/keystore.passphrase its passphrase (devnet only!)
//   DATA_DIR/chain-devnet.events-position   where the chain service's events reader is
// Started in dependency order, stopped in reverse (lifecycle.ts). A second start resumes from all of it: the
// engine from its snapshot and log, persistence from its stored position, the chain service from PostgreSQL and
// the chain's own database.

import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { JsonRpcProvider } from 'ethers';
import type { Logger } from 'pino';
import postgres from 'postgres';
import { migrateChain } from '../chain/migrate.js';
import { EngineDaemon } from '../engine/daemon/daemon.js';
import { SnapshotStore } from '../engine/daemon/snapshot-store.js';
import { encodeCommand } from '../engine/wire/codec.js';
import { parseChainConfig } from '../chain/config.js';
import type { ChainConfig } from '../chain/config.js';
import { checkChainAndTokens, makeProvider } from '../chain/erc20.js';
import type { HdKeys } from '../chain/hd.js';
import { ChainService } from '../chain/service.js';
import { PersistenceConsumer } from '../persistence/consumer.js';
import { connectPostgres } from '../persistence/db.js';
import type { EmbeddedConfig } from './config.js';
import type { GatewayTuning } from '../gateway/config.js';
import { startGanache } from './devnet/ganache.js';
import type { Ganache } from './devnet/ganache.js';
import { PhaseTimer } from './phases.js';
import { ensureDevKeystore } from './devnet/keystore.js';
import { DEVNET_CHAIN_ID, DEVNET_MNEMONIC, Faucet, provisionDevnet, writeDevnetState } from './devnet/provision.js';
import type { DevnetState } from './devnet/provision.js';
import { EmbeddedChainEvents, EmbeddedCommandSink, EmbeddedEventSource } from './embedded-io.js';
import { EmbeddedLog } from './embedded-log.js';
import { startEmbeddedPostgres } from './embedded-pg/start.js';
import { Lifecycle } from './lifecycle.js';
import { DEMO_MARKETS, listingCommands } from './listing.js';

const ENGINE_ID = 'engine-0';

/** What the gateway needs to run inside the embedded exchange (see exchange/gateway-embedded.ts). */
export interface EmbeddedGatewayDeps {
  readonly databaseUrl: string;
  readonly log: EmbeddedLog;
  readonly faucet: Faucet;
  /** Blocks before the devnet's deposits are credited (the chain service's setting), for the API to say. */
  readonly depositConfirmations: number;
  readonly keys: HdKeys;
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  /** GATEWAY_* settings (rate limits, timeouts, ...), read and checked with the rest of the config. */
  readonly tuning: GatewayTuning;
  readonly logger: Logger;
  /** The chain service's loops: part of the gateway's /ready. */
  readonly chainProgress: () => { readonly loops: Readonly<Record<string, number | null>>; readonly stale: boolean };
}

/** Starts the gateway; resolves once it listens. The exchange stops it first on shutdown. */
export type GatewayStarter = (deps: EmbeddedGatewayDeps) => Promise<{ readonly url: string; stop(): Promise<void> }>;

export interface RunningExchange {
  readonly dataDir: string;
  readonly databaseUrl: string;
  readonly rpcUrl: string;
  readonly chainId: number;
  readonly devnet: DevnetState;
  readonly markets: typeof DEMO_MARKETS;
  readonly hotWallet: string;
  readonly gasWallet: string;
  readonly gatewayUrl: string | null;
  readonly faucet: Faucet;
  readonly log: EmbeddedLog;
  readonly daemon: EngineDaemon;
  readonly persistence: PersistenceConsumer;
  readonly chain: ChainService;
  readonly lifecycle: Lifecycle;
  /** Stops everything in order; true when every step stopped cleanly. */
  stop(): Promise<boolean>;
}

export class StartAborted extends Error {}

/**
 * Starts every component. On a failure half-way, what was started is stopped again before the error is thrown.
 * `lifecycle` lets the caller stop a start-up in progress (a Ctrl-C while the database initialises).
 */
export async function startEmbeddedExchange(
  config: EmbeddedConfig,
  logger: Logger,
  opts: { lifecycle?: Lifecycle; gateway?: GatewayStarter; phases?: PhaseTimer } = {},
): Promise<RunningExchange> {
  const life = opts.lifecycle ?? new Lifecycle(logger);
  try {
    return await startAll(config, logger, life, { gateway: opts.gateway, phases: opts.phases ?? new PhaseTimer() });
  } catch (err) {
    await life.stopAll();
    throw err;
  }
}

async function startAll(
  config: EmbeddedConfig,
  logger: Logger,
  life: Lifecycle,
  opts: { gateway: GatewayStarter | undefined; phases: PhaseTimer },
): Promise<RunningExchange> {
  const { phases } = opts;
  const dataDir = path.resolve(config.dataDir);
  const step = (what: string): void => {
    if (life.isStopping) throw new StartAborted(`start-up stopped before ${what}`);
  };
  await mkdir(dataDir, { recursive: true });
  // First: the log's lock refuses a second exchange on the same data directory before anything else is touched.
  const log = await EmbeddedLog.open(path.join(dataDir, 'log'), {
    onTruncate: (file, droppedBytes, reason) =>
      logger.warn({ file, droppedBytes, reason }, 'cut a torn tail off the log'),
  });
  life.defer('file log', () => log.close());

  step('the database and the devnet');
  // Independent until the chain service needs both: side by side. Both are awaited before a failure of either is
  // thrown, so everything either started is registered with the lifecycle (and stopped) by then.
  const [databaseUrl, chainSide] = await allSettledOrThrow([
    phases.time('postgres', () => startDatabase(config, dataDir, logger, life)),
    startDevnet(config, dataDir, logger, life, phases),
  ]);
  const { ganache, keys, devProvider, devnetFile } = chainSide;
  let devnet = chainSide.devnet;

  step('the engine');
  const recoveryStartedMs = performance.now();
  const daemon = new EngineDaemon({
    log,
    snapshots: new SnapshotStore({
      dir: path.join(dataDir, 'snapshots', ENGINE_ID),
      keep: 3,
      onSkip: (file, reason) => logger.warn({ file, reason }, 'skipped a snapshot that does not verify'),
    }),
    logger: logger.child({ component: 'engine' }),
    batchMax: 1000,
    snapshotEveryCommands: 100_000,
  });
  const daemonRun = daemon.run();
  life.watch('engine', daemonRun);
  life.defer('engine', async () => {
    await daemon.stop();
    await daemonRun;
  });
  await Promise.race([daemon.recovered, daemonRun]);
  phases.add('engine recovery', performance.now() - recoveryStartedMs);
  if (!devnet.listed) {
    const writer = log.writer();
    const encoder = new TextEncoder();
    await writer.append(listingCommands(devnet.tokens).map((c) => encoder.encode(encodeCommand(c))));
    devnet = { ...devnet, listed: true };
    await writeDevnetState(devnetFile, devnet);
    logger.info(
      { assets: devnet.tokens.map((t) => t.symbol), markets: DEMO_MARKETS.map((m) => m.symbol) },
      'listed the demo tokens and markets in the engine',
    );
  }

  step('persistence');
  const persistenceSql = connectPostgres(databaseUrl, { max: 1 });
  const persistence = new PersistenceConsumer({
    sql: persistenceSql,
    source: new EmbeddedEventSource(log),
    logger: logger.child({ component: 'persistence' }),
    batchRecordsMax: 2000,
  });
  const persistenceRun = persistence.run();
  life.watch('persistence', persistenceRun);
  life.defer('persistence', async () => {
    await persistence.stop();
    await persistenceRun.catch(() => undefined);
    await persistenceSql.end({ timeout: 5 });
  });

  step('the chain service');
  const chainConfig = devnetChainConfig(ganache.url, devnet, config.devnetConfirmations);
  const chain = await phases.time('chain service', () =>
    startChain({
      chainConfig,
      databaseUrl,
      keys,
      log,
      dataDir,
      logger: logger.child({ component: 'chain' }),
      life,
    }),
  );

  let gatewayUrl: string | null = null;
  if (opts.gateway !== undefined) {
    const gateway = opts.gateway;
    step('the gateway');
    // ---- GATEWAY INTEGRATION POINT: see exchange/gateway-embedded.ts for what is passed and why. ----
    const g = await phases.time('gateway listen', () =>
      gateway({
        databaseUrl,
        log,
        faucet: new Faucet(devProvider, devnet.tokens),
        depositConfirmations: chainConfig.confirmations,
        keys,
        dataDir,
        host: config.gatewayHost,
        port: config.gatewayPort,
        tuning: config.gatewayTuning,
        logger: logger.child({ component: 'gateway' }),
        chainProgress: () => chain.progress(),
      }),
    );
    life.defer('gateway', () => g.stop());
    gatewayUrl = g.url;
  }

  return {
    dataDir,
    databaseUrl,
    rpcUrl: ganache.url,
    chainId: DEVNET_CHAIN_ID,
    devnet,
    markets: DEMO_MARKETS,
    hotWallet: keys.hotWalletAddress(),
    gasWallet: keys.gasWalletAddress(),
    gatewayUrl,
    faucet: new Faucet(devProvider, devnet.tokens),
    log,
    daemon,
    persistence,
    chain,
    lifecycle: life,
    stop: () => life.stopAll(),
  };
}

/** Embedded PostgreSQL (unless DATABASE_URL names another server); resolves with the URL to connect to. */
async function startDatabase(
  config: EmbeddedConfig,
  dataDir: string,
  logger: Logger,
  life: Lifecycle,
): Promise<string> {
  if (config.databaseUrl !== null) return config.databaseUrl;
  const pg = await startEmbeddedPostgres({
    dir: path.join(dataDir, 'pg'),
    logger: logger.child({ component: 'embedded-postgres' }),
    port: config.pgPort,
    onFatal: (err) => life.fail('embedded postgres', err),
  });
  life.defer('embedded postgres', () => pg.stop());
  return pg.url;
}

/** The devnet running, the keystore open (side by side), and the demo tokens deployed on the first start. */
async function startDevnet(
  config: EmbeddedConfig,
  dataDir: string,
  logger: Logger,
  life: Lifecycle,
  phases: PhaseTimer,
): Promise<{ ganache: Ganache; keys: HdKeys; devProvider: JsonRpcProvider; devnet: DevnetState; devnetFile: string }> {
  await mkdir(path.join(dataDir, 'devnet'), { recursive: true });
  const [ganache, keystore] = await allSettledOrThrow([
    phases.time('devnet', async () => {
      const g = await startGanache({
        dbPath: path.join(dataDir, 'devnet', 'chain'),
        chainId: DEVNET_CHAIN_ID,
        mnemonic: DEVNET_MNEMONIC,
        blockTimeSec: config.devnetBlockTimeSec,
        port: config.devnetPort,
      });
      life.defer('devnet', () => g.stop());
      return g;
    }),
    phases.time('keystore', () => ensureDevKeystore(dataDir)),
  ]);
  const { keys, created, passphraseFile } = keystore;
  logger.warn(
    { keystore: path.join(dataDir, 'keystore.json'), passphraseFile, created },
    'DEVNET ONLY: the keystore passphrase is stored in a file next to the keystore. Anyone who can read the data directory controls these keys. Never use this keystore or mode for real funds.',
  );
  const devProvider = makeProvider({ rpcUrl: ganache.url, chainId: DEVNET_CHAIN_ID, pollIntervalMs: 250 });
  life.defer('devnet provider', async () => devProvider.destroy());
  const devnetFile = path.join(dataDir, 'devnet', 'devnet.json');
  const devnet = await phases.time('contracts', () =>
    provisionDevnet({ file: devnetFile, provider: devProvider, keys, logger }),
  );
  return { ganache, keys, devProvider, devnet, devnetFile };
}

/** Promise.all that waits for every promise to settle before throwing the first rejection. */
async function allSettledOrThrow<T extends readonly unknown[]>(
  work: readonly [...{ [K in keyof T]: Promise<T[K]> }],
): Promise<T> {
  const settled = await Promise.allSettled(work);
  for (const r of settled) if (r.status === 'rejected') throw r.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

export function devnetChainConfig(rpcUrl: string, devnet: DevnetState, confirmations: number): ChainConfig {
  return parseChainConfig({
    name: 'devnet',
    chainId: devnet.chainId,
    rpcUrl,
    confirmations,
    startBlock: devnet.startBlock,
    pollIntervalMs: 1000,
    tokens: devnet.tokens.map((t) => ({
      assetId: t.assetId,
      symbol: t.symbol,
      address: t.address,
      decimals: t.decimals,
      // Sweep once an address holds one whole token: the demo shows sweeps without waiting for much.
      sweepThreshold: (10n ** BigInt(t.decimals)).toString(),
    })),
    withdrawals: { stuckAfterMs: 60_000 },
  });
}

async function startChain(opts: {
  chainConfig: ChainConfig;
  databaseUrl: string;
  keys: HdKeys;
  log: EmbeddedLog;
  dataDir: string;
  logger: Logger;
  life: Lifecycle;
}): Promise<ChainService> {
  const { chainConfig, keys, log, logger, life } = opts;
  // As chain/main.ts: the advisory lock's, one per loop, the events reader's, a spare.
  const sql = postgres(opts.databaseUrl, { max: 8, onnotice: () => {} });
  life.defer('chain database', () => sql.end({ timeout: 5 }));
  await migrateChain(sql);
  const provider = makeProvider(chainConfig);
  life.defer('chain provider', async () => provider.destroy());
  await checkChainAndTokens(provider, chainConfig);
  const sink = new EmbeddedCommandSink(log.writer());
  const service = new ChainService({ sql, provider, config: chainConfig, keys, sink, log: logger });
  await service.start();
  life.watch('chain service', service.done);
  life.defer('chain service', async () => {
    await service.stop();
    await sink.close();
  });
  const events = new EmbeddedChainEvents(log, {
    positionFile: path.join(opts.dataDir, `chain-${chainConfig.name}.events-position`),
    logger,
  });
  await events.start({
    onWithdrawalPending: (ev) => service.onWithdrawalPending(ev),
    onChainCommandRejected: (r) => service.onChainCommandRejected(r),
    onFatal: (err) => life.fail('chain events reader', err),
  });
  life.defer('chain events reader', () => events.stop());
  logger.info(
    {
      chain: chainConfig.name,
      chainId: chainConfig.chainId,
      hotWallet: keys.hotWalletAddress(),
      gasWallet: keys.gasWalletAddress(),
    },
    'chain service running',
  );
  return service;
}
