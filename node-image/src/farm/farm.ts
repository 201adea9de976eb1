/**
 * A farm slice: the BMCs with indices [from, to) of a farm plan, in this process. Each BMC is a
 * whole BmcAgent (its own UDP socket on its own address or port, GUID, users, boot flags, SEL,
 * power, SOL, and Redfish when REDFISH_PORT is set) in front of a simulated machine; what does not
 * differ between BMCs is shared: one random pool, one timer wheel driving every BMC's timers
 * (visiting only BMCs with something pending), one state store, one TLS certificate.
 */
import type { Socket } from 'node:dgram';
import { BmcAgent } from '../bmc/bmc-agent';
import type { UdpPeer } from '../transport/udp-server';
import { bindSocket, MAX_PENDING, powersOnAtStart, Slot } from './farm-slot';
import { hasSavedFaultRules } from '../faults/bmc-faults';
import { WheelScheduler } from './wheel-scheduler';
import { SimMachine } from '../machine/sim-machine';
import { pooledRandom } from '../util/random-pool';
import type { Logger } from '../util/logger';
import type { StateStore } from '../state/state-store';
import { RedfishService } from '../redfish/redfish-service';
import { startRedfishServer, type RunningRedfishServer } from '../redfish/https-server';
import { RedfishError } from '../redfish/errors';
import type { RedfishRequest, RedfishResponse } from '../redfish/http-types';
import type { TlsMaterial } from '../redfish/tls-certificate';
import { parseQemuConfig } from '../machine/qemu-config';
import { vmNics } from '../machine/vm-nics';
import { endpointOf, type BmcEndpoint } from './address-plan';
import type { FarmConfig } from './farm-config';
import { FarmNetworkInfo } from './farm-network-info';
import type { LabLan } from './lab-network';
import { namedLogger } from './named-logger';

/** BMCs started at once: binds and state reads overlap without flooding the event loop. */
const START_CONCURRENCY = 64;

export interface FarmSliceOptions {
  readonly config: FarmConfig;
  readonly from: number;
  readonly to: number;
  /** BMC `index`'s state store (a FarmStateStore's forBmc, or a worker's view of the parent's). */
  readonly store: (index: number) => StateStore;
  /** For the Redfish services, when REDFISH_PORT is set: one certificate for the farm. */
  readonly tls?: TlsMaterial;
  /** Tags this farm's MACs (02:tt:tt:…), so two farms on one network differ. */
  readonly farmTag: number;
  /** The lab network the BMCs' addresses are on (FARM_INTERFACE): what `lan print` reports of it. */
  readonly lan?: LabLan;
  readonly log: Logger;
  readonly clock?: () => number;
  /** Quiet time before an awake BMC may rest (default REST_AFTER_MS) and how often that is looked at (REST_CHECK_MS). */
  readonly restAfterMs?: number;
  readonly restCheckMs?: number;
}

/**
 * One BMC a managed farm hosts at its own address and port (farm-control.ts): its own credentials
 * and, when redfishPort is a number, its own Redfish service at that port on its address.
 */
export interface FarmBmcSettings {
  readonly index: number;
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly redfishPort: number | null;
  /** Power the machine on when the BMC first starts in this farm process (POWER_ON_AT_START). */
  readonly powerOnAtStart: boolean;
  /** The node's block of VM NIC MACs (VM_MAC_ID); null: the NIC's MAC is derived from the name. */
  readonly macId: number | null;
}

export interface FarmBmc {
  readonly name: string;
  readonly endpoint: BmcEndpoint;
  /** The BMC while it is awake; null while it rests (its socket stays bound: see RestingBmcs). */
  readonly agent: BmcAgent | null;
  readonly redfish?: RunningRedfishServer;
}

/** A BMC quiet this long (no datagram), with nothing volatile pending (BmcAgent.restable), rests. */
export const REST_AFTER_MS = 10_000;
/** How often awake BMCs are looked at for rest. */
const REST_CHECK_MS = 5_000;

