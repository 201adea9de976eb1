/**
 * The node page's consoles in Debian's chromium and firefox-esr against a QEMU node (TCG) booting the
 * test guest: created through the form, powered on with the button, the noVNC canvas going from black
 * to the firmware's and guest's picture (pixels compared), the serial console in xterm.js answering a
 * typed command while `ipmitool sol activate` runs on the same node, a second browser context seeing
 * the same output with its history, the fleet page's live picture of the screen, and a power cycle
 * booting the guest again in the same console.
 * The same scenario runs in each browser, with its own fleet. Writes docs/screenshots/node.png (from
 * chromium). Needs the consoles behind /api/v1/nodes/:name/console/*.
 */
import { existsSync } from 'node:fs';
import { GUEST_DIR } from '../../node-image/test/e2e/node-container';
import { TerminalSession } from '../../node-image/test/support/ipmitool-runner';
import { describeWithTools, ipmitoolArgs } from '../../node-image/test/support/tools';
import { BROWSER_KINDS, describeInBrowser, sleep, TestBrowser, type BrowserKind, type TestPage } from './support/browser';
import { buildOrchestrator, newFleetSettings, OrchestratorProcess } from './support/orchestrator-process';
import { buildWebUi } from './support/web-ui-build';

const NAME = 'console1';
const PASSWORD = 's3cret-pass';
const BOOT_MS = 180_000;
const READY = 'BMCFLEET-GUEST-READY';

/** Pixels of the noVNC canvas that are not black (0 when there is no canvas yet). Runs in the page. */
function litPixels(page: TestPage): Promise<number> {
  return page.page.evaluate(() => {
    const canvas = (globalThis as unknown as { document: { querySelector(s: string): { width: number; height: number; getContext(k: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null } | null } }).document.querySelector('#vnc-screen canvas');
    if (canvas === null || canvas.width === 0 || canvas.height === 0) return 0;
    const data = canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data;
    if (data === undefined) return 0;
    let lit = 0;
    for (let i = 0; i < data.length; i += 4) if ((data[i] as number) + (data[i + 1] as number) + (data[i + 2] as number) > 48) lit += 1;
    return lit;
  });
}

/** What the terminal shows now (xterm.js's DOM rows). */
function terminalText(page: TestPage): Promise<string> {
  return page.renderedText('#serial-terminal .xterm-rows');
}

async function waitForTerminal(page: TestPage, text: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await terminalText(page)).includes(text)) {
    if (Date.now() > deadline) throw new Error(`the serial console did not show ${JSON.stringify(text)} within ${timeoutMs} ms; it shows:\n${await terminalText(page)}`);
    await sleep(250);
  }
}

const haveGuest = existsSync(`${GUEST_DIR}/guest.iso`);

