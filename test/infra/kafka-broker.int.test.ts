/**
 * Integration test: a real Kafka broker (tools/kafka/broker.ts) against kafkajs 2.2.4.
 * Covers what the exchange relies on: topic creation, group consumption with committed offsets,
 * idempotent produce, consume-transform-produce transactions with sendOffsets, read_committed
 * isolation of aborted transactions, and durability across a broker restart on the same data dir.
 *
 * Set KAFKA_TEST_LOG=1 to see kafkajs warnings/errors (retriable ones are expected and noisy).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import {
  Kafka,
  logLevel,
  type Admin,
  type EachMessagePayload,
  type KafkaMessage,
  type Message,
  type Producer,
} from 'kafkajs';
import { startKafkaBroker, type KafkaBroker } from '../../tools/kafka/broker.js';

const COLLECT_TIMEOUT_MS = 30_000;
const OFFSETS_TIMEOUT_MS = 15_000;
const CLIENT_DISCONNECT_TIMEOUT_MS = 10_000;

const ORDERS_TOPIC = 'orders';
const ORDERS_PARTITIONS = 3;
const IDEMPOTENT_TOPIC = 'fills';
const TX_IN_TOPIC = 'tx-in';
const TX_OUT_TOPIC = 'tx-out';
const ORDER_COUNT = 30;
const ACCOUNT_COUNT = 5;
const TX_INPUT_COUNT = 5;
const ABORTED_VALUES = ['aborted-1', 'aborted-2'];
const AFTER_ABORT_VALUE = 'committed-after-abort';

// kafkajs puts the decoded record-batch header on each message but does not declare it in its types.
interface BatchContext {
  producerId: string;
  firstSequence: number;
  inTransaction: boolean;
}

interface Received {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: string;
  batch: BatchContext;
}

function batchContextOf(message: KafkaMessage): BatchContext {
  const context = (message as KafkaMessage & { batchContext?: BatchContext }).batchContext;
  if (!context) throw new Error(`message at offset ${message.offset} has no batchContext (kafkajs internals changed?)`);
  return context;
}

function newKafka(brokers: string): Kafka {
  return new Kafka({
    clientId: 'kafka-broker-int-test',
    brokers: [brokers],
    logLevel: process.env.KAFKA_TEST_LOG ? logLevel.WARN : logLevel.NOTHING,
    connectionTimeout: 5_000,
    requestTimeout: 15_000,
    retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 2_000 },
  });
}

/** `what` may be a function so the message shows the state at timeout, not at the call. */
async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string | (() => string)): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    const describe = (): string => (typeof what === 'string' ? what : what());
    timer = setTimeout(() => reject(new Error(`${describe()}: no result within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls check() until it returns true; fails with describe()'s last state after timeoutMs. */
async function waitFor(check: () => Promise<boolean>, timeoutMs: number, describe: () => string): Promise<void> {
  const deadlineMs = Date.now() + timeoutMs;
  while (Date.now() < deadlineMs) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out after ${timeoutMs} ms: ${describe()}`);
}

interface CollectOptions {
  groupId: string;
  topic: string;
  readUncommitted?: boolean;
  /** Stop once this returns true for everything received so far. */
  until: (received: Received[]) => boolean;
  /** Runs while the consumer is still in the group, e.g. to wait for its offset commits. */
  beforeDisconnect?: () => Promise<void>;
  /** Processing per message before it counts as received; a throw crashes the consumer and fails collect(). */
  onMessage?: (payload: EachMessagePayload) => Promise<void>;
  autoCommit?: boolean;
}

/** Consumes `topic` from the beginning in a fresh consumer, always disconnecting it again. */
async function collect(kafka: Kafka, opts: CollectOptions): Promise<Received[]> {
  // maxWaitTimeInMs keeps the long-poll short so disconnect() does not wait 5 s for an empty fetch.
  const consumer = kafka.consumer({
    groupId: opts.groupId,
    maxWaitTimeInMs: 200,
    readUncommitted: opts.readUncommitted ?? false,
  });
  const received: Received[] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: opts.topic, fromBeginning: true });
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        // Retriable crashes (e.g. GROUP_LOAD_IN_PROGRESS while __consumer_offsets loads) restart the
        // consumer by themselves; only a crash kafkajs gives up on is a failure.
        consumer.on(consumer.events.CRASH, (event) => {
          if (!event.payload.restart) reject(event.payload.error);
        });
        void consumer
          .run({
            autoCommit: opts.autoCommit ?? true,
            eachMessage: async (payload) => {
              await opts.onMessage?.(payload);
              const { topic, partition, message } = payload;
              received.push({
                topic,
                partition,
                offset: message.offset,
                key: message.key?.toString() ?? null,
                value: message.value?.toString() ?? '',
                batch: batchContextOf(message),
              });
              if (opts.until(received)) resolve();
            },
          })
          .catch(reject);
      }),
      COLLECT_TIMEOUT_MS,
      () => `group ${opts.groupId} on ${opts.topic} (got ${values(received).join(',') || 'nothing'})`,
    );
    await opts.beforeDisconnect?.();
  } finally {
    await withTimeout(consumer.disconnect(), CLIENT_DISCONNECT_TIMEOUT_MS, `disconnect ${opts.groupId}`);
  }
  return received;
}

