// Command ids of the chain service: deterministic (a re-send is a duplicate the engine refuses) and always valid
// engine command ids, even for the longest withdrawal id the engine accepts.

import t from 'tap';
import { chainCommandId, chainCommandKind } from '../../chain/engine-io.js';
import { decodeCommand, encodeCommand } from '../../engine/wire/codec.js';

t.test('a short key is readable in the id', async (t) => {
  t.equal(chainCommandId('deposit', '0xab:3'), 'deposit:0xab:3');
  t.equal(chainCommandId('withdrawal-complete', 'w-1'), 'withdrawal-complete:w-1');
});

t.test('a key too long for the engine is hashed, deterministically, and the command encodes', async (t) => {
  const withdrawalId = 'w-'.padEnd(128, 'x');
  const id = chainCommandId('withdrawal-fail', withdrawalId);
  t.equal(id, chainCommandId('withdrawal-fail', withdrawalId), 'same key, same id: a re-send is a duplicate');
  t.match(id, /^withdrawal-fail:sha256:[0-9a-f]{64}$/);
  t.not(id, chainCommandId('withdrawal-complete', withdrawalId), 'completion and failure of one withdrawal differ');
  t.not(id, chainCommandId('withdrawal-fail', withdrawalId.slice(0, -1) + 'y'), 'different keys, different ids');
  const text = encodeCommand({ v: 1, type: 'failWithdrawal', id, withdrawalId, reason: 'WITHDRAWAL_BAD_ADDRESS' });
  const decoded = decodeCommand(text, 1);
  t.equal(decoded.ok, true, 'the engine accepts the command id');
  t.equal(chainCommandKind(id), 'withdrawal-fail');
});

t.test('ids the chain service did not make have no kind', async (t) => {
  t.equal(chainCommandKind('wd-1'), null);
  t.equal(chainCommandKind('deposit'), null);
  t.equal(chainCommandKind(chainCommandId('deposit', '0x1:0')), 'deposit');
});
