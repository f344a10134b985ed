// The compose file's structure, read without Docker: each exchange service runs its compiled entry point with node
// (the build emits it from a source that exists), waits for what it needs with a condition, has a health check that
// checks something real, and every ${VAR} it uses is documented in compose/.env.example. The chain service's secrets
// come from the read-only ./secrets mount.

import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { CHECKED_SERVICES } from '../../compose/healthcheck.js';
import { DAEMON_NODE_FLAGS } from '../../engine/daemon/config.js';
import {
  COMPOSE_DIR,
  EXCHANGE_SERVICES,
  ROOT,
  builtFrom,
  composeText,
  composeVariables,
  loadCompose,
  placeholderVars,
} from './compose-file.js';

t.test('every service is defined, and the exchange services are built from the repository', async (t) => {
  const compose = await loadCompose(placeholderVars());
  t.same(Object.keys(compose.services).sort(), [
    'chain',
    'engine',
    'gateway',
    'kafka',
    'persistence',
    'postgres',
    'redis',
  ]);
  for (const name of EXCHANGE_SERVICES) {
    const s = compose.services[name];
    t.equal(
      path.resolve(COMPOSE_DIR, s.build?.context ?? '?'),
      ROOT,
      `${name} builds with the repository root as context (nothing outside it)`,
    );
    t.equal(s.build?.dockerfile, 'compose/Dockerfile', `${name} uses compose/Dockerfile`);
    t.equal(
      s.init,
      undefined,
      `${name}: the image's own init (tini, its ENTRYPOINT) forwards signals, not a second one`,
    );
  }
});

const ENTRY_POINTS: Record<string, string> = {
  engine: 'engine/daemon/main.ts',
  persistence: 'persistence/main.ts',
  chain: 'chain/main.ts',
  gateway: 'gateway/main.ts',
};

t.test('every exchange service runs its compiled entry point with node, source maps on', async (t) => {
  const compose = await loadCompose(placeholderVars());
  for (const name of EXCHANGE_SERVICES) {
    const command = compose.services[name].command ?? [];
    const flags = name === 'engine' ? ['--enable-source-maps', ...DAEMON_NODE_FLAGS] : ['--enable-source-maps'];
    t.same(command.slice(0, -1), ['node', ...flags], `${name}: node ${flags.join(' ')} (no npm, no tsx)`);
    t.equal(
      await builtFrom(command.at(-1) ?? ''),
      ENTRY_POINTS[name],
      `${name} runs the build of ${ENTRY_POINTS[name]}`,
    );
  }
});

t.test('every depends_on names a defined service with a condition', async (t) => {
  const compose = await loadCompose(placeholderVars());
  for (const [name, s] of Object.entries(compose.services)) {
    for (const [dep, spec] of Object.entries(s.depends_on ?? {})) {
      t.ok(compose.services[dep] !== undefined, `${name} depends on ${dep}, which is defined`);
      t.equal(spec.condition, 'service_healthy', `${name} waits for ${dep} to be healthy`);
      t.ok(compose.services[dep]?.healthcheck !== undefined, `${dep} has the health check ${name} waits for`);
    }
  }
  const needs: Record<string, string[]> = {
    engine: ['kafka'],
    persistence: ['engine', 'kafka', 'postgres'],
    chain: ['engine', 'kafka', 'postgres'],
    gateway: ['engine', 'kafka', 'postgres', 'redis'],
  };
  for (const [name, deps] of Object.entries(needs))
    t.same(
      Object.keys(compose.services[name].depends_on ?? {}).sort(),
      deps,
      `${name} starts after ${deps.join(', ')}`,
    );
});

