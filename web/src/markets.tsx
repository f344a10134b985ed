import { useEffect, useState } from 'preact/hooks';
import { api } from './api.js';
import { markets } from './data.js';
import { decimalsOf, fmt, percent } from './decimal.js';
import { Link } from './router.js';
import { useStore } from './store.js';
import type { Ticker } from './types.js';

/** How often the list reads the 24 h figures again. */
const TICKER_REFRESH_MS = 10_000;

export function MarketsPage() {
  const list = useStore(markets);
  const [tickers, setTickers] = useState<Record<string, Ticker>>({});
  useEffect(() => {
    let live = true;
    const load = async () => {
      const all = await Promise.all(
        list.map((m) => api<Ticker>('GET', `/v1/markets/${m.symbol}/ticker`).catch(() => null)),
      );
      if (live) setTickers(Object.fromEntries(all.filter((t): t is Ticker => t !== null).map((t) => [t.symbol, t])));
    };
    void load();
    const timer = setInterval(() => void load(), TICKER_REFRESH_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [list]);
  return (
    <section class="panel">
      <h1>Markets</h1>
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th>Market</th>
              <th class="num">Last price</th>
              <th class="num">24 h change</th>
              <th class="num">24 h volume</th>
              <th class="num">24 h quote volume</th>
            </tr>
          </thead>
          <tbody>
            {list.map((m) => {
              const t = tickers[m.symbol];
              const pd = decimalsOf(m.tickSize);
              const change =
                t?.priceChange !== null && t?.priceChange !== undefined && t.open !== null
                  ? percent(t.priceChange, t.open)
                  : '—';
              return (
                <tr key={m.symbol}>
                  <td>
                    <Link href={`/trade/${m.symbol}`}>
                      {m.baseAsset}/{m.quoteAsset}
                    </Link>
                  </td>
                  <td class="num">{fmt(t?.lastPrice, pd)}</td>
                  <td class={`num ${change.startsWith('-') ? 'down' : change.startsWith('+') ? 'up' : ''}`}>
                    {change}
                  </td>
                  <td class="num">{t ? `${fmt(t.volume, decimalsOf(m.lotSize))} ${m.baseAsset}` : '—'}</td>
                  <td class="num">{t ? `${fmt(t.quoteVolume, pd)} ${m.quoteAsset}` : '—'}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
