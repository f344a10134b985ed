// Market data's pure core: the engine's events in, per-market aggregated books and what to stream out. No I/O, no
// clock. It follows the resting quantity of every open order exactly as engine/core/matching.ts and orders.ts move
// it: an order enters its level on `orderRested` only (takers, IOC/FOK and market orders never rest; stop orders
// wait outside the book until triggered and rested), leaves it by its fills, `orderCanceled`/`orderExpired` or a
// re-queueing `orderAmended` (keptPriority false: the engine took it off its level before the event), and shrinks
// in place by an `orderAmended` that kept priority (a smaller quantity, or self-trade decrement).
//
// Records must come gap-free: a record wholly at or below `lastSeq` is a redelivery and is skipped; the next event
// must be lastSeq + 1. Anything else throws a StreamError and the shell rebuilds the state (see feed.ts).

import type { EngineEvent, OrderAccepted } from '../../engine/core/index.js';
import type { Side } from '../../engine/core/index.js';
import type { AssetInfo, MarketInfo } from '../units.js';
import { DepthBook } from './depth-book.js';
import type { DepthDelta } from './depth-book.js';

export interface TrackedOrder {
  readonly orderId: number;
  readonly userId: number;
  readonly marketId: number;
  readonly side: Side;
  priceTicks: number;
  remainingLots: number;
  /** True while the order rests on a level (not a taker in flight, not a stop waiting for its trigger). */
  inBook: boolean;
}

export interface TradeOut {
  readonly marketId: number;
  readonly tradeId: number;
  readonly seq: number;
  readonly priceTicks: number;
  readonly qtyLots: number;
  readonly takerSide: Side;
  readonly timeMs: number;
}

export interface UserOut {
  readonly userId: number;
  /** The market an order event is about (fills name only the order, which may be gone by the time it is sent). */
  readonly marketId: number | null;
  readonly event: EngineEvent;
}

/** What one record changes, for the streams. */
export interface RecordOutput {
  /** Seq of the record's last event. */
  readonly seq: number;
  readonly depth: DepthDelta[];
  readonly trades: TradeOut[];
  readonly user: UserOut[];
  readonly assets: AssetInfo[];
  readonly markets: MarketInfo[];
}

export type StreamErrorKind = 'gap' | 'midCommand' | 'empty';

/** The stream cannot be applied from where the state is: the shell rebuilds the state and reads on. */
export class StreamError extends Error {
  override readonly name = 'StreamError';
  constructor(
    readonly kind: StreamErrorKind,
    message: string,
  ) {
    super(message);
  }
}

function invariant(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`invariant violated: ${message}`);
}

export interface CoreState {
  readonly lastSeq: number;
  readonly assets: readonly AssetInfo[];
  readonly markets: readonly MarketInfo[];
  /** Open orders at lastSeq: resting (inBook) and stops waiting for their trigger. */
  readonly orders: readonly TrackedOrder[];
}

export class MarketDataCore {
  lastSeq: number;
  readonly assets = new Map<number, AssetInfo>();
  readonly markets = new Map<number, MarketInfo>();
  readonly marketIdBySymbol = new Map<string, number>();
  readonly books = new Map<number, DepthBook>();
  readonly orders = new Map<number, TrackedOrder>();
  /**
   * Whether the last event applied (or skipped as already stored) ended its command; null when unknown. A state
   * loaded from PostgreSQL at a position inside a command (a command whose events span several records) would not
   * know the taker in flight, so that position is refused (StreamError 'midCommand') and the shell tries a later one.
   */
  private atCommandEnd: boolean | null = null;
  /**
   * Whether the state is still the one loaded (no event applied here yet). Only such a state can be inside a command
   * unknowingly: once this core applied a command's first events itself, a record that ends inside the command (the
   * daemon cuts records by size, EVENT_RECORD_BYTES_TARGET) is followed by the rest with nothing missing.
   */
  private loaded = true;
  private out: RecordOutput = emptyOutput(0);

  constructor(state: CoreState) {
    this.lastSeq = state.lastSeq;
    for (const a of state.assets) this.assets.set(a.assetId, a);
    for (const m of state.markets) this.addMarket(m, state.lastSeq);
    for (const o of state.orders) {
      invariant(this.books.has(o.marketId), `order ${o.orderId} is in unknown market ${o.marketId}`);
      this.orders.set(o.orderId, { ...o });
      if (o.inBook) this.book(o.marketId).add(o.side, o.priceTicks, o.remainingLots);
    }
    // The loaded book is the starting state, not a change.
    for (const b of this.books.values()) b.forgetChanges();
  }

