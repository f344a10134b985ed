// The chain service end to end, every part real: a Kafka broker, the engine daemon as a process, the chain service
// as a process (chain/main.ts: its config file, an encrypted keystore, PostgreSQL), a Hardhat node with the devnet
// tokens. Given the assets in the engine and a user's deposit address, when tokens are minted to it the engine
// credits them (after the confirmations); the deposit is swept to the hot wallet; a withdrawal the user requests
// is sent on chain from the hot wallet and completed in the engine, with the exact amount at the destination; a
// withdrawal to a bad address is refused before signing and refunded. A token the engine does not know (the chain
// config and the engine disagree) raises an alert instead of vanishing. A SIGTERM then stops the service cleanly.

import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { Wallet, parseEther } from 'ethers';
import pino from 'pino';
import type { Consumer, Kafka } from 'kafkajs';
import { depositAddressFor } from '../../chain/addresses.js';
import { tokenBalance } from '../../chain/erc20.js';
import { encryptMnemonic, writeKeystoreFile } from '../../chain/keystore.js';
import type { EngineEvent } from '../../engine/core/events.js';
import { KafkaCommandWriter } from '../../kafka/command-writer.js';
import { ensureTopics } from '../../kafka/topics.js';
import { kafkaClient } from '../../kafka/client.js';
import { decodeEventRecord, encodeCommand } from '../../engine/wire/codec.js';
import type { CommandInput } from '../../engine/wire/codec.js';
import { startKafkaBroker } from '../../tools/kafka/broker.js';
import { REPO_ROOT, raceTimeout, sleep, startDaemon, waitFor } from '../daemon/recovery-support.js';
import { sendEth, startChainEnv } from './support.js';

const PASSPHRASE = 'correct horse battery staple e2e';
const USER = 42;
const TKA = 1;
const TKB = 2; // configured on the chain, deliberately missing in the engine
const USDT = 3;
const LONG_ID = 'w-'.padEnd(128, 'x'); // as long as the engine allows: the service's command ids must still fit
const WAIT_MS = 60_000;