export class Farm {
  private readonly awake = new Set<Slot>();
  private readonly named = new Map<string, Slot>();
  private readonly restTimer: NodeJS.Timeout;
  private stopped = false;

  private constructor(
    private readonly slots: Slot[],
    private readonly scheduler: WheelScheduler,
    private readonly wakeAgent: (slot: Slot) => Promise<BmcAgent>,
    private readonly clock: () => number,
    private readonly log: Logger,
    private readonly restAfterMs: number,
    restCheckMs: number,
    private readonly tlsReady: boolean,
    private readonly storeOf: (index: number) => StateStore,
  ) {
    this.restTimer = setInterval(() => this.restQuiet(), restCheckMs);
    this.restTimer.unref();
  }

  get bmcs(): readonly FarmBmc[] { return this.slots; }

  /** BMCs with a timer pending (sessions open, SOL active, powered on). */
  get scheduledCount(): number { return this.scheduler.wheel.size; }

  /** BMCs awake now (the others rest behind their sockets). */
  get awakeCount(): number { return this.awake.size; }

  /** The BMC of that name, or undefined. */
  find(name: string): FarmBmc | undefined { return this.named.get(name); }

  /**
   * Adds one BMC while the farm runs (a managed farm, farm-control.ts): binds its socket, and wakes
   * it at once when it serves Redfish, powers on at start, its saved restore policy powers on, or
   * its state holds fault rules (they act from the start and keep it awake).
   * Rejects a name already in the farm and an address:port that cannot be bound, leaving nothing.
   */
  async add(settings: FarmBmcSettings): Promise<FarmBmc> {
    if (this.stopped) throw new Error('the farm is stopping');
    if (this.named.has(settings.name)) throw new Error(`a BMC named ${settings.name} is in the farm already`);
    if (settings.redfishPort !== null && !this.tlsReady) throw new Error(`${settings.name}: Redfish needs the farm's TLS certificate, and this farm has none`);
    const endpoint: BmcEndpoint = { index: settings.index, address: settings.address, port: settings.port };
    // A BMC serving Redfish wakes at once to start its server; it may rest later like any other.
    const eager = settings.redfishPort !== null;
    let socket: Socket;
    try {
      socket = await bindSocket(endpoint);
    } catch (err) {
      throw new Error(`${settings.name}: IPMI ${settings.address}:${settings.port}/udp: ${err instanceof Error ? err.message : String(err)}`);
    }
    const slot = new Slot(settings.name, endpoint, socket, settings);
    this.named.set(settings.name, slot);
    this.slots.push(slot);
    this.listen(slot);
    try {
      if (eager || settings.powerOnAtStart || powersOnAtStart(this.storeOf(settings.index)) || hasSavedFaultRules(this.storeOf(settings.index))) await this.wake(slot);
    } catch (err) {
      await this.remove(settings.name);
      throw err;
    }
    return slot;
  }

  /** Takes a BMC out of the farm (sessions end, sockets close); its saved state stays. False when there is none. */
  async remove(name: string): Promise<boolean> {
    const slot = this.named.get(name);
    if (!slot) return false;
    slot.removed = true;
    this.named.delete(name);
    const at = this.slots.indexOf(slot);
    if (at >= 0) this.slots.splice(at, 1);
    while (slot.change) await slot.change.catch(() => {});
    const agent = slot.agent;
    slot.agent = null;
    slot.pending.length = 0;
    this.awake.delete(slot);
    await agent?.stop();
    slot.redfishService?.close();
    slot.redfishService = null;
    await slot.redfish?.close();
    const socket = slot.socket;
    if (socket) await new Promise<void>((resolve) => { try { socket.close(() => resolve()); } catch { resolve(); } });
    return true;
  }

  /** The BMC's machine power; a resting BMC is off (a powered-on machine keeps its BMC awake). */
  async powerOf(name: string): Promise<'on' | 'off' | undefined> {
    const slot = this.named.get(name);
    if (!slot) return undefined;
    if (!slot.agent) return 'off';
    return (await slot.agent.core.power.powerState()) === 'on' ? 'on' : 'off';
  }

