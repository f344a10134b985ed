// Every consumer's view through hot-standby failovers (issue 17's tests, issue 12's guarantees), on a real broker,
// PostgreSQL and Redis (the writer lease). A writer and two standbys take a command stream submitted through the
// gateway's real command bus (gateway/kafka-bus.ts) at RATE_PER_SEC; the writer is SIGKILLed at seeded points,
// once frozen by SIGSTOP past its lease and resumed as a zombie, and once a second writer without a lease (a
// configuration mistake) writes copies of the same events for a while: the events topic then holds copies, which
// every consumer must drop by seq. Then:
// - persistence (persistence/main.ts, a process, on a fresh database): every order and trade row once and as one
//   uninterrupted projection has it, the ledger balanced, and `reconcile` clean;
// - the gateway's answers (the bus's results, read by the gateway's one events reader): every command submitted
//   answered once, with the events an uninterrupted run gives it, nothing unknown;
// - market data (MarketDataService on the same events reader): seqs in order without copies or gaps, depth deltas
//   that chain, no rebuild, and books equal to the engine's;
// - the last writer's state hash equals one uninterrupted run's.
// Only one standby promoted per failover is standby-kafka.int.test.ts's check; here it is a precondition.
// A failure prints the seed; STANDBY_VIEWS_SEED=<seed> replays it.

import t from 'tap';
import type { Test } from 'tap';
import pino from 'pino';
import type { Kafka } from 'kafkajs';
import { Engine, restore } from '../../engine/core/index.js';
import type { EngineEvent } from '../../engine/core/index.js';
import { SnapshotStore, stateHash } from '../../engine/daemon/snapshot-store.js';
import { decodeCommand, encodeEvent } from '../../engine/wire/codec.js';
import type { CommandInput } from '../../engine/wire/codec.js';
import { GatewayEventsFeed } from '../../gateway/events-feed.js';
import { KafkaCommandBus } from '../../gateway/kafka-bus.js';
import type { CommandOutcome } from '../../gateway/command-bus.js';
import { Hub } from '../../gateway/market-data/hub.js';
import { MarketDataService } from '../../gateway/market-data/service.js';
import type { BookView } from '../../gateway/market-data/service.js';
import type { RecordOutput } from '../../gateway/market-data/core.js';
import type { LevelTuple } from '../../gateway/market-data/depth-book.js';
import { decodeTrustedEventRecord } from '../../kafka/event-record.js';
import { Projector } from '../../persistence/projector.js';
import type { SourceRecord } from '../../persistence/projector.js';
import { startKafkaBroker } from '../../tools/kafka/broker.js';
import { createTestDatabase } from '../../testkit/pg.js';
import type { TestDatabase } from '../../testkit/pg.js';
import { Prng } from '../../testkit/prng.js';
import { spawnTs } from '../../testkit/processes.js';
import type { Proc } from '../../testkit/processes.js';
import { engineDepth } from '../gateway/market-data-support.js';
import { ledgerViolations } from '../persistence/ledger-checks.js';
import { richStream } from '../persistence/rich-stream.js';
import { readTopic } from './kafka-support.js';
import { sleep, waitFor } from './recovery-support.js';
import type { StoredCommand } from './recovery-support.js';
import { alive, failOver, prepareStandbys, snapshotsDirOf, startEngine, waitReady } from './standby-support.js';
import type { StandbyEngine, StandbySetup } from './standby-support.js';

const SEED = Number(process.env.STANDBY_VIEWS_SEED ?? 20261217);
/** Failovers; one of them (seeded) is the SIGSTOP zombie. */
const KILLS = Number(process.env.STANDBY_VIEWS_KILLS ?? 5);
const COMMANDS_MAX = 60_000;
const RATE_PER_SEC = 1_000;
const SENDS_PER_SEC = 20;
/** Long enough that a failover never turns an answer into `unknown`: an unknown answer is a failure here. */
const ANSWER_TIMEOUT_MS = 60_000;
const WAIT_MS = 120_000;

