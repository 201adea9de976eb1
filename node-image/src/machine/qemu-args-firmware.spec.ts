import { bootMenuWaitMs, buildQemuArgs, launchKey, resolveBoot, type QemuLaunch } from './qemu-args';
import { QEMU_CONFIG_DEFAULTS, type QemuConfig } from './qemu-config';
import type { BootSelection } from './machine-control';

const PATHS = {
  qmpSocket: '/run/q.sock', serialSocket: '/run/s.sock',
  ovmfCode: '/usr/share/OVMF/OVMF_CODE_4M.fd', ovmfVars: '/vm/OVMF_VARS.fd',
  ovmfSecureCode: '/usr/share/OVMF/OVMF_CODE_4M.secboot.fd', ovmfSecureVars: '/vm/OVMF_VARS.secboot.fd',
};

function launch(selection: BootSelection, config: Partial<QemuConfig> = {}): QemuLaunch {
  const c = { ...QEMU_CONFIG_DEFAULTS, ...config };
  return { config: c, boot: resolveBoot(selection, c), accel: 'tcg', paths: PATHS, diskFormat: 'qcow2' };
}

const after = (args: string[], flag: string): string[] => args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));

describe('QEMU arguments from the BMC firmware settings', () => {
  it('Secure Boot on a UEFI boot: secboot code, the Microsoft-keys variable store, SMM and a secure flash', () => {
    const args = buildQemuArgs(launch({ device: 'default', secureBoot: true }, { bootMode: 'uefi' }));
    expect(after(args, '-machine')).toEqual(['q35,graphics=off,smm=on']);
    expect(after(args, '-global')).toEqual(['driver=cfi.pflash01,property=secure,value=on']);
    expect(after(args, '-drive').filter((d) => d.startsWith('if=pflash'))).toEqual([
      'if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd',
      'if=pflash,format=raw,unit=1,file=/vm/OVMF_VARS.secboot.fd',
    ]);
  });

  it('Secure Boot does not apply to a legacy boot, and switching it needs a new QEMU process', () => {
    const legacy = launch({ device: 'default', efi: false, secureBoot: true }, { bootMode: 'uefi' });
    expect(legacy.boot.secure).toBeUndefined();
    expect(buildQemuArgs(legacy)).not.toContain('-global');
    const plain = launch({ device: 'default' }, { bootMode: 'uefi' });
    const secure = launch({ device: 'default', secureBoot: true }, { bootMode: 'uefi' });
    expect(launchKey(plain.boot, plain.config)).not.toBe(launchKey(secure.boot, secure.config));
    expect(after(buildQemuArgs(plain), '-machine')).toEqual(['q35,graphics=off']);
  });

  it('a BootMenuTimeout from the BIOS settings replaces VM_BOOT_MENU_TIMEOUT; setup still waits the longest', () => {
    const l = launch({ device: 'default', bootMenuTimeoutMs: 5000 }, { bootMenuTimeoutMs: 1000 });
    expect(bootMenuWaitMs(l.boot, l.config)).toBe(5000);
    expect(after(buildQemuArgs(l), '-boot')).toEqual(['menu=on,splash-time=5000']);
    const none = launch({ device: 'default', bootMenuTimeoutMs: 0 }, { bootMenuTimeoutMs: 1000 });
    expect(bootMenuWaitMs(none.boot, none.config)).toBeUndefined();
    const setup = launch({ device: 'bios', bootMenuTimeoutMs: 5000 });
    expect(bootMenuWaitMs(setup.boot, setup.config)).toBe(0xffff);
  });
});
