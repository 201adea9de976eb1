/**
 * The QEMU machine against the real QEMU (TCG, no guest OS): SeaBIOS and OVMF print to the serial
 * port, so the firmware's own lines show that power-on, the boot order set by a reset, the serial
 * endpoint and power-off work. About 10 s. Needs qemu-system-x86_64, qemu-img and OVMF (Debian
 * packages qemu-system-x86, qemu-utils, ovmf); skipped loudly without them, failing under CI=true.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BootSelection, PowerChangeCause, PowerState } from '../../src/machine/machine-control';
import { QEMU_CONFIG_DEFAULTS } from '../../src/machine/qemu-config';
import { QemuMachine } from '../../src/machine/qemu-machine';
import { describeWithTools } from '../support/tools';

jest.setTimeout(45_000);

async function waitFor(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describeWithTools(['qemu-system-x86_64', 'qemu-img'])('QemuMachine with the real QEMU (TCG)', () => {
  let dir: string;
  let machine: QemuMachine | undefined;

  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'qemu-int-')); });
  afterEach(async () => {
    await machine?.close();
    machine = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  function setup(bootMode: 'bios' | 'uefi') {
    const next: BootSelection[] = [];
    const takeNextBoot = jest.fn((): BootSelection => next.shift() ?? { device: 'default' });
    const sut = new QemuMachine({
      boot: { takeNextBoot },
      config: { ...QEMU_CONFIG_DEFAULTS, memoryMiB: 256, cpus: 1, disk: join(dir, 'disk.qcow2'), diskSizeBytes: 64 * 1024 ** 2, bootMode, kvm: 'off', vncPort: undefined },
      runDir: join(dir, 'run'),
    });
    machine = sut;
    let serial = '';
    const power: Array<[PowerState, PowerChangeCause]> = [];
    sut.on('serial', (d) => { serial += d.toString('latin1'); });
    sut.on('power', (s, c) => power.push([s, c]));
    return { sut, next, takeNextBoot, power, serial: () => serial };
  }

  it('SeaBIOS: power on, the boot order changed by a reset, diag, soft ignored without an OS, off', async () => {
    const t = setup('bios');
    await t.sut.power('on');
    expect(existsSync(join(dir, 'disk.qcow2'))).toBe(true);
    await expect(t.sut.powerState()).resolves.toBe('on');
    await waitFor(() => t.serial().includes('Booting from Hard Disk...'), 'SeaBIOS booting the disk');
    expect(t.serial()).toContain('SeaBIOS');

    const before = t.serial().length;
    t.next.push({ device: 'cdrom', efi: false });
    await t.sut.power('reset');
    await waitFor(() => t.serial().slice(before).includes('Booting from DVD/CD...'), 'SeaBIOS booting the CD-ROM after the reset');
    // SeaBIOS answers a reset with a second, hard one: the firmware's own, the same boot.
    await new Promise((r) => setTimeout(r, 300));
    await expect(t.sut.powerState()).resolves.toBe('on');
    expect(t.takeNextBoot).toHaveBeenCalledTimes(2);

    await t.sut.power('diag');
    t.sut.sendBreak();
    await t.sut.power('soft');
    await new Promise((r) => setTimeout(r, 300));
    await expect(t.sut.powerState()).resolves.toBe('on');

    await t.sut.power('off');
    await expect(t.sut.powerState()).resolves.toBe('off');
    expect(t.power).toEqual([['on', 'command'], ['off', 'command']]);
  });

  it('OVMF: the variable store is copied beside the disk and the firmware reaches its boot manager', async () => {
    const t = setup('uefi');
    await t.sut.power('on');
    expect(existsSync(join(dir, 'OVMF_VARS.fd'))).toBe(true);
    await waitFor(() => t.serial().includes('BdsDxe'), 'OVMF boot manager output', 30_000);
    await t.sut.power('cycle');
    expect(t.power).toEqual([['on', 'command'], ['off', 'command'], ['on', 'command']]);
    await expect(t.sut.powerState()).resolves.toBe('on');
  });
});
