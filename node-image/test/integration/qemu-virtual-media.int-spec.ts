/**
 * Virtual media in the QEMU machine against the real QEMU (TCG) and its curl block driver: the test
 * guest's ISO, served over HTTP by this test, is put into the CD drive while the machine is off,
 * boots at power-on (boot device CD), stays attached across a power cycle (a new QEMU), and is read
 * in place (far fewer bytes served than the ISO has). The USB stick plugs and unplugs while the VM
 * runs; a URL QEMU cannot open is an error and leaves the CD as it was. The hybrid ISO as the USB
 * stick boots for a floppy/primary-removable override (Redfish Usb) under SeaBIOS and OVMF, whether
 * plugged before power-on or while the guest runs, and the boot after it goes back to the disk. Needs qemu-system-x86_64,
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

  it('boots the USB stick for a floppy override (SeaBIOS and OVMF, plugged before power-on or while running); the next boot is the disk again', async () => {
    server = await startRangeFileServer({ 'guest.iso': GUEST_ISO });
    const url = server.url('guest.iso');
    const next: BootSelection[] = [{ device: 'floppy', efi: false }];
    const sut = new QemuMachine({
      boot: { takeNextBoot: () => next.shift() ?? { device: 'default', efi: false } },
      config: { ...QEMU_CONFIG_DEFAULTS, memoryMiB: 512, cpus: 1, disk: join(dir, 'disk.qcow2'), diskSizeBytes: 64 * 1024 ** 2, kvm: 'off', vncPort: undefined },
      runDir: join(dir, 'run'),
    });
    machine = sut;
    let serial = '';
    sut.on('serial', (d) => { serial += d.toString('latin1'); });

    // Plugged while off: at power-on the stick is the first BIOS disk (hd0), the VM's own disk is not booted.
    await sut.media.setMedium('usb', { url });
    let from = serial.length;
    await sut.power('on');
    await waitFor(() => /grub: root=hd0 bootdev=disk[\s\S]*BMCFLEET-GUEST-READY firmware=bios bootdev=disk/.test(serial.slice(from)), 'the BIOS boot from the USB stick', BOOT_TIMEOUT_MS);

    // Plugged again while the guest runs, then a reset in the same QEMU (boot order by qom-set).
    await sut.media.setMedium('usb', undefined);
    await sut.media.setMedium('usb', { url });
    next.push({ device: 'floppy', efi: false });
    from = serial.length;
    await sut.power('reset');
    await waitFor(() => /grub: root=hd0 bootdev=disk[\s\S]*BMCFLEET-GUEST-READY firmware=bios/.test(serial.slice(from)), 'the BIOS boot from the hot-plugged USB stick', BOOT_TIMEOUT_MS);

    // The override is consumed: the next boot starts from the VM's (empty) disk, not from the stick.
    from = serial.length;
    await sut.power('reset');
    await waitFor(() => /Booting from Hard Disk\.\.\.\s*Boot failed: not a bootable disk/.test(serial.slice(from)), 'the boot from the empty disk', BOOT_TIMEOUT_MS);
    expect(serial.slice(from)).not.toMatch(/grub:/);

    // UEFI (a new QEMU with OVMF): OVMF boots the stick's EFI system partition.
    next.push({ device: 'floppy', efi: true });
    from = serial.length;
    await sut.power('reset');
    await waitFor(() => /BdsDxe: starting Boot\w+ "UEFI QEMU QEMU USB HARDDRIVE[\s\S]*BMCFLEET-GUEST-READY firmware=uefi/.test(serial.slice(from)), 'the UEFI boot from the USB stick', BOOT_TIMEOUT_MS);
  }, 4 * BOOT_TIMEOUT_MS + 30_000);
});
