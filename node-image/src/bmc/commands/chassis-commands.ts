/**
 * Chassis commands (NetFn Chassis 0x00): IPMI v2.0 chapter 28; reference 7.4-7.8, captures Vector 5.
 * Request data follows the command byte; response data follows the completion code.
 *
 * 0x00 Get Chassis Capabilities  req: -            rsp: 0 capability flags | 1 FRU | 2 SDR | 3 SEL |
 *                                                        4 system management device address
 * 0x01 Get Chassis Status        req: -            rsp: 0 power state (bit 0 on, bit 4 power control fault,
 *                                                        bits 6:5 restore policy) | 1 last power event |
 *                                                        2 misc (bits 5:4 identify state, bit 6 identify
 *                                                        info supported) | 3 front panel buttons (none)
 * 0x02 Chassis Control           req: 0 bits 3:0 control (0 off, 1 on, 2 cycle, 3 hard reset,
 *                                        4 diagnostic interrupt, 5 soft/ACPI)          rsp: -
 * 0x04 Chassis Identify          req: [0 interval s (0 = off)] [1 bit 0 force on]      rsp: -
 * 0x06 Set Power Restore Policy  req: 0 bits 2:0 (0 always off, 1 previous, 2 always on, 3 no change)
 *                                rsp: 0 supported policies bitmap (bit 0 off, bit 1 previous, bit 2 on)
 * 0x07 Get System Restart Cause  req: -            rsp: 0 bits 3:0 cause (table 28-11) | 1 channel
 * 0x08 Set System Boot Options   req: 0 bit 7 mark invalid | bits 6:0 parameter, 1.. data   rsp: -
 * 0x09 Get System Boot Options   req: 0 parameter | 1 set selector | 2 block selector
 *                                rsp: 0 parameter version (1) | 1 bit 7 invalid | bits 6:0 parameter | 2.. data
 * 0x0F Get POH Counter           req: -            rsp: 0 minutes per count | 1-4 counter (u32le)
 *
 * Privileges follow spec table G-1: the Get commands other than Get System Boot Options need User;
 * Chassis Control, Identify, Set Power Restore Policy and both boot option commands need Operator.
 *
 * Chassis Control completion codes: 0xCC for a control value outside 0-5 and for an action the
 * machine does not support (reference 7.5; ipmi_sim answers `power diag` the same way); 0xD5 for
 * cycle, hard reset, diagnostic interrupt or soft shutdown while the power is off (spec 28.3
 * recommends it for cycle; a powered-off system has nothing to reset, interrupt or shut down);
 * 0xC0 "node busy" while the machine is still carrying out another power action; 0xFF when the
 * machine tried and failed, which also raises the "power control fault" status bit.
 * Chassis Control answers when the action is done or, for a slower transition, once it has run for
 * CHASSIS_CONTROL_ANSWER_WITHIN_MS: ipmitool resends a request after 1 s, and that resend would meet
 * the transition still under way and be refused as busy. The action goes on; Get Chassis Status
 * follows it, and a failure after the answer raises "power control fault".
 * Set/Get System Boot Options: 0x80 parameter not supported, 0x81 "set in progress" already set,
 * 0xC9 mailbox block out of range, 0xC7 wrong data length, 0xCC reserved value.
 */
import { CompletionCode, Privilege } from '../../protocol/errors';
import { ChassisCmd, NetFn } from '../../protocol/netfn';
import { ByteWriter } from '../../protocol/wire/byte-writer';
import { MachineError, type MachineControl, type PowerAction, type PowerState } from '../../machine/machine-control';
import { BOOT_OPTION_PARAMETER_VERSION, BootOptions, BootOptionsError } from '../chassis/boot-options';
import {
  ChassisState,
  IDENTIFY_DEFAULT_SECONDS,
  IdentifyState,
  POH_MINUTES_PER_COUNT,
  PowerRestorePolicy,
  PowerRestorePolicyCode,
} from '../chassis/chassis-state';
import { CommandContext, CommandDefinition, CommandResult, fail, ok } from './command-types';
import { PowerService, type PowerFailure } from '../../core/power-service';

