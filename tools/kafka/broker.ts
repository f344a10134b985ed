/**
 * A real single-node Apache Kafka broker (KRaft, combined broker+controller) for tests and local runs,
 * assembled from Maven Central jars with the machine's Maven and Java 17: no Docker, no tarball download.
 *
 *   const dir = await ensureKafkaJars();            // mvn copy-dependencies once, cached outside git
 *   const broker = await startKafkaBroker();        // free loopback ports, temp data dir
 *   new Kafka({ brokers: [broker.brokers] });       // "127.0.0.1:PORT"
 *   await broker.stop();                            // SIGTERM, bounded wait, then SIGKILL
 *
 * See docs/kafka-broker.md for versions, timings and what was verified against kafkajs 2.2.4.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, type Admin } from 'kafkajs';

const KAFKA_TOOLS_DIR = path.dirname(fileURLToPath(import.meta.url));
export const POM_PATH = path.join(KAFKA_TOOLS_DIR, 'pom.xml');
export const LOG4J_CONFIG_PATH = path.join(KAFKA_TOOLS_DIR, 'log4j2.properties');

/** Written into the jars dir only after Maven finished and every jar is in place. */
const COMPLETE_MARKER_FILE = '.complete.json';
/** AppCDS archive of the broker's classes, kept next to the exact jars it was dumped from. */
const CDS_ARCHIVE_FILE = 'kafka-broker.jsa';
/** Written into a data dir only after StorageTool formatted it; its presence means "skip formatting". */
const STATE_FILE = 'broker-state.json';
const SERVER_PROPERTIES_FILE = 'server.properties';
const BROKER_LOG_FILE = 'broker.log';
/** log.dirs lives in a sub-directory so server.properties and broker.log never mix with Kafka's files. */
const KRAFT_LOG_SUBDIR = 'kraft-logs';
/** Logged by kafka.server.KafkaRaftServer (kept at INFO in log4j2.properties) once all listeners accept. */
const READY_LOG_LINE = 'Kafka Server started';

const DEFAULT_MVN_TIMEOUT_MS = 10 * 60_000;
const DEFAULT_FORMAT_TIMEOUT_MS = 60_000;
const DEFAULT_START_TIMEOUT_MS = 90_000;
const DEFAULT_STOP_TIMEOUT_MS = 30_000;
const SIGKILL_WAIT_MS = 10_000;
/** Dumping the CDS archive at exit took 2–20 s (idle vs. heavily loaded 2 cores); don't SIGKILL it. */
const CDS_DUMP_EXTRA_STOP_MS = 60_000;
const READY_POLL_INTERVAL_MS = 100;
const TCP_PROBE_TIMEOUT_MS = 2_000;
const LOG_TAIL_LINES = 60;
const LOG_TAIL_MAX_BYTES = 32 * 1024;
const CAPTURED_OUTPUT_MAX_BYTES = 64 * 1024;
const DEFAULT_HEAP_MB = 512;

// ---------------------------------------------------------------------------------------------------------
// Versions and paths
// ---------------------------------------------------------------------------------------------------------

/** The Kafka version comes from pom.xml so the POM stays the single place to change it. */
export function kafkaVersion(): string {
  const pom = readFileSync(POM_PATH, 'utf8');
  const match = /<kafka\.version>\s*([^<\s]+)\s*<\/kafka\.version>/.exec(pom);
  if (!match) throw new Error(`no <kafka.version> property in ${POM_PATH}`);
  return match[1];
}

/** `KAFKA_JARS_DIR` wins; otherwise a per-version cache outside the work tree (survives `git clean`). */
export function defaultKafkaJarsDir(): string {
  const fromEnv = process.env.KAFKA_JARS_DIR;
  if (fromEnv && fromEnv.trim() !== '') return path.resolve(fromEnv);
  return path.join(os.homedir(), '.cache', 'exchange-core', `kafka-${kafkaVersion()}`, 'libs');
}

function javaExecutable(): string {
  const javaHome = process.env.JAVA_HOME;
  return javaHome ? path.join(javaHome, 'bin', 'java') : 'java';
}

