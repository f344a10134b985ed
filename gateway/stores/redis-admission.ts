// Admission (admission-store.ts) on Redis: one Lua script, so the IP limit, the signature replay check and the
// principal's limit cost one round trip. ioredis's defineCommand sends it by EVALSHA and, on NOSCRIPT (a restarted
// or flushed Redis), once more by EVAL, which loads it again. The keys must live on one node: with Redis Cluster
// they would need one hash tag (the gateway runs on a single Redis).
// Counters keep @fastify/rate-limit's key names and window rule (INCR; PEXPIRE on the first count), which the
// gateway used before, so counts carry over a rolling upgrade.

import type { Redis } from 'ioredis';
import type { AdmissionRequest, AdmissionResult, AdmissionStore, CounterState } from './admission-store.js';

// KEYS: ip counter, signature, principal counter ('' = not checked). ARGV: windowMs, ipMax, signature ttlMs, principalMax.
// Returns { refusal (0 none, 1 ip, 2 replayed, 3 principal), ipCount, ipTtlMs, principalCount, principalTtlMs }.
const ADMIT_SCRIPT = `
local function count(key, windowMs)
  local n = redis.call('INCR', key)
  if n == 1 then
    redis.call('PEXPIRE', key, windowMs)
    return n, tonumber(windowMs)
  end
  return n, redis.call('PTTL', key)
end
local ipCount, ipTtl, pCount, pTtl = -1, 0, -1, 0
if KEYS[1] ~= '' then
  ipCount, ipTtl = count(KEYS[1], ARGV[1])
  if ipCount > tonumber(ARGV[2]) then return {1, ipCount, ipTtl, pCount, pTtl} end
end
if KEYS[2] ~= '' and not redis.call('SET', KEYS[2], '1', 'PX', ARGV[3], 'NX') then
  return {2, ipCount, ipTtl, pCount, pTtl}
end
if KEYS[3] ~= '' then
  pCount, pTtl = count(KEYS[3], ARGV[1])
  if pCount > tonumber(ARGV[4]) then return {3, ipCount, ipTtl, pCount, pTtl} end
end
return {0, ipCount, ipTtl, pCount, pTtl}
`;

const REFUSALS = [null, 'ip', 'replayed', 'principal'] as const;

type AdmitReply = [number, number, number, number, number];

interface AdmissionRedis extends Redis {
  gatewayAdmit(
    ipKey: string,
    signatureKey: string,
    principalKey: string,
    windowMs: number,
    ipMax: number,
    signatureTtlMs: number,
    principalMax: number,
  ): Promise<AdmitReply>;
}

const counterState = (count: number, ttlMs: number): CounterState | null =>
  count < 0 ? null : { count, ttlMs: Math.max(0, ttlMs) };

export class RedisAdmissionStore implements AdmissionStore {
  private readonly redis: AdmissionRedis;

  constructor(redis: Redis) {
    // Defined once per connection: every later call is an EVALSHA of the cached script.
    if (!('gatewayAdmit' in redis)) redis.defineCommand('gatewayAdmit', { numberOfKeys: 3, lua: ADMIT_SCRIPT });
    this.redis = redis as AdmissionRedis;
  }

  async admit(req: AdmissionRequest): Promise<AdmissionResult> {
    const [refusal, ipCount, ipTtl, pCount, pTtl] = await this.redis.gatewayAdmit(
      req.ip?.key ?? '',
      req.signature?.key ?? '',
      req.principal?.key ?? '',
      req.windowMs,
      req.ip?.max ?? 0,
      req.signature?.ttlMs ?? 1,
      req.principal?.max ?? 0,
    );
    return { refused: REFUSALS[refusal], ip: counterState(ipCount, ipTtl), principal: counterState(pCount, pTtl) };
  }
}
