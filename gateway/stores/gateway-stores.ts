// Where the gateway keeps its short-lived shared state: signatures already used (replay protection), command
// lookup records, and rate-limit counters. On Redis every gateway instance shares them (the production setup,
// several instances side by side). In process memory (the embedded single-instance exchange, no REDIS_URL) each
// instance has its own, bounded: a second instance would accept a signature the first has seen, and count rate
// limits apart, so in-process stores are for ONE gateway instance only.
//
// Sessions and API keys are not here: they live in PostgreSQL, cached 5 s per instance (auth/service.ts) in
// either mode.

import type { Redis } from 'ioredis';
import type { AdmissionStore } from './admission-store.js';
import { MemoryAdmissionStore } from './admission-store.js';
import type { KeyValueStore } from './key-value.js';
import { MemoryKeyValueStore } from './memory-key-value.js';
import { RedisAdmissionStore } from './redis-admission.js';
import { RedisKeyValueStore } from './redis-key-value.js';

export interface GatewayStores {
  /** 'redis': shared by every instance; 'memory': this instance only. */
  readonly kind: 'redis' | 'memory';
  /** Signatures already used (`<prefix>sig:<signature>`), set-if-absent for twice the signature window. */
  readonly signatures: KeyValueStore;
  /** Command lookup records (`<prefix>cmd:<commandId>`), 24 h. */
  readonly commands: KeyValueStore;
  /** Failure counters and locks of login and one-time-code attempts (`<prefix>guard:...`): auth/guard.ts. */
  readonly guards: KeyValueStore;
  /**
   * Rate-limit counters (`<prefix>rl:ip:<ip>`, `<prefix>rl:key:<key or user>`) and the signatures above, checked
   * together in one step per request (admission-store.ts; on Redis one script, one round trip).
   */
  readonly admission: AdmissionStore;
  /** For readiness: resolves when the stores answer. */
  ping(): Promise<void>;
}

export function redisStores(redis: Redis): GatewayStores {
  const kv = new RedisKeyValueStore(redis);
  return {
    kind: 'redis',
    signatures: kv,
    commands: kv,
    guards: kv,
    admission: new RedisAdmissionStore(redis),
    ping: async () => void (await redis.ping()),
  };
}

export interface MemoryStoreLimits {
  /**
   * Signatures remembered at once. Each is kept for twice the signature window (60 s by default), so this is the
   * sustained rate of signed requests times that: 100,000 allows about 1,600 a second. Past it a signed request
   * is refused with 503 EX_UNAVAILABLE (forgetting a live signature would let a replay through).
   */
  readonly signaturesMax: number;
  /** Lookup records of commands answered "unknown"; past it the oldest record is forgotten (its lookup: 404). */
  readonly commandRecordsMax: number;
  /** Rate-limit counters per limit (IP, key); past it the least recently counted key is forgotten (reset). */
  readonly rateLimitCountersMax: number;
  /**
   * Login and one-time-code failure counters and locks; past it the least recently written is forgotten. A flood
   * of failures under many names could so reset one account's count: with Redis (production) nothing is forgotten.
   */
  readonly guardEntriesMax: number;
}

export const DEFAULT_MEMORY_STORE_LIMITS: MemoryStoreLimits = {
  signaturesMax: 100_000,
  commandRecordsMax: 10_000,
  rateLimitCountersMax: 10_000,
  guardEntriesMax: 100_000,
};

/** In-process stores for a single gateway instance. Separate stores, so command records cannot crowd out signatures. */
export function memoryStores(limits: Partial<MemoryStoreLimits> = {}, nowMs?: () => number): GatewayStores {
  const l = { ...DEFAULT_MEMORY_STORE_LIMITS, ...limits };
  const signatures = new MemoryKeyValueStore({
    name: 'signatures',
    entriesMax: l.signaturesMax,
    whenFull: 'reject',
    nowMs,
  });
  const counters = (name: string) =>
    new MemoryKeyValueStore({ name, entriesMax: l.rateLimitCountersMax, whenFull: 'evictOldest', nowMs });
  return {
    kind: 'memory',
    signatures,
    commands: new MemoryKeyValueStore({
      name: 'commands',
      entriesMax: l.commandRecordsMax,
      whenFull: 'evictOldest',
      nowMs,
    }),
    guards: new MemoryKeyValueStore({ name: 'guards', entriesMax: l.guardEntriesMax, whenFull: 'evictOldest', nowMs }),
    admission: new MemoryAdmissionStore({
      ipCounters: counters('ip rate limits'),
      principalCounters: counters('key rate limits'),
      signatures,
    }),
    ping: async () => undefined,
  };
}
