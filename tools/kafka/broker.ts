/**
 * A real single-node Apache Kafka broker (KRaft, combined broker+controller) for tests and local runs,
 * assembled from Maven Central jars with the machine's Maven and Java 17: no Docker, no tarball download.
 *
 *   const dir = await ensureKafkaJars();            // mvn copy-dependencies once, cached outside git
 *   const broker = await startKafkaBroker();        // free loopback ports, temp data dir
 *   new Kafka({ brokers: [broker.brokers] });       // "127.0.0.1:PORT"
 *   await broker.stop();                            // SIGTERM, bounded wait, then SIGKILL
 *
 * See docs/kafka-broker.md for versions, timings and what was verified against kafkajs 2.2.4. This file is the
 * broker's lifecycle (start, supervise, stop) and the public entry point; the pieces live beside it: paths.ts,
 * process.ts, jars.ts (the jar cache), cds.ts (the class archive), storage.ts (the data directory), readiness.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  CDS_DUMP_EXTRA_STOP_MS,
  cdsArchivePath,
  fastStartupJvmArgs,
  publishCdsArchive,
  type FastStartupArgs,
} from './cds.js';
import { ensureKafkaJars } from './jars.js';
import { BROKER_LOG_FILE, LOG4J_CONFIG_PATH, SERVER_PROPERTIES_FILE, javaExecutable } from './paths.js';
import { hasExited, killAndWait, waitForExit, withParentDeathSignal, type BrokerExit } from './process.js';
import { fileSizeBytes, waitUntilReady } from './readiness.js';
import { formatStorage, readBrokerState, resolvePorts, writeBrokerState, writeServerProperties } from './storage.js';

export { cdsArchivePath } from './cds.js';
export { ensureKafkaJars, type EnsureKafkaJarsOptions } from './jars.js';
export { LOG4J_CONFIG_PATH, POM_PATH, defaultKafkaJarsDir, kafkaVersion } from './paths.js';
export type { BrokerExit } from './process.js';
export { pickFreeLoopbackPorts } from './storage.js';

const DEFAULT_START_TIMEOUT_MS = 90_000;
const DEFAULT_STOP_TIMEOUT_MS = 30_000;
const DEFAULT_HEAP_MB = 512;

export interface StartKafkaBrokerOptions {
  /**
   * Where server.properties, broker.log and the KRaft log dirs live. An existing, formatted dir is
   * reused as is (restart); its recorded ports are reused unless given. When omitted a temp dir is
   * created and removed again by stop().
   */
  dataDir?: string;
  /** PLAINTEXT listener port on 127.0.0.1; a free one when omitted (and no earlier run recorded one). */
  port?: number;
  /**
   * CONTROLLER listener port; a free one when omitted (and no earlier run recorded one). Changing it
   * on restart works (checked with 4.4.0) although --standalone formatting recorded the first one.
   */
  controllerPort?: number;
  /** Defaults to true for a temp dir created here, false for a caller's dataDir. */
  removeDataDirOnStop?: boolean;
  /** Extra or overriding server.properties entries, e.g. { 'auto.create.topics.enable': 'false' }. */
  extraConfig?: Record<string, string>;
  heapMb?: number;
  /**
   * Default true: C1-only JIT plus an AppCDS class archive (dumped by the first broker that stops
   * cleanly, see ensureKafkaCdsArchive) start the broker about 3x faster on 2 busy cores. Pass false
   * when measuring broker throughput: C1 code is slower than C2 code once warmed up.
   */
  fastStartup?: boolean;
  /** Appended to the JVM options (before the main class), e.g. ['-Xlog:gc']. */
  jvmExtraArgs?: string[];
  startTimeoutMs?: number;
  stopTimeoutMs?: number;
  jarsDir?: string;
}

export interface KafkaBroker {
  /** Bootstrap string for clients: "127.0.0.1:PORT" (not localhost: kafkajs may try ::1 first). */
  brokers: string;
  port: number;
  controllerPort: number;
  pid: number;
  dataDir: string;
  logFile: string;
  /** Wall time from spawning the JVM to the ready line plus a TCP accept. */
  startupMs: number;
  /** Settles when the JVM exits, whether via stop() or on its own. */
  exited: Promise<BrokerExit>;
  /** SIGTERM, wait up to stopTimeoutMs, then SIGKILL. Idempotent. */
  stop(): Promise<void>;
}

