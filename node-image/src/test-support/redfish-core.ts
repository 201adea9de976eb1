/**
 * A complete BMC core over real parts (user store, boot options, event log, power service, firmware
 * settings, the default sensors) in front of a simulated machine, and a Redfish service over it, for
 * unit tests of Redfish resources. The machine boots through the same boot source the agent wires
 * (boot flags, then the firmware settings).
 */
import { MemoryStateStore } from '../state/state-store';
import { UserStore } from '../bmc/users/user-store';
import { BootOptions } from '../bmc/chassis/boot-options';
import { ChassisState } from '../bmc/chassis/chassis-state';
import { SystemEventLog } from '../bmc/sel/system-event-log';
import { defaultSensors } from '../bmc/inventory/sensors';
import { SimMachine } from '../machine/sim-machine';
import type { BootSource } from '../machine/machine-control';
import { Accounts } from '../core/accounts';
import { BootOverrideRecord } from '../core/boot-override';
import { EventLog } from '../core/event-log';
import { FirmwareSettings } from '../core/firmware-settings';
import { PowerService } from '../core/power-service';
import { VirtualMediaService } from '../core/virtual-media';
import { BmcEvents } from '../core/bmc-events';
import type { BmcCore } from '../core/bmc-core';
import { silentLogger } from '../util/logger';
import { RedfishService } from '../redfish/redfish-service';
import type { RedfishRequest, RedfishResponse } from '../redfish/http-types';

export const T0 = 1_700_000_000_000;
export const basicAuth = (user: string, password: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
export const ADMIN_AUTH = basicAuth('admin', 'password');

export interface RedfishCoreOptions {
  readonly firmware?: 'uefi' | 'bios';
}

export function redfishCore(opts: RedfishCoreOptions = {}) {
  let now = T0;
  const store = new MemoryStateStore();
  const clock = (): number => now;
  const users = new UserStore({ state: store, adminName: 'admin', adminPassword: 'password' });
  const boot = new BootOptions({ store, clock });
  const chassis = new ChassisState({ store });
  const eventLog = new EventLog(new SystemEventLog(store));
  const firmware = new FirmwareSettings({ store, firmware: opts.firmware ?? 'uefi', defaultBootMenuTimeoutS: 0 });
  const bootSource: BootSource = {
    takeNextBoot: () => {
      const selection = boot.takeNextBoot();
      const fw = firmware.takeForBoot(selection.efi ?? firmware.firmware === 'uefi');
      return { ...selection, secureBoot: fw.secureBoot };
    },
  };
  const machine = new SimMachine({ boot: bootSource, nodeName: 'n1', powerDelayMs: 0 });
  machine.on('power', (state) => { if (state === 'off') firmware.noteOff(); });
  const sensors = defaultSensors();
  const core: BmcCore = {
    machine, chassis, eventLog, clock, firmware, sensors, events: new BmcEvents(),
    power: new PowerService({ machine, boot, chassis, eventLog }),
    bootOverride: new BootOverrideRecord({ boot, store }),
    accounts: new Accounts(users),
    virtualMedia: new VirtualMediaService({ store, drives: machine.media, probe: { probe: async () => ({ ok: true, sizeBytes: 1 }) } }),
    systemUuid: '11111111-2222-4333-8444-555555555555',
    bmcUuid: '66666666-7777-4888-9999-000000000000',
    product: { manufacturer: 'bmcfleet', productName: 'bmcfleet virtual server', partNumber: 'BMCF-VS-1', serialNumber: 'n1' },
    nodeName: 'n1',
    firmwareVersion: '0.10',
    hardware: { cpus: 4, memoryMiB: 3072, diskSizeBytes: 20 * 1024 ** 3, nics: [{ name: 'eth1', mac: '52:54:00:aa:bb:cc' }, { name: 'eth2', mac: '52:54:00:dd:ee:ff' }] },
    protocols: () => ({ ipmiPort: 623, redfishPort: 443, vncPort: 5900, hostName: 'n1' }),
  };
  let counter = 0;
  const service = new RedfishService({ core, random: (n) => Buffer.alloc(n, ++counter), log: silentLogger });
  const send = (method: string, path: string, o: { headers?: Record<string, string>; body?: unknown } = {}): Promise<RedfishResponse> => {
    const req: RedfishRequest = {
      method, path, remote: '192.0.2.1',
      headers: { ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}), ...(o.headers ?? ADMIN_AUTH) },
      body: Buffer.from(o.body === undefined ? '' : JSON.stringify(o.body)),
    };
    return service.handle(req, now);
  };
  return { core, users, machine, firmware, store, service, send, advance: (ms: number) => { now += ms; } };
}

export const errorCodeOf = (r: RedfishResponse): string => ((r.body as { error: { code: string } }).error.code).replace(/^Base\.\d+\.\d+\.\d+\./, '');
