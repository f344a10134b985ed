// The pure core against the engine: after every command of a seeded stream (limit/IOC/FOK/post-only, market by
// quantity and by budget, stops, every STP mode, amends in place and re-queued, cancels, cancel-all) the core's
// aggregated book equals the engine's own; deltas applied to a snapshot give the same book; a state started from
// the engine's open orders mid-stream continues exactly; gaps, split records and mid-command starts are refused.
// MD_SEED=<n> replays a seed.

import t from 'tap';
import { Engine } from '../../engine/core/index.js';
import type { EngineEvent } from '../../engine/core/index.js';
import type { Market } from '../../engine/core/order.js';
import { MarketDataCore } from '../../gateway/market-data/core.js';
import type { CoreState, TrackedOrder } from '../../gateway/market-data/core.js';
import type { DepthDelta, LevelTuple } from '../../gateway/market-data/depth-book.js';
import type { AssetInfo, MarketInfo } from '../../gateway/units.js';
import { richStream } from '../persistence/rich-stream.js';
import { engineDepth } from './market-data-support.js';

const SEED = Number(process.env.MD_SEED ?? 4242);
const COMMANDS = 4000;
const MARKET = 1;
const EMPTY: CoreState = { lastSeq: 0, assets: [], markets: [], orders: [] };

/** The state a PostgreSQL bootstrap would give, taken from the engine itself (at a command boundary). */
function stateOf(e: Engine): CoreState {
  const assets: AssetInfo[] = e.assets
    .filter((a) => a !== undefined)
    .map((a) => ({ assetId: a.assetId, symbol: a.symbol, decimals: a.decimals }));
  const markets: MarketInfo[] = (e.markets.filter((m) => m !== undefined) as Market[]).map((m) => {
    const base = e.assets[m.baseAssetId] as AssetInfo;
    const quote = e.assets[m.quoteAssetId] as AssetInfo;
    return {
      marketId: m.marketId,
      symbol: m.symbol,
      baseAssetId: m.baseAssetId,
      quoteAssetId: m.quoteAssetId,
      baseSymbol: base.symbol,
      quoteSymbol: quote.symbol,
      baseDecimals: base.decimals,
      quoteDecimals: quote.decimals,
      tickSize: m.tickSize,
      lotSize: m.lotSize,
      minNotional: m.minNotional,
      makerFeeBps: m.makerFeeBps,
      takerFeeBps: m.takerFeeBps,
    };
  });
  const orders: TrackedOrder[] = [...e.orders.values()].map((o) => ({
    orderId: o.orderId,
    userId: o.userId,
    marketId: o.marketId,
    side: o.side,
    priceTicks: o.priceTicks,
    remainingLots: o.remainingLots,
    inBook: !o.isStopPending,
  }));
  return { lastSeq: e.eventSeq, assets, markets, orders };
}

function coreDepth(core: MarketDataCore, marketId: number): { bids: LevelTuple[]; asks: LevelTuple[] } {
  const s = core.book(marketId).snapshot();
  return { bids: s.bids, asks: s.asks };
}

/** A client's book in ticks/lots: snapshot + chained deltas. */
class TickBook {
  bids = new Map<number, number>();
  asks = new Map<number, number>();
  constructor(public seq: number) {}
  apply(d: DepthDelta): void {
    if (d.prevSeq !== this.seq) throw new Error(`delta ${d.prevSeq}->${d.seq} does not continue ${this.seq}`);
    for (const [p, l] of d.bids) l === 0 ? this.bids.delete(p) : this.bids.set(p, l);
    for (const [p, l] of d.asks) l === 0 ? this.asks.delete(p) : this.asks.set(p, l);
    this.seq = d.seq;
  }
  depth(): { bids: LevelTuple[]; asks: LevelTuple[] } {
    return { bids: [...this.bids].sort((a, b) => b[0] - a[0]), asks: [...this.asks].sort((a, b) => a[0] - b[0]) };
  }
}

t.test(`the core's book equals the engine's after every command (seed ${SEED})`, async (t) => {
  const s = richStream(SEED, COMMANDS);
  const engine = new Engine();
  const core = new MarketDataCore(EMPTY);
  const client = new TickBook(-1);
  let mismatches = 0;
  let deltas = 0;
  let stopsWaiting = 0;
  let skipped = 0;
  let levelsMax = 0;
  for (const cmd of s.commands) {
    const out = core.applyRecord(engine.apply(cmd));
    if (out === null) skipped++;
    if (client.seq < 0 && core.books.has(MARKET)) client.seq = core.book(MARKET).seq;
    for (const d of out?.depth ?? []) {
      client.apply(d);
      deltas++;
    }
    if (!core.books.has(MARKET)) continue;
    const want = engineDepth(engine, MARKET);
    if (JSON.stringify(coreDepth(core, MARKET)) !== JSON.stringify(want)) mismatches++;
    if (JSON.stringify(client.depth()) !== JSON.stringify(want)) mismatches++;
    const m = engine.markets[MARKET] as Market;
    stopsWaiting = Math.max(stopsWaiting, m.book.buyStops.orderCount + m.book.sellStops.orderCount);
    levelsMax = Math.max(levelsMax, core.book(MARKET).levelCount);
  }
  t.equal(skipped, 0, 'every new record is applied');
  t.equal(mismatches, 0, 'core book and client book (snapshot + deltas) = engine book after every command');
  t.ok(deltas > COMMANDS / 4, `${deltas} deltas`);
  t.ok(stopsWaiting > 0, `stop orders waited outside the book (up to ${stopsWaiting})`);
  t.equal(core.orders.size, engine.orders.size, 'the core tracks exactly the engine open orders');
  t.ok(levelsMax > 5, `books of up to ${levelsMax} levels were compared`);
});

