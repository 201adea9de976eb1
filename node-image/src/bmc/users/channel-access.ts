/**
 * Access settings of the LAN channel (IPMI v2.0 sections 6.8, 22.22 Set Channel Access,
 * 22.23 Get Channel Access). The volatile set is the one in force; the non-volatile set is kept
 * in the StateStore document "channel.json" and becomes the volatile set at the next start.
 *
 * What this BMC lets a client change: the channel privilege limit (the session layer must cap
 * every session with privilegeLimit()) and the PEF alerting flag (nothing is ever alerted, so it
 * is only reported back). Authentication cannot be disabled (per-message and user-level
 * authentication stay on) and the channel stays "always available": switching LAN access off
 * over LAN would leave no way back.
 */
import { Privilege } from '../../protocol/errors';
import { type StateStore, readJson, writeJson } from '../../state/state-store';

export const CHANNEL_DOCUMENT = 'channel.json';

/** Access mode values (Get/Set Channel Access byte 2 bits 2:0). */
export const ChannelAccessMode = { Disabled: 0, PreBootOnly: 1, AlwaysAvailable: 2, Shared: 3 } as const;

export interface ChannelAccessSettings {
  readonly alertingDisabled: boolean;
  /** Always false here: every message is authenticated. */
  readonly perMessageAuthDisabled: boolean;
  /** Always false here: user-level commands are authenticated too. */
  readonly userLevelAuthDisabled: boolean;
  readonly accessMode: number;
  /** Highest privilege any session on this channel may reach (Privilege.Callback..Oem). */
  readonly privilegeLimit: number;
}

export type ChannelAccessSet = 'volatile' | 'non-volatile';

export const DEFAULT_CHANNEL_ACCESS: ChannelAccessSettings = {
  alertingDisabled: true,
  perMessageAuthDisabled: false,
  userLevelAuthDisabled: false,
  accessMode: ChannelAccessMode.AlwaysAvailable,
  privilegeLimit: Privilege.Administrator,
};

export type ChannelAccessChange = Partial<Pick<ChannelAccessSettings, 'alertingDisabled' | 'privilegeLimit'>>;

export class ChannelAccessStore {
  private volatileSettings: ChannelAccessSettings;
  private nonVolatileSettings: ChannelAccessSettings;

  constructor(private readonly state: StateStore) {
    this.nonVolatileSettings = load(state);
    this.volatileSettings = this.nonVolatileSettings;
  }

  get(which: ChannelAccessSet): ChannelAccessSettings {
    return which === 'volatile' ? this.volatileSettings : this.nonVolatileSettings;
  }

  /** The privilege limit in force (volatile). */
  privilegeLimit(): number {
    return this.volatileSettings.privilegeLimit;
  }

  set(which: ChannelAccessSet, change: ChannelAccessChange): void {
    if (change.privilegeLimit !== undefined && !isChannelPrivilegeLimit(change.privilegeLimit)) {
      throw new Error(`invalid channel privilege limit ${change.privilegeLimit}`);
    }
    if (which === 'volatile') {
      this.volatileSettings = { ...this.volatileSettings, ...change };
    } else {
      this.nonVolatileSettings = { ...this.nonVolatileSettings, ...change };
      writeJson(this.state, CHANNEL_DOCUMENT, { version: 1, nonVolatile: this.nonVolatileSettings });
    }
  }
}

export function isChannelPrivilegeLimit(p: number): boolean {
  return p >= Privilege.Callback && p <= Privilege.Oem;
}

function load(state: StateStore): ChannelAccessSettings {
  let doc: { version?: number; nonVolatile?: Partial<ChannelAccessSettings> } | undefined;
  try {
    doc = readJson(state, CHANNEL_DOCUMENT);
  } catch {
    return DEFAULT_CHANNEL_ACCESS; // unreadable file: the defaults are safe
  }
  const nv = doc?.version === 1 ? doc.nonVolatile : undefined;
  if (!nv) return DEFAULT_CHANNEL_ACCESS;
  return {
    ...DEFAULT_CHANNEL_ACCESS,
    alertingDisabled: nv.alertingDisabled !== false,
    privilegeLimit: typeof nv.privilegeLimit === 'number' && isChannelPrivilegeLimit(nv.privilegeLimit) ? nv.privilegeLimit : DEFAULT_CHANNEL_ACCESS.privilegeLimit,
  };
}
