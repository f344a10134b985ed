// The compose health checks of engine, persistence and chain (compose/healthcheck.ts) and the chain service's
// config step (compose/chain-config.ts), without Docker or Kafka: which consumer groups count for each service,
// taken from the services' own readers with the compose environment, and tied to the group names the services use.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { withRpcUrl } from '../../compose/chain-config.js';
import { groupTarget, isConsuming } from '../../compose/healthcheck.js';
import { ROOT, loadCompose, placeholderVars } from './compose-file.js';

const TOKEN = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
const TEMPLATE = {
  name: 'sepolia',
  chainId: 11155111,
  confirmations: 12,
  startBlock: 1,
  tokens: [{ assetId: 1, symbol: 'TKA', address: TOKEN, decimals: 18, sweepThreshold: '1000' }],
};

async function env(service: string): Promise<Record<string, string>> {
  return { ...((await loadCompose(placeholderVars())).services[service].environment ?? {}) };
}

t.test('the engine counts when one of its command readers is in a Stable group', async (t) => {
  const target = await groupTarget('engine', await env('engine'));
  t.same(target.brokers, ['kafka:9092']);
  const reader = 'engine-0.engine.reader.5f0c4b2e';
  t.ok(isConsuming([{ groupId: reader, state: 'Stable', memberCount: 1 }], target.matches), 'a reading member');
  t.notOk(
    isConsuming([{ groupId: reader, state: 'Empty', memberCount: 0 }], target.matches),
    'a group left by a stopped reader',
  );
  t.notOk(
    isConsuming([{ groupId: reader, state: 'PreparingRebalance', memberCount: 1 }], target.matches),
    'a group still joining',
  );
  t.notOk(
    isConsuming([{ groupId: 'engine-0.engine', state: 'Stable', memberCount: 1 }], target.matches),
    'the bare prefix is not a reader group',
  );
  t.notOk(
    isConsuming([{ groupId: 'persistence.reader.x', state: 'Stable', memberCount: 1 }], target.matches),
    "another service's group",
  );
  t.notOk(isConsuming([], target.matches), 'no group at all');
});

t.test('persistence counts by its reader groups', async (t) => {
  const target = await groupTarget('persistence', await env('persistence'));
  t.ok(isConsuming([{ groupId: 'persistence.reader.1', state: 'Stable', memberCount: 1 }], target.matches));
  t.notOk(isConsuming([{ groupId: 'engine-0.engine.reader.1', state: 'Stable', memberCount: 1 }], target.matches));
});

t.test('the chain service counts by its withdrawals group, named after the chain in its config', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'compose-health-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const configPath = path.join(dir, 'chain.json');
  await writeFile(configPath, withRpcUrl(TEMPLATE, 'https://sepolia.rpc.example').json);
  const target = await groupTarget('chain', { ...(await env('chain')), CHAIN_CONFIG: configPath });
  t.same(target.brokers, ['kafka:9092']);
  t.ok(isConsuming([{ groupId: 'chain-sepolia-withdrawals', state: 'Stable', memberCount: 1 }], target.matches));
  t.notOk(
    isConsuming([{ groupId: 'chain-mainnet-withdrawals', state: 'Stable', memberCount: 1 }], target.matches),
    "another chain's service",
  );
  await t.rejects(
    groupTarget('chain', { KAFKA_BROKERS: 'kafka:9092', CHAIN_CONFIG: path.join(dir, 'missing.json') }),
    /CHAIN_CONFIG_INVALID/,
    'no config: unhealthy with the reason',
  );
});

t.test('the group names match the ones the services use', async (t) => {
  const read = (file: string): Promise<string> => readFile(path.join(ROOT, file), 'utf8');
  t.match(
    await read('engine/daemon/main.ts'),
    'groupIdPrefix: `${config.engineId}.engine`',
    'engine reader group prefix',
  );
  t.match(
    await read('kafka/partition-reader.ts'),
    'groupId: `${this.opts.groupIdPrefix}.reader.${randomUUID()}`',
    'every partition reader joins a fresh <prefix>.reader.<uuid> group',
  );
  t.match(
    await read('persistence/kafka-source.ts'),
    'groupIdPrefix: this.opts.groupId',
    'persistence reads with its group id as the prefix',
  );
  t.match(await read('persistence/main.ts'), 'groupId: config.groupId', 'persistence uses PERSISTENCE_GROUP_ID');
  t.match(await read('chain/main.ts'), 'groupId: `chain-${config.name}-withdrawals`', 'chain withdrawals group');
  await t.rejects(groupTarget('engine', {}), /KAFKA_BROKERS/, 'an engine on its file log has no group to check');
});

t.test('the chain config step replaces the RPC URL and validates the result', async (t) => {
  const { json, config } = withRpcUrl(
    { ...TEMPLATE, rpcUrl: 'https://mainnet.example' },
    'https://sepolia.rpc.example',
  );
  t.equal(config.rpcUrl, 'https://sepolia.rpc.example', 'the environment wins over the file');
  t.equal(JSON.parse(json).rpcUrl, 'https://sepolia.rpc.example', 'and is what gets written');
  t.equal(
    withRpcUrl(TEMPLATE, 'https://sepolia.rpc.example').config.chainId,
    11155111,
    'a template without rpcUrl is fine',
  );
  t.throws(() => withRpcUrl(TEMPLATE, 'ftp://x'), /config\.rpcUrl/, 'a bad URL is named');
  t.throws(
    () => withRpcUrl({ ...TEMPLATE, confirmations: 0 }, 'https://x.example'),
    /config\.confirmations/,
    'a bad field is named',
  );
  t.throws(() => withRpcUrl([TEMPLATE], 'https://x.example'), /JSON object/);
});
