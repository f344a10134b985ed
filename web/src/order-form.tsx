// The order form: every order type the engine has (limit with GTC/IOC/FOK and post-only, market by quantity or by
// quote amount, stop-limit, stop-market), self-trade prevention and a client order id. It shows the hold and fee
// the order will take, refuses what the market's tick, lot or minimum would refuse, and shows the API's own code
// and message when the exchange refuses it.

import { useEffect, useState } from 'preact/hooks';
import { api, errorText, session } from './api.js';
import { balances } from './data.js';
import { decimalsOf, fmt } from './decimal.js';
import { preview } from './order-math.js';
import type { OrderDraft } from './order-math.js';
import { Link } from './router.js';
import { Store, useStore } from './store.js';
import type { Level, Market, OrderType, Side, StpMode, TimeInForce } from './types.js';
// The domain's lists and id rules from their one source (a file without imports: the bundle takes only it).
import {
  CLIENT_ORDER_ID_MAX_LENGTH,
  ID_CHARS,
  ORDER_TYPES,
  STP_MODES,
  TIME_IN_FORCES,
} from '../../engine/core/formats.js';

/** A price picked in the book, for the form. */
export const pickedPrice = new Store<{ price: string; n: number } | null>(null);

const TYPE_LABELS: Record<OrderType, string> = {
  limit: 'Limit',
  market: 'Market',
  stopLimit: 'Stop limit',
  stopMarket: 'Stop market',
};
const STP_LABELS: Record<StpMode, string> = {
  none: 'None',
  expireTaker: 'Expire taker',
  expireMaker: 'Expire maker',
  expireBoth: 'Expire both',
  decrementAndCancel: 'Decrement and cancel',
};
const TIF_LABELS: Record<TimeInForce, string> = {
  GTC: 'GTC: until canceled',
  IOC: 'IOC: now, rest canceled',
  FOK: 'FOK: all now or nothing',
};

/** The engine refuses FOK for a stop-limit order (ORDER_TIF_INVALID); market orders take no time in force. */
function tifsOf(orderType: OrderType): readonly TimeInForce[] {
  if (orderType === 'limit') return TIME_IN_FORCES;
  if (orderType === 'stopLimit') return TIME_IN_FORCES.filter((t) => t !== 'FOK');
  return [];
}

interface Placed {
  orderId: number | null;
  orderStatus: string | null;
  filledQuantity: string | null;
  status: string;
  duplicateOf: string | null;
}