t.test('consumer views through hot-standby failovers', async (t) => {
  const broker = await startKafkaBroker({ extraConfig: { 'message.max.bytes': '8388608' } });
  t.teardown(() => broker.stop());
  const s = await prepareStandbys(t, broker, 'views');
  const db = await createTestDatabase('standby_views');
  t.teardown(() => db.drop());
  const consumerEnv = {
    KAFKA_BROKERS: broker.brokers,
    KAFKA_COMMANDS_TOPIC: s.commandsTopic,
    KAFKA_EVENTS_TOPIC: s.eventsTopic,
    DATABASE_URL: db.url,
  };
  const rng = new Prng(SEED);
  const startedMs = performance.now();
  const phase = (what: string): void => t.comment(`${what} at ${Math.round(performance.now() - startedMs)} ms`);

  const persistence = spawnTs('persistence/main.ts', { ...consumerEnv, LOG_LEVEL: 'info' });
  t.teardown(() => (persistence.child.exitCode === null ? void persistence.child.kill('SIGKILL') : undefined));
  const engines: StandbyEngine[] = [];
  for (const name of ['e0', 'e1', 'e2']) engines.push(await startEngine(t, s, name));
  await waitFor(
    async () => engines.some((e) => e.promoted),
    60_000,
    () => `no writer elected: ${engines.map((e) => e.proc.output()).join('\n')}`,
  );
  for (const e of engines) await waitReady(e);
  await waitFor(
    async () => persistence.output().includes('persistence consuming'),
    60_000,
    () => `persistence start: ${persistence.output()}`,
  );
  const gateway = await startGateway(t, s.kafka, s, db);
  phase('writer elected, consumers running');

  const commands = richStream(SEED, COMMANDS_MAX).commands.map(({ timeMs: _t, ...c }) => c as CommandInput);
  let killsDone = false;
  const submitting = submitPaced(gateway.bus, commands, () => killsDone);
  const zombieAt = rng.int(0, KILLS - 1);
  const mistakeAt = rng.int(0, KILLS - 1);
  for (let kill = 0; kill < KILLS; kill++) {
    await sleep(rng.int(300, 1500)); // a seeded point of the stream
    const writer = engines.find((e) => e.promoted && alive(e));
    if (writer === undefined) throw new Error('no live writer');
    // One standby following the writer at least; the replacement started at the last kill may still be starting.
    await waitFor(
      async () => engines.some((e) => e !== writer && alive(e) && e.proc.ready()),
      60_000,
      () => 'no standby ready',
    );
    if (kill === mistakeAt) await secondWriterByMistake(t, s, rng);
    await failOver(t, s, engines, writer, { freeze: kill === zombieAt, kill });
  }
  await sleep(rng.int(300, 1500));
  killsDone = true;
  const outcomes = await Promise.all(await submitting);
  phase(`kills done, ${outcomes.length} commands answered`);

  const stored = await readTopic(s.kafka, s.commandsTopic, outcomes.length, 60_000);
  t.equal(stored.length, outcomes.length, 'the commands topic holds each submitted command once');
  const reference = referenceRun(stored);
  const seqLast = reference.events.length;
  await waitFor(
    async () => (await storedSeq(db)) >= seqLast && (gateway.market.view?.lastSeq ?? 0) >= seqLast,
    WAIT_MS,
    () => `consumers at seq ${seqLast}: ${persistence.output().slice(-2000)}`,
  );
  phase('consumers caught up');

  checkAnswers(t, gateway, outcomes, reference);
  checkMarketData(t, gateway, reference);
  await gateway.close();
  persistence.child.kill('SIGTERM');
  t.equal((await persistence.exited).code, 0, `persistence stops cleanly ${persistence.output().slice(-2000)}`);
  await checkPersistence(t, db, consumerEnv, reference);
  await checkFinalState(t, s, engines, reference);
  t.ok((await copiesOnTopic(s.kafka, s.eventsTopic, seqLast)) > 0, 'the events topic holds copies to drop');
  phase('verified');
});

/** The gateway's share, in this process: the command bus and market data on the instance's one events reader. */
interface Gateway {
  readonly bus: KafkaCommandBus;
  readonly market: MarketDataService;
  /** commandResult events the bus handed on, per command id. */
  readonly resultsByCmd: Map<string, number>;
  /** Every event the bus handed on, in order. */
  readonly events: EngineEvent[];
  readonly market$: MarketTap;
  close(): Promise<void>;
}

