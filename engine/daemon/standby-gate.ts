// A hot standby's backpressure. A standby applies commands as fast as they come, but it can only compare (and, once
// promoted, write) the events it holds: those the writer has not published yet. When the writer falls behind (3
// engines on 2 cores at 10,000 commands/s), a standby that ran on would reach its window, drop the oldest, and on
// promotion find events it must write gone (ENGINE_STANDBY_BACKLOG_LOST: a cold restart, and a second lease expiry
// before anyone writes). So past `full()` it stops taking batches of commands until the writer's published events
// catch up: its state stays hot, a few seconds of traffic behind at most, and its memory bounded as before. The
// gate opens for good once a promotion is pending (the writer is gone: nothing more will be published) or the
// daemon stops. Waiting here holds the commands partition's reader: nothing more is fetched meanwhile.

export class StandbyGate {
  private waiter: (() => void) | null = null;
  private openForGood = false;
  /** Times a batch waited, and how long in all (logged on promotion). */
  pauses = 0;
  pausedMs = 0;

  /** `full`: whether the standby holds as many unpublished events as it may; `nowMs`: a monotonic clock. */
  constructor(
    private readonly full: () => boolean,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  /** Whether the next batch must wait (checked first, so the writer's path and a free standby's add no await). */
  mustWait(): boolean {
    return !this.openForGood && this.full();
  }

  /** Resolves once the next batch may be applied. */
  async wait(): Promise<void> {
    if (!this.mustWait()) return;
    const startedMs = this.nowMs();
    this.pauses++;
    while (this.mustWait()) await new Promise<void>((resolve) => (this.waiter = resolve));
    this.pausedMs += this.nowMs() - startedMs;
  }

  /** The writer published more: a waiting batch looks again. */
  published(): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
  }

  /** A promotion is pending or the daemon stops: never wait again. */
  open(): void {
    this.openForGood = true;
    this.published();
  }
}
