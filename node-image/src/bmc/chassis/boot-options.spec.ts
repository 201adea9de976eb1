import { MemoryStateStore } from '../../state/state-store';
import {
  BOOT_FLAG_VALID_TIMEOUT_MS,
  BOOT_OPTIONS_DOCUMENT,
  BootOptionParameter,
  BootOptions,
  decodeBootDevice,
  ValidBitClearing,
} from './boot-options';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const T0 = 1_700_000_000_000;

function make(store = new MemoryStateStore(), start = T0) {
  let now = start;
  const sut = new BootOptions({ store, clock: () => now });
  return { sut, store, setNow: (t: number) => { now = t; } };
}

function readData(sut: BootOptions, parameter: number, now = T0, setSelector = 0): string {
  const r = sut.read(parameter, setSelector, now);
  if (!r.ok) throw new Error(`read failed: ${r.error}`);
  return r.data.toString('hex');
}

/** ipmitool 1.8.19 `chassis bootdev <dev> [options=...]` (captures, Vector 5 "mini"). */
function ipmitoolBootdev(sut: BootOptions, flags: string, now = T0): void {
  expect(sut.write(BootOptionParameter.SetInProgress, false, hex('01'), now)).toEqual({ ok: true });
  expect(sut.write(BootOptionParameter.BootInfoAcknowledge, false, hex('01 01'), now)).toEqual({ ok: true });
  expect(sut.write(BootOptionParameter.BootFlags, false, hex(flags), now)).toEqual({ ok: true });
  expect(sut.write(BootOptionParameter.SetInProgress, false, hex('02'), now)).toEqual({ ok: true });
  expect(sut.write(BootOptionParameter.SetInProgress, false, hex('00'), now)).toEqual({ ok: true });
}

