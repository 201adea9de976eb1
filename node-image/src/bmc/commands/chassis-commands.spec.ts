import { Listeners } from '../../machine/events';
import {
  MachineError,
  type MachineControl,
  type MachineEvents,
  type PowerAction,
  type PowerState,
} from '../../machine/machine-control';
import { CompletionCode, Privilege } from '../../protocol/errors';
import { ChassisCmd, NetFn } from '../../protocol/netfn';
import { MemoryStateStore } from '../../state/state-store';
import { BootOptions } from '../chassis/boot-options';
import { ChassisState, followMachinePower } from '../chassis/chassis-state';
import { chassisCommands, ChassisCommandDeps } from './chassis-commands';
import { CommandContext, CommandDefinition } from './command-types';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const T0 = 1_700_000_000_000;

const ctx = (now = T0): CommandContext => ({
  now,
  session: { id: 1, handle: 1, protocol: 'rmcpplus', privilege: Privilege.Administrator, userId: 2, remoteAddress: '127.0.0.1', remotePort: 40000 },
});

/** A machine that flips at once and can be told to refuse. */
class FakeMachine implements MachineControl {
  readonly kind = 'fake';
  state: PowerState = 'off';
  readonly calls: PowerAction[] = [];
  refuse: Error | undefined;
  stateError: Error | undefined;
  private readonly events = new Listeners<MachineEvents>();

  async powerState(): Promise<PowerState> {
    if (this.stateError) throw this.stateError;
    return this.state;
  }

  async power(action: PowerAction): Promise<void> {
    this.calls.push(action);
    if (this.refuse) throw this.refuse;
    if (action === 'on' && this.state === 'off') this.set('on');
    if (action === 'off' && this.state === 'on') this.set('off');
    if (action === 'cycle') { this.set('off'); this.set('on'); }
  }

  private set(state: PowerState): void {
    this.state = state;
    this.events.emit('power', state, 'command');
  }

  writeSerial(): void { throw new Error('unexpected writeSerial'); }
  sendBreak(): void { throw new Error('unexpected sendBreak'); }
  on<E extends keyof MachineEvents>(event: E, listener: MachineEvents[E]): () => void { return this.events.on(event, listener); }
  async close(): Promise<void> { /* nothing */ }
}

