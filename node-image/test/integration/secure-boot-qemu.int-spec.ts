/**
 * Redfish SecureBoot on a real QEMU (TCG): the agent's core and Redfish service in-process, in
 * front of the QEMU machine with VM_BOOT_MODE=uefi booting the test guest's ISO (whose GRUB is not
 * signed). Secure Boot enabled through Redfish: the next power-on runs OVMF's Secure Boot build with
 * Microsoft's keys (the QEMU command line says so) and the firmware refuses the unsigned loader
 * ("Access Denied" on the serial console); disabled again, the next reset starts a plain OVMF that
 * runs the same loader. A legacy (SeaBIOS) node refuses Secure Boot with 400; the BIOS attribute
 * BootMenuTimeout set through Redfish becomes the next boot's firmware menu wait.
 * Needs qemu-system-x86_64, qemu-img, OVMF (with OVMF_CODE_4M.secboot.fd and OVMF_VARS_4M.ms.fd)
 * and the test guest (scripts/build-test-guest.sh); skipped loudly without them, failing under CI=true.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BmcAgent } from '../../src/bmc/bmc-agent';
import { QemuMachine, DEFAULT_OVMF_SECURE_CODE, DEFAULT_OVMF_SECURE_VARS_TEMPLATE } from '../../src/machine/qemu-machine';
import { QEMU_CONFIG_DEFAULTS, type QemuConfig } from '../../src/machine/qemu-config';
import { MemoryStateStore } from '../../src/state/state-store';
import { DEFAULT_SUITE_IDS, suiteById } from '../../src/protocol/crypto/cipher-suites';
import { RedfishService } from '../../src/redfish/redfish-service';
import type { RedfishResponse } from '../../src/redfish/http-types';
import { silentLogger } from '../../src/util/logger';
import { describeWithTools } from '../support/tools';

const REPO_ROOT = join(__dirname, '..', '..', '..');
const GUEST_ISO = join(REPO_ROOT, '.cache', 'test-guest', 'guest.iso');
const SECURE_BOOT = '/redfish/v1/Systems/1/SecureBoot';
const RESET = '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset';
const ADMIN = { authorization: `Basic ${Buffer.from('admin:password').toString('base64')}` };

jest.setTimeout(180_000);

function describeWithSecureBootFirmware(): jest.Describe {
  const missing = [DEFAULT_OVMF_SECURE_CODE, DEFAULT_OVMF_SECURE_VARS_TEMPLATE].filter((f) => !existsSync(f));
  if (missing.length === 0) return describeWithTools(['qemu-system-x86_64', 'qemu-img']);
  const msg = `MISSING OVMF Secure Boot firmware ${missing.join(', ')} (Debian package ovmf): Secure Boot tests are SKIPPED. Run scripts/setup.sh.`;
  if (process.env.CI === 'true') throw new Error(`${msg} (CI=true: failing instead of skipping)`);
  process.stderr.write(`\n!!! ${msg}\n\n`);
  return describe.skip;
}

/** The command line of the QEMU process whose disk is `disk` (this test's own). */
function qemuCommandLine(disk: string): string[] | undefined {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').filter((a) => a !== '');
      if (args[0]?.includes('qemu-system') && args.some((a) => a.includes(disk))) return args;
    } catch { /* gone meanwhile */ }
  }
  return undefined;
}