  book(marketId: number): DepthBook {
    const b = this.books.get(marketId);
    invariant(b !== undefined, `market ${marketId} has no book`);
    return b;
  }

  private addMarket(m: MarketInfo, seq: number): void {
    invariant(!this.markets.has(m.marketId), `market ${m.marketId} added twice`);
    this.markets.set(m.marketId, m);
    this.marketIdBySymbol.set(m.symbol, m.marketId);
    this.books.set(m.marketId, new DepthBook(m.marketId, seq));
  }

  /** Applies one record (the events of one command, or a part of a very large one). Null when already applied. */
  applyRecord(record: readonly EngineEvent[]): RecordOutput | null {
    if (record.length === 0) throw new StreamError('empty', 'a record holds no events');
    let events = record;
    const last = events[events.length - 1].seq;
    if (last <= this.lastSeq) {
      if (last === this.lastSeq) this.atCommandEnd = events[events.length - 1].type === 'commandResult';
      return null;
    }
    if (events[0].seq <= this.lastSeq) {
      // Cut elsewhere by another writer (a daemon's restart, or a second daemon): the events up to the position
      // are copies of what was applied; the rest are new.
      const at = this.lastSeq - events[0].seq;
      this.atCommandEnd = events[at].type === 'commandResult';
      events = events.slice(at + 1);
    }
    const first = events[0].seq;
    if (first !== this.lastSeq + 1)
      throw new StreamError(
        'gap',
        `expected event ${this.lastSeq + 1}, got ${first}: events ${this.lastSeq + 1}..${first - 1} are missing`,
      );
    if (this.loaded && this.atCommandEnd === false)
      throw new StreamError('midCommand', `the state at ${this.lastSeq} is inside a command`);
    this.loaded = false;
    this.out = emptyOutput(last);
    for (const ev of events) {
      if (ev.seq !== this.lastSeq + 1)
        throw new StreamError('gap', `expected event ${this.lastSeq + 1}, got ${ev.seq} inside a record`);
      this.apply(ev);
      this.lastSeq = ev.seq;
    }
    this.atCommandEnd = events[events.length - 1].type === 'commandResult';
    for (const b of this.books.values()) {
      const delta = b.takeDelta(last);
      if (delta !== null) this.out.depth.push(delta);
    }
    return this.out;
  }

