// Prices and quantities between the API's decimal strings in market units ("1850.25" quote per whole base token,
// "0.5" base tokens) and the engine's integer base units. Pure and exact: a value with more decimals than the
// market's tick or lot (or the asset) allows is refused with its code, never rounded.

import { formatUnits, parseUnits } from '../engine/core/index.js';
import { UINT256_MAX } from '../engine/core/index.js';
import { engineRejection, gatewayError } from './errors.js';
import type { GatewayError } from './errors.js';

export interface MarketInfo {
  readonly marketId: number;
  readonly symbol: string;
  readonly baseAssetId: number;
  readonly quoteAssetId: number;
  readonly baseSymbol: string;
  readonly quoteSymbol: string;
  readonly baseDecimals: number;
  readonly quoteDecimals: number;
  /** Quote base units per whole base token. */
  readonly tickSize: bigint;
  /** Base units. */
  readonly lotSize: bigint;
  readonly minNotional: bigint;
  readonly makerFeeBps: number;
  readonly takerFeeBps: number;
}

export interface AssetInfo {
  readonly assetId: number;
  readonly symbol: string;
  readonly decimals: number;
}

/** A plain non-negative decimal: no sign, exponent, spaces or leading zeros. The schema checks it too. */
export const DECIMAL_PATTERN = '^(0|[1-9][0-9]{0,79})(\\.[0-9]{1,80})?$';
export const DECIMAL_MAX_LENGTH = 161;
const DECIMAL = new RegExp(DECIMAL_PATTERN);

/** Number of fractional digits `step` has when written in units of 10^-decimals (0.01 -> 2). */
export function stepDecimals(step: bigint, decimals: number): number {
  const text = formatUnits(step, decimals);
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.length - dot - 1;
}

function fractionDigits(text: string): number {
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.slice(dot + 1).replace(/0+$/, '').length;
}

/** Why a value was refused: built only then (an error captures a stack trace; the normal path makes none). */
type Refusal = 'invalid' | 'tooPrecise' | 'overflow';
type Parsed = { ok: true; value: bigint } | { ok: false; refusal: Refusal };

/** text in units of 10^decimals, at most `allowedDecimals` significant fractional digits, within uint256. */
function parseExact(text: string, decimals: number, allowedDecimals: number): Parsed {
  if (!DECIMAL.test(text)) return { ok: false, refusal: 'invalid' };
  if (fractionDigits(text) > Math.min(allowedDecimals, decimals)) return { ok: false, refusal: 'tooPrecise' };
  const value = parseUnits(text, decimals);
  if (value === null) return { ok: false, refusal: 'tooPrecise' };
  if (value > UINT256_MAX) return { ok: false, refusal: 'overflow' };
  return { ok: true, value };
}

/** The value, or the refusal thrown as its error; `tooPrecise` names the field's own precision code. */
function unwrap(p: Parsed, field: string, tooPrecise: () => GatewayError): bigint {
  if (p.ok) return p.value;
  if (p.refusal === 'invalid')
    throw gatewayError('EX_DECIMAL_INVALID', `${field} must be a plain decimal string like "1850.25"`);
  if (p.refusal === 'overflow') throw gatewayError('EX_VALUE_OVERFLOW', `${field} exceeds 2^256-1 base units`);
  throw tooPrecise();
}

/** A limit or stop price in quote per whole base token -> quote base units (a multiple of the tick). */
export function priceToUnits(text: string, m: MarketInfo, field = 'price'): bigint {
  const parsed = parseExact(text, m.quoteDecimals, stepDecimals(m.tickSize, m.quoteDecimals));
  const value = unwrap(parsed, field, () =>
    gatewayError(
      'EX_PRICE_TOO_PRECISE',
      `${field} has more decimals than the tick size ${formatUnits(m.tickSize, m.quoteDecimals)} allows`,
    ),
  );
  // Same decimals as the tick but off its grid (tick 0.05, price 1.03): the engine's own code, without a round trip.
  if (value % m.tickSize !== 0n)
    throw engineRejection(field === 'price' ? 'ORDER_PRICE_NOT_ON_TICK' : 'ORDER_STOP_PRICE_NOT_ON_TICK');
  return value;
}

/** A base quantity in whole base tokens -> base units (a multiple of the lot). */
export function qtyToUnits(text: string, m: MarketInfo): bigint {
  const parsed = parseExact(text, m.baseDecimals, stepDecimals(m.lotSize, m.baseDecimals));
  const value = unwrap(parsed, 'quantity', () =>
    gatewayError(
      'EX_QTY_TOO_PRECISE',
      `quantity has more decimals than the lot size ${formatUnits(m.lotSize, m.baseDecimals)} allows`,
    ),
  );
  if (value % m.lotSize !== 0n) throw engineRejection('ORDER_QTY_NOT_ON_LOT');
  return value;
}

/** An amount of an asset in whole tokens -> base units (quote budgets, withdrawals). */
export function amountToUnits(text: string, decimals: number, field = 'amount'): bigint {
  return unwrap(parseExact(text, decimals, decimals), field, () =>
    gatewayError('EX_AMOUNT_TOO_PRECISE', `${field} has more than ${decimals} decimals`),
  );
}

export const formatPriceTicks = (ticks: number | bigint, m: MarketInfo): string =>
  formatUnits(BigInt(ticks) * m.tickSize, m.quoteDecimals);
export const formatLots = (lots: number | bigint, m: MarketInfo): string =>
  formatUnits(BigInt(lots) * m.lotSize, m.baseDecimals);
export const formatBase = (amount: bigint | string, m: MarketInfo): string =>
  formatUnits(BigInt(amount), m.baseDecimals);
export const formatQuote = (amount: bigint | string, m: MarketInfo): string =>
  formatUnits(BigInt(amount), m.quoteDecimals);
export { formatUnits };
