// Producers' side of the commands topic: an idempotent producer, so a retried send does not duplicate a command.

import { Partitioners } from 'kafkajs';
import type { Kafka, Producer } from 'kafkajs';
import type { CommandWriter } from '../engine/daemon/log.js';

export class KafkaCommandWriter implements CommandWriter {
  private readonly producer: Producer;

  constructor(
    kafka: Kafka,
    private readonly topic: string,
  ) {
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  }

  async connect(): Promise<void> {
    await this.producer.connect();
  }

  async append(values: Uint8Array[]): Promise<number[]> {
    const [meta] = await this.producer.send({
      topic: this.topic,
      acks: -1,
      messages: values.map((v) => ({ value: Buffer.from(v.buffer, v.byteOffset, v.byteLength) })),
    });
    const base = Number(meta.baseOffset ?? meta.offset);
    return values.map((_, i) => base + i);
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
  }
}
