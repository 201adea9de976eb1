/**
 * The power service: one path for every power action, whichever protocol asked for it.
 * action → machine → event log → restart cause. IPMI Chassis Control (IPMI v2.0 section 28.3) and
 * Redfish ComputerSystem.Reset are translations onto it.
 *
 * Rules shared by both protocols:
 * - cycle, reset, diag and soft need the power on ('not-powered' otherwise);
 * - a machine failure raises the power-control-fault flag (Get Chassis Status bit 4);
 * - on (from off), cycle and reset are restarts by command (Get System Restart Cause);
 * - cycle, reset and soft are logged here; on/off transitions reach the log through the machine's
 *   power events, whoever caused them (see BmcAgent).
 * An action answers when done or, when slower, after `answerWithinMs` (it goes on; a later failure
 * still raises the fault flag).
 */
import { MachineError, type MachineControl, type PowerAction, type PowerState } from '../machine/machine-control';
import type { BootOptions } from '../bmc/chassis/boot-options';
import { RestartCause, type ChassisState } from '../bmc/chassis/chassis-state';
import type { Logger } from '../util/logger';
import type { EventLog, BmcEvent } from './event-log';

export type PowerFailure = 'not-powered' | MachineError['reason'];

export type PowerOutcome =
  | { readonly ok: true; readonly before: PowerState }
  | { readonly ok: false; readonly reason: PowerFailure; readonly message: string };

export interface PowerRequest {
  readonly action: PowerAction;
  readonly now: number;
  /** The channel reported by Get System Restart Cause for a restart this causes. */
  readonly channel: number;
  /** Who asked, for the log: protocol, user and remote address. */
  readonly actor: { readonly protocol: 'ipmi' | 'redfish'; readonly user: string | number; readonly remote: string };
  readonly answerWithinMs: number;
}

export interface PowerServiceDeps {
  readonly machine: MachineControl;
  readonly boot: BootOptions;
  readonly chassis: ChassisState;
  /** Absent in protocol unit tests that check only the machine and chassis effects. */
  readonly eventLog?: EventLog;
  readonly log?: Logger;
  /** Resolves when no virtual media change is under way: a boot waits for media still attaching. */
  readonly mediaSettled?: () => Promise<void>;
}

/** Actions that need the system to be powered on. */
const NEEDS_POWER: ReadonlySet<PowerAction> = new Set<PowerAction>(['cycle', 'reset', 'diag', 'soft']);

/** Actions that boot the machine (and so read its virtual media). */
const BOOTS: ReadonlySet<PowerAction> = new Set<PowerAction>(['on', 'cycle', 'reset']);

/** Event log entries for actions that are not themselves a power transition. */
const ACTION_EVENT: Partial<Record<PowerAction, BmcEvent>> = { reset: 'reset', cycle: 'power-cycle', soft: 'soft-off' };

export class PowerService {
  constructor(private readonly deps: PowerServiceDeps) {}

  powerState(): Promise<PowerState> {
    return this.deps.machine.powerState();
  }

  /** Carries out one action. MachineErrors become outcomes; anything else is a bug and propagates. */
  async perform(req: PowerRequest): Promise<PowerOutcome> {
    const { machine, boot, chassis } = this.deps;
    // A command restart is what the boot flags wait for: their 60 s countdown starts over.
    boot.noteChassisControl(req.now);
    let before: PowerState;
    try {
      before = await machine.powerState();
      if (before === 'off' && NEEDS_POWER.has(req.action)) {
        return { ok: false, reason: 'not-powered', message: `${req.action} needs the system powered on` };
      }
      const settled = BOOTS.has(req.action) ? this.deps.mediaSettled?.() : undefined;
      const action = settled ? settled.then(() => machine.power(req.action)) : machine.power(req.action);
      await doneOrUnderWay(action, req.answerWithinMs, (err) => {
        if (err instanceof MachineError && err.reason === 'failed') chassis.powerControlFault = true;
      });
    } catch (err) {
      if (!(err instanceof MachineError)) throw err;
      if (err.reason === 'failed') chassis.powerControlFault = true;
      return { ok: false, reason: err.reason, message: err.message };
    }
    chassis.powerControlFault = false;
    const restarted = req.action === 'cycle' || req.action === 'reset' || (req.action === 'on' && before === 'off');
    if (restarted) chassis.recordRestart(RestartCause.ChassisControl, req.channel);
    this.deps.log?.info('chassis control', { action: req.action, user: req.actor.user, remote: req.actor.remote, protocol: req.actor.protocol });
    const event = ACTION_EVENT[req.action];
    if (event) this.deps.eventLog?.record(event, req.now);
    return { ok: true, before };
  }

  /**
   * A graceful restart: the ACPI power button, then power on once the guest has turned itself off.
   * Gives up on the power-on (and says so in the log) if the guest is not off within `offWithinMs`.
   */
  async gracefulRestart(req: Omit<PowerRequest, 'action'>, offWithinMs: number, clock: () => number): Promise<PowerOutcome> {
    const { machine } = this.deps;
    let stop: () => void = () => {};
    const off = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), offWithinMs);
      timer.unref?.();
      const unsubscribe = machine.on('power', (state) => { if (state === 'off') resolve(true); });
      stop = () => { clearTimeout(timer); unsubscribe(); };
    });
    const outcome = await this.perform({ ...req, action: 'soft' });
    if (!outcome.ok) { stop(); return outcome; }
    void off.then(async (wentOff) => {
      stop();
      if (!wentOff) { this.deps.log?.warn('graceful restart: the guest did not power off; not powering on', { offWithinMs }); return; }
      const on = await this.perform({ ...req, action: 'on', now: clock() });
      if (!on.ok) this.deps.log?.error('graceful restart: power on failed', { reason: on.reason, message: on.message });
    });
    return outcome;
  }
}

/**
 * Settles like `action` if it settles within `ms`; otherwise resolves after `ms` and hands a later
 * rejection to `late` (the answer has gone out by then).
 */
function doneOrUnderWay(action: Promise<void>, ms: number, late: (err: unknown) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let answered = false;
    const timer = setTimeout(() => { answered = true; resolve(); }, ms);
    action.then(
      () => { clearTimeout(timer); resolve(); },
      (err: unknown) => {
        clearTimeout(timer);
        if (answered) late(err);
        else reject(err);
      },
    );
  });
}
