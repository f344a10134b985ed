// Assets and markets are created by commands, so a replay rebuilds them like everything else.

import type { AddAsset, AddMarket } from './commands.js';
import type { RejectCode } from './codes.js';
import type { Engine } from './engine.js';
import { EVENT_VERSION } from './events.js';
import { BookSide } from './book-side.js';
import type { Market } from './order.js';
import { UINT256_MAX, assert } from './units.js';
import { ASSET_SYMBOL_PATTERN, MARKET_SYMBOL_PATTERN } from './formats.js';

const ASSET_SYMBOL = new RegExp(ASSET_SYMBOL_PATTERN);
const MARKET_SYMBOL = new RegExp(MARKET_SYMBOL_PATTERN);
export const FEE_BPS_MAX = 1000;

export function addAsset(e: Engine, cmd: AddAsset): void {
  const code = checkAsset(e, cmd);
  if (code !== null) return e.reject(code);
  e.assets[cmd.assetId] = { assetId: cmd.assetId, symbol: cmd.symbol, decimals: cmd.decimals };
  e.assetIdBySymbol.set(cmd.symbol, cmd.assetId);
  for (let i = e.feeBalances.length; i < e.assets.length; i++) {
    e.feeBalances.push(0n);
    e.depositedTotal.push(0n);
    e.withdrawnTotal.push(0n);
  }
  for (const account of e.accounts.values()) account.ensureAsset(cmd.assetId);
  e.out.push({
    v: EVENT_VERSION,
    seq: e.nextSeq(),
    cmdId: e.cmdId,
    timeMs: e.nowMs,
    type: 'assetAdded',
    assetId: cmd.assetId,
    symbol: cmd.symbol,
    decimals: cmd.decimals,
  });
  e.result('accepted', null, null);
}

function checkAsset(e: Engine, cmd: AddAsset): RejectCode | null {
  if (!Number.isSafeInteger(cmd.assetId) || cmd.assetId < 0) return 'ASSET_ID_INVALID';
  if (cmd.assetId >= e.limits.assetsMax) return 'CAPACITY_ASSETS';
  if (typeof cmd.symbol !== 'string' || !ASSET_SYMBOL.test(cmd.symbol)) return 'ASSET_SYMBOL_INVALID';
  if (!Number.isInteger(cmd.decimals) || cmd.decimals < 0 || cmd.decimals > 36) return 'ASSET_DECIMALS_INVALID';
  if (e.assets[cmd.assetId] !== undefined || e.assetIdBySymbol.has(cmd.symbol)) return 'ASSET_ALREADY_EXISTS';
  return null;
}

export function addMarket(e: Engine, cmd: AddMarket): void {
  const code = checkMarket(e, cmd);
  if (code !== null) return e.reject(code);
  const market = createMarket(e, cmd);
  e.markets[cmd.marketId] = market;
  e.marketIdBySymbol.set(cmd.symbol, cmd.marketId);
  e.out.push({
    v: EVENT_VERSION,
    seq: e.nextSeq(),
    cmdId: e.cmdId,
    timeMs: e.nowMs,
    type: 'marketAdded',
    marketId: cmd.marketId,
    symbol: cmd.symbol,
    baseAssetId: cmd.baseAssetId,
    quoteAssetId: cmd.quoteAssetId,
    tickSize: cmd.tickSize,
    lotSize: cmd.lotSize,
    minNotional: cmd.minNotional,
    makerFeeBps: cmd.makerFeeBps,
    takerFeeBps: cmd.takerFeeBps,
  });
  e.result('accepted', null, null);
}

/** Builds the market record with its derived fields; also used when restoring a snapshot. */
export function createMarket(e: Engine, cmd: Omit<AddMarket, 'v' | 'id' | 'timeMs' | 'type'>): Market {
  const baseDecimals = (e.assets[cmd.baseAssetId] as { decimals: number }).decimals;
  const quotePerTickLot = (cmd.tickSize * cmd.lotSize) / 10n ** BigInt(baseDecimals);
  assert(quotePerTickLot > 0n, 'a market is priced in whole quote units per lot and tick');
  return {
    marketId: cmd.marketId,
    symbol: cmd.symbol,
    baseAssetId: cmd.baseAssetId,
    quoteAssetId: cmd.quoteAssetId,
    tickSize: cmd.tickSize,
    lotSize: cmd.lotSize,
    minNotional: cmd.minNotional,
    makerFeeBps: cmd.makerFeeBps,
    takerFeeBps: cmd.takerFeeBps,
    quotePerTickLot,
    minNotionalTicksLots: Number((cmd.minNotional + quotePerTickLot - 1n) / quotePerTickLot),
    makerFeeBpsBig: BigInt(cmd.makerFeeBps),
    takerFeeBpsBig: BigInt(cmd.takerFeeBps),
    holdFeeBpsBig: BigInt(Math.max(cmd.makerFeeBps, cmd.takerFeeBps)),
    book: {
      bids: new BookSide(false),
      asks: new BookSide(true),
      buyStops: new BookSide(true, true),
      sellStops: new BookSide(false, true),
    },
    lastPriceTicks: 0,
    status: 'trading',
  };
}

function isPositiveUint256(x: unknown): x is bigint {
  return typeof x === 'bigint' && x > 0n && x <= UINT256_MAX;
}

function checkMarket(e: Engine, cmd: AddMarket): RejectCode | null {
  if (!Number.isSafeInteger(cmd.marketId) || cmd.marketId < 0) return 'MARKET_ID_INVALID';
  if (cmd.marketId >= e.limits.marketsMax) return 'CAPACITY_MARKETS';
  if (typeof cmd.symbol !== 'string' || !MARKET_SYMBOL.test(cmd.symbol)) return 'MARKET_SYMBOL_INVALID';
  if (e.markets[cmd.marketId] !== undefined || e.marketIdBySymbol.has(cmd.symbol)) return 'MARKET_ALREADY_EXISTS';
  const base = Number.isSafeInteger(cmd.baseAssetId) ? e.assets[cmd.baseAssetId] : undefined;
  const quote = Number.isSafeInteger(cmd.quoteAssetId) ? e.assets[cmd.quoteAssetId] : undefined;
  if (base === undefined || quote === undefined) return 'MARKET_ASSET_UNKNOWN';
  if (base === quote) return 'MARKET_SAME_ASSET';
  if (!isPositiveUint256(cmd.tickSize)) return 'MARKET_TICK_SIZE_INVALID';
  if (!isPositiveUint256(cmd.lotSize)) return 'MARKET_LOT_SIZE_INVALID';
  const product = cmd.tickSize * cmd.lotSize;
  const scale = 10n ** BigInt(base.decimals);
  if (product % scale !== 0n || product / scale === 0n) return 'MARKET_UNITS_INEXACT';
  if (typeof cmd.minNotional !== 'bigint' || cmd.minNotional < 0n || cmd.minNotional > UINT256_MAX)
    return 'MARKET_MIN_NOTIONAL_INVALID';
  for (const bps of [cmd.makerFeeBps, cmd.takerFeeBps]) {
    if (!Number.isInteger(bps) || bps < 0 || bps > FEE_BPS_MAX) return 'MARKET_FEE_INVALID';
  }
  return null;
}
