// Topic set-up: the engine's two topics, one partition each (one partition per engine instance).

import type { Admin } from 'kafkajs';

/** Every topic here has one partition: its order is the engine's order. */
export const PARTITION = 0;

/**
 * Creates the topics with one partition each when missing. The commands topic stamps records with the broker's
 * append time: it becomes the command's timeMs, so producers cannot set the engine's clock and a replay sees the
 * same time.
 */
export async function ensureTopics(
  admin: Admin,
  opts: { commandsTopic: string; eventsTopic: string; replicationFactor?: number },
): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const wanted = [
    { topic: opts.commandsTopic, configEntries: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }] },
    { topic: opts.eventsTopic, configEntries: [] },
  ];
  const missing = wanted.filter((t) => !existing.has(t.topic));
  if (missing.length === 0) return;
  await admin.createTopics({
    waitForLeaders: true,
    topics: missing.map((t) => ({ ...t, numPartitions: 1, replicationFactor: opts.replicationFactor ?? 1 })),
  });
}

/** The partition's first and next offsets (next = the high watermark: the offset the next record gets). */
export async function partitionBounds(admin: Admin, topic: string): Promise<{ low: number; high: number }> {
  const offsets = await admin.fetchTopicOffsets(topic);
  const p = offsets.find((o) => o.partition === PARTITION);
  return { low: Number(p?.low ?? 0), high: Number(p?.high ?? 0) };
}
