// The embedded PostgreSQL server's protocol helpers: message framing, the COPY FROM STDIN rewrite, and the
// ReadyForQuery tracking that decides when another client may use the session (chunks split anywhere).

import t from 'tap';
import {
  ReadyTracker,
  copyFromStdin,
  mentionsCopyFromStdin,
  queryMessage,
  queryText,
  splitMessages,
} from '../../exchange/embedded-pg/protocol.js';

function backend(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
}

t.test('COPY FROM STDIN is rewritten to read the blob device; other statements are left alone', async (t) => {
  t.same(copyFromStdin('COPY stage_orders (order_id, user_id, status) FROM STDIN'), {
    fromBlob: "COPY stage_orders (order_id, user_id, status) FROM '/dev/blob'",
    columns: 3,
  });
  t.same(copyFromStdin('copy t from stdin'), { fromBlob: "COPY t FROM '/dev/blob'", columns: 0 });
  t.equal(copyFromStdin('COPY t TO STDOUT'), null);
  t.equal(copyFromStdin("SELECT 'COPY t FROM STDIN'"), null, 'only a statement that is a COPY');
  t.ok(
    mentionsCopyFromStdin('SELECT 1; COPY t FROM STDIN'),
    'a COPY inside a multi-statement text is noticed (and refused)',
  );
  t.equal(queryText(queryMessage('SELECT 1')), 'SELECT 1', 'query text round trip');
});

t.test('messages are split whole, a partial one is kept', async (t) => {
  const a = queryMessage('SELECT 1');
  const b = queryMessage('SELECT 2');
  const both = Buffer.concat([a, b]);
  const { messages, rest } = splitMessages(both.subarray(0, a.length + 3));
  t.equal(messages.length, 1);
  t.equal(rest.length, 3, 'the partial second message waits for more bytes');
  t.throws(() => splitMessages(Buffer.from([0x51, 0, 0, 0, 1])), /bad message length/);
});

t.test('ReadyTracker: idle only when the last message is ReadyForQuery I, whatever the chunking', async (t) => {
  const complete = backend('C', Buffer.from('SELECT 1\0'));
  const readyIdle = backend('Z', Buffer.from('I'));
  const readyTx = backend('Z', Buffer.from('T'));
  // A data row whose bytes end like a ReadyForQuery must not fool it.
  const trickyRow = backend(
    'D',
    Buffer.concat([Buffer.from([0, 1, 0, 0, 0, 6]), Buffer.from([0x5a, 0, 0, 0, 5, 0x49])]),
  );
  const stream = Buffer.concat([complete, readyTx, trickyRow]);
  for (let cut = 0; cut <= stream.length; cut++) {
    const tr = new ReadyTracker();
    tr.feed(stream.subarray(0, cut));
    tr.feed(stream.subarray(cut));
    if (tr.lastReady !== null) t.fail(`cut at ${cut}: a data row was taken for ReadyForQuery`);
  }
  const tr = new ReadyTracker();
  tr.feed(Buffer.concat([complete, readyTx]));
  t.equal(tr.lastReady, 'T', 'in a transaction');
  const idle = Buffer.concat([complete, readyIdle]);
  tr.feed(idle.subarray(0, 7));
  t.equal(tr.lastReady, null, 'a new message started: not at a boundary');
  tr.feed(idle.subarray(7));
  t.equal(tr.lastReady, 'I', 'idle');
});
