// The command log on Kafka. Commands: one topic, one partition per engine instance (order is the sequence).
// Events: one topic, written in a Kafka transaction together with the consumer group's offset for the
// commands, so a batch's events and its input position commit atomically (read_committed consumers never see
// a batch that did not commit). The transactional id fences a previous instance of the same engine.

import { randomUUID } from 'node:crypto';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import type { Admin, Consumer, KafkaMessage, LogEntry, Producer, Transaction, logCreator } from 'kafkajs';
import type { Logger } from 'pino';
import type { CommandLog, CommandRecord, CommandWriter, EventRecord } from './log.js';

export interface KafkaLogOptions {
  readonly brokers: string[];
  readonly clientId: string;
  readonly commandsTopic: string;
  readonly eventsTopic: string;
  /** Consumer group whose committed offset is the engine's input position. */
  readonly groupId: string;
  readonly transactionalId: string;
  /** Split a commit's events into produce requests of at most this many bytes (broker message.max.bytes). */
  readonly produceBytesMax?: number;
  /** Where kafkajs's own log lines go; without it they are dropped below ERROR and printed by kafkajs. */
  readonly logger?: Logger;
}

const PARTITION = 0;

export function kafkaClient(brokers: string[], clientId: string, logger?: Logger): Kafka {
  const logging = logger === undefined ? { logLevel: logLevel.ERROR } : { logLevel: logLevel.WARN, logCreator: toPino(logger) };
  return new Kafka({ brokers, clientId, ...logging, retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 2000 } });
}

/**
 * kafkajs's log lines as pino records. kafkajs reports at ERROR every error response (Connection) and every
 * retry it is about to make, e.g. CONCURRENT_TRANSACTIONS after each commit, which is routine: those go to
 * debug, since the caller gets the error if the retries run out, and the daemon logs what it does about it.
 * Other warnings and errors stay warnings.
 */
function toPino(logger: Logger): logCreator {
  const kafkaLogger = logger.child({ component: 'kafkajs' });
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, timestamp: _timestamp, logger: _name, ...fields } = log as LogEntry['log'] & { logger?: unknown };
      const record = { namespace, ...fields };
      const routine = namespace === 'Connection' || 'retryCount' in fields;
      if ((level === logLevel.ERROR || level === logLevel.WARN) && !routine) kafkaLogger.warn(record, message);
      else if (level <= logLevel.INFO) kafkaLogger.debug(record, message);
      else kafkaLogger.trace(record, message);
    };
}

/**
 * Creates the topics with one partition each when missing. The commands topic stamps records with the broker's
 * append time: it becomes the command's timeMs, so producers cannot set the engine's clock and a replay sees the
 * same time.
 */
export async function ensureTopics(admin: Admin, opts: { commandsTopic: string; eventsTopic: string; replicationFactor?: number }): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const wanted = [
    { topic: opts.commandsTopic, configEntries: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }] },
    { topic: opts.eventsTopic, configEntries: [] },
  ];
  const missing = wanted.filter((t) => !existing.has(t.topic));
  if (missing.length === 0) return;
  await admin.createTopics({ waitForLeaders: true, topics: missing.map((t) => ({ ...t, numPartitions: 1, replicationFactor: opts.replicationFactor ?? 1 })) });
}

/** The last command offset committed for `groupId` on `topic` (one partition), or -1 when none is. */
export async function fetchCommittedOffset(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const partition = offsets?.partitions.find((p) => p.partition === PARTITION);
  // Kafka stores the next offset to read; -1 means nothing committed.
  const next = partition === undefined ? -1 : Number(partition.offset);
  return next < 0 ? -1 : next - 1;
}

export class KafkaCommandLog implements CommandLog {
  private readonly kafka: Kafka;
  private readonly admin: Admin;
  private producer: Producer;
  /** Set when a failed transaction could not be aborted: the producer's transaction state is stuck. */
  private producerStuck = false;
  private consumer: Consumer | null = null;
  private stopped = false;
  private stopWaiter: (() => void) | null = null;
  /** The batch being applied and committed; stop() lets it finish so a clean stop loses no work. */
  private inFlight: Promise<void> = Promise.resolve();