// ---------------------------------------------------------------------------------------------------------
// Small process helpers
// ---------------------------------------------------------------------------------------------------------

interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** stdout and stderr interleaved, only the last CAPTURED_OUTPUT_MAX_BYTES. */
  output: string;
}

/** Runs a short-lived command to completion; kills it (SIGKILL) when it outlives timeoutMs. */
function runProcess(command: string, args: string[], timeoutMs: number, cwd?: string): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const capture = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-CAPTURED_OUTPUT_MAX_BYTES);
    };
    child.stdout.on('data', capture);
    child.stderr.on('data', capture);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} did not finish within ${timeoutMs} ms; output tail:\n${tailLines(output)}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

function tailLines(text: string, lineCount = LOG_TAIL_LINES): string {
  return text
    .split('\n')
    .slice(-lineCount - 1)
    .join('\n');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function isNodeError(err: unknown, code: string): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === code;
}

// ---------------------------------------------------------------------------------------------------------
// Jars: mvn dependency:copy-dependencies into a cache dir, once
// ---------------------------------------------------------------------------------------------------------

export interface EnsureKafkaJarsOptions {
  /** Defaults to defaultKafkaJarsDir() (env KAFKA_JARS_DIR or ~/.cache/exchange-core/kafka-<version>/libs). */
  jarsDir?: string;
  mvnTimeoutMs?: number;
  /** Called with one line before a (slow) Maven download starts; silent when the cache is complete. */
  onDownloadStart?: (message: string) => void;
}

interface CompleteMarker {
  kafkaVersion: string;
  /** The cache is redone when the POM changes (e.g. a log4j bump without a Kafka bump). */
  pomSha256: string;
  jars: string[];
  downloadMs: number;
}

function pomSha256(): string {
  return createHash('sha256').update(readFileSync(POM_PATH)).digest('hex');
}

