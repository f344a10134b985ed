// Who writes the events topic when several engines with the same engine id run: the holder of a lease in Redis.
// A lease, not a PostgreSQL advisory lock: a writer frozen by SIGSTOP (or a long GC pause, a stalled VM) keeps its
// TCP connection open, since its kernel still acknowledges, so a session lock would never pass to a standby; a
// lease expires by time, whatever the holder's state. Kafka group membership would also work but adds a rebalance
// to every failover. docs/running.md gives the whole reasoning.
//
// The holder never trusts Redis's clock: each renewal's local deadline is the monotonic time the request was SENT
// plus the lease (the key cannot expire before that), and the writer checks holds() before every produce. A renewal
// answered after that deadline counts as lost, so a process that resumes from a freeze writes nothing more.

import type { Redis } from 'ioredis';

/** Extends the lease only while it is still ours (compare-and-extend). */
const RENEW_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
/** Deletes the lease only while it is still ours (compare-and-delete). */
const RELEASE_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export interface WriterLeaseOptions {
  readonly redis: Redis;
  /** The Redis key: one per engine id. */
  readonly key: string;
  /** This process's token (unique per process). */
  readonly token: string;
  readonly leaseMs: number;
  /** Monotonic milliseconds (performance.now); injected so the tests can make a reply arrive late. */
  readonly nowMs?: () => number;
}

export class WriterLease {
  /** Local monotonic time after which this process must not write; 0 while it holds no lease. */
  private deadlineMs = 0;
  private readonly nowMs: () => number;

  constructor(private readonly opts: WriterLeaseOptions) {
    if (!(opts.leaseMs >= 100)) throw new RangeError(`leaseMs ${opts.leaseMs} must be at least 100`);
    this.nowMs = opts.nowMs ?? (() => performance.now());
  }

  get leaseMs(): number {
    return this.opts.leaseMs;
  }

  /** Whether this process may write right now. */
  holds(): boolean {
    return this.deadlineMs > 0 && this.nowMs() < this.deadlineMs;
  }

  /** Milliseconds left before the local deadline (negative once past it; -leaseMs when none is held). */
  remainingMs(): number {
    return this.deadlineMs === 0 ? -this.opts.leaseMs : this.deadlineMs - this.nowMs();
  }

  /** One attempt to take a free lease; true when this process now holds it. */
  async tryAcquire(): Promise<boolean> {
    const sentMs = this.nowMs();
    const reply = await this.opts.redis.set(this.opts.key, this.opts.token, 'PX', this.opts.leaseMs, 'NX');
    return this.granted(reply === 'OK', sentMs);
  }

  /** Extends a lease this process holds; false (and holds() false from then on) when it is lost or late. */
  async renew(): Promise<boolean> {
    if (this.deadlineMs === 0) return false;
    const sentMs = this.nowMs();
    let reply: unknown;
    try {
      reply = await this.opts.redis.eval(RENEW_SCRIPT, 1, this.opts.key, this.opts.token, this.opts.leaseMs);
    } catch {
      return this.holds(); // Redis unreachable: the lease runs out at the deadline already set
    }
    return this.granted(reply === 1, sentMs);
  }

  /** Gives the lease up at once (a clean stop), so a standby need not wait for it to expire. */
  async release(): Promise<void> {
    this.deadlineMs = 0;
    await this.opts.redis.eval(RELEASE_SCRIPT, 1, this.opts.key, this.opts.token);
  }

  private granted(ok: boolean, sentMs: number): boolean {
    const deadlineMs = sentMs + this.opts.leaseMs;
    // Answered after the deadline it would set: a frozen or starved process; the key may be someone else's by now.
    if (!ok || this.nowMs() >= deadlineMs) {
      this.deadlineMs = 0;
      return false;
    }
    this.deadlineMs = deadlineMs;
    return true;
  }
}

/**
 * The election (daemon.ts Election) on a lease: keeps trying to take it (every leaseMs / 20, so failover waits at
 * most that past the expiry), then renews it every leaseMs / 4 (counted from each request's sending), so three
 * renewals in a row can be slow or lost before the deadline passes. Once held and lost, it is never taken again by
 * the same process: that one exits.
 */
