// Binance's WebSocket streams, fed by the market-data feed (a StreamTap) and sent through the market-data hub, on
// channels of their own (`bn:r:<stream>` raw, `bn:c:<stream>` wrapped for /stream, `bn:u:<userId>` a listen key's
// user data, `bn:a:<userId>` the WebSocket API's). Streams:
//   <symbol>@depth[@100ms|@1000ms]   diffs with U/u from the engine's event seq: U = the book's seq before + 1, u = its
//                                    seq after, so each diff's U is the previous u + 1 and REST depth's lastUpdateId
//                                    is on the same sequence; diffs are merged over 100 ms or 1 s, as Binance does
//   <symbol>@depth5|10|20[@100ms]    the top levels, when they changed
//   <symbol>@trade, @aggTrade        every trade
//   <symbol>@bookTicker              best bid and ask, when they change
//   <symbol>@ticker, @miniTicker, !ticker@arr, !miniTicker@arr, <symbol>@kline_<interval>
//                                    every second for markets that traded, from persistence's tables once they hold
//                                    the trades (so the figures equal the REST routes')

import type { Logger } from 'pino';
import type { RecordOutput } from '../market-data/core.js';
import type { DepthDelta } from '../market-data/depth-book.js';
import type { Hub } from '../market-data/hub.js';
import { lookupOf } from '../market-data/service.js';
import type { BookView, StreamTap } from '../market-data/service.js';
import type { MarketInfo } from '../units.js';
import { formatLots, formatPriceTicks, formatQuote } from '../units.js';
import type { BinanceContext } from './context.js';
import { binanceSymbol } from './context.js';
import { KLINE_INTERVALS, klineBounds, klines } from './history.js';
import { fullTicker } from './routes-market.js';
import { UserStreamTracker } from './user-stream.js';

export const rawChannel = (stream: string): string => `bn:r:${stream}`;
export const combinedChannel = (stream: string): string => `bn:c:${stream}`;
export const listenKeyChannel = (userId: number): string => `bn:u:${userId}`;
export const wsApiChannel = (userId: number): string => `bn:a:${userId}`;

const STREAM =
  /^([a-z0-9._-]{2,40})@(depth(?:5|10|20)?(?:@100ms|@1000ms)?|trade|aggTrade|bookTicker|ticker|miniTicker|kline_(?:1m|3m|5m|15m|30m|1h|2h|4h|6h|8h|12h|1d|3d|1w|1M))$/;

/** A stream name as Binance spells it (symbol lower case), or null when it is not one we serve. */
export function parseStream(name: string): { symbol: string | null; kind: string } | null {
  if (name === '!ticker@arr' || name === '!miniTicker@arr') return { symbol: null, kind: name };
  const m = STREAM.exec(name);
  return m === null ? null : { symbol: m[1], kind: m[2] };
}

interface PendingDiff {
  firstU: number;
  lastU: number;
  readonly bids: Map<number, number>;
  readonly asks: Map<number, number>;
}

const FAST_MS = 100;
const SLOW_MS = 1000;

export class BinanceStreams implements StreamTap {
  private view: BookView | null = null;
  private readonly diffs = new Map<string, PendingDiff>();
  private readonly partialDirty = new Set<number>();
  /** Markets that traded since the last ticker/kline push, with the seq of their last trade. */
  private readonly traded = new Map<number, number>();
  private readonly tops = new Map<number, string>();
  private readonly users = new UserStreamTracker();
  private readonly timers: NodeJS.Timeout[] = [];
  private statsBusy = false;

  constructor(
    private readonly b: BinanceContext,
    private readonly hub: Hub,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.timers.push(
      setInterval(() => this.flushDepth('@100ms'), FAST_MS),
      setInterval(() => {
        this.flushDepth('');
        void this.pushStats();
      }, SLOW_MS),
    );
    for (const t of this.timers) t.unref();
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
  }

  get trackedOrders(): number {
    return this.users.size;
  }

  reset(view: BookView): void {
    // A new state: depth chains restart from its books' seqs (clients see the gap and take a new snapshot).
    this.view = view;
    this.diffs.clear();
    this.tops.clear();
  }

  record(out: RecordOutput, view: BookView): void {
    this.view = view;
    for (const d of out.depth) this.onDepth(d, view);
    for (const t of out.trades) {
      const m = view.markets.get(t.marketId) as MarketInfo;
      const sym = binanceSymbol(m).toLowerCase();
      this.traded.set(t.marketId, t.seq);
      const p = formatPriceTicks(t.priceTicks, m);
      const q = formatLots(t.qtyLots, m);
      const maker = t.takerSide === 'sell';
      this.send(`${sym}@trade`, {
        e: 'trade',
        E: t.timeMs,
        s: binanceSymbol(m),
        t: t.tradeId,
        p,
        q,
        T: t.timeMs,
        m: maker,
        M: true,
      });
      this.send(`${sym}@aggTrade`, {
        e: 'aggTrade',
        E: t.timeMs,
        s: binanceSymbol(m),
        a: t.tradeId,
        p,
        q,
        f: t.tradeId,
        l: t.tradeId,
        T: t.timeMs,
        m: maker,
        M: true,
      });
    }
    if (out.user.length > 0) this.onUser(out, view);
  }

