// No Docker engine runs here, so the compose file is checked by reading it: every variable it sets on a service is
// one that service reads, found by calling the service's real config reader with the compose environment behind a
// proxy that records each lookup (and the reader must accept the values). Stand-ins are supplied only for the
// variables the file takes from compose/.env (`${VAR:?}`, see placeholderVars); the chain service's paths inside
// the container (/secrets, /tmp) are pointed at temporary files, since those mounts do not exist here.

import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import { loadChainConfig } from '../../chain/config.js';
import { readChainSettings } from '../../chain/settings.js';
import { encryptMnemonic, passphraseFromEnv, readKeystoreFile, writeKeystoreFile } from '../../chain/keystore.js';
import { CHAIN_CONFIG_STEP_VARS, writeChainConfig } from '../../compose/chain-config.js';
import { DAEMON_NODE_FLAGS, readDaemonConfig } from '../../engine/daemon/config.js';
import { readGatewayConfig } from '../../gateway/config.js';
import { readPersistenceConfig } from '../../persistence/config.js';
import {
  ROOT,
  composeText,
  composeVariables,
  loadCompose,
  packageScripts,
  placeholderVars,
  recordingEnv,
} from './compose-file.js';

const TOKEN = '0x5FbDB2315678afecb367f032d93F642f64180aa3';

async function serviceEnv(service: string): Promise<Record<string, string>> {
  const compose = await loadCompose(placeholderVars());
  return { ...(compose.services[service]?.environment ?? {}) };
}

function assertAllRead(t: Test, env: Record<string, string>, read: Set<string>, reader: string): void {
  for (const name of Object.keys(env)) t.ok(read.has(name), `${name} is read by ${reader}`);
}

t.test('placeholders are supplied only for the variables the file requires from compose/.env', async (t) => {
  const required = [...composeVariables(await composeText())].filter(([, v]) => v.required).map(([name]) => name);
  t.same(required.sort(), Object.keys(placeholderVars()).sort());
  await t.rejects(loadCompose({}), /required variable/, 'Compose refuses to start without them');
});

t.test('the engine service sets only variables the daemon reads, with valid values', async (t) => {
  const env = await serviceEnv('engine');
  t.ok(Object.keys(env).length >= 5, 'the engine service has its environment');
  const { env: recorded, read } = recordingEnv(env);
  const config = readDaemonConfig(recorded);
  assertAllRead(t, env, read, 'readDaemonConfig');
  t.same(config.kafkaBrokers, ['kafka:9092'], 'the brokers variable parses');
  t.equal(config.engineId, 'engine-0');
  t.equal(config.dataDir, '/data', 'state on the engine-data volume');
});

