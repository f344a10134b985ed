// The one deduplication rule of every events consumer (kafka/seq-filter.ts): given records as a restarted daemon
// or a zombie writes them (copies, cut at other places, out of order), the events a consumer applies are each seq
// exactly once, in order; a gap stops it with EVENTS_SEQ_GAP.

import t from 'tap';
import { SeqFilter } from '../../kafka/seq-filter.js';

const run = (from: number, to: number): { seq: number }[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ seq: from + i }));

/** What a consumer applies from `records`, in order (the seqs). */
function applied(filter: SeqFilter, records: { seq: number }[][]): number[] {
  return records.flatMap((r, offset) => filter.accept(r, offset).map((e) => e.seq));
}

t.test('the same records twice change nothing', async (t) => {
  const records = [run(1, 10), run(11, 25), run(26, 26)];
  const filter = new SeqFilter(0);
  t.same(
    applied(filter, [...records, ...records]),
    run(1, 26).map((e) => e.seq),
    'each seq once',
  );
  t.equal(filter.lastSeq, 26);
});

t.test('records cut at other places by a second writer give each seq once', async (t) => {
  // Writer A cut at 10 and 25, writer B (a zombie) at 7, 18 and 30, interleaved as the broker appended them.
  const records = [run(1, 10), run(1, 7), run(8, 18), run(11, 25), run(19, 30), run(26, 40)];
  t.same(
    applied(new SeqFilter(0), records),
    run(1, 40).map((e) => e.seq),
  );
});

t.test('a record out of order (older than the position) is skipped; a straddling one is cut', async (t) => {
  const filter = new SeqFilter(20);
  t.same(filter.accept(run(5, 9), 0), [], 'wholly at or below the position: nothing');
  t.same(
    filter.accept(run(15, 24), 1).map((e) => e.seq),
    [21, 22, 23, 24],
    'only the events after the position',
  );
  t.same(filter.accept(run(22, 23), 2), [], 'an older copy after that: nothing');
  t.equal(filter.lastSeq, 24);
});

t.test('a gap stops the consumer with EVENTS_SEQ_GAP and the position does not move', async (t) => {
  const filter = new SeqFilter(0);
  filter.accept(run(1, 10), 0);
  t.throws(() => filter.accept(run(12, 15), 7), {
    name: 'EventStreamError',
    code: 'EVENTS_SEQ_GAP',
    offset: 7,
    message: /events 11\.\.11 are missing/,
  });
  t.equal(filter.lastSeq, 10, 'the refused record applied nothing');
  t.same(
    filter.accept(run(11, 12), 8).map((e) => e.seq),
    [11, 12],
    'the missing events still come next',
  );
});

t.test('with no stored position, the first record is taken as it comes', async (t) => {
  const filter = new SeqFilter(null);
  t.same(
    filter.accept(run(100, 105), 0).map((e) => e.seq),
    [100, 101, 102, 103, 104, 105],
  );
  t.same(
    filter.accept(run(103, 107), 1).map((e) => e.seq),
    [106, 107],
  );
  t.throws(() => filter.accept(run(109, 110), 2), { code: 'EVENTS_SEQ_GAP' });
});

t.test('an empty or non-consecutive record is refused as EVENTS_BAD_RECORD', async (t) => {
  t.throws(() => new SeqFilter(0).accept([], 3), { code: 'EVENTS_BAD_RECORD' });
  t.throws(() => new SeqFilter(0).accept([{ seq: 1 }, { seq: 3 }], 3), { code: 'EVENTS_BAD_RECORD' });
  t.throws(() => new SeqFilter(-1), RangeError);
});