async function waitFor<T>(get: () => T | undefined | false, what: string, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describeWithSecureBootFirmware()('Redfish SecureBoot with the real QEMU and OVMF', () => {
  let dir: string;
  let agent: BmcAgent | undefined;

  beforeAll(() => {
    execFileSync('bash', [join(REPO_ROOT, 'scripts', 'build-test-guest.sh')], { cwd: REPO_ROOT, stdio: 'inherit', timeout: 300_000 });
  }, 310_000);
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'secure-boot-int-')); });
  afterEach(async () => {
    await agent?.stop();
    agent = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(bootMode: 'uefi' | 'bios') {
    const config: QemuConfig = {
      ...QEMU_CONFIG_DEFAULTS, memoryMiB: 256, cpus: 1, disk: join(dir, 'disk.qcow2'), diskSizeBytes: 64 * 1024 ** 2,
      cdrom: GUEST_ISO, bootDevice: 'cdrom', bootMode, kvm: 'off', vncPort: undefined,
    };
    agent = await BmcAgent.start({
      address: '127.0.0.1', port: 0, adminUser: 'admin', adminPassword: 'password',
      cipherSuites: DEFAULT_SUITE_IDS.map((id) => suiteById(id)!), ipmi15: false, nodeName: 'secure-boot-int',
      store: new MemoryStateStore(),
      network: { ipv4: () => ({ interfaceName: 'lo', address: '127.0.0.1', netmask: '255.0.0.0', mac: '00:00:00:00:00:00' }) },
      createMachine: (ctx) => new QemuMachine({ boot: ctx.bootSource, config, runDir: join(dir, 'run'), log: silentLogger }),
      firmware: { mode: bootMode, bootMenuTimeoutMs: 0 },
      powerOnAtStart: false,
      log: silentLogger,
    });
    let serial = '';
    agent.machine.on('serial', (d) => { serial += d.toString('latin1'); });
    const service = new RedfishService({ core: agent.core, random: (n) => Buffer.alloc(n, 7), log: silentLogger });
    const send = (method: string, path: string, body?: unknown): Promise<RedfishResponse> => service.handle({
      method, path, remote: '127.0.0.1', headers: { ...ADMIN, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: Buffer.from(body === undefined ? '' : JSON.stringify(body)),
    }, Date.now());
    return { config, send, serial: () => serial };
  }

  it('enabled through Redfish: the next power-on runs Secure Boot OVMF with Microsoft keys, which refuses the unsigned loader; disabled: the next reset runs it', async () => {
    const t = await start('uefi');
    const enable = await t.send('PATCH', SECURE_BOOT, { SecureBootEnable: true });
    expect([enable.status, (enable.body as { SecureBootCurrentBoot: string }).SecureBootCurrentBoot]).toEqual([200, 'Disabled']);
    expect((await t.send('POST', RESET, { ResetType: 'On' })).status).toBe(204);

    const secureArgs = await waitFor(() => qemuCommandLine(t.config.disk), 'the QEMU process');
    expect(secureArgs).toEqual(expect.arrayContaining([
      'q35,graphics=off,smm=on', 'driver=cfi.pflash01,property=secure,value=on',
      `if=pflash,format=raw,unit=0,readonly=on,file=${DEFAULT_OVMF_SECURE_CODE}`, `if=pflash,format=raw,unit=1,file=${join(dir, 'OVMF_VARS.secboot.fd')}`,
    ]));
    expect(existsSync(join(dir, 'OVMF_VARS.secboot.fd'))).toBe(true);
    await waitFor(() => /failed to load Boot\d+ "UEFI QEMU DVD-ROM[^\n]*: Access Denied/.test(t.serial()), 'OVMF refusing the unsigned loader');
    expect((await t.send('GET', SECURE_BOOT)).body).toMatchObject({ SecureBootEnable: true, SecureBootCurrentBoot: 'Enabled', SecureBootMode: 'UserMode' });

    expect((await t.send('PATCH', SECURE_BOOT, { SecureBootEnable: false })).status).toBe(200);
    const cut = t.serial().length;
    expect((await t.send('POST', RESET, { ResetType: 'ForceRestart' })).status).toBe(204);
    await waitFor(() => /BdsDxe: starting Boot\d+ "UEFI QEMU DVD-ROM/.test(t.serial().slice(cut)), 'plain OVMF starting the same loader', 90_000);
    const plainArgs = await waitFor(() => qemuCommandLine(t.config.disk), 'the new QEMU process');
    expect(plainArgs).toEqual(expect.arrayContaining(['q35,graphics=off', `if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd`]));
    expect(plainArgs).not.toContain('-global');
    expect((await t.send('GET', SECURE_BOOT)).body).toMatchObject({ SecureBootEnable: false, SecureBootCurrentBoot: 'Disabled' });
  });

  it('a legacy (SeaBIOS) node refuses Secure Boot with 400; a pending BootMenuTimeout is the boot menu of the next power-on', async () => {
    const t = await start('bios');
    const r = await t.send('PATCH', SECURE_BOOT, { SecureBootEnable: true });
    expect([r.status, JSON.stringify(r.body)]).toEqual([400, expect.stringContaining('SeaBIOS')]);
    expect((await t.send('PATCH', '/redfish/v1/Systems/1/Bios/Settings', { Attributes: { BootMenuTimeout: 3 } })).status).toBe(200);
    expect((await t.send('POST', RESET, { ResetType: 'On' })).status).toBe(204);
    await waitFor(() => t.serial().includes('SeaBIOS'), 'SeaBIOS');
    const args = qemuCommandLine(t.config.disk)!;
    expect(args).not.toContain('-global');
    expect(args[args.indexOf('-boot') + 1]).toBe('menu=on,splash-time=3000');
    expect((await t.send('GET', '/redfish/v1/Systems/1/Bios')).body).toMatchObject({ Attributes: { BootMenuTimeout: 3 } });
  });
});
