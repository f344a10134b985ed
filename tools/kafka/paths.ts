// Where the Kafka tool's files are, and which Kafka version pom.xml names.

import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const KAFKA_TOOLS_DIR = path.dirname(fileURLToPath(import.meta.url));
export const POM_PATH = path.join(KAFKA_TOOLS_DIR, 'pom.xml');
export const LOG4J_CONFIG_PATH = path.join(KAFKA_TOOLS_DIR, 'log4j2.properties');

/** Written into the jars dir only after Maven finished and every jar is in place. */
export const COMPLETE_MARKER_FILE = '.complete.json';
/** AppCDS archive of the broker's classes, kept next to the exact jars it was dumped from. */
export const CDS_ARCHIVE_FILE = 'kafka-broker.jsa';
/** Written into a data dir only after StorageTool formatted it; its presence means "skip formatting". */
export const STATE_FILE = 'broker-state.json';
export const SERVER_PROPERTIES_FILE = 'server.properties';
export const BROKER_LOG_FILE = 'broker.log';
/** log.dirs lives in a sub-directory so server.properties and broker.log never mix with Kafka's files. */
export const KRAFT_LOG_SUBDIR = 'kraft-logs';

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

export function javaExecutable(): string {
  const javaHome = process.env.JAVA_HOME;
  return javaHome ? path.join(javaHome, 'bin', 'java') : 'java';
}
