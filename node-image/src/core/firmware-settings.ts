/**
 * The server's firmware settings as a domain record: a small set of BIOS attributes and UEFI
 * Secure Boot. Like a real server's setup, changes are pending until the next boot: `takeForBoot()`
 * (called by the machine's boot source at every boot, whoever started it) makes the pending values
 * current and says what this boot uses. Kept in the BMC's state store.
 *
 * Attributes and what they do on this machine:
 * - BootMenuTimeout (seconds, 0–65; 0 = no menu): the firmware boot menu wait (QEMU `-boot
 *   menu=on,splash-time`; SeaBIOS and OVMF both honour it). Default: VM_BOOT_MENU_TIMEOUT.
 * - ProcTurboMode, ProcVirtualization (Enabled/Disabled): recorded and reported only; a virtual
 *   CPU has no turbo and the accelerator decides about nested virtualisation.
 * Secure Boot: on a node whose firmware is UEFI (VM_BOOT_MODE=uefi), enabling it makes every
 * following UEFI boot use OVMF's Secure Boot build with Microsoft's keys enrolled; a legacy
 * (SeaBIOS) node refuses it.
 */
import { readJson, writeJson, type StateStore } from '../state/state-store';

export const FIRMWARE_SETTINGS_DOCUMENT = 'firmware-settings.json';

export type EnabledDisabled = 'Enabled' | 'Disabled';

export interface BiosAttributes {
  readonly BootMenuTimeout: number;
  readonly ProcTurboMode: EnabledDisabled;
  readonly ProcVirtualization: EnabledDisabled;
}

export type BiosAttributeName = keyof BiosAttributes;

/** The longest boot menu wait QEMU can express (16-bit milliseconds). */
export const BOOT_MENU_TIMEOUT_MAX_S = 65;

export interface AttributeRule {
  readonly type: 'integer' | 'enumeration';
  readonly min?: number;
  readonly max?: number;
  readonly values?: readonly string[];
  /** Whether the attribute changes what the machine does (documented above). */
  readonly acts: boolean;
}

export const BIOS_ATTRIBUTE_RULES: Readonly<Record<BiosAttributeName, AttributeRule>> = {
  BootMenuTimeout: { type: 'integer', min: 0, max: BOOT_MENU_TIMEOUT_MAX_S, acts: true },
  ProcTurboMode: { type: 'enumeration', values: ['Enabled', 'Disabled'], acts: false },
  ProcVirtualization: { type: 'enumeration', values: ['Enabled', 'Disabled'], acts: false },
};

/** What one boot uses from the firmware settings. */
export interface FirmwareBoot {
  /** Boot menu wait in ms (0 = none); undefined while BootMenuTimeout is at its default (the machine's own setting applies). */
  readonly bootMenuTimeoutMs: number | undefined;
  /** Secure Boot firmware, when the boot is a UEFI one. */
  readonly secureBoot: boolean;
}

export type AttributeProblem = { readonly name: string; readonly problem: 'unknown' | 'type' | 'value'; readonly value: unknown };

export interface FirmwareSettingsDeps {
  readonly store: StateStore;
  /** The node's firmware: Secure Boot needs 'uefi'. */
  readonly firmware: 'uefi' | 'bios';
  /** The factory default of BootMenuTimeout, seconds (VM_BOOT_MENU_TIMEOUT). */
  readonly defaultBootMenuTimeoutS: number;
}

interface Document {
  readonly version: 1;
  readonly current: BiosAttributes;
  readonly pending: Partial<BiosAttributes>;
  readonly secureBootEnable: boolean;
}

export class FirmwareSettings {
  readonly defaults: BiosAttributes;
  private current: BiosAttributes;
  private pendingValues: Partial<BiosAttributes> = {};
  private secureBoot = false;
  /** Whether the boot in progress (since the last takeForBoot) uses Secure Boot firmware. */
  private bootSecure = false;

  constructor(private readonly deps: FirmwareSettingsDeps) {
    this.defaults = {
      BootMenuTimeout: Math.min(BOOT_MENU_TIMEOUT_MAX_S, Math.max(0, Math.round(deps.defaultBootMenuTimeoutS))),
      ProcTurboMode: 'Enabled',
      ProcVirtualization: 'Enabled',
    };
    this.current = this.defaults;
    const doc = safeRead(deps.store);
    if (doc) {
      this.current = { ...this.defaults, ...pick(doc.current) };
      this.pendingValues = pick(doc.pending);
      this.secureBoot = doc.secureBootEnable === true && deps.firmware === 'uefi';
    }
  }

