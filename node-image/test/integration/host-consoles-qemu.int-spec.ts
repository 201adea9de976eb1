/**
 * The graphical console and the screenshot of the agent with MACHINE=qemu on the host (TCG, the
 * test guest's ISO, VNC_PASSWORD set): /kvm/0 completes RFB 3.8 with security type None only (the
 * agent answered QEMU's VNC Authentication itself) and sends a framebuffer that is not black once
 * the guest booted; /kvm/0/screenshot.png is a PNG of the screen, shrunk on request; with the VM off,
 * both answer 503. A ReadOnly user watches the same screen (view-only: its key and pointer messages
 * are dropped by the agent, rfb-view-only.spec.ts shows which) and its console stays open after
 * sending them. Needs qemu-system-x86_64, qemu-img, ipmitool and the test guest
 * (scripts/build-test-guest.sh); skipped loudly without them, failing under CI=true.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_MAIN } from '../support/agent-process';
import { describeWithTools } from '../support/tools';
import { ipmitool } from '../support/ipmitool-runner';
import { freeTcpPort, startRedfishAgent, type RedfishAgent } from '../support/redfish-http';
import { basicAuth, openConsole, refusedUpgrade, type ConsoleClient } from '../support/console-ws';
import { QNUM_POWER, rfbFramebuffer, rfbPressKey } from '../support/rfb-over-websocket';

const REPO_ROOT = join(__dirname, '..', '..', '..');
const GUEST_ISO = join(process.env['BMCFLEET_TEST_GUEST_DIR'] ?? join(REPO_ROOT, '.cache', 'test-guest'), 'guest.iso');
const READY = /BMCFLEET-GUEST-READY firmware=\w+ bootdev=\w+/;
const ADMIN = basicAuth('admin', 'password');
const VIEWER = { id: 3, user: 'viewer', password: 'viewpass1' };
/** How long the view-only console is given to close after its dropped input (it must not). */
const AFTER_INPUT_WAIT_MS = 2_000;

jest.setTimeout(300_000);

function describeWithGuest(): jest.Describe {
  if (existsSync(GUEST_ISO)) return describeWithTools(['qemu-system-x86_64', 'qemu-img', 'ipmitool']);
  const msg = `MISSING TEST GUEST ${GUEST_ISO}: the agent's graphical console test is SKIPPED. Run scripts/build-test-guest.sh.`;
  if (process.env.CI === 'true') throw new Error(`${msg} (CI=true: failing instead of skipping)`);
  process.stderr.write(`\n!!! ${msg}\n\n`);
  return describe.skip;
}

