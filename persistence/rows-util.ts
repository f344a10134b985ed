// Small pure helpers around rows.

import type { Position, RowSets } from './rows.js';

export function emptyRowSets(previous: Position): RowSets {
  return {
    users: [],
    assets: [],
    markets: [],
    marketStatuses: [],
    userFrozen: [],
    newOrders: [],
    changedOrders: [],
    rejections: [],
    trades: [],
    balances: [],
    deposits: [],
    withdrawals: [],
    entries: [],
    ledgerBalances: [],
    position: previous,
    previous,
    events: 0,
  };
}

const AVG_PRICE_DECIMALS = 18;
const AVG_PRICE_SCALE = 10n ** BigInt(AVG_PRICE_DECIMALS);
/** 10^decimals * AVG_PRICE_SCALE per asset decimals (0..36, the schema's range): computed once, used per touched order. */
const AVG_PRICE_FACTORS = Array.from({ length: 37 }, (_, d) => 10n ** BigInt(d) * AVG_PRICE_SCALE);

/**
 * Average fill price in quote base units per whole base token (the unit of order prices), as a decimal string
 * with 18 decimals, rounded down: exact integers in, no floating point anywhere.
 */
export function avgFillPrice(filledQuote: bigint, filledBase: bigint, baseDecimals: number): string | null {
  if (filledBase === 0n) return null;
  const factor = AVG_PRICE_FACTORS[baseDecimals] ?? 10n ** BigInt(baseDecimals) * AVG_PRICE_SCALE;
  const scaled = (filledQuote * factor) / filledBase;
  const digits = scaled.toString().padStart(AVG_PRICE_DECIMALS + 1, '0');
  return `${digits.slice(0, -AVG_PRICE_DECIMALS)}.${digits.slice(-AVG_PRICE_DECIMALS)}`;
}
