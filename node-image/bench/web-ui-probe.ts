/**
 * What the fleet-page bench measures inside the page (Chromium): how late a 50 ms timer fires (a busy
 * main thread delays it), the long tasks (Long Tasks API), and for each key the bench presses, the
 * Event Timing API's duration: from the key's hardware timestamp to the next paint after its handlers
 * ran (input delay + processing + presentation; Chromium reports events of 16 ms or more).
 */
import type { Page } from 'puppeteer-core';

export interface PageTimings {
  readonly lagsMs: number[];
  readonly longTasksMs: number[];
  /** keydown durations the browser reported (those of 16 ms or more). */
  readonly keyDurationsMs: number[];
}

type ProbeGlobals = Record<string, unknown> & {
  performance: { now(): number };
  PerformanceObserver: new (cb: (list: { getEntries(): { name: string; duration: number }[] }) => void) => { observe(o: object): void };
};

/** Installs the probes; readTimings collects what they recorded. */
export async function startProbes(page: Page): Promise<void> {
  await page.evaluate(() => {
    const g = globalThis as unknown as ProbeGlobals;
    const timings = { lagsMs: [] as number[], longTasksMs: [] as number[], keyDurationsMs: [] as number[] };
    g['__timings'] = timings;
    new g.PerformanceObserver((list) => { for (const entry of list.getEntries()) timings.longTasksMs.push(entry.duration); }).observe({ type: 'longtask' });
    new g.PerformanceObserver((list) => {
      for (const entry of list.getEntries()) if (entry.name === 'keydown') timings.keyDurationsMs.push(entry.duration);
    }).observe({ type: 'event', durationThreshold: 16 });
    let expected = g.performance.now() + 50;
    const tick = (): void => {
      const now = g.performance.now();
      timings.lagsMs.push(Math.max(0, now - expected));
      expected = now + 50;
      setTimeout(tick, 50);
    };
    setTimeout(tick, 50);
  });
}

export function readTimings(page: Page): Promise<PageTimings> {
  return page.evaluate(() => (globalThis as unknown as { __timings: PageTimings }).__timings);
}

/** The power state every row shows (data-power), by node name. */
export function shownPowerStates(page: Page): Promise<Record<string, string | null>> {
  return page.evaluate(() => {
    const out: Record<string, string | null> = {};
    const g = globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<{ getAttribute(a: string): string | null }> } };
    for (const row of Array.from(g.document.querySelectorAll('#nodes tr'))) out[row.getAttribute('data-name') ?? ''] = row.getAttribute('data-power');
    return out;
  });
}

export async function waitForShownPower(page: Page, name: string, state: string, timeoutMs: number): Promise<void> {
  await page.waitForFunction(
    (row: string, want: string) => (globalThis as unknown as { document: { querySelector(s: string): { getAttribute(a: string): string | null } | null } }).document.querySelector(`tr[data-name="${row}"]`)?.getAttribute('data-power') === want,
    { polling: 'raf', timeout: timeoutMs },
    name,
    state,
  );
}
