// For the browser tests (Chromium itself: testkit/chromium.ts): helpers that wait for what a person would see on
// the page.

import type { Locator, Page } from 'playwright-core';

/** Waits until the locator's text contains `want` (or matches it); the last text seen is in the error. */
export async function seeText(loc: Locator, want: string | RegExp, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    last = (await loc.innerText({ timeout: 2000 }).catch(() => '')) ?? '';
    if (typeof want === 'string' ? last.includes(want) : want.test(last)) return last;
    if (Date.now() > deadline)
      throw new Error(
        `waited ${timeoutMs} ms for ${JSON.stringify(String(want))}; the page showed: ${JSON.stringify(last.slice(0, 800))}`,
      );
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The cells of a table row, as the person reads them. */
export async function cells(row: Locator): Promise<string[]> {
  return (await row.locator('td').allInnerTexts()).map((s) => s.trim());
}

/** In seeRow: a cell whose text is not compared (a time of day). */
export const ANY = null;

/** Waits until the cells of the row (the first one matched), from its first cell, equal `want` (ANY: any text). */
export async function seeRow(row: Locator, want: (string | null)[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: string[] = [];
  for (;;) {
    last = (await row.count()) > 0 ? (await cells(row.first())).slice(0, want.length) : [];
    if (last.length === want.length && want.every((w, i) => w === null || w === last[i])) return;
    if (Date.now() > deadline)
      throw new Error(`waited ${timeoutMs} ms for the row ${JSON.stringify(want)}; it showed ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * What went wrong on a page that a person would not see at once: console errors, requests that failed at the
 * network level, answers with an error status. Expected API refusals are named by the test and removed.
 */
export class PageProblems {
  readonly console: string[] = [];
  readonly failed: string[] = [];
  readonly errorAnswers: string[] = [];

  watch(page: Page, name: string): void {
    page.on('console', (m) => {
      if (m.type() === 'error') this.console.push(`${name}: ${m.text()}`);
    });
    page.on('pageerror', (e) => this.console.push(`${name}: uncaught ${e.message}`));
    page.on('requestfailed', (r) => {
      // A navigation away cancels what the old page was loading: not a failure a person would notice.
      if (r.failure()?.errorText !== 'net::ERR_ABORTED')
        this.failed.push(`${name}: ${r.method()} ${r.url()} ${r.failure()?.errorText ?? ''}`);
    });
    page.on('response', (r) => {
      if (r.status() >= 400)
        this.errorAnswers.push(`${name}: ${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`);
    });
  }

  /** Removes one expected error answer (and the console line Chromium prints for it); false when it was not there. */
  expect(answer: string): boolean {
    const i = this.errorAnswers.indexOf(answer);
    if (i < 0) return false;
    this.errorAnswers.splice(i, 1);
    const status = answer.split(' ')[1];
    const c = this.console.findIndex((l) => l.startsWith(answer.split(':')[0]) && l.includes(`status of ${status}`));
    if (c >= 0) this.console.splice(c, 1);
    return true;
  }
}