function consolesScenario(kind: BrowserKind): void {
  const describeBrowser = haveGuest ? describeInBrowser(kind, ['docker', 'ipmitool']) : describeWithTools(['test-guest-iso']);
  describeBrowser(`web UI in ${kind}: a QEMU node's graphical and serial consoles`, () => {
    const fleet = new OrchestratorProcess(newFleetSettings(4, { RECONCILE_INTERVAL_S: '0', NODE_DEFAULTS_VM_BOOT: 'd', ISO_DIR: GUEST_DIR }));
    let browser: TestBrowser;
    let page: TestPage;
    let sol: TerminalSession | null = null;

    beforeAll(async () => {
      buildOrchestrator();
      buildWebUi();
      await fleet.start();
      browser = await TestBrowser.launch(kind);
      page = await browser.newPage({ width: 1400, height: 900 });
    });

    afterAll(async () => {
      await sol?.kill();
      await browser?.close();
      await fleet.cleanup();
    });

    it('creates the node through the form and opens its page', async () => {
      await page.goto(`${fleet.url}/`);
      await page.click('#new-node');
      await page.fill('#create-name', NAME);
      await page.fill('#create-memoryMiB', '512');
      await page.fill('#create-cpus', '1');
      await page.fill('#create-cdrom', 'guest.iso');
      await page.fill('#create-ipmiPassword', PASSWORD);
      await page.click('.create-form button[type=submit]');
      await page.waitForText('.form-ok', `Node ${NAME} created`, 150_000);
      await page.click(`tr[data-name="${NAME}"] th.name a`);
      await page.waitForUrl(`${fleet.url}/nodes/${NAME}`);
      await page.waitForText('#serial-status', 'connected');
    });

    it('powers it on with the button; the screen goes from black to the firmware and guest', async () => {
      expect(await litPixels(page)).toBe(0);
      await page.click('.toolbar button[data-action="on"]');
      await page.waitFor('#power-result.ok');
      const deadline = Date.now() + BOOT_MS;
      let lit = 0;
      while ((lit = await litPixels(page)) < 500 && Date.now() < deadline) await sleep(500);
      expect(lit).toBeGreaterThanOrEqual(500);
    });

    it('answers a command typed into the serial console while ipmitool sol activate runs on the same node', async () => {
      await waitForTerminal(page, READY, BOOT_MS);
      const nodes = (await fleet.request<{ name: string; ipmi: { port: number } }[]>('GET', '/api/v1/nodes')).body;
      const port = nodes.find((node) => node.name === NAME)?.ipmi.port as number;
      sol = new TerminalSession(['ipmitool', ...ipmitoolArgs(port, ['sol', 'activate'], { password: PASSWORD })]);
      expect(await sol.waitFor('SOL Session operational', 30_000)).toBe(true);
      await page.click('#serial-terminal');
      await page.type(`echo ${kind}-$((6*7))\n`);
      await waitForTerminal(page, `${kind}-42`, 30_000);
      expect(await sol.waitFor(`${kind}-42`, 30_000)).toBe(true);
      if (kind === 'chromium') await page.screenshot('node.png');
    });

    it('shows a second browser the same console, history included', async () => {
      const second = await browser.newPage({ width: 1400, height: 900 });
      await second.goto(`${fleet.url}/nodes/${NAME}`);
      await waitForTerminal(second, `${kind}-42`, 30_000);
      expect(second.problems.violations).toEqual([]);
    });

    it('shows a small live picture of the node\'s screen in its row of the fleet page', async () => {
      const list = await browser.newPage({ width: 1400, height: 900 });
      await list.goto(`${fleet.url}/`);
      // The row's image loaded from the screenshot API, and not black: the booted guest's screen.
      const lit = await list.page.waitForFunction(
        (name: string) => {
          type Image = { complete: boolean; naturalWidth: number; naturalHeight: number; src: string };
          type Context = { drawImage(image: Image, x: number, y: number): void; getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
          const g = globalThis as unknown as { document: { querySelector(s: string): Image | null; createElement(tag: 'canvas'): { width: number; height: number; getContext(kind: '2d'): Context | null } } };
          const image = g.document.querySelector(`tr[data-name="${name}"] img.thumb`);
          if (image === null || !image.complete || image.naturalWidth === 0 || !image.src.includes('screenshot.png')) return false;
          const canvas = g.document.createElement('canvas');
          canvas.width = image.naturalWidth;
          canvas.height = image.naturalHeight;
          const context = canvas.getContext('2d');
          if (context === null) return false;
          context.drawImage(image, 0, 0);
          const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
          let count = 0;
          for (let i = 0; i < data.length; i += 4) if ((data[i] as number) + (data[i + 1] as number) + (data[i + 2] as number) > 48) count += 1;
          return count > 0 ? count : false;
        },
        { timeout: 60_000, polling: 500 },
        NAME,
      );
      expect(await lit.jsonValue()).toBeGreaterThan(0);
      expect(list.problems.violations).toEqual([]);
    });

    it('power-cycles with the button and shows the guest booting again in the same console', async () => {
      await page.click('#serial-terminal');
      await page.type('clear\n');
      const cleared = Date.now() + 30_000;
      while ((await terminalText(page)).includes(READY) && Date.now() < cleared) await sleep(250);
      expect(await terminalText(page)).not.toContain(READY);
      await page.click('.toolbar button[data-action="cycle"]');
      await page.waitForText('#power-result.ok', 'cycle');
      await waitForTerminal(page, READY, BOOT_MS);
      expect(sol?.hasExited).toBe(false);
    });

    it('had no CSP violation and no console error on the way', () => {
      expect(page.problems.violations).toEqual([]);
      // noVNC logs its refused connections while the VM was still off (4503: no display yet); nothing else.
      expect(page.problems.consoleErrors.filter((line) => !line.startsWith('Failed when connecting: Connection closed (code: 4503'))).toEqual([]);
    });
  });
}

for (const kind of BROWSER_KINDS) consolesScenario(kind);
