// What bench:web measures inside the page (bench/web.ts): a script added to every document before the page's own
// scripts run. It watches frames (requestAnimationFrame), long tasks (PerformanceObserver 'longtask', tasks over
// 50 ms) and the order book ladder (a MutationObserver). The page draws the book in a requestAnimationFrame callback
// (web/src/feed.ts), so a level entering the DOM is painted in that same frame: its time is when it entered. Times
// are epoch ms (timeOrigin + now), so they compare with the bench's Date.now().

import type { Page } from 'playwright-core';

/** A level as the ladder shows it and as the REST book has it, both made canonical by canonicalDecimal. */
export type LadderLevel = [price: string, qty: string];

export interface PageCounters {
  /** Epoch ms when both sides of the ladder were first in the DOM (painted in that frame); 0 until then. */
  readonly ladderAtEpochMs: number;
  readonly frames: number;
  readonly longestFrameGapMs: number;
  /** Frame gaps over 100 ms: what a person notices as a stutter. */
  readonly frameGapsOver100Ms: number;
  readonly longTasks: number;
  readonly longTasksMs: number;
  /** Canonical price -> epoch ms when its level first entered the ladder. */
  readonly seen: Record<string, number>;
}

// Page code is text here: this project's type check has no DOM library, and Playwright sends it as text anyway.
const INSTRUMENT = String.raw`(() => {
  const canonical = (s) => {
    const t = s.replace(/,/g, '');
    return t.includes('.') ? t.replace(/0+$/, '').replace(/\.$/, '') : t;
  };
  const s = { ladderAtEpochMs: 0, frames: 0, longestFrameGapMs: 0, frameGapsOver100Ms: 0, longTasks: 0, longTasksMs: 0, seen: {} };
  let lastFrameMs = 0;
  const epochMs = () => performance.timeOrigin + performance.now();
  const frame = (t) => {
    if (lastFrameMs > 0) {
      const gap = t - lastFrameMs;
      if (gap > s.longestFrameGapMs) s.longestFrameGapMs = gap;
      if (gap > 100) s.frameGapsOver100Ms++;
    }
    lastFrameMs = t;
    s.frames++;
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      s.longTasks++;
      s.longTasksMs += e.duration;
    }
  }).observe({ type: 'longtask', buffered: true });
  const levelPrice = /^(?:Bid|Ask) ([0-9,.]+),/;
  new MutationObserver((records) => {
    const now = epochMs();
    if (s.ladderAtEpochMs === 0 && document.querySelector('[data-testid=bids] button.level') !== null && document.querySelector('[data-testid=asks] button.level') !== null) {
      s.ladderAtEpochMs = now;
    }
    for (const r of records) {
      for (const n of r.addedNodes) {
        if (!(n instanceof Element)) continue;
        for (const b of [n, ...n.querySelectorAll('button.level')]) {
          const m = b.matches('button.level') ? levelPrice.exec(b.getAttribute('aria-label') ?? '') : null;
          if (m !== null) s.seen[canonical(m[1])] ??= now;
        }
      }
    }
  }).observe(document, { childList: true, subtree: true });
  window.__bench = {
    state: s,
    reset() {
      Object.assign(s, { longestFrameGapMs: 0, frameGapsOver100Ms: 0, frames: 0, longTasks: 0, longTasksMs: 0 });
    },
  };
})();`;

/**
 * Waits until the ladder is on screen. Polled from here: waitForFunction compiles its predicate in the page, which
 * the page's Content-Security-Policy (no unsafe-eval) refuses; the time itself is taken in the page, by frame.
 */
export async function waitForLadder(page: Page, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (
    !((await page.evaluate('window.__bench !== undefined && window.__bench.state.ladderAtEpochMs > 0')) as boolean)
  ) {
    if (Date.now() > deadline) throw new Error(`the ladder was not on screen after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function instrumentPages(page: Page): Promise<void> {
  await page.addInitScript({ content: INSTRUMENT });
}

export async function readCounters(page: Page): Promise<PageCounters> {
  return (await page
    .evaluate('JSON.stringify(window.__bench.state)')
    .then((t) => JSON.parse(t as string))) as PageCounters;
}

/** Starts a measuring window: frame and long-task counters from zero (the levels seen are kept). */
export async function resetCounters(page: Page): Promise<void> {
  await page.evaluate('window.__bench.reset()');
}

/** "1,234.50" and "1234.5" alike: no grouping, no trailing fractional zeros. */
export function canonicalDecimal(s: string): string {
  const t = s.replace(/,/g, '');
  return t.includes('.') ? t.replace(/0+$/, '').replace(/\.$/, '') : t;
}

/** The ladder as a person reads it: each side's levels, best first, from the buttons' accessible names. */
export async function readLadder(page: Page): Promise<{ bids: LadderLevel[]; asks: LadderLevel[] }> {
  const side = async (testId: string): Promise<LadderLevel[]> => {
    const labels = (await page
      .getByTestId(testId)
      .locator('button.level')
      .evaluateAll((bs) => bs.map((b) => b.getAttribute('aria-label') ?? ''))) as string[];
    return labels.map((l) => {
      const m = /^(?:Bid|Ask) ([0-9,.]+), quantity ([0-9,.]+):/.exec(l);
      if (m === null) throw new Error(`a ladder level reads ${JSON.stringify(l)}`);
      return [canonicalDecimal(m[1]), canonicalDecimal(m[2])];
    });
  };
  // The page shows the asks highest first (the best ask next to the spread): reversed, best first.
  return { bids: await side('bids'), asks: (await side('asks')).reverse() };
}