async function startGateway(t: Test, kafka: Kafka, s: StandbySetup, db: TestDatabase): Promise<Gateway> {
  const logger = pino({ level: 'warn' });
  const feed = new GatewayEventsFeed({
    kafka,
    topic: s.eventsTopic,
    groupIdPrefix: `gateway.${s.env.ENGINE_ID}`,
    logger,
    batchRecordsMax: 500,
    maxWaitTimeMs: 50,
  });
  const bus = new KafkaCommandBus({
    kafka,
    commandsTopic: s.commandsTopic,
    eventsTopic: s.eventsTopic,
    events: feed,
    pendingMax: COMMANDS_MAX,
    timeoutMs: ANSWER_TIMEOUT_MS,
    logger,
  });
  await bus.start();
  const resultsByCmd = new Map<string, number>();
  const events: EngineEvent[] = [];
  bus.subscribe((evs) => {
    for (const ev of evs) {
      events.push(ev);
      if (ev.type === 'commandResult') resultsByCmd.set(ev.cmdId, (resultsByCmd.get(ev.cmdId) ?? 0) + 1);
    }
  });
  const hub = new Hub(
    { sendBacklogBytesMax: 1 << 20, subscriptionsPerConnectionMax: 10, connectionsMax: 10, closeTimeoutMs: 1000 },
    logger,
  );
  const market = new MarketDataService({ sql: db.sql, source: feed, hub, logger, publish: null, retryDelayMs: 200 });
  const market$ = new MarketTap();
  market.addTap(market$);
  market.start();
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await market.stop();
    await bus.close();
  };
  t.teardown(close);
  return { bus, market, resultsByCmd, events, market$, close };
}

/** What market data's streams carry: each record's seq, and each market's book built from snapshot and deltas. */
class MarketTap {
  readonly seqs: number[] = [];
  readonly problems: string[] = [];
  resets = 0;
  private readonly books = new Map<number, { seq: number; bids: Map<number, number>; asks: Map<number, number> }>();

  reset(view: BookView): void {
    this.resets++;
    for (const [marketId, book] of view.books) {
      const snap = book.snapshot();
      this.books.set(marketId, { seq: snap.seq, bids: new Map(snap.bids), asks: new Map(snap.asks) });
    }
  }

  record(out: RecordOutput): void {
    this.seqs.push(out.seq);
    for (const d of out.depth) {
      const book = this.books.get(d.marketId) ?? { seq: d.prevSeq, bids: new Map(), asks: new Map() };
      this.books.set(d.marketId, book);
      if (d.prevSeq !== book.seq)
        this.problems.push(`market ${d.marketId}: delta ${d.prevSeq}->${d.seq} on ${book.seq}`);
      for (const [p, l] of d.bids) l === 0 ? book.bids.delete(p) : book.bids.set(p, l);
      for (const [p, l] of d.asks) l === 0 ? book.asks.delete(p) : book.asks.set(p, l);
      book.seq = d.seq;
    }
  }

  depth(marketId: number): { bids: LevelTuple[]; asks: LevelTuple[] } {
    const book = this.books.get(marketId);
    if (book === undefined) return { bids: [], asks: [] };
    return {
      bids: [...book.bids].sort((a, b) => b[0] - a[0]),
      asks: [...book.asks].sort((a, b) => a[0] - b[0]),
    };
  }
}

/**
 * Submits the commands through the bus in sends of RATE_PER_SEC / SENDS_PER_SEC, as gateways would, until told to
 * stop; returns every answer's promise.
 */
async function submitPaced(
  bus: KafkaCommandBus,
  commands: readonly CommandInput[],
  stop: () => boolean,
): Promise<Promise<CommandOutcome>[]> {
  const perSend = RATE_PER_SEC / SENDS_PER_SEC;
  const answers: Promise<CommandOutcome>[] = [];
  for (let i = 0; i < commands.length && !stop(); i += perSend) {
    const startedMs = performance.now();
    for (const cmd of commands.slice(i, i + perSend))
      answers.push(bus.submit(cmd, { userId: 'userId' in cmd ? Number(cmd.userId) : 0 }));
    await sleep(Math.max(0, 1000 / SENDS_PER_SEC - (performance.now() - startedMs)));
  }
  return answers;
}