  /** The BMC's agent, woken when it rests (its fault rules then keep it awake: BmcAgent.restable). */
  async agentOf(name: string): Promise<BmcAgent | undefined> {
    const slot = this.named.get(name);
    if (!slot) return undefined;
    await this.wake(slot);
    return slot.agent ?? undefined;
  }

  /**
   * Binds every BMC's socket; BMCs that must run from the start (Redfish, power on at start, a
   * restore policy that powers on) are started at once, the others when their first datagram
   * comes. When one cannot start, everything started is stopped again.
   */
  static async start(o: FarmSliceOptions): Promise<Farm> {
    const clock = o.clock ?? Date.now;
    const startedAt = clock();
    const scheduler = new WheelScheduler(clock, o.log);
    const random = pooledRandom(64 * 1024);
    const { cpus, memoryMiB } = parseQemuConfig({}).config;
    const a = o.config.agent;
    const lazy = a.redfishPort === undefined || !o.tls;
    const startAgent = async (slot: Slot): Promise<BmcAgent> => {
      const { endpoint, name } = slot;
      const index = endpoint.index;
      const log = namedLogger(o.log, { bmc: name, endpoint: `${endpoint.address}:${endpoint.port}` });
      const agent = await BmcAgent.start({
        address: endpoint.address,
        port: endpoint.port,
        ...(slot.socket ? { socket: slot.socket } : {}),
        ...(slot.wokenBefore ? { restartEventAt: null } : { restartEventAt: startedAt }),
        adminUser: slot.settings?.user ?? a.ipmiUser,
        adminPassword: slot.settings?.password ?? a.ipmiPassword,
        cipherSuites: a.cipherSuites,
        ipmi15: a.ipmi15,
        ipmi15AuthTypes: a.ipmi15AuthTypes,
        nodeName: name,
        announce: false,
        store: o.store(index),
        network: new FarmNetworkInfo(endpoint.address, o.farmTag, index, o.lan),
        createMachine: (ctx) => new SimMachine({ boot: ctx.boot, nodeName: name, powerDelayMs: a.simPowerDelayMs }),
        powerOnAtStart: (slot.settings?.powerOnAtStart ?? a.powerOnAtStart) && !slot.wokenBefore,
        // One simulated NIC (eth0), as a sim node's container has: its MAC is the one exports name.
        hardware: { cpus, memoryMiB, nics: vmNics('sim', [], { nodeName: name, macId: slot.settings?.macId ?? null }) },
        log,
        clock,
        random,
        scheduler,
      });
      slot.wokenBefore = true;
      const port = slot.settings ? slot.settings.redfishPort : (lazy ? null : (o.config.plan.mode === 'ports' ? a.redfishPort! + index : a.redfishPort!));
      if (port === null || !o.tls) return agent;
      slot.redfishService = new RedfishService({ core: agent.core, random, log });
      if (slot.redfish) return agent;
      try {
        slot.redfish = await startRedfishServer({ address: endpoint.address, port, tls: o.tls!, handle: (req, now) => farm.serveRedfish(slot, req, now), clock, log });
        return agent;
      } catch (err) {
        slot.redfishService = null;
        await agent.stop();
        throw new Error(`${name}: Redfish service: ${err instanceof Error ? err.message : String(err)}`);
      }
    };
    const slots: Slot[] = [];
    const farm = new Farm(slots, scheduler, startAgent, clock, o.log, o.restAfterMs ?? REST_AFTER_MS, o.restCheckMs ?? REST_CHECK_MS, o.tls !== undefined, o.store);
    let next = o.from;
    let failure: unknown;
    const worker = async (): Promise<void> => {
      while (failure === undefined && next < o.to) {
        const index = next++;
        const endpoint = endpointOf(o.config.plan, index);
        const name = `${o.config.namePrefix}-${index}`;
        try {
          const slot = new Slot(name, endpoint, await bindSocket(endpoint));
          slots.push(slot);
          farm.named.set(name, slot);
          farm.listen(slot);
          if (!lazy || a.powerOnAtStart || powersOnAtStart(o.store(index)) || hasSavedFaultRules(o.store(index))) await farm.wake(slot);
        } catch (err) {
          failure ??= err instanceof Error ? new Error(`${name}: ${err.message}`) : err;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(START_CONCURRENCY, o.to - o.from) }, worker));
    slots.sort((x, y) => x.endpoint.index - y.endpoint.index);
    if (failure !== undefined) {
      await farm.stop();
      throw failure instanceof Error ? failure : new Error(String(failure));
    }
    return farm;
  }

