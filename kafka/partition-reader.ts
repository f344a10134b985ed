// The one reader of a single-partition topic, under every service (engine commands, persistence, gateway,
// chain). It reads from a position the caller keeps (never from offsets committed in Kafka): kafkajs has no
// manual assignment, so each run joins a fresh consumer group of its own, commits nothing, and seeks to the
// position after every (re)join; a restart then never waits for a dead member's session to expire and a rebalance
// never moves the position. Records go to `onBatch` decoded, in order, in bounded batches, one batch at a time.
// An error in decode or onBatch stops the reader (kafkajs must not retry a batch behind the caller's back).

import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import { DISCONNECT_TIMEOUT_MS, bounded } from './shutdown.js';
import { PARTITION } from './topics.js';

export interface PartitionReaderOptions<R> {
  readonly kafka: Kafka;
  readonly topic: string;
  /** Prefix of the per-run group (visible in Kafka tooling). */
  readonly groupIdPrefix: string;
  /** Records handed to onBatch at once. */
  readonly batchRecordsMax: number;
  /** How long a fetch waits for data: bounds the added latency at low rates. */
  readonly maxWaitTimeMs?: number;
  /**
   * Bytes one fetch takes from the partition (kafkajs: 1 MiB unless told). The broker always sends at least one
   * whole record, so this bounds what a fetch holds in memory, not the record size.
   */
  readonly fetchBytesMax?: number;
  /**
   * The daemon writes without transactions and never takes a record back, so there is nothing to wait for a
   * commit marker for; read_committed only matters for a topic still holding an old transactional writer's data.
   */
  readonly readCommitted?: boolean;
  readonly decode: (m: KafkaMessage) => R;
  /** How long stop() lets the batch in hand finish. */
  readonly inFlightTimeoutMs?: number;
}

const IN_FLIGHT_TIMEOUT_MS = 30_000;
const FETCH_BYTES_DEFAULT = 1024 * 1024;
/** About one of the daemon's event records; a batch of small command records rarely reaches it. */
const DECODE_YIELD_BYTES = 256 * 1024;
const yieldToIo = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
/** A bound on fetchBytesMax: a fetch is held in memory while its records are handed on. */
export const FETCH_BYTES_MAX = 64 * 1024 * 1024;

export class PartitionReader<R> {
  private consumer: Consumer | null = null;
  private stopped = false;
  private stopWaiter: (() => void) | null = null;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(private readonly opts: PartitionReaderOptions<R>) {
    if (!(opts.batchRecordsMax >= 1))
      throw new RangeError(`batchRecordsMax ${opts.batchRecordsMax} must be at least 1`);
    const fetchBytes = opts.fetchBytesMax ?? FETCH_BYTES_DEFAULT;
    if (!(fetchBytes >= 1 && fetchBytes <= FETCH_BYTES_MAX))
      throw new RangeError(`fetchBytesMax ${fetchBytes} must be in 1..${FETCH_BYTES_MAX}`);
  }

  /**
   * Delivers the records from `fromOffset` on until stop(); rejects when reading, decoding or onBatch fails.
   * May be called again after it ended with an error; after stop() it returns at once.
   */
  async consume(fromOffset: number, onBatch: (records: R[]) => Promise<void>): Promise<void> {
    if (this.stopped) return;
    const consumer = this.opts.kafka.consumer({
      groupId: `${this.opts.groupIdPrefix}.reader.${randomUUID()}`,
      readUncommitted: this.opts.readCommitted !== true,
      maxWaitTimeInMs: this.opts.maxWaitTimeMs ?? 50,
      maxBytesPerPartition: this.opts.fetchBytesMax ?? FETCH_BYTES_DEFAULT,
      // The consumer reads one partition: the whole fetch may be that partition's (kafkajs: 10 MiB unless told).
      maxBytes: Math.max(this.opts.fetchBytesMax ?? FETCH_BYTES_DEFAULT, 10 * 1024 * 1024),
      sessionTimeout: 30_000,
    });
    this.consumer = consumer;
    const position = { next: fromOffset };
    // After any (re)join the position is ours to set: everything before position.next was delivered.
    consumer.on(consumer.events.GROUP_JOIN, () =>
      consumer.seek({ topic: this.opts.topic, partition: PARTITION, offset: String(position.next) }),
    );
    try {
      await consumer.connect();
      await consumer.subscribe({ topic: this.opts.topic, fromBeginning: true });
      if (this.stopped) return;
      await this.run(consumer, position, onBatch);
    } catch (err) {
      if (this.stopped) return; // stop() closed the connection under us
      throw err;
    } finally {
      await bounded(consumer.disconnect(), DISCONNECT_TIMEOUT_MS);
    }
  }

  private run(consumer: Consumer, position: { next: number }, onBatch: (records: R[]) => Promise<void>): Promise<void> {
    const batchMax = this.opts.batchRecordsMax;
    return new Promise<void>((resolve, reject) => {
      let failed = false;
      const fail = (err: unknown): void => {
        failed = true;
        reject(err);
      };
      this.stopWaiter = resolve;
      // kafkajs restarts itself after retriable errors; when it gives up, the reader has ended and must say so.
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        if (!payload.restart && !this.stopped) fail(payload.error);
      });
      consumer
        .run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
            const messages = batch.messages.filter((m) => Number(m.offset) >= position.next);
            for (let i = 0; i < messages.length; i += batchMax) {
              if (!isRunning() || isStale() || this.stopped || failed) return;
              const chunk = messages.slice(i, i + batchMax);
              this.inFlight = this.decode(chunk).then(onBatch);
              try {
                await this.inFlight;
              } catch (err) {
                return fail(err);
              }
              position.next = Number(chunk[chunk.length - 1].offset) + 1;
              // Moves kafkajs's fetch position only (autoCommit is off): the caller keeps the real position.
              resolveOffset(String(position.next - 1));
              await heartbeat();
            }
          },
        })
        // A stop while the consumer is still joining closes its connection: that is the end, not a failure.
        .catch((err) => (this.stopped ? resolve() : fail(err)));
    });
  }

  /**
   * Decodes a chunk, letting the event loop run after every DECODE_YIELD_BYTES of values: a caller's I/O in flight
   * (persistence's COPY of the previous batch) keeps being fed while a large fetch (8 MiB of events) is parsed.
   */
  private async decode(chunk: KafkaMessage[]): Promise<R[]> {
    const out: R[] = [];
    let bytes = 0;
    for (const m of chunk) {
      out.push(this.opts.decode(m));
      bytes += m.value?.length ?? 0;
      if (bytes >= DECODE_YIELD_BYTES) {
        bytes = 0;
        await yieldToIo();
      }
    }
    return out;
  }

  /** Lets the batch in hand finish (bounded), then ends consume(). */
  async stop(): Promise<void> {
    this.stopped = true;
    await bounded(this.inFlight, this.opts.inFlightTimeoutMs ?? IN_FLIGHT_TIMEOUT_MS);
    this.stopWaiter?.();
    await bounded(this.consumer?.disconnect(), DISCONNECT_TIMEOUT_MS);
  }
}
