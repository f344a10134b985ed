// Kafka helpers of the daemon tests on a real broker (recovery-kafka, standby-kafka): commands produced, a topic
// read back, and the events topic read as every consumer reads it.

import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { EngineEvent } from '../../engine/core/events.js';
import { encodeEventRecords } from '../../engine/wire/codec.js';
import { EventStreamReader } from '../../kafka/event-stream.js';
import { raceTimeout, sleep } from './recovery-support.js';
import type { StoredCommand } from './recovery-support.js';

export { produceAll } from '../../testkit/kafka-commands.js';

const READ_GRACE_MS = 2_000;

/**
 * Reads a topic from the start until `count` records arrived, then goes on for a grace period: records past the
 * expected count must be seen, not cut off.
 */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  count: number,
  timeoutMs: number,
): Promise<StoredCommand[]> {
  const consumer = kafka.consumer({ groupId: `test-reader-${randomUUID()}`, maxWaitTimeInMs: 100 });
  const records: StoredCommand[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let done: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (done = resolve));
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages)
          records.push({ value: m.value ?? new Uint8Array(0), timestampMs: Number(m.timestamp) });
        if (records.length >= count) done();
      },
    });
    await Promise.race([
      finished,
      raceTimeout(timeoutMs).then(() =>
        Promise.reject(new Error(`read ${records.length} of ${count} records of ${topic} in ${timeoutMs} ms`)),
      ),
    ]);
    await sleep(READ_GRACE_MS);
  } finally {
    await consumer.disconnect();
  }
  return records;
}

/**
 * The events topic as every consumer reads it (the shared reader: copies dropped by seq, a gap an error), until
 * `count` events arrived and then for a grace period (an event past the expected count must be seen). Returns
 * the events as records of the wire format, and how many records held only copies or were cut.
 */
export async function readEventsAsConsumer(
  kafka: Kafka,
  topic: string,
  count: number,
  timeoutMs: number,
): Promise<{ records: string[]; keptRecords: number }> {
  const reader = new EventStreamReader({
    kafka,
    topic,
    groupIdPrefix: 'test-events',
    batchRecordsMax: 500,
    maxWaitTimeMs: 100,
  });
  const events: EngineEvent[] = [];
  let keptRecords = 0;
  let done: () => void = () => undefined;
  const enough = new Promise<void>((resolve) => (done = resolve));
  const reading = reader.consume({ afterOffset: -1, afterSeq: 0 }, async (records) => {
    for (const r of records) events.push(...r.events);
    keptRecords += records.length;
    if (events.length >= count) done();
  });
  const timeout = raceTimeout(timeoutMs).then(() =>
    Promise.reject(new Error(`read ${events.length} of ${count} events of ${topic} in ${timeoutMs} ms`)),
  );
  await Promise.race([enough, reading.then(() => Promise.reject(new Error('the events reader ended early'))), timeout]);
  await sleep(READ_GRACE_MS);
  await reader.stop();
  await reading;
  return { records: encodeEventRecords(events), keptRecords };
}
