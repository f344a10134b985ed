// Entry of the chain service (one process per chain):
//   CHAIN_CONFIG=chain.sepolia.json DATABASE_URL=postgres://... KEYSTORE_PATH=keystore.json
//   KEYSTORE_PASSPHRASE_FILE=/run/secrets/keystore KAFKA_BROKERS=host:9092 npm run chain
// Applies the chain migrations, unlocks the keystore, checks the RPC's chain id and the tokens, then runs.

import pino from 'pino';
import postgres from 'postgres';
import { migrateChain } from './migrate.js';
import { kafkaClient } from '../kafka/client.js';
import { loadChainConfig } from './config.js';
import { KafkaCommandSink, KafkaEngineEventSource } from './engine-io.js';
import { checkChainAndTokens, makeProvider } from './erc20.js';
import { ChainError } from './errors.js';
import { HdKeys } from './hd.js';
import { chainLoggerOptions } from './logging.js';
import { passphraseFromEnv, readKeystoreFile } from './keystore.js';
import { ChainService } from './service.js';
import { startStatusServer } from './status-server.js';
import { ConfigError } from '../config/env.js';
import { readChainSettings } from './settings.js';

// A stop that takes longer (a broker or node that does not answer) ends the process anyway: every step's state
// is in PostgreSQL, so a hard exit is recovered like a crash.
const SHUTDOWN_TIMEOUT_MS = 30_000;

async function main(): Promise<void> {
  // Every variable checked before anything connects: a bad one is named at once.
  const settings = readChainSettings(process.env);
  // It holds the keys: the shared redaction (mnemonic, passphrase, private keys) and a `service` field on each line.
  const log = pino(chainLoggerOptions(settings.logLevel));
  // Signals are taken from the first moment: one during start-up stops the service once it is up (the default
  // action would kill it halfway through its start, which is safe but not the clean stop asked for).
  let shutdown: (() => Promise<void>) | null = null;
  let stopAsked = false;
  const onSignal = (signal: string): void => {
    if (stopAsked) return;
    log.info({ signal }, 'stopping');
    stopAsked = true;
    if (shutdown !== null) stopAndExit(shutdown, log);
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);

  const { databaseUrl, commandsTopic, eventsTopic } = settings;
  const config = await loadChainConfig(settings.configPath);
  // One connection held for the advisory lock, one per loop (deposits, sweeps, withdrawals), the events reader, spare.
  const sql = postgres(databaseUrl, { max: 8, onnotice: () => {} });
  await migrateChain(sql);
  const keys = new HdKeys(await readKeystoreFile(settings.keystorePath, await passphraseFromEnv()));
  const provider = makeProvider(config);
  await checkChainAndTokens(provider, config);
  const kafka = kafkaClient(settings.kafkaBrokers, `chain-${config.name}`, log);
  const sink = new KafkaCommandSink(kafka, commandsTopic);
  await sink.connect();
  const service = new ChainService({ sql, provider, config, keys, sink, log });
  await service.start();
  // /health, /ready (each loop's last progress) and /metrics, on an internal address.
  const status = await startStatusServer({ service, sql, host: settings.statusHost, port: settings.statusPort });
  const source = new KafkaEngineEventSource(kafka, { eventsTopic, groupId: `chain-${config.name}-withdrawals`, log });
  const fatal =
    (what: string) =>
    (err: unknown): void => {
      log.fatal({ err }, `${what}; exiting`);
      process.exit(1);
    };
  // A broken invariant ends the loop: exit, and let the restart recover from the database.
  service.done.catch(fatal('chain service loop failed'));
  await source.start({
    onWithdrawalPending: (ev) => service.onWithdrawalPending(ev),
    onChainCommandRejected: (r) => service.onChainCommandRejected(r),
    onFatal: fatal('events consumer stopped'),
  });
  shutdown = async () => {
    await status.close();
    await source.stop();
    await service.stop();
    await sink.close();
    provider.destroy();
    await sql.end({ timeout: 5 });
  };
  log.info(
    {
      chain: config.name,
      chainId: config.chainId,
      status: status.url,
      hotWallet: keys.hotWalletAddress(),
      gasWallet: keys.gasWalletAddress(),
    },
    'chain service running',
  );
  if (stopAsked) stopAndExit(shutdown, log);
}

function stopAndExit(shutdown: () => Promise<void>, log: pino.Logger): void {
  const timer = setTimeout(() => {
    log.error({ timeoutMs: SHUTDOWN_TIMEOUT_MS }, 'stop took too long; exiting');
    process.exit(1);
  }, SHUTDOWN_TIMEOUT_MS);
  shutdown().then(
    () => {
      clearTimeout(timer);
      log.info('stopped');
      process.exit(0);
    },
    (err: unknown) => {
      log.error({ err }, 'stop failed');
      process.exit(1);
    },
  );
}

main().catch((err: unknown) => {
  process.stderr.write(
    `chain service: ${err instanceof ChainError || err instanceof ConfigError ? err.message : ((err as Error).stack ?? String(err))}\n`,
  );
  process.exit(1);
});