/** Resolves to the directory holding the broker's runtime jars (use it as classpath `<dir>/*`). */
export async function ensureKafkaJars(opts: EnsureKafkaJarsOptions = {}): Promise<string> {
  const jarsDir = path.resolve(opts.jarsDir ?? defaultKafkaJarsDir());
  const pomHash = pomSha256();
  if (await isCompleteJarsDir(jarsDir, pomHash)) return jarsDir;

  const version = kafkaVersion();
  opts.onDownloadStart?.(`fetching Kafka ${version} jars from Maven Central into ${jarsDir}`);
  await mkdir(path.dirname(jarsDir), { recursive: true });
  // Download next to the target and rename at the end: a crash or a timeout never leaves a
  // half-filled jars dir behind, and two processes fetching at once cannot mix their files.
  const partialDir = `${jarsDir}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const startedAtMs = Date.now();
    await runMavenCopyDependencies(partialDir, opts.mvnTimeoutMs ?? DEFAULT_MVN_TIMEOUT_MS);
    const jars = await listDownloadedJars(partialDir, version);
    const marker: CompleteMarker = {
      kafkaVersion: version,
      pomSha256: pomHash,
      jars,
      downloadMs: Date.now() - startedAtMs,
    };
    await writeFile(path.join(partialDir, COMPLETE_MARKER_FILE), JSON.stringify(marker, null, 2) + '\n');
    await publishJarsDir(partialDir, jarsDir, pomHash);
  } finally {
    await rm(partialDir, { recursive: true, force: true });
  }
  return jarsDir;
}

async function runMavenCopyDependencies(outputDir: string, timeoutMs: number): Promise<void> {
  const args = [
    '-B',
    '-q',
    '-f',
    POM_PATH,
    'dependency:copy-dependencies',
    '-DincludeScope=runtime',
    `-DoutputDirectory=${outputDir}`,
  ];
  const result = await runProcess('mvn', args, timeoutMs);
  if (result.code !== 0) {
    throw new Error(
      `mvn ${args.join(' ')} failed (exit ${result.code ?? result.signal}):\n${tailLines(result.output)}`,
    );
  }
}

async function listDownloadedJars(dir: string, version: string): Promise<string[]> {
  const jars = (await readdir(dir)).filter((name) => name.endsWith('.jar')).sort();
  // Guards against a POM edit that silently drops the broker or the logging binding.
  for (const required of [`kafka_2.13-${version}.jar`, 'log4j-slf4j-impl-']) {
    if (!jars.some((name) => name.startsWith(required))) {
      throw new Error(`Maven finished but ${dir} has no ${required}* jar; got: ${jars.join(', ')}`);
    }
  }
  return jars;
}

async function isCompleteJarsDir(dir: string, pomHash: string): Promise<boolean> {
  let marker: CompleteMarker;
  try {
    marker = JSON.parse(await readFile(path.join(dir, COMPLETE_MARKER_FILE), 'utf8')) as CompleteMarker;
  } catch (err) {
    // No marker (never downloaded, or interrupted) or an unreadable one: both mean "download again".
    if (isNodeError(err, 'ENOENT') || err instanceof SyntaxError) return false;
    throw err;
  }
  if (marker.pomSha256 !== pomHash || !Array.isArray(marker.jars) || marker.jars.length === 0) return false;
  for (const jar of marker.jars) {
    const jarStat = await stat(path.join(dir, jar)).catch(() => undefined);
    if (!jarStat || jarStat.size === 0) return false;
  }
  return true;
}

/** Moves a finished download into place, replacing only a stale cache that we recognise as ours. */
async function publishJarsDir(partialDir: string, jarsDir: string, pomHash: string): Promise<void> {
  if (await isCompleteJarsDir(jarsDir, pomHash)) return; // a concurrent fetch won the race
  await removeStaleJarsDir(jarsDir);
  try {
    await rename(partialDir, jarsDir);
  } catch (err) {
    const lostRace = isNodeError(err, 'ENOTEMPTY') || isNodeError(err, 'EEXIST');
    if (lostRace && (await isCompleteJarsDir(jarsDir, pomHash))) return;
    throw err;
  }
}

/** KAFKA_JARS_DIR may point anywhere: refuse to delete a directory holding anything but jars and our marker. */
async function removeStaleJarsDir(dir: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    if (isNodeError(err, 'ENOENT')) return;
    throw err;
  }
  const foreign = entries.filter(
    (name) => !name.endsWith('.jar') && name !== COMPLETE_MARKER_FILE && !name.startsWith(CDS_ARCHIVE_FILE),
  );
  if (foreign.length > 0) {
    throw new Error(
      `refusing to replace ${dir}: it is not a complete Kafka jars cache and holds ${foreign.join(', ')}`,
    );
  }
  await rm(dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------------------
// Broker
// ---------------------------------------------------------------------------------------------------------

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

export interface BrokerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface BrokerState {
  port: number;
  controllerPort: number;
  clusterId: string;
  kafkaVersion: string;
  formattedAt: string;
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

async function readBrokerState(dataDir: string): Promise<BrokerState | undefined> {
  try {
    return JSON.parse(await readFile(path.join(dataDir, STATE_FILE), 'utf8')) as BrokerState;
  } catch (err) {
    if (isNodeError(err, 'ENOENT')) return undefined;
    throw new Error(`cannot read ${path.join(dataDir, STATE_FILE)}: ${(err as Error).message}`);
  }
}

async function resolvePorts(
  opts: StartKafkaBrokerOptions,
  previous: BrokerState | undefined,
): Promise<{ port: number; controllerPort: number }> {
  const port = opts.port ?? previous?.port;
  const controllerPort = opts.controllerPort ?? previous?.controllerPort;
  if (port !== undefined && controllerPort !== undefined) return { port, controllerPort };
  const [freeA, freeB] = await pickFreeLoopbackPorts(2, [port, controllerPort]);
  return { port: port ?? freeA, controllerPort: controllerPort ?? freeB };
}

/**
 * Asks the kernel for free ports by binding to port 0. All sockets stay open until every port is
 * picked, so the ports differ from each other; another process could still grab one before Kafka binds
 * it, which then fails the start loudly (bind error in the log tail).
 */
export async function pickFreeLoopbackPorts(count: number, exclude: Array<number | undefined> = []): Promise<number[]> {
  const servers: net.Server[] = [];
  const ports: number[] = [];
  const maxAttempts = count + exclude.length + 10; // the kernel hands out distinct ports; this is a backstop
  try {
    while (ports.length < count) {
      if (servers.length >= maxAttempts) throw new Error(`no ${count} free loopback ports after ${maxAttempts} binds`);
      const server = net.createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
      const port = (server.address() as net.AddressInfo).port;
      if (!exclude.includes(port)) ports.push(port);
    }
  } finally {
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }
  return ports;
}

/** Single-node settings: every internal topic with replication factor 1 and as few partitions as possible. */
function serverProperties(
  dataDir: string,
  port: number,
  controllerPort: number,
  extra: Record<string, string>,
): string {
  const config: Record<string, string> = {
    'process.roles': 'broker,controller',
    'node.id': '1',
    'controller.quorum.bootstrap.servers': `127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'inter.broker.listener.name': 'PLAINTEXT',
    'log.dirs': path.join(dataDir, KRAFT_LOG_SUBDIR),
    'num.partitions': '1',
    'default.replication.factor': '1',
    'offsets.topic.replication.factor': '1',
    'offsets.topic.num.partitions': '1',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    'transaction.state.log.num.partitions': '1',
    'share.coordinator.state.topic.replication.factor': '1',
    'share.coordinator.state.topic.min.isr': '1',
    'share.coordinator.state.topic.num.partitions': '1',
    // The 3 s default delays every first JoinGroup of a classic group (all kafkajs groups).
    'group.initial.rebalance.delay.ms': '0',
    ...extra,
  };
  const lines = Object.entries(config).map(([key, value]) => `${key}=${escapePropertyValue(value)}`);
  return `# Generated by tools/kafka/broker.ts; rewritten on every start.\n${lines.join('\n')}\n`;
}

