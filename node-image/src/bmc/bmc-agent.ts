/**
 * Composition of one BMC: state, users, identity, inventory, chassis, SOL and the session engine,
 * in front of a machine, listening on UDP. Used by main.ts and by tests that run the agent in-process.
 * The single periodic tick drives every time-based rule (session expiry, SOL retransmission,
 * boot-flag timeout) from one clock.
 */
import { pooledRandom } from '../util/random-pool';
import { BmcEngine, DEFAULT_ENGINE_CONFIG } from './bmc-engine';
import { Dispatcher } from './dispatcher';
import { appCommands, DEFAULT_DEVICE_INFO } from './commands/app-commands';
import { chassisCommands } from './commands/chassis-commands';
import { sensorCommands } from './commands/sensor-commands';
import { storageCommands } from './commands/storage-commands';
import { userCommands } from './commands/user-commands';
import { channelCommands } from './commands/channel-commands';
import { lanCommands, LanAuthType } from './commands/lan-commands';
import { solConfigCommands } from './commands/sol-config-commands';
import { BootOptions } from './chassis/boot-options';
import { ChassisState, followMachinePower } from './chassis/chassis-state';
import { FruInventory } from './inventory/fru-inventory';
import { SdrRepository } from './inventory/sdr-repository';
import { SystemEventLog } from './sel/system-event-log';
import type { PowerEventKind } from './sel/sel-events';
import { UserStore } from './users/user-store';
import { ChannelAccessStore } from './users/channel-access';
import { loadOrCreateIdentity, wireToUuid } from './identity';
import { SolConfig } from '../sol/sol-config';
import { SolManager } from '../sol/sol-manager';
import type { BootSource, MachineControl } from '../machine/machine-control';
import { FirmwareSettings } from '../core/firmware-settings';
import { defaultSensors, type SensorDefinition } from './inventory/sensors';
import { EventLog } from '../core/event-log';
import { PowerService } from '../core/power-service';
import { BootOverrideRecord } from '../core/boot-override';
import type { BmcCore, MachineHardware } from '../core/bmc-core';
import { QEMU_CONFIG_DEFAULTS } from '../machine/qemu-config';
import { Accounts } from '../core/accounts';
import { VirtualMediaService, type ImageProbe } from '../core/virtual-media';
import { HttpImageProbe } from '../media/http-image-probe';
import { BmcEvents, publishChanges } from '../core/bmc-events';
import type { NetworkInfo } from '../network/network-info';
import type { Remote } from './session/session-types';
import type { StateStore } from '../state/state-store';
import type { CipherSuite } from '../protocol/crypto/cipher-suites';
import type { Socket } from 'node:dgram';
import { UdpServer, type UdpPeer } from '../transport/udp-server';
import { AuthType15 } from '../protocol/crypto/auth15';
import type { Ipmi15AuthTypeName } from '../config';
import type { Logger } from '../util/logger';
import { BmcFaults } from '../faults/bmc-faults';

