// bench:kafka's passthrough child (bench/README.md, "Kafka"): reads the commands topic from offset 0 and writes each
// batch to an events topic the way `--mode` says, then prints a ChildReport as its last stdout line. Started by
// bench/kafka-throughput.ts like the daemon (node --import tsx).
//   txn     KafkaCommandLog itself, each command written back unchanged (the daemon's loop with no engine)
//   notxn   a plain kafkajs consumer and an idempotent producer
//   events  KafkaCommandLog writing the daemon's own event records, computed before the run

import { randomUUID } from 'node:crypto';
import { KafkaCommandLog, SEND_MESSAGES_MAX } from '../engine/daemon/kafka-log.js';
import type { CommandRecord, EventRecord } from '../engine/daemon/log.js';
import { EventRecordPacker } from '../engine/wire/codec.js';
import { kafkaClient } from '../kafka/client.js';
import { seededCommands } from '../testkit/daemon-process.js';
import { PARTITION, nowUs, precomputeEvents } from './kafka-support.js';
import type { PrecomputedEvents } from './kafka-support.js';
import { collectGarbage, intArg, parseArgs } from './measure.js';

export type PassthroughMode = 'txn' | 'notxn' | 'events';

/** A batch's event records from the precomputed texts, packed as the daemon packs them (cut between commands here). */
function recordsOf(p: PrecomputedEvents, batch: CommandRecord[]): EventRecord[] {
  const packer = new EventRecordPacker();
  for (const r of batch) packer.addEncoded(p.texts[r.offset]);
  return packer.take().map((value) => ({ key: '', value }));
}

export interface ChildReport {
  readonly firstBatch: number;
  /** process.hrtime at the first and the last commit, in µs: the profile window. */
  readonly windowUs: [number, number];
  /** Wall ms from the end of the first commit to the end of the last one. */
  readonly commitSpanMs: number;
  readonly cpuSec: number;
}

async function runPassthroughChild(args: Map<string, string>): Promise<void> {
  const mode = args.get('mode') as PassthroughMode;
  const brokers = [args.get('brokers') as string];
  const commandsTopic = args.get('commands-topic') as string;
  const eventsTopic = args.get('events-topic') as string;
  const groupId = args.get('group') as string;
  const count = intArg(args, 'count', 0);
  const batchMax = intArg(args, 'batch-max', 1000);
  const events =
    mode === 'events'
      ? precomputeEvents(seededCommands(intArg(args, 'seed', 0), intArg(args, 'stream-commands', 0)))
      : null;
  if (events !== null && events.texts.length !== count)
    throw new Error(`precomputed ${events.texts.length} commands' events, the topic holds ${count}`);
  collectGarbage();

  let firstBatch = 0;
  let firstMs = 0;
  let firstUs = 0;
  let cpu0 = process.cpuUsage();
  const done = (records: CommandRecord[]): boolean => {
    if (firstBatch === 0) {
      firstBatch = records.length;
      firstMs = performance.now();
      firstUs = nowUs();
      cpu0 = process.cpuUsage();
    }
    return records[records.length - 1].offset >= count - 1;
  };
  const report = (): void => {
    const cpu = process.cpuUsage(cpu0);
    const r: ChildReport = {
      firstBatch,
      windowUs: [firstUs, nowUs()],
      commitSpanMs: performance.now() - firstMs,
      cpuSec: (cpu.user + cpu.system) / 1e6,
    };
    process.stdout.write(`${JSON.stringify(r)}\n`);
  };

  if (mode === 'notxn') {
    await passthroughNoTxn({ brokers, commandsTopic, eventsTopic, groupId, batchMax }, (records) => {
      if (!done(records)) return false;
      report();
      return true;
    });
    process.exit(0);
  }
  const commandLog = new KafkaCommandLog({
    brokers,
    clientId: groupId,
    commandsTopic,
    eventsTopic,
    groupIdPrefix: groupId,
  });
  await commandLog.connect();
  await commandLog.consume(0, batchMax, async (records) => {
    // kafkajs takes a Buffer value as well as a string one: the passthrough's bytes go out as they came in.
    const out: EventRecord[] =
      events === null
        ? records.map((r) => ({ key: '', value: r.value as unknown as string }))
        : recordsOf(events, records);
    await commandLog.commit(out, records[records.length - 1].offset, records[0].offset);
    if (done(records)) {
      report();
      // stop() waits for the batch in hand, i.e. this one: it must not be awaited from inside it.
      setImmediate(() => void commandLog.stop());
    }
  });
  process.exit(0);
}

/** KafkaCommandLog's consumer loop and send chunks with a plain idempotent producer: no transaction, no offsets. */
async function passthroughNoTxn(
  opts: { brokers: string[]; commandsTopic: string; eventsTopic: string; groupId: string; batchMax: number },
  onCommitted: (records: CommandRecord[]) => boolean,
): Promise<void> {
  const kafka = kafkaClient(opts.brokers, opts.groupId);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const consumer = kafka.consumer({
    groupId: `${opts.groupId}.reader.${randomUUID()}`,
    maxWaitTimeInMs: 50,
    sessionTimeout: 30_000,
  });
  let nextOffset = 0;
  consumer.on(consumer.events.GROUP_JOIN, () =>
    consumer.seek({ topic: opts.commandsTopic, partition: PARTITION, offset: String(nextOffset) }),
  );
  await consumer.connect();
  await consumer.subscribe({ topic: opts.commandsTopic, fromBeginning: true });
  let finished: () => void = () => undefined;
  const allDone = new Promise<void>((resolve) => (finished = resolve));
  let stopped = false;
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
      const records = batch.messages.filter((m) => Number(m.offset) >= nextOffset);
      for (let i = 0; i < records.length; i += opts.batchMax) {
        if (!isRunning() || isStale() || stopped) return;
        const chunk = records.slice(i, i + opts.batchMax);
        for (let j = 0; j < chunk.length; j += SEND_MESSAGES_MAX) {
          const messages = chunk
            .slice(j, j + SEND_MESSAGES_MAX)
            .map((m) => ({ key: '', value: m.value, partition: PARTITION }));
          await producer.send({ topic: opts.eventsTopic, acks: -1, messages });
        }
        nextOffset = Number(chunk[chunk.length - 1].offset) + 1;
        resolveOffset(String(nextOffset - 1));
        await heartbeat();
        const asRecords = chunk.map((m) => ({
          offset: Number(m.offset),
          value: m.value ?? Buffer.alloc(0),
          timestampMs: Number(m.timestamp),
        }));
        if (onCommitted(asRecords)) {
          stopped = true;
          finished();
          return;
        }
      }
    },
  });
  await allDone;
  await consumer.disconnect();
  await producer.disconnect();
}

await runPassthroughChild(parseArgs(process.argv.slice(2)));