describe('chassisCommands', () => {
  let machine: FakeMachine;
  let boot: BootOptions;
  let chassis: ChassisState;
  let clock: number;
  let powerCommands: PowerAction[];
  let defs: CommandDefinition[];

  const build = (extra: Partial<ChassisCommandDeps> = {}): void => {
    defs = chassisCommands({ machine, boot, chassis, onPowerCommand: (a) => powerCommands.push(a), ...extra });
  };

  const find = (cmd: number): CommandDefinition => {
    const d = defs.find((x) => x.netFn === NetFn.Chassis && x.cmd === cmd);
    if (!d) throw new Error(`cmd ${cmd} missing`);
    return d;
  };

  const call = async (cmd: number, data = '', now = T0): Promise<string> => {
    clock = now;
    const r = await find(cmd).handler(hex(data), ctx(now));
    const body = (r.data ?? Buffer.alloc(0)).toString('hex');
    return r.cc.toString(16).padStart(2, '0') + (body ? ` | ${body}` : '');
  };

  beforeEach(() => {
    const store = new MemoryStateStore();
    clock = T0;
    machine = new FakeMachine();
    boot = new BootOptions({ store, clock: () => clock });
    chassis = new ChassisState({ store });
    followMachinePower(machine, chassis, () => clock);
    powerCommands = [];
    build();
  });

  it('registers the chassis commands with the privileges of spec table G-1', () => {
    expect(defs.map((d) => [d.netFn, d.cmd, d.privilege, d.name])).toEqual([
      [0x00, 0x00, Privilege.User, 'Get Chassis Capabilities'],
      [0x00, 0x01, Privilege.User, 'Get Chassis Status'],
      [0x00, 0x02, Privilege.Operator, 'Chassis Control'],
      [0x00, 0x04, Privilege.Operator, 'Chassis Identify'],
      [0x00, 0x06, Privilege.Operator, 'Set Power Restore Policy'],
      [0x00, 0x07, Privilege.User, 'Get System Restart Cause'],
      [0x00, 0x08, Privilege.Operator, 'Set System Boot Options'],
      [0x00, 0x09, Privilege.Operator, 'Get System Boot Options'],
      [0x00, 0x0f, Privilege.User, 'Get POH Counter'],
    ]);
    expect(defs.every((d) => !d.sessionless)).toBe(true);
  });

  it.each([
    [ChassisCmd.GetChassisCapabilities, '00'],
    [ChassisCmd.GetChassisStatus, '00'],
    [ChassisCmd.ChassisControl, ''],
    [ChassisCmd.ChassisControl, '0100'],
    [ChassisCmd.ChassisIdentify, '0f0100'],
    [ChassisCmd.SetPowerRestorePolicy, ''],
    [ChassisCmd.SetPowerRestorePolicy, '0300'],
    [ChassisCmd.GetSystemRestartCause, '00'],
    [ChassisCmd.SetSystemBootOptions, ''],
    [ChassisCmd.GetSystemBootOptions, '0500'],
    [ChassisCmd.GetSystemBootOptions, '05000000'],
    [ChassisCmd.GetPohCounter, '00'],
  ])('cmd 0x%s with data "%s" has the wrong length (0xC7)', async (cmd, data) => {
    expect(await call(cmd, data)).toBe('c7');
    expect(machine.calls).toEqual([]);
  });

  it('Get Chassis Capabilities: no optional features, every device at the BMC (0x20)', async () => {
    expect(await call(ChassisCmd.GetChassisCapabilities)).toBe('00 | 0020202020');
  });

  describe('Get Chassis Status', () => {
    it('reports power off, always-off, identify supported and off', async () => {
      expect(await call(ChassisCmd.GetChassisStatus)).toBe('00 | 00004000');
    });

    it('matches the captured `41 10 .. 00` after power on by command with policy always-on', async () => {
      expect(await call(ChassisCmd.SetPowerRestorePolicy, '02')).toBe('00 | 07');
      expect(await call(ChassisCmd.ChassisControl, '01')).toBe('00');
      // capture (test BMC): 41 10 00 00; byte 3 here also says "identify state supported, off"
      expect(await call(ChassisCmd.GetChassisStatus)).toBe('00 | 41104000');
    });

    it('reads the power state live from the machine', async () => {
      machine.state = 'on';
      expect(await call(ChassisCmd.GetChassisStatus)).toBe('00 | 01004000');
      machine.state = 'off';
      expect(await call(ChassisCmd.GetChassisStatus)).toBe('00 | 00004000');
    });

    it('reports restore policy "previous" in bits 6:5', async () => {
      await call(ChassisCmd.SetPowerRestorePolicy, '01');
      expect(await call(ChassisCmd.GetChassisStatus)).toBe('00 | 20004000');
    });

    it('reports identify timed (bits 5:4 = 01) and forced (10)', async () => {
      await call(ChassisCmd.ChassisIdentify, '', T0);
      expect(await call(ChassisCmd.GetChassisStatus, '', T0 + 14_000)).toBe('00 | 00005000');
      expect(await call(ChassisCmd.GetChassisStatus, '', T0 + 15_000)).toBe('00 | 00004000');
      await call(ChassisCmd.ChassisIdentify, '0001', T0);
      expect(await call(ChassisCmd.GetChassisStatus, '', T0 + 1e9)).toBe('00 | 00006000');
    });

    it('maps a machine error', async () => {
      machine.stateError = new MachineError('qmp gone', 'failed');
      expect(await call(ChassisCmd.GetChassisStatus)).toBe('ff');
    });
  });

  describe('Chassis Control (captured requests 00-05)', () => {
    it.each([
      ['01', 'on', 'off'],
      ['00', 'off', 'on'],
      ['02', 'cycle', 'on'],
      ['03', 'reset', 'on'],
      ['04', 'diag', 'on'],
      ['05', 'soft', 'on'],
    ] as const)('request %s asks the machine for %s', async (req, action, initial) => {
      machine.state = initial;
      expect(await call(ChassisCmd.ChassisControl, req)).toBe('00');
      expect(machine.calls).toEqual([action]);
      expect(powerCommands).toEqual([action]);
    });

    it.each(['06', '0f', '10', '81', 'ff'])('value %s is an invalid data field (0xCC)', async (req) => {
      expect(await call(ChassisCmd.ChassisControl, req)).toBe('cc');
      expect(machine.calls).toEqual([]);
    });

    it.each(['02', '03', '04', '05'])('request %s while powered off is refused with 0xD5', async (req) => {
      expect(await call(ChassisCmd.ChassisControl, req)).toBe('d5');
      expect(machine.calls).toEqual([]);
      expect(powerCommands).toEqual([]);
    });

    it('power on/off when already there succeed', async () => {
      expect(await call(ChassisCmd.ChassisControl, '00')).toBe('00');
      machine.state = 'on';
      expect(await call(ChassisCmd.ChassisControl, '01')).toBe('00');
      expect(machine.calls).toEqual(['off', 'on']);
    });

    it('maps MachineError: busy → 0xC0, unsupported → 0xCC (the captured `power diag`), failed → 0xFF', async () => {
      machine.state = 'on';
      machine.refuse = new MachineError('transition under way', 'busy');
      expect(await call(ChassisCmd.ChassisControl, '00')).toBe('c0');
      machine.refuse = new MachineError('no NMI', 'unsupported');
      expect(await call(ChassisCmd.ChassisControl, '04')).toBe('cc');
      expect(await call(ChassisCmd.GetChassisStatus)).toBe('00 | 01004000');
      machine.refuse = new MachineError('qemu exited', 'failed');
      expect(await call(ChassisCmd.ChassisControl, '03')).toBe('ff');
      expect(powerCommands).toEqual([]);
    });

    it('a failed action raises "power control fault" until an action succeeds', async () => {
      machine.refuse = new MachineError('qemu did not start', 'failed');
      expect(await call(ChassisCmd.ChassisControl, '01')).toBe('ff');
      expect(await call(ChassisCmd.GetChassisStatus)).toBe('00 | 10004000');
      machine.refuse = undefined;
      expect(await call(ChassisCmd.ChassisControl, '01')).toBe('00');
      expect(await call(ChassisCmd.GetChassisStatus)).toBe('00 | 01104000');
    });

    describe('a transition slower than the answer deadline', () => {
      /** Makes the fake machine's next power() wait until the test settles it. */
      const holdNextAction = (): { finish: () => void; failWith: (err: Error) => void } => {
        let finish!: () => void;
        let failWith!: (err: Error) => void;
        const held = new Promise<void>((resolve, reject) => { finish = resolve; failWith = reject; });
        const original = machine.power.bind(machine);
        machine.power = async (action: PowerAction): Promise<void> => {
          machine.power = original;
          machine.calls.push(action);
          await held;
          machine.state = action === 'off' ? 'off' : 'on';
        };
        return { finish, failWith };
      };

      it('is answered 00 while the action goes on; status follows when it completes (no busy refusal to a client retry)', async () => {
        build({ answerWithinMs: 20 });
        const held = holdNextAction();
        expect(await call(ChassisCmd.ChassisControl, '01')).toBe('00');
        expect(machine.calls).toEqual(['on']);
        expect(powerCommands).toEqual(['on']);
        expect(await call(ChassisCmd.GetChassisStatus)).toBe('00 | 00004000');
        held.finish();
        await new Promise((r) => setImmediate(r));
        expect(await call(ChassisCmd.GetChassisStatus)).toBe('00 | 01004000');
        expect(await call(ChassisCmd.GetSystemRestartCause)).toBe('00 | 0101');
      });

      it('a failure after the answer raises "power control fault"', async () => {
        build({ answerWithinMs: 20 });
        const held = holdNextAction();
        expect(await call(ChassisCmd.ChassisControl, '01')).toBe('00');
        held.failWith(new MachineError('qemu exited', 'failed'));
        await new Promise((r) => setImmediate(r));
        expect(await call(ChassisCmd.GetChassisStatus)).toBe('00 | 10004000');
      });

      it('a refusal within the deadline is still reported (busy → 0xC0)', async () => {
        build({ answerWithinMs: 1_000 });
        machine.state = 'on';
        machine.refuse = new MachineError('transition under way', 'busy');
        expect(await call(ChassisCmd.ChassisControl, '00')).toBe('c0');
      });
    });

    it('other errors are not swallowed', async () => {
      machine.refuse = new TypeError('bug');
      await expect(call(ChassisCmd.ChassisControl, '01')).rejects.toThrow('bug');
    });

    it('restarts the boot flags countdown', async () => {
      machine.state = 'on';
      expect(await call(ChassisCmd.SetSystemBootOptions, '05 80 04 00 00 00', T0)).toBe('00');
      expect(await call(ChassisCmd.ChassisControl, '00', T0 + 50_000)).toBe('00');
      expect(await call(ChassisCmd.GetSystemBootOptions, '05 00 00', T0 + 100_000)).toBe('00 | 01058004000000');
      expect(await call(ChassisCmd.GetSystemBootOptions, '05 00 00', T0 + 110_000)).toBe('00 | 01050004000000');
    });
  });

  describe('Get System Restart Cause', () => {
    it('is unknown at first, then "chassis control" on the LAN channel after a power on', async () => {
      expect(await call(ChassisCmd.GetSystemRestartCause)).toBe('00 | 0000');
      await call(ChassisCmd.ChassisControl, '01');
      expect(await call(ChassisCmd.GetSystemRestartCause)).toBe('00 | 0101');
    });

    it('a hard reset is a restart even though power stays on; a power on while on is not', async () => {
      build({ channel: 0x0e });
      machine.state = 'on';
      await call(ChassisCmd.ChassisControl, '01');
      expect(await call(ChassisCmd.GetSystemRestartCause)).toBe('00 | 0000');
      await call(ChassisCmd.ChassisControl, '03');
      expect(await call(ChassisCmd.GetSystemRestartCause)).toBe('00 | 010e');
    });
  });

  describe('Chassis Identify (captured: no data, 00, 00 01)', () => {
    it('no data = 15 s, [N] = N s, [0] = off, [N, 01] = forced', async () => {
      expect(await call(ChassisCmd.ChassisIdentify, '', T0)).toBe('00');
      expect(chassis.identifyState(T0 + 14_999)).toBe('timed');
      expect(chassis.identifyState(T0 + 15_000)).toBe('off');
      expect(await call(ChassisCmd.ChassisIdentify, '3c', T0)).toBe('00');
      expect(chassis.identifyState(T0 + 59_999)).toBe('timed');
      expect(await call(ChassisCmd.ChassisIdentify, '00', T0)).toBe('00');
      expect(chassis.identifyState(T0)).toBe('off');
      expect(await call(ChassisCmd.ChassisIdentify, '00 01', T0)).toBe('00');
      expect(chassis.identifyState(T0 + 1e9)).toBe('forced');
      expect(await call(ChassisCmd.ChassisIdentify, '05 00', T0)).toBe('00');
      expect(chassis.identifyState(T0 + 4_999)).toBe('timed');
    });

    it('reserved bits in the force byte are an invalid field', async () => {
      expect(await call(ChassisCmd.ChassisIdentify, '00 02')).toBe('cc');
    });
  });

  describe('Set Power Restore Policy', () => {
    it('returns the supported-policies bitmap for every request and sets the policy', async () => {
      expect(await call(ChassisCmd.SetPowerRestorePolicy, '03')).toBe('00 | 07');
      expect(chassis.restorePolicy).toBe('always-off');
      expect(await call(ChassisCmd.SetPowerRestorePolicy, '01')).toBe('00 | 07');
      expect(chassis.restorePolicy).toBe('previous');
      expect(await call(ChassisCmd.SetPowerRestorePolicy, '02')).toBe('00 | 07');
      expect(chassis.restorePolicy).toBe('always-on');
      expect(await call(ChassisCmd.SetPowerRestorePolicy, '00')).toBe('00 | 07');
      expect(chassis.restorePolicy).toBe('always-off');
    });

    it.each(['04', '07', '13'])('value %s is an invalid data field', async (req) => {
      expect(await call(ChassisCmd.SetPowerRestorePolicy, req)).toBe('cc');
    });
  });

  describe('System Boot Options (captured ipmitool sequences)', () => {
    const bootdev = async (flags: string): Promise<string[]> => [
      await call(ChassisCmd.SetSystemBootOptions, '00 01'),
      await call(ChassisCmd.SetSystemBootOptions, '04 01 01'),
      await call(ChassisCmd.SetSystemBootOptions, `05 ${flags}`),
      await call(ChassisCmd.SetSystemBootOptions, '00 02'),
      await call(ChassisCmd.SetSystemBootOptions, '00 00'),
    ];

    it('`chassis bootdev pxe` answers 00 to all five writes and the machine boots PXE once', async () => {
      expect(await bootdev('80 04 00 00 00')).toEqual(['00', '00', '00', '00', '00']);
      expect(boot.takeNextBoot()).toEqual({ device: 'pxe', efi: false });
      expect(boot.takeNextBoot()).toEqual({ device: 'default' });
    });

    it('`chassis bootdev bios` then `bootparam get 5` → 01 05 80 18 00 00 00', async () => {
      await bootdev('80 18 00 00 00');
      expect(await call(ChassisCmd.GetSystemBootOptions, '05 00 00')).toBe('00 | 01058018000000');
    });

    it('flags without the valid bit read back like the captured ipmi_sim answer 01 05 00 08 00 00 00', async () => {
      await call(ChassisCmd.SetSystemBootOptions, '05 00 08 00 00 00');
      expect(await call(ChassisCmd.GetSystemBootOptions, '05 00 00')).toBe('00 | 01050008000000');
    });

    it('`bootdev disk options=persistent,efiboot` gives a persistent EFI disk', async () => {
      await bootdev('e0 08 00 00 00');
      expect(boot.takeNextBoot()).toEqual({ device: 'disk', efi: true });
      expect(await call(ChassisCmd.GetSystemBootOptions, '05 00 00')).toBe('00 | 0105e008000000');
    });

    it('a second "set in progress" answers 0x81', async () => {
      expect(await call(ChassisCmd.SetSystemBootOptions, '00 01')).toBe('00');
      expect(await call(ChassisCmd.SetSystemBootOptions, '00 01')).toBe('81');
    });

    it('unsupported parameters answer 0x80 for Set and Get', async () => {
      expect(await call(ChassisCmd.SetSystemBootOptions, '08 00')).toBe('80');
      expect(await call(ChassisCmd.GetSystemBootOptions, '62 00 00')).toBe('80');
    });

    it('wrong parameter length → 0xC7, reserved set-in-progress value → 0xCC, mailbox block → 0xC9', async () => {
      expect(await call(ChassisCmd.SetSystemBootOptions, '05 80 04 00 00')).toBe('c7');
      expect(await call(ChassisCmd.SetSystemBootOptions, '00 03')).toBe('cc');
      expect(await call(ChassisCmd.GetSystemBootOptions, '07 05 00')).toBe('c9');
    });

    it('bit 7 of the Set selector marks the parameter invalid; Get reports it in bit 7', async () => {
      await call(ChassisCmd.SetSystemBootOptions, '05 80 04 00 00 00');
      expect(await call(ChassisCmd.SetSystemBootOptions, '85')).toBe('00');
      expect(await call(ChassisCmd.GetSystemBootOptions, '05 00 00')).toBe('00 | 01858004000000');
      // Get ignores the reserved bit 7 of its selector byte
      expect(await call(ChassisCmd.GetSystemBootOptions, '85 00 00')).toBe('00 | 01858004000000');
    });

    it('reads parameters 0, 3, 4 and a mailbox block', async () => {
      expect(await call(ChassisCmd.GetSystemBootOptions, '00 00 00')).toBe('00 | 010000');
      await call(ChassisCmd.SetSystemBootOptions, '03 08');
      expect(await call(ChassisCmd.GetSystemBootOptions, '03 00 00')).toBe('00 | 010308');
      await call(ChassisCmd.SetSystemBootOptions, '04 01 01');
      expect(await call(ChassisCmd.GetSystemBootOptions, '04 00 00')).toBe('00 | 01040001');
      await call(ChassisCmd.SetSystemBootOptions, '07 02 41 42');
      expect(await call(ChassisCmd.GetSystemBootOptions, '07 02 00')).toBe(`00 | 010702${'4142'}${'00'.repeat(14)}`);
    });
  });

  describe('Get POH Counter', () => {
    it('counts minutes powered on, one minute per count', async () => {
      expect(await call(ChassisCmd.GetPohCounter, '', T0)).toBe('00 | 0100000000');
      await call(ChassisCmd.ChassisControl, '01', T0);
      expect(await call(ChassisCmd.GetPohCounter, '', T0 + 61 * 60_000)).toBe('00 | 013d000000');
      await call(ChassisCmd.ChassisControl, '00', T0 + 300 * 60_000);
      expect(await call(ChassisCmd.GetPohCounter, '', T0 + 900 * 60_000)).toBe('00 | 012c010000');
    });
  });
});