  private apply(ev: EngineEvent): void {
    switch (ev.type) {
      case 'assetAdded': {
        const a = { assetId: ev.assetId, symbol: ev.symbol, decimals: ev.decimals };
        this.assets.set(a.assetId, a);
        this.out.assets.push(a);
        return;
      }
      case 'marketAdded':
        return this.onMarketAdded(ev);
      case 'orderAccepted':
        return this.onAccepted(ev);
      case 'orderRested': {
        const o = this.order(ev.orderId);
        invariant(!o.inBook, `order ${o.orderId} rests twice`);
        o.inBook = true;
        o.priceTicks = ev.priceTicks;
        o.remainingLots = ev.remainingLots;
        this.book(o.marketId).add(o.side, o.priceTicks, o.remainingLots);
        return this.toUser(o.userId, ev);
      }
      case 'orderTriggered':
        return this.toUser(this.order(ev.orderId).userId, ev);
      case 'orderPartiallyFilled':
      case 'orderFilled': {
        const o = this.order(ev.orderId);
        if (o.inBook) {
          // Takers are not checked: a market buy by budget learns its quantity only when it starts to match.
          invariant(
            o.remainingLots - ev.fillLots === ev.remainingLots,
            `order ${o.orderId} fill of ${ev.fillLots} from ${o.remainingLots} leaves ${ev.remainingLots}`,
          );
          this.book(o.marketId).add(o.side, o.priceTicks, -ev.fillLots);
        }
        o.remainingLots = ev.remainingLots;
        if (ev.type === 'orderFilled') this.orders.delete(o.orderId);
        return this.toUser(o.userId, ev, o.marketId);
      }
      case 'orderCanceled':
      case 'orderExpired': {
        const o = this.order(ev.orderId);
        if (o.inBook) {
          invariant(
            o.remainingLots === ev.remainingLots,
            `order ${o.orderId} closes with ${ev.remainingLots} lots, tracked ${o.remainingLots}`,
          );
          this.book(o.marketId).add(o.side, o.priceTicks, -o.remainingLots);
        }
        this.orders.delete(o.orderId);
        return this.toUser(o.userId, ev);
      }
      case 'orderAmended': {
        const o = this.order(ev.orderId);
        if (o.inBook) {
          const b = this.book(o.marketId);
          if (ev.keptPriority) b.add(o.side, o.priceTicks, ev.remainingLots - o.remainingLots);
          else {
            // Re-queued: off its level now; it rests again (orderRested) if it does not fill completely.
            b.add(o.side, o.priceTicks, -o.remainingLots);
            o.inBook = false;
          }
        }
        o.priceTicks = ev.priceTicks;
        o.remainingLots = ev.remainingLots;
        return this.toUser(o.userId, ev);
      }
      case 'trade': {
        this.out.trades.push({
          marketId: ev.marketId,
          tradeId: ev.tradeId,
          seq: ev.seq,
          priceTicks: ev.priceTicks,
          qtyLots: ev.qtyLots,
          takerSide: ev.takerSide,
          timeMs: ev.timeMs,
        });
        this.toUser(ev.makerUserId, ev);
        if (ev.takerUserId !== ev.makerUserId) this.toUser(ev.takerUserId, ev);
        return;
      }
      case 'orderRejected':
      case 'balanceChanged':
      case 'depositCredited':
      case 'withdrawalPending':
      case 'withdrawalCompleted':
      case 'withdrawalFailed':
        return this.toUser(ev.userId, ev);
      case 'commandResult':
      // Operator controls: not market data; the gateway learns a command's outcome from its commandResult.
      case 'marketStatusChanged':
      case 'userFrozenChanged':
        return;
      default: {
        const _exhaustive: never = ev;
        void _exhaustive;
      }
    }
  }

  private onMarketAdded(ev: Extract<EngineEvent, { type: 'marketAdded' }>): void {
    const base = this.assets.get(ev.baseAssetId);
    const quote = this.assets.get(ev.quoteAssetId);
    invariant(base !== undefined && quote !== undefined, `market ${ev.marketId} names an unknown asset`);
    const m: MarketInfo = {
      marketId: ev.marketId,
      symbol: ev.symbol,
      baseAssetId: ev.baseAssetId,
      quoteAssetId: ev.quoteAssetId,
      baseSymbol: base.symbol,
      quoteSymbol: quote.symbol,
      baseDecimals: base.decimals,
      quoteDecimals: quote.decimals,
      tickSize: ev.tickSize,
      lotSize: ev.lotSize,
      minNotional: ev.minNotional,
      makerFeeBps: ev.makerFeeBps,
      takerFeeBps: ev.takerFeeBps,
    };
    // Its book is empty at this event's seq, not at the record's end: a record is a run of a batch's commands, and
    // orders placed after the market's creation in the same record make the record's delta, which must move the
    // book from an earlier seq (a book created at the record's end failed the delta's invariant and stopped market
    // data into rebuilds, found by test/daemon/standby-views-kafka.int.test.ts).
    this.addMarket(m, ev.seq);
    this.out.markets.push(m);
  }

  private onAccepted(ev: OrderAccepted): void {
    invariant(this.markets.has(ev.marketId), `order ${ev.orderId} is in unknown market ${ev.marketId}`);
    invariant(!this.orders.has(ev.orderId), `order ${ev.orderId} accepted twice`);
    this.orders.set(ev.orderId, {
      orderId: ev.orderId,
      userId: ev.userId,
      marketId: ev.marketId,
      side: ev.side,
      priceTicks: ev.priceTicks,
      remainingLots: ev.qtyLots,
      inBook: false,
    });
    this.toUser(ev.userId, ev);
  }

  private order(orderId: number): TrackedOrder {
    const o = this.orders.get(orderId);
    invariant(o !== undefined, `order ${orderId} is not open`);
    return o;
  }

  private toUser(userId: number, event: EngineEvent, marketId: number | null = null): void {
    this.out.user.push({ userId, marketId, event });
  }
}

function emptyOutput(seq: number): RecordOutput {
  return { seq, depth: [], trades: [], user: [], assets: [], markets: [] };
}
