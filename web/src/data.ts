// What several parts of the page share: the markets and assets, the gateway's info, the user's balances (kept
// live from the `user` channel) and a counter that moves whenever the user's orders or wallet changed, so the
// lists that show them read them again.

import { api, session } from './api.js';
import { Store } from './store.js';
import type { Asset, Balance, Market } from './types.js';
import { stream } from './ws.js';

export const markets = new Store<Market[]>([]);
export const assets = new Store<Asset[]>([]);
export const info = new Store<{ devnetFaucet: boolean; depositConfirmations: number | null } | null>(null);
export const balances = new Store<Balance[]>([]);
/** Moves when the user's orders, trades, deposits or withdrawals changed (the `user` channel said so). */
export const userChanged = new Store<number>(0);

export async function loadStatic(): Promise<void> {
  const [m, a, i] = await Promise.all([
    api<{ markets: Market[] }>('GET', '/v1/markets'),
    api<{ assets: Asset[] }>('GET', '/v1/assets'),
    api<{ devnetFaucet: boolean; depositConfirmations: number | null }>('GET', '/v1/info'),
  ]);
  markets.set(m.markets);
  assets.set(a.assets);
  info.set(i);
}

export async function loadBalances(): Promise<void> {
  balances.set((await api<{ balances: Balance[] }>('GET', '/v1/balances')).balances);
}

let bumpTimers: ReturnType<typeof setTimeout>[] = [];
/**
 * The tables are read from the database, which the events reach a moment after the WebSocket does: read them
 * again shortly, and once more a second later.
 */
function bump(): void {
  for (const t of bumpTimers) clearTimeout(t);
  bumpTimers = [100, 1000].map((ms) => setTimeout(() => userChanged.set(userChanged.value + 1), ms));
}

let stopUser: (() => void) | null = null;

function onUserMessage(m: Record<string, unknown>): void {
  if (m.type === 'disconnected') return bump();
  if (m.type !== 'user') return;
  if (m.event === 'balanceChanged') {
    const next = balances.value.filter((b) => b.asset !== m.asset);
    const known = balances.value.find((b) => b.asset === m.asset);
    next.push({
      asset: String(m.asset),
      assetId: known?.assetId ?? 0,
      available: String(m.available),
      held: String(m.held),
      pending: String(m.pending),
    });
    balances.set(next.sort((a, b) => a.asset.localeCompare(b.asset)));
  }
  bump();
}

/** Follows the session: the user channel and balances while signed in. */
export function followSession(): void {
  session.subscribe((user) => {
    stopUser?.();
    stopUser = null;
    stream.restart();
    if (user) {
      stopUser = stream.subscribe('user', onUserMessage);
      void loadBalances().catch(() => undefined);
    } else {
      balances.set([]);
    }
  });
}
