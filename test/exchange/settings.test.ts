// Settings: .env.example lists exactly the variables the components read (found in their config sources), and the
// embedded launcher's validation names the bad variable.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { ConfigError, readEmbeddedConfig } from '../../exchange/config.js';

const ROOT = path.join(import.meta.dirname, '..', '..');
/** Every file where a component reads its environment. */
const SOURCES = [
  'config/env.ts',
  'engine/daemon/config.ts',
  'persistence/config.ts',
  'chain/main.ts',
  'chain/settings.ts',
  'chain/keystore.ts',
  'chain/keys-cli.ts',
  'gateway/config.ts',
  'exchange/config.ts',
];
// env.NAME, env['NAME'], process.env.NAME, helper(env, 'NAME', ...), need('NAME'), and the launcher's refused list.
const PATTERNS = [
  /\benv\.([A-Z][A-Z0-9_]+)/g,
  /\benv\['([A-Z][A-Z0-9_]+)'\]/g,
  /\(\s*(?:env|process\.env),\s*'([A-Z][A-Z0-9_]+)'/g,
  /\bneed\('([A-Z][A-Z0-9_]+)'\)/g,
  /SERVICE_ONLY = \[([^\]]*)\]/g,
];

async function variablesRead(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const file of SOURCES) {
    const text = await readFile(path.join(ROOT, file), 'utf8');
    for (const re of PATTERNS)
      for (const m of text.matchAll(re)) for (const n of m[1].match(/[A-Z][A-Z0-9_]+/g) ?? []) names.add(n);
  }
  return names;
}

t.test('.env.example documents every variable the components read, and only those', async (t) => {
  const example = await readFile(path.join(ROOT, '.env.example'), 'utf8');
  const documented = new Set([...example.matchAll(/^([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]));
  const read = await variablesRead();
  t.ok(read.size >= 35, `${read.size} variables found in the config sources`);
  t.same([...read].filter((n) => !documented.has(n)).sort(), [], 'read but not in .env.example');
  t.same([...documented].filter((n) => !read.has(n)).sort(), [], 'in .env.example but read by nothing');
});

t.test('the embedded launcher names the variable it refuses', async (t) => {
  const code = (env: Record<string, string>): string => {
    try {
      readEmbeddedConfig(env);
      return 'accepted';
    } catch (err) {
      t.ok(err instanceof ConfigError, 'a ConfigError');
      return (err as Error).message;
    }
  };
  t.match(code({ KAFKA_BROKERS: '127.0.0.1:9092' }), /^KAFKA_BROKERS is set, but npm start runs the embedded exchange/);
  t.match(code({ KEYSTORE_PATH: 'k.json' }), /^KEYSTORE_PATH is set/);
  t.match(code({ DEVNET_PORT: '99999' }), /^DEVNET_PORT must be an integer from 0 to 65535, got "99999"/);
  t.match(code({ DATABASE_URL: 'mysql://x' }), /^DATABASE_URL must be a postgres:\/\/ URL/);
  t.match(code({ LOG_LEVEL: 'loud' }), /^LOG_LEVEL must be one of/);
  t.match(code({ EMBEDDED_GATEWAY: 'maybe' }), /^EMBEDDED_GATEWAY must be true or false/);
  const ok = readEmbeddedConfig({});
  t.same(
    [ok.dataDir, ok.databaseUrl, ok.gatewayHost, ok.devnetConfirmations],
    ['.data', null, '127.0.0.1', 2],
    'defaults',
  );
});

t.test("npm start reads the gateway's GATEWAY_* settings as the gateway service does", async (t) => {
  const config = readEmbeddedConfig({
    GATEWAY_RATE_LIMIT_IP_PER_MIN: '50',
    GATEWAY_RATE_LIMIT_KEY_PER_MIN: '70',
    GATEWAY_COMMAND_TIMEOUT_MS: '2500',
  });
  t.equal(config.gatewayTuning.rateLimitIpPerMin, 50, 'the per-IP rate limit');
  t.equal(config.gatewayTuning.rateLimitKeyPerMin, 70, 'the per-key rate limit');
  t.equal(config.gatewayTuning.commandTimeoutMs, 2500);
  t.equal(readEmbeddedConfig({}).gatewayTuning.rateLimitIpPerMin, 1200, "the service's default when unset");
  t.equal(readEmbeddedConfig({}).gatewayTuning.withdrawalAddressDelayMs, 0, 'DEVNET: no address time lock by default');
  t.throws(
    () => readEmbeddedConfig({ GATEWAY_RATE_LIMIT_IP_PER_MIN: '0' }),
    /GATEWAY_RATE_LIMIT_IP_PER_MIN/,
    'a bad value is refused at start, named',
  );
});
