// The few key-value operations the gateway needs from Redis (signature replay protection, command lookup
// records), as an interface with two implementations: Redis (redis-key-value.ts: shared by every instance) and
// in-process (memory-key-value.ts: one instance only, bounded). Keys are whole keys: the caller adds its prefix.
// test/gateway/key-value.int.test.ts runs one contract against both.

export interface KeyValueStore {
  /**
   * Redis `SET key value PX ttlMs NX`: stores the value for ttlMs and returns true when the key is absent (or
   * expired); returns false and changes nothing (value and expiry stay) when it is present.
   */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Redis `SET key value PX ttlMs`: stores the value for ttlMs, replacing any value and expiry. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Redis `GET key`: the value, or null when the key is absent or expired. */
  get(key: string): Promise<string | null>;
  /**
   * Redis `INCR key`, with `PEXPIRE key ttlMs` when this created the key (a fixed window from the first count):
   * the new count. A key holding a non-counter value is a programmer error (Redis refuses it too).
   */
  increment(key: string, ttlMs: number): Promise<number>;
  /** Redis `DEL key`. */
  delete(key: string): Promise<void>;
}

/** A bounded in-process store is full of live entries and refuses a new key (its callers fail closed). */
export class StoreFullError extends Error {
  override readonly name = 'StoreFullError';
  readonly code = 'STORE_FULL';
  constructor(
    readonly store: string,
    readonly entriesMax: number,
  ) {
    super(`the in-process store "${store}" holds its maximum of ${entriesMax} live entries`);
  }
}

/** Redis refuses a non-positive or fractional PX; so does the in-process store (a programmer error). */
export function assertTtlMs(ttlMs: number): void {
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0)
    throw new RangeError(`ttlMs must be a positive integer, got ${ttlMs}`);
}