export async function startKafkaBroker(opts: StartKafkaBrokerOptions = {}): Promise<KafkaBroker> {
  const jarsDir = await ensureKafkaJars({ jarsDir: opts.jarsDir });
  const ownsDataDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir
    ? path.resolve(opts.dataDir)
    : await mkdtemp(path.join(os.tmpdir(), 'exchange-core-kafka-'));
  await mkdir(dataDir, { recursive: true });

  const previous = await readBrokerState(dataDir);
  const { port, controllerPort } = await resolvePorts(opts, previous);
  await writeServerProperties(dataDir, port, controllerPort, opts.extraConfig ?? {});
  if (!previous) await formatStorage(dataDir, jarsDir, port, controllerPort, opts.fastStartup ?? true);
  else if (previous.port !== port || previous.controllerPort !== controllerPort) {
    await writeBrokerState(dataDir, { ...previous, port, controllerPort }); // the next restart reuses them
  }

  const removeDataDirOnStop = opts.removeDataDirOnStop ?? ownsDataDir;
  try {
    return await launchBroker({
      dataDir,
      jarsDir,
      port,
      controllerPort,
      removeDataDirOnStop,
      heapMb: opts.heapMb ?? DEFAULT_HEAP_MB,
      fastStartup: opts.fastStartup ?? true,
      jvmExtraArgs: opts.jvmExtraArgs ?? [],
      startTimeoutMs: opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
      stopTimeoutMs: opts.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS,
    });
  } catch (err) {
    if (removeDataDirOnStop) await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Makes sure the CDS archive exists by running one throw-away broker (temp dir, free ports) from
 * start to clean stop. Meant for `kafka:fetch` so that tests never pay for the dump.
 */
export async function ensureKafkaCdsArchive(
  opts: { jarsDir?: string } = {},
): Promise<{ archive: string; created: boolean }> {
  const jarsDir = await ensureKafkaJars({ jarsDir: opts.jarsDir });
  const archive = cdsArchivePath(jarsDir);
  if (existsSync(archive)) return { archive, created: false };
  const broker = await startKafkaBroker({ jarsDir, fastStartup: true });
  await broker.stop();
  if (!existsSync(archive)) throw new Error(`broker pid ${broker.pid} stopped but left no CDS archive at ${archive}`);
  return { archive, created: true };
}

// --- launching and supervising the JVM --------------------------------------------------------------------

interface LaunchSpec {
  dataDir: string;
  jarsDir: string;
  port: number;
  controllerPort: number;
  removeDataDirOnStop: boolean;
  heapMb: number;
  fastStartup: boolean;
  jvmExtraArgs: string[];
  startTimeoutMs: number;
  stopTimeoutMs: number;
}

/** Brokers still running in this process; killed when the process exits so none is left behind. */
const liveBrokers = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous: SIGKILL is the only thing we can still do here.
  process.on('exit', () => {
    for (const child of liveBrokers) child.kill('SIGKILL');
  });
}

function jvmArgs(spec: LaunchSpec, startupArgs: string[]): string[] {
  return [
    `-Xms${spec.heapMb}m`,
    `-Xmx${spec.heapMb}m`,
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    // Die loudly instead of limping on with a broken heap.
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${LOG4J_CONFIG_PATH}`,
    // Log4j's own shutdown hook would stop logging while Kafka's hook is still shutting down,
    // hiding exactly the warnings that explain a slow or failed stop.
    '-Dlog4j2.shutdownHookEnabled=false',
    ...startupArgs,
    ...spec.jvmExtraArgs,
    '-cp',
    path.join(spec.jarsDir, '*'),
    'kafka.Kafka',
    path.join(spec.dataDir, SERVER_PROPERTIES_FILE),
  ];
}

async function launchBroker(spec: LaunchSpec): Promise<KafkaBroker> {
  const logFile = path.join(spec.dataDir, BROKER_LOG_FILE);
  // Restarts append to the same log; readiness and error tails only look at this run's part.
  const logOffsetBytes = await fileSizeBytes(logFile);
  // The JVM writes straight into the file rather than a pipe: a busy or blocked Node event loop can
  // then never stall the broker's logging threads on a full pipe buffer.
  const logFd = openSync(logFile, 'a');
  const startup: FastStartupArgs = spec.fastStartup ? fastStartupJvmArgs(spec.jarsDir, true) : { args: [] };
  const { command, args } = withParentDeathSignal(javaExecutable(), jvmArgs(spec, startup.args));
  const startedAtMs = Date.now();
  let child: ChildProcess;
  try {
    child = spawn(command, args, { cwd: spec.dataDir, stdio: ['ignore', logFd, logFd] });
  } finally {
    closeSync(logFd); // the child holds its own copy
  }
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const exited = new Promise<BrokerExit>((resolve) => {
    child.once('exit', (code, signal) => {
      liveBrokers.delete(child);
      resolve({ code, signal });
    });
  });
  installExitHook();
  liveBrokers.add(child);

  try {
    await waitUntilReady({
      child,
      exited,
      spawnError,
      logFile,
      logOffsetBytes,
      port: spec.port,
      timeoutMs: spec.startTimeoutMs,
    });
  } catch (err) {
    await killAndWait(child, exited);
    await publishCdsArchive(startup.pendingArchive); // a SIGKILLed JVM dumped nothing: just cleans up
    throw err;
  }
  if (child.pid === undefined) throw new Error('broker reported ready but has no pid');

  let stopping: Promise<void> | undefined;
  return {
    brokers: `127.0.0.1:${spec.port}`,
    port: spec.port,
    controllerPort: spec.controllerPort,
    pid: child.pid,
    dataDir: spec.dataDir,
    logFile,
    startupMs: Date.now() - startedAtMs,
    exited,
    stop: () => (stopping ??= stopBroker(child, exited, spec, startup.pendingArchive)),
  };
}

async function stopBroker(
  child: ChildProcess,
  exited: Promise<BrokerExit>,
  spec: LaunchSpec,
  pendingArchive: string | undefined,
): Promise<void> {
  if (!hasExited(child)) {
    // SIGTERM runs Kafka's shutdown hook: controlled shutdown, logs flushed, clean restart later.
    child.kill('SIGTERM');
    const stopTimeoutMs = spec.stopTimeoutMs + (pendingArchive ? CDS_DUMP_EXTRA_STOP_MS : 0);
    if (!(await waitForExit(exited, stopTimeoutMs))) {
      process.emitWarning(`Kafka broker pid ${child.pid} ignored SIGTERM for ${stopTimeoutMs} ms; sending SIGKILL`);
      await killAndWait(child, exited);
    }
  }
  await publishCdsArchive(pendingArchive);
  if (spec.removeDataDirOnStop) await rm(spec.dataDir, { recursive: true, force: true });
}
