// bench:web's set-up and first-render measurement (bench/web.ts runs them): the maker's account, funding through
// the devnet faucet and a seeded book, all through the public API; cold first renders of the trading page.

import http from 'node:http';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import { SIDES } from '../engine/core/index.js';
import { until } from '../testkit/launcher.js';
import { log, round } from './measure.js';
import { instrumentPages, waitForLadder } from './web-page.js';

const RENDERS = Number(process.env.WEB_BENCH_RENDERS ?? 7);
export const PASSWORD = 'bench password 1234';
/** Seeded levels a side; the ladder shows fewer (web/src/orderbook.tsx), so it is always full. */
const SEED_LEVELS = 20;
/** Ticks between the seeded sides and the mid: new best prices come from this gap, one tick nearer each time. */
export const GAP_TICKS = 1000;

export interface Market {
  marketId: number;
  symbol: string;
  baseAsset: string;
  quoteAsset: string;
  tickSize: string;
  lotSize: string;
}

export class Api {
  constructor(
    readonly base: string,
    private token = '',
  ) {}

  async call<T>(method: string, url: string, body?: unknown): Promise<{ status: number; json: T }> {
    const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
    if (this.token !== '') headers.authorization = `Bearer ${this.token}`;
    const res = await fetch(this.base + url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as T };
  }

  async ok<T>(method: string, url: string, body?: unknown): Promise<T> {
    const { status, json } = await this.call<T>(method, url, body);
    if (status >= 300) throw new Error(`${method} ${url} answered ${status}: ${JSON.stringify(json)}`);
    return json;
  }

  async signUp(username: string): Promise<Api> {
    await this.ok('POST', '/v1/auth/register', { username, password: PASSWORD });
    const s = await this.ok<{ token: string }>('POST', '/v1/auth/login', { username, password: PASSWORD });
    return new Api(this.base, s.token);
  }
}

/** Price texts from whole ticks: exact (bigint units), as the API takes them. */
export function priceOf(ticks: number, tickSize: string): string {
  const decimals = tickSize.split('.')[1]?.length ?? 0;
  const units = (BigInt(ticks) * BigInt(tickSize.replace('.', ''))).toString().padStart(decimals + 1, '0');
  return decimals === 0 ? units : `${units.slice(0, -decimals)}.${units.slice(-decimals)}`;
}

export const percentile = (xs: number[], p: number): number | null => {
  if (xs.length === 0) return null;
  const sorted = [...xs].sort((a, b) => a - b);
  return round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))], 1);
};

export async function fund(maker: Api, market: Market): Promise<void> {
  for (const [asset, amount] of [
    [market.baseAsset, '10000'],
    [market.quoteAsset, '1000000'],
  ]) {
    await maker.ok('POST', '/v1/devnet/faucet', { asset, amount });
  }
  await until(
    "the faucet's deposits to be credited",
    async () => {
      const { balances } = await maker.ok<{ balances: { asset: string; available: string }[] }>('GET', '/v1/balances');
      const has = (a: string) => balances.some((b) => b.asset === a && b.available !== '0');
      return has(market.baseAsset) && has(market.quoteAsset) ? true : null;
    },
    120_000,
  );
}

/** The maker's book: SEED_LEVELS a side, GAP_TICKS and more away from the mid, 1 to 5 whole base units each. */
export async function seedBook(maker: Api, market: Market, midTicks: number): Promise<void> {
  const orders = [];
  for (let i = 0; i < SEED_LEVELS; i++) {
    for (const side of SIDES) {
      const ticks = side === 'buy' ? midTicks - GAP_TICKS - i * 25 : midTicks + GAP_TICKS + i * 25;
      orders.push({
        marketId: market.marketId,
        side,
        orderType: 'limit',
        price: priceOf(ticks, market.tickSize),
        quantity: String(1 + (i % 5)),
      });
    }
  }
  await Promise.all(orders.map((o) => maker.ok('POST', '/v1/orders', o)));
}

/** The page's scripts as served with Accept-Encoding: gzip (gzipped here when the gateway answered otherwise). */
async function scriptSizes(urls: string[]): Promise<{ jsBytes: number; jsGzipBytes: number }> {
  let jsBytes = 0;
  let jsGzipBytes = 0;
  for (const url of urls) {
    const { body, encoding } = await new Promise<{ body: Buffer; encoding: string }>((resolve, reject) => {
      http
        .get(url, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
          if (res.statusCode !== 200) reject(new Error(`${url} answered ${res.statusCode}`));
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ body: Buffer.concat(chunks), encoding: String(res.headers['content-encoding'] ?? '') }),
          );
        })
        .on('error', reject);
    });
    jsGzipBytes += encoding === 'gzip' ? body.length : gzipSync(body, { level: 9 }).length;
    jsBytes += encoding === 'gzip' ? gunzipSync(body).length : body.length;
  }
  return { jsBytes, jsGzipBytes };
}

/** In the page, once the ladder is on screen: when the HTML, the last script and the ladder arrived (ms from navigation). */
const TIMING = String.raw`JSON.stringify((() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const js = performance.getEntriesByType('resource').filter((e) => e.initiatorType === 'script' || /\.m?js(\?|$)/.test(e.name));
  return { docMs: nav.responseEnd, scriptsMs: Math.max(0, ...js.map((e) => e.responseEnd)), ladderMs: window.__bench.state.ladderAtEpochMs - performance.timeOrigin, scripts: js.map((e) => e.name) };
})())`;

/** Cold first renders: a fresh context (empty cache), logged in, navigated to the market; timed in the page. */
export async function firstRenders(
  browser: Browser,
  base: string,
  symbol: string,
  login: (page: Page) => Promise<void>,
): Promise<Record<string, number | null>> {
  const totals: number[] = [];
  const docs: number[] = [];
  const scriptsDone: number[] = [];
  let scripts: string[] = [];
  for (let i = 0; i < RENDERS; i++) {
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await ctx.newPage();
    await instrumentPages(page);
    await login(page);
    await page.goto(`${base}/trade/${symbol}`, { waitUntil: 'commit' });
    await waitForLadder(page);
    const timing = JSON.parse((await page.evaluate(TIMING)) as string) as {
      docMs: number;
      scriptsMs: number;
      ladderMs: number;
      scripts: string[];
    };
    totals.push(timing.ladderMs);
    docs.push(timing.docMs);
    scriptsDone.push(timing.scriptsMs);
    scripts = timing.scripts;
    log(
      `first render ${i + 1}/${RENDERS}: ${Math.round(timing.ladderMs)} ms (HTML at ${Math.round(timing.docMs)} ms, scripts at ${Math.round(timing.scriptsMs)} ms)`,
    );
    await ctx.close();
  }
  if (scripts.length === 0) throw new Error('the page loaded no scripts: is dist/web built?');
  return {
    firstRenderMsP50: percentile(totals, 0.5),
    firstRenderMsMax: round(Math.max(...totals), 1),
    docResponseMsP50: percentile(docs, 0.5),
    scriptsLoadedMsP50: percentile(scriptsDone, 0.5),
    ...(await scriptSizes(scripts)),
    renders: RENDERS,
  };
}
