// The user's orders, trades and balances: open orders (cancel, cancel all, amend price or quantity inline),
// order history, trades, balances. Read from the API, and read again whenever the user channel says they changed.

import { useEffect, useState } from 'preact/hooks';
import { api, errorText } from './api.js';
import { balances, loadBalances, markets, userChanged } from './data.js';
import { decimalsOf, fmt } from './decimal.js';
import { useStore } from './store.js';
import type { Market, Order, UserTrade } from './types.js';

const time = (iso: string) => new Date(iso).toLocaleString(undefined, { hour12: false });
const typeLabel: Record<string, string> = {
  limit: 'Limit',
  market: 'Market',
  stopLimit: 'Stop limit',
  stopMarket: 'Stop market',
};

function marketOf(list: Market[], symbol: string): Market | undefined {
  return list.find((m) => m.symbol === symbol);
}

/** Reads `path` now and whenever the user's data changed. */
function useUserList<T>(path: string, pick: (x: unknown) => T[]): [T[], () => void] {
  const [rows, setRows] = useState<T[]>([]);
  const tick = useStore(userChanged);
  const [again, setAgain] = useState(0);
  useEffect(() => {
    let live = true;
    api<unknown>('GET', path)
      .then((x) => live && setRows(pick(x)))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [path, tick, again]);
  return [rows, () => setAgain((n) => n + 1)];
}

function AmendRow(props: { order: Order; market: Market; done: (msg: string) => void }) {
  const { order, market } = props;
  const [price, setPrice] = useState(order.price ?? '');
  const [quantity, setQuantity] = useState(order.quantity ?? '');
  const [error, setError] = useState<string | null>(null);
  const save = async (e: Event) => {
    e.preventDefault();
    const body: Record<string, string> = {};
    if (price !== order.price) body.price = price;
    if (quantity !== order.quantity) body.quantity = quantity;
    try {
      const r = await api<{ price: string | null; quantity: string | null }>(
        'PATCH',
        `/v1/orders/${order.orderId}`,
        body,
      );
      props.done(`Order ${order.orderId} amended: ${fmt(r.quantity)} at ${fmt(r.price)}.`);
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <tr class="amend">
      <td colSpan={10}>
        <form onSubmit={save} class="inline">
          <label>
            Price{' '}
            <input
              value={price}
              inputMode="decimal"
              onInput={(e) => setPrice(e.currentTarget.value)}
              aria-label={`New price of order ${order.orderId}`}
            />
          </label>
          <label>
            Quantity{' '}
            <input
              value={quantity}
              inputMode="decimal"
              onInput={(e) => setQuantity(e.currentTarget.value)}
              aria-label={`New quantity of order ${order.orderId}`}
            />
          </label>
          <span class="muted">
            tick {market.tickSize}, lot {market.lotSize}
          </span>
          <button type="submit" class="primary">
            Save
          </button>
          <button type="button" onClick={() => props.done('')}>
            Close
          </button>
          {error !== null ? (
            <span class="error" role="alert">
              {error}
            </span>
          ) : null}
        </form>
      </td>
    </tr>
  );
}

export function OpenOrders(props: { market?: Market }) {
  const list = useStore(markets);
  const query = props.market ? `?marketId=${props.market.marketId}&limit=200` : '?limit=200';
  const [orders, reload] = useUserList<Order>(`/v1/orders/open${query}`, (x) => (x as { orders: Order[] }).orders);
  const [amending, setAmending] = useState<number | null>(null);
  const [message, setMessage] = useState('');
  const act = async (what: () => Promise<string>) => {
    try {
      setMessage(await what());
    } catch (err) {
      setMessage(errorText(err));
    }
    reload();
  };
  const cancel = (o: Order) =>
    act(async () => {
      await api('DELETE', `/v1/orders/${o.orderId}`);
      return `Order ${o.orderId} canceled.`;
    });
  const cancelAll = () =>
    act(async () => {
      const r = await api<{ canceled: unknown[] }>(
        'DELETE',
        `/v1/orders${props.market ? `?marketId=${props.market.marketId}` : ''}`,
      );
      return `${r.canceled.length} order${r.canceled.length === 1 ? '' : 's'} canceled.`;
    });
  return (
    <div>
      <div class="toolbar">
        <button type="button" onClick={() => void cancelAll()} disabled={orders.length === 0}>
          Cancel all
        </button>
        <span role="status" class="muted" data-testid="orders-message">
          {message}
        </span>
      </div>
      <div class="scroll">
        <table data-testid="open-orders">
          <thead>
            <tr>
              <th>Time</th>
              <th>Market</th>
              <th>Side</th>
              <th>Type</th>
              <th class="num">Price</th>
              <th class="num">Quantity</th>
              <th class="num">Filled</th>
              <th class="num">Remaining</th>
              <th>Status</th>
              <th>
                <span class="sr">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {orders.length === 0 ? (
              <tr>
                <td colSpan={10} class="muted">
                  No open orders.
                </td>
              </tr>
            ) : null}
            {orders.flatMap((o) => {
              const m = marketOf(list, o.market);
              const pd = m ? decimalsOf(m.tickSize) : 0;
              const qd = m ? decimalsOf(m.lotSize) : 0;
              const rows = [
                <tr key={o.orderId} data-order-id={o.orderId}>
                  <td>{time(o.createdAt)}</td>
                  <td>{o.market}</td>
                  <td class={o.side === 'buy' ? 'up' : 'down'}>{o.side === 'buy' ? 'Buy' : 'Sell'}</td>
                  <td>
                    {typeLabel[o.orderType]}
                    {o.stopPrice !== null ? ` @ ${fmt(o.stopPrice, pd)}` : ''}
                  </td>
                  <td class="num">{o.price === null ? 'Market' : fmt(o.price, pd)}</td>
                  <td class="num">
                    {o.quantity === null ? `${fmt(o.quoteQuantity)} ${m?.quoteAsset ?? ''}` : fmt(o.quantity, qd)}
                  </td>
                  <td class="num">{fmt(o.filledQuantity, qd)}</td>
                  <td class="num">{o.remainingQuantity === null ? '—' : fmt(o.remainingQuantity, qd)}</td>
                  <td>{o.status}</td>
                  <td class="actions">
                    {o.orderType === 'limit' ? (
                      <button
                        type="button"
                        onClick={() => setAmending(amending === o.orderId ? null : o.orderId)}
                        aria-label={`Amend order ${o.orderId}`}
                      >
                        Amend
                      </button>
                    ) : null}
                    <button type="button" onClick={() => void cancel(o)} aria-label={`Cancel order ${o.orderId}`}>
                      Cancel
                    </button>
                  </td>
                </tr>,
              ];
              if (amending === o.orderId && m) {
                rows.push(
                  <AmendRow
                    key={`a${o.orderId}`}
                    order={o}
                    market={m}
                    done={(msg) => {
                      setAmending(null);
                      if (msg) setMessage(msg);
                      reload();
                    }}
                  />,
                );
              }
              return rows;
            })}
          </tbody>
        </table>
      </div>
    </div>
  );
}

export function OrderHistory(props: { market?: Market }) {
  const list = useStore(markets);
  const query = props.market ? `?marketId=${props.market.marketId}&limit=100` : '?limit=100';
  const [orders] = useUserList<Order>(`/v1/orders/history${query}`, (x) => (x as { orders: Order[] }).orders);
  return (
    <div class="scroll">
      <table data-testid="order-history">
        <thead>
          <tr>
            <th>Time</th>
            <th>Market</th>
            <th>Side</th>
            <th>Type</th>
            <th class="num">Price</th>
            <th class="num">Quantity</th>
            <th class="num">Filled</th>
            <th class="num">Avg price</th>
            <th class="num">Fees</th>
            <th>Status</th>
          </tr>
        </thead>
        <tbody>
          {orders.length === 0 ? (
            <tr>
              <td colSpan={10} class="muted">
                No orders yet.
              </td>
            </tr>
          ) : null}
          {orders.map((o) => {
            const m = marketOf(list, o.market);
            const pd = m ? decimalsOf(m.tickSize) : 0;
            const qd = m ? decimalsOf(m.lotSize) : 0;
            return (
              <tr key={o.orderId} data-order-id={o.orderId}>
                <td>{time(o.createdAt)}</td>
                <td>{o.market}</td>
                <td class={o.side === 'buy' ? 'up' : 'down'}>{o.side === 'buy' ? 'Buy' : 'Sell'}</td>
                <td>{typeLabel[o.orderType]}</td>
                <td class="num">{o.price === null ? 'Market' : fmt(o.price, pd)}</td>
                <td class="num">
                  {o.quantity === null ? `${fmt(o.quoteQuantity)} ${m?.quoteAsset ?? ''}` : fmt(o.quantity, qd)}
                </td>
                <td class="num">{fmt(o.filledQuantity, qd)}</td>
                <td class="num">{o.avgFillPrice === null ? '—' : fmt(o.avgFillPrice, pd)}</td>
                <td class="num">{fmt(o.feesPaid)}</td>
                <td>
                  {o.status}
                  {o.closeReason !== null && o.closeReason !== 'user' ? ` (${o.closeReason})` : ''}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

export function MyTrades(props: { market?: Market }) {
  const list = useStore(markets);
  const query = props.market ? `?marketId=${props.market.marketId}&limit=100` : '?limit=100';
  const [trades] = useUserList<UserTrade>(`/v1/trades${query}`, (x) => (x as { trades: UserTrade[] }).trades);
  return (
    <div class="scroll">
      <table data-testid="my-trades">
        <thead>
          <tr>
            <th>Time</th>
            <th>Market</th>
            <th>Side</th>
            <th>Role</th>
            <th class="num">Price</th>
            <th class="num">Quantity</th>
            <th class="num">Value</th>
            <th class="num">Fee</th>
          </tr>
        </thead>
        <tbody>
          {trades.length === 0 ? (
            <tr>
              <td colSpan={8} class="muted">
                No trades yet.
              </td>
            </tr>
          ) : null}
          {trades.map((t) => {
            const m = marketOf(list, t.market);
            return (
              <tr key={`${t.tradeId}-${t.liquidity}`}>
                <td>{time(t.executedAt)}</td>
                <td>{t.market}</td>
                <td class={t.side === 'buy' ? 'up' : 'down'}>{t.side === 'buy' ? 'Buy' : 'Sell'}</td>
                <td>{t.liquidity}</td>
                <td class="num">{fmt(t.price, m ? decimalsOf(m.tickSize) : 0)}</td>
                <td class="num">{fmt(t.quantity, m ? decimalsOf(m.lotSize) : 0)}</td>
                <td class="num">
                  {fmt(t.quoteAmount)} {m?.quoteAsset}
                </td>
                <td class="num">
                  {fmt(t.fee)} {m?.quoteAsset}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

export function Balances(props: { only?: string[] }) {
  const all = useStore(balances);
  useEffect(() => void loadBalances().catch(() => undefined), []);
  const rows = props.only ? all.filter((b) => props.only?.includes(b.asset)) : all;
  return (
    <div class="scroll">
      <table data-testid="balances">
        <thead>
          <tr>
            <th>Asset</th>
            <th class="num">Available</th>
            <th class="num">Held by orders</th>
            <th class="num">Pending withdrawal</th>
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? (
            <tr>
              <td colSpan={4} class="muted">
                No balances yet: deposit from the Wallet page.
              </td>
            </tr>
          ) : null}
          {rows.map((b) => (
            <tr key={b.asset} data-asset={b.asset}>
              <td>{b.asset}</td>
              <td class="num">{fmt(b.available)}</td>
              <td class="num">{fmt(b.held)}</td>
              <td class="num">{fmt(b.pending)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function Tabs(props: { tabs: [string, () => preact.ComponentChildren][]; label: string }) {
  const [active, setActive] = useState(0);
  const [, render] = props.tabs[active] ?? props.tabs[0];
  return (
    <section class="panel">
      <div role="tablist" aria-label={props.label} class="tabs">
        {props.tabs.map(([name], i) => (
          <button key={name} type="button" role="tab" aria-selected={i === active} onClick={() => setActive(i)}>
            {name}
          </button>
        ))}
      </div>
      <div role="tabpanel">{render()}</div>
    </section>
  );
}

export function OrdersPage() {
  return (
    <Tabs
      label="Your orders"
      tabs={[
        ['Open orders', () => <OpenOrders />],
        ['Order history', () => <OrderHistory />],
        ['My trades', () => <MyTrades />],
        ['Balances', () => <Balances />],
      ]}
    />
  );
}