/** Per-partition high watermarks as "partition:offset" strings, sorted, for exact comparison. */
async function highWatermarks(admin: Admin, topic: string): Promise<string[]> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.map((o) => `${o.partition}:${o.high}`).sort();
}

async function committedOffsets(admin: Admin, groupId: string, topic: string): Promise<string[]> {
  const [topicOffsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return (topicOffsets?.partitions ?? []).map((p) => `${p.partition}:${p.offset}`).sort();
}

async function waitForCommittedAtEnd(admin: Admin, groupId: string, topic: string): Promise<void> {
  let last: string[] = [];
  let end: string[] = [];
  await waitFor(
    async () => {
      [last, end] = await Promise.all([committedOffsets(admin, groupId, topic), highWatermarks(admin, topic)]);
      return JSON.stringify(last) === JSON.stringify(end);
    },
    OFFSETS_TIMEOUT_MS,
    () => `group ${groupId} committed ${last.join(' ')} but ${topic} ends at ${end.join(' ')}`,
  );
}

function orderMessages(): Message[] {
  return Array.from({ length: ORDER_COUNT }, (_, i) => ({ key: `acct-${i % ACCOUNT_COUNT}`, value: `order-${i}` }));
}

const orderIndex = (value: string): number => Number(value.slice('order-'.length));
const values = (received: Received[]): string[] => received.map((r) => r.value);

// ---------------------------------------------------------------------------------------------------------

const dataDir = await mkdtemp(path.join(os.tmpdir(), 'kafka-broker-int-'));
/** What teardown must clean up, registered before anything can fail half-way. */
const running: { broker?: KafkaBroker; admin?: Admin } = {};
t.teardown(async () => {
  await running.admin?.disconnect();
  await running.broker?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

let broker = (running.broker = await startKafkaBroker({ dataDir }));
t.comment(`broker ${broker.brokers} pid ${broker.pid} ready in ${broker.startupMs} ms`);
let kafka = newKafka(broker.brokers);
let admin = (running.admin = kafka.admin());
await admin.connect();

await t.test('admin createTopics creates topics with the requested partitions', async (t) => {
  const created = await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: ORDERS_TOPIC, numPartitions: ORDERS_PARTITIONS },
      { topic: IDEMPOTENT_TOPIC, numPartitions: 1 },
      { topic: TX_IN_TOPIC, numPartitions: 1 },
      { topic: TX_OUT_TOPIC, numPartitions: 1 },
    ],
  });
  t.equal(created, true, 'createTopics reports the topics as new');
  const listed = await admin.listTopics();
  for (const topic of [ORDERS_TOPIC, IDEMPOTENT_TOPIC, TX_IN_TOPIC, TX_OUT_TOPIC]) {
    t.ok(listed.includes(topic), `${topic} is listed`);
  }
  const metadata = await admin.fetchTopicMetadata({ topics: [ORDERS_TOPIC] });
  t.equal(
    metadata.topics[0]?.partitions.length,
    ORDERS_PARTITIONS,
    `${ORDERS_TOPIC} has ${ORDERS_PARTITIONS} partitions`,
  );
  t.equal(await admin.createTopics({ topics: [{ topic: ORDERS_TOPIC }] }), false, 'creating it again is a no-op');
});

await t.test('produce, then consume in a consumer group that commits its offsets', async (t) => {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const acks = await producer.send({ topic: ORDERS_TOPIC, messages: orderMessages() });
    t.equal(
      acks.reduce((sum, a) => sum + a.errorCode, 0),
      0,
      'all partitions acknowledged without error',
    );
  } finally {
    await producer.disconnect();
  }
  const received = await collect(kafka, {
    groupId: 'g-orders',
    topic: ORDERS_TOPIC,
    until: (got) => got.length >= ORDER_COUNT,
    beforeDisconnect: () => waitForCommittedAtEnd(admin, 'g-orders', ORDERS_TOPIC),
  });
  const expected = orderMessages()
    .map((m) => String(m.value))
    .sort();
  t.strictSame(values(received).sort(), expected, 'every produced message arrived exactly once');
  t.equal(new Set(received.map((r) => r.partition)).size, ORDERS_PARTITIONS, 'keys were spread over all partitions');
  for (let account = 0; account < ACCOUNT_COUNT; account++) {
    const indices = received.filter((r) => r.key === `acct-${account}`).map((r) => orderIndex(r.value));
    t.strictSame(
      indices,
      [...indices].sort((a, b) => a - b),
      `acct-${account} messages kept their order`,
    );
  }
  t.ok(
    received.every((r) => r.batch.producerId === '-1'),
    'a plain producer writes without a producer id',
  );
  t.strictSame(
    await committedOffsets(admin, 'g-orders', ORDERS_TOPIC),
    await highWatermarks(admin, ORDERS_TOPIC),
    'the group committed offsets up to the end of every partition',
  );
});

