// A relay instance: it does not read the events topic; it mirrors what consuming instances publish on Redis
// (service.ts) and streams it to its own WebSocket clients. Redis pub/sub delivers at most once, so the mirror
// checks every depth delta against its book (prevSeq must be the book's seq): a missed message is a gap, and the
// market is resynchronised from the snapshot the publisher keeps in Redis, with the deltas that arrived meanwhile
// buffered (bounded) and applied on top. Messages at or below the last seen record seq are duplicates (several
// instances may publish) and are dropped.

import type { Logger } from 'pino';
import type { Redis } from 'ioredis';
import type { AssetInfo, MarketInfo } from '../units.js';
import { DepthBook } from './depth-book.js';
import type { DepthDelta } from './depth-book.js';
import type { Hub } from './hub.js';
import { depthChannel, depthDeltaMessage, depthSnapshotMessage } from './messages.js';
import { decodeMeta, decodeRecords, decodeSnapshot, relayKeys } from './relay-wire.js';
import type { RelayRecord } from './relay-wire.js';
import type { BookView, MarketDataFeed, StreamTap } from './service.js';
import { sleep } from './service.js';

export interface RelayOptions {
  readonly redis: Redis;
  readonly prefix: string;
  readonly hub: Hub;
  readonly logger: Logger;
  /** Deltas kept per market while it resynchronises; past it the buffer restarts. */
  readonly resyncBufferMax: number;
  readonly resyncPollMs: number;
}

class Mirror implements BookView {
  lastSeq = 0;
  readonly markets = new Map<number, MarketInfo>();
  readonly assets = new Map<number, AssetInfo>();
  readonly marketIdBySymbol = new Map<string, number>();
  readonly books = new Map<number, DepthBook>();
  /** Markets being resynchronised, with the deltas received meanwhile. */
  readonly resyncing = new Map<number, DepthDelta[]>();

  addMarket(m: MarketInfo): void {
    if (this.markets.has(m.marketId)) return;
    this.markets.set(m.marketId, m);
    this.marketIdBySymbol.set(m.symbol, m.marketId);
    // Unknown state (seq -1): the first delta is a gap unless a snapshot came first.
    this.books.set(m.marketId, new DepthBook(m.marketId, -1));
  }
}

export class RedisRelay implements MarketDataFeed {
  private readonly mirror = new Mirror();
  private subscriber: Redis | null = null;
  private stopping = false;
  private ready = false;
  private readonly taps = new Set<StreamTap>();
  resyncs = 0;

  constructor(private readonly opts: RelayOptions) {}

  get view(): BookView | null {
    return this.ready ? this.mirror : null;
  }

  /** Taps see depth only: trades and user events reach a relay as text already formatted for /v1/ws. */
  addTap(tap: StreamTap): () => void {
    this.taps.add(tap);
    if (this.ready) tap.reset(this.mirror);
    return () => this.taps.delete(tap);
  }

  start(): void {
    void this.run().catch((err: unknown) => this.opts.logger.error({ err }, 'market data relay failed to start'));
  }

  private async run(): Promise<void> {
    const keys = relayKeys(this.opts.prefix);
    const sub = this.opts.redis.duplicate();
    this.subscriber = sub;
    sub.on('message', (_channel: string, text: string) => this.onMessage(text));
    // Subscribed before the snapshots are read, so nothing between the two is missed.
    await sub.subscribe(keys.channel);
    for (;;) {
      const meta = await this.opts.redis.get(keys.meta);
      if (meta !== null) {
        const { markets, assets } = decodeMeta(meta);
        for (const a of assets) this.mirror.assets.set(a.assetId, a);
        for (const m of markets) this.mirror.addMarket(m);
        break;
      }
      if (this.stopping) return;
      await sleep(this.opts.resyncPollMs);
    }
    this.ready = true;
    for (const tap of this.taps) tap.reset(this.mirror);
    for (const marketId of this.mirror.markets.keys()) this.beginResync(marketId, null);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.subscriber?.quit().catch(() => undefined);
  }