t.test(
  'a market added and traded in one record (a batch of commands): its first delta starts at its creation',
  async (t) => {
    const s = richStream(SEED + 3, 300);
    const engine = new Engine();
    const events = s.commands.flatMap((c) => engine.apply(c));
    const added = events.find((e) => e.type === 'marketAdded' && e.marketId === MARKET) as EngineEvent;
    const core = new MarketDataCore(EMPTY);
    const out = core.applyRecord(events);
    const delta = out?.depth.find((d) => d.marketId === MARKET);
    t.same(
      { prevSeq: delta?.prevSeq, seq: delta?.seq },
      { prevSeq: added.seq, seq: engine.eventSeq },
      'the delta moves the new book from the seq of its marketAdded to the record end',
    );
    t.ok((delta?.bids.length ?? 0) + (delta?.asks.length ?? 0) > 0, 'orders rested in the same record');
    t.same(coreDepth(core, MARKET), engineDepth(engine, MARKET), 'book = engine book');
  },
);

t.test('a state loaded mid-stream (as from PostgreSQL) continues exactly; redeliveries are skipped', async (t) => {
  const s = richStream(SEED + 1, 2500);
  const engine = new Engine();
  const records: EngineEvent[][] = s.commands.map((c) => engine.apply(c));
  const cut = 1200;
  const early = new Engine();
  for (const c of s.commands.slice(0, cut)) early.apply(c);
  const core = new MarketDataCore(stateOf(early));
  const startSeq = core.lastSeq;
  // The stream is read from a little before the position: those records are skipped.
  let skipped = 0;
  for (const r of records.slice(cut - 5)) if (core.applyRecord(r) === null) skipped++;
  t.equal(skipped, 5, 'records at or below the position are skipped');
  t.same(coreDepth(core, MARKET), engineDepth(engine, MARKET), 'book = engine book at the end');
  t.ok(core.lastSeq > startSeq && core.lastSeq === engine.eventSeq, 'at the engine seq');
});

t.test(
  'gaps and starts inside a command are refused with their kind; a split record is cut at the position',
  async (t) => {
    const s = richStream(SEED + 2, 300);
    const engine = new Engine();
    const records = s.commands.map((c) => engine.apply(c));
    const gap = new MarketDataCore(EMPTY);
    for (const r of records.slice(0, 100)) gap.applyRecord(r);
    const before = JSON.stringify(coreDepth(gap, MARKET));
    t.throws(() => gap.applyRecord(records[101]), { name: 'StreamError', kind: 'gap' }, 'a missing record is a gap');
    t.equal(JSON.stringify(coreDepth(gap, MARKET)), before, 'a refused record changes nothing');
    t.equal(gap.applyRecord(records[99]), null, 'a redelivered record is skipped');

    const split = new MarketDataCore(EMPTY);
    for (const r of records.slice(0, 100)) split.applyRecord(r);
    const straddling = [...records[99].slice(-1), ...records[100]];
    const whole = new MarketDataCore(EMPTY);
    for (const r of records.slice(0, 100)) whole.applyRecord(r);
    t.same(
      split.applyRecord(straddling),
      whole.applyRecord(records[100]),
      'a record across the position applies only its new events',
    );
    t.equal(
      JSON.stringify(coreDepth(split, MARKET)),
      JSON.stringify(coreDepth(whole, MARKET)),
      'the same book as the record cut at the position',
    );

    // A command's events over two records; a state whose position is the end of the first part cannot go on.
    const big = records.findIndex((r, i) => i > 50 && r.length >= 4);
    const mid = new MarketDataCore({ ...stateOf(engineAt(s.commands, big)), lastSeq: records[big][1].seq });
    t.equal(mid.applyRecord(records[big].slice(0, 2)), null, 'the stored part is skipped');
    t.throws(() => mid.applyRecord(records[big].slice(2)), { name: 'StreamError', kind: 'midCommand' });
    // The same cut met by a core that applied the command's first part itself: it goes on (records are cut by size).
    const streaming = new MarketDataCore(EMPTY);
    for (const r of records.slice(0, big)) streaming.applyRecord(r);
    streaming.applyRecord(records[big].slice(0, 2));
    t.doesNotThrow(() => streaming.applyRecord(records[big].slice(2)), 'a core that applied the first part goes on');
    const unsplit = new MarketDataCore(EMPTY);
    for (const r of records.slice(0, big + 1)) unsplit.applyRecord(r);
    t.equal(
      JSON.stringify(coreDepth(streaming, MARKET)),
      JSON.stringify(coreDepth(unsplit, MARKET)),
      'the same book as with the command in one record',
    );
    t.throws(() => new MarketDataCore(EMPTY).applyRecord([]), { name: 'StreamError', kind: 'empty' });
  },
);

function engineAt(commands: Parameters<Engine['apply']>[0][], n: number): Engine {
  const e = new Engine();
  for (const c of commands.slice(0, n)) e.apply(c);
  return e;
}

t.test('a broken invariant is a thrown error, not a silent wrong book', async (t) => {
  const s = richStream(SEED + 3, 400);
  const engine = new Engine();
  const records = s.commands.map((c) => engine.apply(c));
  const core = new MarketDataCore(EMPTY);
  const restIdx = records.findIndex((r) => r.some((e) => e.type === 'orderRested'));
  for (const r of records.slice(0, restIdx)) core.applyRecord(r);
  const forged = records[restIdx].map((e) => (e.type === 'orderRested' ? { ...e, orderId: 999_999 } : e));
  t.throws(() => core.applyRecord(forged), /invariant violated: order 999999 is not open/);
});