/**
 * A second engine with the same id and topics but no lease (a configuration mistake) writes next to the writer for
 * a while: from the topic's tail it rewrites what it computes, copies of the writer's events cut at other places.
 */
async function secondWriterByMistake(t: Test, s: StandbySetup, rng: Prng): Promise<void> {
  const { ENGINE_LEASE_REDIS_URL: _lease, ENGINE_LEASE_MS: _ms, ...env } = s.env;
  const e = await startEngine(t, { ...s, env }, 'mistake');
  // Once it has replayed up to the topic's tail it writes everything after it: copies of the writer's events.
  await waitFor(
    async () => e.proc.output().includes('caught up with the event log') || !alive(e),
    60_000,
    () => `the second writer's replay: ${e.proc.output()}`,
  );
  await sleep(rng.int(300, 1000));
  e.proc.child.kill('SIGKILL');
  await e.proc.exited;
  t.comment('a second writer without a lease wrote for a while and was killed');
}

interface Reference {
  readonly engine: Engine;
  readonly events: EngineEvent[];
  readonly encoded: string[];
  readonly records: SourceRecord[];
  readonly stateHash: string;
}

/** One uninterrupted engine over the stored commands, with one record per command (as persistence projects it). */
function referenceRun(stored: readonly StoredCommand[]): Reference {
  const engine = new Engine();
  const events: EngineEvent[] = [];
  const records: SourceRecord[] = [];
  for (const c of stored) {
    const decoded = decodeCommand(c.value, c.timestampMs);
    const out = decoded.ok
      ? engine.apply(decoded.command)
      : engine.applyInvalid(decoded.id, c.timestampMs, decoded.code);
    events.push(...out);
    records.push({ offset: records.length, timestampMs: c.timestampMs, events: out });
  }
  return { engine, events, encoded: events.map(encodeEvent), records, stateHash: stateHash(engine) };
}

function checkAnswers(t: Test, g: Gateway, outcomes: readonly CommandOutcome[], reference: Reference): void {
  const unknown = outcomes.filter((o) => o.status !== 'done').length;
  t.equal(unknown, 0, `every submitted command answered, none unknown (seed ${SEED})`);
  const doubled = [...g.resultsByCmd].filter(([, n]) => n !== 1).map(([id]) => id);
  t.same(doubled.slice(0, 5), [], 'each command id got exactly one result from the events reader');
  t.equal(g.resultsByCmd.size, outcomes.length, 'as many results as commands submitted');
  const encoded = g.events.map(encodeEvent);
  t.equal(encoded.length, reference.encoded.length, 'the bus saw as many events as one uninterrupted run');
  const firstDiff = encoded.findIndex((e, i) => e !== reference.encoded[i]);
  t.equal(firstDiff, -1, `the bus's events equal the uninterrupted run's, in order (first difference ${firstDiff})`);
  const resultSeqs = new Map<string, number>();
  for (const e of reference.events) if (e.type === 'commandResult') resultSeqs.set(e.cmdId, e.seq);
  const mismatched = outcomes.filter((o) => o.status === 'done' && o.result.seq !== resultSeqs.get(o.cmdId)).length;
  t.equal(mismatched, 0, "each answer is its command's result in the uninterrupted run");
}

function checkMarketData(t: Test, g: Gateway, reference: Reference): void {
  const tap = g.market$;
  const unordered = tap.seqs.findIndex((seq, i) => i > 0 && seq <= tap.seqs[i - 1]);
  t.equal(unordered, -1, 'market data applied each record once, in seq order (no copy)');
  t.same(tap.problems.slice(0, 5), [], 'every depth delta continues the book before it (no gap)');
  t.equal(g.market.rebuilds, 0, 'market data never had to rebuild (no gap, no copy refused)');
  t.equal(tap.resets, 1, 'one state installed, at start');
  const view = g.market.view;
  t.equal(view?.lastSeq, reference.events.length, "market data is at the engine's last seq");
  for (const marketId of view?.books.keys() ?? []) {
    const want = engineDepth(reference.engine, marketId);
    const snap = view?.books.get(marketId)?.snapshot();
    t.same({ bids: snap?.bids, asks: snap?.asks }, want, `market ${marketId}: the book equals the engine's`);
    t.same(tap.depth(marketId), want, `market ${marketId}: snapshot + deltas give the engine's book`);
  }
}

