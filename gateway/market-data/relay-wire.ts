// What consuming instances publish on Redis for relay instances (relay.ts), as JSON. Depth travels in ticks and
// lots (the relay keeps a mirror book); trades and user messages travel as the exact text the WebSocket sends,
// so a relay forwards them without knowing how to format them. Pure.

import type { AssetInfo, MarketInfo } from '../units.js';
import type { DepthDelta, DepthSnapshot, LevelTuple } from './depth-book.js';

export const RELAY_WIRE_VERSION = 1;

export interface RelayRecord {
  readonly seq: number;
  readonly depth: DepthDelta[];
  /** [channel, text] */
  readonly trades: [string, string][];
  /** [userId, text] */
  readonly user: [number, string][];
  readonly markets: MarketInfo[];
  readonly assets: AssetInfo[];
}

export interface RelayMeta {
  readonly markets: MarketInfo[];
  readonly assets: AssetInfo[];
}

type JsonMarket = Omit<MarketInfo, 'tickSize' | 'lotSize' | 'minNotional'> & {
  tickSize: string;
  lotSize: string;
  minNotional: string;
};

const marketToJson = (m: MarketInfo): JsonMarket => ({
  ...m,
  tickSize: m.tickSize.toString(),
  lotSize: m.lotSize.toString(),
  minNotional: m.minNotional.toString(),
});
const marketFromJson = (m: JsonMarket): MarketInfo => ({
  ...m,
  tickSize: BigInt(m.tickSize),
  lotSize: BigInt(m.lotSize),
  minNotional: BigInt(m.minNotional),
});

export function encodeRecords(records: readonly RelayRecord[]): string {
  return JSON.stringify({
    v: RELAY_WIRE_VERSION,
    // Almost no record adds a market: those go as they are (a copy that begins with a spread is slow in V8).
    records: records.map((r) => (r.markets.length === 0 ? r : { ...r, markets: r.markets.map(marketToJson) })),
  });
}

/** Throws on anything that is not a batch of this version (a relay logs it and drops the message). */
export function decodeRecords(text: string): RelayRecord[] {
  const obj = JSON.parse(text) as { v?: unknown; records?: unknown };
  if (obj.v !== RELAY_WIRE_VERSION || !Array.isArray(obj.records)) throw new Error('not a relay batch of version 1');
  return (obj.records as (RelayRecord & { markets: JsonMarket[] })[]).map((r) => {
    if (!Number.isSafeInteger(r.seq) || !Array.isArray(r.depth) || !Array.isArray(r.trades) || !Array.isArray(r.user))
      throw new Error('malformed relay record');
    return { ...r, markets: r.markets.map(marketFromJson) };
  });
}

export function encodeMeta(meta: RelayMeta): string {
  return JSON.stringify({ v: RELAY_WIRE_VERSION, markets: meta.markets.map(marketToJson), assets: meta.assets });
}

export function decodeMeta(text: string): RelayMeta {
  const obj = JSON.parse(text) as { v?: unknown; markets: JsonMarket[]; assets: AssetInfo[] };
  if (obj.v !== RELAY_WIRE_VERSION) throw new Error('not relay meta of version 1');
  return { markets: obj.markets.map(marketFromJson), assets: obj.assets };
}

export function encodeSnapshot(s: DepthSnapshot): string {
  return JSON.stringify({ v: RELAY_WIRE_VERSION, ...s });
}

export function decodeSnapshot(text: string): DepthSnapshot {
  const obj = JSON.parse(text) as {
    v?: unknown;
    marketId: number;
    seq: number;
    bids: LevelTuple[];
    asks: LevelTuple[];
  };
  if (obj.v !== RELAY_WIRE_VERSION || !Number.isSafeInteger(obj.seq))
    throw new Error('not a relay snapshot of version 1');
  return { marketId: obj.marketId, seq: obj.seq, bids: obj.bids, asks: obj.asks };
}

export const relayKeys = (prefix: string) => ({
  channel: `${prefix}md:records`,
  meta: `${prefix}md:meta`,
  snapshot: (marketId: number) => `${prefix}md:snap:${marketId}`,
});
