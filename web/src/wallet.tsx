// Balances, the deposit address (with a QR code) and deposits as they confirm, the devnet faucet (only on a
// devnet), the withdrawal address book (an address is usable after the venue's time lock), and withdrawals to
// those addresses with their status.

import { useEffect, useState } from 'preact/hooks';
import { api, errorText } from './api.js';
import { assets, info, userChanged } from './data.js';
import { fmt } from './decimal.js';
import { Balances } from './orders.js';
import { Qr } from './qr.js';
import { useStore } from './store.js';
import type { Deposit, IncomingDeposit, Withdrawal, WithdrawalAddress } from './types.js';

/** Confirmations advance with blocks, which the user channel does not announce: read them this often meanwhile. */
const INCOMING_POLL_MS = 2000;

function DepositPanel() {
  const [address, setAddress] = useState<string | null>(null);
  const [incoming, setIncoming] = useState<IncomingDeposit[]>([]);
  const [credited, setCredited] = useState<Deposit[]>([]);
  const [copied, setCopied] = useState(false);
  const tick = useStore(userChanged);
  useEffect(
    () =>
      void api<{ address: string }>('GET', '/v1/deposit-address')
        .then((r) => setAddress(r.address))
        .catch(() => undefined),
    [],
  );
  useEffect(() => {
    let live = true;
    const load = () => {
      void api<{ deposits: IncomingDeposit[] }>('GET', '/v1/deposits/incoming')
        .then((r) => live && setIncoming(r.deposits))
        .catch(() => undefined);
      void api<{ deposits: Deposit[] }>('GET', '/v1/deposits?limit=20')
        .then((r) => live && setCredited(r.deposits))
        .catch(() => undefined);
    };
    load();
    const timer = setInterval(load, INCOMING_POLL_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [tick]);
  return (
    <section class="panel" aria-label="Deposit">
      <h2>Deposit</h2>
      <p>Send ERC-20 tokens of a listed asset to your own deposit address:</p>
      {address === null ? (
        <p class="muted">Loading your address…</p>
      ) : (
        <div class="deposit">
          <Qr text={address} label={`QR code of your deposit address ${address}`} />
          <div>
            <code data-testid="deposit-address">{address}</code>
            <button
              type="button"
              onClick={() => void navigator.clipboard?.writeText(address).then(() => setCopied(true))}
            >
              {copied ? 'Copied' : 'Copy'}
            </button>
          </div>
        </div>
      )}
      <h3>Incoming</h3>
      <table data-testid="incoming-deposits">
        <thead>
          <tr>
            <th>Asset</th>
            <th class="num">Amount</th>
            <th class="num">Confirmations</th>
            <th>Transaction</th>
          </tr>
        </thead>
        <tbody>
          {incoming.length === 0 ? (
            <tr>
              <td colSpan={4} class="muted">
                Nothing waiting for confirmations.
              </td>
            </tr>
          ) : null}
          {incoming.map((d) => (
            <tr key={d.txHash}>
              <td>{d.asset}</td>
              <td class="num">{fmt(d.amount)}</td>
              <td class="num">
                {d.confirmations}
                {d.requiredConfirmations === null ? '' : ` of ${d.requiredConfirmations}`}
              </td>
              <td>
                <code class="short">{d.txHash}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Credited</h3>
      <table data-testid="deposits">
        <thead>
          <tr>
            <th>Time</th>
            <th>Asset</th>
            <th class="num">Amount</th>
          </tr>
        </thead>
        <tbody>
          {credited.length === 0 ? (
            <tr>
              <td colSpan={3} class="muted">
                No deposits yet.
              </td>
            </tr>
          ) : null}
          {credited.map((d) => (
            <tr key={d.depositId}>
              <td>{new Date(d.creditedAt).toLocaleString(undefined, { hour12: false })}</td>
              <td>{d.asset}</td>
              <td class="num">{fmt(d.amount)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function FaucetPanel() {
  const list = useStore(assets);
  const i = useStore(info);
  const [asset, setAsset] = useState('');
  const [amount, setAmount] = useState('1000');
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  if (!i?.devnetFaucet) return null;
  const symbol = asset || list[0]?.symbol || '';
  const mint = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    try {
      const r = await api<{ txHash: string; amount: string; asset: string }>('POST', '/v1/devnet/faucet', {
        asset: symbol,
        amount,
      });
      const confs = i.depositConfirmations === null ? '' : ` after ${i.depositConfirmations} confirmations`;
      setResult({
        ok: true,
        text: `Minted ${fmt(r.amount)} ${r.asset} to your deposit address; it is credited${confs}.`,
      });
    } catch (err) {
      setResult({ ok: false, text: errorText(err) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="panel" aria-label="Devnet faucet">
      <h2>Devnet faucet</h2>
      <p class="muted">This exchange runs on a development chain: its tokens are worthless test tokens.</p>
      <form class="inline" onSubmit={mint}>
        <label>
          Asset{' '}
          <select name="faucetAsset" value={symbol} onChange={(e) => setAsset(e.currentTarget.value)}>
            {list.map((a) => (
              <option key={a.symbol}>{a.symbol}</option>
            ))}
          </select>
        </label>
        <label>
          Amount{' '}
          <input
            name="faucetAmount"
            inputMode="decimal"
            value={amount}
            onInput={(e) => setAmount(e.currentTarget.value)}
          />
        </label>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Minting…' : 'Get test tokens'}
        </button>
      </form>
      {result !== null ? (
        <p class={result.ok ? 'ok' : 'error'} role={result.ok ? 'status' : 'alert'} data-testid="faucet-result">
          {result.text}
        </p>
      ) : null}
    </section>
  );
}

/** The book changes only by this page's own actions; a time lock ending is shown by the clock, read this often. */
const BOOK_CLOCK_MS = 30_000;

function usable(a: WithdrawalAddress, nowMs: number): boolean {
  return Date.parse(a.usableAt) <= nowMs;
}

function AddressBookPanel(props: { book: WithdrawalAddress[]; nowMs: number; changed: () => void }) {
  const [address, setAddress] = useState('');
  const [label, setLabel] = useState('');
  const [otp, setOtp] = useState('');
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const add = async (e: Event) => {
    e.preventDefault();
    try {
      const r = await api<WithdrawalAddress>('POST', '/v1/withdrawal-addresses', {
        address,
        label,
        ...(otp ? { otp } : {}),
      });
      const when = usable(r, Date.now())
        ? 'usable now'
        : `usable from ${new Date(r.usableAt).toLocaleString(undefined, { hour12: false })}`;
      setMessage({ ok: true, text: `Added ${r.label}: ${when}.` });
      setAddress('');
      setLabel('');
      setOtp('');
      props.changed();
    } catch (err) {
      setMessage({ ok: false, text: errorText(err) });
    }
  };
  const remove = async (a: WithdrawalAddress) => {
    try {
      await api('DELETE', `/v1/withdrawal-addresses/${a.addressId}`);
      setMessage({ ok: true, text: `Removed ${a.label}.` });
      props.changed();
    } catch (err) {
      setMessage({ ok: false, text: errorText(err) });
    }
  };
  return (
    <section class="panel" aria-label="Withdrawal addresses">
      <h2>Withdrawal addresses</h2>
      <p class="muted">
        Withdrawals go only to addresses in this book. A new address becomes usable after the venue's time lock;
        removing one is immediate.
      </p>
      <form onSubmit={add}>
        <label>
          Address (EIP-55 checksummed){' '}
          <input
            name="bookAddress"
            required
            pattern="0x[0-9a-fA-F]{40}"
            autoComplete="off"
            spellcheck={false}
            value={address}
            onInput={(e) => setAddress(e.currentTarget.value.trim())}
          />
        </label>
        <div class="inline">
          <label>
            Name{' '}
            <input
              name="bookLabel"
              required
              maxLength={64}
              value={label}
              onInput={(e) => setLabel(e.currentTarget.value)}
            />
          </label>
          <label>
            Two-factor code (if on){' '}
            <input
              name="bookOtp"
              autoComplete="one-time-code"
              inputMode="numeric"
              value={otp}
              onInput={(e) => setOtp(e.currentTarget.value.trim())}
            />
          </label>
        </div>
        <button type="submit">Add address</button>
      </form>
      {message !== null ? (
        <p class={message.ok ? 'ok' : 'error'} role={message.ok ? 'status' : 'alert'} data-testid="book-result">
          {message.text}
        </p>
      ) : null}
      <div class="scroll">
        <table data-testid="address-book">
          <thead>
            <tr>
              <th>Name</th>
              <th>Address</th>
              <th>Usable</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {props.book.length === 0 ? (
              <tr>
                <td colSpan={4} class="muted">
                  No addresses yet.
                </td>
              </tr>
            ) : null}
            {props.book.map((a) => (
              <tr key={a.addressId} data-address={a.address}>
                <td>{a.label}</td>
                <td>
                  <code class="short">{a.address}</code>
                </td>
                <td>
                  {usable(a, props.nowMs)
                    ? 'now'
                    : `from ${new Date(a.usableAt).toLocaleString(undefined, { hour12: false })}`}
                </td>
                <td>
                  <button type="button" aria-label={`Remove ${a.label}`} onClick={() => void remove(a)}>
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function WithdrawPanel(props: { book: WithdrawalAddress[]; nowMs: number }) {
  const list = useStore(assets);
  const tick = useStore(userChanged);
  const [asset, setAsset] = useState('');
  const [amount, setAmount] = useState('');
  const [addressId, setAddressId] = useState('');
  const [otp, setOtp] = useState('');
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const [rows, setRows] = useState<Withdrawal[]>([]);
  const [again, setAgain] = useState(0);
  useEffect(
    () =>
      void api<{ withdrawals: Withdrawal[] }>('GET', '/v1/withdrawals?limit=20')
        .then((r) => setRows(r.withdrawals))
        .catch(() => undefined),
    [tick, again],
  );
  const symbol = asset || list[0]?.symbol || '';
  const ready = props.book.filter((a) => usable(a, props.nowMs));
  const to = ready.find((a) => a.addressId === addressId) ?? ready[0];
  const send = async (e: Event) => {
    e.preventDefault();
    if (to === undefined) return;
    try {
      const r = await api<{ withdrawalId: string; status: string }>('POST', '/v1/withdrawals', {
        asset: symbol,
        amount,
        address: to.address,
        ...(otp ? { otp } : {}),
      });
      setResult({ ok: true, text: `Withdrawal requested: ${fmt(amount)} ${symbol}, ${r.status}.` });
      setOtp('');
      setAgain((n) => n + 1);
    } catch (err) {
      setResult({ ok: false, text: errorText(err) });
    }
  };
  return (
    <section class="panel" aria-label="Withdraw">
      <h2>Withdraw</h2>
      {ready.length === 0 ? (
        <p class="muted" data-testid="withdraw-no-address">
          Add an address to your withdrawal address book first; it is usable once its time lock has passed.
        </p>
      ) : null}
      <form onSubmit={send}>
        <div class="inline">
          <label>
            Asset{' '}
            <select name="withdrawAsset" value={symbol} onChange={(e) => setAsset(e.currentTarget.value)}>
              {list.map((a) => (
                <option key={a.symbol}>{a.symbol}</option>
              ))}
            </select>
          </label>
          <label>
            Amount{' '}
            <input
              name="withdrawAmount"
              inputMode="decimal"
              required
              value={amount}
              onInput={(e) => setAmount(e.currentTarget.value)}
            />
          </label>
        </div>
        <label>
          To{' '}
          <select name="withdrawTo" value={to?.addressId ?? ''} onChange={(e) => setAddressId(e.currentTarget.value)}>
            {ready.map((a) => (
              <option key={a.addressId} value={a.addressId}>{`${a.label} (${a.address})`}</option>
            ))}
          </select>
        </label>
        <label>
          Two-factor code (if on){' '}
          <input
            name="withdrawOtp"
            autoComplete="one-time-code"
            inputMode="numeric"
            value={otp}
            onInput={(e) => setOtp(e.currentTarget.value.trim())}
          />
        </label>
        <button type="submit" class="primary" disabled={to === undefined}>
          Withdraw
        </button>
      </form>
      {result !== null ? (
        <p class={result.ok ? 'ok' : 'error'} role={result.ok ? 'status' : 'alert'} data-testid="withdraw-result">
          {result.text}
        </p>
      ) : null}
      <h3>Withdrawals</h3>
      <div class="scroll">
        <table data-testid="withdrawals">
          <thead>
            <tr>
              <th>Time</th>
              <th>Asset</th>
              <th class="num">Amount</th>
              <th>To</th>
              <th>Status</th>
              <th>Transaction</th>
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 ? (
              <tr>
                <td colSpan={6} class="muted">
                  No withdrawals yet.
                </td>
              </tr>
            ) : null}
            {rows.map((w) => (
              <tr key={w.withdrawalId}>
                <td>{new Date(w.requestedAt).toLocaleString(undefined, { hour12: false })}</td>
                <td>{w.asset}</td>
                <td class="num">{fmt(w.amount)}</td>
                <td>
                  <code class="short">{w.address}</code>
                </td>
                <td>
                  {w.status}
                  {w.failReason !== null ? `: ${w.failReason}` : ''}
                </td>
                <td>{w.txHash === null ? '—' : <code class="short">{w.txHash}</code>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** The address book, shared by its panel and the withdrawal form, with a clock for time locks that end. */
function Withdrawals() {
  const [book, setBook] = useState<WithdrawalAddress[]>([]);
  const [again, setAgain] = useState(0);
  const [nowMs, setNowMs] = useState(Date.now());
  useEffect(
    () =>
      void api<{ addresses: WithdrawalAddress[] }>('GET', '/v1/withdrawal-addresses')
        .then((r) => setBook(r.addresses))
        .catch(() => undefined),
    [again],
  );
  useEffect(() => {
    const timer = setInterval(() => setNowMs(Date.now()), BOOK_CLOCK_MS);
    return () => clearInterval(timer);
  }, []);
  const changed = () => {
    setNowMs(Date.now());
    setAgain((n) => n + 1);
  };
  return (
    <>
      <AddressBookPanel book={book} nowMs={nowMs} changed={changed} />
      <WithdrawPanel book={book} nowMs={nowMs} />
    </>
  );
}

export function WalletPage() {
  return (
    <div class="wallet">
      <section class="panel" aria-label="Balances">
        <h1>Wallet</h1>
        <Balances />
      </section>
      <FaucetPanel />
      <DepositPanel />
      <Withdrawals />
    </div>
  );
}