await t.test('idempotent producer gets a producer id and sequence numbers', async (t) => {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await producer.send({ topic: IDEMPOTENT_TOPIC, messages: [0, 1, 2, 3, 4].map((i) => ({ value: `fill-${i}` })) });
    await producer.send({ topic: IDEMPOTENT_TOPIC, messages: [5, 6, 7, 8, 9].map((i) => ({ value: `fill-${i}` })) });
  } finally {
    await producer.disconnect();
  }
  const received = await collect(kafka, {
    groupId: 'g-fills',
    topic: IDEMPOTENT_TOPIC,
    until: (got) => got.length >= 10,
  });
  t.strictSame(
    values(received),
    Array.from({ length: 10 }, (_, i) => `fill-${i}`),
    'ten messages, in order, no duplicates',
  );
  t.strictSame(
    received.map((r) => r.offset),
    Array.from({ length: 10 }, (_, i) => String(i)),
    'contiguous offsets 0..9',
  );
  const producerIds = new Set(received.map((r) => r.batch.producerId));
  t.equal(producerIds.size, 1, 'one producer id for both sends');
  t.ok(Number([...producerIds][0]) >= 0, 'the broker assigned a real producer id');
  t.strictSame(
    [...new Set(received.map((r) => r.batch.firstSequence))],
    [0, 5],
    'the second batch continues the sequence numbers of the first',
  );
});

await t.test(
  'transactions: consume-transform-produce with sendOffsets, aborts invisible to read_committed',
  async (t) => {
    const seed = kafka.producer({ allowAutoTopicCreation: false });
    await seed.connect();
    try {
      await seed.send({
        topic: TX_IN_TOPIC,
        messages: Array.from({ length: TX_INPUT_COUNT }, (_, i) => ({ value: `in-${i}` })),
      });
    } finally {
      await seed.disconnect();
    }

    const txProducer = kafka.producer({ transactionalId: 'tx-transformer', idempotent: true, maxInFlightRequests: 1 });
    await txProducer.connect();
    try {
      await consumeTransformProduce(kafka, txProducer);
      t.strictSame(
        await committedOffsets(admin, 'g-transformer', TX_IN_TOPIC),
        [`0:${TX_INPUT_COUNT}`],
        'input offsets were committed by the transactions (the consumer never auto-commits)',
      );
      await sendInTransaction(txProducer, ABORTED_VALUES, 'abort');
      await sendInTransaction(txProducer, [AFTER_ABORT_VALUE], 'commit');
    } finally {
      await txProducer.disconnect();
    }

    const sawMarker = (got: Received[]): boolean => got.some((r) => r.value === AFTER_ABORT_VALUE);
    const committedView = await collect(kafka, { groupId: 'g-read-committed', topic: TX_OUT_TOPIC, until: sawMarker });
    const expectedCommitted = [...Array.from({ length: TX_INPUT_COUNT }, (_, i) => `out-in-${i}`), AFTER_ABORT_VALUE];
    t.strictSame(values(committedView), expectedCommitted, 'read_committed sees committed output only, in order');
    t.ok(
      committedView.every((r) => r.batch.inTransaction),
      'the output was written transactionally',
    );

    const uncommittedView = await collect(kafka, {
      groupId: 'g-read-uncommitted',
      topic: TX_OUT_TOPIC,
      readUncommitted: true,
      until: sawMarker,
    });
    for (const aborted of ABORTED_VALUES) {
      t.ok(
        values(uncommittedView).includes(aborted),
        `${aborted} reached the log (so read_committed really filtered it)`,
      );
    }
  },
);