  constructor(private readonly opts: KafkaLogOptions) {
    this.kafka = kafkaClient(opts.brokers, opts.clientId, opts.logger);
    this.admin = this.kafka.admin();
    this.producer = this.newProducer();
  }

  private newProducer(): Producer {
    // A transaction begun right after a commit meets CONCURRENT_TRANSACTIONS until the commit markers are
    // written (a few ms); kafkajs's default 300 ms backoff would cap the daemon at a few commits a second.
    return this.kafka.producer({
      // Every send names its partition; the partitioner only matters for the warning kafkajs prints without one.
      createPartitioner: Partitioners.DefaultPartitioner,
      transactionalId: this.opts.transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      retry: { retries: 30, initialRetryTime: 5, maxRetryTime: 1000, factor: 0.2, multiplier: 1.5 },
    });
  }

  /**
   * A new producer with the same transactional id: connecting it (InitProducerId) fences the old one and aborts
   * whatever transaction it left open, which is the only way out of kafkajs's "Transaction state exception".
   */
  private async replaceStuckProducer(): Promise<void> {
    await bounded(this.producer.disconnect(), DISCONNECT_TIMEOUT_MS);
    this.producer = this.newProducer();
    await this.producer.connect();
    this.producerStuck = false;
  }

  async connect(): Promise<void> {
    await this.admin.connect();
    await ensureTopics(this.admin, this.opts);
    await this.producer.connect();
  }

  /**
   * Right after a broker starts, its group coordinator answers NOT_COORDINATOR or COORDINATOR_LOAD_IN_PROGRESS for
   * a while: retriable errors, retried here for up to COORDINATOR_WAIT_MS, since kafkajs's admin gives up sooner.
   */
  async committedOffset(): Promise<number> {
    const deadline = Date.now() + COORDINATOR_WAIT_MS;
    for (let delayMs = 100; ; delayMs = Math.min(delayMs * 2, 2000)) {
      try {
        return await fetchCommittedOffset(this.admin, this.opts.groupId, this.opts.commandsTopic);
      } catch (err) {
        if ((err as { retriable?: unknown }).retriable !== true || Date.now() + delayMs > deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  }

  /**
   * Reads with a consumer of its own, in a fresh group each time, positioned by seek: the engine's input
   * position is the offset committed in `groupId` (a group with no members, written only by transactions), so
   * a restart never waits for a dead member's session to expire and a rebalance never moves the position.
   */
  async consume(fromOffset: number, batchMax: number, onBatch: (records: CommandRecord[]) => Promise<void>): Promise<void> {
    if (this.stopped) return;
    const consumer = this.kafka.consumer({ groupId: `${this.opts.groupId}.reader.${randomUUID()}`, maxWaitTimeInMs: 50, sessionTimeout: 30_000 });
    this.consumer = consumer;
    let nextOffset = fromOffset;
    // After any (re)join the position is ours to set: everything before nextOffset was delivered.
    consumer.on(consumer.events.GROUP_JOIN, () => consumer.seek({ topic: this.opts.commandsTopic, partition: PARTITION, offset: String(nextOffset) }));
    try {
      await consumer.connect();
      await consumer.subscribe({ topic: this.opts.commandsTopic, fromBeginning: true });
    } catch (err) {
      if (this.stopped) return; // stop() closed the connection under us
      throw err;
    }
    if (this.stopped) return;
    await new Promise<void>((resolve, reject) => {
      this.stopWaiter = resolve;
      consumer
        .run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
            const records = batch.messages.map(toRecord).filter((r) => r.offset >= nextOffset);
            for (let i = 0; i < records.length; i += batchMax) {
              if (!isRunning() || isStale() || this.stopped) return;
              const chunk = records.slice(i, i + batchMax);
              this.inFlight = onBatch(chunk);
              await this.inFlight;
              nextOffset = chunk[chunk.length - 1].offset + 1;
              // Moves kafkajs's fetch position only (autoCommit is off): the input position is committed by commit().
              resolveOffset(String(nextOffset - 1));
              await heartbeat();
            }
          },
        })
        // A stop while the consumer is still joining closes its connection: that is the end, not a failure.
        .catch((err) => (this.stopped ? resolve() : reject(err)));
    });
  }

