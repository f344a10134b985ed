// When a started broker is ready: its ready line in this run's part of the log, its port accepting, and every
// partition served by its leader.

import type { ChildProcess } from 'node:child_process';
import { open, stat } from 'node:fs/promises';
import net from 'node:net';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { isNodeError, sleep, tailLines, type BrokerExit } from './process.js';

/** Logged by kafka.server.KafkaRaftServer (kept at INFO in log4j2.properties) once all listeners accept. */
const READY_LOG_LINE = 'Kafka Server started';
const READY_POLL_INTERVAL_MS = 100;
const TCP_PROBE_TIMEOUT_MS = 2_000;
const LOG_TAIL_MAX_BYTES = 32 * 1024;

export async function fileSizeBytes(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch (err) {
    if (isNodeError(err, 'ENOENT')) return 0;
    throw err;
  }
}

export interface ReadinessWait {
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
export async function waitUntilReady(wait: ReadinessWait): Promise<void> {
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
