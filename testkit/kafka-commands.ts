// Commands produced onto a topic by the benches and the daemon tests, through the project's one command writer
// (idempotent, acks=all), in sends of at most COMMANDS_PER_SEND.

import type { Kafka } from 'kafkajs';
import { KafkaCommandWriter } from '../kafka/command-writer.js';

const COMMANDS_PER_SEND = 2000;

export async function produceAll(kafka: Kafka, topic: string, values: Uint8Array[]): Promise<void> {
  const writer = new KafkaCommandWriter(kafka, topic);
  await writer.connect();
  try {
    for (let i = 0; i < values.length; i += COMMANDS_PER_SEND)
      await writer.append(values.slice(i, i + COMMANDS_PER_SEND));
  } finally {
    await writer.close();
  }
}
