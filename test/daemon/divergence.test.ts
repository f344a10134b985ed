// The standby's divergence check without a broker: events from a real engine run, handed over in either order; the
// writer's side as the record texts it publishes (encodeEventRecords), cut into small records here.

import t from 'tap';
import { Engine } from '../../engine/core/index.js';
import type { EngineEvent } from '../../engine/core/index.js';
import { DivergenceCheck, publishedRun } from '../../engine/daemon/divergence.js';
import type { PublishedRun } from '../../engine/daemon/divergence.js';
import { StandbyError } from '../../engine/daemon/standby-errors.js';
import { decodeCommand, encodeEventRecords } from '../../engine/wire/codec.js';
import { seededCommands } from '../../testkit/daemon-process.js';

/** Each command's events, as the engine computed them (command offset = index). */
function run(count: number): EngineEvent[][] {
  const engine = new Engine();
  return seededCommands(7, count).map((value, i) => {
    const decoded = decodeCommand(value, 1_000 + i);
    return decoded.ok ? engine.apply(decoded.command) : engine.applyInvalid(decoded.id, 1_000 + i, decoded.code);
  });
}

const perCommand = run(300);
const all = perCommand.flat();

/** The records a writer would publish for `events`, `perRecord` events each, as the follower hands them on. */
function runs(events: readonly EngineEvent[], perRecord = 7): PublishedRun[] {
  const out: PublishedRun[] = [];
  for (let i = 0; i < events.length; i += perRecord)
    for (const value of encodeEventRecords(events.slice(i, i + perRecord))) {
      const parsed = publishedRun(value);
      if (parsed === null) throw new Error(`record ${value.slice(0, 80)} does not parse`);
      out.push(parsed);
    }
  return out;
}

function codeOf(fn: () => void): string | null {
  try {
    fn();
    return null;
  } catch (err) {
    return err instanceof StandbyError ? err.code : `not a StandbyError: ${String(err)}`;
  }
}

t.test('the same events match whichever side comes first', async (t) => {
  const check = new DivergenceCheck({ checkFromSeq: 1, windowMax: 10_000 });
  const half = Math.floor(all.length / 2);
  check.addPublished(runs(all.slice(0, half))); // the writer ahead
  perCommand.forEach((events, offset) => check.addComputed(events, offset));
  check.addPublished(runs(all.slice(half))); // then the standby ahead
  t.equal(check.checked, all.length, 'every event compared');
  t.equal(check.unchecked, 0);
  t.same(check.unpublished(all.length, all.length), [], 'nothing is left to write');
});

t.test('a different event stops the check with ENGINE_STANDBY_DIVERGED', async (t) => {
  const check = new DivergenceCheck({ checkFromSeq: 1, windowMax: 10_000 });
  const altered = all.map((ev) => (ev.seq === 40 ? { ...ev, cmdId: `${ev.cmdId}-x` } : ev));
  check.addPublished(runs(altered.slice(0, 39)));
  t.equal(
    codeOf(() => check.addPublished(runs(altered.slice(39)))),
    null,
    'a published event with no computed copy yet is held',
  );
  const firstCommands = perCommand.findIndex((_, i) => perCommand.slice(0, i + 1).flat().length >= 40);
  t.equal(
    codeOf(() => perCommand.slice(0, firstCommands + 1).forEach((events, i) => check.addComputed(events, i))),
    'ENGINE_STANDBY_DIVERGED',
  );
});

t.test('the divergence is found in the other order too (computed first)', async (t) => {
  const check = new DivergenceCheck({ checkFromSeq: 1, windowMax: 10_000 });
  perCommand.forEach((events, offset) => check.addComputed(events, offset));
  const altered = all.map((ev) => (ev.seq === all.length ? { ...ev, timeMs: ev.timeMs + 1 } : ev));
  t.equal(
    codeOf(() => check.addPublished(runs(altered))),
    'ENGINE_STANDBY_DIVERGED',
  );
  t.equal(check.checked, all.length - 1, 'every event before it matched');
});

