// REDIS_URL chooses the gateway's stores: unset (or empty) means in-process stores for a single instance; a value
// must be a redis:// URL, and a bad one names the variable.

import t from 'tap';
import { ConfigError, readGatewayConfig } from '../../gateway/config.js';
import { HdKeys } from '../../chain/hd.js';
import { TEST_MNEMONIC } from './support.js';

const env = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/x',
  KAFKA_BROKERS: '127.0.0.1:9092',
  GATEWAY_SECRET_KEY: '11'.repeat(32),
  DEPOSIT_XPUB: new HdKeys(TEST_MNEMONIC).depositXpub(),
};

t.test('REDIS_URL unset or empty: null (in-process stores)', async (t) => {
  t.equal(readGatewayConfig(env).redisUrl, null);
  t.equal(readGatewayConfig({ ...env, REDIS_URL: '' }).redisUrl, null);
});

t.test('REDIS_URL set: used as given, and a bad one is refused naming the variable', async (t) => {
  t.equal(readGatewayConfig({ ...env, REDIS_URL: 'redis://10.0.0.1:6380' }).redisUrl, 'redis://10.0.0.1:6380');
  t.equal(readGatewayConfig({ ...env, REDIS_URL: 'rediss://cache:6380' }).redisUrl, 'rediss://cache:6380');
  t.throws(
    () => readGatewayConfig({ ...env, REDIS_URL: 'http://10.0.0.1' }),
    new ConfigError('REDIS_URL must be a redis:// URL (or unset: in-process stores, one instance only)'),
  );
});
