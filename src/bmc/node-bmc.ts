/**
 * The orchestrator's door to a node's BMC: power and status over IPMI 2.0 / RMCP+ with the project's
 * own client (node-image/src/client), never `docker exec` nor an external ipmitool. One short session
 * per call: a fleet of 200 nodes must not hold 200 sessions open against BMCs with small tables.
 */
import { Injectable } from '@nestjs/common';
import { ChassisControlAction, IpmiClient, IpmiClientError } from '../../node-image/src/client';
import { ChassisCmd, NetFn } from '../../node-image/src/protocol/netfn';
import { Privilege } from '../../node-image/src/protocol/errors';

export interface BmcTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
}

export type BmcPowerAction = 'on' | 'off' | 'cycle' | 'reset' | 'soft';
export type BmcBootDevice = 'pxe' | 'disk' | 'cdrom' | 'bios' | 'none';

export interface BootOverride {
  readonly device: BmcBootDevice;
  readonly persistent: boolean;
  readonly efi: boolean;
}

/** Boot flags parameter (IPMI v2.0 table 28-14, parameter 5). */
const BOOT_FLAGS_PARAMETER = 5;
const BOOT_FLAGS_VALID = 0x80;
const BOOT_FLAGS_PERSISTENT = 0x40;
const BOOT_FLAGS_EFI = 0x20;
/** Boot device selector, data 2 bits [5:2]. */
const BOOT_DEVICE_SELECTOR: Readonly<Record<BmcBootDevice, number>> = { none: 0x0, pxe: 0x1, disk: 0x2, cdrom: 0x5, bios: 0x6 };
const BOOT_DEVICE_SHIFT = 2;

/** Set System Boot Options request data for parameter 5, as `ipmitool chassis bootdev` sends it. */
export function bootFlagsRequest(override: BootOverride): Buffer {
  let flags = BOOT_FLAGS_VALID;
  if (override.persistent) flags |= BOOT_FLAGS_PERSISTENT;
  if (override.efi) flags |= BOOT_FLAGS_EFI;
  return Buffer.from([BOOT_FLAGS_PARAMETER, flags, BOOT_DEVICE_SELECTOR[override.device] << BOOT_DEVICE_SHIFT, 0, 0, 0]);
}

/** Why a BMC call failed, in terms an API user can act on. */
export class BmcUnreachableError extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
    this.name = 'BmcUnreachableError';
  }
}

/** Per-try timeout and retransmissions of one call. */
export interface BmcPatience {
  readonly timeoutMs: number;
  readonly retries: number;
}

/** For polling a BMC that may not be up yet: a lost try is retried by the poll loop, not the client. */
export const PROBE_PATIENCE: BmcPatience = { timeoutMs: 300, retries: 0 };

/**
 * One session kept open to read the power state often (the fleet page's live power while someone
 * watches it): USER privilege, so it never takes a slot kept for Operator and Administrator users.
 */
export interface BmcPowerSession {
  powerStatus(): Promise<'on' | 'off'>;
  close(): Promise<void>;
}

export abstract class NodeBmc {
  abstract powerStatus(target: BmcTarget, patience?: BmcPatience): Promise<'on' | 'off'>;
  abstract openPowerSession(target: BmcTarget, patience: BmcPatience): Promise<BmcPowerSession>;
  abstract power(target: BmcTarget, action: BmcPowerAction): Promise<void>;
  abstract setBootDevice(target: BmcTarget, override: BootOverride): Promise<void>;
}

/** Timeouts sized for a loaded 2-core host running 50 TCG machines: 1.5 s per try, 4 tries. */
const DEFAULT_PATIENCE: BmcPatience = { timeoutMs: 1500, retries: 3 };

@Injectable()
export class IpmiNodeBmc extends NodeBmc {
  async powerStatus(target: BmcTarget, patience: BmcPatience = DEFAULT_PATIENCE): Promise<'on' | 'off'> {
    return this.withSession(target, (client) => client.powerStatus(), patience);
  }

  async openPowerSession(target: BmcTarget, patience: BmcPatience): Promise<BmcPowerSession> {
    let client: IpmiClient;
    try {
      client = await IpmiClient.connect({ ...target, ...patience, privilege: Privilege.User });
    } catch (error) {
      throw asBmcError(target, error);
    }
    return {
      powerStatus: async () => {
        try {
          return await client.powerStatus();
        } catch (error) {
          throw asBmcError(target, error);
        }
      },
      close: () => client.close().catch(() => undefined),
    };
  }

  async power(target: BmcTarget, action: BmcPowerAction): Promise<void> {
    const code: ChassisControlAction = action;
    await this.withSession(target, (client) => client.chassisControl(code));
  }

  async setBootDevice(target: BmcTarget, override: BootOverride): Promise<void> {
    await this.withSession(target, (client) =>
      client.requestOk(NetFn.Chassis, ChassisCmd.SetSystemBootOptions, bootFlagsRequest(override), 'Set System Boot Options (boot flags)'),
    );
  }

  private async withSession<T>(target: BmcTarget, call: (client: IpmiClient) => Promise<T>, patience: BmcPatience = DEFAULT_PATIENCE): Promise<T> {
    let client: IpmiClient;
    try {
      client = await IpmiClient.connect({ ...target, ...patience });
    } catch (error) {
      throw asBmcError(target, error);
    }
    try {
      return await call(client);
    } catch (error) {
      throw asBmcError(target, error);
    } finally {
      await client.close().catch(() => undefined);
    }
  }
}

function asBmcError(target: BmcTarget, error: unknown): BmcUnreachableError {
  const where = `BMC at ${target.host}:${target.port}`;
  if (error instanceof IpmiClientError) {
    return new BmcUnreachableError(`${where}: ${error.message}`, error.code);
  }
  return new BmcUnreachableError(`${where}: ${error instanceof Error ? error.message : String(error)}`, 'UNKNOWN');
}
