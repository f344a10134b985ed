// Failure counters with back-off, for password logins (per account name and per IP) and one-time codes (per
// user): after `free` failures in a window, each further failure locks the counter for twice as long as the one
// before (1 s, 2 s, 4 s, ... up to lockMaxMs). A locked counter refuses the attempt before any check runs, so a
// locked-out guesser learns nothing, right or wrong. Counters are kept in the gateway's guards store (Redis: shared
// by every instance). An account name is counted whether or not the account exists: the answers cannot tell.

import { createHash } from 'node:crypto';
import { gatewayError } from '../errors.js';
import type { KeyValueStore } from '../stores/key-value.js';

export interface GuardOptions {
  /** Failures per account name (and per user for one-time codes) before back-off starts. */
  readonly accountFailuresFree: number;
  /** Failures per client IP before back-off starts. */
  readonly ipFailuresFree: number;
  /** The longest lock. */
  readonly lockMaxMs: number;
  /** A counter starts again this long after its first failure. */
  readonly windowMs: number;
}

export const DEFAULT_GUARD_OPTIONS: GuardOptions = {
  accountFailuresFree: 5,
  ipFailuresFree: 50,
  lockMaxMs: 15 * 60_000,
  windowMs: 60 * 60_000,
};

export interface GuardKey {
  readonly name: string;
  readonly free: number;
}

const hashName = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 32);

export class AuthGuard {
  constructor(
    private readonly store: KeyValueStore,
    private readonly prefix: string,
    private readonly opts: GuardOptions,
    private readonly nowMs: () => number,
  ) {}

  /** Password logins: the (lower-cased) account name and the client address. */
  loginKeys(kind: 'user' | 'operator', username: string, ip: string): GuardKey[] {
    return [
      { name: `${kind}:acct:${hashName(username.toLowerCase())}`, free: this.opts.accountFailuresFree },
      { name: `${kind}:ip:${ip}`, free: this.opts.ipFailuresFree },
    ];
  }

  /** One-time codes of a signed-in user or operator (a stolen session must not be able to guess them). */
  otpKeys(kind: 'user' | 'operator', id: string | number): GuardKey[] {
    return [{ name: `${kind}:otp:${id}`, free: this.opts.accountFailuresFree }];
  }

  /** Throws EX_AUTH_THROTTLED (with retryAfterSeconds) while any of the keys is locked. */
  async check(keys: readonly GuardKey[]): Promise<void> {
    const now = this.nowMs();
    let untilMs = 0;
    for (const k of keys) {
      const v = await this.store.get(this.lockKey(k));
      if (v !== null) untilMs = Math.max(untilMs, Number(v));
    }
    if (untilMs > now) {
      const retryAfterSeconds = Math.ceil((untilMs - now) / 1000);
      throw gatewayError('EX_AUTH_THROTTLED', undefined, { retryAfterSeconds });
    }
  }

  /** Counts a failure on every key, locking those past their free failures. */
  async fail(keys: readonly GuardKey[]): Promise<void> {
    const now = this.nowMs();
    for (const k of keys) {
      const n = await this.store.increment(this.countKey(k), this.opts.windowMs);
      if (n <= k.free) continue;
      const lockMs = Math.min(1000 * 2 ** Math.min(n - k.free - 1, 30), this.opts.lockMaxMs);
      await this.store.set(this.lockKey(k), String(now + lockMs), lockMs);
    }
  }

  /** A success clears the account's counter (not the IP's: one good login must not launder a spray). */
  async succeed(key: GuardKey): Promise<void> {
    await this.store.delete(this.countKey(key));
    await this.store.delete(this.lockKey(key));
  }

  private countKey(k: GuardKey): string {
    return `${this.prefix}guard:n:${k.name}`;
  }

  private lockKey(k: GuardKey): string {
    return `${this.prefix}guard:lock:${k.name}`;
  }
}
