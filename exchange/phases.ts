// Where `npm start`'s time goes: each start-up phase's wall time, for the log and the banner. Phases that run
// side by side overlap, so the times add up to more than the time to ready; the banner says which ran in parallel.

/** performance.measure() name under which tools/build/start.mjs records bringing dist/ up to date. */
export const BUILD_CHECK_MEASURE = 'exchange:build-check';
/** Most phases one start records: a start has about ten, so a runaway loop shows as an error, not a long list. */
const PHASES_MAX = 32;

export interface Phase {
  readonly name: string;
  readonly ms: number;
}

export class PhaseTimer {
  private readonly done: Phase[] = [];

  /** Runs `fn` as the phase `name`; its time is kept whether it resolves or throws. */
  async time<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const startedMs = performance.now();
    try {
      return await fn();
    } finally {
      this.add(name, performance.now() - startedMs);
    }
  }

  add(name: string, ms: number): void {
    if (this.done.length >= PHASES_MAX) throw new Error(`more than ${PHASES_MAX} start-up phases`);
    this.done.push({ name, ms: Math.round(ms) });
  }

  list(): readonly Phase[] {
    return this.done;
  }
}

/** The build check's time when tools/build/start.mjs ran it in this process (not under `npm run dev` or tests). */
export function buildCheckMs(): number | null {
  const entries = performance.getEntriesByName(BUILD_CHECK_MEASURE);
  return entries.length === 0 ? null : Math.round(entries[0].duration);
}

/** "build check 0.1 s, postgres 2.3 s, ...": one line for the banner. */
export function formatPhases(phases: readonly Phase[]): string {
  return phases.map((p) => `${p.name} ${(p.ms / 1000).toFixed(1)} s`).join(', ');
}
