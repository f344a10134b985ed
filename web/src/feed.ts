// A market's live data for the trade page: the depth book (snapshot + chained deltas, resynchronised on a gap)
// and the recent trades (REST first, then the stream), re-rendering at most once per animation frame however
// fast updates come.

import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from './api.js';
import { DepthBook } from './book.js';
import type { Level, Market, MarketTrade } from './types.js';
import { stream } from './ws.js';

const TRADES_SHOWN = 50;

export interface Feed {
  book: DepthBook | null;
  trades: MarketTrade[];
  /** Moves on every change (for components that draw from the book). */
  version: number;
}

export function useFeed(m: Market | undefined): Feed {
  const [version, setVersion] = useState(0);
  const [trades, setTrades] = useState<MarketTrade[]>([]);
  const bookRef = useRef<DepthBook | null>(null);
  useEffect(() => {
    if (m === undefined) return;
    let frame = 0;
    let live = true;
    const changed = () => {
      if (frame === 0)
        frame = requestAnimationFrame(() => {
          frame = 0;
          if (live) setVersion((v) => v + 1);
        });
    };
    const book = new DepthBook(m, changed, () => stream.resubscribe(`depth:${m.symbol}`));
    bookRef.current = book;
    const offDepth = stream.subscribe(`depth:${m.symbol}`, (msg) => {
      if (msg.type === 'depthSnapshot') book.snapshot(msg.seq as number, msg.bids as Level[], msg.asks as Level[]);
      else if (msg.type === 'depth')
        book.delta(msg as unknown as { prevSeq: number; seq: number; bids: Level[]; asks: Level[] });
      else if (msg.type === 'disconnected' || (msg.type === 'error' && msg.code === 'MARKET_DATA_WS_RESYNC'))
        book.reset();
    });
    const loadTrades = () =>
      api<{ trades: MarketTrade[] }>('GET', `/v1/markets/${m.symbol}/trades?limit=${TRADES_SHOWN}`)
        .then((r) => live && setTrades(r.trades))
        .catch(() => undefined);
    void loadTrades();
    const offTrades = stream.subscribe(`trades:${m.symbol}`, (msg) => {
      if (msg.type === 'disconnected') return void setTimeout(loadTrades, 1000);
      if (msg.type !== 'trade') return;
      const t = msg as unknown as MarketTrade;
      setTrades((prev) => (prev.some((x) => x.tradeId === t.tradeId) ? prev : [t, ...prev].slice(0, TRADES_SHOWN)));
    });
    return () => {
      live = false;
      cancelAnimationFrame(frame);
      offDepth();
      offTrades();
      bookRef.current = null;
    };
  }, [m?.symbol]);
  return { book: bookRef.current, trades, version };
}
