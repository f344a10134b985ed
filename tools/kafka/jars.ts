// The broker's jars: mvn dependency:copy-dependencies into a cache directory, once per pom.xml.

import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CDS_ARCHIVE_FILE, COMPLETE_MARKER_FILE, POM_PATH, defaultKafkaJarsDir, kafkaVersion } from './paths.js';
import { isNodeError, runProcess, tailLines } from './process.js';

const DEFAULT_MVN_TIMEOUT_MS = 10 * 60_000;

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