t.test('every service has a health check; the exchange services check something real', async (t) => {
  const compose = await loadCompose(placeholderVars());
  for (const [name, s] of Object.entries(compose.services)) {
    t.ok((s.healthcheck?.test.length ?? 0) >= 2, `${name} has a health check`);
    t.match(s.healthcheck?.test[0] ?? '', /^CMD(-SHELL)?$/, `${name}: a command, not NONE`);
  }
  for (const name of CHECKED_SERVICES) {
    t.same(
      compose.services[name].healthcheck?.test,
      ['CMD', 'node', 'dist/compose/healthcheck.js', name],
      `${name}: its Kafka consumer is in a Stable group`,
    );
  }
  const gateway = compose.services.gateway;
  const port = gateway.environment?.GATEWAY_PORT;
  t.match(gateway.healthcheck?.test.join(' '), `http://127.0.0.1:${port}/ready`, 'the gateway: /ready on its own port');
  t.equal(await builtFrom('dist/compose/healthcheck.js'), 'compose/healthcheck.ts');
  await access(path.join(ROOT, 'compose/healthcheck.ts'));
});

t.test('gateways scale: a host port range, no fixed instance id, shared Redis', async (t) => {
  const text = await composeText();
  const compose = await loadCompose(placeholderVars());
  const gateway = compose.services.gateway;
  t.equal(gateway.ports?.length, 1);
  const [host, range, target] = (gateway.ports?.[0] ?? '').split(':');
  t.equal(host, '127.0.0.1', 'published on loopback only (/metrics is unauthenticated)');
  t.match(range, /^\d+-\d+$/, 'a range: one host port per instance');
  t.equal(target, gateway.environment?.GATEWAY_PORT, 'to the port the gateway listens on');
  t.equal(gateway.environment?.GATEWAY_ID, undefined);
  t.ok(gateway.environment?.REDIS_URL, 'shared stores');
  t.match(text, /--scale gateway=/, 'the file says how to scale');
  t.equal(
    compose.services.engine.environment?.ENGINE_ID,
    'engine-0',
    'one engine, fixed id (its transactional id fences a second)',
  );
});

t.test(
  'the chain service: secrets from the read-only mount, RPC URL required, config step before the service',
  async (t) => {
    const compose = await loadCompose(placeholderVars());
    const chain = compose.services.chain;
    t.same(chain.volumes, ['./secrets:/secrets:ro']);
    t.same(
      chain.entrypoint,
      ['/usr/bin/tini', '--', 'sh', 'dist/compose/chain-entrypoint.sh'],
      "under tini, as the image's own entrypoint would be",
    );
    t.equal(
      await builtFrom('dist/compose/chain-entrypoint.sh'),
      'compose/chain-entrypoint.sh',
      'the script is copied into dist/',
    );
    const entry = await readFile(path.join(COMPOSE_DIR, 'chain-entrypoint.sh'), 'utf8');
    t.match(entry, /\nnode --enable-source-maps dist\/compose\/chain-config\.js\n/, 'writes the config');
    t.equal(await builtFrom('dist/compose/chain-config.js'), 'compose/chain-config.ts');
    t.match(entry, /\nexec "\$@"\n$/, 'then becomes the command, so signals reach it');
    t.match(entry, /set -eu/, 'a failed config step stops the container');
    const vars = composeVariables(await composeText());
    t.same(vars.get('CHAIN_RPC_URL'), { required: true, fallback: null }, 'no default RPC URL');
    t.notMatch(chain.user ?? '', /^0(:|$)|^root/, 'not root');
    const ignore = await readFile(path.join(COMPOSE_DIR, 'secrets/.gitignore'), 'utf8');
    t.match(ignore, /^\*$/m, 'compose/secrets is kept out of git');
  },
);

t.test('every variable the file interpolates is documented in compose/.env.example', async (t) => {
  const example = await readFile(path.join(COMPOSE_DIR, '.env.example'), 'utf8');
  const documented = new Set([...example.matchAll(/^([A-Z0-9_]+)=/gm)].map((m) => m[1]));
  const vars = composeVariables(await composeText());
  t.ok(vars.size >= 4);
  for (const name of vars.keys()) t.ok(documented.has(name), `${name} is in compose/.env.example`);
  for (const name of documented) t.ok(vars.has(name), `${name} in compose/.env.example is used by the compose file`);
});
