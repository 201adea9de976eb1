/**
 * Debian's chromium driven by playwright-core (its own browser downloads are unreachable here), as
 * the web UI's tests use it: headless, no sandbox (root), no background networking (the machine has no
 * internet), a fresh profile per launch (playwright makes one in a temporary directory). Every page
 * records console errors, uncaught exceptions and Content-Security-Policy violations.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { REPO_ROOT } from './orchestrator-process';

export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = join(REPO_ROOT, 'docs', 'screenshots');

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS, timeout: 60_000 });
}

export interface PageProblems {
  readonly consoleErrors: string[];
  readonly violations: string[];
}

/** A page whose console errors and CSP violations are collected into `problems`. */
export async function watchedPage(context: BrowserContext): Promise<{ page: Page; problems: PageProblems }> {
  const problems: PageProblems = { consoleErrors: [], violations: [] };
  const page = await context.newPage();
  await page.exposeFunction('__reportViolation', (text: string) => problems.violations.push(text));
  // A string: it runs in the page, whose types (DOM) this Node-side project does not compile against.
  await page.addInitScript(`document.addEventListener('securitypolicyviolation', (event) =>
    window.__reportViolation(event.violatedDirective + ' blocked ' + (event.blockedURI || 'inline') + ' (' + event.sourceFile + ':' + event.lineNumber + ')'));`);
  page.on('console', (message) => {
    if (message.type() === 'error') problems.consoleErrors.push(`${message.text()} ${message.location().url}`);
  });
  page.on('pageerror', (error) => problems.consoleErrors.push(`uncaught: ${error.message}`));
  return { page, problems };
}

/** Waits until a row of the fleet table shows this power state (data-power), polling every 50 ms. */
export async function waitForRowPower(page: Page, name: string, state: string, timeoutMs: number): Promise<void> {
  // A function, not a string: playwright calls it through the debugging protocol, which the page's
  // CSP (no eval) does not govern. It runs in the page: no DOM types here, hence globalThis.
  await page.waitForFunction(
    ([row, want]) => (globalThis as unknown as PageGlobals).document.querySelector(`tr[data-name="${row}"]`)?.getAttribute('data-power') === want,
    [name, state] as const,
    { timeout: timeoutMs, polling: 50 },
  );
}

/** What the functions above read of the page's globals. */
interface PageGlobals {
  readonly document: { querySelector(selector: string): { getAttribute(name: string): string | null } | null };
}

export async function saveScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, name);
  await page.screenshot({ path });
  return path;
}
