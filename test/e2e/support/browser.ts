/**
 * The browsers the web UI's tests run their scenarios in, behind one small interface: Debian's
 * `chromium` over the Chrome DevTools Protocol and Debian's `firefox-esr` over WebDriver BiDi, both
 * driven by puppeteer-core (their own browser downloads are unreachable here; docs/adr/0015). Each
 * launch is headless with a fresh profile; chromium without sandbox (root) and background networking
 * (no internet). Every page is in its own browser context (no shared cookies or cache) and records
 * console errors, uncaught exceptions, Content-Security-Policy violations and its event streams' connections.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import puppeteer, { type Browser, type BrowserContext, type Cookie, type Page } from 'puppeteer-core';
import { describeWithTools } from '../../../node-image/test/support/tools';
import { REPO_ROOT } from './orchestrator-process';

export type BrowserKind = 'chromium' | 'firefox';
const ALL_KINDS: readonly BrowserKind[] = ['chromium', 'firefox'];
/** The browsers the scenarios run in: all, or those WEB_UI_BROWSERS names (comma-separated). */
export const BROWSER_KINDS: readonly BrowserKind[] = (() => {
  const wanted = process.env['WEB_UI_BROWSERS'];
  if (wanted === undefined || wanted === '') return ALL_KINDS;
  const kinds = wanted.split(',').map((kind) => kind.trim());
  const unknown = kinds.filter((kind) => !(ALL_KINDS as readonly string[]).includes(kind));
  if (unknown.length > 0) throw new Error(`WEB_UI_BROWSERS names ${unknown.join(', ')}; the browsers are ${ALL_KINDS.join(', ')}`);
  return kinds as BrowserKind[];
})();
export const BROWSER_PATHS: Readonly<Record<BrowserKind, string>> = {
  chromium: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
  firefox: process.env['FIREFOX_PATH'] ?? '/usr/bin/firefox-esr',
};
export const SCREENSHOT_DIR = join(REPO_ROOT, 'docs', 'screenshots');

const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const DEFAULT_TIMEOUT_MS = 30_000;
const POLL_MS = 50;

/**
 * `describe` for a scenario in this browser when the browser and the other tools are there; without
 * the browser, skipped loudly on a developer machine and failing under CI=true (describeWithTools).
 */
export function describeInBrowser(kind: BrowserKind, tools: string[]): jest.Describe {
  return existsSync(BROWSER_PATHS[kind]) ? describeWithTools(tools) : describeWithTools([basename(BROWSER_PATHS[kind])]);
}

export interface PageProblems {
  readonly consoleErrors: string[];
  readonly violations: string[];
}

export interface Viewport {
  readonly width: number;
  readonly height: number;
}

export class TestBrowser {
  private constructor(
    readonly kind: BrowserKind,
    private readonly browser: Browser,
  ) {}

  static async launch(kind: BrowserKind): Promise<TestBrowser> {
    const browser = await puppeteer.launch(
      kind === 'chromium'
        ? { browser: 'chrome', executablePath: BROWSER_PATHS.chromium, headless: true, args: CHROMIUM_FLAGS, timeout: 60_000 }
        : { browser: 'firefox', executablePath: BROWSER_PATHS.firefox, headless: true, timeout: 60_000 },
    );
    return new TestBrowser(kind, browser);
  }

  version(): Promise<string> {
    return this.browser.version();
  }

