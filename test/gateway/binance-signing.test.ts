// Binance's signing rules (gateway/binance/signing.ts): what the signature covers (query then body, exactly as
// received, without the signature parameter wherever it is), the timestamp window, recvWindow's bounds, and the
// WebSocket API's key-sorted payload, checked against Binance's own documented example.

import t from 'tap';
import { BinanceError } from '../../gateway/binance/errors.js';
import { parseParams } from '../../gateway/binance/params.js';
import { hmacHex, readSigned, signatureMatches, timestampAccepted, wsPayload } from '../../gateway/binance/signing.js';

// Binance's API documentation example (SIGNED endpoint security, HMAC keys).
const SECRET = 'NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j';
const QUERY =
  'symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559';
const SIGNATURE = 'c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71';

t.test("Binance's documented example verifies in the query, in the body, and split across both", async (t) => {
  t.equal(hmacHex(SECRET, QUERY), SIGNATURE);
  for (const [query, body] of [
    [`${QUERY}&signature=${SIGNATURE}`, ''],
    ['', `${QUERY}&signature=${SIGNATURE}`],
  ]) {
    const s = readSigned(query, body, parseParams(query, body));
    t.ok(signatureMatches(SECRET, s.payload, s.signature));
    t.equal(s.timestampMs, 1499827319559);
    t.equal(s.recvWindowMs, 5000);
  }
  // Binance's mixed example: the payload is the query followed by the body, with no separator.
  const query = 'symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC';
  const body = 'quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559';
  const s = readSigned(query, `${body}&signature=${hmacHex(SECRET, query + body)}`, parseParams(query, body));
  t.equal(s.payload, query + body);
  t.ok(signatureMatches(SECRET, s.payload, s.signature));
  t.notOk(signatureMatches(SECRET, `${s.payload}&x=1`, s.signature), 'a changed payload does not verify');
});

t.test('missing signature or timestamp, a recvWindow too large, duplicate parameters', async (t) => {
  const code = (f: () => unknown): number | null => {
    try {
      f();
      return null;
    } catch (err) {
      return err instanceof BinanceError ? err.code : null;
    }
  };
  t.equal(
    code(() => readSigned('timestamp=1', '', parseParams('timestamp=1', ''))),
    -1102,
  );
  t.equal(
    code(() => readSigned('a=1&signature=ab', '', parseParams('a=1', ''))),
    -1102,
  );
  t.equal(
    code(() =>
      readSigned('timestamp=1&recvWindow=60001&signature=ab', '', parseParams('timestamp=1&recvWindow=60001', '')),
    ),
    -1131,
  );
  t.equal(
    code(() => parseParams('a=1', 'a=2')),
    -1101,
  );
});

t.test('a timestamp at most recvWindow old and less than 1 s ahead', async (t) => {
  t.ok(timestampAccepted({ timestampMs: 10_000, recvWindowMs: 5000 }, 15_000));
  t.notOk(timestampAccepted({ timestampMs: 10_000, recvWindowMs: 5000 }, 15_001));
  t.ok(timestampAccepted({ timestampMs: 10_999, recvWindowMs: 5000 }, 10_000));
  t.notOk(timestampAccepted({ timestampMs: 11_000, recvWindowMs: 5000 }, 10_000));
});

t.test('the WebSocket API signs its params sorted by name, signature left out', async (t) => {
  t.equal(
    wsPayload({ timestamp: 5, apiKey: 'k_1', recvWindow: 100, signature: 'x' }),
    'apiKey=k_1&recvWindow=100&timestamp=5',
  );
});