/** Each input message is transformed inside one transaction that also commits its input offset. */
async function consumeTransformProduce(kafka: Kafka, producer: Producer): Promise<void> {
  await collect(kafka, {
    groupId: 'g-transformer',
    topic: TX_IN_TOPIC,
    autoCommit: false, // offsets must come from sendOffsets only
    onMessage: async ({ topic, partition, message }) => {
      const transaction = await producer.transaction();
      try {
        await transaction.send({ topic: TX_OUT_TOPIC, messages: [{ value: `out-${message.value?.toString()}` }] });
        await transaction.sendOffsets({
          consumerGroupId: 'g-transformer',
          topics: [{ topic, partitions: [{ partition, offset: (BigInt(message.offset) + 1n).toString() }] }],
        });
      } catch (err) {
        await transaction.abort();
        throw err;
      }
      await transaction.commit();
    },
    until: (got) => got.length >= TX_INPUT_COUNT,
    // Commit markers are written after EndTxn returns; wait until the offsets are visible to OffsetFetch.
    beforeDisconnect: () => waitForCommittedAtEnd(admin, 'g-transformer', TX_IN_TOPIC),
  });
}

async function sendInTransaction(
  producer: Producer,
  messageValues: string[],
  outcome: 'commit' | 'abort',
): Promise<void> {
  const transaction = await producer.transaction();
  try {
    await transaction.send({ topic: TX_OUT_TOPIC, messages: messageValues.map((value) => ({ value })) });
  } catch (err) {
    await transaction.abort();
    throw err;
  }
  await (outcome === 'commit' ? transaction.commit() : transaction.abort());
}

await t.test('a restarted broker on the same data dir keeps messages, offsets and transaction outcomes', async (t) => {
  const watermarksBefore = await Promise.all(
    [ORDERS_TOPIC, IDEMPOTENT_TOPIC, TX_OUT_TOPIC].map((topic) => highWatermarks(admin, topic)),
  );
  const { port, controllerPort, pid } = broker;
  await admin.disconnect();
  await broker.stop();
  const exit = await broker.exited;
  // 143 = the JVM's exit after SIGTERM ran Kafka's shutdown hook; a SIGKILL fallback would show as a signal.
  t.ok(
    exit.signal === null && (exit.code === 143 || exit.code === 0),
    `old broker shut down cleanly (code ${exit.code}, signal ${exit.signal})`,
  );
  t.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, 'old broker process is gone');

  broker = running.broker = await startKafkaBroker({ dataDir, port, controllerPort });
  t.comment(`restarted broker pid ${broker.pid} ready in ${broker.startupMs} ms`);
  t.equal(broker.brokers, `127.0.0.1:${port}`, 'same bootstrap address after restart');
  t.not(broker.pid, pid, 'a new process');
  kafka = newKafka(broker.brokers);
  admin = running.admin = kafka.admin();
  await admin.connect();

  const watermarksAfter = await Promise.all(
    [ORDERS_TOPIC, IDEMPOTENT_TOPIC, TX_OUT_TOPIC].map((topic) => highWatermarks(admin, topic)),
  );
  t.strictSame(watermarksAfter, watermarksBefore, 'every partition ends where it ended before the restart');

  const replay = await collect(kafka, {
    groupId: 'g-orders-replay',
    topic: ORDERS_TOPIC,
    until: (got) => got.length >= ORDER_COUNT,
  });
  t.strictSame(
    values(replay).sort(),
    orderMessages()
      .map((m) => String(m.value))
      .sort(),
    'all orders can be read again',
  );

  const committedView = await collect(kafka, {
    groupId: 'g-read-committed-replay',
    topic: TX_OUT_TOPIC,
    until: (got) => got.some((r) => r.value === AFTER_ABORT_VALUE),
  });
  t.notOk(
    values(committedView).some((v) => ABORTED_VALUES.includes(v)),
    'aborted messages stay invisible after restart',
  );
  t.equal(committedView.length, TX_INPUT_COUNT + 1, 'all committed transactional output is still there');

  await resumeCommittedGroup(t);
});

/**
 * The pre-restart group g-orders must resume from its committed offsets: after one new message per
 * partition, exactly those new messages arrive (a lost commit would replay old orders first).
 */
async function resumeCommittedGroup(t: Test): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    for (let partition = 0; partition < ORDERS_PARTITIONS; partition++) {
      await producer.send({ topic: ORDERS_TOPIC, messages: [{ value: `after-restart-${partition}`, partition }] });
    }
  } finally {
    await producer.disconnect();
  }
  const isNew = (r: Received): boolean => r.value.startsWith('after-restart-');
  const resumed = await collect(kafka, {
    groupId: 'g-orders',
    topic: ORDERS_TOPIC,
    until: (got) => got.filter(isNew).length >= ORDERS_PARTITIONS,
  });
  t.strictSame(
    values(resumed).sort(),
    Array.from({ length: ORDERS_PARTITIONS }, (_, p) => `after-restart-${p}`),
    'the group resumed at its committed offsets: only the new messages were delivered',
  );
}