  /** A page in a new browser context (its own cookies and cache), watched for problems. */
  async newPage(viewport: Viewport = { width: 1400, height: 900 }): Promise<TestPage> {
    const context = await this.browser.createBrowserContext();
    const page = await context.newPage();
    page.setDefaultTimeout(DEFAULT_TIMEOUT_MS);
    await page.setViewport(viewport);
    const problems: PageProblems = { consoleErrors: [], violations: [] };
    await page.exposeFunction('__reportViolation', (text: string) => problems.violations.push(text));
    // A string: it runs in the page, whose types (DOM) this Node-side project does not compile against.
    await page.evaluateOnNewDocument(`document.addEventListener('securitypolicyviolation', (event) =>
      window.__reportViolation(event.violatedDirective + ' blocked ' + (event.blockedURI || 'inline') + ' (' + event.sourceFile + ':' + event.lineNumber + ')'));`);
    // Counts the connections each EventSource of the page opens (its first and every reconnection).
    await page.evaluateOnNewDocument(`window.__eventStreamOpens = 0;
      window.EventSource = class extends window.EventSource {
        constructor(url, init) { super(url, init); this.addEventListener('open', () => { window.__eventStreamOpens += 1; }); }
      };`);
    page.on('console', (message) => {
      if (message.type() === 'error') problems.consoleErrors.push(`${message.text()} ${message.location().url ?? ''}`.trim());
    });
    page.on('pageerror', (error) => problems.consoleErrors.push(`uncaught: ${error instanceof Error ? error.message : String(error)}`));
    return new TestPage(context, page, problems);
  }

  async close(): Promise<void> {
    await this.browser.close();
  }
}

/** What a page's functions below read of its globals (no DOM types in this Node-side project). */
interface PageElement {
  readonly hidden: boolean;
  readonly disabled?: boolean;
  readonly checked?: boolean;
  readonly textContent: string | null;
  readonly innerText: string;
  getAttribute(name: string): string | null;
  checkVisibility?(): boolean;
}
interface PageDocument {
  querySelector(selector: string): PageElement | null;
}

/** The page operations the scenarios use; each waits (bounded) where a user would. */
export class TestPage {
  constructor(
    private readonly context: BrowserContext,
    readonly page: Page,
    readonly problems: PageProblems,
  ) {}

  /** Navigates; returns the document response's headers (lower-case names). */
  async goto(url: string): Promise<Record<string, string>> {
    const response = await this.page.goto(url);
    return response?.headers() ?? {};
  }

  url(): string {
    return this.page.url();
  }

  /** Clicks the element once it is visible (a plain element click: puppeteer's locator waited forever for a button of a modal dialog in firefox-esr). */
  async click(selector: string): Promise<void> {
    const element = await this.page.waitForSelector(selector, { visible: true });
    if (element === null) throw new Error(`no ${selector} to click`);
    await element.click();
    await element.dispose();
  }

  /** Replaces an input's value: cleared (with an input event, as a user's deletion fires), then typed. */
  async fill(selector: string, value: string): Promise<void> {
    await this.page.waitForSelector(selector, { visible: true });
    await this.page.$eval(selector, (element) => {
      const input = element as unknown as { value: string; focus(): void; dispatchEvent(event: unknown): boolean };
      input.focus();
      input.value = '';
      const g = globalThis as unknown as { Event: new (type: string, init: { bubbles: boolean }) => unknown };
      input.dispatchEvent(new g.Event('input', { bubbles: true }));
    });
    if (value !== '') await this.page.type(selector, value);
  }

  async select(selector: string, value: string): Promise<void> {
    await this.page.waitForSelector(selector);
    await this.page.select(selector, value);
  }

  async check(selector: string): Promise<void> {
    if (!(await this.page.$eval(selector, (element) => (element as unknown as PageElement).checked === true))) await this.click(selector);
  }

  /** Types on the keyboard into whatever has the focus ('\n' is Enter). */
  async type(text: string): Promise<void> {
    await this.page.keyboard.type(text);
  }

  /** Waits until the first element matching the selector has this text (a substring, or matching). */
  async waitForText(selector: string, text: string | RegExp, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    const pattern = typeof text === 'string' ? { source: text, flags: 'literal' } : { source: text.source, flags: text.flags };
    await this.page
      .waitForFunction(
        (sel, want) => {
          const content = (globalThis as unknown as { document: PageDocument }).document.querySelector(sel)?.textContent ?? null;
          if (content === null) return false;
          return want.flags === 'literal' ? content.includes(want.source) : new RegExp(want.source, want.flags).test(content);
        },
        { timeout: timeoutMs, polling: POLL_MS },
        selector,
        pattern,
      )
      .catch(async (error: unknown) => {
        throw new Error(`${selector} did not show ${String(text)} within ${timeoutMs} ms; it shows ${JSON.stringify(await this.text(selector))} (${String(error)}); the page shows:\n${await this.shown()}`);
      });
  }