  private onMessage(text: string): void {
    let records: RelayRecord[];
    try {
      records = decodeRecords(text);
    } catch (err) {
      this.opts.logger.warn({ err }, 'market data relay: dropping a malformed message');
      return;
    }
    for (const r of records) {
      if (r.seq <= this.mirror.lastSeq) continue;
      this.mirror.lastSeq = r.seq;
      for (const a of r.assets) this.mirror.assets.set(a.assetId, a);
      for (const m of r.markets) this.mirror.addMarket(m);
      for (const d of r.depth) this.onDelta(d);
      for (const [channel, t] of r.trades) this.opts.hub.broadcast(channel, t);
      for (const [userId, t] of r.user) this.opts.hub.sendToUser(userId, t);
    }
  }

  private onDelta(d: DepthDelta): void {
    const book = this.mirror.books.get(d.marketId);
    if (book === undefined) return; // a market the meta did not list yet: its first snapshot brings it
    const buffer = this.mirror.resyncing.get(d.marketId);
    if (buffer !== undefined) {
      if (buffer.length >= this.opts.resyncBufferMax) buffer.length = 0;
      buffer.push(d);
      return;
    }
    if (d.seq <= book.seq) return;
    if (d.prevSeq !== book.seq) return this.beginResync(d.marketId, d);
    this.applyDelta(book, d);
    const m = this.mirror.markets.get(d.marketId) as MarketInfo;
    this.opts.hub.broadcast(depthChannel(m.symbol), JSON.stringify(depthDeltaMessage(d, m)));
    for (const tap of this.taps)
      tap.record({ seq: d.seq, depth: [d], trades: [], user: [], assets: [], markets: [] }, this.mirror);
  }

  private applyDelta(book: DepthBook, d: DepthDelta): void {
    for (const [p, lots] of d.bids) book.setLevel('buy', p, lots);
    for (const [p, lots] of d.asks) book.setLevel('sell', p, lots);
    book.seq = d.seq;
  }

  private beginResync(marketId: number, first: DepthDelta | null): void {
    if (this.mirror.resyncing.has(marketId)) return;
    this.mirror.resyncing.set(marketId, first === null ? [] : [first]);
    this.resyncs++;
    void this.resync(marketId).catch((err: unknown) =>
      this.opts.logger.error({ err, marketId }, 'market data relay: resync failed'),
    );
  }

  /** Waits for a snapshot at or after the first buffered delta's base, loads it and applies the buffer on top. */
  private async resync(marketId: number): Promise<void> {
    const key = relayKeys(this.opts.prefix).snapshot(marketId);
    while (!this.stopping) {
      const text = await this.opts.redis.get(key);
      const buffer = this.mirror.resyncing.get(marketId) as DepthDelta[];
      const snap = text === null ? null : decodeSnapshot(text);
      if (snap !== null && (buffer.length === 0 || snap.seq >= buffer[0].prevSeq)) {
        const book = new DepthBook(marketId, snap.seq);
        for (const [p, lots] of snap.bids) book.setLevel('buy', p, lots);
        for (const [p, lots] of snap.asks) book.setLevel('sell', p, lots);
        const chained = buffer.every(
          (d) => d.seq <= book.seq || (d.prevSeq === book.seq && (this.applyDelta(book, d), true)),
        );
        if (chained) {
          this.mirror.books.set(marketId, book);
          this.mirror.resyncing.delete(marketId);
          const m = this.mirror.markets.get(marketId) as MarketInfo;
          this.opts.hub.broadcast(depthChannel(m.symbol), JSON.stringify(depthSnapshotMessage(book.snapshot(), m)));
          // The market's depth chain restarted from the snapshot's seq.
          for (const tap of this.taps) tap.reset(this.mirror);
          return;
        }
      }
      await sleep(this.opts.resyncPollMs);
    }
  }
}
