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

type Parsed = { ok: true; value: bigint } | { ok: false; error: GatewayError };

/** text in units of 10^decimals, at most `allowedDecimals` significant fractional digits, within uint256. */
function parseExact(
  text: string,
  decimals: number,
  allowedDecimals: number,
  tooPrecise: GatewayError,
  field: string,
): Parsed {
  if (!DECIMAL.test(text))
    return {
      ok: false,
      error: gatewayError('EX_DECIMAL_INVALID', `${field} must be a plain decimal string like "1850.25"`),
    };
  if (fractionDigits(text) > Math.min(allowedDecimals, decimals)) return { ok: false, error: tooPrecise };
  const value = parseUnits(text, decimals);
  if (value === null) return { ok: false, error: tooPrecise };
  if (value > UINT256_MAX)
    return { ok: false, error: gatewayError('EX_VALUE_OVERFLOW', `${field} exceeds 2^256-1 base units`) };
  return { ok: true, value };
}

function unwrap(p: Parsed): bigint {
  if (!p.ok) throw p.error;
  return p.value;
}

/** A limit or stop price in quote per whole base token -> quote base units (a multiple of the tick). */
export function priceToUnits(text: string, m: MarketInfo, field = 'price'): bigint {
  const tooPrecise = gatewayError(
    'EX_PRICE_TOO_PRECISE',
    `${field} has more decimals than the tick size ${formatUnits(m.tickSize, m.quoteDecimals)} allows`,
  );
  const value = unwrap(parseExact(text, m.quoteDecimals, stepDecimals(m.tickSize, m.quoteDecimals), tooPrecise, field));
  // Same decimals as the tick but off its grid (tick 0.05, price 1.03): the engine's own code, without a round trip.
  if (value % m.tickSize !== 0n)
    throw engineRejection(field === 'price' ? 'ORDER_PRICE_NOT_ON_TICK' : 'ORDER_STOP_PRICE_NOT_ON_TICK');
  return value;
}

/** A base quantity in whole base tokens -> base units (a multiple of the lot). */
export function qtyToUnits(text: string, m: MarketInfo): bigint {
  const tooPrecise = gatewayError(
    'EX_QTY_TOO_PRECISE',
    `quantity has more decimals than the lot size ${formatUnits(m.lotSize, m.baseDecimals)} allows`,
  );
  const value = unwrap(
    parseExact(text, m.baseDecimals, stepDecimals(m.lotSize, m.baseDecimals), tooPrecise, 'quantity'),
  );
  if (value % m.lotSize !== 0n) throw engineRejection('ORDER_QTY_NOT_ON_LOT');
  return value;
}

/** An amount of an asset in whole tokens -> base units (quote budgets, withdrawals). */
export function amountToUnits(text: string, decimals: number, field = 'amount'): bigint {
  const tooPrecise = gatewayError('EX_AMOUNT_TOO_PRECISE', `${field} has more than ${decimals} decimals`);
  return unwrap(parseExact(text, decimals, decimals, tooPrecise, field));
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
