import { useEffect } from 'preact/hooks';
import { session, signOut, errorText } from './api.js';
import { AccountPage } from './account.js';
import { LoginPage, SignupPage } from './auth.js';
import { markets } from './data.js';
import { MarketsPage } from './markets.js';
import { OrdersPage } from './orders.js';
import { Link, navigate, route } from './router.js';
import { useStore } from './store.js';
import { theme } from './theme.js';
import { TradePage } from './trade.js';
import { WalletPage } from './wallet.js';
import { stream } from './ws.js';

function Header() {
  const user = useStore(session);
  const path = useStore(route);
  const live = useStore(stream.status);
  const t = useStore(theme);
  const list = useStore(markets);
  const tradeHref = path.startsWith('/trade/') ? path : `/trade/${list[0]?.symbol ?? ''}`;
  const nav: [string, string][] = [
    ['/markets', 'Markets'],
    [tradeHref, 'Trade'],
    ['/orders', 'Orders'],
    ['/wallet', 'Wallet'],
    ['/account', 'API keys'],
  ];
  return (
    <header class="top">
      <Link href="/markets" class="brand">
        exchange-core
      </Link>
      <nav aria-label="Main">
        {nav.map(([href, label]) => (
          <Link
            key={label}
            href={href}
            aria-current={path === href || (label === 'Trade' && path.startsWith('/trade/')) ? 'page' : undefined}
          >
            {label}
          </Link>
        ))}
      </nav>
      <span class={`live ${live}`} role="status" title="Market data connection">
        {live === 'live' ? 'Live' : live === 'connecting' ? 'Connecting…' : 'Reconnecting…'}
      </span>
      <button
        type="button"
        class="ghost"
        onClick={() => theme.set(t === 'dark' ? 'light' : 'dark')}
        aria-label={`Switch to ${t === 'dark' ? 'light' : 'dark'} theme`}
      >
        {t === 'dark' ? 'Light' : 'Dark'}
      </button>
      {user ? (
        <span class="who">
          <span data-testid="username">{user.username}</span>
          <button
            type="button"
            class="ghost"
            onClick={() =>
              void signOut()
                .then(() => navigate('/login'))
                .catch((e: unknown) => alert(errorText(e)))
            }
          >
            Log out
          </button>
        </span>
      ) : user === null ? (
        <span class="who">
          <Link href="/login">Log in</Link>
          <Link href="/signup" class="button">
            Sign up
          </Link>
        </span>
      ) : null}
    </header>
  );
}

/** Pages that need a signed-in user send a signed-out visitor to the login page, and back afterwards. */
function SignedIn(props: { children: preact.ComponentChildren }) {
  const user = useStore(session);
  useEffect(() => {
    if (user === null) navigate(`/login?next=${encodeURIComponent(location.pathname)}`);
  }, [user]);
  return user ? <>{props.children}</> : <p class="muted">Checking your session…</p>;
}

export function App() {
  const path = useStore(route);
  const list = useStore(markets);
  let page;
  if (path.startsWith('/trade/')) page = <TradePage symbol={decodeURIComponent(path.slice('/trade/'.length))} />;
  else if (path === '/login') page = <LoginPage />;
  else if (path === '/signup') page = <SignupPage />;
  else if (path === '/orders')
    page = (
      <SignedIn>
        <OrdersPage />
      </SignedIn>
    );
  else if (path === '/wallet')
    page = (
      <SignedIn>
        <WalletPage />
      </SignedIn>
    );
  else if (path === '/account')
    page = (
      <SignedIn>
        <AccountPage />
      </SignedIn>
    );
  else page = <MarketsPage />;
  useEffect(() => {
    const name = path.startsWith('/trade/')
      ? `${decodeURIComponent(path.slice(7))} · trade`
      : path.slice(1) || 'markets';
    document.title = `${name} · exchange-core`;
  }, [path, list]);
  return (
    <>
      <Header />
      <main id="main">{page}</main>
    </>
  );
}
