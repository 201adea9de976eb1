/**
 * The node consoles through the orchestrator, end to end: a QEMU node (the test guest, TCG) in the
 * real Docker engine, the orchestrator process with API_TOKEN, the `ws` client, ipmitool and the CLI.
 * - the serial console WebSocket shows the guest booting while `ipmitool sol activate` runs on the
 *   same node; a second viewer gets the history; typing reaches the guest and every viewer (and SOL);
 *   a power cycle shows the guest booting again on the same WebSocket;
 * - the graphical console completes RFB 3.8 with security type None only and sends a framebuffer
 *   that is not black; the screenshot is a PNG (and a thumbnail of the asked width);
 * - `bmcfleet nodes console` types into the same console; `bmcfleet nodes screenshot` writes a PNG;
 * - refused: no token, a wrong token, a foreign Origin; a deleted node's console closes with 4410.
 * The node image is BMCFLEET_NODE_IMAGE when set (a tag of one's own build), else bmcfleet/node:latest.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { GUEST_DIR, NODE_IMAGE, READY_MARKER } from '../../node-image/test/e2e/node-container';
import { pollUntil, TerminalSession } from '../../node-image/test/support/ipmitool-runner';
import { describeWithTools, ipmitoolArgs } from '../../node-image/test/support/tools';
import { openConsole, refusedUpgrade, type ConsoleClient } from '../../node-image/test/support/console-ws';
import { buildOrchestrator, newFleetSettings, OrchestratorProcess, REPO_ROOT } from './support/orchestrator-process';
import { rfbFramebuffer } from '../../node-image/test/support/rfb-over-websocket';

const TOKEN = `console-e2e-${randomBytes(8).toString('hex')}`;
const PASSWORD = 'console-e2e-pass';
const BOOT_MS = 180_000;
const CLI_MAIN = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
const PNG_SIGNATURE = '89504e470d0a1a0a';

const readyCount = (text: string): number => [...text.matchAll(new RegExp(READY_MARKER.source, 'g'))].length;

/** Width, height and whether any pixel is not black, of a PNG this project encodes (8-bit RGB, filter 0 rows). */
function pngSummary(png: Buffer): { width: number; height: number; nonBlack: boolean } {
  expect(png.subarray(0, 8).toString('hex')).toBe(PNG_SIGNATURE);
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  const idat: Buffer[] = [];
  for (let o = 8; o < png.length;) {
    const length = png.readUInt32BE(o);
    if (png.subarray(o + 4, o + 8).toString('latin1') === 'IDAT') idat.push(png.subarray(o + 8, o + 8 + length));
    o += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  let nonBlack = false;
  for (let y = 0; y < height && !nonBlack; y++) {
    const row = raw.subarray(y * (width * 3 + 1) + 1, (y + 1) * (width * 3 + 1));
    nonBlack = row.some((b) => b > 0x10);
  }
  return { width, height, nonBlack };
}

describeWithTools(['docker', 'ipmitool', 'script'])('node consoles through the orchestrator (QEMU node)', () => {
  const fleet = new OrchestratorProcess(newFleetSettings(6, { RECONCILE_INTERVAL_S: '0', NODE_DEFAULTS_VM_BOOT: 'd', ISO_DIR: GUEST_DIR, API_TOKEN: TOKEN, NODE_IMAGE }));
  const opened: ConsoleClient[] = [];
  const terminals: TerminalSession[] = [];
  const auth = { Authorization: `Bearer ${TOKEN}` };
  const wsUrl = (path: string): string => `${fleet.url.replace(/^http/, 'ws')}${path}`;
  const api = async (method: string, path: string, body?: unknown): Promise<Response> =>
    fetch(`${fleet.url}${path}`, { method, headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const viewer = async (kind: 'serial' | 'graphical', name = 'con'): Promise<ConsoleClient> => {
    const c = await openConsole({ url: wsUrl(`/api/v1/nodes/${name}/console/${kind}`), headers: auth });
    opened.push(c);
    return c;
  };
  let ipmiPort = 0;

  beforeAll(async () => {
    buildOrchestrator();
    await fleet.start();
    const created = await api('POST', '/api/v1/nodes', { name: 'con', machine: 'qemu', memoryMiB: 256, cpus: 1, diskSizeGiB: 1, ipmiPassword: PASSWORD, cdrom: 'guest.iso' });
    expect(created.status).toBe(201);
    ipmiPort = ((await created.json()) as { ipmi: { port: number } }).ipmi.port;
  });
  afterAll(async () => {
    for (const c of opened) c.ws.terminate();
    await Promise.all(terminals.map((t) => t.kill()));
    await fleet.cleanup();
  });

  it('refuses the upgrade without the token, with a wrong one, with a foreign Origin, and for an unknown node', async () => {
    const url = wsUrl('/api/v1/nodes/con/console/serial');
    const none = await refusedUpgrade({ url });
    expect(none.status).toBe(401);
    expect(JSON.parse(none.body).message).toBe('bearer token required');
    expect((await refusedUpgrade({ url, headers: { Authorization: 'Bearer not-the-token' } })).status).toBe(401);
    const foreign = await refusedUpgrade({ url, headers: { ...auth, Origin: 'http://evil.example' } });
    expect(foreign.status).toBe(403);
    expect(JSON.parse(foreign.body).message).toMatch(/cross-site requests are refused/);
    expect((await refusedUpgrade({ url: wsUrl('/api/v1/nodes/nosuch/console/serial'), headers: auth })).status).toBe(404);
    expect((await fetch(`${fleet.url}/api/v1/nodes/con/screenshot.png`)).status).toBe(401);
  });

  it('serial console: boot seen beside ipmitool SOL, history for a second viewer, typing, and a power cycle on the same WebSocket', async () => {
    const first = await viewer('serial');
    const sol = new TerminalSession(['ipmitool', ...ipmitoolArgs(ipmiPort, ['sol', 'activate'], { password: PASSWORD })]);
    terminals.push(sol);
    expect(await sol.waitFor('[SOL Session operational', 30_000)).toBe(true);

    expect((await api('POST', '/api/v1/nodes/con/power', { action: 'on' })).status).toBe(200);
    await first.waitFor(READY_MARKER, BOOT_MS);
    expect(await sol.waitFor(READY_MARKER, 60_000)).toBe(true);

    const second = await viewer('serial');
    await second.waitFor(READY_MARKER, 30_000);
    const word = `ws-${randomBytes(3).toString('hex')}`;
    await first.waitFor('guest# ', 60_000);
    first.send(`echo ${word}-$((40+2))\r`);
    for (const c of [first, second]) await c.waitFor(`${word}-42`, 30_000);
    expect(await sol.waitFor(`${word}-42`, 30_000)).toBe(true);
    expect(sol.hasExited).toBe(false);

    const before = readyCount(first.received().toString('latin1'));
    expect((await api('POST', '/api/v1/nodes/con/power', { action: 'cycle' })).status).toBe(200);
    await pollUntil(async () => readyCount(first.received().toString('latin1')), (n) => n > before, { attempts: 10_000, timeoutMs: BOOT_MS, intervalMs: 200 });
    expect(readyCount(first.received().toString('latin1'))).toBeGreaterThan(before);
    expect(first.ws.readyState).toBe(first.ws.OPEN);
    await sol.kill();
  });

  it('graphical console: RFB with security None only, and a framebuffer that is not black', async () => {
    const kvm = await viewer('graphical');
    const fb = await rfbFramebuffer(kvm, 60_000);
    expect(fb.securityTypes).toEqual([1]);
    expect(fb.width).toBeGreaterThan(0);
    expect(fb.pixels.length).toBe(fb.width * fb.height * 4);
    expect(fb.pixels.some((b, i) => i % 4 !== 3 && b > 0x10)).toBe(true);
    kvm.close();
  });

  it('screenshot: a non-black PNG through the API and the CLI, and a thumbnail of the asked width', async () => {
    const full = await api('GET', '/api/v1/nodes/con/screenshot.png');
    expect(full.status).toBe(200);
    expect(full.headers.get('content-type')).toBe('image/png');
    const png = pngSummary(Buffer.from(await full.arrayBuffer()));
    expect(png.nonBlack).toBe(true);
    const thumb = await api('GET', '/api/v1/nodes/con/screenshot.png?width=160');
    expect(pngSummary(Buffer.from(await thumb.arrayBuffer())).width).toBe(160);
    expect((await api('GET', '/api/v1/nodes/con/screenshot.png?width=5')).status).toBe(400);

    const dir = mkdtempSync(join(tmpdir(), 'bmcfleet-shot-'));
    try {
      const cli = new TerminalSession([process.execPath, CLI_MAIN, '--url', fleet.url, '--token', TOKEN, 'nodes', 'screenshot', 'con', '-o', join(dir, 'con.png')]);
      terminals.push(cli);
      expect(await cli.waitForExit(60_000)).toEqual({ code: 0, signal: null });
      expect(pngSummary(readFileSync(join(dir, 'con.png'))).width).toBe(png.width);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('bmcfleet nodes console types into the shared serial console; ~. ends it', async () => {
    const watcher = await viewer('serial');
    const cli = new TerminalSession([process.execPath, CLI_MAIN, '--url', fleet.url, '--token', TOKEN, 'nodes', 'console', 'con']);
    terminals.push(cli);
    expect(await cli.waitFor('[console of con is up', 30_000)).toBe(true);
    expect(await cli.waitFor(READY_MARKER, 30_000)).toBe(true); // the history
    const word = `cli-${randomBytes(3).toString('hex')}`;
    cli.type(`echo ${word}-$((1+1))\r`);
    await watcher.waitFor(`${word}-2`, 30_000);
    expect(await cli.waitFor(`${word}-2`, 30_000)).toBe(true);
    cli.type('\r~.');
    expect(await cli.waitForExit(30_000)).toEqual({ code: 0, signal: null });
  });

  it('a deleted node\'s console closes with 4410 and says so', async () => {
    const open = await viewer('serial');
    await open.waitFor(READY_MARKER, 30_000); // the history: the agent end is connected
    expect((await api('DELETE', '/api/v1/nodes/con?purge=true')).status).toBe(204);
    const closed = await open.closed;
    expect(closed).toEqual({ code: 4410, reason: 'node con was deleted' });
  });
});