export interface BmcAgentOptions {
  readonly address: string;
  readonly port: number;
  /**
   * The UDP port Activate Payload names for SOL (IPMI_SOL_PORT); default: the port bound. When it is
   * another port, the agent listens on it too where it can (see listenOnSolPort).
   */
  readonly solPort?: number;
  readonly adminUser: string;
  readonly adminPassword: string;
  readonly cipherSuites: readonly CipherSuite[];
  readonly ipmi15: boolean;
  /** IPMI 1.5 AuthCode types accepted when `ipmi15` is on; default MD5 only. */
  readonly ipmi15AuthTypes?: readonly Ipmi15AuthTypeName[];
  readonly nodeName: string;
  readonly store: StateStore;
  readonly network: NetworkInfo;
  /** Builds the machine once the BMC's boot flags exist (the machine asks them at every boot). */
  readonly createMachine: (ctx: MachineContext) => MachineControl;
  readonly powerOnAtStart: boolean;
  /** CPUs and memory of the machine, for inventories (default: the QEMU defaults). */
  readonly hardware?: MachineHardware;
  /** Reads virtual media URLs before they are attached (default: HTTP HEAD). */
  readonly imageProbe?: ImageProbe;
  /** The machine's firmware (VM_BOOT_MODE) and boot menu wait (VM_BOOT_MENU_TIMEOUT), defaults of the BIOS settings. */
  readonly firmware?: { readonly mode: 'uefi' | 'bios'; readonly bootMenuTimeoutMs: number };
  /** For Manager NetworkProtocol: the Redfish HTTPS port (undefined: none) and the VNC port (undefined: none). */
  readonly redfishPort?: number;
  readonly vncPort?: number;
  readonly log: Logger;
  readonly clock?: () => number;
  readonly random?: (n: number) => Buffer;
  /** Tick period of the timer loop (ms). */
  readonly tickMs?: number;
  /** Fault injection hooks (default: a BMC of its own with no rules). */
  readonly faults?: BmcFaults;
  /**
   * Drives the BMC's timers from outside (a farm's timer wheel) instead of its own interval: the
   * agent registers its tick and asks to be called again at its next deadline only.
   */
  readonly scheduler?: AgentScheduler;
  /**
   * An IPMI socket bound and kept by the caller (a farm): the agent sends on it and gets its
   * datagrams through receive(); stop() leaves it open. Instead of binding address:port.
   */
  readonly socket?: Socket;
  /**
   * When the SEL's "BMC restarted" event of this start happened (default: now); null records none
   * (a farm waking a BMC that rested: no restart, see farm.ts).
   */
  readonly restartEventAt?: number | null;
  /**
   * Whether the start is logged at info ("BMC listening"; default true). A farm, which logged the
   * range it listens on once, wakes BMCs at session rates: their starts are logged at debug.
   */
  readonly announce?: boolean;
}

/** One timer source for many BMCs (farm/timer-wheel.ts): calls a BMC only when it asked to be. */
export interface AgentScheduler {
  /** `tick` runs the BMC's timers at `now` and returns when it next needs a call (null: never). */
  register(tick: (now: number) => number | null): ScheduledAgent;
}

export interface ScheduledAgent {
  /** Asks for a call at `at` (or earlier, when one is already due sooner). */
  wake(at: number): void;
  cancel(): void;
}

/** What a machine may need from its BMC. */
export interface MachineContext {
  /** The boot flags (a BootSource); also told about restarts the guest makes itself. */
  readonly boot: BootOptions;
  /** What a machine asks at every boot: the boot flags' override with the firmware settings (BIOS attributes, Secure Boot) applied. */
  readonly bootSource: BootSource;
  /** Records restart causes (Get System Restart Cause). */
  readonly chassis: ChassisState;
  /** The system GUID in RFC 4122 text form (the machine's SMBIOS UUID matches `ipmitool mc guid`). */
  readonly systemUuid: string;
  readonly clock: () => number;
}

const POH_CHECKPOINT_MS = 60_000;
/** Read-only definitions every BMC of the process shares (and with them one SDR template, sdr-repository.ts). */
const DEFAULT_SENSORS: readonly SensorDefinition[] = defaultSensors();

/**
 * IPMI_SOL_PORT names the port clients reach the BMC on when something in between maps it (Docker's
 * `-p X:623/udp`): those datagrams arrive on the listening port. Listening on X as well serves the
 * clients that follow the reported port from where no mapping applies (FreeIPMI's ipmiconsole, talking
 * to port 623, opens its session again on it, e.g. from another container on the node's network).
 * Where X cannot be bound (a port forwarder on the same host holds it) the BMC answers on its own
 * port only: a warning, not a failure, as the mapped path still works.
 */
async function listenOnSolPort(server: UdpServer, address: string, solPort: number, handler: (d: Buffer, from: Remote) => Promise<void>, log: Logger): Promise<void> {
  try {
    await server.listen(address, solPort, handler);
  } catch (err) {
    log.warn('IPMI_SOL_PORT is reported for SOL but cannot be listened on here; clients must reach this BMC through their mapping of it', {
      solPort, address, error: err instanceof Error ? err.message : String(err),
    });
  }
}

export class BmcAgent {
  private timer: NodeJS.Timeout | null = null;
  private scheduled: ScheduledAgent | null = null;
  private readonly cleanups: Array<() => void> = [];
  private poweredOn = false;
  /** With an adopted socket (BmcAgentOptions.socket): hands the agent one datagram. */
  receive: (msg: Buffer, from: UdpPeer) => void = () => {};