  async commit(events: EventRecord[], lastOffset: number): Promise<void> {
    if (this.producerStuck) await this.replaceStuckProducer();
    let transaction: Transaction;
    try {
      transaction = await this.producer.transaction();
    } catch (err) {
      this.producerStuck = true;
      throw err;
    }
    try {
      for (const chunk of chunkEvents(events, this.opts.produceBytesMax ?? 900_000)) {
        await transaction.send({ topic: this.opts.eventsTopic, messages: chunk.map((e) => ({ key: e.key === '' ? null : e.key, value: e.value, partition: PARTITION })) });
      }
      await transaction.sendOffsets({
        consumerGroupId: this.opts.groupId,
        topics: [{ topic: this.opts.commandsTopic, partitions: [{ partition: PARTITION, offset: String(lastOffset + 1) }] }],
      });
      await transaction.commit();
    } catch (err) {
      // After a broker restart the abort itself can fail, leaving the producer unable to begin another transaction.
      this.producerStuck = await transaction.abort().then(() => false, () => true);
      throw err;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    // The batch in hand commits first; if the broker does not answer in time, the restart replays it.
    await bounded(this.inFlight, IN_FLIGHT_TIMEOUT_MS);
    this.stopWaiter?.();
    // kafkajs can wait a long time on connections left over from a broker restart: a stop must end.
    await bounded(this.consumer?.disconnect(), DISCONNECT_TIMEOUT_MS);
    await bounded(this.producer.disconnect(), DISCONNECT_TIMEOUT_MS);
    await bounded(this.admin.disconnect(), DISCONNECT_TIMEOUT_MS);
  }
}

/** How long a stop waits for a Kafka client to disconnect (after a broker restart kafkajs can wait much longer). */
export const DISCONNECT_TIMEOUT_MS = 10_000;
const COORDINATOR_WAIT_MS = 60_000;
const IN_FLIGHT_TIMEOUT_MS = 30_000;

/** Waits for `work` at most `timeoutMs`; errors and time-outs are swallowed (used only on the way out). */
export async function bounded(work: Promise<void> | undefined, timeoutMs: number): Promise<void> {
  if (work === undefined) return;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
  await Promise.race([work.catch(() => undefined), timeout]);
  clearTimeout(timer);
}

function toRecord(m: KafkaMessage): CommandRecord {
  return { offset: Number(m.offset), value: m.value ?? new Uint8Array(0), timestampMs: Number(m.timestamp) };
}

/**
 * kafkajs groups a send's messages by partition with an array copy per message (quadratic in the send's size:
 * 10,000 messages cost ~250 ms), so sends are kept to a few hundred messages, and under the broker's size limit.
 */
export const SEND_MESSAGES_MAX = 256;

function* chunkEvents(events: EventRecord[], bytesMax: number): Generator<EventRecord[]> {
  let chunk: EventRecord[] = [];
  let bytes = 0;
  for (const e of events) {
    const size = e.value.length + e.key.length + 64;
    if (chunk.length > 0 && (bytes + size > bytesMax || chunk.length >= SEND_MESSAGES_MAX)) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(e);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}

/** Producers' side on Kafka: an idempotent producer, so a retried send does not duplicate a command. */
export class KafkaCommandWriter implements CommandWriter {
  private readonly producer: Producer;

  constructor(
    kafka: Kafka,
    private readonly topic: string,
  ) {
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  }

  async connect(): Promise<void> {
    await this.producer.connect();
  }

  async append(values: Uint8Array[]): Promise<number[]> {
    const [meta] = await this.producer.send({ topic: this.topic, acks: -1, messages: values.map((v) => ({ value: Buffer.from(v.buffer, v.byteOffset, v.byteLength) })) });
    const base = Number(meta.baseOffset ?? meta.offset);
    return values.map((_, i) => base + i);
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
  }
}
