/**
 * The boot override as a domain record: which device the next boot (or every boot) uses, and in
 * which firmware mode. One record, two views: IPMI reads and writes it as System Boot Options
 * parameter 5 (IPMI v2.0 table 28-14), Redfish as ComputerSystem `Boot` (DSP0268 ComputerSystem
 * BootSourceOverrideTarget/Enabled/Mode). The bytes of parameter 5 are the single stored form, so a
 * change made through either protocol reads back through the other at once.
 *
 * Parameter 5 data 1: bit 7 valid, bit 6 persistent, bit 5 EFI; data 2 bits 5:2 device selector.
 * A write from here starts no 60 s valid-bit countdown (BootOptions.writeBootFlags).
 *
 * UEFI HTTP boot has no parameter-5 selector: it is stored as PXE with EFI, plus a note of the exact
 * bytes written; the note stops applying as soon as anything rewrites parameter 5.
 */
import type { BootDevice } from '../machine/machine-control';
import type { BootOptions } from '../bmc/chassis/boot-options';
import { readJson, writeJson, type StateStore } from '../state/state-store';

export type BootTarget = 'none' | 'pxe' | 'hdd' | 'cd' | 'bios-setup' | 'uefi-http' | 'usb' | 'diags';
export type BootOverrideEnabled = 'disabled' | 'once' | 'continuous';
export type BootMode = 'uefi' | 'legacy';

export interface BootOverride {
  readonly target: BootTarget;
  readonly enabled: BootOverrideEnabled;
  readonly mode: BootMode;
}

/** Targets a client may set (what the machine can boot). */
export const SETTABLE_BOOT_TARGETS: readonly BootTarget[] = ['none', 'pxe', 'cd', 'hdd', 'bios-setup', 'uefi-http', 'usb'];

export type BootOverrideResult = { readonly ok: true } | { readonly ok: false; readonly error: 'mode-unsupported' | 'target-unsupported' };

const VALID = 0x80;
const PERSISTENT = 0x40;
const EFI = 0x20;
const DEVICE_SHIFT = 2;
const DEVICE_BITS = 0x0f << DEVICE_SHIFT;

/** Parameter 5 device selectors (table 28-14, data 2 bits 5:2). */
const SELECTOR: Readonly<Record<Exclude<BootTarget, 'none' | 'uefi-http' | 'diags'>, number>> = {
  'pxe': 0b0001,
  'hdd': 0b0010,
  'cd': 0b0101,
  'bios-setup': 0b0110,
  // "primary removable media": a USB stick.
  'usb': 0b1111,
};

/** Every parameter-5 device read as a target (IPMI can select devices Redfish names differently). */
const TARGET_OF_DEVICE: Readonly<Record<BootDevice, BootTarget>> = {
  'default': 'none',
  'pxe': 'pxe',
  'disk': 'hdd',
  'safe': 'hdd',
  'diag': 'diags',
  'cdrom': 'cd',
  'bios': 'bios-setup',
  'floppy': 'usb',
  'remote-cdrom': 'cd',
  'remote-disk': 'hdd',
  'remote-primary': 'usb',
};

export const BOOT_OVERRIDE_DOCUMENT = 'boot-override.json';

interface BootOverrideDocument {
  readonly version: 1;
  /** Parameter 5 as last written for a UEFI HTTP target (hex), or null. */
  readonly uefiHttpFlags: string | null;
}

export interface BootOverrideDeps {
  readonly boot: BootOptions;
  readonly store: StateStore;
  /** Firmware modes this machine can boot; a request for another one is refused. */
  readonly supportedModes?: readonly BootMode[];
}

export class BootOverrideRecord {
  readonly supportedModes: readonly BootMode[];
  private uefiHttpFlags: string | null = null;

  constructor(private readonly deps: BootOverrideDeps) {
    this.supportedModes = deps.supportedModes ?? ['uefi', 'legacy'];
    const doc = safeRead(deps.store);
    if (doc && doc.version === 1 && typeof doc.uefiHttpFlags === 'string') this.uefiHttpFlags = doc.uefiHttpFlags;
  }

  get(now: number): BootOverride {
    const view = this.deps.boot.bootFlagsView(now);
    // A machine with one firmware boots only that way, whatever the EFI bit says.
    const mode: BootMode = this.supportedModes.length === 1 ? this.supportedModes[0]! : view.efi ? 'uefi' : 'legacy';
    if (!view.valid) return { target: 'none', enabled: 'disabled', mode };
    const enabled: BootOverrideEnabled = view.persistent ? 'continuous' : 'once';
    const target = this.uefiHttpFlags === view.raw.toString('hex') ? 'uefi-http' : TARGET_OF_DEVICE[view.device];
    return { target, enabled, mode };
  }

  /**
   * Merges `change` into the record. A target given while the override is disabled, without an
   * `enabled`, applies once (what a client that sets only a target means); target "none" or
   * `enabled: disabled` clears the override but keeps the mode.
   */
  set(change: Partial<BootOverride>, now: number): BootOverrideResult {
    if (change.mode !== undefined && !this.supportedModes.includes(change.mode)) return { ok: false, error: 'mode-unsupported' };
    if (change.target !== undefined && !SETTABLE_BOOT_TARGETS.includes(change.target)) return { ok: false, error: 'target-unsupported' };
    const current = this.get(now);
    let enabled = change.enabled ?? current.enabled;
    if (change.target !== undefined && change.target !== 'none' && change.enabled === undefined && current.enabled === 'disabled') enabled = 'once';
    const target = change.target ?? current.target;
    const mode = change.mode ?? current.mode;
    const raw = this.deps.boot.bootFlagsView(now).raw;
    const active = enabled !== 'disabled' && target !== 'none';
    const device = target === 'uefi-http' ? SELECTOR.pxe : target === 'none' || target === 'diags' ? undefined : SELECTOR[target];
    const next = Buffer.from(raw);
    next[0] = (raw[0]! & ~(VALID | PERSISTENT | EFI)) | (active ? VALID : 0) | (enabled === 'continuous' ? PERSISTENT : 0) | (mode === 'uefi' ? EFI : 0);
    if (device !== undefined) next[1] = (raw[1]! & ~DEVICE_BITS) | (device << DEVICE_SHIFT);
    // The note first: listeners told of the write (BootOptions.onChange) read the target back at once.
    this.uefiHttpFlags = active && target === 'uefi-http' ? next.toString('hex') : null;
    this.deps.boot.writeBootFlags(next, now);
    writeJson(this.deps.store, BOOT_OVERRIDE_DOCUMENT, { version: 1, uefiHttpFlags: this.uefiHttpFlags } satisfies BootOverrideDocument);
    return { ok: true };
  }
}

function safeRead(store: StateStore): Partial<BootOverrideDocument> | undefined {
  try {
    return readJson<Partial<BootOverrideDocument>>(store, BOOT_OVERRIDE_DOCUMENT);
  } catch {
    return undefined; // unreadable note: no UEFI HTTP target remembered
  }
}