export const BootOptionsCompletionCode = {
  ParameterNotSupported: 0x80,
  SetInProgressNotComplete: 0x81,
  WriteToReadOnlyParameter: 0x82,
} as const;

/** Chassis Control request byte 1 values (spec 28.3). */
export const ChassisControlAction: Readonly<Record<number, PowerAction>> = {
  0x00: 'off',
  0x01: 'on',
  0x02: 'cycle',
  0x03: 'reset',
  0x04: 'diag',
  0x05: 'soft',
};

/** Get Chassis Status byte 1. */
const StatusPower = { On: 0x01, PowerControlFault: 0x10 } as const;
const RESTORE_POLICY_SHIFT = 5;
/** Get Chassis Status byte 3: bit 6 "identify command and state info supported", bits 5:4 state. */
const IDENTIFY_SUPPORTED = 0x40;
const IDENTIFY_STATE_SHIFT = 4;
const IDENTIFY_STATE_CODE: Readonly<Record<IdentifyState, number>> = { off: 0b00, timed: 0b01, forced: 0b10 };
/** Get Chassis Status byte 4: no front-panel buttons that can be disabled (ipmitool: "none"). */
const FRONT_PANEL_NONE = 0x00;

/** Get Chassis Capabilities: no intrusion sensor, lockout, FP NMI or interlock; everything at the BMC. */
const CAPABILITY_FLAGS = 0x00;
const BMC_ADDRESS = 0x20;

const IDENTIFY_FORCE_ON = 0x01;
const IDENTIFY_FORCE_RESERVED = 0xfe;

const POLICY_NO_CHANGE = 0x03;
const POLICY_BY_CODE: Readonly<Record<number, PowerRestorePolicy>> = { 0x00: 'always-off', 0x01: 'previous', 0x02: 'always-on' };
/** Set Power Restore Policy response: all three policies are supported. */
const POLICY_SUPPORT_ALL = 0x07;

const SELECTOR_MASK = 0x7f;
const MARK_INVALID = 0x80;
const GET_BOOT_OPTIONS_LENGTH = 3;
const RESTART_CAUSE_MASK = 0x0f;

/** The LAN channel commands arrive on, for Get System Restart Cause. */
export const DEFAULT_COMMAND_CHANNEL = 0x01;

const BOOT_OPTIONS_ERRORS: Readonly<Record<BootOptionsError, number>> = {
  'unsupported': BootOptionsCompletionCode.ParameterNotSupported,
  'set-in-progress': BootOptionsCompletionCode.SetInProgressNotComplete,
  'out-of-range': CompletionCode.ParameterOutOfRange,
  'length': CompletionCode.RequestDataLengthInvalid,
  'invalid': CompletionCode.InvalidDataField,
};

const MACHINE_ERRORS: Readonly<Record<MachineError['reason'], number>> = {
  busy: CompletionCode.NodeBusy,
  unsupported: CompletionCode.InvalidDataField,
  failed: CompletionCode.Unspecified,
};

/** Power service outcomes → completion codes (0xD5 when the action needs the power on). */
const POWER_FAILURES: Readonly<Record<PowerFailure, number>> = {
  ...MACHINE_ERRORS,
  'not-powered': CompletionCode.NotSupportedInPresentState,
};

/** Longest wait for a power action before Chassis Control answers (well under ipmitool's 1 s retry). */
export const CHASSIS_CONTROL_ANSWER_WITHIN_MS = 500;

