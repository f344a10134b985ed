// Admission of a request in one step: the per-IP rate limit, the replay check of a signed request's signature and
// the per-principal (API key or session user) rate limit. On Redis it is one script, so a request pays one round
// trip for all three (they were three, one after the other); in process it is the same steps on bounded maps.
// The order is the one the answers have always had: an IP over its limit is refused before its signature is
// remembered; a replayed signature before the principal is counted; a principal over its limit still has its
// signature remembered (a refused request must not be replayable once the window has passed).

import type { KeyValueStore } from './key-value.js';
import type { MemoryKeyValueStore } from './memory-key-value.js';

/** A fixed-window counter: INCR, with the window's expiry set by the first count. */
export interface CounterCheck {
  readonly key: string;
  readonly max: number;
}

export interface AdmissionRequest {
  /** The client IP's counter; null when it was counted already (a failed lookup counted it alone). */
  readonly ip: CounterCheck | null;
  /** A signed request's signature, remembered for ttlMs (set if absent); null for none. */
  readonly signature: { readonly key: string; readonly ttlMs: number } | null;
  /** The API key's or session user's counter; null when nobody is authenticated. */
  readonly principal: CounterCheck | null;
  /** The counters' window (both limits count per window). */
  readonly windowMs: number;
}

/** A counter after this request: its count and how long its window still runs. */
export interface CounterState {
  readonly count: number;
  readonly ttlMs: number;
}

export interface AdmissionResult {
  /** Why the request is refused, or null: admitted. */
  readonly refused: 'ip' | 'replayed' | 'principal' | null;
  /** Null where not counted (or, for the principal, not reached). */
  readonly ip: CounterState | null;
  readonly principal: CounterState | null;
}

export interface AdmissionStore {
  /** Throws StoreFullError when an in-process signature store cannot remember one more (its caller fails closed). */
  admit(req: AdmissionRequest): Promise<AdmissionResult>;
}

/**
 * In process, for a single gateway instance: the same steps on the bounded stores (the counters forget their
 * least recently counted key when full; the signatures refuse a new one: StoreFullError).
 */
export class MemoryAdmissionStore implements AdmissionStore {
  constructor(
    private readonly stores: {
      readonly ipCounters: MemoryKeyValueStore;
      readonly principalCounters: MemoryKeyValueStore;
      readonly signatures: KeyValueStore;
    },
  ) {}

  async admit(req: AdmissionRequest): Promise<AdmissionResult> {
    const ip = req.ip === null ? null : await count(this.stores.ipCounters, req.ip.key, req.windowMs);
    if (req.ip !== null && ip !== null && ip.count > req.ip.max) return { refused: 'ip', ip, principal: null };
    if (
      req.signature !== null &&
      !(await this.stores.signatures.setIfAbsent(req.signature.key, '1', req.signature.ttlMs))
    )
      return { refused: 'replayed', ip, principal: null };
    const principal =
      req.principal === null ? null : await count(this.stores.principalCounters, req.principal.key, req.windowMs);
    const over = req.principal !== null && principal !== null && principal.count > req.principal.max;
    return { refused: over ? 'principal' : null, ip, principal };
  }
}

async function count(store: MemoryKeyValueStore, key: string, windowMs: number): Promise<CounterState> {
  const n = await store.increment(key, windowMs);
  return { count: n, ttlMs: store.remainingMs(key) };
}
