// A promoted standby's backlog without a broker: written once, in seq order, in slices of about one produce
// request cut at command ends, with the event loop's timers (the lease's renewals) run between two slices.
// Events from a real engine run; the append is the daemon's side of it, recorded.

import t from 'tap';
import { Engine } from '../../engine/core/index.js';
import { BACKLOG_SLICE_BYTES, writeBacklog } from '../../engine/daemon/backlog.js';
import type { ComputedEvent } from '../../engine/daemon/divergence.js';
import type { EventRecord } from '../../engine/daemon/log.js';
import { EventRecordPacker, decodeCommand, decodeEventRecord, encodeEvent } from '../../engine/wire/codec.js';
import { seededCommands } from '../../testkit/daemon-process.js';

const engine = new Engine();
const backlog: ComputedEvent[] = seededCommands(17, 6_000).flatMap((value, commandOffset) => {
  const decoded = decodeCommand(value, 1_000 + commandOffset);
  const events = decoded.ok
    ? engine.apply(decoded.command)
    : engine.applyInvalid(decoded.id, 1_000 + commandOffset, decoded.code);
  return events.map((event) => ({ event, commandOffset, encoded: encodeEvent(event) }));
});
const backlogBytes = backlog.reduce((sum, e) => sum + e.encoded.length, 0);
/** The most bytes of events one command made: a slice ends at the first command end past BACKLOG_SLICE_BYTES. */
const commandBytes = new Map<number, number>();
for (const e of backlog) commandBytes.set(e.commandOffset, (commandBytes.get(e.commandOffset) ?? 0) + e.encoded.length);
const commandBytesMax = Math.max(...commandBytes.values());

interface Append {
  readonly records: EventRecord[];
  readonly firstOffset: number;
  readonly lastOffset: number;
}

t.test('every event once, in seq order, in slices of about one produce request cut at command ends', async (t) => {
  t.ok(backlogBytes > 3 * BACKLOG_SLICE_BYTES, `a backlog of ${backlogBytes} bytes, several slices`);
  const appends: Append[] = [];
  const slices = await writeBacklog(backlog, new EventRecordPacker(), async (records, firstOffset, lastOffset) => {
    appends.push({ records, firstOffset, lastOffset });
  });
  t.equal(slices, appends.length);
  t.ok(slices >= 3, `${slices} slices`);
  const written = appends.flatMap((a) => a.records.flatMap((r) => decodeEventRecord(r.value)));
  t.same(
    written.map((ev) => ev.seq),
    backlog.map((e) => e.event.seq),
    'each seq once, in order',
  );
  let seq = 0;
  for (const [i, a] of appends.entries()) {
    const events = backlog.slice(seq, (seq += a.records.flatMap((r) => decodeEventRecord(r.value)).length));
    const bytes = events.reduce((sum, e) => sum + e.encoded.length, 0);
    t.ok(bytes <= BACKLOG_SLICE_BYTES + commandBytesMax, `slice ${i}: ${bytes} bytes`);
    t.equal(a.firstOffset, events[0].commandOffset, `slice ${i} names its first command`);
    t.equal(a.lastOffset, events[events.length - 1].commandOffset, `slice ${i} names its last command`);
    const next = backlog[seq];
    if (next !== undefined) t.not(next.commandOffset, a.lastOffset, `slice ${i} ends at a command's end`);
  }
});

t.test('the event loop runs its timers between two slices, even when each send is answered at once', async (t) => {
  // A timer armed during one append stands for a lease renewal that falls due while a slice is sent.
  let timerRan = true;
  const timerRanBefore: boolean[] = [];
  await writeBacklog(backlog, new EventRecordPacker(), async () => {
    timerRanBefore.push(timerRan);
    timerRan = false;
    setTimeout(() => (timerRan = true), 0);
  });
  t.ok(timerRanBefore.length >= 3, `${timerRanBefore.length} slices`);
  t.same(
    timerRanBefore.filter((ran) => !ran),
    [],
    'before each slice, the timer due since the last one has run',
  );
});

t.test('a packer holding a batch is refused: its events would go out with the backlog', async (t) => {
  const packer = new EventRecordPacker();
  packer.add(backlog[0].event);
  await t.rejects(writeBacklog(backlog.slice(1), packer, async () => undefined));
});
