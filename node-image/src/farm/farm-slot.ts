/**
 * One BMC of a farm slice (farm.ts): its socket, bound for the life of the farm, and the BmcAgent and
 * Redfish service behind it while it is awake.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { BmcAgent } from '../bmc/bmc-agent';
import { ChassisState, CHASSIS_DOCUMENT } from '../bmc/chassis/chassis-state';
import type { UdpPeer } from '../transport/udp-server';
import type { StateStore } from '../state/state-store';
import type { RedfishService } from '../redfish/redfish-service';
import type { RunningRedfishServer } from '../redfish/https-server';
import type { BmcEndpoint } from './address-plan';
import type { FarmBmc, FarmBmcSettings } from './farm';

/** Datagrams kept for a BMC while it wakes (clients retransmit anyway). */
export const MAX_PENDING = 32;

/**
 * One BMC of the slice. Its socket is bound for the life of the farm; the BmcAgent behind it is
 * built when the first datagram arrives and stopped again once it may rest, so a farm holds full
 * BMCs only for those in use. What a resting BMC keeps is what a farm restart keeps: its state
 * store documents (users, boot flags, SEL, GUIDs, chassis settings).
 */
export class Slot implements FarmBmc {
  agent: BmcAgent | null = null;
  /** Its Redfish server, listening for the life of the slot (a request wakes the BMC). */
  redfish?: RunningRedfishServer;
  /** The Redfish service of the awake agent. */
  redfishService: RedfishService | null = null;
  /** Building the agent, or stopping it to rest; the next change waits for it. */
  change: Promise<void> | null = null;
  pending: Array<[Buffer, UdpPeer]> = [];
  lastActive = 0;
  /** Awake before in this process: a later wake is no BMC restart (no SEL event). */
  wokenBefore = false;
  /** Taken out of the farm (Farm.remove): it wakes no more. */
  removed = false;
  constructor(
    readonly name: string,
    readonly endpoint: BmcEndpoint,
    readonly socket: Socket | null,
    /** A managed farm's BMC: its own credentials and Redfish port (else the farm's configuration). */
    readonly settings: FarmBmcSettings | null = null,
  ) {}
}

/** A BMC's IPMI socket, bound for the life of the farm. */
export function bindSocket(endpoint: BmcEndpoint): Promise<Socket> {
  const socket = createSocket({ type: 'udp4', reuseAddr: false });
  return new Promise<Socket>((resolve, reject) => {
    socket.once('error', (err) => { try { socket.close(); } catch { /* not bound */ } reject(err); });
    socket.bind(endpoint.port, endpoint.address, () => { socket.removeAllListeners('error'); resolve(socket); });
  });
}

/** Whether a BMC's saved chassis settings power its machine on when the BMC starts (restore policy). */
export function powersOnAtStart(store: StateStore): boolean {
  if (store.read(CHASSIS_DOCUMENT) === undefined) return false;
  return new ChassisState({ store }).powerOnAtStart() !== undefined;
}
