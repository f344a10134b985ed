// Decimal strings in market units <-> base units: exact, never rounded; too many decimals, off-grid values and
// values beyond uint256 are refused with their codes. Signing and the xpub derivation, also pure.

import t from 'tap';
import { HdKeys, XpubDepositKeys, parseXpub } from '../../chain/hd.js';
import { canonicalString, sign, signatureMatches, timestampInWindow } from '../../gateway/auth/signing.js';
import { open, seal } from '../../gateway/auth/secret-box.js';
import { hashPassword, verifyPassword } from '../../gateway/auth/passwords.js';
import { GatewayError } from '../../gateway/errors.js';
import type { MarketInfo } from '../../gateway/units.js';
import {
  amountToUnits,
  formatLots,
  formatPriceTicks,
  priceToUnits,
  qtyToUnits,
  stepDecimals,
} from '../../gateway/units.js';
import { isChecksummedAddress } from '../../gateway/routes/wallet.js';
import { TEST_MNEMONIC } from './support.js';

const M: MarketInfo = {
  marketId: 1,
  symbol: 'ETH-USDT',
  baseAssetId: 1,
  quoteAssetId: 2,
  baseSymbol: 'ETH',
  quoteSymbol: 'USDT',
  baseDecimals: 18,
  quoteDecimals: 6,
  tickSize: 10_000n,
  lotSize: 10n ** 14n,
  minNotional: 1_000_000n,
  makerFeeBps: 10,
  takerFeeBps: 20,
};

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    if (err instanceof GatewayError) return err.code;
    throw err;
  }
  return 'none';
}

t.test('prices and quantities convert exactly', async (t) => {
  t.equal(priceToUnits('1850.25', M), 1_850_250_000n);
  t.equal(priceToUnits('1850.250000', M), 1_850_250_000n, 'trailing zeros are not precision');
  t.equal(qtyToUnits('1.5', M), 15n * 10n ** 17n);
  t.equal(qtyToUnits('0.0001', M), 10n ** 14n);
  t.equal(amountToUnits('0.000001', 6), 1n);
  t.equal(formatPriceTicks(185025, M), '1850.25');
  t.equal(formatLots(15000, M), '1.5');
  t.equal(stepDecimals(10_000n, 6), 2);
  t.equal(stepDecimals(5n * 10n ** 6n, 6), 0);
});

t.test(
  'more decimals than the step, malformed, off-grid and beyond uint256 are refused with their codes',
  async (t) => {
    t.equal(
      codeOf(() => priceToUnits('1850.251', M)),
      'EX_PRICE_TOO_PRECISE',
    );
    t.equal(
      codeOf(() => priceToUnits('1850.251', M, 'stopPrice')),
      'EX_PRICE_TOO_PRECISE',
    );
    t.equal(
      codeOf(() => qtyToUnits('0.00001', M)),
      'EX_QTY_TOO_PRECISE',
    );
    t.equal(
      codeOf(() => amountToUnits('0.0000001', 6)),
      'EX_AMOUNT_TOO_PRECISE',
    );
    for (const bad of ['', '-1', '+1', '1e3', '01', '1.', '.5', ' 1', '1,5', '0x10', 'NaN'])
      t.equal(
        codeOf(() => priceToUnits(bad, M)),
        'EX_DECIMAL_INVALID',
        JSON.stringify(bad),
      );
    t.equal(
      codeOf(() => amountToUnits('1' + '0'.repeat(78), 0)),
      'EX_VALUE_OVERFLOW',
    );
    t.equal(amountToUnits(((1n << 256n) - 1n).toString(), 0), (1n << 256n) - 1n, 'uint256 max itself fits');
    const coarse = { ...M, tickSize: 50_000n };
    t.equal(
      codeOf(() => priceToUnits('1.03', coarse)),
      'ORDER_PRICE_NOT_ON_TICK',
      "the right decimals off the grid: the engine's code",
    );
  },
);

t.test('request signatures: canonical string, match, window', async (t) => {
  const parts = { timestampMs: '1700000000000', method: 'post', url: '/v1/orders?a=1&b=2', body: '{"x":1}' };
  t.match(canonicalString(parts), /^1700000000000\nPOST\n\/v1\/orders\na=1&b=2\n[0-9a-f]{64}$/);
  const sig = sign('s3cret', parts);
  t.ok(signatureMatches('s3cret', parts, sig));
  t.notOk(signatureMatches('other', parts, sig), 'another secret');
  t.notOk(signatureMatches('s3cret', { ...parts, body: '{"x":2}' }, sig), 'another body');
  t.notOk(signatureMatches('s3cret', { ...parts, url: '/v1/orders?a=1&b=3' }, sig), 'another query');
  t.notOk(signatureMatches('s3cret', parts, sig.toUpperCase()), 'upper-case hex is not the format');
  t.ok(timestampInWindow('1000', 31_000, 30_000));
  t.notOk(timestampInWindow('1000', 31_001, 30_000));
  t.notOk(timestampInWindow('1e3', 1000, 30_000));
});

t.test('secret box: opens with its key and key id only; passwords verify', async (t) => {
  const key = Buffer.alloc(32, 1);
  const box = seal(key, Buffer.from('secret'), 'k_1');
  t.equal(open(key, box, 'k_1')?.toString(), 'secret');
  t.equal(open(key, box, 'k_2'), null, 'moved to another key id');
  t.equal(open(Buffer.alloc(32, 2), box, 'k_1'), null, 'another server key');
  const tampered = Buffer.from(box);
  tampered[tampered.length - 1] ^= 1;
  t.equal(open(key, tampered, 'k_1'), null, 'tampered');
  const h = await hashPassword('correct horse', 1024);
  t.ok(await verifyPassword('correct horse', h));
  t.notOk(await verifyPassword('correct horsf', h));
  t.not(h, await hashPassword('correct horse', 1024), 'a salt per hash');
});

t.test(
  'deposit addresses from the xpub equal those from the mnemonic; a private or wrong-level key is refused',
  async (t) => {
    const keys = new HdKeys(TEST_MNEMONIC);
    const pub = new XpubDepositKeys(keys.depositXpub());
    for (const i of [0, 1, 2, 1000, 2 ** 31 - 1]) t.equal(pub.depositAddress(i), keys.depositAddress(i), `index ${i}`);
    t.equal(
      pub.depositAddress(0),
      '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
      'the well-known first address of this mnemonic',
    );
    t.throws(() => parseXpub('xpub-nonsense'));
    t.throws(() => parseXpub(keys.depositXpub().slice(0, -1) + 'x'));
    t.ok(isChecksummedAddress('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'));
    t.notOk(isChecksummedAddress('0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266'), 'lower case has no checksum');
    t.notOk(isChecksummedAddress('0xF39Fd6e51aad88F6F4ce6aB8827279cffFb92266'), 'a wrong checksum');
  },
);