/** A renewal timer firing later than this share of the lease is reported (onLate): a third late one loses it. */
export const LEASE_LATE_WARN_SHARE = 0.25;

/** How late one renewal was, reported when it passes LEASE_LATE_WARN_SHARE of the lease (the event loop starved). */
export interface LateRenewal {
  /** From when the renewal timer was due to when it fired. */
  readonly firedLateMs: number;
  /** From sending the renewal to its answer (0 when the lease had already run out and nothing was sent). */
  readonly replyMs: number;
  /** Of the lease left when the renewal timer fired (negative: it had run out). */
  readonly marginMs: number;
  readonly leaseMs: number;
}

export class LeaseKeeper {
  private timer: NodeJS.Timeout | null = null;
  /** Monotonic time the scheduled tick is due. */
  private dueMs = 0;
  /** The request in flight, if any: stop() waits for it, so a lease it takes is given back before the process ends. */
  private ticking: Promise<void> = Promise.resolve();
  private stopped = false;
  private holding = false;
  private onAcquired: () => void = () => undefined;
  private onLost: (reason: string) => void = () => undefined;

  constructor(
    private readonly lease: WriterLease,
    /** Redis unreachable while campaigning: reported, and tried again. */
    private readonly onError: (err: unknown) => void,
    /** A renewal late past LEASE_LATE_WARN_SHARE of the lease: reported (the daemon logs a warning). */
    private readonly onLate: (late: LateRenewal) => void = () => undefined,
  ) {}

  start(onAcquired: () => void, onLost: (reason: string) => void): void {
    this.onAcquired = onAcquired;
    this.onLost = onLost;
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.dueMs = performance.now() + delayMs;
    this.timer = setTimeout(() => {
      this.ticking = this.tick();
    }, delayMs);
  }

  private async tick(): Promise<void> {
    const { lease } = this;
    const firedMs = performance.now();
    const firedLateMs = firedMs - this.dueMs;
    const marginMs = lease.remainingMs();
    // A timer that fired late: the lease ran out before it was renewed.
    if (this.holding && !lease.holds()) {
      this.reportLate({ firedLateMs, replyMs: 0, marginMs, leaseMs: lease.leaseMs }, true);
      return this.lose('the lease ran out before it was renewed');
    }
    const renewing = this.holding;
    let ok = false;
    try {
      ok = renewing ? await lease.renew() : await lease.tryAcquire();
    } catch (err) {
      this.onError(err);
    }
    if (renewing) {
      const replyMs = performance.now() - firedMs;
      this.reportLate({ firedLateMs, replyMs, marginMs, leaseMs: lease.leaseMs }, !ok);
    }
    // Stopped while this request was in flight: a lease it just took is given back now, not left to expire.
    if (this.stopped) return ok && !renewing ? this.releaseTaken() : undefined;
    if (this.holding && !ok) return this.lose('the lease was taken, or renewed too late');
    if (!this.holding && ok) {
      this.holding = true;
      this.onAcquired();
    }
    // The next one is due a quarter lease after this one was sent, not after its answer: a slow answer (Redis
    // starved on a loaded machine: 0.5 s seen) then delays the next renewal by nothing past that quarter.
    const intervalMs = ok ? lease.leaseMs / 4 : lease.leaseMs / 20;
    this.schedule(Math.max(0, firedMs + intervalMs - performance.now()));
  }

  /** Reports a renewal whose timer or answer came later than the warning share of the lease, or one that lost it. */
  private reportLate(late: LateRenewal, lost: boolean): void {
    const warnMs = late.leaseMs * LEASE_LATE_WARN_SHARE;
    if (lost || late.firedLateMs > warnMs || late.replyMs > warnMs) this.onLate(late);
  }

  private lose(reason: string): void {
    this.stopped = true;
    this.holding = false;
    this.onLost(reason);
  }

  /** Stops campaigning and gives a held lease up at once; a second call does nothing more. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    const held = this.holding;
    this.holding = false;
    if (held) await this.releaseTaken();
    await this.ticking;
  }

  private async releaseTaken(): Promise<void> {
    await this.lease.release().catch((err: unknown) => this.onError(err));
  }
}
