// The one reader of the events topic in a gateway instance, feeding both the command bus's results and market
// data. They read the topic twice before: every record was fetched and decoded twice (decoding alone was ~4% of
// the gateway's CPU in bench:gateway). Two consumers with different needs share it:
// - results (kafka-bus.ts) from the topic's end at start, reading on after a record that is refused (a bad record,
//   a gap): records older than its start belong to commands it never sent and are ignored there;
// - market data (MarketEventSource) from the position persistence stored, which is usually behind; after a gap or
//   a failure it rebuilds and asks again from a newer stored position, still often behind what was read.
// A consumer asking for records already read moves the reader back (a restart of the reader at that offset): both
// then see those records again, and results drop the copies by `seq`, so a command's events are never doubled.
// Results are handed on first, synchronously; market data's batch is awaited before it gets the next one, while
// the reader already fetches that one (market data's Redis publish is not on the results' path).

import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { EngineEvent } from '../engine/core/index.js';
import { EventStreamReader } from '../kafka/event-stream.js';
import type { EventStreamRecord } from '../kafka/event-stream.js';
import { EventStreamError } from '../kafka/errors.js';
import type { EventRecord, MarketEventSource } from './market-data/source.js';

export interface EventsFeedOptions {
  readonly kafka: Kafka;
  readonly topic: string;
  /** Prefix of the reader's per-run group, e.g. `gateway.<instance>`: visible in Kafka tooling. */
  readonly groupIdPrefix: string;
  readonly logger: Logger;
  /** Records handed on at once. */
  readonly batchRecordsMax: number;
  /** How long a fetch waits for data: bounds the added latency at low rates. */
  readonly maxWaitTimeMs: number;
}

/** What results get: each record's append time (engine lag) and its events not seen before. */
export type ResultsListener = (record: {
  readonly timestampMs: number;
  readonly events: readonly EngineEvent[];
}) => void;

interface MarketConsumer {
  readonly afterOffset: number;
  readonly onBatch: (records: EventRecord[]) => Promise<void>;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

export class GatewayEventsFeed implements MarketEventSource {
  private reader: EventStreamReader | null = null;
  private loop: Promise<void> | null = null;
  /** The next offset the reader delivers. */
  private position = 0;
  /** Where the reader starts again once the run in hand has stopped (a consumer asked for older records). */
  private restartAt: number | null = null;
  private results: ResultsListener | null = null;
  /** The last seq handed to results: copies after a move back are dropped. */
  private resultsLastSeq = -1;
  private market: MarketConsumer | null = null;
  /** Market data's batch in hand (never rejects: a failure rejects its consume): stop() lets it finish. */
  private marketBatch: Promise<void> = Promise.resolve();
  private failed: unknown = null;
  private closed = false;

  constructor(private readonly opts: EventsFeedOptions) {}

  /** Results from `fromOffset` on (or from where the reader already is, if that is earlier). */
  follow(fromOffset: number, listener: ResultsListener): void {
    if (this.results !== null) throw new Error('the events feed has a results listener already');
    this.results = listener;
    this.read(fromOffset);
  }

  /** Reading, and no failure stopped it: the results half of /ready. */
  healthy(): boolean {
    return this.loop !== null && this.failed === null && !this.closed;
  }

  /** MarketEventSource: the records after `afterOffset`, until stop() or a refused record (rejects). */
  consume(afterOffset: number, onBatch: (records: EventRecord[]) => Promise<void>): Promise<void> {
    if (this.failed !== null) return Promise.reject(this.failed);
    if (this.closed) return Promise.resolve();
    if (this.market !== null) throw new Error('the events feed has a market-data consumer already');
    return new Promise<void>((resolve, reject) => {
      this.market = { afterOffset, onBatch, resolve, reject };
      this.read(afterOffset + 1);
    });
  }

  /** MarketEventSource: lets market data's batch in hand finish, then ends its consume(); results go on. */
  async stop(): Promise<void> {
    const market = this.market;
    this.market = null;
    await this.marketBatch;
    market?.resolve();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.stop();
    await this.reader?.stop();
    await this.loop;
  }

  /** Starts the reader at `fromOffset`, or moves it back there when it is past it. */
  private read(fromOffset: number): void {
    if (this.loop === null) {
      this.position = fromOffset;
      this.loop = this.run();
      return;
    }
    if (fromOffset >= this.position || (this.restartAt !== null && fromOffset >= this.restartAt)) return;
    this.restartAt = fromOffset;
    void this.reader?.stop();
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      if (this.restartAt !== null) {
        this.position = this.restartAt;
        this.restartAt = null;
      }
      const { kafka, topic, groupIdPrefix, batchRecordsMax, maxWaitTimeMs } = this.opts;
      const reader = new EventStreamReader({ kafka, topic, groupIdPrefix, batchRecordsMax, maxWaitTimeMs });
      this.reader = reader;
      try {
        await reader.consume({ afterOffset: this.position - 1, afterSeq: null }, (records) => this.deliver(records));
        // Ended by stop(): closing, or moving back (restartAt).
      } catch (err) {
        if (this.closed) return;
        this.refuse(err);
        if (!(err instanceof EventStreamError)) return;
        // The engine is the only writer: a record that does not decode, or a gap, is its bug. Results only answer
        // commands, so they read on after it; market data has been told and rebuilds.
        this.opts.logger.error({ err, offset: err.offset }, 'events record refused; reading on after it');
        this.position = err.offset + 1;
      }
    }
  }

  /** A failure of the reader: market data is told (it rebuilds); anything but a refused record stops results. */
  private refuse(err: unknown): void {
    const market = this.market;
    this.market = null;
    market?.reject(err);
    if (err instanceof EventStreamError) return;
    this.failed = err;
    this.opts.logger.error({ err }, 'events reader stopped');
  }

  private async deliver(records: EventStreamRecord[]): Promise<void> {
    // A move back is pending: these records are past where a consumer now needs the reader to be.
    if (this.restartAt !== null) return;
    for (const r of records) this.toResults(r);
    this.position = records[records.length - 1].offset + 1;
    // Market data's previous batch (its Redis publish included) ends before this one starts, but the reader does not
    // wait for this one: the next fetch, and so the next results, go on while market data works (one batch in hand).
    await this.marketBatch;
    const market = this.market;
    // A consumer that came meanwhile may need older records first: the reader is moving back for it.
    if (market === null || this.restartAt !== null) return;
    const fresh = records.filter((r) => r.offset > market.afterOffset);
    if (fresh.length === 0) return;
    this.marketBatch = market.onBatch(fresh).catch((err: unknown) => {
      // Market data's own failure (its state refused a record): it rebuilds; results read on.
      if (this.market === market) this.market = null;
      market.reject(err);
    });
  }

  private toResults(r: EventStreamRecord): void {
    if (this.results === null) return;
    const events = r.events;
    const last = events[events.length - 1].seq;
    if (last <= this.resultsLastSeq) return;
    const first = events[0].seq;
    // A record's seqs are consecutive (the reader checked): cut off the copies at its start.
    const fresh = first > this.resultsLastSeq ? events : events.slice(this.resultsLastSeq + 1 - first);
    this.resultsLastSeq = last;
    this.results({ timestampMs: r.timestampMs, events: fresh });
  }
}
