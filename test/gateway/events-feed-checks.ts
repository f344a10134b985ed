// The gateway's one events reader (gateway/events-feed.ts) on a real broker, run inside e2e-kafka.int.test.ts on
// its broker (no broker of its own): results follow from the topic's end; market data asking for older records moves
// the reader back, and results still see each seq once; a copy of a record changes nothing; market data failing
// (its state refusing a record) rejects its consume while results read on; after stop() it can consume again; a
// market-data batch still in hand (its Redis publish) does not hold results back.

import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { Test } from 'tap';
import pino from 'pino';
import type { EngineEvent } from '../../engine/core/index.js';
import { encodeEventRecords } from '../../engine/wire/codec.js';
import { EVENT_EXAMPLES } from '../../engine/wire/examples.js';
import { GatewayEventsFeed } from '../../gateway/events-feed.js';
import type { EventRecord } from '../../gateway/market-data/source.js';
import { ensureTopics } from '../../kafka/topics.js';
import { waitFor } from '../daemon/recovery-support.js';

const WAIT_MS = 30_000;

/** Events seq first..last, as results of commands c<seq>. */
function events(first: number, last: number): EngineEvent[] {
  const out: EngineEvent[] = [];
  for (let seq = first; seq <= last; seq++) out.push({ ...EVENT_EXAMPLES.commandResult, seq, cmdId: `c${seq}` });
  return out;
}

const seqsOf = (records: readonly { readonly events: readonly EngineEvent[] }[]): number[] =>
  records.flatMap((r) => r.events.map((e) => e.seq));
const range = (first: number, last: number): number[] => events(first, last).map((e) => e.seq);

export async function checkEventsFeed(t: Test, kafka: Kafka): Promise<void> {
  const id = `feed-${randomUUID().slice(0, 8)}`;
  const topic = `${id}.events`;
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, { commandsTopic: `${id}.commands`, eventsTopic: topic });
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  // One record per call: the events given, in one run.
  const write = async (evs: EngineEvent[]) =>
    producer.send({ topic, acks: -1, messages: encodeEventRecords(evs).map((value) => ({ value })) });
  // Offsets 0..4: seqs 1-2, 3-4, 5-6, 7-8, 9-10.
  for (let seq = 1; seq <= 9; seq += 2) await write(events(seq, seq + 1));

  const feed = new GatewayEventsFeed({
    kafka,
    topic,
    groupIdPrefix: id,
    logger: pino({ level: 'silent' }),
    batchRecordsMax: 500,
    maxWaitTimeMs: 50,
  });
  try {
    const results: { events: readonly EngineEvent[] }[] = [];
    feed.follow(3, (r) => results.push(r));
    await waitFor(
      async () => seqsOf(results).at(-1) === 10,
      WAIT_MS,
      () => `results ${seqsOf(results)}`,
    );
    t.same(seqsOf(results), range(7, 10), 'results from the offset they asked for');

    const market: EventRecord[] = [];
    const consumed = feed.consume(0, async (records) => void market.push(...records));
    await waitFor(
      async () => seqsOf(market).at(-1) === 10,
      WAIT_MS,
      () => `market ${seqsOf(market)}`,
    );
    t.same(seqsOf(market), range(3, 10), 'market data from its older offset: the reader moved back');
    // A copy of the last record (a restarted or zombie daemon), then new events.
    await write(events(9, 10));
    await write(events(11, 12));
    await waitFor(
      async () => seqsOf(results).at(-1) === 12,
      WAIT_MS,
      () => `results ${seqsOf(results)}`,
    );
    await waitFor(
      async () => seqsOf(market).at(-1) === 12,
      WAIT_MS,
      () => `market ${seqsOf(market)}`,
    );
    t.same(seqsOf(results), range(7, 12), 'results saw each seq once, across the move back and the copy');
    t.same(seqsOf(market), range(3, 12), 'market data too');
    t.ok(feed.healthy(), 'healthy');

    await feed.stop();
    await consumed;
    const failing = t.rejects(
      feed.consume(4, async () => {
        throw new Error('state refused the record');
      }),
      { message: 'state refused the record' },
      "market data's failure rejects its consume",
    );
    await write(events(13, 14));
    await failing;
    await waitFor(
      async () => seqsOf(results).at(-1) === 14,
      WAIT_MS,
      () => `results ${seqsOf(results)}`,
    );
    t.same(seqsOf(results), range(7, 14), 'results read on');
    t.ok(feed.healthy(), 'still healthy');
    await checkMarketDataDoesNotHoldResults(t, feed, write, results);
  } finally {
    await feed.close();
    await producer.disconnect();
  }
}

/**
 * Market data's batch in hand (in the gateway: its Redis publish) does not hold results back: the reader reads on,
 * and market data gets the next records, in order, once its batch is done. The topic holds offsets 0..7 (seqs to 14).
 */
async function checkMarketDataDoesNotHoldResults(
  t: Test,
  feed: GatewayEventsFeed,
  write: (evs: EngineEvent[]) => Promise<unknown>,
  results: readonly { readonly events: readonly EngineEvent[] }[],
): Promise<void> {
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  const market: EventRecord[] = [];
  const consumed = feed.consume(7, async (records) => {
    market.push(...records);
    await held;
  });
  await write(events(15, 16));
  await waitFor(
    async () => market.length > 0,
    WAIT_MS,
    () => `market ${seqsOf(market)}`,
  );
  await write(events(17, 18));
  await waitFor(
    async () => seqsOf(results).at(-1) === 18,
    WAIT_MS,
    () => `results ${seqsOf(results)} while market data holds seqs ${seqsOf(market)}`,
  );
  t.same(seqsOf(market), range(15, 16), 'market data still holds its first batch');
  t.same(seqsOf(results), range(7, 18), 'results read on meanwhile');
  release();
  await waitFor(
    async () => seqsOf(market).at(-1) === 18,
    WAIT_MS,
    () => `market ${seqsOf(market)}`,
  );
  t.same(seqsOf(market), range(15, 18), 'then market data gets the next records, in order');
  await feed.stop();
  await consumed;
}
