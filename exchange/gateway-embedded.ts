// ==== GATEWAY INTEGRATION POINT of the embedded exchange ====
// How the gateway runs inside `npm start`: the same buildGateway as gateway/main.ts, with in-process stand-ins
// for what that file gets from Kafka and Redis:
//   bus         EmbeddedCommandBus (exchange/gateway-io.ts): commands appended to the shared file log, results
//               read from its records
//   stores      memoryStores() (gateway/stores/): one gateway instance, so in-process state is enough
//   market data EmbeddedMarketSource: the log's records, publish off (no relays without Redis)
//   secret key  generated once into DATA_DIR/gateway-secret.key (0600): API-key secrets at rest stay readable
//               across restarts
//   deposit xpub from the embedded keystore (the chain service's keys)
// Loaded lazily by exchange/main.ts: when this file fails to import, the exchange runs without the API and says
// so; when it fails to start, the start fails (EMBEDDED_GATEWAY=false runs without it).
//   faucet      the devnet's Faucet: POST /v1/devnet/faucet (gateway/routes/faucet.ts) mints to the caller's
//               deposit address
//   web page    dist/web (tools/web/build.ts; exchange/main.ts builds it when its sources changed), served at /

import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import postgres from 'postgres';
import { buildGateway } from '../gateway/app.js';
import type { Authenticate } from '../gateway/app.js';
import { DEFAULT_OPTIONS } from '../gateway/config.js';
import type { GatewayOptions } from '../gateway/config.js';
import { marketDataPlugin } from '../gateway/market-data/plugin.js';
import { migrateGateway } from '../gateway/migrate.js';
import { DEFAULT_WEB_ROOT, webPageBuilt } from '../gateway/web/page.js';
import { lateResultRecorder } from '../gateway/routes/commands.js';
import { memoryStores } from '../gateway/stores/gateway-stores.js';
import type { EmbeddedGatewayDeps, GatewayStarter } from './embedded.js';
import { EmbeddedCommandBus, EmbeddedMarketSource } from './gateway-io.js';

const PENDING_COMMANDS_MAX = 10_000;
/** The embedded database serialises statements: a small pool is as fast and keeps within its connection limit. */
const SQL_CONNECTIONS_MAX = 8;

async function secretKey(dataDir: string): Promise<Buffer> {
  const file = path.join(dataDir, 'gateway-secret.key');
  try {
    return Buffer.from((await readFile(file, 'utf8')).trim(), 'hex');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const key = randomBytes(32);
  await writeFile(file, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  return key;
}

export const startEmbeddedGateway: GatewayStarter = async (deps: EmbeddedGatewayDeps) => {
  const { logger } = deps;
  const sql = postgres(deps.databaseUrl, { max: SQL_CONNECTIONS_MAX, onnotice: () => {} });
  try {
    await migrateGateway(sql);
    const options: GatewayOptions = {
      ...DEFAULT_OPTIONS,
      ...deps.tuning,
      secretKey: await secretKey(deps.dataDir),
      depositXpub: deps.keys.depositXpub(),
    };
    if (options.withdrawalAddressDelayMs === 0)
      logger.warn(
        'DEVNET: the withdrawal address time lock is 0 (GATEWAY_WITHDRAWAL_ADDRESS_DELAY_SECONDS); a real venue keeps 24 h',
      );
    const stores = memoryStores();
    const bus = new EmbeddedCommandBus(deps.log, {
      pendingMax: PENDING_COMMANDS_MAX,
      timeoutMs: options.commandTimeoutMs,
      logger,
      onLate: lateResultRecorder(stores.commands, options.redisPrefix),
    });
    bus.start();
    const marketData = ({ authenticate }: { authenticate: Authenticate }) => ({
      plugin: marketDataPlugin as never,
      options: { sql, logger, authenticate, publish: false, events: new EmbeddedMarketSource(deps.log) },
    });
    const webRoot = (await webPageBuilt(DEFAULT_WEB_ROOT)) ? DEFAULT_WEB_ROOT : undefined;
    if (webRoot === undefined)
      logger.warn({ webRoot: DEFAULT_WEB_ROOT }, 'the web page is not built (npm run build:web): serving the API only');
    const { app } = await buildGateway({
      sql,
      stores,
      bus,
      options,
      logger,
      marketData,
      faucet: deps.faucet,
      webRoot,
      depositConfirmations: deps.depositConfirmations,
      chainProgress: deps.chainProgress,
    });
    const address = await app.listen({ host: deps.host, port: deps.port });
    return {
      url: address.replace('://0.0.0.0', '://127.0.0.1').replace('://[::]', '://127.0.0.1'),
      stop: async () => {
        await app.close();
        await bus.close();
        await sql.end({ timeout: 5 });
      },
    };
  } catch (err) {
    await sql.end({ timeout: 5 }).catch(() => undefined);
    throw err;
  }
};