  private wantsUser = (userId: number): boolean =>
    this.hub.hasSubscribers(listenKeyChannel(userId)) || this.hub.hasSubscribers(wsApiChannel(userId));

  private onUser(out: RecordOutput, view: BookView): void {
    for (const msg of this.users.record(out.user, lookupOf(view), this.wantsUser)) {
      const raw = JSON.stringify(msg.event);
      this.hub.broadcast(listenKeyChannel(msg.userId), raw);
      this.hub.broadcast(wsApiChannel(msg.userId), `{"subscriptionId":0,"event":${raw}}`);
    }
  }

  private onDepth(d: DepthDelta, view: BookView): void {
    const m = view.markets.get(d.marketId) as MarketInfo;
    const sym = binanceSymbol(m).toLowerCase();
    for (const speed of ['@100ms', '']) {
      const stream = `${sym}@depth${speed}`;
      if (!this.subscribed(stream) && !(speed === '' && this.subscribed(`${sym}@depth@1000ms`))) continue;
      let p = this.diffs.get(stream);
      if (p === undefined)
        this.diffs.set(stream, (p = { firstU: d.prevSeq + 1, lastU: d.seq, bids: new Map(), asks: new Map() }));
      p.lastU = d.seq;
      for (const [price, lots] of d.bids) p.bids.set(price, lots);
      for (const [price, lots] of d.asks) p.asks.set(price, lots);
    }
    this.partialDirty.add(d.marketId);
    this.onTop(m, sym, view, d.seq);
  }

  private onTop(m: MarketInfo, sym: string, view: BookView, seq: number): void {
    const stream = `${sym}@bookTicker`;
    if (!this.subscribed(stream)) return;
    const s = view.books.get(m.marketId)?.snapshot(1);
    if (s === undefined) return;
    const bid = s.bids[0];
    const ask = s.asks[0];
    const top = {
      u: seq,
      s: binanceSymbol(m),
      b: bid ? formatPriceTicks(bid[0], m) : '0',
      B: bid ? formatLots(bid[1], m) : '0',
      a: ask ? formatPriceTicks(ask[0], m) : '0',
      A: ask ? formatLots(ask[1], m) : '0',
    };
    const key = `${top.b}/${top.B}/${top.a}/${top.A}`;
    if (this.tops.get(m.marketId) === key) return;
    this.tops.set(m.marketId, key);
    this.send(stream, top);
  }

  private flushDepth(speed: '@100ms' | ''): void {
    const view = this.view;
    if (view === null) return;
    const now = this.b.nowMs();
    for (const m of view.markets.values()) {
      const sym = binanceSymbol(m).toLowerCase();
      const stream = `${sym}@depth${speed}`;
      const p = this.diffs.get(stream);
      if (p !== undefined) {
        this.diffs.delete(stream);
        const levels = (side: Map<number, number>, desc: boolean) =>
          [...side]
            .sort((a, b) => (desc ? b[0] - a[0] : a[0] - b[0]))
            .map(([t, l]) => [formatPriceTicks(t, m), formatLots(l, m)]);
        const msg = {
          e: 'depthUpdate',
          E: now,
          s: binanceSymbol(m),
          U: p.firstU,
          u: p.lastU,
          b: levels(p.bids, true),
          a: levels(p.asks, false),
        };
        this.send(stream, msg);
        if (speed === '') this.send(`${sym}@depth@1000ms`, msg);
      }
      if (this.partialDirty.has(m.marketId)) this.flushPartial(m, sym, speed, view);
    }
    if (speed === '') this.partialDirty.clear();
  }

  private flushPartial(m: MarketInfo, sym: string, speed: string, view: BookView): void {
    const book = view.books.get(m.marketId);
    if (book === undefined) return;
    for (const levels of [5, 10, 20]) {
      const stream = `${sym}@depth${levels}${speed}`;
      if (!this.subscribed(stream) && !(speed === '' && this.subscribed(`${stream}@1000ms`))) continue;
      const s = book.snapshot(levels);
      const msg = {
        lastUpdateId: s.seq,
        bids: s.bids.map(([t, l]) => [formatPriceTicks(t, m), formatLots(l, m)]),
        asks: s.asks.map(([t, l]) => [formatPriceTicks(t, m), formatLots(l, m)]),
      };
      this.send(stream, msg);
      if (speed === '') this.send(`${stream}@1000ms`, msg);
    }
  }