export interface ChassisCommandDeps {
  readonly machine: MachineControl;
  readonly boot: BootOptions;
  readonly chassis: ChassisState;
  /** The core power service; built from machine, boot and chassis when not given (protocol unit tests). */
  readonly power?: PowerService;
  /** Called after the machine accepted a Chassis Control action (e.g. for the SEL or logs). */
  readonly onPowerCommand?: (action: PowerAction, ctx: CommandContext) => void;
  /** Channel number reported by Get System Restart Cause for command restarts (default 1, LAN). */
  readonly channel?: number;
  /** Overrides CHASSIS_CONTROL_ANSWER_WITHIN_MS (tests). */
  readonly answerWithinMs?: number;
}

export function chassisCommands(deps: ChassisCommandDeps): CommandDefinition[] {
  const { machine, boot, chassis, onPowerCommand } = deps;
  const channel = deps.channel ?? DEFAULT_COMMAND_CHANNEL;
  const answerWithinMs = deps.answerWithinMs ?? CHASSIS_CONTROL_ANSWER_WITHIN_MS;
  const powerService = deps.power ?? new PowerService({ machine, boot, chassis });

  const getChassisCapabilities = (data: Buffer): CommandResult => {
    if (data.length !== 0) return fail(CompletionCode.RequestDataLengthInvalid);
    return ok(Buffer.from([CAPABILITY_FLAGS, BMC_ADDRESS, BMC_ADDRESS, BMC_ADDRESS, BMC_ADDRESS]));
  };

  const getChassisStatus = async (data: Buffer, ctx: CommandContext): Promise<CommandResult> => {
    if (data.length !== 0) return fail(CompletionCode.RequestDataLengthInvalid);
    let power: PowerState;
    try {
      power = await machine.powerState();
    } catch (err) {
      return fail(machineErrorCode(err));
    }
    const byte1 = (power === 'on' ? StatusPower.On : 0)
      | (chassis.powerControlFault ? StatusPower.PowerControlFault : 0)
      | (PowerRestorePolicyCode[chassis.restorePolicy] << RESTORE_POLICY_SHIFT);
    const byte3 = IDENTIFY_SUPPORTED | (IDENTIFY_STATE_CODE[chassis.identifyState(ctx.now)] << IDENTIFY_STATE_SHIFT);
    return ok(Buffer.from([byte1, chassis.lastPowerEvent(), byte3, FRONT_PANEL_NONE]));
  };

  const chassisControl = async (data: Buffer, ctx: CommandContext): Promise<CommandResult> => {
    if (data.length !== 1) return fail(CompletionCode.RequestDataLengthInvalid);
    const action = ChassisControlAction[data[0]!];
    if (!action) return fail(CompletionCode.InvalidDataField);
    const outcome = await powerService.perform({
      action,
      now: ctx.now,
      channel,
      actor: { protocol: 'ipmi', user: ctx.session.userId, remote: ctx.session.remoteAddress },
      answerWithinMs,
    });
    if (!outcome.ok) return fail(POWER_FAILURES[outcome.reason]);
    onPowerCommand?.(action, ctx);
    return ok();
  };

  const chassisIdentify = (data: Buffer, ctx: CommandContext): CommandResult => {
    if (data.length > 2) return fail(CompletionCode.RequestDataLengthInvalid);
    const interval = data.length === 0 ? IDENTIFY_DEFAULT_SECONDS : data[0]!;
    const force = data[1] ?? 0;
    if ((force & IDENTIFY_FORCE_RESERVED) !== 0) return fail(CompletionCode.InvalidDataField);
    // "Force identify on" overrides the interval (spec 28.5).
    if (force & IDENTIFY_FORCE_ON) chassis.identifyForce();
    else chassis.identify(interval, ctx.now);
    return ok();
  };

  const setPowerRestorePolicy = (data: Buffer): CommandResult => {
    if (data.length !== 1) return fail(CompletionCode.RequestDataLengthInvalid);
    const code = data[0]!;
    if (code !== POLICY_NO_CHANGE) {
      const policy = POLICY_BY_CODE[code];
      if (!policy) return fail(CompletionCode.InvalidDataField);
      chassis.setRestorePolicy(policy);
    }
    // The support bitmap is returned for every request, not only "no change" (spec 28.8).
    return ok(Buffer.from([POLICY_SUPPORT_ALL]));
  };

  const getSystemRestartCause = (data: Buffer): CommandResult => {
    if (data.length !== 0) return fail(CompletionCode.RequestDataLengthInvalid);
    const { cause, channel: causeChannel } = chassis.restartCause();
    return ok(Buffer.from([cause & RESTART_CAUSE_MASK, causeChannel]));
  };

  const setSystemBootOptions = (data: Buffer, ctx: CommandContext): CommandResult => {
    if (data.length < 1) return fail(CompletionCode.RequestDataLengthInvalid);
    const first = data[0]!;
    const result = boot.write(first & SELECTOR_MASK, (first & MARK_INVALID) !== 0, data.subarray(1), ctx.now);
    return result.ok ? ok() : fail(BOOT_OPTIONS_ERRORS[result.error]);
  };

  const getSystemBootOptions = (data: Buffer, ctx: CommandContext): CommandResult => {
    if (data.length !== GET_BOOT_OPTIONS_LENGTH) return fail(CompletionCode.RequestDataLengthInvalid);
    // Byte 1 bit 7 is reserved; the block selector (byte 3) is unused by every IPMI parameter.
    const parameter = data[0]! & SELECTOR_MASK;
    const result = boot.read(parameter, data[1]!, ctx.now);
    if (!result.ok) return fail(BOOT_OPTIONS_ERRORS[result.error]);
    const writer = new ByteWriter(2 + result.data.length)
      .u8(BOOT_OPTION_PARAMETER_VERSION)
      .u8((result.markedInvalid ? MARK_INVALID : 0) | parameter)
      .bytes(result.data);
    return ok(writer.toBuffer());
  };

  const getPohCounter = (data: Buffer, ctx: CommandContext): CommandResult => {
    if (data.length !== 0) return fail(CompletionCode.RequestDataLengthInvalid);
    chassis.checkpoint(ctx.now);
    return ok(new ByteWriter(5).u8(POH_MINUTES_PER_COUNT).u32le(chassis.pohCounter(ctx.now)).toBuffer());
  };

  const def = (cmd: number, name: string, privilege: number, handler: CommandDefinition['handler']): CommandDefinition =>
    ({ netFn: NetFn.Chassis, cmd, name, privilege, handler });

  return [
    def(ChassisCmd.GetChassisCapabilities, 'Get Chassis Capabilities', Privilege.User, (d) => getChassisCapabilities(d)),
    def(ChassisCmd.GetChassisStatus, 'Get Chassis Status', Privilege.User, getChassisStatus),
    def(ChassisCmd.ChassisControl, 'Chassis Control', Privilege.Operator, chassisControl),
    def(ChassisCmd.ChassisIdentify, 'Chassis Identify', Privilege.Operator, chassisIdentify),
    def(ChassisCmd.SetPowerRestorePolicy, 'Set Power Restore Policy', Privilege.Operator, (d) => setPowerRestorePolicy(d)),
    def(ChassisCmd.GetSystemRestartCause, 'Get System Restart Cause', Privilege.User, (d) => getSystemRestartCause(d)),
    def(ChassisCmd.SetSystemBootOptions, 'Set System Boot Options', Privilege.Operator, setSystemBootOptions),
    def(ChassisCmd.GetSystemBootOptions, 'Get System Boot Options', Privilege.Operator, getSystemBootOptions),
    def(ChassisCmd.GetPohCounter, 'Get POH Counter', Privilege.User, getPohCounter),
  ];
}

/** MachineError → completion code; anything else is a bug and propagates to the transport. */
function machineErrorCode(err: unknown): number {
  if (err instanceof MachineError) return MACHINE_ERRORS[err.reason];
  throw err;
}
