// Markets and assets as the persistence tables hold them, cached in memory: every order needs its market's
// decimals, tick and lot. Markets never change once added, so the cache only grows; an unknown id triggers a
// reload (at most one per RELOAD_MIN_INTERVAL_MS, so unknown ids cannot hammer the database).

import type { Sql } from 'postgres';
import type { AssetInfo, MarketInfo } from './units.js';

const RELOAD_MIN_INTERVAL_MS = 1000;

export class MarketCache {
  private markets = new Map<number, MarketInfo>();
  private assets = new Map<number, AssetInfo>();
  private assetsBySymbol = new Map<string, AssetInfo>();
  private lastLoadMs = -Infinity;
  private loading: Promise<void> | null = null;

  constructor(private readonly sql: Sql) {}

  async market(marketId: number): Promise<MarketInfo | null> {
    const m = this.markets.get(marketId);
    if (m !== undefined) return m;
    await this.reload();
    return this.markets.get(marketId) ?? null;
  }

  /** By symbol ("USDT") or numeric id ("2"). */
  async asset(ref: string): Promise<AssetInfo | null> {
    const find = (): AssetInfo | undefined =>
      /^[0-9]{1,9}$/.test(ref) ? this.assets.get(Number(ref)) : this.assetsBySymbol.get(ref.toUpperCase());
    const a = find();
    if (a !== undefined) return a;
    await this.reload();
    return find() ?? null;
  }

  async assetById(assetId: number): Promise<AssetInfo | null> {
    return this.asset(String(assetId));
  }

  /** Markets known after a reload (for listing). */
  async all(): Promise<MarketInfo[]> {
    await this.reload();
    return [...this.markets.values()].sort((a, b) => a.marketId - b.marketId);
  }

  private reload(): Promise<void> {
    if (this.loading !== null) return this.loading;
    if (performance.now() - this.lastLoadMs < RELOAD_MIN_INTERVAL_MS) return Promise.resolve();
    this.loading = this.load().finally(() => {
      this.lastLoadMs = performance.now();
      this.loading = null;
    });
    return this.loading;
  }

  private async load(): Promise<void> {
    const assets = await this.sql<
      { asset_id: number; symbol: string; decimals: number }[]
    >`SELECT asset_id, symbol, decimals FROM assets`;
    const markets = await this.sql<
      {
        market_id: number;
        symbol: string;
        base_asset_id: number;
        quote_asset_id: number;
        tick_size: string;
        lot_size: string;
        min_notional: string;
        maker_fee_bps: number;
        taker_fee_bps: number;
      }[]
    >`SELECT market_id, symbol, base_asset_id, quote_asset_id, tick_size::text, lot_size::text, min_notional::text, maker_fee_bps, taker_fee_bps FROM markets`;
    const assetMap = new Map(
      assets.map((a) => [a.asset_id, { assetId: a.asset_id, symbol: a.symbol, decimals: a.decimals }]),
    );
    const marketMap = new Map<number, MarketInfo>();
    for (const m of markets) {
      const base = assetMap.get(m.base_asset_id);
      const quote = assetMap.get(m.quote_asset_id);
      if (base === undefined || quote === undefined) continue; // the table's foreign keys make this impossible
      marketMap.set(m.market_id, {
        marketId: m.market_id,
        symbol: m.symbol,
        baseAssetId: m.base_asset_id,
        quoteAssetId: m.quote_asset_id,
        baseSymbol: base.symbol,
        quoteSymbol: quote.symbol,
        baseDecimals: base.decimals,
        quoteDecimals: quote.decimals,
        tickSize: BigInt(m.tick_size),
        lotSize: BigInt(m.lot_size),
        minNotional: BigInt(m.min_notional),
        makerFeeBps: m.maker_fee_bps,
        takerFeeBps: m.taker_fee_bps,
      });
    }
    this.assets = assetMap;
    this.assetsBySymbol = new Map(assets.map((a) => [a.symbol, assetMap.get(a.asset_id) as AssetInfo]));
    this.markets = marketMap;
  }
}
