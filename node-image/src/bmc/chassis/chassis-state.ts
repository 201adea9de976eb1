/**
 * What the BMC itself knows about the chassis, beyond the live power state (which is always read
 * from the machine): IPMI v2.0 section 28.2 (Get Chassis Status: restore policy, last power event,
 * power control fault, identify state), 28.5 (Chassis Identify), 28.8 (Set Power Restore Policy),
 * 28.11 (Get System Restart Cause, table 28-11) and 28.14 (Get POH Counter). Pure: time is `now`.
 *
 * Persisted in the StateStore document "chassis.json": restore policy, the last power state seen
 * (for the "previous" policy), accumulated power-on time, last power event bits, restart cause.
 * Identify state is volatile.
 *
 * Power-on hours: the time between a power 'on' and the next 'off' event (powerChanged) is added up;
 * checkpoint() folds a running interval into the stored total so a BMC restart loses at most the
 * time since the last checkpoint. A BMC that stops while the machine is on looks, at its next start,
 * like an AC power loss: "last power event" reports AC failed and the "previous" policy powers on.
 */
import type { MachineControl, PowerChangeCause, PowerState } from '../../machine/machine-control';
import { readJson, StateStore, writeJson } from '../../state/state-store';

export type PowerRestorePolicy = 'always-off' | 'previous' | 'always-on';

/** Get Chassis Status byte 1 bits 6:5 and Set Power Restore Policy request bits 2:0. */
export const PowerRestorePolicyCode: Readonly<Record<PowerRestorePolicy, number>> = {
  'always-off': 0b00,
  'previous': 0b01,
  'always-on': 0b10,
};

/** System restart causes (spec table 28-11, Get System Restart Cause byte 1 bits 3:0). */
export const RestartCause = {
  Unknown: 0x0,
  ChassisControl: 0x1,
  PushbuttonReset: 0x2,
  PowerButtonPowerUp: 0x3,
  WatchdogExpiration: 0x4,
  Oem: 0x5,
  AlwaysRestorePolicy: 0x6,
  RestorePreviousPolicy: 0x7,
  PefReset: 0x8,
  PefPowerCycle: 0x9,
  SoftReset: 0xa,
  RtcWakeup: 0xb,
} as const;
export type RestartCause = (typeof RestartCause)[keyof typeof RestartCause];

/** Get Chassis Status byte 2 "last power event". */
export const LastPowerEvent = {
  AcFailed: 0x01,
  PowerOverload: 0x02,
  PowerInterlock: 0x04,
  PowerFault: 0x08,
  /** The last 'power is on' state was entered through an IPMI command. */
  PowerOnByCommand: 0x10,
} as const;

export type IdentifyState = 'off' | 'timed' | 'forced';

/** Chassis Identify without data lights the identify indicator for 15 s (spec 28.5). */
export const IDENTIFY_DEFAULT_SECONDS = 15;
/** Get POH Counter "minutes per count": one, so short-lived test machines show minutes. */
export const POH_MINUTES_PER_COUNT = 1;
const MS_PER_MINUTE = 60_000;
const MS_PER_SECOND = 1000;
const POH_COUNTER_MODULUS = 2 ** 32;

export const CHASSIS_DOCUMENT = 'chassis.json';

export interface RestartCauseRecord {
  readonly cause: RestartCause;
  /** Channel the restart command arrived on; 0 when no command caused it. */
  readonly channel: number;
}

interface ChassisDocument {
  readonly version: 1;
  readonly restorePolicy: PowerRestorePolicy;
  readonly lastPowerState: PowerState;
  readonly powerOnMs: number;
  readonly lastPowerEvent: number;
  readonly restartCause: number;
  readonly restartChannel: number;
}

type Identify = { readonly kind: 'off' } | { readonly kind: 'timed'; readonly until: number } | { readonly kind: 'forced' };

const POLICIES: readonly PowerRestorePolicy[] = ['always-off', 'previous', 'always-on'];

export interface ChassisStateDeps {
  readonly store: StateStore;
}

export class ChassisState {
  private readonly store: StateStore;
  private identifyValue: Identify = { kind: 'off' };
  private policy: PowerRestorePolicy = 'always-off';
  private lastPowerState: PowerState = 'off';
  private powerOnMs = 0;
  /** Start of the running power-on interval; undefined while off (or unknown after a BMC start). */
  private onSince: number | undefined;
  private lastEvent = 0;
  private restart: RestartCauseRecord = { cause: RestartCause.Unknown, channel: 0 };
  private controlFault = false;

  constructor({ store }: ChassisStateDeps) {
    this.store = store;
    this.load();
  }

  // --- Chassis Identify ---

  /** Lights the identify indicator for `seconds` (0 turns it off). */
  identify(seconds: number, now: number): void {
    this.identifyValue = seconds === 0 ? { kind: 'off' } : { kind: 'timed', until: now + seconds * MS_PER_SECOND };
  }

  /** "Force identify on": lit until told otherwise. */
  identifyForce(): void {
    this.identifyValue = { kind: 'forced' };
  }

  identifyState(now: number): IdentifyState {
    const v = this.identifyValue;
    if (v.kind === 'timed' && now >= v.until) this.identifyValue = { kind: 'off' };
    return this.identifyValue.kind;
  }

  // --- Power restore policy ---

  get restorePolicy(): PowerRestorePolicy {
    return this.policy;
  }

