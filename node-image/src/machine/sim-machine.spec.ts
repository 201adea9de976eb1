import { BootOptions } from '../bmc/chassis/boot-options';
import { MemoryStateStore } from '../state/state-store';
import { type BootSelection, MachineError, type PowerChangeCause, type PowerState } from './machine-control';
import { SimMachine, SimMachineOptions } from './sim-machine';

const PROMPT = 'root@node1:~# ';

function setup(options: Partial<SimMachineOptions> = {}, next: BootSelection = { device: 'default' }) {
  const takeNextBoot = jest.fn((): BootSelection => next);
  const sut = new SimMachine({ boot: { takeNextBoot }, nodeName: 'node1', ...options });
  let serial = '';
  const power: Array<[PowerState, PowerChangeCause]> = [];
  sut.on('serial', (d) => { serial += d.toString('latin1'); });
  sut.on('power', (s, c) => power.push([s, c]));
  return {
    sut,
    takeNextBoot,
    power,
    /** Console output since the last call. */
    output: (): string => { const s = serial; serial = ''; return s; },
  };
}

/** Powers on and waits for the shell (300 + 200 + 500 ms with the default timing). */
async function boot(sut: SimMachine): Promise<void> {
  const p = sut.power('on');
  await jest.advanceTimersByTimeAsync(300);
  await p;
  await jest.advanceTimersByTimeAsync(700);
}

const type = (sut: SimMachine, text: string): void => sut.writeSerial(Buffer.from(text, 'latin1'));

