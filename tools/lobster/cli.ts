/**
 * Command line for the LOBSTER conformance replay (see replay.ts; data: ../shared/conformance/lobster/README.md).
 *
 *   npm run replay:lobster -- MESSAGE_CSV ORDERBOOK_CSV [--levels N] [--details N]
 *
 * Prints the rows checked and the first mismatches in detail, then one JSON line
 * {"rows":..,"mismatches":..,"priorityViolations":..,"exchangeInversions":..,...,"inversionRows":[..]} as the last
 * line of stdout. Exits 1 when any mismatch, priority violation or engine invariant problem was found, 2 on bad
 * usage; exchange inversions (the exchange's own departures from time priority) are reported, never failed on.
 */
import { parseArgs } from 'node:util';
import { replayLobster } from './replay.js';
import type { ReplayResult } from './replay.js';

const USAGE = 'usage: npm run replay:lobster -- MESSAGE_CSV ORDERBOOK_CSV [--levels N] [--details N]';

function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, got ${value}`);
  return n;
}

function report(result: ReplayResult, elapsedMs: number, shown: number): void {
  console.log(
    `rows checked: ${result.rows} (${result.levels} levels per side, ${result.checkedLevels} levels compared, ${result.revealedLevels} revealed from beyond the view)`,
  );
  console.log(
    `mismatches: ${result.mismatches}, priority violations (the engine's): ${result.priorityViolations}, invariant problems: ${result.invariantProblems}`,
  );
  console.log(
    `exchange inversions (the exchange executed a younger order first): ${result.exchangeInversions}${result.inversions.length > 0 ? `, rows ${result.inversions.map((i) => i.row).join(' ')}` : ''}`,
  );
  console.log(
    `unknown-order messages: ${result.unknownOrderMessages}, resyncs: ${result.resyncs} (${result.resyncLots} lots), released file orders: ${result.releasedFileOrders}, requeued lots: ${result.requeuedLots}, bypassed executions: ${result.bypassedExecutions}, run reorders: ${result.runReorders}, uncertain-size fixes: ${result.uncertainFixes}, unmapped lots: ${result.unmappedLots}`,
  );
  console.log(
    `skipped: ${result.skippedHidden} hidden executions, ${result.skippedCrossTrades} cross trades, ${result.skippedHalts} halts; ${elapsedMs} ms`,
  );
  for (const d of result.details.slice(0, shown)) {
    console.log(`row ${d.row} [${d.kind}] message ${d.message}\n  expected: ${d.expected}\n  actual:   ${d.actual}`);
  }
  const { details, inversions, ...counts } = result;
  console.log(JSON.stringify({ ...counts, inversionRows: inversions.map((i) => i.row), elapsedMs }));
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { levels: { type: 'string' }, details: { type: 'string' } },
  });
  if (positionals.length !== 2) {
    console.error(USAGE);
    return 2;
  }
  const shown = positiveInt(values.details, '--details') ?? 5;
  const startedAtMs = Date.now();
  const result = await replayLobster({
    messagePath: positionals[0],
    orderbookPath: positionals[1],
    levels: positiveInt(values.levels, '--levels'),
    maxDetails: Math.max(shown, 20),
  });
  report(result, Date.now() - startedAtMs, shown);
  return result.mismatches > 0 || result.priorityViolations > 0 || result.invariantProblems > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 2;
  },
);
