// The projection core without a database: the ledger it derives from the events must equal the engine's own
// balanceChanged figures after every command, for seeded streams cut into batches at random; a stream that is
// wrong in any way stops it with an error naming the event.

import t from 'tap';
import type { EngineEvent, OrderClosed } from '../../engine/core/index.js';
import { Projector } from '../../persistence/projector.js';
import type { SourceRecord } from '../../persistence/projector.js';
import { ProjectionError } from '../../persistence/errors.js';
import {
  KIND_AVAILABLE,
  KIND_CUSTODY,
  KIND_FEES,
  KIND_HELD,
  KIND_PENDING,
  SYSTEM_USER,
} from '../../persistence/ledger.js';
import { avgFillPrice } from '../../persistence/rows-util.js';
import { Prng } from '../../testkit/prng.js';
import { richStream } from './rich-stream.js';

const SEED = Number(process.env.PERSIST_SEED ?? 4242);

function projectAll(records: readonly SourceRecord[], rng: Prng): Projector {
  const p = new Projector();
  for (let i = 0; i < records.length;) {
    const n = rng.int(1, 300);
    p.project(records.slice(i, i + n));
    i += n;
  }
  return p;
}

function projectError(records: readonly SourceRecord[]): ProjectionError {
  try {
    new Projector().project(records);
  } catch (err) {
    if (err instanceof ProjectionError) return err;
    throw err;
  }
  throw new Error('the projection did not fail');
}

/** A copy of the records with one event replaced. */
function tamper(
  records: readonly SourceRecord[],
  find: (ev: EngineEvent) => boolean,
  change: (ev: EngineEvent) => EngineEvent,
): { records: SourceRecord[]; seq: number } {
  let seq = -1;
  const out = records.map((r) => ({
    ...r,
    events: r.events.map((ev) => {
      if (seq !== -1 || !find(ev)) return ev;
      seq = ev.seq;
      return change(ev);
    }),
  }));
  if (seq === -1) throw new Error('no event to tamper with');
  return { records: out, seq };
}

t.test(`seeded streams: ledger equals the engine after every command (seed ${SEED})`, async (t) => {
  for (let k = 0; k < 3; k++) {
    const s = richStream(SEED + k, 8000);
    const p = projectAll(s.records, new Prng(SEED + k));
    const e = s.engine;
    t.equal(p.position.lastSeq, e.eventSeq, 'every event applied');
    t.equal(p.position.commandsApplied, e.commandsApplied, 'every command counted');
    let mismatches = 0;
    for (const a of e.accounts.values()) {
      for (const asset of [1, 2]) {
        if (p.ledger.balance(KIND_AVAILABLE, a.userId, asset) !== a.available[asset]) mismatches++;
        if (p.ledger.balance(KIND_HELD, a.userId, asset) !== a.held[asset]) mismatches++;
        if (p.ledger.balance(KIND_PENDING, a.userId, asset) !== a.pending[asset]) mismatches++;
      }
    }
    t.equal(mismatches, 0, 'final user balances equal the engine');
    t.equal(p.ledger.balance(KIND_FEES, SYSTEM_USER, 2), e.feeBalances[2], 'fee revenue equals the engine fee account');
    t.ok(e.feeBalances[2] > 0n, 'the stream paid fees');
    for (const asset of [1, 2])
      t.equal(
        p.ledger.balance(KIND_CUSTODY, SYSTEM_USER, asset),
        e.depositedTotal[asset] - e.withdrawnTotal[asset],
        `custody of asset ${asset} = deposited - withdrawn`,
      );
    t.equal(p.openOrders.size, e.orders.size, 'the open orders are the engine open orders');
    t.equal(p.pendingWithdrawals.size, e.withdrawals.size, 'the pending withdrawals are the engine ones');
  }
});

t.test('redelivered records are skipped; a record across the position applies only its new events', async (t) => {
  const s = richStream(SEED, 500);
  const p = new Projector();
  const first = p.project(s.records.slice(0, 300));
  const again = p.project(s.records.slice(200, 300));
  t.equal(again.events, 0, 'records at or below the position write nothing');
  t.equal(again.position.lastSeq, first.position.lastSeq, 'the position does not move');
  const split = { ...s.records[300], events: [...s.records[299].events.slice(-1), ...s.records[300].events] };
  const straddled = p.project([split]);
  const whole = new Projector();
  whole.project(s.records.slice(0, 300));
  const expected = whole.project([s.records[300]]);
  t.equal(straddled.events, s.records[300].events.length, 'only the events after the position are applied');
  t.same(straddled, expected, 'the same rows as the record cut at the position');
});

t.test('an unappliable event stops the projection with an error naming it', async (t) => {
  const s = richStream(SEED, 3000);
  const gap = s.records.filter((_, i) => i !== 100);
  const gapErr = projectError(gap);
  t.equal(gapErr.code, 'PERSIST_SEQ_GAP');
  t.equal(gapErr.seq, s.records[101].events[0].seq, 'names the first event after the gap');
  t.match(gapErr.message, new RegExp(`event seq ${s.records[101].events[0].seq} \\(\\w+, cmdId "c\\d+"\\)`));

  const fee = tamper(
    s.records,
    (ev) => ev.type === 'trade' && ev.takerFee > 0n,
    (ev) => ({
      ...(ev as Extract<EngineEvent, { type: 'trade' }>),
      takerFee: (ev as Extract<EngineEvent, { type: 'trade' }>).takerFee + 1n,
    }),
  );
  const feeErr = projectError(fee.records);
  t.ok(
    ['PERSIST_BALANCE_MISMATCH', 'PERSIST_HOLD_MISMATCH'].includes(feeErr.code),
    `a wrong fee is caught (${feeErr.code})`,
  );

  const bal = tamper(
    s.records,
    (ev) => ev.type === 'balanceChanged' && ev.seq > 1000,
    (ev) => ({
      ...(ev as Extract<EngineEvent, { type: 'balanceChanged' }>),
      available: (ev as Extract<EngineEvent, { type: 'balanceChanged' }>).available + 1n,
    }),
  );
  const balErr = projectError(bal.records);
  t.equal(balErr.code, 'PERSIST_BALANCE_MISMATCH');
  t.equal(balErr.seq, bal.seq, 'names the balanceChanged that disagrees');

  const ghost = tamper(
    s.records,
    (ev) => ev.type === 'orderCanceled',
    (ev) => ({ ...(ev as OrderClosed), orderId: 987654321 }),
  );
  t.equal(projectError(ghost.records).code, 'PERSIST_UNKNOWN_ORDER');

  const overdraw = tamper(
    s.records,
    (ev) => ev.type === 'withdrawalPending',
    (ev) => ({ ...(ev as Extract<EngineEvent, { type: 'withdrawalPending' }>), amount: 10n ** 40n }),
  );
  t.equal(projectError(overdraw.records).code, 'PERSIST_LEDGER_OVERDRAFT');
});

t.test('average fill price is exact integer arithmetic', async (t) => {
  t.equal(avgFillPrice(0n, 0n, 8), null);
  // 3 trades: 1 BTC at 100.5 USDC and 2 BTC at 100 USDC (quote has 6 decimals, base 8).
  t.equal(avgFillPrice(300_500_000n, 300_000_000n, 8), '100166666.666666666666666666');
  t.equal(avgFillPrice(10n, 3n, 0), '3.333333333333333333');
});
