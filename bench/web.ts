// `npm run bench:web`: the web trading page's budget (issue 15) in Debian's Chromium (playwright-core), against the
// exchange started the README's way (`npm start` on a fresh data directory, as test/web/trading-page.int.test.ts
// starts it). A market maker and a viewer sign up through the public API; the maker takes devnet tokens from the
// faucet and seeds a book (bench/web-render.ts). Prints one JSON line:
//   firstRenderMsP50/Max   cold navigation to /trade/BASE-QUOTE (a fresh browser context each run, logged in) until
//                          both sides of the ladder are on screen; WEB_BENCH_RENDERS runs
//   docResponseMsP50, scriptsLoadedMsP50   where that time goes: the HTML answered, the last script loaded
//   jsGzipBytes            the page's scripts as the gateway serves them gzipped (jsBytes uncompressed)
//   updatesPerSecOffered   book changes a second (a place or a cancel: a level appears or goes) offered through the
//                          public API for WEB_BENCH_SECONDS while the page is open; every place is a new best price,
//                          so its level appears at the top of the ladder
//   bookLagMsP50/P99/Max   from the order's API answer to its level on screen (negative: the page showed it before
//                          the API client had its answer); levelsNeverPainted: placed and canceled between two of
//                          the page's frames (it draws the book once a frame), so never drawn
//   longestFrameGapMs, frameGapsOver100Ms, longTasks, longTasksMs   whether the page froze meanwhile
//   bookMatchesRest        the ladder, once the changes are answered, equals the REST book's best levels
//   idle*                  the reference: the same page for the same time with no changes (the machine's own noise)
//   headroom               the same at WEB_BENCH_HEADROOM_RATE changes a second
// Settings: WEB_BENCH_RATE (20), WEB_BENCH_HEADROOM_RATE (100), WEB_BENCH_SECONDS (10), WEB_BENCH_RENDERS (7),
//   WEB_BENCH_MARKET (TKA-USDT), CHROMIUM_PATH. One IP sends everything, so the bench raises the gateway's rate
//   limits (GATEWAY_RATE_LIMIT_IP_PER_MIN and _KEY_PER_MIN, WEB_BENCH_RATE_LIMIT_PER_MIN, default 1,000,000):
//   they stay on, just high enough not to refuse what the bench offers.

import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { freePort } from '../chain/devnet/node.js';
import { run, stopWithSigint, until } from '../testkit/launcher.js';
import { launchChromium } from '../testkit/chromium.js';
import { log, round } from './measure.js';
import {
  canonicalDecimal,
  instrumentPages,
  readCounters,
  readLadder,
  resetCounters,
  waitForLadder,
} from './web-page.js';
import type { LadderLevel } from './web-page.js';
import { Api, GAP_TICKS, PASSWORD, firstRenders, fund, percentile, priceOf, seedBook } from './web-render.js';
import type { Market } from './web-render.js';

const REPO = path.join(import.meta.dirname, '..');
const RATE = Number(process.env.WEB_BENCH_RATE ?? 20);
const HEADROOM_RATE = Number(process.env.WEB_BENCH_HEADROOM_RATE ?? 100);
const SECONDS = Number(process.env.WEB_BENCH_SECONDS ?? 10);
const MARKET = process.env.WEB_BENCH_MARKET ?? 'TKA-USDT';
const RATE_LIMIT_PER_MIN = Number(process.env.WEB_BENCH_RATE_LIMIT_PER_MIN ?? 1_000_000);
const START_TIMEOUT_MS = 300_000;
/** How long the page may take to show the last changes once they are answered before the bench calls it behind. */
const SETTLE_MS = 5000;
/** Requests of the update stream in flight at most; a tick finding this many skips (counted) rather than queue. */
const IN_FLIGHT_MAX = 256;
/** Orders of the update stream resting at a time: a tick with this many cancels the oldest instead of placing. */
const LIVE_ORDERS_MAX = 6;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Placed {
  readonly price: string;
  readonly sentMs: number;
  answeredMs: number;
}

/** The maker's changes: places at ever better prices (one tick nearer the mid each), cancels of the oldest. */
class UpdateStream {
  readonly placed: Placed[] = [];
  private live: { clientOrderId: string; answered: Promise<void> }[] = [];
  private nextOffsetTicks = { buy: GAP_TICKS - 1, sell: GAP_TICKS - 1 };
  private count = 0;
  inFlight = 0;
  failed: string[] = [];

  constructor(
    private readonly maker: Api,
    readonly market: Market,
    private readonly midTicks: number,
  ) {}

  change(): Promise<void> {
    return this.live.length >= LIVE_ORDERS_MAX ? this.cancelOldest() : this.place();
  }