  /** Tickers and klines of the markets that traded, once persistence holds their trades. */
  private async pushStats(): Promise<void> {
    if (this.statsBusy || this.traded.size === 0 || this.view === null) return;
    this.statsBusy = true;
    const traded = [...this.traded];
    this.traded.clear();
    try {
      if (!(await this.b.persisted.waitFor(Math.max(...traded.map(([, seq]) => seq)), SLOW_MS))) {
        // Persistence does not hold these trades yet: figures now would be stale; the next round tries again.
        for (const [marketId, seq] of traded) if (!this.traded.has(marketId)) this.traded.set(marketId, seq);
        return;
      }
      const tickers: Record<string, unknown>[] = [];
      const minis: Record<string, unknown>[] = [];
      for (const [marketId] of traded) {
        const m = this.view.markets.get(marketId) as MarketInfo;
        await this.pushMarketStats(m, tickers, minis);
      }
      if (tickers.length > 0) this.send('!ticker@arr', tickers);
      if (minis.length > 0) this.send('!miniTicker@arr', minis);
    } catch (err) {
      this.logger.warn({ err }, 'binance streams: tickers or klines failed');
    } finally {
      this.statsBusy = false;
    }
  }

  private async pushMarketStats(
    m: MarketInfo,
    tickers: Record<string, unknown>[],
    minis: Record<string, unknown>[],
  ): Promise<void> {
    const sym = binanceSymbol(m).toLowerCase();
    const now = this.b.nowMs();
    const wantFull = this.subscribed(`${sym}@ticker`) || this.subscribed('!ticker@arr');
    const wantMini = this.subscribed(`${sym}@miniTicker`) || this.subscribed('!miniTicker@arr');
    if (wantFull || wantMini) {
      const t = await fullTicker(this.b, m);
      const full = {
        e: '24hrTicker',
        E: now,
        s: t.symbol,
        p: t.priceChange,
        P: t.priceChangePercent,
        w: t.weightedAvgPrice,
        x: t.prevClosePrice,
        c: t.lastPrice,
        Q: t.lastQty,
        b: t.bidPrice,
        B: t.bidQty,
        a: t.askPrice,
        A: t.askQty,
        o: t.openPrice,
        h: t.highPrice,
        l: t.lowPrice,
        v: t.volume,
        q: t.quoteVolume,
        O: t.openTime,
        C: t.closeTime,
        F: t.firstId,
        L: t.lastId,
        n: t.count,
      };
      const mini = {
        e: '24hrMiniTicker',
        E: now,
        s: t.symbol,
        c: t.lastPrice,
        o: t.openPrice,
        h: t.highPrice,
        l: t.lowPrice,
        v: t.volume,
        q: t.quoteVolume,
      };
      if (wantFull) {
        this.send(`${sym}@ticker`, full);
        tickers.push(full);
      }
      this.send(`${sym}@miniTicker`, mini);
      minis.push(mini);
    }
    for (const interval of Object.keys(KLINE_INTERVALS)) {
      const stream = `${sym}@kline_${interval}`;
      if (!this.subscribed(stream)) continue;
      const { openMs, closeMs } = klineBounds(interval, now);
      const [k] = await klines(this.b.ctx.sql, m.marketId, interval, { startMs: openMs, limit: 1 });
      if (k === undefined || k.openMs !== openMs) continue;
      this.send(stream, {
        e: 'kline',
        E: now,
        s: binanceSymbol(m),
        k: {
          t: openMs,
          T: closeMs - 1,
          s: binanceSymbol(m),
          i: interval,
          f: k.firstId,
          L: k.lastId,
          o: formatPriceTicks(k.openTicks, m),
          c: formatPriceTicks(k.closeTicks, m),
          h: formatPriceTicks(k.highTicks, m),
          l: formatPriceTicks(k.lowTicks, m),
          v: formatLots(k.volumeLots, m),
          n: k.count,
          x: false,
          q: formatQuote(k.quoteVolume, m),
          V: formatLots(k.takerBuyLots, m),
          Q: formatQuote(k.takerBuyQuote, m),
          B: '0',
        },
      });
    }
  }

  private subscribed(stream: string): boolean {
    return this.hub.hasSubscribers(rawChannel(stream)) || this.hub.hasSubscribers(combinedChannel(stream));
  }

  /** Serialised once per stream: raw for /ws, wrapped for /stream. */
  private send(stream: string, data: unknown): void {
    const raw = this.hub.hasSubscribers(rawChannel(stream));
    const combined = this.hub.hasSubscribers(combinedChannel(stream));
    if (!raw && !combined) return;
    const text = JSON.stringify(data);
    if (raw) this.hub.broadcast(rawChannel(stream), text);
    if (combined) this.hub.broadcast(combinedChannel(stream), `{"stream":${JSON.stringify(stream)},"data":${text}}`);
  }
}
