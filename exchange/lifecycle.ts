// Start-up and shutdown of components that depend on each other: each started component registers how to stop
// it; stopAll() stops them in the reverse order (the gateway before the engine it sends to, persistence before the
// database it writes to), each within a time limit, and reports the first failure of any running component.

import type { Logger } from 'pino';

const STOP_STEP_TIMEOUT_MS = 20_000;

interface Step {
  readonly name: string;
  readonly stop: () => Promise<void>;
}

export class Lifecycle {
  private readonly steps: Step[] = [];
  private stopping: Promise<boolean> | null = null;
  private failure: unknown = null;
  private onFailure: ((err: unknown) => void) | null = null;

  constructor(private readonly logger: Logger) {}

  /** True once stopAll() was called: a start-up in progress should give up at its next step. */
  get isStopping(): boolean {
    return this.stopping !== null;
  }

  /** The first failure reported by fail(), if any. */
  get failed(): unknown {
    return this.failure;
  }

  /** Registers how to stop what was just started. */
  defer(name: string, stop: () => Promise<void>): void {
    this.steps.push({ name, stop });
  }

  /** Watches a component's long-running promise: a rejection is a failure of the whole exchange. */
  watch(name: string, running: Promise<unknown>): void {
    running.catch((err: unknown) => this.fail(name, err));
  }

  /** Called with the first failure (the process stops everything and exits 1). */
  onFail(handler: (err: unknown) => void): void {
    this.onFailure = handler;
  }

  fail(name: string, err: unknown): void {
    if (this.failure !== null || this.stopping !== null) {
      this.logger.error({ component: name, err }, 'component failed during shutdown');
      return;
    }
    this.failure = err;
    this.logger.fatal({ component: name, err }, `${name} failed; stopping the exchange`);
    this.onFailure?.(err);
  }

  /** Stops every registered component, last started first. Resolves true when every step stopped cleanly. */
  stopAll(): Promise<boolean> {
    this.stopping ??= this.stopSteps();
    return this.stopping;
  }

  private async stopSteps(): Promise<boolean> {
    let clean = true;
    while (this.steps.length > 0) {
      const step = this.steps.pop() as Step;
      const startedMs = Date.now();
      try {
        await withTimeout(
          step.stop(),
          STOP_STEP_TIMEOUT_MS,
          `stopping ${step.name} took over ${STOP_STEP_TIMEOUT_MS} ms`,
        );
        this.logger.info({ component: step.name, ms: Date.now() - startedMs }, 'stopped');
      } catch (err) {
        clean = false;
        this.logger.error({ component: step.name, err }, 'stop failed');
      }
    }
    return clean;
  }
}

async function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)));
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
