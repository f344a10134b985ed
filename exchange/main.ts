// `npm start`: the whole exchange in one process with nothing else to install (exchange/embedded.ts), its data
// under DATA_DIR (default .data). Prints where everything is. Ctrl-C (SIGINT) or SIGTERM stops the components in
// order and exits 0; starting again resumes from the stored state. A component that fails stops everything, exit 1.
// A bad setting exits 2 with a message naming the variable.

import pino from 'pino';
import { ConfigError, readEmbeddedConfig } from './config.js';
import type { EmbeddedConfig } from './config.js';
import { StartAborted, startEmbeddedExchange } from './embedded.js';
import type { GatewayStarter, RunningExchange } from './embedded.js';
import { Lifecycle } from './lifecycle.js';
import { PhaseTimer, buildCheckMs, formatPhases } from './phases.js';

async function loadGateway(config: EmbeddedConfig, logger: pino.Logger): Promise<GatewayStarter | undefined> {
  if (!config.gateway) return undefined;
  try {
    // Loaded lazily: the exchange runs (engine, persistence, chain) even when the gateway cannot start here.
    return (await import('./gateway-embedded.js')).startEmbeddedGateway;
  } catch (err) {
    logger.warn(
      { err: (err as Error).message },
      'the gateway is not available in the embedded mode yet; running without the API',
    );
    return undefined;
  }
}

/**
 * The web page is built from web/ when its sources changed since the last build (tools/web/build.ts: well under a
 * second of esbuild), so `npm start` is still the whole set-up. An install without the build tools (production
 * dependencies only) serves the page built before, or none.
 */
async function ensureWebPage(logger: pino.Logger): Promise<void> {
  try {
    const { buildWeb } = await import('../tools/web/build.js');
    const r = await buildWeb({ root: process.cwd(), ifStale: true });
    if (r.built) logger.info({ ms: r.buildMs, jsGzipBytes: r.jsGzipBytes }, 'built the web page');
  } catch (err) {
    logger.warn({ err: (err as Error).message }, 'could not build the web page; serving the one built before, if any');
  }
}

function banner(x: RunningExchange, phases: PhaseTimer): string {
  const lines = [
    '',
    'exchange-core is running (embedded mode: one process, data in ' + x.dataDir + ')',
    // From the process's start: under `npm start` that includes bringing dist/ up to date (tools/build/start.mjs).
    `  ready in:     ${process.uptime().toFixed(1)} s`,
    `                (${formatPhases(phases.list())}; web page, postgres and devnet run side by side)`,
    x.gatewayUrl === null
      ? '  API:          (gateway not running in this process)'
      : `  Web page:     ${x.gatewayUrl}/\n  API:          ${x.gatewayUrl}/v1\n  Swagger UI:   ${x.gatewayUrl}/docs\n  WebSocket:    ${x.gatewayUrl.replace(/^http/, 'ws')}/v1/ws`,
    `  PostgreSQL:   ${x.databaseUrl}   (psql works while it runs)`,
    `  devnet RPC:   ${x.rpcUrl}   (chain id ${x.chainId})`,
    `  tokens:       ${x.devnet.tokens.map((t) => `${t.symbol} (${t.decimals} decimals) ${t.address}`).join('\n                ')}`,
    `  markets:      ${x.markets.map((m) => m.symbol).join(', ')}`,
    `  hot wallet:   ${x.hotWallet}`,
    ...(x.gatewayUrl === null
      ? []
      : [
          `  operators:    DATABASE_URL=${x.databaseUrl} GATEWAY_SECRET_KEY=$(cat ${x.dataDir}/gateway-secret.key) npm run admin -- create-operator --name NAME --role admin`,
          '                (then POST /v1/admin/auth/login with the printed password and a code of the printed TOTP: docs/gateway.md)',
        ]),
    '  DEVNET ONLY: the keystore passphrase is stored in the data directory. Never send real funds to these addresses.',
    '  Ctrl-C stops it; npm start again resumes where it stopped.',
    '',
  ];
  return lines.join('\n');
}

async function main(): Promise<number> {
  let config: EmbeddedConfig;
  try {
    config = readEmbeddedConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`exchange: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const logger = pino({ level: config.logLevel, base: { service: 'exchange' } });
  const life = new Lifecycle(logger);
  let exitCode = 0;
  let signalled: (() => void) | null = null;
  const stopped = new Promise<void>((resolve) => (signalled = resolve));
  let signals = 0;
  const onSignal = (signal: string): void => {
    // Kept, not once: a terminal's Ctrl-C can arrive twice (directly and relayed by tsx), and a default handler
    // for the second one would kill the process in the middle of its clean stop. Every stop step is time-bounded.
    if (signals++ > 0)
      return void logger.warn({ signal }, 'already stopping (each step has a time limit; SIGKILL forces it)');
    logger.info({ signal }, 'stopping');
    signalled?.();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  life.onFail(() => {
    exitCode = 1;
    signalled?.();
  });
  // A signal during start-up stops it at its next step.
  void stopped.then(() => life.stopAll());
  const phases = new PhaseTimer();
  const build = buildCheckMs();
  if (build !== null) phases.add('build check', build);
  // Side by side with the start-up; the gateway reads the page's files when it starts, so it waits for this.
  const webPage = config.gateway ? phases.time('web page', () => ensureWebPage(logger)) : Promise.resolve();
  const gateway = await loadGateway(config, logger);
  let exchange: RunningExchange;
  try {
    exchange = await startEmbeddedExchange(config, logger, {
      lifecycle: life,
      phases,
      gateway:
        gateway === undefined
          ? undefined
          : async (deps) => {
              await webPage;
              return gateway(deps);
            },
    });
  } catch (err) {
    if (err instanceof StartAborted) return exitCode;
    logger.fatal({ err }, `start-up failed: ${(err as Error).message}`);
    return 1;
  }
  logger.info({ readyMs: Math.round(process.uptime() * 1000), phases: phases.list() }, 'start-up phases');
  process.stdout.write(banner(exchange, phases) + '\n');
  await stopped;
  const clean = await life.stopAll();
  logger.info({ clean }, 'exchange stopped');
  return exitCode === 0 && !clean ? 1 : exitCode;
}

main()
  // Client libraries may keep timers or sockets after a clean stop; everything is flushed, so end the process.
  .then((code) => process.exit(code))
  .catch((err) => {
    process.stderr.write(`exchange: fatal: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
