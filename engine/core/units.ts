// Integer helpers. Money is bigint base units at the edges; the book works in safe-integer ticks and lots.

export const UINT256_MAX = (1n << 256n) - 1n;
export const SAFE_MAX_BIG = BigInt(Number.MAX_SAFE_INTEGER);
export const BPS_DENOMINATOR = 10_000n;

/** floor(amount * bps / 10000): fees round down per fill, so the sum of fills never exceeds a hold taken on the total. */
export function feeOf(amount: bigint, bps: bigint): bigint {
  return bps === 0n ? 0n : (amount * bps) / BPS_DENOMINATOR;
}

export function isUint256(x: unknown): x is bigint {
  return typeof x === 'bigint' && x >= 0n && x <= UINT256_MAX;
}

export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`invariant violated: ${message}`);
}

export function isPositiveSafeInt(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x > 0;
}
