// What the Binance routes share: the gateway's services (RouteContext: the command bus, stores, PostgreSQL), the
// market-data view (markets, books), Binance symbols (BASEQUOTE) for our markets, and read-your-writes: a Binance
// client reads right after it writes (place, then query), and our reads come from persistence's tables, which lag the
// engine by a few ms; so a user's reads wait (bounded) until persistence has stored that user's last command.

import type { FastifyRequest } from 'fastify';
import type { Sql } from 'postgres';
import { gatewayError } from '../errors.js';
import type { BookView } from '../market-data/service.js';
import type { RouteContext } from '../routes/context.js';
import type { AssetInfo, MarketInfo } from '../units.js';
import { binanceError, BINANCE_MESSAGES } from './errors.js';
import { parseParams, queryOf } from './params.js';
import type { Params } from './params.js';

export interface BinanceContext {
  readonly ctx: RouteContext;
  readonly view: () => BookView | null;
  readonly symbols: SymbolIndex;
  readonly persisted: PersistenceBarrier;
  readonly userSeqs: UserSeqs;
  readonly nowMs: () => number;
}

/** The Binance symbol of a market: base and quote symbols joined ("WETH" + "USDC" -> "WETHUSDC"). */
export const binanceSymbol = (m: MarketInfo): string => `${m.baseSymbol}${m.quoteSymbol}`;

/** Markets by Binance symbol, rebuilt when the view's market list changes (markets are only ever added). */
export class SymbolIndex {
  private bySymbol = new Map<string, MarketInfo>();
  private builtFor: BookView | null = null;
  private builtSize = -1;

  constructor(private readonly view: () => BookView | null) {}

  ready(): BookView {
    const v = this.view();
    if (v === null) throw gatewayError('EX_UNAVAILABLE', 'market data is starting; retry shortly');
    if (v !== this.builtFor || v.markets.size !== this.builtSize) {
      const map = new Map<string, MarketInfo>();
      // Two markets whose symbols join to the same string (AB-C and A-BC) would be ambiguous: the older one keeps it.
      for (const m of [...v.markets.values()].sort((a, b) => a.marketId - b.marketId))
        if (!map.has(binanceSymbol(m))) map.set(binanceSymbol(m), m);
      this.bySymbol = map;
      this.builtFor = v;
      this.builtSize = v.markets.size;
    }
    return v;
  }

  /** The market of a Binance symbol (case-insensitive, as Binance), or -1121. */
  market(symbol: string): MarketInfo {
    this.ready();
    const m = this.bySymbol.get(symbol.toUpperCase());
    if (m === undefined) throw binanceError('BAD_SYMBOL', BINANCE_MESSAGES.invalidSymbol);
    return m;
  }

  find(symbol: string): MarketInfo | undefined {
    this.ready();
    return this.bySymbol.get(symbol.toUpperCase());
  }

  all(): MarketInfo[] {
    this.ready();
    return [...this.bySymbol.values()];
  }

  assets(): AssetInfo[] {
    return [...this.ready().assets.values()].sort((a, b) => a.assetId - b.assetId);
  }

  asset(symbol: string): AssetInfo | undefined {
    const upper = symbol.toUpperCase();
    return this.assets().find((a) => a.symbol === upper);
  }
}

/** The request's Binance parameters (query + form body), parsed once. */
const parsed = new WeakMap<FastifyRequest, Map<string, string>>();
export function paramsOf(request: FastifyRequest): Params {
  let p = parsed.get(request);
  if (p === undefined) {
    p = parseParams(queryOf(request.url), request.rawBody ?? '');
    parsed.set(request, p);
  }
  return p;
}

const POLL_MS = 5;

/**
 * Waits until persistence has stored the events up to a seq. One poll of persistence_position serves every
 * waiter; nobody waits longer than its timeout (then the read goes ahead with what is stored).
 */
export class PersistenceBarrier {
  private storedSeq = -1;
  private readonly waiters = new Set<{ seq: number; resolve: (ok: boolean) => void; deadlineMs: number }>();
  private polling = false;

  constructor(
    private readonly sql: Sql,
    /** Waiters at once; beyond it a read does not wait. */
    private readonly waitersMax = 10_000,
  ) {}

  async waitFor(seq: number, timeoutMs: number): Promise<boolean> {
    if (seq <= this.storedSeq) return true;
    if (this.waiters.size >= this.waitersMax) return false;
    const done = new Promise<boolean>((resolve) =>
      this.waiters.add({ seq, resolve, deadlineMs: performance.now() + timeoutMs }),
    );
    void this.poll();
    return done;
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      while (this.waiters.size > 0) {
        const [row] = await this.sql<
          { last_seq: string }[]
        >`SELECT last_seq FROM persistence_position WHERE id = 1`.catch(() => []);
        if (row !== undefined) this.storedSeq = Math.max(this.storedSeq, Number(row.last_seq));
        const now = performance.now();
        for (const w of this.waiters) {
          if (w.seq <= this.storedSeq || now >= w.deadlineMs) {
            this.waiters.delete(w);
            w.resolve(w.seq <= this.storedSeq);
          }
        }
        if (this.waiters.size > 0) await new Promise((r) => setTimeout(r, POLL_MS));
      }
    } finally {
      this.polling = false;
    }
  }
}

/** The seq of each user's last command through this instance's Binance routes (bounded: the oldest is forgotten). */
export class UserSeqs {
  private readonly seqs = new Map<number, number>();
  constructor(private readonly max = 100_000) {}

  note(userId: number, seq: number): void {
    this.seqs.delete(userId);
    if (this.seqs.size >= this.max) this.seqs.delete(this.seqs.keys().next().value as number);
    this.seqs.set(userId, seq);
  }

  get(userId: number): number {
    return this.seqs.get(userId) ?? -1;
  }
}

/** How long a read waits for persistence to store the user's last command before answering with what is stored. */
export const READ_YOUR_WRITES_TIMEOUT_MS = 2000;

export async function readsCaughtUp(b: BinanceContext, userId: number): Promise<void> {
  const seq = b.userSeqs.get(userId);
  if (seq >= 0) await b.persisted.waitFor(seq, READ_YOUR_WRITES_TIMEOUT_MS);
}
