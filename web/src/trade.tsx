import { markets } from './data.js';
import { Charts } from './charts.js';
import { useFeed } from './feed.js';
import { OrderForm, pickedPrice } from './order-form.js';
import { OrderBook, RecentTrades } from './orderbook.js';
import { Balances, MyTrades, OpenOrders, OrderHistory, Tabs } from './orders.js';
import { Link } from './router.js';
import { session } from './api.js';
import { useStore } from './store.js';

export function TradePage(props: { symbol: string }) {
  const list = useStore(markets);
  const user = useStore(session);
  const market = list.find((m) => m.symbol === props.symbol);
  const feed = useFeed(market);
  if (list.length === 0) return <p class="muted">Loading markets…</p>;
  if (market === undefined)
    return (
      <p class="error" role="alert">
        No market {props.symbol}. <Link href="/markets">All markets</Link>
      </p>
    );
  const asks = feed.book === null ? [] : feed.book.levels('asks', 1n, 1000);
  return (
    <div class="trade">
      <div class="market-bar">
        <h1>
          {market.baseAsset}/{market.quoteAsset}
        </h1>
        <nav aria-label="Markets" class="market-switch">
          {list.map((m) => (
            <Link
              key={m.symbol}
              href={`/trade/${m.symbol}`}
              aria-current={m.symbol === market.symbol ? 'page' : undefined}
            >
              {m.symbol}
            </Link>
          ))}
        </nav>
        <span class="muted small">
          tick {market.tickSize} · lot {market.lotSize} · min {market.minNotional} {market.quoteAsset} · fees{' '}
          {market.makerFeeBps}/{market.takerFeeBps} bps
        </span>
      </div>
      <OrderBook
        market={market}
        book={feed.book}
        trades={feed.trades}
        pick={(price) => pickedPrice.set({ price, n: (pickedPrice.value?.n ?? 0) + 1 })}
      />
      <Charts market={market} book={feed.book} version={feed.version} tradeCount={feed.trades[0]?.tradeId ?? 0} />
      <OrderForm market={market} asks={asks} />
      <RecentTrades market={market} trades={feed.trades} />
      {user ? (
        <div class="mine">
          <Tabs
            label="Your activity in this market"
            tabs={[
              ['Open orders', () => <OpenOrders market={market} />],
              ['Order history', () => <OrderHistory market={market} />],
              ['My trades', () => <MyTrades market={market} />],
              ['Balances', () => <Balances only={[market.baseAsset, market.quoteAsset]} />],
            ]}
          />
        </div>
      ) : null}
    </div>
  );
}
