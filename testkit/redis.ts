// Redis helpers shared by the gateway tests and bench/gateway.ts.

import type { Redis } from 'ioredis';

/** Deletes every key under `prefix` (SCAN, not KEYS: never blocks the server on a big keyspace). */
export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}