function getBinary(rf: RedfishAgent, path: string): Promise<{ status: number; type: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: rf.redfishPort, path, headers: ADMIN, ca: rf.ca, agent: false, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body: Buffer.concat(chunks) }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer within 30 s`)));
    req.on('error', reject);
    req.end();
  });
}

describeWithGuest()('graphical console of the agent (MACHINE=qemu, TCG)', () => {
  let rf: RedfishAgent;
  let dir: string;
  const open: ConsoleClient[] = [];
  const url = (path: string): string => `wss://127.0.0.1:${rf.redfishPort}${path}`;

  beforeAll(async () => {
    if (!existsSync(AGENT_MAIN)) execFileSync('npm', ['run', 'build:agent', '--silent'], { cwd: REPO_ROOT, stdio: 'inherit', timeout: 180_000 });
    dir = mkdtempSync(join(tmpdir(), 'host-consoles-qemu-'));
    // VNC display N listens on 5900+N: a free port above 5900.
    let vncPort = 0;
    for (let i = 0; i < 20 && vncPort <= 5900; i++) vncPort = await freeTcpPort();
    rf = await startRedfishAgent({
      MACHINE: 'qemu', ENABLE_KVM: 'false', VM_MEMORY: '256', VM_CPUS: '1', VM_DISK: join(dir, 'disk.qcow2'), VM_DISK_SIZE: '64M',
      VM_CDROM: GUEST_ISO, VM_BOOT: 'd', VNC_PORT: String(vncPort), VNC_PASSWORD: 'Kvm0pass',
    });
  });
  afterAll(async () => {
    for (const c of open) c.ws.terminate();
    await rf?.agent.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses /kvm/0 with 503 while the VM is off, and the screenshot too', async () => {
    const off = await refusedUpgrade({ url: url('/kvm/0'), headers: ADMIN, ca: rf.ca });
    expect(off.status).toBe(503);
    expect(JSON.parse(off.body).error.message).toMatch(/no display now/);
    expect((await getBinary(rf, '/kvm/0/screenshot.png')).status).toBe(503);
  });

  it('bridges /kvm/0 to QEMU with security None toward the client, and shows the booted guest', async () => {
    const serial = await openConsole({ url: url('/console0'), headers: ADMIN, ca: rf.ca });
    open.push(serial);
    expect((await ipmitool(rf.agent.port, ['chassis', 'power', 'on'])).status).toBe(0);
    await serial.waitFor(READY, 180_000);

    const kvm = await openConsole({ url: url('/kvm/0'), headers: ADMIN, ca: rf.ca });
    open.push(kvm);
    const fb = await rfbFramebuffer(kvm, 60_000);
    expect(fb.securityTypes).toEqual([1]);
    expect(fb.name).toContain('QEMU');
    expect(fb.pixels.length).toBe(fb.width * fb.height * 4);
    expect(fb.pixels.some((b, i) => i % 4 !== 3 && b > 0x10)).toBe(true);

    const shot = await getBinary(rf, '/kvm/0/screenshot.png');
    expect(shot.status).toBe(200);
    expect(shot.type).toBe('image/png');
    expect(shot.body.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    expect(shot.body.readUInt32BE(16)).toBe(fb.width);
    const thumb = await getBinary(rf, '/kvm/0/screenshot.png?width=100');
    expect(thumb.body.readUInt32BE(16)).toBe(100);

    // Power off: the open graphical console closes with 4503 and a reason.
    expect((await ipmitool(rf.agent.port, ['chassis', 'power', 'off'])).status).toBe(0);
    expect(await kvm.closed).toEqual({ code: 4503, reason: 'the VM display ended (powered off or restarted); connect again' });
  });

  it('lets a ReadOnly user watch the screen; its keys and pointer are dropped and the console stays open', async () => {
    for (const args of [['user', 'set', 'name', String(VIEWER.id), VIEWER.user], ['user', 'set', 'password', String(VIEWER.id), VIEWER.password], ['user', 'priv', String(VIEWER.id), '2', '1'], ['user', 'enable', String(VIEWER.id)]]) {
      expect((await ipmitool(rf.agent.port, args)).status).toBe(0);
    }
    const serial = await openConsole({ url: url('/console0'), headers: ADMIN, ca: rf.ca });
    open.push(serial);
    const bootsBefore = serial.received().toString('latin1').split('BMCFLEET-GUEST-READY').length;
    expect((await ipmitool(rf.agent.port, ['chassis', 'power', 'on'])).status).toBe(0);
    const deadline = Date.now() + 180_000;
    while (serial.received().toString('latin1').split('BMCFLEET-GUEST-READY').length === bootsBefore) {
      if (Date.now() > deadline) throw new Error('the guest did not boot again within 180 s');
      await new Promise((r) => setTimeout(r, 250));
    }

    const viewer = await openConsole({ url: url('/kvm/0'), headers: basicAuth(VIEWER.user, VIEWER.password), ca: rf.ca });
    open.push(viewer);
    const fb = await rfbFramebuffer(viewer, 60_000);
    expect(fb.pixels.some((b, i) => i % 4 !== 3 && b > 0x10)).toBe(true);
    rfbPressKey(viewer, QNUM_POWER);
    viewer.send(Buffer.from([5, 1, 0, 16, 0, 16])); // PointerEvent: button 1 at (16, 16)
    await new Promise((r) => setTimeout(r, AFTER_INPUT_WAIT_MS));
    expect(viewer.ws.readyState).toBe(viewer.ws.OPEN);
    expect((await ipmitool(rf.agent.port, ['chassis', 'power', 'status'])).stdout).toContain('is on');
  });
});
