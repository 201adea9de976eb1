import { MemoryStateStore } from '../state/state-store';
import { BootOptions, BOOT_FLAG_VALID_TIMEOUT_MS } from '../bmc/chassis/boot-options';
import { BootOverrideRecord } from './boot-override';

const T0 = 1_700_000_000_000;
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function setup(supportedModes?: Array<'uefi' | 'legacy'>) {
  const store = new MemoryStateStore();
  const boot = new BootOptions({ store, clock: () => T0 });
  const record = new BootOverrideRecord({ boot, store, ...(supportedModes ? { supportedModes } : {}) });
  /** Parameter 5 as Get System Boot Options returns it. */
  const param5 = (now = T0): string => {
    const r = boot.read(5, 0, now);
    if (!r.ok) throw new Error(r.error);
    return r.data.toString('hex');
  };
  return { store, boot, record, param5 };
}

describe('BootOverrideRecord: one record, read and written as IPMI parameter 5', () => {
  it('starts disabled, legacy, with no target', () => {
    expect(setup().record.get(T0)).toEqual({ target: 'none', enabled: 'disabled', mode: 'legacy' });
  });

  it.each([
    ['pxe', 'once', 'uefi', 'a004000000'],
    ['cd', 'continuous', 'legacy', 'c014000000'],
    ['hdd', 'once', 'legacy', '8008000000'],
    ['bios-setup', 'continuous', 'uefi', 'e018000000'],
    ['usb', 'once', 'uefi', 'a03c000000'],
  ] as const)('%s %s %s is parameter 5 = %s, and reads back', (target, enabled, mode, bytes) => {
    const { record, param5 } = setup();
    expect(record.set({ target, enabled, mode }, T0)).toEqual({ ok: true });
    expect(param5()).toBe(bytes);
    expect(record.get(T0)).toEqual({ target, enabled, mode });
  });

  it('reads what IPMI wrote (ipmitool chassis bootdev pxe options=efiboot,persistent)', () => {
    const { boot, record } = setup();
    expect(boot.write(5, false, hex('e0 04 00 00 00'), T0)).toEqual({ ok: true });
    expect(record.get(T0)).toEqual({ target: 'pxe', enabled: 'continuous', mode: 'uefi' });
  });

  it.each([
    ['ipmitool chassis bootdev floppy (floppy/primary removable media)', '80 3c 00 00 00', 'floppy'],
    ['remotely connected floppy/primary removable media', '80 1c 00 00 00', 'floppy'],
    ['primary remote media', '80 24 00 00 00', 'remote-primary'],
  ] as const)('reads %s as the USB stick, which the machine boots as that device', (_what, bytes, device) => {
    const { boot, record } = setup();
    expect(boot.write(5, false, hex(bytes), T0)).toEqual({ ok: true });
    expect(record.get(T0)).toEqual({ target: 'usb', enabled: 'once', mode: 'legacy' });
    expect(boot.takeNextBoot()).toEqual({ device, efi: false });
  });

  it('an IPMI write is cleared by the 60 s rule; a write from here is not', () => {
    const { boot, record } = setup();
    boot.write(5, false, hex('80 04 00 00 00'), T0);
    expect(record.get(T0 + BOOT_FLAG_VALID_TIMEOUT_MS).enabled).toBe('disabled');
    record.set({ target: 'pxe', enabled: 'once' }, T0);
    expect(record.get(T0 + 10 * BOOT_FLAG_VALID_TIMEOUT_MS)).toEqual({ target: 'pxe', enabled: 'once', mode: 'legacy' });
  });

  it('once is consumed by the next boot; continuous is not', () => {
    const { boot, record } = setup();
    record.set({ target: 'cd', enabled: 'once', mode: 'uefi' }, T0);
    expect(boot.takeNextBoot()).toEqual({ device: 'cdrom', efi: true });
    expect(record.get(T0)).toEqual({ target: 'none', enabled: 'disabled', mode: 'uefi' });
    record.set({ target: 'hdd', enabled: 'continuous' }, T0);
    expect(boot.takeNextBoot()).toEqual({ device: 'disk', efi: true });
    expect(record.get(T0).enabled).toBe('continuous');
  });

  it('merges: a target alone while disabled applies once; the mode alone keeps the rest', () => {
    const { record } = setup();
    record.set({ target: 'pxe' }, T0);
    expect(record.get(T0)).toEqual({ target: 'pxe', enabled: 'once', mode: 'legacy' });
    record.set({ mode: 'uefi' }, T0);
    expect(record.get(T0)).toEqual({ target: 'pxe', enabled: 'once', mode: 'uefi' });
    record.set({ enabled: 'continuous' }, T0);
    expect(record.get(T0)).toEqual({ target: 'pxe', enabled: 'continuous', mode: 'uefi' });
    record.set({ target: 'none' }, T0);
    expect(record.get(T0)).toEqual({ target: 'none', enabled: 'disabled', mode: 'uefi' });
  });

  it('a mode set while disabled reads back at once', () => {
    const { record } = setup();
    record.set({ mode: 'uefi' }, T0);
    expect(record.get(T0)).toEqual({ target: 'none', enabled: 'disabled', mode: 'uefi' });
  });

  it('keeps UEFI HTTP apart from PXE until parameter 5 is rewritten', () => {
    const { boot, record, store } = setup();
    record.set({ target: 'uefi-http', enabled: 'once', mode: 'uefi' }, T0);
    expect(record.get(T0).target).toBe('uefi-http');
    // The note survives a BMC restart.
    expect(new BootOverrideRecord({ boot, store }).get(T0).target).toBe('uefi-http');
    boot.write(5, false, hex('e0 04 00 00 00'), T0 + 1);
    expect(record.get(T0 + 1).target).toBe('pxe');
  });

  it('a UEFI-only machine refuses legacy and leaves the record as it was', () => {
    const { record, param5 } = setup(['uefi']);
    record.set({ target: 'pxe', enabled: 'once', mode: 'uefi' }, T0);
    const before = param5();
    expect(record.set({ mode: 'legacy' }, T0)).toEqual({ ok: false, error: 'mode-unsupported' });
    expect(param5()).toBe(before);
  });

  it('refuses targets that cannot be set', () => {
    expect(setup().record.set({ target: 'diags' }, T0)).toEqual({ ok: false, error: 'target-unsupported' });
  });

  it('keeps the other bits of parameter 5 (CMOS clear, console redirection) untouched', () => {
    const { boot, record, param5 } = setup();
    boot.write(5, false, hex('00 80 01 00 00'), T0);
    record.set({ target: 'pxe', enabled: 'once' }, T0);
    expect(param5()).toBe('8084010000');
  });
});