t.test('the persistence service sets only variables its config reads, with valid values', async (t) => {
  const env = await serviceEnv('persistence');
  const { env: recorded, read } = recordingEnv(env);
  const config = readPersistenceConfig(recorded);
  assertAllRead(t, env, read, 'readPersistenceConfig');
  t.same(config.kafkaBrokers, ['kafka:9092']);
  t.match(config.databaseUrl, /@postgres:5432\//, 'the compose PostgreSQL');
});

t.test('the gateway service sets only variables its config reads, with valid values', async (t) => {
  const env = await serviceEnv('gateway');
  const { env: recorded, read } = recordingEnv(env);
  const config = readGatewayConfig(recorded);
  assertAllRead(t, env, read, 'readGatewayConfig');
  t.equal(config.redisUrl, 'redis://redis:6379', 'shared stores: several gateways can run');
  t.equal(config.host, '0.0.0.0', 'reachable through the published port');
  t.equal(env.GATEWAY_ID, undefined, 'no fixed instance id: each scaled gateway names itself after its container');
});

t.test(
  'the chain service sets only variables its settings, the keystore and the config step read, with valid values',
  async (t) => {
    const env = await serviceEnv('chain');
    const settings = recordingEnv(env);
    readChainSettings(settings.env);
    const mainReads = settings.read;
    for (const name of ['CHAIN_CONFIG', 'DATABASE_URL', 'KAFKA_BROKERS'])
      t.ok(env[name] !== undefined, `${name}, required by chain/settings.ts, is set`);

    const dir = await mkdtemp(path.join(os.tmpdir(), 'compose-chain-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    // The container's mounts, here as temporary files: /secrets/* and /tmp/chain.json.
    const local = {
      ...env,
      CHAIN_CONFIG_TEMPLATE: path.join(dir, 'chain.json'),
      CHAIN_CONFIG: path.join(dir, 'out.json'),
      KEYSTORE_PATH: path.join(dir, 'keystore.json'),
      KEYSTORE_PASSPHRASE_FILE: path.join(dir, 'keystore-passphrase'),
    };
    t.equal(env.CHAIN_CONFIG_TEMPLATE, '/secrets/chain.json', 'the config comes from the secrets mount');
    t.match(env.KEYSTORE_PATH, /^\/secrets\//, 'so does the keystore');
    t.match(env.KEYSTORE_PASSPHRASE_FILE, /^\/secrets\//, 'and its passphrase, as a file (not in the environment)');
    t.equal(env.KEYSTORE_PASSPHRASE, undefined);

    await writeFile(
      local.CHAIN_CONFIG_TEMPLATE,
      JSON.stringify({
        name: 'sepolia',
        chainId: 11155111,
        confirmations: 12,
        startBlock: 1,
        tokens: [{ assetId: 1, symbol: 'TKA', address: TOKEN, decimals: 18, sweepThreshold: '1000' }],
      }),
    );
    await writeFile(local.KEYSTORE_PASSPHRASE_FILE, 'a long enough passphrase\n');
    await writeKeystoreFile(
      local.KEYSTORE_PATH,
      await encryptMnemonic(
        'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about',
        'a long enough passphrase',
        { N: 1 << 10, r: 8, p: 1 },
      ),
    );

    const step = recordingEnv(local);
    await writeChainConfig(step.env);
    const config = await loadChainConfig(local.CHAIN_CONFIG);
    t.equal(config.rpcUrl, placeholderVars().CHAIN_RPC_URL, 'the RPC URL comes from CHAIN_RPC_URL');
    t.equal((await stat(local.CHAIN_CONFIG)).mode & 0o077, 0, 'the written config (it may hold an API key) is private');

    const keys = recordingEnv(local);
    const passphrase = await passphraseFromEnv(keys.env);
    t.equal(passphrase, 'a long enough passphrase', 'the passphrase file is read, newline dropped');
    t.ok((await readKeystoreFile(local.KEYSTORE_PATH, passphrase)).startsWith('abandon'), 'the keystore unlocks');

    for (const name of Object.keys(env)) {
      const readBy =
        mainReads.has(name) ||
        keys.read.has(name) ||
        (step.read.has(name) && (CHAIN_CONFIG_STEP_VARS as readonly string[]).includes(name));
      t.ok(readBy, `${name} is read by chain/settings.ts, chain/keystore.ts or compose/chain-config.ts`);
    }
  },
);

t.test('the exchange services agree on where Kafka, the topics and PostgreSQL are', async (t) => {
  const compose = await loadCompose(placeholderVars());
  const services = ['engine', 'persistence', 'chain', 'gateway'].map((name) => ({
    name,
    env: compose.services[name].environment ?? {},
  }));
  for (const key of ['KAFKA_BROKERS', 'KAFKA_COMMANDS_TOPIC', 'KAFKA_EVENTS_TOPIC']) {
    for (const s of services) t.equal(s.env[key], services[0].env[key], `${s.name} ${key}`);
  }
  for (const s of services.filter((s) => s.name !== 'engine'))
    t.equal(s.env.DATABASE_URL, compose.services.persistence.environment?.DATABASE_URL, `${s.name} DATABASE_URL`);
  const pg = compose.services.postgres.environment ?? {};
  t.equal(
    services[1].env.DATABASE_URL,
    `postgres://${pg.POSTGRES_USER}:${pg.POSTGRES_PASSWORD}@postgres:5432/${pg.POSTGRES_DB}`,
    'the URL matches the PostgreSQL service',
  );
});

t.test('Kafka runs in KRaft mode with a fixed cluster id', async (t) => {
  const kafka = (await loadCompose(placeholderVars())).services.kafka.environment ?? {};
  t.match(kafka.CLUSTER_ID ?? '', /^[A-Za-z0-9_-]{22}$/, 'a base64url 16-byte cluster id is set');
  t.equal(kafka.KAFKA_PROCESS_ROLES, 'broker,controller');
  t.equal(kafka.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR, '1', 'single-node replication factors');
  t.equal(kafka.KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR, '1');
  t.equal(
    kafka.KAFKA_AUTO_CREATE_TOPICS_ENABLE,
    'false',
    'only the engine creates topics (with the broker-time setting)',
  );
});

t.test('a bad setting is refused with the variable named', async (t) => {
  t.throws(() => readDaemonConfig({ ENGINE_BATCH_MAX: '0' }), /ENGINE_BATCH_MAX/);
  t.throws(() => readDaemonConfig({ KAFKA_BROKERS: 'not a broker' }), /KAFKA_BROKERS/);
  t.throws(() => readDaemonConfig({ ENGINE_ID: 'bad id!' }), /ENGINE_ID/);
  t.equal(readDaemonConfig({}).kafkaBrokers, null, 'no KAFKA_BROKERS means the embedded file log');
  const kafka = { KAFKA_BROKERS: '127.0.0.1:9092' };
  t.throws(() => readDaemonConfig({ ...kafka, ENGINE_LEASE_REDIS_URL: 'localhost:6379' }), /ENGINE_LEASE_REDIS_URL/);
  t.throws(() => readDaemonConfig({ ENGINE_LEASE_REDIS_URL: 'redis://x:6379' }), /ENGINE_LEASE_REDIS_URL needs/);
  t.throws(() => readDaemonConfig({ ...kafka, ENGINE_LEASE_MS: '50' }), /ENGINE_LEASE_MS/);
  t.equal(readDaemonConfig({}).leaseRedisUrl, null, 'no ENGINE_LEASE_REDIS_URL: one engine, no election');
  const gateway = await serviceEnv('gateway');
  t.throws(() => readGatewayConfig({ ...gateway, GATEWAY_SECRET_KEY: 'short' }), /GATEWAY_SECRET_KEY/);
  t.throws(() => readGatewayConfig({ ...gateway, DEPOSIT_XPUB: 'xpub-not' }), /DEPOSIT_XPUB/);
  const persistence = await serviceEnv('persistence');
  t.throws(() => readPersistenceConfig({ ...persistence, PERSISTENCE_BATCH_MAX: '0' }), /PERSISTENCE_BATCH_MAX/);
});

t.test('npm run engine and the compose engine start the compiled daemon with its node flags', async (t) => {
  const scripts = await packageScripts();
  for (const flag of ['--enable-source-maps', ...DAEMON_NODE_FLAGS])
    t.ok(scripts.engine.split(' ').includes(flag), `the engine script passes ${flag}`);
  t.match(scripts.engine, /tools\/build\/engine\.mjs$/, 'to the launcher');
  const launcher = await readFile(path.join(ROOT, 'tools/build/engine.mjs'), 'utf8');
  t.match(launcher, /await ensureDist\(ROOT\);/, 'which brings dist/ up to date');
  t.match(launcher, /await ensureBundles\(ROOT\);/, 'and its bundle');
  t.match(launcher, /'\.\.\/\.\.\/dist\/engine\/daemon\/main\.bundle\.js'/, 'and runs the bundled daemon');
  const engine = (await loadCompose(placeholderVars())).services.engine.command ?? [];
  for (const flag of DAEMON_NODE_FLAGS) t.ok(engine.includes(flag), `the compose engine passes ${flag}`);
  t.equal(engine.at(-1), 'dist/engine/daemon/main.bundle.js', 'to the bundled daemon');
});