describe('SimMachine', () => {
  beforeEach(() => { jest.useFakeTimers(); });
  afterEach(() => { jest.useRealTimers(); });

  it('starts off and is of kind "sim"', async () => {
    const { sut } = setup();
    expect(sut.kind).toBe('sim');
    await expect(sut.powerState()).resolves.toBe('off');
  });

  describe('power on', () => {
    it('flips after the power delay, then resolves and emits power on (command)', async () => {
      const { sut, power, output } = setup();
      let done = false;
      const p = sut.power('on').then(() => { done = true; });
      await jest.advanceTimersByTimeAsync(299);
      expect(done).toBe(false);
      await expect(sut.powerState()).resolves.toBe('off');
      expect(power).toEqual([]);
      await jest.advanceTimersByTimeAsync(1);
      await p;
      expect(done).toBe(true);
      await expect(sut.powerState()).resolves.toBe('on');
      expect(power).toEqual([['on', 'command']]);
      expect(output()).toBe('\r\nbmcfleet sim firmware (legacy BIOS)\r\nBooting from Hard Disk...\r\n');
    });

    it('names Secure Boot in the banner of a UEFI boot the firmware settings run with it', async () => {
      const { sut, output } = setup({ firmware: 'uefi' }, { device: 'default', secureBoot: true });
      const p = sut.power('on');
      await jest.advanceTimersByTimeAsync(300);
      await p;
      expect(output()).toMatch(/^\r\nbmcfleet sim firmware \(UEFI, Secure Boot\)\r\n/);
    });

    it('honours powerDelayMs', async () => {
      const { sut } = setup({ powerDelayMs: 50 });
      const p = sut.power('on');
      await jest.advanceTimersByTimeAsync(50);
      await p;
      await expect(sut.powerState()).resolves.toBe('on');
    });

    it('prints the kernel line, then the login and the prompt', async () => {
      const { sut, output } = setup();
      const p = sut.power('on');
      await jest.advanceTimersByTimeAsync(300);
      await p;
      output();
      await jest.advanceTimersByTimeAsync(200);
      expect(output()).toMatch(/^\[ {4}0\.000000\] Linux version 6\.1\.0-bmcfleet-sim /);
      await jest.advanceTimersByTimeAsync(499);
      expect(output()).toBe('');
      await jest.advanceTimersByTimeAsync(1);
      expect(output()).toBe(`\r\nnode1 login: root (automatic login)\r\n\r\n${PROMPT}`);
    });

    it('asks the boot source once per boot and names the device and firmware mode', async () => {
      const cases: Array<[BootSelection, Partial<SimMachineOptions>, string]> = [
        [{ device: 'pxe', efi: false }, {}, '(legacy BIOS)\r\nBooting from PXE...'],
        [{ device: 'pxe', efi: true }, {}, '(UEFI)\r\nBooting from PXE...'],
        [{ device: 'cdrom', efi: false }, { firmware: 'uefi' }, '(legacy BIOS)\r\nBooting from DVD/CD...'],
        [{ device: 'default' }, { firmware: 'uefi' }, '(UEFI)\r\nBooting from Hard Disk...'],
        [{ device: 'default' }, { defaultBootDevice: 'pxe' }, '(legacy BIOS)\r\nBooting from PXE...'],
        [{ device: 'disk', efi: true }, {}, '(UEFI)\r\nBooting from Hard Disk...'],
      ];
      for (const [selection, options, expected] of cases) {
        const { sut, takeNextBoot, output } = setup(options, selection);
        const p = sut.power('on');
        await jest.advanceTimersByTimeAsync(300);
        await p;
        expect(takeNextBoot).toHaveBeenCalledTimes(1);
        expect(output()).toContain(`bmcfleet sim firmware ${expected}\r\n`);
        await sut.close();
      }
    });

    it('boot device "bios" stops in firmware setup: no shell, input and the power button ignored', async () => {
      const { sut, output, power } = setup({}, { device: 'bios', efi: false });
      await boot(sut);
      expect(output()).toBe('\r\nbmcfleet sim firmware (legacy BIOS)\r\nEntering firmware setup...\r\n');
      type(sut, 'echo hi\r');
      await sut.power('soft');
      await jest.advanceTimersByTimeAsync(60_000);
      expect(output()).toBe('');
      expect(power).toEqual([['on', 'command']]);
    });

    it('power on while on does nothing', async () => {
      const { sut, power, takeNextBoot } = setup();
      await boot(sut);
      await sut.power('on');
      expect(power).toEqual([['on', 'command']]);
      expect(takeNextBoot).toHaveBeenCalledTimes(1);
    });

    it('uses the BMC boot flags: a once-only PXE override, then the default device', async () => {
      let now = 0;
      const flags = new BootOptions({ store: new MemoryStateStore(), clock: () => now });
      flags.write(5, false, Buffer.from('8004000000', 'hex'), now);
      const { sut, output } = setup({ boot: flags });
      await boot(sut);
      expect(output()).toContain('Booting from PXE...');
      now = 5000;
      await sut.power('reset');
      expect(output()).toContain('Booting from Hard Disk...');
    });
  });

  describe('the console shell', () => {
    it('echoes typed characters and turns CR into CRLF', async () => {
      const { sut, output } = setup();
      await boot(sut);
      output();
      type(sut, 'echo hello   world\r');
      expect(output()).toBe(`echo hello   world\r\nhello world\r\n${PROMPT}`);
    });

    it('answers uname, hostname and unknown commands', async () => {
      const { sut, output } = setup();
      await boot(sut);
      output();
      type(sut, 'uname -a\r');
      expect(output()).toBe(`uname -a\r\nLinux node1 6.1.0-bmcfleet-sim #1 SMP PREEMPT_DYNAMIC x86_64 GNU/Linux\r\n${PROMPT}`);
      type(sut, 'uname\r');
      expect(output()).toBe(`uname\r\nLinux\r\n${PROMPT}`);
      type(sut, 'hostname\r');
      expect(output()).toBe(`hostname\r\nnode1\r\n${PROMPT}`);
      type(sut, 'ls -l\r');
      expect(output()).toBe(`ls -l\r\nsh: ls: not found\r\n${PROMPT}`);
      type(sut, '\r');
      expect(output()).toBe(`\r\n${PROMPT}`);
    });

    it('treats CRLF as one Enter and a lone LF as Enter', async () => {
      const { sut, output } = setup();
      await boot(sut);
      output();
      type(sut, 'echo a\r\necho b\n');
      expect(output()).toBe(`echo a\r\na\r\n${PROMPT}echo b\r\nb\r\n${PROMPT}`);
    });

    it('handles backspace, delete and Ctrl-C, and drops other control bytes', async () => {
      const { sut, output } = setup();
      await boot(sut);
      output();
      type(sut, 'echo abx\x7fc\x08\x08\x08');
      expect(output()).toBe('echo abx\b \bc\b \b\b \b\b \b');
      // "echo " is left: five erasures, the sixth backspace has nothing to erase
      type(sut, '\x1b\x01\x08\x08\x08\x08\x08\x08');
      expect(output()).toBe('\b \b'.repeat(5));
      type(sut, 'xyz\x03');
      expect(output()).toBe(`xyz^C\r\n${PROMPT}`);
      type(sut, 'echo ok\r');
      expect(output()).toBe(`echo ok\r\nok\r\n${PROMPT}`);
    });

    it('keeps what is typed while booting and runs it once the shell is up', async () => {
      const { sut, output } = setup();
      const p = sut.power('on');
      await jest.advanceTimersByTimeAsync(300);
      await p;
      type(sut, 'echo early\r');
      await jest.advanceTimersByTimeAsync(700);
      expect(output()).toMatch(new RegExp(`${PROMPT}echo early\\r\\nearly\\r\\n${PROMPT}$`));
    });

    it('ignores input while off', async () => {
      const { sut, output } = setup();
      type(sut, 'echo hi\r');
      await boot(sut);
      expect(output()).not.toContain('hi');
    });

    it('`poweroff`: the guest shuts down and powers off (cause guest); later input is ignored', async () => {
      const { sut, output, power } = setup();
      await boot(sut);
      output();
      type(sut, 'poweroff\recho too late\r');
      expect(output()).toBe('poweroff\r\nThe system is going down for poweroff NOW!\r\n');
      await jest.advanceTimersByTimeAsync(299);
      await expect(sut.powerState()).resolves.toBe('on');
      await jest.advanceTimersByTimeAsync(1);
      expect(output()).toBe('reboot: Power down\r\n');
      await expect(sut.powerState()).resolves.toBe('off');
      expect(power).toEqual([['on', 'command'], ['off', 'guest']]);
    });
  });

  describe('power off, cycle, reset', () => {
    it('off flips after the delay with cause command and stops the guest', async () => {
      const { sut, output, power } = setup();
      const p = sut.power('on');
      await jest.advanceTimersByTimeAsync(300);
      await p;
      const off = sut.power('off');
      await jest.advanceTimersByTimeAsync(300);
      await off;
      await jest.advanceTimersByTimeAsync(10_000);
      expect(output()).not.toContain('login');
      expect(power).toEqual([['on', 'command'], ['off', 'command']]);
      await sut.power('off');
      expect(power).toHaveLength(2);
    });

    it('cycle: off, a pause, on, and a new boot', async () => {
      const { sut, output, power, takeNextBoot } = setup();
      await boot(sut);
      output();
      let done = false;
      const p = sut.power('cycle').then(() => { done = true; });
      await jest.advanceTimersByTimeAsync(300);
      expect(power).toEqual([['on', 'command'], ['off', 'command']]);
      await jest.advanceTimersByTimeAsync(399);
      expect(done).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      await p;
      expect(power).toEqual([['on', 'command'], ['off', 'command'], ['on', 'command']]);
      expect(takeNextBoot).toHaveBeenCalledTimes(2);
      expect(output()).toContain('bmcfleet sim firmware');
    });

    it('cycle while off powers on', async () => {
      const { sut, power } = setup();
      const p = sut.power('cycle');
      await jest.advanceTimersByTimeAsync(300);
      await p;
      expect(power).toEqual([['on', 'command']]);
    });

    it('reset reboots at once with the banner, without power events', async () => {
      const { sut, output, power, takeNextBoot } = setup();
      await boot(sut);
      type(sut, 'echo half');
      output();
      await sut.power('reset');
      expect(output()).toBe('\r\nbmcfleet sim firmware (legacy BIOS)\r\nBooting from Hard Disk...\r\n');
      expect(power).toEqual([['on', 'command']]);
      expect(takeNextBoot).toHaveBeenCalledTimes(2);
      await jest.advanceTimersByTimeAsync(700);
      output();
      // the half-typed line did not survive the reset
      type(sut, '\r');
      expect(output()).toBe(`\r\n${PROMPT}`);
    });

    it('refuses another power action while one is in progress (busy)', async () => {
      const { sut } = setup();
      const p = sut.power('on');
      await expect(sut.power('off')).rejects.toMatchObject({ reason: 'busy' });
      await expect(sut.power('reset')).rejects.toBeInstanceOf(MachineError);
      await jest.advanceTimersByTimeAsync(300);
      await p;
      const off = sut.power('off');
      await expect(sut.power('cycle')).rejects.toMatchObject({ reason: 'busy' });
      await jest.advanceTimersByTimeAsync(300);
      await off;
    });

    it('soft, reset and diag while off do nothing', async () => {
      const { sut, output, power, takeNextBoot } = setup();
      await sut.power('soft');
      await sut.power('reset');
      await sut.power('diag');
      await jest.advanceTimersByTimeAsync(10_000);
      expect(output()).toBe('');
      expect(power).toEqual([]);
      expect(takeNextBoot).not.toHaveBeenCalled();
    });
  });

  describe('soft (ACPI power button)', () => {
    it('a booted guest prints a shutdown message and powers off after a moment (cause guest)', async () => {
      const { sut, output, power } = setup();
      await boot(sut);
      output();
      await sut.power('soft');
      expect(output()).toBe('\r\nPower button pressed.\r\nThe system is going down for poweroff NOW!\r\n');
      await expect(sut.powerState()).resolves.toBe('on');
      await jest.advanceTimersByTimeAsync(300);
      expect(output()).toBe('reboot: Power down\r\n');
      expect(power).toEqual([['on', 'command'], ['off', 'guest']]);
    });

    it('is ignored while the guest is still in firmware or booting its kernel', async () => {
      const { sut, output, power } = setup();
      const p = sut.power('on');
      await jest.advanceTimersByTimeAsync(300);
      await p;
      await sut.power('soft');
      await jest.advanceTimersByTimeAsync(300);
      await sut.power('soft');
      await jest.advanceTimersByTimeAsync(400);
      expect(output()).not.toContain('going down');
      expect(power).toEqual([['on', 'command']]);
      // once the shell is up, the button works
      await sut.power('soft');
      await jest.advanceTimersByTimeAsync(300);
      expect(power).toEqual([['on', 'command'], ['off', 'guest']]);
    });

    it('a second press while shutting down changes nothing; a hard off cuts the shutdown short', async () => {
      const { sut, output, power } = setup();
      await boot(sut);
      await sut.power('soft');
      output();
      await sut.power('soft');
      expect(output()).toBe('');
      const off = sut.power('off');
      await jest.advanceTimersByTimeAsync(300);
      await off;
      await jest.advanceTimersByTimeAsync(10_000);
      expect(power).toEqual([['on', 'command'], ['off', 'command']]);
      expect(output()).not.toContain('Power down');
    });
  });

  describe('diag (NMI)', () => {
    it('a running kernel prints the unknown-NMI message', async () => {
      const { sut, output } = setup();
      await boot(sut);
      output();
      await sut.power('diag');
      expect(output()).toBe('\r\nUhhuh. NMI received for unknown reason 3d on CPU 0.\r\nDazed and confused, but trying to continue\r\n');
      await expect(sut.powerState()).resolves.toBe('on');
    });

    it('firmware ignores it', async () => {
      const { sut, output } = setup();
      const p = sut.power('on');
      await jest.advanceTimersByTimeAsync(300);
      await p;
      output();
      await sut.power('diag');
      expect(output()).toBe('');
    });
  });

  it('a serial break is accepted and changes nothing', async () => {
    const { sut, output } = setup();
    await boot(sut);
    output();
    sut.sendBreak();
    expect(output()).toBe('');
  });

  describe('close', () => {
    it('clears every timer and fails a power action in progress', async () => {
      const { sut, power } = setup();
      await boot(sut);
      await sut.power('soft');
      expect(jest.getTimerCount()).toBeGreaterThan(0);
      await sut.close();
      expect(jest.getTimerCount()).toBe(0);
      await jest.advanceTimersByTimeAsync(10_000);
      expect(power).toEqual([['on', 'command']]);

      const { sut: other } = setup();
      const p = other.power('on');
      const settled = expect(p).rejects.toMatchObject({ reason: 'failed' });
      await other.close();
      await settled;
      expect(jest.getTimerCount()).toBe(0);
      await expect(other.power('on')).rejects.toMatchObject({ reason: 'failed' });
    });

    it('emits nothing afterwards', async () => {
      const { sut, output } = setup();
      const p = sut.power('on');
      await jest.advanceTimersByTimeAsync(300);
      await p;
      await sut.close();
      output();
      type(sut, 'echo x\r');
      await jest.advanceTimersByTimeAsync(10_000);
      expect(output()).toBe('');
      await expect(sut.powerState()).resolves.toBe('off');
    });
  });
});
