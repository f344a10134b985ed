// Prometheus metrics (prom-client), one registry per gateway instance: request rate and latency per route,
// the engine round trip of commands and its first and last legs (the append, the events record's way to this
// instance), commands waiting, and engine lag (age of the newest events record read).

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
  /** The first leg of the round trip: a command's append to the commands topic (sent to acknowledged). */
  readonly commandAppend = new client.Histogram({
    name: 'gateway_command_append_seconds',
    help: 'From sending an append of commands to the commands topic to its acknowledgement',
    registers: [this.registry],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  });
  /**
   * The last leg: from the daemon's send of an events record (its timestamp, the daemon's clock) to this instance
   * reading it. Only meaningful with both on one clock (one host, or synchronised clocks).
   */
  readonly eventsRead = new client.Histogram({
    name: 'gateway_events_read_delay_seconds',
    help: 'From the timestamp of an events record to reading it',
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
    this.eventsRead.observe(Math.max(0, Date.now() - timestampMs) / 1000);
  }
}