/** java.util.Properties treats backslashes as escapes (matters for Windows-style paths only). */
function escapePropertyValue(value: string): string {
  return value.replace(/\\/g, '\\\\');
}

async function writeServerProperties(
  dataDir: string,
  port: number,
  controllerPort: number,
  extra: Record<string, string>,
): Promise<void> {
  await writeFile(path.join(dataDir, SERVER_PROPERTIES_FILE), serverProperties(dataDir, port, controllerPort, extra));
}

/** A Kafka Uuid string: 16 random bytes, base64url without padding, never starting with '-'. */
function randomClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

async function formatStorage(
  dataDir: string,
  jarsDir: string,
  port: number,
  controllerPort: number,
  fastStartup: boolean,
): Promise<void> {
  // No state file means no finished format: clear whatever an interrupted attempt left behind.
  await rm(path.join(dataDir, KRAFT_LOG_SUBDIR), { recursive: true, force: true });
  const clusterId = randomClusterId();
  // Never dumps a CDS archive: StorageTool loads only part of the broker's classes.
  const startup = fastStartup ? fastStartupJvmArgs(jarsDir, false) : { args: [] };
  const args = [
    ...startup.args,
    `-Dlog4j2.configurationFile=${LOG4J_CONFIG_PATH}`,
    '-cp',
    path.join(jarsDir, '*'),
    'kafka.tools.StorageTool',
    'format',
    '-t',
    clusterId,
    '-c',
    path.join(dataDir, SERVER_PROPERTIES_FILE),
    '--standalone',
  ];
  const result = await runProcess(javaExecutable(), args, DEFAULT_FORMAT_TIMEOUT_MS, dataDir);
  if (result.code !== 0) {
    throw new Error(
      `kafka.tools.StorageTool format failed (exit ${result.code ?? result.signal}):\n${tailLines(result.output)}`,
    );
  }
  await writeBrokerState(dataDir, {
    port,
    controllerPort,
    clusterId,
    kafkaVersion: kafkaVersion(),
    formattedAt: new Date().toISOString(),
  });
}

async function writeBrokerState(dataDir: string, state: BrokerState): Promise<void> {
  await writeFile(path.join(dataDir, STATE_FILE), JSON.stringify(state, null, 2) + '\n');
}

