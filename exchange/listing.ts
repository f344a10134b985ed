// The demo tokens as engine assets and markets: the commands the embedded exchange appends once, on its first
// start (DevnetState.listed remembers it). Ids are fixed, so a re-send after a crash between the append and the
// remembering is answered COMMAND_DUPLICATE_ID (or ASSET/MARKET_ALREADY_EXISTS) and changes nothing.

import type { CommandInput } from '../engine/wire/codec.js';
import type { DevnetToken } from './devnet/provision.js';
import { COMMAND_VERSION } from '../engine/core/index.js';

export interface DemoMarket {
  readonly marketId: number;
  readonly symbol: string;
  readonly base: string;
  readonly quote: string;
  /** Price step in quote base units per whole base token. */
  readonly tickSize: bigint;
  /** Quantity step in base units. */
  readonly lotSize: bigint;
  readonly minNotional: bigint;
}

// tickSize x lotSize must be a whole number of quote units per lot (the engine checks it).
export const DEMO_MARKETS: readonly DemoMarket[] = [
  // 0.01 USDT per TKA, 0.0001 TKA lots, 1 USDT minimum.
  {
    marketId: 1,
    symbol: 'TKA-USDT',
    base: 'TKA',
    quote: 'USDT',
    tickSize: 10_000n,
    lotSize: 10n ** 14n,
    minNotional: 1_000_000n,
  },
  // 0.0001 USDT per TKB, 0.01 TKB lots, 1 USDT minimum.
  {
    marketId: 2,
    symbol: 'TKB-USDT',
    base: 'TKB',
    quote: 'USDT',
    tickSize: 100n,
    lotSize: 10_000n,
    minNotional: 1_000_000n,
  },
];

const MAKER_FEE_BPS = 10;
const TAKER_FEE_BPS = 20;

export function listingCommands(tokens: readonly DevnetToken[]): CommandInput[] {
  const bySymbol = new Map(tokens.map((t) => [t.symbol, t]));
  const assets: CommandInput[] = tokens.map((t) => ({
    v: COMMAND_VERSION,
    id: `embedded:addAsset:${t.symbol}`,
    type: 'addAsset',
    assetId: t.assetId,
    symbol: t.symbol,
    decimals: t.decimals,
  }));
  const markets: CommandInput[] = DEMO_MARKETS.map((m) => {
    const base = bySymbol.get(m.base);
    const quote = bySymbol.get(m.quote);
    if (base === undefined || quote === undefined)
      throw new Error(`market ${m.symbol} needs tokens ${m.base} and ${m.quote}`);
    return {
      v: COMMAND_VERSION,
      id: `embedded:addMarket:${m.symbol}`,
      type: 'addMarket',
      marketId: m.marketId,
      symbol: m.symbol,
      baseAssetId: base.assetId,
      quoteAssetId: quote.assetId,
      tickSize: m.tickSize,
      lotSize: m.lotSize,
      minNotional: m.minNotional,
      makerFeeBps: MAKER_FEE_BPS,
      takerFeeBps: TAKER_FEE_BPS,
    };
  });
  return [...assets, ...markets];
}