  private async place(): Promise<void> {
    const side = this.count % 2 === 0 ? 'buy' : 'sell';
    const offset = this.nextOffsetTicks[side]--;
    if (offset <= 0) throw new Error('the gap between the seeded sides is used up: raise GAP_TICKS');
    const price = priceOf(side === 'buy' ? this.midTicks - offset : this.midTicks + offset, this.market.tickSize);
    const clientOrderId = `wb-${process.pid}-${this.count++}`;
    const p: Placed = { price: canonicalDecimal(price), sentMs: Date.now(), answeredMs: 0 };
    this.placed.push(p);
    const answered = this.request('POST', '/v1/orders', {
      marketId: this.market.marketId,
      side,
      orderType: 'limit',
      price,
      quantity: String(1 + (this.count % 3)),
      clientOrderId,
    }).then(() => void (p.answeredMs = Date.now()));
    this.live.push({ clientOrderId, answered });
    return answered;
  }

  private async cancelOldest(): Promise<void> {
    const o = this.live.shift()!;
    // A cancel never overtakes its place: it waits for the place's answer (long past at these rates).
    await o.answered;
    await this.request('DELETE', `/v1/orders/by-client-id/${o.clientOrderId}`);
  }

  private async request(method: string, url: string, body?: unknown): Promise<void> {
    this.inFlight++;
    try {
      const { status, json } = await this.maker.call(method, url, body);
      // 202: no result in time (status unknown): not a success either.
      if (status === 202 || status < 200 || status >= 300)
        this.failed.push(`${status} ${method} ${url} ${JSON.stringify(json).slice(0, 200)}`);
    } finally {
      this.inFlight--;
    }
  }
}

/** Offers `rate` changes a second for SECONDS, open loop (a slow answer does not slow the offer). */
async function offer(stream: UpdateStream, rate: number): Promise<{ achievedPerSec: number; skippedTicks: number }> {
  const intervalMs = 1000 / rate;
  const ticks = Math.round(rate * SECONDS);
  const ops: Promise<void>[] = [];
  let skippedTicks = 0;
  const t0 = performance.now();
  for (let i = 0; i < ticks; i++) {
    const waitMs = t0 + i * intervalMs - performance.now();
    if (waitMs > 0) await sleep(waitMs);
    if (stream.inFlight >= IN_FLIGHT_MAX) skippedTicks++;
    else ops.push(stream.change());
  }
  await Promise.all(ops);
  const elapsedS = (performance.now() - t0) / 1000;
  return { achievedPerSec: round(ops.length / elapsedS, 1), skippedTicks };
}

/** The page's ladder against the REST book's best levels, retried for SETTLE_MS (the last deltas may be on their way). */
async function ladderMatchesRest(
  page: Page,
  maker: Api,
  market: Market,
): Promise<{ matches: boolean; levelsCompared: number }> {
  const deadline = Date.now() + SETTLE_MS;
  for (;;) {
    const shown = await readLadder(page);
    const limit = Math.max(shown.bids.length, shown.asks.length, 1);
    const rest = await maker.ok<{ bids: LadderLevel[]; asks: LadderLevel[] }>(
      'GET',
      `/v1/markets/${market.symbol}/depth?limit=${limit}`,
    );
    const canon = (ls: LadderLevel[]) => ls.map(([p, q]) => [canonicalDecimal(p), canonicalDecimal(q)]);
    const want = JSON.stringify({ bids: canon(rest.bids), asks: canon(rest.asks) });
    if (JSON.stringify(shown) === want) return { matches: true, levelsCompared: shown.bids.length + shown.asks.length };
    if (Date.now() > deadline) {
      log(`the ladder differs from the REST book:\n  page ${JSON.stringify(shown)}\n  REST ${want}`);
      return { matches: false, levelsCompared: shown.bids.length + shown.asks.length };
    }
    await sleep(250);
  }
}

/** One measuring window: `rate` changes a second while the page is open, then the lags and the final ladder. */
async function updates(page: Page, maker: Api, stream: UpdateStream, rate: number): Promise<Record<string, unknown>> {
  const first = stream.placed.length;
  const failedBefore = stream.failed.length;
  await resetCounters(page);
  const { achievedPerSec, skippedTicks } = await offer(stream, rate);
  const during = await readCounters(page);
  const mine = stream.placed.slice(first);
  const deadline = Date.now() + SETTLE_MS;
  let seen = during.seen;
  while (mine.some((p) => seen[p.price] === undefined) && Date.now() < deadline) {
    await sleep(250);
    seen = (await readCounters(page)).seen;
  }
  const lagsMs = mine.filter((p) => seen[p.price] !== undefined).map((p) => seen[p.price] - p.answeredMs);
  const fromSendMs = mine.filter((p) => seen[p.price] !== undefined).map((p) => seen[p.price] - p.sentMs);
  const { matches, levelsCompared } = await ladderMatchesRest(page, maker, stream.market);
  const failed = stream.failed.slice(failedBefore);
  if (failed.length > 0) log(`${failed.length} changes failed, e.g. ${failed.slice(0, 3).join('; ')}`);
  return {
    updatesPerSecOffered: rate,
    updatesPerSecAchieved: achievedPerSec,
    skippedTicks,
    failedAnswers: failed.length,
    levelsPlaced: mine.length,
    bookLagMsP50: percentile(lagsMs, 0.5),
    bookLagMsP99: percentile(lagsMs, 0.99),
    bookLagMsMax: lagsMs.length === 0 ? null : round(Math.max(...lagsMs), 1),
    bookLagFromSendMsP50: percentile(fromSendMs, 0.5),
    bookLagFromSendMsP99: percentile(fromSendMs, 0.99),
    levelsNeverPainted: mine.length - lagsMs.length,
    longestFrameGapMs: round(during.longestFrameGapMs, 1),
    frameGapsOver100Ms: during.frameGapsOver100Ms,
    frames: during.frames,
    longTasks: during.longTasks,
    longTasksMs: round(during.longTasksMs, 0),
    bookMatchesRest: matches,
    ladderLevelsCompared: levelsCompared,
  };
}