/** Every event of the events topic, decoded (read_committed, as any consumer of the engine sees them). */
async function collectEvents(kafka: Kafka, topic: string): Promise<{ events: EngineEvent[]; consumer: Consumer }> {
  const events: EngineEvent[] = [];
  const consumer = kafka.consumer({ groupId: `test-events-${randomUUID()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void events.push(...decodeEventRecord(message.value!)) });
  return { events, consumer };
}

interface ServiceProcess {
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): void;
  output(): string;
}

function startChainService(env: Record<string, string>): ServiceProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'chain/main.ts')], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (b: Buffer): void => void (output = (output + b.toString()).slice(-40_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { exited, kill: (s) => void child.kill(s), output: () => output };
}

t.test('chain service on a real broker with the engine daemon', async (t) => {
  const broker = await startKafkaBroker();
  t.teardown(() => broker.stop());
  const env = await startChainEnv(t, { name: 'e2e', pollIntervalMs: 200, withdrawals: { stuckAfterMs: 60_000 } });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chain-e2e-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));

  // Topics and the engine.
  const engineId = `engine-${randomUUID().slice(0, 8)}`;
  const topics = { commandsTopic: `${engineId}.commands`, eventsTopic: `${engineId}.events` };
  const kafka = kafkaClient([broker.brokers], 'chain-e2e-test', pino({ level: 'silent' }));
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, topics);
  await admin.disconnect();
  const daemon = startDaemon({
    KAFKA_BROKERS: broker.brokers,
    DATA_DIR: path.join(dir, 'engine'),
    ENGINE_ID: engineId,
    KAFKA_COMMANDS_TOPIC: topics.commandsTopic,
    KAFKA_EVENTS_TOPIC: topics.eventsTopic,
    LOG_LEVEL: 'info',
  });
  t.teardown(async () => {
    daemon.child.kill('SIGTERM');
    await daemon.exited;
  });
  const writer = new KafkaCommandWriter(kafka, topics.commandsTopic);
  await writer.connect();
  t.teardown(() => writer.close());
  const send = async (...cmds: CommandInput[]): Promise<void> =>
    void (await writer.append(cmds.map((c) => new TextEncoder().encode(encodeCommand(c)))));
  const { events, consumer } = await collectEvents(kafka, topics.eventsTopic);
  t.teardown(() => consumer.disconnect());
  const result = (cmdId: string) => events.find((e) => e.type === 'commandResult' && e.cmdId === cmdId);
  const until = (what: string, check: () => boolean | Promise<boolean>, svc?: ServiceProcess) =>
    waitFor(
      async () => check(),
      WAIT_MS,
      () => `${what}\n--- chain service:\n${svc?.output() ?? ''}\n--- engine:\n${daemon.output()}`,
    );

  await send(
    { v: 1, type: 'addAsset', id: 'asset-tka', assetId: TKA, symbol: 'TKA', decimals: 18 },
    { v: 1, type: 'addAsset', id: 'asset-usdt', assetId: USDT, symbol: 'USDT', decimals: 6 },
    {
      v: 1,
      type: 'addMarket',
      id: 'market-tka-usdt',
      marketId: 1,
      symbol: 'TKA-USDT',
      baseAssetId: TKA,
      quoteAssetId: USDT,
      tickSize: 100n,
      lotSize: 10n ** 16n,
      minNotional: 1n,
      makerFeeBps: 0,
      takerFeeBps: 0,
    },
  );
  await until('engine set up', () => result('market-tka-usdt') !== undefined);
  t.ok(
    ['asset-tka', 'asset-usdt', 'market-tka-usdt'].every(
      (id) => (result(id) as { status?: string }).status === 'accepted',
    ),
    'assets and market added',
  );

  // The chain service: config file, keystore encrypted with a test passphrase in a secret file.
  const configPath = path.join(dir, 'chain.json');
  await writeFile(configPath, JSON.stringify(env.rawConfig));
  const keystorePath = path.join(dir, 'keystore.json');
  await writeKeystoreFile(keystorePath, await encryptMnemonic(env.mnemonic, PASSPHRASE, { N: 1 << 12, r: 8, p: 1 }));
  const passphraseFile = path.join(dir, 'passphrase');
  await writeFile(passphraseFile, PASSPHRASE + '\n', { mode: 0o600 });
  const service = startChainService({
    CHAIN_CONFIG: configPath,
    DATABASE_URL: env.db.url,
    KEYSTORE_PATH: keystorePath,
    KEYSTORE_PASSPHRASE_FILE: passphraseFile,
    KEYSTORE_PASSPHRASE: '',
    KAFKA_BROKERS: broker.brokers,
    KAFKA_COMMANDS_TOPIC: topics.commandsTopic,
    KAFKA_EVENTS_TOPIC: topics.eventsTopic,
  });
  t.teardown(async () => {
    service.kill('SIGKILL');
    await service.exited;
  });
  await until('chain service running', () => service.output().includes('chain service running'), service);
  t.notMatch(service.output(), new RegExp(env.mnemonic.split(' ').slice(0, 3).join(' ')), 'the mnemonic is not logged');

  // Given: a deposit address, gas for sweeps and withdrawals, blocks coming every 250 ms.
  const hot = env.keys.hotWalletAddress();
  const user = await depositAddressFor(env.db.sql, env.keys, USER);
  await sendEth(env, env.keys.gasWalletAddress(), '1');
  await sendEth(env, hot, '1');
  await env.rpc('evm_setIntervalMining', [250]);
  t.teardown(() => env.rpc('evm_setIntervalMining', [0]).catch(() => undefined));

  // When: tokens arrive at the deposit address (TKA and the USDT-style token).
  const tkaIn = 5n * 10n ** 18n + 7n;
  const usdtIn = 2_500_001n;
  await (await env.tokens.tka.contract.getFunction('mint')(user.address, tkaIn)).wait();
  await (await env.tokens.usdt.contract.getFunction('mint')(user.address, usdtIn)).wait();
  await (await env.tokens.tkb.contract.getFunction('mint')(user.address, 7_000_000n)).wait();

  // Then: credited once each, as the user's available balance.
  const credits = () => events.filter((e) => e.type === 'depositCredited');
  await until('deposits credited', () => credits().length >= 2, service);
  await sleep(1_000); // a second credit of the same deposit would show up here
  t.same(
    credits()
      .map((e) => e.type === 'depositCredited' && [e.userId, e.assetId, e.amount])
      .sort(),
    [
      [USER, TKA, tkaIn],
      [USER, USDT, usdtIn],
    ],
    'each deposit credited once, exact',
  );
  const balance = (assetId: number) =>
    events.filter((e) => e.type === 'balanceChanged' && e.userId === USER && e.assetId === assetId).at(-1);
  t.match(balance(TKA), { available: tkaIn, pending: 0n }, 'the TKA balance is available');
  await until(
    'alert for the deposit the engine refused',
    () => service.output().includes('ENGINE_REJECTED_COMMAND'),
    service,
  );
  t.match(
    service.output(),
    /"alert":"ENGINE_REJECTED_COMMAND","cmdId":"deposit:0x[0-9a-f]{64}:\d+","code":"WALLET_ASSET_UNKNOWN"/,
    'a deposit of an asset the engine lacks is an alert, not silence',
  );
  t.equal(
    events.filter((e) => e.type === 'depositCredited' && e.assetId === TKB).length,
    0,
    'and nothing credited for it',
  );

  // And swept to the hot wallet, which then pays the withdrawal.
  await until('swept', async () => (await tokenBalance(env.provider, env.tokens.tka.address, hot)) === tkaIn, service);
  t.equal(await tokenBalance(env.provider, env.tokens.tka.address, user.address), 0n, 'the deposit address is empty');

  // When: the user withdraws part to an address, and asks for one to a bad address.
  const dest = Wallet.createRandom().address;
  const out = 3n * 10n ** 18n + 1n;
  await send(
    {
      v: 1,
      type: 'requestWithdrawal',
      id: 'wd-1',
      userId: USER,
      assetId: TKA,
      amount: out,
      withdrawalId: 'w-1',
      destination: dest,
    },
    {
      v: 1,
      type: 'requestWithdrawal',
      id: 'wd-2',
      userId: USER,
      assetId: USDT,
      amount: 1_000_000n,
      withdrawalId: LONG_ID,
      destination: 'not-an-address',
    },
  );
  const completed = () => events.find((e) => e.type === 'withdrawalCompleted' && e.withdrawalId === 'w-1');
  const failed = () => events.find((e) => e.type === 'withdrawalFailed' && e.withdrawalId === LONG_ID);
  await until(
    'withdrawal completed and the bad one failed',
    () => completed() !== undefined && failed() !== undefined,
    service,
  );

  // Then: the exact amount on chain, completion recorded with the mined transaction, the bad one refunded.
  t.equal(
    await tokenBalance(env.provider, env.tokens.tka.address, dest),
    out,
    'the destination holds exactly the amount',
  );
  t.equal(
    await tokenBalance(env.provider, env.tokens.tka.address, hot),
    tkaIn - out,
    'the hot wallet paid exactly the amount',
  );
  const done = completed();
  const receipt = await env.provider.getTransactionReceipt(
    done?.type === 'withdrawalCompleted' ? (done.txHash ?? '') : '',
  );
  t.equal(receipt?.status, 1, 'withdrawalCompleted names the mined transaction');
  t.match(balance(TKA), { available: tkaIn - out, pending: 0n }, 'the withdrawn TKA left the pending balance');
  t.match(balance(USDT), { available: usdtIn, pending: 0n }, 'the refused withdrawal was refunded');
  const [row] = await env.db.sql`SELECT status_code FROM chain_withdrawals WHERE withdrawal_id = ${LONG_ID}`;
  t.equal(row.status_code, 'WITHDRAWAL_BAD_ADDRESS', 'refused before signing');
  const ours = events.filter(
    (e) => e.type === 'commandResult' && /^(deposit|withdrawal-(complete|fail)):/.test(e.cmdId),
  );
  t.same(
    ours.map((e) => e.type === 'commandResult' && e.status).sort(),
    ['accepted', 'accepted', 'accepted', 'accepted', 'rejected'],
    'the chain service sent each command once; only the TKB deposit was refused',
  );

  // A SIGTERM stops the service cleanly.
  const stopped = async (svc: ServiceProcess, what: string): Promise<void> => {
    svc.kill('SIGTERM');
    const exit = await Promise.race([svc.exited, raceTimeout(30_000).then(() => null)]);
    t.same(exit, { code: 0, signal: null }, `${what}: SIGTERM, clean exit 0 ${exit?.code === 0 ? '' : svc.output()}`);
  };
  await stopped(service, 'first run');
  t.equal(parseEther('1') > (await env.provider.getBalance(hot)), true, 'the hot wallet paid the gas');

  // A restart on the same database and consumer group re-sends nothing: the cursor, the rows and the committed
  // offsets carry over (a redelivered withdrawalPending would be a no-op anyway).
  const sentBefore = ours.length;
  const again = startChainService({
    CHAIN_CONFIG: configPath,
    DATABASE_URL: env.db.url,
    KEYSTORE_PATH: keystorePath,
    KEYSTORE_PASSPHRASE_FILE: passphraseFile,
    KEYSTORE_PASSPHRASE: '',
    KAFKA_BROKERS: broker.brokers,
    KAFKA_COMMANDS_TOPIC: topics.commandsTopic,
    KAFKA_EVENTS_TOPIC: topics.eventsTopic,
  });
  t.teardown(async () => {
    again.kill('SIGKILL');
    await again.exited;
  });
  await until('restarted', () => again.output().includes('chain service running'), again);
  await sleep(3_000); // about 15 ticks
  await stopped(again, 'restart');
  await sleep(1_000); // a command sent by its last tick would reach the events topic by now
  t.equal(
    events.filter((e) => e.type === 'commandResult' && /^(deposit|withdrawal-(complete|fail)):/.test(e.cmdId)).length,
    sentBefore,
    'no command re-sent after the restart',
  );
});