// --- fast startup: C1 only + AppCDS ------------------------------------------------------------------------

interface FastStartupArgs {
  args: string[];
  /** Where this JVM dumps a new CDS archive at exit; published by publishCdsArchive(). */
  pendingArchive?: string;
}

export function cdsArchivePath(jarsDir: string): string {
  return path.join(jarsDir, CDS_ARCHIVE_FILE);
}

/**
 * Startup is CPU-bound (thousands of classes loaded, verified and JIT-compiled), so on 2 shared cores
 * it stretched from ~4 s to 20+ s. C1-only skips the C2 compiler threads; the AppCDS archive
 * (Java 13+ dynamic archive, dumped at JVM exit) maps pre-parsed classes instead of loading jars.
 * A JVM that cannot use the archive (other JDK build, changed classpath) falls back to normal loading.
 */
function fastStartupJvmArgs(jarsDir: string, dumpIfMissing: boolean): FastStartupArgs {
  const args = ['-XX:TieredStopAtLevel=1'];
  const archive = cdsArchivePath(jarsDir);
  if (existsSync(archive)) return { args: [...args, `-XX:SharedArchiveFile=${archive}`] };
  if (!dumpIfMissing) return { args };
  // Unique name: brokers started side by side each dump their own, the first published one wins.
  const pendingArchive = `${archive}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
  // -Xlog:cds=off: the dump lists every class it skips (old bytecode, unlinked), ~60 harmless lines.
  return { args: [...args, `-XX:ArchiveClassesAtExit=${pendingArchive}`, '-Xlog:cds=off'], pendingArchive };
}

/** Moves a freshly dumped archive into place; a missing dump (SIGKILL, failed start) is not an error. */
async function publishCdsArchive(pendingArchive: string | undefined): Promise<void> {
  if (!pendingArchive) return;
  const archive = pendingArchive.slice(0, pendingArchive.lastIndexOf('.partial-'));
  if (existsSync(pendingArchive) && !existsSync(archive)) {
    await rename(pendingArchive, archive);
  } else {
    await rm(pendingArchive, { force: true });
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

/**
 * On Linux, util-linux's setpriv sets PR_SET_PDEATHSIG before exec'ing java, so the kernel kills the
 * broker even when this process dies without running 'exit' handlers (SIGKILL, an unhandled SIGTERM).
 */
function withParentDeathSignal(command: string, args: string[]): { command: string; args: string[] } {
  const setpriv = process.platform === 'linux' ? findOnPath('setpriv') : undefined;
  if (!setpriv) return { command, args };
  return { command: setpriv, args: ['--pdeathsig', 'KILL', command, ...args] };
}

function findOnPath(executable: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, executable))) return path.join(dir, executable);
  }
  return undefined;
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

async function fileSizeBytes(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch (err) {
    if (isNodeError(err, 'ENOENT')) return 0;
    throw err;
  }
}

interface ReadinessWait {
  child: ChildProcess;
  exited: Promise<BrokerExit>;
  spawnError: Promise<Error>;
  logFile: string;
  logOffsetBytes: number;
  port: number;
  timeoutMs: number;
}

/**
 * Ready = the ready line in this run's log, the PLAINTEXT port accepts a TCP connection, and every
 * existing partition is served by its leader. The last step matters after a restart: Kafka logs
 * "Kafka Server started" once the broker is unfenced, but re-electing it leader of its partitions
 * happens after that, and kafkajs' admin calls do not retry NOT_LEADER_FOR_PARTITION (seen in the
 * integration test: admin.fetchTopicOffsets right after a restart failed).
 */
async function waitUntilReady(wait: ReadinessWait): Promise<void> {
  const deadlineMs = Date.now() + wait.timeoutMs;
  let failure: string | undefined;
  void wait.exited.then((exit) => {
    failure ??= `broker exited during start (code ${exit.code}, signal ${exit.signal})`;
  });
  void wait.spawnError.then((err) => {
    failure ??= `cannot start java: ${err.message}`;
  });

  let reason = `no "${READY_LOG_LINE}" line or port ${wait.port} refused`;
  let listening = false;
  while (!listening && Date.now() < deadlineMs && !failure) {
    const log = await readLogSince(wait.logFile, wait.logOffsetBytes);
    listening = log.includes(READY_LOG_LINE) && (await canConnect(wait.port, TCP_PROBE_TIMEOUT_MS));
    if (!listening) await sleep(READY_POLL_INTERVAL_MS);
  }
  if (listening) {
    const unserved = await waitUntilPartitionsServed(wait.port, deadlineMs, () => failure !== undefined);
    if (unserved === undefined) return;
    reason = unserved;
  }
  const why = failure ?? `broker not ready within ${wait.timeoutMs} ms (${reason})`;
  const tail = tailLines(await readLogSince(wait.logFile, wait.logOffsetBytes, LOG_TAIL_MAX_BYTES));
  throw new Error(`${why}; pid ${wait.child.pid}; tail of ${wait.logFile}:\n${tail}`);
}

/** Polls until every partition (internal topics included) answers ListOffsets; returns the last problem on timeout. */
async function waitUntilPartitionsServed(
  port: number,
  deadlineMs: number,
  hasFailed: () => boolean,
): Promise<string | undefined> {
  const kafka = new Kafka({
    clientId: 'kafka-broker-readiness',
    brokers: [`127.0.0.1:${port}`],
    logLevel: logLevel.NOTHING, // every retriable error is expected here; the last one is reported
    connectionTimeout: TCP_PROBE_TIMEOUT_MS,
    requestTimeout: 5_000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  let problem = 'partitions not checked yet';
  let connected = false;
  try {
    while (Date.now() < deadlineMs && !hasFailed()) {
      try {
        if (!connected) await admin.connect();
        connected = true;
        const unserved = await findUnservedPartitions(admin);
        if (unserved === undefined) return undefined;
        problem = unserved;
      } catch (err) {
        problem = `partition probe failed: ${(err as Error).message}`;
      }
      await sleep(READY_POLL_INTERVAL_MS);
    }
  } finally {
    await admin.disconnect();
  }
  return problem;
}

async function findUnservedPartitions(admin: Admin): Promise<string | undefined> {
  const { topics } = await admin.fetchTopicMetadata(); // no topic list = all topics, internal ones too
  const leaderless = topics.flatMap((topic) =>
    topic.partitions.filter((p) => p.leader < 0).map((p) => `${topic.name}-${p.partitionId}`),
  );
  if (leaderless.length > 0) return `no leader yet for ${leaderless.join(', ')}`;
  // Metadata is published before the replica manager becomes leader; ListOffsets proves the latter.
  for (const topic of topics) await admin.fetchTopicOffsets(topic.name);
  return undefined;
}

/** Reads the log from offsetBytes on, or only its last maxBytes when given. */
async function readLogSince(file: string, offsetBytes: number, maxBytes?: number): Promise<string> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    if (isNodeError(err, 'ENOENT')) return '';
    throw err;
  }
  try {
    const sizeBytes = (await handle.stat()).size;
    const fromBytes = maxBytes === undefined ? offsetBytes : Math.max(offsetBytes, sizeBytes - maxBytes);
    const length = Math.max(0, sizeBytes - fromBytes);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, fromBytes);
    return buffer.toString('utf8');
  } finally {
    await handle.close();
  }
}

function canConnect(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false)); // refused = not listening yet; the caller polls again
  });
}

async function waitForExit(exited: Promise<BrokerExit>, timeoutMs: number): Promise<BrokerExit | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), timeoutMs);
  });
  try {
    return await Promise.race([exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function killAndWait(child: ChildProcess, exited: Promise<BrokerExit>): Promise<void> {
  if (child.pid === undefined || hasExited(child)) return; // never started, or already gone
  child.kill('SIGKILL');
  if (!(await waitForExit(exited, SIGKILL_WAIT_MS))) {
    throw new Error(`broker pid ${child.pid} survived SIGKILL for ${SIGKILL_WAIT_MS} ms`);
  }
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