t.test('history before checkFromSeq is not compared, nor held', async (t) => {
  const check = new DivergenceCheck({ checkFromSeq: 101, windowMax: 10_000 });
  const wrongHistory = all.slice(0, 100).map((ev) => ({ ...ev, cmdId: 'other' }));
  check.addPublished(runs(wrongHistory));
  perCommand.forEach((events, offset) => check.addComputed(events, offset));
  check.addPublished(runs(all.slice(100), 9)); // 9: a record straddles seq 100
  t.equal(check.checked, all.length - 100);
});

t.test('promotion: the computed events after the last published seq, with their command offsets', async (t) => {
  const check = new DivergenceCheck({ checkFromSeq: 1, windowMax: 10_000 });
  perCommand.forEach((events, offset) => check.addComputed(events, offset));
  check.addPublished(runs(all.slice(0, 50)));
  const backlog = check.unpublished(50, all.length);
  t.same(
    backlog.map((b) => b.event.seq),
    all.slice(50).map((ev) => ev.seq),
    'events 51..n, in order',
  );
  const offsetOf51 = perCommand.findIndex((events) => events.some((ev) => ev.seq === 51));
  t.equal(backlog[0].commandOffset, offsetOf51, 'each with the offset of the command that made it');
});

t.test('a bounded window: the oldest goes unchecked, and promotion past it refuses', async (t) => {
  const check = new DivergenceCheck({ checkFromSeq: 1, windowMax: 20 });
  perCommand.forEach((events, offset) => check.addComputed(events, offset));
  t.equal(check.unchecked, all.length - 20, 'only 20 events held');
  t.equal(
    codeOf(() => check.unpublished(0, all.length)),
    'ENGINE_STANDBY_BACKLOG_LOST',
  );
  t.equal(check.unpublished(all.length - 20, all.length).length, 20, 'the newest 20 are still there');
});

t.test('copies cut at other places (a restarted or zombie writer) are compared once', async (t) => {
  const check = new DivergenceCheck({ checkFromSeq: 1, windowMax: 10_000 });
  check.addPublished(runs(all.slice(0, 100), 7));
  check.addPublished(runs(all.slice(40, 200), 11)); // from seq 41: 41..100 again, then new events
  perCommand.forEach((events, offset) => check.addComputed(events, offset));
  check.addPublished(runs(all.slice(150), 13));
  t.equal(check.checked, all.length, 'every event compared once');
  t.equal(check.unchecked, 0);
});

t.test('one byte more or less in an event is a divergence, also in the last event of a record', async (t) => {
  const last = all.length;
  const [record] = runs(all.slice(last - 5), 5);
  const tampered = [
    { ...record, body: record.body.slice(0, -1) + ' }' },
    { ...record, body: record.body.replace('"seq"', ' "seq"') },
    { ...record, body: record.body.slice(0, -1) },
  ];
  for (const run of tampered) {
    const check = new DivergenceCheck({ checkFromSeq: last - 4, windowMax: 10_000 });
    perCommand.forEach((events, offset) => check.addComputed(events, offset));
    t.equal(
      codeOf(() => check.addPublished([run])),
      'ENGINE_STANDBY_DIVERGED',
      run.body.slice(-20),
    );
  }
});

t.test('a record text: its envelope is checked and its first and last seqs read, nothing decoded', async (t) => {
  const [value] = encodeEventRecords(all.slice(10, 20));
  t.match(publishedRun(value), { firstSeq: 11, lastSeq: 20 });
  t.equal(publishedRun(value.slice(1)), null, 'no envelope');
  t.equal(publishedRun('{"v":1,"events":[]}'), null, 'no events');
  t.equal(publishedRun('{"v":2,"events":[{"seq":1}]}'), null, 'another version');
});

t.test('bad options are refused', async (t) => {
  t.throws(() => new DivergenceCheck({ checkFromSeq: 0, windowMax: 1 }), RangeError);
  t.throws(() => new DivergenceCheck({ checkFromSeq: 1, windowMax: 0 }), RangeError);
});
