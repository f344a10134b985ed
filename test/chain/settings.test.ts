// The chain service's environment is read by the shared readers: defaults, and each bad value named before start.

import t from 'tap';
import { readChainSettings } from '../../chain/settings.js';

const base = { CHAIN_CONFIG: 'chain.json', DATABASE_URL: 'postgres://localhost/x', KAFKA_BROKERS: 'k1:9092,k2:9092' };

t.test('given the required variables, the rest take their defaults', async (t) => {
  const s = readChainSettings(base);
  t.same(s.kafkaBrokers, ['k1:9092', 'k2:9092']);
  t.equal(s.commandsTopic, 'exchange.commands.v1');
  t.equal(s.eventsTopic, 'exchange.events.v1');
  t.equal(s.keystorePath, 'keystore.json');
  t.equal(s.statusHost, '127.0.0.1');
  t.equal(s.statusPort, 9464);
  t.equal(s.logLevel, 'info');
});

t.test('each missing or bad variable is named', async (t) => {
  const cases: [Record<string, string | undefined>, string][] = [
    [{ ...base, CHAIN_CONFIG: undefined }, 'CHAIN_CONFIG'],
    [{ ...base, DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ ...base, KAFKA_BROKERS: '' }, 'KAFKA_BROKERS'],
    [{ ...base, KAFKA_BROKERS: 'no-port' }, 'KAFKA_BROKERS'],
    [{ ...base, KAFKA_EVENTS_TOPIC: 'bad topic' }, 'KAFKA_EVENTS_TOPIC'],
    [{ ...base, KEYSTORE_PATH: ' keystore.json' }, 'KEYSTORE_PATH'],
    [{ ...base, CHAIN_STATUS_HOST: 'a host' }, 'CHAIN_STATUS_HOST'],
    [{ ...base, CHAIN_STATUS_PORT: '70000' }, 'CHAIN_STATUS_PORT'],
    [{ ...base, LOG_LEVEL: 'very loud' }, 'LOG_LEVEL'],
  ];
  for (const [env, name] of cases) {
    t.throws(
      () => readChainSettings(env),
      { name: 'ConfigError', message: new RegExp(`^${name}\\b`) },
      `${name} is named`,
    );
  }
});
