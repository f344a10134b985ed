// Market data without Redis is a single instance: it must read the events itself and say it publishes nothing.
// Every other combination is refused when the plugin is registered, with a message naming what is missing (a
// relay without Redis would wait forever for records nobody sends it).

import t from 'tap';
import Fastify from 'fastify';
import { marketDataPlugin } from '../../gateway/market-data/plugin.js';
import type { MarketDataPluginOptions } from '../../gateway/market-data/plugin.js';
import type { MarketEventSource } from '../../gateway/market-data/source.js';

const events: MarketEventSource = { consume: async () => undefined, stop: async () => undefined };
const base = { sql: null as never, authenticate: async () => null };

async function register(opts: Partial<MarketDataPluginOptions>): Promise<void> {
  const app = Fastify({ logger: false });
  try {
    await app.register(marketDataPlugin, { ...base, ...opts } as MarketDataPluginOptions);
  } finally {
    await app.close().catch(() => undefined);
  }
}

t.test('without Redis: a relay is refused', async (t) => {
  await t.rejects(register({}), /a relay instance \(no `events`\) needs `redis`/);
});

t.test('without Redis: publishing is refused unless publish: false says there is nothing to publish', async (t) => {
  await t.rejects(register({ events }), /pass `publish: false`/);
  await t.rejects(register({ events, publish: true }), /pass `publish: false`/);
});

t.test('redis and redisPrefix go together', async (t) => {
  await t.rejects(register({ events, publish: false, redisPrefix: 'md:' }), /go together/);
});

t.test('without Redis, with events and publish: false: registered as a consuming instance', async (t) => {
  const app = Fastify({ logger: false });
  t.teardown(() => app.close());
  await app.register(marketDataPlugin, { ...base, events, publish: false });
  await app.after();
  t.equal(app.marketData.status().mode, 'consumer');
  t.equal(app.marketData.status().ready, false, 'no state yet (not started)');
});
