/**
 * Virtual media in the QEMU machine against the real QEMU (TCG) and its curl block driver: the test
 * guest's ISO, served over HTTP by this test, is put into the CD drive while the machine is off,
 * boots at power-on (boot device CD), stays attached across a power cycle (a new QEMU), and is read
 * in place (far fewer bytes served than the ISO has). The USB stick plugs and unplugs while the VM
 * runs; a URL QEMU cannot open is an error and leaves the CD as it was. Needs qemu-system-x86_64,
 * qemu-block-extra and the test guest (scripts/build-test-guest.sh); skipped loudly without them,
 * failing under CI=true.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MachineError, type BootSelection } from '../../src/machine/machine-control';
import { QEMU_CONFIG_DEFAULTS } from '../../src/machine/qemu-config';
import { QemuMachine } from '../../src/machine/qemu-machine';
import { startRangeFileServer, type RangeFileServer } from '../support/range-file-server';
import { describeWithTools } from '../support/tools';

const REPO_ROOT = join(__dirname, '..', '..', '..');
const GUEST_ISO = join(REPO_ROOT, '.cache', 'test-guest', 'guest.iso');
const CURL_MODULE = '/usr/lib/x86_64-linux-gnu/qemu/block-curl.so';
const BOOT_TIMEOUT_MS = 150_000;

function describeWithCurlDriver(): jest.Describe {
  if (existsSync(CURL_MODULE)) return describeWithTools(['qemu-system-x86_64', 'qemu-img']);
  const msg = `QEMU's curl block driver (${CURL_MODULE}, Debian package qemu-block-extra) is missing: the virtual media test is SKIPPED. Run scripts/setup.sh.`;
  if (process.env.CI === 'true') throw new Error(`${msg} (CI=true: failing instead of skipping)`);
  process.stderr.write(`\n!!! ${msg}\n\n`);
  return describe.skip;
}

async function waitFor(cond: () => boolean, what: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describeWithCurlDriver()('QemuMachine virtual media (curl block driver, TCG)', () => {
  let dir: string;
  let machine: QemuMachine | undefined;
  let server: RangeFileServer | undefined;

  beforeAll(() => {
    execFileSync('bash', [join(REPO_ROOT, 'scripts', 'build-test-guest.sh')], { cwd: REPO_ROOT, stdio: 'inherit', timeout: 300_000 });
  }, 310_000);
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'qemu-vmedia-int-')); });
  afterEach(async () => {
    await machine?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('boots the ISO by URL, keeps it across a power cycle, plugs a USB stick, reports what QEMU refuses', async () => {
    server = await startRangeFileServer({ 'guest.iso': GUEST_ISO });
    const url = server.url('guest.iso');
    const next: BootSelection[] = [{ device: 'cdrom', efi: false }, { device: 'cdrom', efi: false }];
    const sut = new QemuMachine({
      boot: { takeNextBoot: () => next.shift() ?? { device: 'default' } },
      config: { ...QEMU_CONFIG_DEFAULTS, memoryMiB: 512, cpus: 1, disk: join(dir, 'disk.qcow2'), diskSizeBytes: 64 * 1024 ** 2, kvm: 'off', vncPort: undefined },
      runDir: join(dir, 'run'),
    });
    machine = sut;
    let serial = '';
    sut.on('serial', (d) => { serial += d.toString('latin1'); });

    // Off: recorded for the next start, nothing read yet.
    await sut.media.setMedium('cd', { url });
    expect(server.bytesSent()).toBe(0);
    await sut.power('on');
    await waitFor(() => /BMCFLEET-GUEST-READY firmware=bios bootdev=cdrom/.test(serial), 'the guest booted from the virtual CD', BOOT_TIMEOUT_MS);
    expect(server.bytesSent()).toBeLessThan(statSync(GUEST_ISO).size);

    // A URL QEMU cannot open: the error names it, the CD keeps its medium.
    const refused = await sut.media.setMedium('cd', { url: server.url('missing.iso') }).then(() => undefined, (e: unknown) => e);
    expect(refused).toBeInstanceOf(MachineError);
    expect((refused as Error).message).toMatch(/QMP blockdev-add failed: .*404/);
    expect(sut.media.media().get('cd')?.url).toBe(url);

    // The USB stick, hot-plugged and unplugged while the guest runs.
    await sut.media.setMedium('usb', { url });
    expect(sut.media.media().get('usb')?.url).toBe(url);
    await sut.media.setMedium('usb', undefined);
    expect(sut.media.media().has('usb')).toBe(false);

    // A power cycle is a new QEMU: the medium is attached to it again and boots again.
    const before = serial.length;
    await sut.power('cycle');
    await waitFor(() => /BMCFLEET-GUEST-READY firmware=bios bootdev=cdrom/.test(serial.slice(before)), 'the guest booted from the virtual CD after a power cycle', BOOT_TIMEOUT_MS);

    await sut.media.setMedium('cd', undefined);
    expect(sut.media.media().size).toBe(0);
  }, 2 * BOOT_TIMEOUT_MS + 30_000);
});
