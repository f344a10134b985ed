// The imperative shell of market data in an instance that reads the events topic: build the state from PostgreSQL at
// persistence's position, read the topic from there, apply each record to the pure core, stream what changed to
// this instance's WebSocket clients and, when asked, publish it on Redis for relay instances (relay.ts).
//
// Gaps: the core refuses a record that does not continue its state (a missing event: seq jumps; a record across the
// position; a starting position inside a command). The service then rebuilds the state from PostgreSQL (newer by
// then) and reads on from that position, after a back-off; depth subscribers get a fresh snapshot. A broken
// invariant (the core's state disagrees with an event) is handled the same way, logged at error: the state is
// rebuilt rather than the gateway's trading routes taken down with it.

import type { Logger } from 'pino';
import type { Redis } from 'ioredis';
import type { Sql } from 'postgres';
import type { AssetInfo, MarketInfo } from '../units.js';
import { MarketDataCore, StreamError } from './core.js';
import type { RecordOutput } from './core.js';
import type { DepthBook } from './depth-book.js';
import { loadBootState } from './history.js';
import type { Hub } from './hub.js';
import {
  depthChannel,
  depthDeltaMessage,
  depthSnapshotMessage,
  tradeMessage,
  tradesChannel,
  userMessage,
} from './messages.js';
import type { Lookup } from './messages.js';
import { encodeMeta, encodeRecords, encodeSnapshot, relayKeys } from './relay-wire.js';
import type { RelayRecord } from './relay-wire.js';
import type { EventRecord, MarketEventSource } from './source.js';

/** What the routes and the WebSocket read: the core in a consuming instance, the mirror in a relay. */
export interface BookView {
  readonly lastSeq: number;
  readonly markets: ReadonlyMap<number, MarketInfo>;
  readonly assets: ReadonlyMap<number, AssetInfo>;
  readonly marketIdBySymbol: ReadonlyMap<string, number>;
  readonly books: ReadonlyMap<number, DepthBook>;
}

export interface MarketDataFeed {
  /** Null until the first state is built (routes answer 503 meanwhile). */
  readonly view: BookView | null;
  start(): void;
  stop(): Promise<void>;
  /** Another consumer of what each record changes (the Binance-compatible streams); returns its removal. */
  addTap(tap: StreamTap): () => void;
}

/**
 * Sees every record the feed applies, after the feed's own subscribers were sent their messages: `reset` when a new
 * state is installed (start-up or a rebuild: depth chains restart from the new books' seqs), then `record` for each
 * record in order. A relay (relay.ts) knows depth only: its records carry no trades or user events.
 */
export interface StreamTap {
  reset(view: BookView): void;
  record(out: RecordOutput, view: BookView): void;
}

export interface PublishOptions {
  readonly redis: Redis;
  readonly prefix: string;
  /** Full snapshots of changed books are written at most this often (relays resynchronise from them). */
  readonly snapshotIntervalMs: number;
}

export interface ServiceOptions {
  readonly sql: Sql;
  readonly source: MarketEventSource;
  readonly hub: Hub;
  readonly logger: Logger;
  readonly publish: PublishOptions | null;
  readonly retryDelayMs: number;
}

const RETRY_DELAY_MAX_MS = 30_000;

export function lookupOf(view: BookView): Lookup {
  return { market: (id) => view.markets.get(id), asset: (id) => view.assets.get(id) };
}

export class MarketDataService implements MarketDataFeed {
  private core: MarketDataCore | null = null;
  private stopping = false;
  private running: Promise<void> | null = null;
  private snapshotTimer: NodeJS.Timeout | null = null;
  private readonly dirtyMarkets = new Set<number>();
  private readonly taps = new Set<StreamTap>();
  /** Rebuilds after a gap or a failure (a metric for operators, a signal for tests). */
  rebuilds = 0;

  constructor(private readonly opts: ServiceOptions) {}

  get view(): BookView | null {
    return this.core;
  }

  addTap(tap: StreamTap): () => void {
    this.taps.add(tap);
    if (this.core !== null) tap.reset(this.core);
    return () => this.taps.delete(tap);
  }

