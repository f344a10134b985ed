/**
 * Integration test: the LOBSTER conformance replay (tools/lobster/replay.ts) on the three sample file pairs of real
 * NASDAQ order flow in ../shared/conformance/lobster (README there). Each replay must check every row with no book
 * mismatch and no priority violation (the exchange's own inversions are counted apart: lobster-inversions.test.ts).
 * Negative checks prove the checker can fail: a corrupted orderbook size, two messages swapped, and an engine
 * patched to queue orders last-in-first-out.
 *
 * LOBSTER_DIR overrides where the files are (default: ../shared/conformance/lobster from the repository root).
 * The CSV files are read in place and never copied into the repository; corrupted copies go to a temp directory.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { replayLobster } from '../../tools/lobster/replay.js';
import type { ReplayResult } from '../../tools/lobster/replay.js';
import { patchLifo } from './lifo-patch.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const LOBSTER_DIR = path.resolve(REPO_ROOT, process.env.LOBSTER_DIR ?? '../shared/conformance/lobster');

const PAIRS = [
  {
    name: 'AAPL level 10',
    message: 'AAPL_2012-06-21_34200000_57600000_message_10.csv',
    orderbook: 'AAPL_2012-06-21_34200000_57600000_orderbook_10.csv',
  },
  {
    name: 'AMZN level 5',
    message: 'AMZN_2012-06-21_34200000_57600000_message_5_subset.csv',
    orderbook: 'AMZN_2012-06-21_34200000_57600000_orderbook_5_subset.csv',
  },
  {
    name: 'AMZN level 1',
    message: 'AMZN_2012-06-21_34200000_57600000_message_1.csv',
    orderbook: 'AMZN_2012-06-21_34200000_57600000_orderbook_1.csv',
  },
];
const SMALL = PAIRS[0];

const inDir = (file: string): string => path.join(LOBSTER_DIR, file);

/** Non-empty lines: the row count, counted apart from the replay's own parser. */
async function rowCount(file: string): Promise<number> {
  return (await readFile(file, 'utf8')).split('\n').filter((line) => line.trim() !== '').length;
}

function summary(r: ReplayResult): string {
  const { details, inversions, ...counts } = r;
  if (inversions.length > 0) Object.assign(counts, { inversionRows: inversions.map((i) => i.row) });
  return `${JSON.stringify(counts)}${details.length > 0 ? `\nfirst details: ${JSON.stringify(details.slice(0, 3), null, 1)}` : ''}`;
}

const missing = PAIRS.flatMap((p) => [p.message, p.orderbook]).filter((f) => !existsSync(inDir(f)));
if (missing.length > 0) {
  t.fail(
    `LOBSTER sample files not found in ${LOBSTER_DIR} (missing: ${missing.join(', ')}). ` +
      'Set LOBSTER_DIR to the directory holding them (absolute, or relative to the repository root ' +
      `${REPO_ROOT}), e.g. LOBSTER_DIR=/path/to/shared/conformance/lobster npx tap test/engine/lobster.int.test.ts`,
  );
} else {
  for (const pair of PAIRS) {
    t.test(`${pair.name}: every row replays with the book and priority LOBSTER recorded`, async (t) => {
      const result = await replayLobster({ messagePath: inDir(pair.message), orderbookPath: inDir(pair.orderbook) });
      t.comment(summary(result));
      t.equal(result.rows, await rowCount(inDir(pair.orderbook)), 'one replayed row per orderbook row');
      t.equal(result.mismatches, 0, 'no row where the engine disagrees with the file');
      t.equal(result.priorityViolations, 0, 'the engine never queues a younger order ahead of an older one');
      t.equal(
        result.inversions.length,
        Math.min(result.exchangeInversions, 1000),
        'every exchange inversion is listed with its row',
      );
      t.equal(result.invariantProblems, 0, 'engine invariants hold throughout');
      t.ok(result.checkedLevels >= result.rows, 'at least one level compared per row on average');
    });
  }

  t.test('negative: one orderbook size altered makes that row a mismatch', async (t) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lobster-corrupt-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const rows = (await readFile(inDir(SMALL.orderbook), 'utf8')).split('\n');
    const corruptRow = 100; // 1-based
    const fields = rows[corruptRow - 1].split(',');
    fields[1] = String(Number(fields[1]) + 1); // AskSize1
    rows[corruptRow - 1] = fields.join(',');
    const orderbookPath = path.join(dir, 'orderbook.csv');
    await writeFile(orderbookPath, rows.join('\n'));

    const result = await replayLobster({ messagePath: inDir(SMALL.message), orderbookPath });
    t.ok(result.mismatches > 0, `mismatches reported: ${result.mismatches}`);
    t.equal(result.details[0]?.row, corruptRow, 'the first mismatch is the altered row');
    t.equal(result.details[0]?.kind, 'book', 'found by the book comparison');
  });

  t.test('negative: two messages swapped make the replay report mismatches', async (t) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lobster-swap-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const rows = (await readFile(inDir(SMALL.message), 'utf8')).split('\n');
    // The first two adjacent adds at different prices (past row 1, whose message the seed undoes).
    const i = rows.findIndex(
      (row, k) =>
        k >= 1 && k + 1 < rows.length && isAdd(row) && isAdd(rows[k + 1]) && price(row) !== price(rows[k + 1]),
    );
    t.ok(i > 0, 'found two adjacent adds to swap');
    [rows[i], rows[i + 1]] = [rows[i + 1], rows[i]];
    const messagePath = path.join(dir, 'message.csv');
    await writeFile(messagePath, rows.join('\n'));

    const result = await replayLobster({ messagePath, orderbookPath: inDir(SMALL.orderbook) });
    t.ok(result.mismatches > 0, `mismatches reported: ${result.mismatches}`);
    t.equal(result.details[0]?.row, i + 1, 'the first mismatch is the first swapped row');
  });

  t.test('negative: an engine that queues last-in-first-out breaks price-time priority', async (t) => {
    // The patch lasts for this subtest (this file runs in its own process).
    t.teardown(patchLifo());
    const result = await replayLobster({ messagePath: inDir(SMALL.message), orderbookPath: inDir(SMALL.orderbook) });
    t.ok(result.priorityViolations > 0, `priority violations reported: ${result.priorityViolations}`);
    t.equal(result.details[0]?.kind, 'priority', 'the first failure is a priority violation');
  });
}

function isAdd(row: string): boolean {
  return row.split(',')[1] === '1';
}

function price(row: string): string {
  return row.split(',')[4];
}
