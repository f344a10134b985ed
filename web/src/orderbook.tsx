import { useState } from 'preact/hooks';
import type { DepthBook } from './book.js';
import { compare, decimalsOf, fmt } from './decimal.js';
import type { Level, Market, MarketTrade } from './types.js';

const LEVELS_SHOWN = 12;
const GROUPS = [1n, 10n, 100n, 1000n];

function Rows(props: {
  levels: Level[];
  side: 'bid' | 'ask';
  market: Market;
  pick: (price: string) => void;
  max: string;
}) {
  const pd = decimalsOf(props.market.tickSize);
  const qd = decimalsOf(props.market.lotSize);
  return (
    <>
      {props.levels.map(([p, q]) => (
        <li key={p}>
          <button
            type="button"
            class={`level ${props.side}`}
            onClick={() => props.pick(p)}
            aria-label={`${props.side === 'bid' ? 'Bid' : 'Ask'} ${fmt(p, pd)}, quantity ${fmt(q, qd)}: use this price`}
          >
            <span class="bar" data-width={barWidth(q, props.max)} />
            <span class="price">{fmt(p, pd)}</span>
            <span class="qty">{fmt(q, qd)}</span>
          </button>
        </li>
      ))}
    </>
  );
}

/** Width class of a depth bar in tenths (CSS draws it: no inline style under the page's CSP). */
function barWidth(q: string, max: string): string {
  if (compare(max, '0') <= 0) return '0';
  for (let tenth = 10; tenth > 0; tenth--) {
    if (compare(q, scaleTenth(max, tenth - 1)) > 0) return String(tenth);
  }
  return '1';
}

function scaleTenth(max: string, tenth: number): string {
  // max x tenth / 10, exactly, as a decimal string.
  const [w, f = ''] = max.split('.');
  const units = BigInt(w + f) * BigInt(tenth);
  const s = units.toString().padStart(f.length + 2, '0');
  const scale = f.length + 1;
  return `${s.slice(0, s.length - scale)}.${s.slice(s.length - scale)}`;
}

export function OrderBook(props: {
  market: Market;
  book: DepthBook | null;
  trades: MarketTrade[];
  pick: (price: string) => void;
}) {
  const [group, setGroup] = useState(0);
  const { market, book } = props;
  const g = GROUPS[group];
  const asks = book === null ? [] : book.levels('asks', g, LEVELS_SHOWN);
  const bids = book === null ? [] : book.levels('bids', g, LEVELS_SHOWN);
  const max = [...asks, ...bids].reduce((acc, [, q]) => (compare(q, acc) > 0 ? q : acc), '0');
  const last = props.trades[0];
  const pd = decimalsOf(market.tickSize);
  return (
    <section class="panel book" aria-label="Order book">
      <div class="panel-head">
        <h2>Order book</h2>
        <label class="small">
          Group
          <select value={group} onChange={(e) => setGroup(Number(e.currentTarget.value))}>
            {GROUPS.map((x, i) => (
              <option key={String(x)} value={i}>
                {fmt(scaleStep(market.tickSize, x))}
              </option>
            ))}
          </select>
        </label>
        <span class="muted small" data-testid="book-state">
          {book?.state === 'live' ? '' : book?.state === 'resyncing' ? 'resynchronising…' : 'loading…'}
        </span>
      </div>
      <div class="levels-head">
        <span>Price ({market.quoteAsset})</span>
        <span>Quantity ({market.baseAsset})</span>
      </div>
      <ol class="levels asks" data-testid="asks">
        <Rows levels={[...asks].reverse()} side="ask" market={market} pick={props.pick} max={max} />
      </ol>
      <div class="spread" data-testid="last-price">
        {last ? (
          <span class={last.takerSide === 'buy' ? 'up' : 'down'}>{fmt(last.price, pd)}</span>
        ) : (
          <span class="muted">no trades yet</span>
        )}
      </div>
      <ol class="levels bids" data-testid="bids">
        <Rows levels={bids} side="bid" market={market} pick={props.pick} max={max} />
      </ol>
    </section>
  );
}

function scaleStep(tick: string, times: bigint): string {
  const [w, f = ''] = tick.split('.');
  const units = BigInt(w + f) * times;
  const s = units.toString().padStart(f.length + 1, '0');
  const whole = s.slice(0, s.length - f.length);
  const frac = f.length === 0 ? '' : s.slice(s.length - f.length).replace(/0+$/, '');
  return frac === '' ? whole : `${whole}.${frac}`;
}

export function RecentTrades(props: { market: Market; trades: MarketTrade[] }) {
  const pd = decimalsOf(props.market.tickSize);
  const qd = decimalsOf(props.market.lotSize);
  return (
    <section class="panel trades" aria-label="Recent trades">
      <h2>Recent trades</h2>
      <div class="scroll short">
        <table data-testid="recent-trades">
          <thead>
            <tr>
              <th class="num">Price</th>
              <th class="num">Quantity</th>
              <th>Time</th>
            </tr>
          </thead>
          <tbody>
            {props.trades.length === 0 ? (
              <tr>
                <td colSpan={3} class="muted">
                  No trades yet.
                </td>
              </tr>
            ) : null}
            {props.trades.map((t) => (
              <tr key={t.tradeId}>
                <td class={`num ${t.takerSide === 'buy' ? 'up' : 'down'}`}>{fmt(t.price, pd)}</td>
                <td class="num">{fmt(t.quantity, qd)}</td>
                <td>{new Date(t.timeMs).toLocaleTimeString(undefined, { hour12: false })}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