  setRestorePolicy(policy: PowerRestorePolicy): void {
    this.policy = policy;
    this.save();
  }

  /**
   * Whether the policy powers the machine on when the BMC starts ("AC applied"), and the restart
   * cause to record if it does.
   */
  powerOnAtStart(): RestartCause | undefined {
    if (this.policy === 'always-on') return RestartCause.AlwaysRestorePolicy;
    if (this.policy === 'previous' && this.lastPowerState === 'on') return RestartCause.RestorePreviousPolicy;
    return undefined;
  }

  // --- Power events ---

  /** The machine's power state changed (wire MachineControl 'power' events here). */
  powerChanged(state: PowerState, cause: PowerChangeCause, now: number): void {
    if (state === 'on') {
      if (this.onSince === undefined) this.onSince = now;
      this.lastEvent = cause === 'command' ? LastPowerEvent.PowerOnByCommand : 0;
      this.restart = { cause: this.restartCauseForPowerOn(cause), channel: 0 };
    } else {
      if (this.onSince !== undefined) this.powerOnMs += Math.max(0, now - this.onSince);
      this.onSince = undefined;
      // Bit 4 keeps describing how the last 'on' state was entered; a failure adds the fault bit.
      if (cause === 'failure') this.lastEvent |= LastPowerEvent.PowerFault;
    }
    this.lastPowerState = state;
    this.save();
  }

  /** Records why the system last restarted (e.g. a Chassis Control reset that kept power on). */
  recordRestart(cause: RestartCause, channel: number): void {
    this.restart = { cause, channel };
    this.save();
  }

  restartCause(): RestartCauseRecord {
    return this.restart;
  }

  /** Get Chassis Status byte 2. */
  lastPowerEvent(): number {
    return this.lastEvent;
  }

  /** Get Chassis Status byte 1 bit 4: the last power control attempt did not reach its state. */
  get powerControlFault(): boolean {
    return this.controlFault;
  }

  set powerControlFault(fault: boolean) {
    this.controlFault = fault;
  }

  // --- Power-on hours ---

  /** Whole minutes the machine has been powered on, over its whole recorded life. */
  powerOnMinutes(now: number): number {
    const running = this.onSince === undefined ? 0 : Math.max(0, now - this.onSince);
    return Math.floor((this.powerOnMs + running) / MS_PER_MINUTE);
  }

  /** Get POH Counter's 32-bit counter, in POH_MINUTES_PER_COUNT units (wraps like a register). */
  pohCounter(now: number): number {
    return Math.floor(this.powerOnMinutes(now) / POH_MINUTES_PER_COUNT) % POH_COUNTER_MODULUS;
  }

  /** Persists the running power-on interval so far. */
  checkpoint(now: number): void {
    if (this.onSince === undefined) return;
    this.powerOnMs += Math.max(0, now - this.onSince);
    this.onSince = now;
    this.save();
  }

  private restartCauseForPowerOn(cause: PowerChangeCause): RestartCause {
    switch (cause) {
      case 'command': return RestartCause.ChassisControl;
      case 'start': return this.powerOnAtStart() ?? RestartCause.Unknown;
      case 'guest':
      case 'failure':
        return RestartCause.Unknown;
    }
  }

  private load(): void {
    let doc: Partial<ChassisDocument> | undefined;
    try {
      doc = readJson<Partial<ChassisDocument>>(this.store, CHASSIS_DOCUMENT);
    } catch {
      doc = undefined; // unreadable document: defaults
    }
    if (!doc || doc.version !== 1) return;
    if (POLICIES.includes(doc.restorePolicy as PowerRestorePolicy)) this.policy = doc.restorePolicy as PowerRestorePolicy;
    if (doc.lastPowerState === 'on' || doc.lastPowerState === 'off') this.lastPowerState = doc.lastPowerState;
    if (typeof doc.powerOnMs === 'number' && Number.isFinite(doc.powerOnMs) && doc.powerOnMs >= 0) this.powerOnMs = doc.powerOnMs;
    if (isByte(doc.lastPowerEvent)) this.lastEvent = doc.lastPowerEvent;
    if (isByte(doc.restartCause) && isByte(doc.restartChannel)) {
      this.restart = { cause: (doc.restartCause & 0x0f) as RestartCause, channel: doc.restartChannel };
    }
    // The BMC went away while the machine ran: from the chassis' point of view, AC power failed.
    if (this.lastPowerState === 'on') this.lastEvent |= LastPowerEvent.AcFailed;
  }

  private save(): void {
    const doc: ChassisDocument = {
      version: 1,
      restorePolicy: this.policy,
      lastPowerState: this.lastPowerState,
      powerOnMs: this.powerOnMs,
      lastPowerEvent: this.lastEvent,
      restartCause: this.restart.cause,
      restartChannel: this.restart.channel,
    };
    writeJson(this.store, CHASSIS_DOCUMENT, doc);
  }
}

/**
 * Feeds a machine's power events into the chassis state. Returns the unsubscribe function: call it
 * before closing the machine at BMC shutdown, so that shutdown is remembered as a power loss rather
 * than as an "off" (the "previous" restore policy then powers the machine back on).
 */
export function followMachinePower(machine: Pick<MachineControl, 'on'>, chassis: ChassisState, clock: () => number): () => void {
  return machine.on('power', (state, cause) => chassis.powerChanged(state, cause, clock()));
}

function isByte(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xff;
}
