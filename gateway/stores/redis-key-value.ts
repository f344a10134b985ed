// KeyValueStore on Redis: the behaviour the gateway always had, shared by every gateway instance.

import type { Redis } from 'ioredis';
import { assertTtlMs } from './key-value.js';
import type { KeyValueStore } from './key-value.js';

/** INCR and, on the key's first count, its expiry: one atomic step (two commands could leave a counter that never expires). */
const INCREMENT_SCRIPT =
  "local n = redis.call('INCR', KEYS[1]) if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return n";

export class RedisKeyValueStore implements KeyValueStore {
  constructor(private readonly redis: Redis) {}

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    assertTtlMs(ttlMs);
    return (await this.redis.set(key, value, 'PX', ttlMs, 'NX')) === 'OK';
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    assertTtlMs(ttlMs);
    await this.redis.set(key, value, 'PX', ttlMs);
  }

  get(key: string): Promise<string | null> {
    return this.redis.get(key);
  }

  async increment(key: string, ttlMs: number): Promise<number> {
    assertTtlMs(ttlMs);
    return Number(await this.redis.eval(INCREMENT_SCRIPT, 1, key, ttlMs));
  }

  async delete(key: string): Promise<void> {
    await this.redis.del(key);
  }
}
