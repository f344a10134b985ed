// No Docker engine runs here, so the compose file is checked by reading it: every variable it sets on the
// engine service must be one the engine daemon reads, and the Kafka cluster id must be fixed (no manual step).

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { DAEMON_NODE_FLAGS, readDaemonConfig } from '../../engine/daemon/config.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The `environment:` keys of one service, read line by line (the file keeps a plain two-space layout). */
function serviceEnv(compose: string, service: string): Map<string, string> {
  const lines = compose.split('\n');
  const start = lines.indexOf(`  ${service}:`);
  const env = new Map<string, string>();
  if (start < 0) return env;
  let inEnv = false;
  for (const line of lines.slice(start + 1)) {
    if (/^ {2}\S/.test(line)) break; // next service
    if (/^ {4}environment:/.test(line)) inEnv = true;
    else if (/^ {4}\S/.test(line)) inEnv = false;
    else if (inEnv) {
      const m = /^ {6}([A-Z0-9_]+):\s*"?([^"]*)"?$/.exec(line);
      if (m) env.set(m[1], m[2]);
    }
  }
  return env;
}

t.test('the engine service sets only variables the daemon reads, with valid values', async (t) => {
  const compose = await readFile(path.join(ROOT, 'compose/docker-compose.yml'), 'utf8');
  const engineEnv = serviceEnv(compose, 'engine');
  t.ok(engineEnv.size >= 5, 'the engine service has its environment');
  const source = await readFile(path.join(ROOT, 'engine/daemon/config.ts'), 'utf8');
  for (const name of engineEnv.keys()) t.match(source, new RegExp(`['.]${name}\\b`), `${name} is read by engine/daemon/config.ts`);
  const config = readDaemonConfig(Object.fromEntries(engineEnv));
  t.same(config.kafkaBrokers, ['kafka:9092'], 'the brokers variable parses');
  t.equal(config.engineId, 'engine-0');
});

t.test('Kafka runs in KRaft mode with a fixed cluster id', async (t) => {
  const compose = await readFile(path.join(ROOT, 'compose/docker-compose.yml'), 'utf8');
  const kafka = serviceEnv(compose, 'kafka');
  t.match(kafka.get('CLUSTER_ID') ?? '', /^[A-Za-z0-9_-]{22}$/, 'a base64url 16-byte cluster id is set');
  t.equal(kafka.get('KAFKA_PROCESS_ROLES'), 'broker,controller');
  t.equal(kafka.get('KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR'), '1', 'single-node replication factors');
  t.equal(kafka.get('KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR'), '1');
});

t.test('a bad setting is refused with the variable named', async (t) => {
  t.throws(() => readDaemonConfig({ ENGINE_BATCH_MAX: '0' }), /ENGINE_BATCH_MAX/);
  t.throws(() => readDaemonConfig({ KAFKA_BROKERS: 'not a broker' }), /KAFKA_BROKERS/);
  t.throws(() => readDaemonConfig({ ENGINE_ID: 'bad id!' }), /ENGINE_ID/);
  t.equal(readDaemonConfig({}).kafkaBrokers, null, 'no KAFKA_BROKERS means the embedded file log');
});

t.test('npm run engine starts the daemon with its node flags', async (t) => {
  const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  for (const flag of DAEMON_NODE_FLAGS) t.ok(pkg.scripts.engine.split(' ').includes(flag), `the engine script passes ${flag}`);
  t.match(pkg.scripts.engine, /engine\/daemon\/main\.ts$/, 'to the daemon');
});