  private constructor(
    /** The protocol-neutral BMC that other front ends (Redfish) serve. */
    readonly core: BmcCore,
    readonly engine: BmcEngine,
    readonly machine: MachineControl,
    readonly sol: SolManager,
    readonly boot: BootOptions,
    readonly sel: SystemEventLog,
    readonly users: UserStore,
    /** Fault rules acting on this BMC's IPMI, SOL, Redfish and power (see faults/bmc-faults.ts). */
    readonly faults: BmcFaults,
    private readonly server: UdpServer,
    readonly port: number,
    private readonly log: Logger,
  ) {}

  static async start(o: BmcAgentOptions): Promise<BmcAgent> {
    const clock = o.clock ?? Date.now;
    const random = o.random ?? pooledRandom();
    const log = o.log;
    const faults = o.faults ?? new BmcFaults({ clock, log });
    faults.keepIn(o.store);
    const identity = loadOrCreateIdentity(o.store, random);
    const users = new UserStore({ state: o.store, adminName: o.adminUser, adminPassword: o.adminPassword });
    const channelAccess = new ChannelAccessStore(o.store);
    const boot = new BootOptions({ store: o.store, clock });
    const chassis = new ChassisState({ store: o.store });
    const sel = new SystemEventLog(o.store);
    const sensors = DEFAULT_SENSORS;
    const sdr = new SdrRepository({ sensors });
    const firmware = new FirmwareSettings({
      store: o.store, firmware: o.firmware?.mode ?? QEMU_CONFIG_DEFAULTS.bootMode,
      defaultBootMenuTimeoutS: (o.firmware?.bootMenuTimeoutMs ?? QEMU_CONFIG_DEFAULTS.bootMenuTimeoutMs) / 1000,
    });
    // Every boot (power-on, reset, cycle, the guest's reboot) applies the pending firmware settings.
    const bootSource: BootSource = {
      takeNextBoot: () => {
        const selection = boot.takeNextBoot();
        const fw = firmware.takeForBoot(selection.efi ?? firmware.firmware === 'uefi');
        return { ...selection, secureBoot: fw.secureBoot, ...(fw.bootMenuTimeoutMs === undefined ? {} : { bootMenuTimeoutMs: fw.bootMenuTimeoutMs }) };
      },
    };
    const product = {
      manufacturer: 'bmcfleet',
      productName: 'bmcfleet virtual server',
      partNumber: 'BMCF-VS-1',
      serialNumber: o.nodeName.slice(0, 32) || 'bmcfleet-node',
    };
    const fru = new FruInventory(product);
    const machine = faults.machine(o.createMachine({ boot, bootSource, chassis, systemUuid: wireToUuid(identity.systemGuid), clock }));
    const eventLog = new EventLog(sel);
    const virtualMedia = new VirtualMediaService({ store: o.store, drives: machine.media, probe: o.imageProbe ?? new HttpImageProbe(), log });
    await virtualMedia.restore();
    const power = new PowerService({ machine, boot, chassis, eventLog, log, mediaSettled: () => virtualMedia.settled() });
    const bootOverride = new BootOverrideRecord({ boot, store: o.store });
    const events = new BmcEvents((err, event) => log.error('event listener failed', { kind: event.kind, error: String(err) }));
    let boundPort = o.port;
    const core: BmcCore = {
      machine, power, bootOverride, eventLog, chassis, product, clock, virtualMedia, firmware, sensors, events,
      protocols: () => ({ ipmiPort: boundPort, redfishPort: o.redfishPort, vncPort: o.vncPort, hostName: o.nodeName }),
      accounts: new Accounts(users),
      systemUuid: wireToUuid(identity.systemGuid),
      bmcUuid: wireToUuid(identity.deviceGuid),
      nodeName: o.nodeName,
      hardware: o.hardware ?? { cpus: QEMU_CONFIG_DEFAULTS.cpus, memoryMiB: QEMU_CONFIG_DEFAULTS.memoryMiB },
      firmwareVersion: `${DEFAULT_DEVICE_INFO.firmwareMajor}.${String(DEFAULT_DEVICE_INFO.firmwareMinor).padStart(2, '0')}`,
    };

    const v15Names = o.ipmi15 ? o.ipmi15AuthTypes ?? ['md5'] : [];
    const ipmi15AuthTypes = v15Names.map((n) => (n === 'md5' ? AuthType15.Md5 : AuthType15.Password));
    const server = new UdpServer(log);
    const dispatcher = new Dispatcher(log);
    const dispatchCommand = dispatcher.dispatch.bind(dispatcher);
    dispatcher.dispatch = async (netFn, cmd, data, ctx) => (await faults.beforeCommand(netFn, cmd, ctx.session.id)) ?? dispatchCommand(netFn, cmd, data, ctx);
    const engine = new BmcEngine({
      config: { ...DEFAULT_ENGINE_CONFIG, cipherSuites: o.cipherSuites, ipmi15Enabled: o.ipmi15, ipmi15AuthTypes },
      users,
      guid: () => identity.systemGuid,
      random,
      send: faults.sender((d: Buffer, to: Remote) => server.send(d, to)),
      dispatcher,
      log,
      channelPrivilegeLimit: () => channelAccess.privilegeLimit(),
    });
    const solPort = (): number => o.solPort ?? boundPort;
    const solConfig = new SolConfig({ store: o.store, payloadPort: solPort });
    const sol = new SolManager({ engine, machine, config: solConfig, users, clock, log, solPort });

    // Cold reset restarts the BMC: every session ends (ipmitool does not even close its own).
    // Warm reset restarts the BMC's firmware without dropping its sessions (ipmitool closes its
    // session afterwards and waits for that answer). The machine keeps running either way.
    const onReset = async (kind: 'cold' | 'warm'): Promise<void> => {
      log.info('BMC reset requested', { kind });
      if (kind === 'cold') engine.resetSessions(clock());
      eventLog.record('bmc-restart', clock());
    };
    dispatcher
      .register(appCommands({ sessions: engine, identity, onReset }))
      .register(sol.commands())
      .register(chassisCommands({ machine, boot, chassis, power }))
      .register(sensorCommands({ sdr, powerState: () => machine.powerState() }))
      .register(storageCommands({ sdr, fru, sel }))
      .register(userCommands({ users, channel: DEFAULT_ENGINE_CONFIG.channel }))
      .register(channelCommands({ channel: DEFAULT_ENGINE_CONFIG.channel, access: channelAccess, activeSessionCount: () => engine.sessions.establishedCount }))
      .register(lanCommands({
        network: o.network, cipherSuites: o.cipherSuites.map((s) => s.id), users, store: o.store, channel: DEFAULT_ENGINE_CONFIG.channel,
        ipmi15AuthTypes: (v15Names.includes('md5') ? LanAuthType.Md5 : 0) | (v15Names.includes('password') ? LanAuthType.Password : 0),
        rmcpPort: () => boundPort,
      }))
      .register(solConfigCommands({ config: solConfig }));

    faults.onReboot = (now) => { engine.resetSessions(now); eventLog.record('bmc-restart', now); };
    faults.onIpmiSessionExpiry = (sessionId, now) => { engine.closeSession(sessionId, 'timeout', now); };
    faults.onSolDeactivate = (now) => { sol.deactivateByBmc(now); };
    if (o.restartEventAt !== null) eventLog.record('bmc-restart', o.restartEventAt ?? clock());
    const tickMs = o.tickMs ?? 100;
    let lastCheckpoint = clock();
    const runTimers = (now: number): void => {
      engine.tick(now);
      sol.tick(now);
      // Keeps the power-on-hours counter across BMC restarts without a write per tick.
      if (now - lastCheckpoint >= POH_CHECKPOINT_MS) { lastCheckpoint = now; chassis.checkpoint(now); }
    };
    // With a scheduler: the earliest of session expiry, SOL (polled while active) and the
    // power-on-hours checkpoint (while powered on); nothing pending means no call at all.
    const nextDeadline = (now: number): number | null => {
      let next = engine.nextDeadline();
      const consider = (t: number): void => { if (next === null || t < next) next = t; };
      if (sol.activeSessionId !== null) consider(now + tickMs);
      if (poweredOn) consider(lastCheckpoint + POH_CHECKPOINT_MS);
      return next;
    };
    let scheduled: ScheduledAgent | null = null;
    let poweredOn = false;
    const wake = (): void => {
      if (!scheduled) return;
      const now = clock();
      const at = nextDeadline(now);
      if (at !== null) scheduled.wake(at);
    };
    const handler = faults.datagramHandler(async (d: Buffer, from: Remote): Promise<void> => {
      await engine.handleDatagram(d, from, clock());
      wake();
    });
    let receive: ((msg: Buffer, from: UdpPeer) => void) | undefined;
    let bound: UdpPeer;
    if (o.socket) ({ bound, receive } = server.adopt(o.socket, handler, { address: o.address, port: o.port }));
    else bound = await server.listen(o.address, o.port, handler);
    boundPort = bound.port;
    if (o.solPort !== undefined && o.solPort !== bound.port) await listenOnSolPort(server, o.address, o.solPort, handler, log);
    const agent = new BmcAgent(core, engine, machine, sol, boot, sel, users, faults, server, bound.port, log);
    if (receive) agent.receive = receive;
    agent.cleanups.push(machine.on('power', (state) => { agent.poweredOn = state === 'on'; }));

    // The SEL records every power transition the machine reports, whoever caused it.
    const stopFollowing = followMachinePower(machine, chassis, clock);
    const stopSel = machine.on('power', (state, cause) => {
      const kind: PowerEventKind = cause === 'failure' ? 'failure' : cause === 'guest' && state === 'off' ? 'power-down-by-guest' : state === 'on' ? 'power-on' : 'power-off';
      eventLog.record(kind, clock());
      if (state === 'off') firmware.noteOff();
    });
    agent.cleanups.push(stopFollowing, stopSel);
    // The event bus: power transitions, boot override changes and new event log entries.
    agent.cleanups.push(publishChanges(events, { machine, boot, bootOverride, eventLog, clock }));
    agent.cleanups.push(virtualMedia.onChange((e) => events.mediaChanged({ slot: e.state.slot, image: e.state.image ?? null, inserted: e.state.inserted, at: clock() })));

    if (o.scheduler) {
      scheduled = o.scheduler.register((now) => { runTimers(now); return nextDeadline(now); });
      agent.scheduled = scheduled;
      // A power change starts or ends the power-on-hours checkpoints.
      agent.cleanups.push(machine.on('power', (state) => { poweredOn = state === 'on'; lastCheckpoint = clock(); wake(); }));
    } else {
      agent.timer = setInterval(() => runTimers(clock()), tickMs);
      agent.timer.unref();
    }

    (o.announce === false ? log.debug : log.info).call(log, 'BMC listening', { address: bound.address, port: bound.port, solPort: o.solPort ?? bound.port, cipherSuites: o.cipherSuites.map((s) => s.id), ipmi15: o.ipmi15 ? v15Names : false });
    // POWER_ON_AT_START, or the power restore policy ("always on", "previous" after a power loss).
    const restoreCause = chassis.powerOnAtStart();
    if (o.powerOnAtStart || restoreCause !== undefined) {
      if (restoreCause !== undefined) chassis.recordRestart(restoreCause, DEFAULT_ENGINE_CONFIG.channel);
      machine.power('on').catch((err: unknown) => log.error('power on at start failed', { error: String(err) }));
    }
    return agent;
  }

  /**
   * Whether stopping this BMC now loses nothing a restart from its state store would not bring
   * back: no session (open or half-open), no SOL, machine off and no power action under way, no
   * fault rules or fault counts, no boot option Set In Progress, no login failure
   * remembered, chassis identify off. A farm lets such a BMC rest.
   */
  restable(now: number): boolean {
    return this.core.chassis.identifyState(now) === 'off' && this.engine.sessions.establishedCount === 0 && this.engine.sessions.halfOpenCount === 0
      && this.sol.activeSessionId === null && !this.poweredOn && !this.faults.powerInProgress
      && this.faults.engine.list().length === 0 && this.faults.engine.totals.size === 0
      && this.boot.restable() && this.users.lockoutQuiet;
  }

  /** Stops listening, ends every session and stops the machine's processes and timers. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.scheduled?.cancel();
    this.scheduled = null;
    this.engine.resetSessions(Date.now());
    for (const c of this.cleanups.splice(0)) c();
    this.sol.close();
    await this.server.close();
    await this.machine.close();
  }
}