async function storedSeq(db: TestDatabase): Promise<number> {
  const [r] = await db.sql`SELECT last_seq FROM persistence_position WHERE id = 1`;
  return Number(r?.last_seq ?? 0);
}

async function checkPersistence(
  t: Test,
  db: TestDatabase,
  env: Record<string, string>,
  reference: Reference,
): Promise<void> {
  const all = new Projector().project(reference.records);
  const [c] = await db.sql`SELECT (SELECT count(*) FROM trades)::int AS trades,
      (SELECT count(DISTINCT trade_id) FROM trades)::int AS trade_ids, (SELECT count(*) FROM orders)::int AS orders,
      (SELECT count(*) FROM ledger_entries)::int AS entries, (SELECT count(*) FROM deposits)::int AS deposits,
      (SELECT count(*) FROM withdrawals)::int AS withdrawals, (SELECT count(*) FROM order_rejections)::int AS rejections,
      (SELECT last_seq FROM persistence_position)::int AS seq`;
  t.same(
    c,
    {
      trades: all.trades.length,
      trade_ids: all.trades.length,
      orders: all.newOrders.length,
      entries: all.entries.length,
      deposits: all.deposits.length,
      withdrawals: all.withdrawals.length,
      rejections: all.rejections.length,
      seq: reference.events.length,
    },
    'persistence: every row once, none missing',
  );
  const orders = await db.sql`SELECT order_id::int AS id, status, filled_lots::int AS filled FROM orders ORDER BY 1`;
  const want = all.newOrders
    .map((o) => ({ id: o.orderId, status: o.status, filled: o.filledLots }))
    .sort((a, b) => a.id - b.id);
  t.same([...orders], want, 'persistence: every order in the state an uninterrupted projection gives');
  const trades = await db.sql`SELECT trade_id::int AS id, seq::int AS seq FROM trades ORDER BY 1`;
  t.same(
    [...trades],
    all.trades.map((tr) => ({ id: tr.tradeId, seq: tr.seq })).sort((a, b) => a.id - b.id),
    'persistence: every trade once, at its seq',
  );
  t.same(
    await ledgerViolations(db.sql),
    { unbalancedAssets: [], balancesVsEntries: [], balancesVsLedger: [] },
    'persistence: the ledger balances',
  );
  const reconcile: Proc = spawnTs('persistence/reconcile.ts', env);
  t.equal((await reconcile.exited).code, 0, `reconcile is clean ${reconcile.output().slice(-2000)}`);
}

/** The live engines stop cleanly; the last writer's snapshot has the uninterrupted run's state hash. */
async function checkFinalState(
  t: Test,
  s: StandbySetup,
  engines: readonly StandbyEngine[],
  reference: Reference,
): Promise<void> {
  const live = engines.filter(alive);
  const writer = live.find((e) => e.promoted);
  for (const e of live) await waitReady(e);
  for (const e of live) e.proc.child.kill('SIGTERM');
  for (const e of live) t.equal((await e.proc.exited).code, 0, `${e.name} stops cleanly`);
  if (writer === undefined) throw new Error('no writer at the end');
  const newest = await new SnapshotStore({ dir: snapshotsDirOf(s, writer) }).loadNewest();
  t.equal(newest?.offset, reference.records.length - 1, "the last writer's clean stop leaves a snapshot of the end");
  t.equal(
    newest === null ? null : stateHash(restore(newest.bytes)),
    reference.stateHash,
    'the final state hash equals one uninterrupted run',
  );
}

/** Events on the topic beyond the `seqLast` distinct ones: the copies consumers had to drop. */
async function copiesOnTopic(kafka: Kafka, topic: string, seqLast: number): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  const [bounds] = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const records = await readTopic(kafka, topic, Number(bounds.high), 60_000);
  let events = 0;
  records.forEach((r, offset) => (events += decodeTrustedEventRecord(r.value, offset).length));
  return events - seqLast;
}