  get firmware(): 'uefi' | 'bios' { return this.deps.firmware; }
  get attributes(): BiosAttributes { return this.current; }
  get pending(): Partial<BiosAttributes> { return this.pendingValues; }
  /** The attributes the next boot will apply (current with the pending changes). */
  get next(): BiosAttributes { return { ...this.current, ...this.pendingValues }; }
  get secureBootEnabled(): boolean { return this.secureBoot; }
  get currentBootSecure(): boolean { return this.bootSecure; }

  /** Problems with a change (every one), or [] when it can be made pending. */
  check(change: Readonly<Record<string, unknown>>): AttributeProblem[] {
    const problems: AttributeProblem[] = [];
    for (const [name, value] of Object.entries(change)) {
      const rule = (BIOS_ATTRIBUTE_RULES as Record<string, AttributeRule | undefined>)[name];
      if (!rule) problems.push({ name, problem: 'unknown', value });
      else if (rule.type === 'integer' && (typeof value !== 'number' || !Number.isInteger(value))) problems.push({ name, problem: 'type', value });
      else if (rule.type === 'enumeration' && typeof value !== 'string') problems.push({ name, problem: 'type', value });
      else if (rule.type === 'integer' && ((value as number) < rule.min! || (value as number) > rule.max!)) problems.push({ name, problem: 'value', value });
      else if (rule.type === 'enumeration' && !rule.values!.includes(value as string)) problems.push({ name, problem: 'value', value });
    }
    return problems;
  }

  /** Merges a checked change into the pending values (a value equal to the current one is no change). */
  setPending(change: Partial<BiosAttributes>): void {
    const problems = this.check(change);
    if (problems.length > 0) throw new Error(`invalid BIOS attributes: ${problems.map((p) => p.name).join(', ')}`);
    const next: Record<string, unknown> = { ...this.pendingValues };
    for (const [name, value] of Object.entries(change)) {
      if (this.current[name as BiosAttributeName] === value) delete next[name];
      else next[name] = value;
    }
    this.pendingValues = next as Partial<BiosAttributes>;
    this.save();
  }

  /** Bios.ResetBios: every attribute back to its default at the next boot. */
  resetToDefaults(): void {
    this.pendingValues = {};
    this.setPending(this.defaults);
  }

  /** Secure Boot for the following boots; false when the node's firmware cannot do it. */
  setSecureBoot(enabled: boolean): boolean {
    if (enabled && this.deps.firmware !== 'uefi') return false;
    this.secureBoot = enabled;
    this.save();
    return true;
  }

  /**
   * A boot is starting: pending attributes become current. `efi`: whether this boot is a UEFI one
   * (Secure Boot applies only to those).
   */
  takeForBoot(efi: boolean): FirmwareBoot {
    if (Object.keys(this.pendingValues).length > 0) {
      this.current = { ...this.current, ...this.pendingValues };
      this.pendingValues = {};
      this.save();
    }
    this.bootSecure = efi && this.secureBoot;
    const menu = this.current.BootMenuTimeout;
    return { bootMenuTimeoutMs: menu === this.defaults.BootMenuTimeout ? undefined : menu * 1000, secureBoot: this.bootSecure };
  }

  /** The machine is off: no boot is in progress. */
  noteOff(): void {
    this.bootSecure = false;
  }

  private save(): void {
    writeJson(this.deps.store, FIRMWARE_SETTINGS_DOCUMENT, { version: 1, current: this.current, pending: this.pendingValues, secureBootEnable: this.secureBoot } satisfies Document);
  }
}

/** The known, valid attributes of a stored object (anything else is dropped). */
function pick(value: unknown): Partial<BiosAttributes> {
  if (value === null || typeof value !== 'object') return {};
  const out: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
    const rule = (BIOS_ATTRIBUTE_RULES as Record<string, AttributeRule | undefined>)[name];
    if (!rule) continue;
    if (rule.type === 'integer' && Number.isInteger(v) && (v as number) >= rule.min! && (v as number) <= rule.max!) out[name] = v;
    if (rule.type === 'enumeration' && typeof v === 'string' && rule.values!.includes(v)) out[name] = v;
  }
  return out as Partial<BiosAttributes>;
}

function safeRead(store: StateStore): Partial<Document> | undefined {
  try {
    const doc = readJson<Partial<Document>>(store, FIRMWARE_SETTINGS_DOCUMENT);
    return doc && doc.version === 1 ? doc : undefined;
  } catch {
    return undefined; // unreadable: factory defaults
  }
}