  private listen(slot: Slot): void {
    slot.socket!.on('message', (msg: Buffer, from: UdpPeer) => {
      if (this.stopped || slot.removed) return;
      slot.lastActive = this.clock();
      if (slot.agent) { slot.agent.receive(msg, from); return; }
      if (slot.pending.length < MAX_PENDING) slot.pending.push([msg, { address: from.address, port: from.port }]);
      this.wake(slot).catch((err: unknown) => this.log.error('BMC could not be woken', { bmc: slot.name, error: err instanceof Error ? err.message : String(err) }));
    });
    slot.socket!.on('error', (err) => this.log.error('udp socket error', { bmc: slot.name, error: err.message }));
  }

  /** Builds the BMC's agent (once; callers during the build share it) and hands it what came meanwhile. */
  private async wake(slot: Slot): Promise<void> {
    while (slot.change) await slot.change;
    if (slot.agent || this.stopped || slot.removed) return;
    slot.change = (async () => {
      try {
        slot.agent = await this.wakeAgent(slot);
        slot.lastActive = this.clock();
        this.awake.add(slot);
      } finally {
        slot.change = null;
      }
      for (const [msg, from] of slot.pending.splice(0)) slot.agent.receive(msg, from);
    })();
    try {
      await slot.change;
    } catch (err) {
      slot.pending.length = 0;
      throw err;
    }
  }

  /** A request to a BMC's Redfish server: the BMC is woken for it when it rests. */
  private async serveRedfish(slot: Slot, req: RedfishRequest, now: number): Promise<RedfishResponse> {
    slot.lastActive = this.clock();
    await this.wake(slot);
    const service = slot.redfishService;
    if (!service) throw new RedfishError(503, 'ServiceTemporarilyUnavailable', 'This BMC is being removed or its farm is stopping.', ['5'], { 'Retry-After': '5' });
    try {
      return await service.handle(req, now);
    } finally {
      slot.lastActive = this.clock();
    }
  }

  /**
   * Lets every awake BMC that has been quiet for REST_AFTER_MS, with nothing volatile pending (its
   * Redfish service's sessions, tasks and subscriptions included), rest.
   */
  private restQuiet(): void {
    const now = this.clock();
    for (const slot of this.awake) {
      if (!slot.socket || slot.change || now - slot.lastActive < this.restAfterMs || !slot.agent?.restable(now)) continue;
      if (slot.redfishService && !slot.redfishService.restable(now)) continue;
      const agent = slot.agent;
      slot.agent = null;
      slot.redfishService?.close();
      slot.redfishService = null;
      this.awake.delete(slot);
      slot.change = agent.stop()
        .catch((err: unknown) => this.log.error('BMC could not rest cleanly', { bmc: slot.name, error: err instanceof Error ? err.message : String(err) }))
        .finally(() => { slot.change = null; });
    }
  }

  /** Stops every BMC (sessions end, sockets close) and the farm's timers. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.restTimer);
    this.scheduler.close();
    await Promise.all(this.slots.map(async (slot) => {
      while (slot.change) await slot.change.catch(() => {});
      await slot.agent?.stop();
      slot.agent = null;
      slot.redfishService?.close();
      slot.redfishService = null;
      await slot.redfish?.close();
      const socket = slot.socket;
      if (socket) await new Promise<void>((resolve) => { try { socket.close(() => resolve()); } catch { resolve(); } });
    }));
    this.awake.clear();
  }
}

