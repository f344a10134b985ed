/**
 * Command line for the local Kafka broker (see tools/kafka/broker.ts, docs/kafka-broker.md).
 *
 *   tsx tools/kafka/cli.ts fetch [--no-cds]
 *       # download the broker jars into the cache unless already complete, then (unless --no-cds) run
 *       # one throw-away broker to dump the AppCDS class archive that speeds up every later start
 *   tsx tools/kafka/cli.ts start [--port N] [--controller-port N] [--data-dir DIR]
 *       # prints {"brokers":"127.0.0.1:N","pid":…} as one JSON line on stdout, runs until SIGINT/SIGTERM
 *
 * Progress and errors go to stderr so stdout stays machine-readable.
 */
import { parseArgs } from 'node:util';
import { ensureKafkaCdsArchive, ensureKafkaJars, startKafkaBroker, type KafkaBroker } from './broker.js';

const USAGE = `usage: tsx tools/kafka/cli.ts fetch [--no-cds]
       tsx tools/kafka/cli.ts start [--port N] [--controller-port N] [--data-dir DIR]`;

async function fetchCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { 'no-cds': { type: 'boolean', default: false } }, strict: true });
  const startedAtMs = Date.now();
  const jarsDir = await ensureKafkaJars({ onDownloadStart: (message) => console.error(message) });
  const jarsMs = Date.now() - startedAtMs;
  if (values['no-cds']) {
    console.log(JSON.stringify({ jarsDir, jarsMs }));
    return;
  }
  // One throw-away broker run dumps the class archive that makes every later start ~3x faster.
  const cds = await ensureKafkaCdsArchive();
  console.log(
    JSON.stringify({
      jarsDir,
      jarsMs,
      cdsArchive: cds.archive,
      cdsCreated: cds.created,
      elapsedMs: Date.now() - startedAtMs,
    }),
  );
}

function parsePort(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${flag} must be a TCP port, got ${value}`);
  return port;
}

/** Resolves with the signal that asked us to stop. */
function nextTerminationSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}

async function startCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string' },
      'controller-port': { type: 'string' },
      'data-dir': { type: 'string' },
    },
    strict: true,
  });
  // Handlers go in before the (slow) start so a Ctrl-C during start still stops the broker cleanly.
  const termination = nextTerminationSignal();
  const broker: KafkaBroker = await startKafkaBroker({
    dataDir: values['data-dir'],
    port: parsePort(values.port, '--port'),
    controllerPort: parsePort(values['controller-port'], '--controller-port'),
  });
  console.log(
    JSON.stringify({
      brokers: broker.brokers,
      pid: broker.pid,
      port: broker.port,
      controllerPort: broker.controllerPort,
      dataDir: broker.dataDir,
      logFile: broker.logFile,
      startupMs: broker.startupMs,
    }),
  );

  const outcome = await Promise.race([
    termination.then((signal) => ({ kind: 'signal' as const, signal })),
    broker.exited.then((exit) => ({ kind: 'exited' as const, exit })),
  ]);
  if (outcome.kind === 'exited') {
    console.error(
      `kafka broker exited on its own (code ${outcome.exit.code}, signal ${outcome.exit.signal}); see ${broker.logFile}`,
    );
    await broker.stop(); // removes a temp data dir
    return 1;
  }
  console.error(`${outcome.signal}: stopping kafka broker pid ${broker.pid}`);
  await broker.stop();
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'fetch':
      await fetchCommand(rest);
      return 0;
    case 'start':
      return startCommand(rest);
    default:
      console.error(USAGE);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (exitCode) => {
    process.exitCode = exitCode;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  },
);