export function OrderForm(props: { market: Market; asks: Level[] }) {
  const m = props.market;
  const user = useStore(session);
  const bal = useStore(balances);
  const picked = useStore(pickedPrice);
  const [side, setSide] = useState<Side>('buy');
  const [orderType, setOrderType] = useState<OrderType>('limit');
  const [price, setPrice] = useState('');
  const [stopPrice, setStopPrice] = useState('');
  const [quantity, setQuantity] = useState('');
  const [quoteQuantity, setQuoteQuantity] = useState('');
  const [byQuote, setByQuote] = useState(false);
  const [tif, setTif] = useState<TimeInForce>('GTC');
  const [postOnly, setPostOnly] = useState(false);
  const [stp, setStp] = useState<StpMode>('none');
  const [clientOrderId, setClientOrderId] = useState('');
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (picked !== null) setPrice(picked.price);
  }, [picked]);
  const draft: OrderDraft = { side, orderType, price, stopPrice, quantity, quoteQuantity, byQuote };
  const p = preview(m, draft, props.asks);
  const buyByQuote = side === 'buy' && (orderType === 'stopMarket' || (orderType === 'market' && byQuote));
  const spend = side === 'buy' ? m.quoteAsset : m.baseAsset;
  const available = bal.find((b) => b.asset === spend)?.available ?? '0';
  const tifs = tifsOf(orderType);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (p.problem !== null) return setResult({ ok: false, text: p.problem });
    const body: Record<string, unknown> = { marketId: m.marketId, side, orderType };
    if (orderType === 'limit' || orderType === 'stopLimit') body.price = price;
    if (orderType === 'stopLimit' || orderType === 'stopMarket') body.stopPrice = stopPrice;
    if (buyByQuote) body.quoteQuantity = quoteQuantity;
    else body.quantity = quantity;
    if (tifs.length > 0) body.timeInForce = tif;
    if (orderType === 'limit' && tif === 'GTC' && postOnly) body.postOnly = true;
    if (stp !== 'none') body.stp = stp;
    if (clientOrderId !== '') body.clientOrderId = clientOrderId;
    setBusy(true);
    try {
      const r = await api<Placed>('POST', '/v1/orders', body);
      const what =
        r.status === 'unknown'
          ? 'sent; its result is not known yet (see Open orders)'
          : `${r.duplicateOf !== null ? 'already placed' : 'placed'}: ${r.orderStatus}, filled ${fmt(r.filledQuantity)} ${m.baseAsset}`;
      setResult({ ok: true, text: `Order ${r.orderId ?? ''} ${what}.` });
    } catch (err) {
      setResult({ ok: false, text: errorText(err) });
    } finally {
      setBusy(false);
    }
  };

  if (!user) {
    return (
      <section class="panel form" aria-label="Order form">
        <h2>Trade {m.baseAsset}</h2>
        <p>
          <Link href={`/login?next=/trade/${m.symbol}`}>Log in</Link> or <Link href="/signup">sign up</Link> to trade.
        </p>
      </section>
    );
  }
  return (
    <section class="panel form" aria-label="Order form">
      <form onSubmit={submit}>
        <div class="sides" role="group" aria-label="Side">
          <button
            type="button"
            class={side === 'buy' ? 'buy on' : 'buy'}
            aria-pressed={side === 'buy'}
            onClick={() => setSide('buy')}
          >
            Buy {m.baseAsset}
          </button>
          <button
            type="button"
            class={side === 'sell' ? 'sell on' : 'sell'}
            aria-pressed={side === 'sell'}
            onClick={() => setSide('sell')}
          >
            Sell {m.baseAsset}
          </button>
        </div>
        <label>
          Type
          <select
            name="orderType"
            value={orderType}
            onChange={(e) => {
              setOrderType(e.currentTarget.value as OrderType);
              setTif('GTC');
            }}
          >
            {ORDER_TYPES.map((v) => (
              <option key={v} value={v}>
                {TYPE_LABELS[v]}
              </option>
            ))}
          </select>
        </label>
        {orderType === 'stopLimit' || orderType === 'stopMarket' ? (
          <label>
            Stop price ({m.quoteAsset}){' '}
            <input
              name="stopPrice"
              inputMode="decimal"
              autoComplete="off"
              value={stopPrice}
              onInput={(e) => setStopPrice(e.currentTarget.value)}
              placeholder={`step ${m.tickSize}`}
            />
          </label>
        ) : null}
        {orderType === 'limit' || orderType === 'stopLimit' ? (
          <label>
            Price ({m.quoteAsset}){' '}
            <input
              name="price"
              inputMode="decimal"
              autoComplete="off"
              value={price}
              onInput={(e) => setPrice(e.currentTarget.value)}
              placeholder={`step ${m.tickSize}`}
            />
          </label>
        ) : null}
        {orderType === 'market' && side === 'buy' ? (
          <label class="check">
            <input type="checkbox" checked={byQuote} onChange={(e) => setByQuote(e.currentTarget.checked)} /> Spend an
            amount of {m.quoteAsset}
          </label>
        ) : null}
        {buyByQuote ? (
          <label>
            Amount to spend ({m.quoteAsset}, fees included){' '}
            <input
              name="quoteQuantity"
              inputMode="decimal"
              autoComplete="off"
              value={quoteQuantity}
              onInput={(e) => setQuoteQuantity(e.currentTarget.value)}
            />
          </label>
        ) : (
          <label>
            Quantity ({m.baseAsset}){' '}
            <input
              name="quantity"
              inputMode="decimal"
              autoComplete="off"
              value={quantity}
              onInput={(e) => setQuantity(e.currentTarget.value)}
              placeholder={`step ${m.lotSize}`}
            />
          </label>
        )}
        {tifs.length > 0 ? (
          <label>
            Time in force
            <select name="timeInForce" value={tif} onChange={(e) => setTif(e.currentTarget.value as TimeInForce)}>
              {tifs.map((t) => (
                <option key={t} value={t}>
                  {TIF_LABELS[t]}
                </option>
              ))}
            </select>
          </label>
        ) : null}
        {orderType === 'limit' && tif === 'GTC' ? (
          <label class="check">
            <input
              type="checkbox"
              name="postOnly"
              checked={postOnly}
              onChange={(e) => setPostOnly(e.currentTarget.checked)}
            />{' '}
            Post only (never takes)
          </label>
        ) : null}
        <details>
          <summary>More options</summary>
          <label>
            Self-trade prevention
            <select name="stp" value={stp} onChange={(e) => setStp(e.currentTarget.value as StpMode)}>
              {STP_MODES.map((v) => (
                <option key={v} value={v}>
                  {STP_LABELS[v]}
                </option>
              ))}
            </select>
          </label>
          <label>
            Client order id (optional){' '}
            <input
              name="clientOrderId"
              maxLength={CLIENT_ORDER_ID_MAX_LENGTH}
              pattern={`${ID_CHARS}{1,${CLIENT_ORDER_ID_MAX_LENGTH}}`}
              autoComplete="off"
              value={clientOrderId}
              onInput={(e) => setClientOrderId(e.currentTarget.value)}
            />
          </label>
        </details>
        <dl class="preview" data-testid="order-preview">
          <dt>Available</dt>
          <dd>
            {fmt(available)} {spend}
          </dd>
          {p.notional !== null ? (
            <>
              <dt>Value</dt>
              <dd>
                {fmt(p.notional, decimalsOf(m.tickSize))} {m.quoteAsset}
              </dd>
            </>
          ) : null}
          <dt>Hold</dt>
          <dd data-testid="hold">{p.hold === null ? '—' : `${fmt(p.hold.amount)} ${p.hold.asset}`}</dd>
          <dt>Fee</dt>
          <dd data-testid="fee">
            {p.fee === null
              ? '—'
              : `${p.fee.amount === '' ? '' : `${fmt(p.fee.amount)} ${p.fee.asset} `}(${p.fee.note})`}
          </dd>
        </dl>
        {p.problem !== null && (price !== '' || quantity !== '' || quoteQuantity !== '' || stopPrice !== '') ? (
          <p class="hint" data-testid="form-problem">
            {p.problem}
          </p>
        ) : null}
        <button type="submit" class={side === 'buy' ? 'primary buy' : 'primary sell'} disabled={busy}>
          {side === 'buy' ? 'Buy' : 'Sell'} {m.baseAsset}
        </button>
        {result !== null ? (
          <p class={result.ok ? 'ok' : 'error'} role={result.ok ? 'status' : 'alert'} data-testid="order-result">
            {result.text}
          </p>
        ) : null}
      </form>
    </section>
  );
}
