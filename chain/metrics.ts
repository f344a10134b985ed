// The chain service's Prometheus metrics (served with /health and /ready by status-server.ts): how long ago each
// loop last made progress (computed at scrape time, so a stuck loop's age keeps growing), and the hot wallet.

import client from 'prom-client';

export const LOOPS = ['deposits', 'sweeps', 'withdrawals'] as const;
export type LoopName = (typeof LOOPS)[number];

export class ChainMetrics {
  readonly registry = new client.Registry();
  private readonly lastProgressMs = new Map<LoopName, number>();
  readonly loopErrors = new client.Counter({
    name: 'chain_loop_errors_total',
    help: 'Ticks of a loop that failed (retried next tick)',
    labelNames: ['loop'],
    registers: [this.registry],
  });
  readonly hotBalance = new client.Gauge({
    name: 'chain_hot_wallet_balance',
    help: 'Hot wallet token balance, base units, less unmined withdrawals',
    labelNames: ['token'],
    registers: [this.registry],
  });
  readonly hotLow = new client.Gauge({
    name: 'chain_hot_wallet_low',
    help: '1 while the hot wallet is below its refill threshold (HOT_WALLET_LOW)',
    labelNames: ['token'],
    registers: [this.registry],
  });

  constructor(private readonly nowMs: () => number = Date.now) {
    client.collectDefaultMetrics({ register: this.registry, prefix: 'chain_' });
    const self = this;
    new client.Gauge({
      name: 'chain_loop_progress_age_seconds',
      help: 'Seconds since the loop last completed a tick',
      labelNames: ['loop'],
      registers: [this.registry],
      collect() {
        for (const loop of LOOPS) {
          const age = self.progressAgeMs(loop);
          if (age !== null) this.set({ loop }, age / 1000);
        }
      },
    });
  }

  progress(loop: LoopName): void {
    this.lastProgressMs.set(loop, this.nowMs());
  }

  /** Milliseconds since the loop's last completed tick; null before its first. */
  progressAgeMs(loop: LoopName): number | null {
    const last = this.lastProgressMs.get(loop);
    return last === undefined ? null : Math.max(0, this.nowMs() - last);
  }
}
