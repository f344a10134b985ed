// Prometheus metrics (prom-client), one registry per gateway instance: request rate and latency per route,
// the engine round trip of commands, commands waiting, and engine lag (age of the newest events record read).

import client from 'prom-client';

export class GatewayMetrics {
  readonly registry = new client.Registry();
  readonly requests = new client.Counter({
    name: 'gateway_http_requests_total',
    help: 'HTTP requests by route, method and status code',
    labelNames: ['method', 'route', 'status'],
    registers: [this.registry],
  });
  readonly latency = new client.Histogram({
    name: 'gateway_http_request_duration_seconds',
    help: 'HTTP request latency by route and method',
    labelNames: ['method', 'route'],
    registers: [this.registry],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  });
  readonly commandRoundTrip = new client.Histogram({
    name: 'gateway_engine_round_trip_seconds',
    help: 'From appending a command to reading its result',
    labelNames: ['type', 'outcome'],
    registers: [this.registry],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  });
  private lastRecordMs: number | null = null;
  readonly engineLag: client.Gauge;

  constructor() {
    client.collectDefaultMetrics({ register: this.registry, prefix: 'gateway_' });
    const self = this;
    this.engineLag = new client.Gauge({
      name: 'gateway_engine_lag_seconds',
      help: 'Now minus the append time of the newest events record read',
      registers: [this.registry],
      // Computed at scrape time from the newest record's append time: when the engine stops answering, the lag
      // grows on every scrape instead of freezing at its last value.
      collect() {
        if (self.lastRecordMs !== null) this.set(Math.max(0, (Date.now() - self.lastRecordMs) / 1000));
      },
    });
  }

  onRecordTimestamp(timestampMs: number): void {
    this.lastRecordMs = timestampMs;
  }
}