  /** Waits until an element matching the selector is attached (or, with `detached`, until none is). */
  async waitFor(selector: string, state: 'attached' | 'detached' = 'attached', timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    await this.page
      .waitForFunction((sel, want) => ((globalThis as unknown as { document: PageDocument }).document.querySelector(sel) !== null) === (want === 'attached'), { timeout: timeoutMs, polling: POLL_MS }, selector, state)
      .catch(async (error: unknown) => {
        throw new Error(`${selector} was not ${state} within ${timeoutMs} ms (${String(error)}); the page (${this.page.url()}) shows:\n${await this.shown()}`);
      });
  }

  /** The start of what the page shows, for failure messages. */
  private async shown(): Promise<string> {
    return (await this.renderedText('body').catch((error: unknown) => `(unreadable: ${String(error)})`)).slice(0, 2000);
  }

  /** Waits until the page's URL equals the string or matches the pattern. */
  async waitForUrl(want: string | RegExp, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const matches = (): boolean => (typeof want === 'string' ? this.page.url() === want : want.test(this.page.url()));
    while (!matches()) {
      if (Date.now() > deadline) throw new Error(`the page is at ${this.page.url()}, not ${String(want)}, after ${timeoutMs} ms`);
      await sleep(POLL_MS);
    }
  }

  /** The element's text, or null when there is none. */
  text(selector: string): Promise<string | null> {
    return this.page.evaluate((sel) => (globalThis as unknown as { document: PageDocument }).document.querySelector(sel)?.textContent ?? null, selector);
  }

  /** The element's rendered text (innerText: what a user reads), or '' when there is none. */
  renderedText(selector: string): Promise<string> {
    return this.page.evaluate((sel) => (globalThis as unknown as { document: PageDocument }).document.querySelector(sel)?.innerText ?? '', selector);
  }

  attribute(selector: string, name: string): Promise<string | null> {
    return this.page.evaluate((sel, attribute) => (globalThis as unknown as { document: PageDocument }).document.querySelector(sel)?.getAttribute(attribute) ?? null, selector, name);
  }

  /** Whether the element is rendered (present, not hidden itself or by an ancestor). */
  visible(selector: string): Promise<boolean> {
    return this.page.evaluate((sel) => {
      const element = (globalThis as unknown as { document: PageDocument }).document.querySelector(sel);
      return element !== null && (element.checkVisibility?.() ?? !element.hidden);
    }, selector);
  }

  disabled(selector: string): Promise<boolean> {
    return this.page.$eval(selector, (element) => (element as unknown as PageElement).disabled === true);
  }

  /** Waits until a row of the fleet table shows this power state (data-power). */
  async waitForRowPower(name: string, state: string, timeoutMs: number): Promise<void> {
    await this.page.waitForFunction(
      (row, want) => (globalThis as unknown as { document: PageDocument }).document.querySelector(`tr[data-name="${row}"]`)?.getAttribute('data-power') === want,
      { timeout: timeoutMs, polling: POLL_MS },
      name,
      state,
    );
  }

  /** How many times the page's event streams have opened a connection since the document loaded. */
  eventStreamOpens(): Promise<number> {
    return this.page.evaluate(() => (globalThis as unknown as { __eventStreamOpens: number }).__eventStreamOpens);
  }

  /** The cookies of this page's browser context. */
  cookies(): Promise<Cookie[]> {
    return this.context.cookies();
  }

  async screenshot(name: string): Promise<string> {
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    const path = join(SCREENSHOT_DIR, name);
    await this.page.screenshot({ path: path as `${string}.png` });
    return path;
  }

  /**
   * Closes the page's browser context. The scenarios leave extra pages open until the browser closes:
   * in firefox-esr, closing one context over BiDi interrupted another context's open EventSource.
   */
  async close(): Promise<void> {
    await this.context.close();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
