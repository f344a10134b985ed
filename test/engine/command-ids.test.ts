// Command-id deduplication inside the engine's state: a producer that retries a command (same id) gets
// COMMAND_DUPLICATE_ID and no second effect, deterministically, across snapshots. The bounds of the memory
// (commandIdsMax, commandIdWindowMs) are tested in bounds.test.ts.

import t from 'tap';
import { restore, snapshot } from '../../engine/core/index.js';
import { stateHash } from '../../engine/daemon/snapshot-store.js';
import { Fixture, USDC, depositCmd, resultOf } from './support.js';


function counterless(f: Fixture): string {
  const s = JSON.parse(new TextDecoder().decode(snapshot(f.engine))) as { counters: Record<string, number> };
  delete s.counters.eventSeq;
  delete s.counters.commandsApplied;
  delete s.counters.lastTimeMs;
  return JSON.stringify(s);
}

t.test('a retried command id has no second effect and answers COMMAND_DUPLICATE_ID', async (t) => {
  const f = new Fixture();
  t.match(resultOf(f.when(depositCmd('retry-me', 'd1'))), { status: 'accepted', cmdId: 'retry-me' });
  const before = counterless(f);
  // Even a different body: the id names the command, and a producer's retry is the same command.
  const events = f.when(depositCmd('retry-me', 'd2'));
  t.equal(events.length, 1, 'only the commandResult');
  t.match(resultOf(events), { status: 'rejected', code: 'COMMAND_DUPLICATE_ID', cmdId: 'retry-me', orderId: null });
  t.equal(counterless(f), before, 'state unchanged, the second deposit not credited');
  t.equal(f.balance(1, USDC).available, 5n, 'credited once');
});

t.test('a rejected command\'s id is taken too: its answer was given', async (t) => {
  const f = new Fixture();
  t.match(resultOf(f.when({ id: 'x', type: 'cancelOrder', userId: 1, orderId: 999 } as never)), { status: 'rejected', code: 'ORDER_NOT_FOUND' });
  t.match(resultOf(f.when(depositCmd('x', 'd1'))), { code: 'COMMAND_DUPLICATE_ID' });
});

t.test('a record that never decoded does not take its id', async (t) => {
  const f = new Fixture();
  t.match(resultOf(f.engine.applyInvalid('fixed-later', f.nowMs, 'COMMAND_MALFORMED')), { code: 'COMMAND_MALFORMED', cmdId: 'fixed-later' });
  t.match(resultOf(f.when(depositCmd('fixed-later', 'd1'))), { status: 'accepted' }, 'the corrected command is applied');
});

t.test('the memory is part of the snapshot and the state hash', async (t) => {
  const f = new Fixture();
  f.when(depositCmd('kept', 'd1'));
  const copy = restore(snapshot(f.engine));
  t.equal(stateHash(copy), stateHash(f.engine), 'same hash after restore');
  const a = f.engine.apply({ v: 1, id: 'kept', timeMs: f.nowMs + 1, type: 'deposit', userId: 1, assetId: USDC, amount: 5n, depositId: 'd9' });
  const b = copy.apply({ v: 1, id: 'kept', timeMs: f.nowMs + 1, type: 'deposit', userId: 1, assetId: USDC, amount: 5n, depositId: 'd9' });
  t.match(resultOf(b), { code: 'COMMAND_DUPLICATE_ID' }, 'the restored engine still knows the id');
  t.same(b, a, 'and answers exactly as the original');
  t.equal(stateHash(copy), stateHash(f.engine));
  copy.commandIds.add('only-in-the-copy', true, copy.lastTimeMs);
  t.not(stateHash(copy), stateHash(f.engine), 'the hash covers the remembered ids');
});