async function openViewer(browser: Browser, base: string, login: (page: Page) => Promise<void>): Promise<Page> {
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await ctx.newPage();
  await instrumentPages(page);
  await login(page);
  await page.goto(`${base}/trade/${MARKET}`);
  await waitForLadder(page);
  return page;
}

async function measure(base: string): Promise<Record<string, unknown>> {
  const anonymous = new Api(base);
  const maker = await anonymous.signUp(`bench_maker_${process.pid}`);
  const viewerName = `bench_viewer_${process.pid}`;
  await anonymous.signUp(viewerName);
  const { markets } = await anonymous.ok<{ markets: Market[] }>('GET', '/v1/markets');
  const market = markets.find((m) => m.symbol === MARKET);
  if (market === undefined)
    throw new Error(`no market ${MARKET}; there are ${markets.map((m) => m.symbol).join(', ')}`);
  // The mid: 100 quote units, in ticks.
  const midTicks = Math.round(100 / Number(market.tickSize));
  log('funding the maker through the faucet');
  await fund(maker, market);
  await seedBook(maker, market, midTicks);
  const browser = await launchChromium();
  try {
    const login = async (page: Page): Promise<void> => {
      const res = await page.request.post(`${base}/v1/auth/session`, {
        data: { username: viewerName, password: PASSWORD },
        headers: { origin: base },
      });
      if (!res.ok()) throw new Error(`the viewer's login answered ${res.status()}: ${await res.text()}`);
    };
    const renders = await firstRenders(browser, base, MARKET, login);
    const page = await openViewer(browser, base, login);
    log(`idle reference: ${SECONDS} s`);
    await resetCounters(page);
    await sleep(SECONDS * 1000);
    const idle = await readCounters(page);
    const stream = new UpdateStream(maker, market, midTicks);
    log(`${RATE} changes a second for ${SECONDS} s`);
    const atRate = await updates(page, maker, stream, RATE);
    log(`${HEADROOM_RATE} changes a second for ${SECONDS} s`);
    const headroom = await updates(page, maker, stream, HEADROOM_RATE);
    return {
      ...renders,
      ...atRate,
      idleLongestFrameGapMs: round(idle.longestFrameGapMs, 1),
      idleFrameGapsOver100Ms: idle.frameGapsOver100Ms,
      idleLongTasks: idle.longTasks,
      idleLongTasksMs: round(idle.longTasksMs, 0),
      headroom,
    };
  } finally {
    await browser.close();
  }
}

async function main(): Promise<void> {
  const loadAverage = os.loadavg();
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bench-web-'));
  const port = await freePort();
  const env = {
    DATA_DIR: dataDir,
    EMBEDDED_PG_PORT: '0',
    DEVNET_PORT: String(await freePort()),
    GATEWAY_PORT: String(port),
    LOG_LEVEL: 'warn',
    GATEWAY_RATE_LIMIT_IP_PER_MIN: String(RATE_LIMIT_PER_MIN),
    GATEWAY_RATE_LIMIT_KEY_PER_MIN: String(RATE_LIMIT_PER_MIN),
  };
  // The README's command, in its own process group so the stop reaches npm and the node it runs, as Ctrl-C does.
  const ex = run('npm', ['start'], { cwd: REPO, env, detached: true });
  try {
    log('starting the exchange (npm start)');
    await until(
      "the launcher's banner",
      () => (ex.output().includes('exchange-core is running') ? true : null),
      START_TIMEOUT_MS,
      ex,
    );
    const figures = await measure(`http://127.0.0.1:${port}`);
    process.stdout.write(
      JSON.stringify({
        bench: 'web',
        market: MARKET,
        ...figures,
        seconds: SECONDS,
        commit,
        cpus: os.cpus().length,
        loadAverage: Number(loadAverage[0].toFixed(2)),
        loadAverageEnd: Number(os.loadavg()[0].toFixed(2)),
        date: new Date().toISOString(),
      }) + '\n',
    );
  } finally {
    await stopWithSigint(ex, { group: true, graceMs: 30_000 });
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