  start(): void {
    if (this.running !== null) return;
    this.running = this.run();
    if (this.opts.publish !== null) {
      this.snapshotTimer = setInterval(() => void this.writeSnapshots(), this.opts.publish.snapshotIntervalMs);
      this.snapshotTimer.unref();
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.snapshotTimer !== null) clearInterval(this.snapshotTimer);
    await this.opts.source.stop();
    await this.running;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      try {
        const boot = await loadBootState(this.opts.sql);
        const core = new MarketDataCore(boot);
        this.install(core);
        failures = 0;
        // A stop() during loadBootState found no consume to end; one begun now would run on (nothing awaits
        // between this check and the call, so no stop can slip in after it).
        if (this.stopping) break;
        // From the record persistence stored last: seeing it tells whether its position ends a command.
        await this.opts.source.consume(Math.max(boot.sourceOffset - 1, -1), (records) => this.onBatch(core, records));
      } catch (err) {
        if (this.stopping) break;
        failures++;
        const level = err instanceof StreamError && err.kind !== 'gap' ? 'warn' : 'error';
        this.opts.logger[level](
          { err, failures, lastSeq: this.core?.lastSeq },
          'market data: rebuilding the state from PostgreSQL',
        );
        await sleep(Math.min(this.opts.retryDelayMs * 2 ** Math.min(failures - 1, 10), RETRY_DELAY_MAX_MS));
      }
    }
  }

  /** A new state: it replaces the old one, and every depth subscriber gets its snapshot. */
  private install(core: MarketDataCore): void {
    const first = this.core === null;
    this.core = core;
    if (!first) this.rebuilds++;
    for (const tap of this.taps) tap.reset(core);
    void this.publishMeta(core);
    for (const m of core.markets.values()) {
      this.dirtyMarkets.add(m.marketId);
      const channel = depthChannel(m.symbol);
      if (!this.opts.hub.hasSubscribers(channel)) continue;
      for (const conn of this.opts.hub.subscribers(channel))
        this.opts.hub.sendError(
          conn,
          'MARKET_DATA_WS_RESYNC',
          'the depth stream was rebuilt; a new snapshot follows',
          null,
          channel,
        );
      this.opts.hub.broadcast(channel, JSON.stringify(depthSnapshotMessage(core.book(m.marketId).snapshot(), m)));
    }
  }

  private async onBatch(core: MarketDataCore, records: EventRecord[]): Promise<void> {
    if (core !== this.core || this.stopping) return;
    const published: RelayRecord[] = [];
    let marketsChanged = false;
    const look = lookupOf(core);
    for (const record of records) {
      const out = core.applyRecord(record.events);
      if (out === null) continue;
      const relay = this.emit(core, look, out);
      if (relay !== null) published.push(relay);
      for (const tap of this.taps) {
        try {
          tap.record(out, core);
        } catch (err) {
          // A tap's bug must not stop this instance's own streams (its clients see a gap and resynchronise).
          this.opts.logger.error({ err, seq: out.seq }, 'market data: a stream tap failed');
        }
      }
      marketsChanged ||= out.markets.length > 0 || out.assets.length > 0;
    }
    if (this.opts.publish === null || published.length === 0) return;
    if (marketsChanged) await this.publishMeta(core);
    await this.opts.publish.redis
      .publish(relayKeys(this.opts.publish.prefix).channel, encodeRecords(published))
      .catch((err: unknown) => {
        // Relays notice the missing seqs and resynchronise; this instance's own clients are not affected.
        this.opts.logger.warn({ err }, 'market data: publishing on Redis failed');
      });
  }

  /** Streams one record's changes to local subscribers; returns what relays need, when publishing. */
  private emit(core: MarketDataCore, look: Lookup, out: RecordOutput): RelayRecord | null {
    const hub = this.opts.hub;
    const publishing = this.opts.publish !== null;
    const relay: RelayRecord = {
      seq: out.seq,
      depth: out.depth,
      trades: [],
      user: [],
      markets: out.markets,
      assets: out.assets,
    };
    for (const d of out.depth) {
      this.dirtyMarkets.add(d.marketId);
      const m = core.markets.get(d.marketId) as MarketInfo;
      const channel = depthChannel(m.symbol);
      if (hub.hasSubscribers(channel)) hub.broadcast(channel, JSON.stringify(depthDeltaMessage(d, m)));
    }
    for (const t of out.trades) {
      const m = core.markets.get(t.marketId) as MarketInfo;
      const channel = tradesChannel(m.symbol);
      if (!publishing && !hub.hasSubscribers(channel)) continue;
      const text = JSON.stringify(tradeMessage(t, m));
      hub.broadcast(channel, text);
      if (publishing) relay.trades.push([channel, text]);
    }
    for (const u of out.user) {
      if (!publishing && !hub.hasUser(u.userId)) continue;
      const text = JSON.stringify(userMessage(u.event, u.userId, u.marketId, look));
      hub.sendToUser(u.userId, text);
      if (publishing) relay.user.push([u.userId, text]);
    }
    return publishing ? relay : null;
  }

  private async publishMeta(core: MarketDataCore): Promise<void> {
    const p = this.opts.publish;
    if (p === null) return;
    await p.redis
      .set(
        relayKeys(p.prefix).meta,
        encodeMeta({ markets: [...core.markets.values()], assets: [...core.assets.values()] }),
      )
      .catch((err: unknown) => {
        this.opts.logger.warn({ err }, 'market data: writing the relay meta on Redis failed');
      });
  }

  private async writeSnapshots(): Promise<void> {
    const p = this.opts.publish;
    const core = this.core;
    if (p === null || core === null || this.dirtyMarkets.size === 0) return;
    const keys = relayKeys(p.prefix);
    const pipeline = p.redis.pipeline();
    for (const marketId of this.dirtyMarkets)
      pipeline.set(keys.snapshot(marketId), encodeSnapshot(core.book(marketId).snapshot()));
    this.dirtyMarkets.clear();
    await pipeline
      .exec()
      .catch((err: unknown) => this.opts.logger.warn({ err }, 'market data: writing snapshots on Redis failed'));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());