describe('BootOptions', () => {
  describe('captured ipmitool sequences', () => {
    it('bootdev pxe: next boot only, legacy, then consumed by the boot', () => {
      const { sut } = make();
      ipmitoolBootdev(sut, '80 04 00 00 00');
      expect(readData(sut, BootOptionParameter.BootFlags)).toBe('8004000000');
      expect(sut.takeNextBoot()).toEqual({ device: 'pxe', efi: false });
      // valid bit cleared, the other bits kept
      expect(readData(sut, BootOptionParameter.BootFlags)).toBe('0004000000');
      expect(sut.takeNextBoot()).toEqual({ device: 'default' });
    });

    it('bootdev disk options=persistent,efiboot (05 e0 08 00 00 00): persistent EFI disk', () => {
      const { sut, setNow } = make();
      ipmitoolBootdev(sut, 'e0 08 00 00 00');
      expect(sut.takeNextBoot()).toEqual({ device: 'disk', efi: true });
      setNow(T0 + 10 * BOOT_FLAG_VALID_TIMEOUT_MS);
      expect(sut.takeNextBoot()).toEqual({ device: 'disk', efi: true });
      expect(readData(sut, BootOptionParameter.BootFlags, T0 + 10 * BOOT_FLAG_VALID_TIMEOUT_MS)).toBe('e008000000');
    });

    it('bootdev bios reads back exactly 80 18 00 00 00', () => {
      const { sut } = make();
      ipmitoolBootdev(sut, '80 18 00 00 00');
      const r = sut.read(BootOptionParameter.BootFlags, 0, T0);
      expect(r).toEqual({ ok: true, markedInvalid: false, data: hex('80 18 00 00 00') });
    });

    it('bootdev cdrom maps to cdrom', () => {
      const { sut } = make();
      ipmitoolBootdev(sut, '80 14 00 00 00');
      expect(sut.takeNextBoot()).toEqual({ device: 'cdrom', efi: false });
    });
  });

  it('keeps every byte of the boot flags exactly as written', () => {
    const { sut } = make();
    expect(sut.write(BootOptionParameter.BootFlags, false, hex('9f ff 7f 0f 1f'), T0)).toEqual({ ok: true });
    expect(readData(sut, BootOptionParameter.BootFlags)).toBe('9fff7f0f1f');
  });

  describe('set in progress (parameter 0)', () => {
    it('refuses a second "set in progress" with the 0x81 error and allows it after "set complete"', () => {
      const { sut } = make();
      expect(sut.write(0, false, hex('01'), T0)).toEqual({ ok: true });
      expect(readData(sut, 0)).toBe('01');
      expect(sut.write(0, false, hex('01'), T0)).toEqual({ ok: false, error: 'set-in-progress' });
      expect(sut.write(0, false, hex('02'), T0)).toEqual({ ok: true });
      expect(readData(sut, 0)).toBe('01');
      expect(sut.write(0, false, hex('00'), T0)).toEqual({ ok: true });
      expect(readData(sut, 0)).toBe('00');
      expect(sut.write(0, false, hex('01'), T0)).toEqual({ ok: true });
    });

    it('rejects the reserved value 11b', () => {
      const { sut } = make();
      expect(sut.write(0, false, hex('03'), T0)).toEqual({ ok: false, error: 'invalid' });
    });

    it('returns to "set complete" when the system boots', () => {
      const { sut } = make();
      sut.write(0, false, hex('01'), T0);
      sut.takeNextBoot();
      expect(readData(sut, 0)).toBe('00');
    });

    it('is volatile: a restarted BMC starts at "set complete"', () => {
      const { sut, store } = make();
      sut.write(0, false, hex('01'), T0);
      const { sut: again } = make(store);
      expect(readData(again, 0)).toBe('00');
    });
  });

  describe('request validation', () => {
    it.each([
      [0x08], [0x60], [0x7f],
    ])('parameter %i is not supported on read and write', (p) => {
      const { sut } = make();
      expect(sut.read(p, 0, T0)).toEqual({ ok: false, error: 'unsupported' });
      expect(sut.write(p, false, hex('00'), T0)).toEqual({ ok: false, error: 'unsupported' });
    });

    it.each([
      [BootOptionParameter.SetInProgress, '0000'],
      [BootOptionParameter.ServicePartitionSelector, '0000'],
      [BootOptionParameter.ServicePartitionScan, '0102'],
      [BootOptionParameter.BootFlagValidBitClearing, '080808'],
      [BootOptionParameter.BootInfoAcknowledge, '01'],
      [BootOptionParameter.BootFlags, '80040000'],
      [BootOptionParameter.BootFlags, '800400000000'],
      [BootOptionParameter.BootInitiatorInfo, '0100000000'],
      [BootOptionParameter.BootInitiatorMailbox, '00'],
      [BootOptionParameter.BootInitiatorMailbox, '00' + '11'.repeat(17)],
    ])('parameter %i with data %s has the wrong length', (p, data) => {
      const { sut } = make();
      expect(sut.write(p, false, hex(data), T0)).toEqual({ ok: false, error: 'length' });
    });

    it('a failed write changes nothing', () => {
      const { sut } = make();
      sut.write(BootOptionParameter.BootFlags, false, hex('80 04 00 00 00'), T0);
      sut.write(BootOptionParameter.BootFlags, true, hex('80 08 00 00'), T0);
      expect(sut.read(BootOptionParameter.BootFlags, 0, T0)).toEqual({ ok: true, markedInvalid: false, data: hex('8004000000') });
    });
  });

  describe('parameters 1-4, 6, 7', () => {
    it('stores service partition selector and scan, valid bit clearing and initiator info', () => {
      const { sut } = make();
      sut.write(1, false, hex('07'), T0);
      sut.write(2, false, hex('02'), T0);
      sut.write(3, false, hex('1f'), T0);
      sut.write(6, false, hex('01 a4 a3 a2 a0 78 56 34 12'), T0);
      expect(readData(sut, 1)).toBe('07');
      expect(readData(sut, 2)).toBe('02');
      expect(readData(sut, 3)).toBe('1f');
      expect(readData(sut, 6)).toBe('01a4a3a2a078563412');
    });

    it('boot info acknowledge applies the write mask and reads the mask back as 00', () => {
      const { sut } = make();
      expect(readData(sut, 4)).toBe('0000');
      sut.write(4, false, hex('ff ff'), T0);
      expect(readData(sut, 4)).toBe('00ff');
      sut.write(4, false, hex('02 00'), T0);
      expect(readData(sut, 4)).toBe('00fd');
    });

    it('the firmware acknowledges (clears bit 0) when it uses the boot flags', () => {
      const { sut } = make();
      ipmitoolBootdev(sut, '80 04 00 00 00');
      expect(readData(sut, 4)).toBe('0001');
      sut.takeNextBoot();
      expect(readData(sut, 4)).toBe('0000');
    });

    it('mailbox: blocks 0-4 hold 16 bytes; a short write zero-fills; block 5 is out of range', () => {
      const { sut } = make();
      expect(sut.write(7, false, hex('00 8d 1c 00 41 42'), T0)).toEqual({ ok: true });
      expect(readData(sut, 7, T0, 0)).toBe('00' + '8d1c004142' + '00'.repeat(11));
      expect(sut.write(7, false, hex('04' + 'ee'.repeat(16)), T0)).toEqual({ ok: true });
      expect(readData(sut, 7, T0, 4)).toBe('04' + 'ee'.repeat(16));
      expect(sut.write(7, false, hex('04 01'), T0)).toEqual({ ok: true });
      expect(readData(sut, 7, T0, 4)).toBe('04' + '01' + '00'.repeat(15));
      expect(sut.read(7, 5, T0)).toEqual({ ok: false, error: 'out-of-range' });
      expect(sut.write(7, false, hex('05 01'), T0)).toEqual({ ok: false, error: 'out-of-range' });
    });
  });

  describe('mark parameter invalid (Set byte 1 bit 7)', () => {
    it('zero data bytes change only the mark; marked-invalid flags are not used for a boot', () => {
      const { sut } = make();
      sut.write(5, false, hex('80 04 00 00 00'), T0);
      expect(sut.write(5, true, Buffer.alloc(0), T0)).toEqual({ ok: true });
      expect(sut.read(5, 0, T0)).toEqual({ ok: true, markedInvalid: true, data: hex('8004000000') });
      expect(sut.takeNextBoot()).toEqual({ device: 'default' });
      expect(sut.write(5, false, Buffer.alloc(0), T0)).toEqual({ ok: true });
      expect(sut.read(5, 0, T0)).toEqual({ ok: true, markedInvalid: false, data: hex('8004000000') });
      expect(sut.takeNextBoot()).toEqual({ device: 'pxe', efi: false });
    });

    it('a write with data and bit 7 stores the data and marks it', () => {
      const { sut } = make();
      sut.write(3, true, hex('08'), T0);
      expect(sut.read(3, 0, T0)).toEqual({ ok: true, markedInvalid: true, data: hex('08') });
    });
  });

  describe('60-second valid bit timeout', () => {
    it('clears the valid bit 60 s after it was set, keeping the other bits', () => {
      const { sut } = make();
      sut.write(5, false, hex('80 04 00 00 00'), T0);
      expect(readData(sut, 5, T0 + BOOT_FLAG_VALID_TIMEOUT_MS - 1)).toBe('8004000000');
      expect(readData(sut, 5, T0 + BOOT_FLAG_VALID_TIMEOUT_MS)).toBe('0004000000');
    });

    it('applies to takeNextBoot through the clock', () => {
      const { sut, setNow } = make();
      sut.write(5, false, hex('a0 04 00 00 00'), T0);
      setNow(T0 + BOOT_FLAG_VALID_TIMEOUT_MS + 1);
      expect(sut.takeNextBoot()).toEqual({ device: 'default' });
    });

    it('applies to persistent flags that no boot has used yet', () => {
      const { sut } = make();
      sut.write(5, false, hex('c0 04 00 00 00'), T0);
      expect(readData(sut, 5, T0 + BOOT_FLAG_VALID_TIMEOUT_MS)).toBe('4004000000');
    });

    it('is disabled by parameter 3 bit 3 (what `bootparam set bootflag ... options=no-timeout` sets)', () => {
      const { sut, setNow } = make();
      sut.write(3, false, Buffer.from([ValidBitClearing.DontClearOnTimeout]), T0);
      sut.write(5, false, hex('80 04 00 00 00'), T0);
      setNow(T0 + 60 * BOOT_FLAG_VALID_TIMEOUT_MS);
      expect(sut.takeNextBoot()).toEqual({ device: 'pxe', efi: false });
    });

    it('restarts when a Chassis Control command arrives', () => {
      const { sut } = make();
      sut.write(5, false, hex('80 04 00 00 00'), T0);
      sut.noteChassisControl(T0 + 50_000);
      expect(readData(sut, 5, T0 + 109_999)).toBe('8004000000');
      expect(readData(sut, 5, T0 + 110_000)).toBe('0004000000');
    });

    it('a Chassis Control command after expiry does not bring the flags back', () => {
      const { sut } = make();
      sut.write(5, false, hex('80 04 00 00 00'), T0);
      sut.noteChassisControl(T0 + 61_000);
      expect(readData(sut, 5, T0 + 61_000)).toBe('0004000000');
    });

    it('ends once a boot has used persistent flags', () => {
      const { sut, setNow } = make();
      sut.write(5, false, hex('c0 08 00 00 00'), T0);
      setNow(T0 + 1000);
      expect(sut.takeNextBoot()).toEqual({ device: 'disk', efi: false });
      expect(readData(sut, 5, T0 + 3_600_000)).toBe('c008000000');
    });

    it('writing flags without the valid bit starts no countdown', () => {
      const { sut } = make();
      sut.write(5, false, hex('00 04 00 00 00'), T0);
      sut.write(5, true, Buffer.alloc(0), T0);
      sut.write(5, false, Buffer.alloc(0), T0);
      expect(readData(sut, 5, T0 + 3_600_000)).toBe('0004000000');
    });
  });

  describe('restarts not caused by a Chassis Control command', () => {
    it.each([
      ['power-button', ValidBitClearing.DontClearOnPowerButtonOrWake],
      ['soft-reset', ValidBitClearing.DontClearOnPushbuttonOrSoftReset],
      ['watchdog', ValidBitClearing.DontClearOnWatchdogReset],
      ['pef', ValidBitClearing.DontClearOnPefReset],
    ] as const)('%s clears the valid bit unless parameter 3 bit 0x%s is set', (cause, keepBit) => {
      const { sut } = make();
      sut.write(5, false, hex('c0 04 00 00 00'), T0);
      sut.noteRestart(cause, T0 + 1);
      expect(readData(sut, 5, T0 + 1)).toBe('4004000000');

      const { sut: keeps } = make();
      keeps.write(3, false, Buffer.from([keepBit]), T0);
      keeps.write(5, false, hex('c0 04 00 00 00'), T0);
      keeps.noteRestart(cause, T0 + 1);
      expect(readData(keeps, 5, T0 + 1)).toBe('c004000000');
    });
  });

  describe('persistence ("boot.json")', () => {
    it('a restarted BMC keeps a persistent override and the semi-volatile parameters', () => {
      const { sut, store } = make();
      ipmitoolBootdev(sut, 'e0 08 00 00 00');
      sut.write(3, false, hex('08'), T0);
      sut.write(7, false, hex('01 41'), T0);
      sut.write(5, true, Buffer.alloc(0), T0);
      sut.write(5, false, Buffer.alloc(0), T0);
      sut.write(1, true, hex('03'), T0);
      const { sut: again } = make(store, T0 + 1000);
      expect(readData(again, 5, T0 + 1000)).toBe('e008000000');
      expect(readData(again, 3, T0 + 1000)).toBe('08');
      expect(readData(again, 7, T0 + 1000, 1)).toBe('0141' + '00'.repeat(15));
      expect(again.read(1, 0, T0 + 1000)).toEqual({ ok: true, markedInvalid: true, data: hex('03') });
      // boot info acknowledge is volatile: 00h after a BMC reset
      expect(readData(again, 4, T0 + 1000)).toBe('0000');
      expect(again.takeNextBoot()).toEqual({ device: 'disk', efi: true });
    });

    it('keeps the countdown across a BMC restart', () => {
      const { sut, store } = make();
      sut.write(5, false, hex('80 04 00 00 00'), T0);
      const { sut: again } = make(store);
      expect(readData(again, 5, T0 + BOOT_FLAG_VALID_TIMEOUT_MS)).toBe('0004000000');
    });

    it('starts from defaults when the document is unreadable or malformed', () => {
      const store = new MemoryStateStore();
      store.write(BOOT_OPTIONS_DOCUMENT, Buffer.from('{not json'));
      expect(readData(make(store).sut, 5)).toBe('0000000000');
      store.write(BOOT_OPTIONS_DOCUMENT, Buffer.from(JSON.stringify({ version: 1, bootFlags: 'zz', validBitClearing: 999 })));
      const { sut } = make(store);
      expect(readData(sut, 5)).toBe('0000000000');
      expect(readData(sut, 3)).toBe('00');
    });
  });

  it('decodes every boot device selector (spec table 28-14 data 2 bits 5:2)', () => {
    const table: Array<[number, string]> = [
      [0x00, 'default'], [0x04, 'pxe'], [0x08, 'disk'], [0x0c, 'safe'], [0x10, 'diag'], [0x14, 'cdrom'],
      [0x18, 'bios'], [0x1c, 'floppy'], [0x20, 'remote-cdrom'], [0x24, 'remote-primary'], [0x28, 'default'],
      [0x2c, 'remote-disk'], [0x30, 'default'], [0x3c, 'floppy'],
      // bits 7, 6, 1, 0 do not change the device
      [0xc7 | 0x04, 'pxe'],
    ];
    for (const [byte, device] of table) expect([byte, decodeBootDevice(byte)]).toEqual([byte, device]);
  });

  it('bootFlagsView decodes parameter 5', () => {
    const { sut } = make();
    sut.write(5, false, hex('e0 14 00 00 00'), T0);
    expect(sut.bootFlagsView(T0)).toEqual({ valid: true, persistent: true, efi: true, device: 'cdrom', raw: hex('e014000000') });
  });
});
