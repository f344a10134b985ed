// A standby's backpressure without a broker: the divergence check says when it holds a full window of events the
// writer has not published, and the gate holds the next batch until the writer's events catch up, or for good
// once a promotion is pending. Events from a real engine run; the writer's side as the records it publishes.

import t from 'tap';
import { Engine } from '../../engine/core/index.js';
import type { EngineEvent } from '../../engine/core/index.js';
import { DivergenceCheck, publishedRun } from '../../engine/daemon/divergence.js';
import type { PublishedRun } from '../../engine/daemon/divergence.js';
import { StandbyGate } from '../../engine/daemon/standby-gate.js';
import { decodeCommand, encodeEventRecords } from '../../engine/wire/codec.js';
import { seededCommands } from '../../testkit/daemon-process.js';

const engine = new Engine();
const perCommand: EngineEvent[][] = seededCommands(11, 300).map((value, i) => {
  const decoded = decodeCommand(value, 1_000 + i);
  return decoded.ok ? engine.apply(decoded.command) : engine.applyInvalid(decoded.id, 1_000 + i, decoded.code);
});
const all = perCommand.flat();

function published(events: readonly EngineEvent[]): PublishedRun[] {
  return encodeEventRecords(events).map((value) => publishedRun(value) as PublishedRun);
}

/** Whether `p` has settled after the microtasks and timers queued so far ran. */
async function settled(p: Promise<void>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

/** A standby that applies commands while the gate lets it; returns how many it applied. */
function applyWhileOpen(check: DivergenceCheck, gate: StandbyGate, from: number): number {
  let offset = from;
  while (offset < perCommand.length && !gate.mustWait()) {
    check.addComputed(perCommand[offset], offset);
    offset++;
  }
  return offset;
}

t.test(
  'full() at three quarters of the window of unpublished events, free again once they are published',
  async (t) => {
    const check = new DivergenceCheck({ checkFromSeq: 1, windowMax: 40 });
    let offset = 0;
    while (!check.full()) check.addComputed(perCommand[offset], offset++);
    t.ok(check.unpublishedHeld >= 30, `full at ${check.unpublishedHeld} held`);
    t.equal(check.unchecked, 0, 'nothing dropped: the last quarter of the window is the batch in hand');
    const seqOfHeld = all.findIndex((ev) => ev.seq === perCommand[offset - 1].at(-1)?.seq) + 1;
    check.addPublished(published(all.slice(0, seqOfHeld)));
    t.equal(check.unpublishedHeld, 0, 'every held event compared and let go');
    t.notOk(check.full());
  },
);

t.test('the gate holds a standby at its window and lets it on as the writer publishes, dropping nothing', async (t) => {
  // A quarter of the window, 50 events, is room for any one command here (44 at most).
  const check = new DivergenceCheck({ checkFromSeq: 1, windowMax: 200 });
  const gate = new StandbyGate(() => check.full());
  let applied = applyWhileOpen(check, gate, 0);
  t.ok(applied < perCommand.length, `paused after ${applied} commands`);
  let publishedSeq = 0;
  // One batch waits at a time (the command reader awaits it), as in the daemon.
  let waiting: Promise<void> | null = null;
  while (applied < perCommand.length) {
    waiting ??= gate.wait();
    t.equal(await settled(waiting), false, 'a full standby waits');
    // The writer publishes the next 25 events: the waiting batch goes on once room is made.
    const next = all.slice(publishedSeq, publishedSeq + 25);
    publishedSeq += next.length;
    check.addPublished(published(next));
    gate.published();
    if (check.full()) continue;
    t.equal(await settled(waiting), true, 'room again: the batch goes on');
    waiting = null;
    applied = applyWhileOpen(check, gate, applied);
  }
  check.addPublished(published(all.slice(publishedSeq)));
  t.equal(check.unchecked, 0, 'no event left the window: promotion would find its whole backlog');
  t.equal(check.checked, all.length, 'every event compared');
  t.ok(gate.pauses > 1, `paused ${gate.pauses} times`);
});

t.test('a pending promotion or a stop opens the gate for good', async (t) => {
  const check = new DivergenceCheck({ checkFromSeq: 1, windowMax: 20 });
  const gate = new StandbyGate(() => check.full());
  const applied = applyWhileOpen(check, gate, 0);
  const waiting = gate.wait();
  t.equal(await settled(waiting), false);
  gate.open();
  t.equal(await settled(waiting), true, 'the writer is gone: nothing more will be published to wait for');
  t.equal(gate.mustWait(), false);
  check.addComputed(perCommand[applied], applied);
  t.equal(await settled(gate.wait()), true, 'never waits again');
  t.same(
    check.unpublished(0, check.unpublishedHeld).map((c) => c.event.seq),
    all.slice(0, check.unpublishedHeld).map((ev) => ev.seq),
    'and promotion finds every event after the last published one',
  );
});
