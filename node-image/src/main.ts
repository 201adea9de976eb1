/**
 * The agent's composition root: configuration → state → machine → BMC → UDP. Exits non-zero with
 * every configuration problem listed when the environment is wrong; stops cleanly on SIGTERM/SIGINT.
 */
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from './config';
import { BmcAgent } from './bmc/bmc-agent';
import { FileStateStore } from './state/file-state-store';
import { OsNetworkInfo } from './network/network-info';
import { ensureTunDevice, type TunDeviceSystem } from './network/tun-device';
import { runCommand } from './exec/child-process';
import { existsSync, mkdirSync } from 'node:fs';
import { SimMachine } from './machine/sim-machine';
import { QemuMachine } from './machine/qemu-machine';
import { parseQemuConfig } from './machine/qemu-config';
import { VmNetworks } from './machine/vm-networks';
import { vmNics } from './machine/vm-nics';
import { RestartCause } from './bmc/chassis/chassis-state';
import { applyUsersReset } from './bmc/users/users-reset';
import type { MachineContext } from './bmc/bmc-agent';
import type { MachineControl } from './machine/machine-control';
import { createLogger } from './util/logger';
import type { AgentConfig } from './config';
import type { BmcCore } from './core/bmc-core';
import type { Logger } from './util/logger';
import { RedfishService } from './redfish/redfish-service';
import { startRedfishServer, type RunningRedfishServer } from './redfish/https-server';
import { loadTlsMaterial } from './redfish/tls-certificate';
import { startFaultControl, type FaultControl } from './faults/fault-control';
import type { BmcFaults } from './faults/bmc-faults';
import { pooledRandom } from './util/random-pool';
import { createAuthenticator } from './redfish/authenticator';
import { HostConsoles } from './console/host-consoles';
import { SerialConsole } from './console/serial-console';
import { screenPng } from './console/screen-capture';
import { VNC_LOOPBACK_HOST } from './machine/qemu-args';

/** The QEMU machine, when there is one (its screen serves the graphical console's screenshot). */
let qemuMachine: QemuMachine | undefined;

function createMachine(config: AgentConfig, ctx: MachineContext, log: Logger): MachineControl {
  if (config.machine === 'sim') {
    // VM_BOOT_MODE is the simulated firmware too (the firmware settings' Secure Boot needs UEFI).
    return new SimMachine({ boot: ctx.bootSource, nodeName: config.nodeName, powerDelayMs: config.simPowerDelayMs, firmware: parseQemuConfig(process.env).config.bootMode });
  }
  // Bad VM_* values do not stop the BMC: they are logged, and power-on is refused with them.
  const { config: qemu, problems } = parseQemuConfig(process.env);
  const networks = new VmNetworks({ interfaces: qemu.networks, nodeName: config.nodeName, ...(config.macId === undefined ? {} : { macId: config.macId }), waitMs: qemu.networksWaitMs, log });
  return qemuMachine = new QemuMachine({
    boot: ctx.bootSource,
    config: qemu,
    configProblems: problems,
    log,
    name: config.nodeName,
    serialNumber: config.nodeName,
    uuid: ctx.systemUuid,
    prepareNetworks: (signal) => networks.prepare(signal),
    watchNetworks: (attached, hotAdd) => networks.watch(attached, hotAdd),
    onGuestReset: () => {
      ctx.boot.noteRestart('soft-reset', ctx.clock());
      ctx.chassis.recordRestart(RestartCause.SoftReset, 0);
    },
  });
}

/** The container's /dev: mkdir, and mknod(1) (Node.js has no mknod). */
const osTunDevice: TunDeviceSystem = {
  exists: (path) => existsSync(path),
  makeDirectory: (path) => { mkdirSync(path, { recursive: true }); },
  makeCharacterDevice: async (path, major, minor) => {
    await runCommand('mknod', ['-m', '0666', path, 'c', String(major), String(minor)], { timeoutMs: 5_000 });
  },
};

/** Names and addresses the generated certificate covers: the node's name and every address it has. */
function certificateNames(config: AgentConfig): string[] {
  const names = [config.nodeName, hostname(), 'localhost', '127.0.0.1', '::1'];
  if (config.ipmiAddress !== '0.0.0.0') names.push(config.ipmiAddress);
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (!a.address.startsWith('fe80:')) names.push(a.address);
  }
  return names.filter((n) => n.length > 0);
}

/**
 * The certificate generator is its own file next to this one (dist/ and bundle/ alike): the X.509
 * library it bundles is loaded only on the start that makes a certificate (docs/adr/0010).
 */
function loadCertificateGenerator(): typeof import('./redfish/self-signed-certificate') {
  const path = join(__dirname, 'redfish', 'self-signed-certificate.js');
  return require(path) as typeof import('./redfish/self-signed-certificate');
}

/** The graphical console's target: QEMU's VNC inside this container, reached on loopback. */
function consoleOptions(config: AgentConfig): Pick<ConstructorParameters<typeof HostConsoles>[0], 'vnc' | 'screenshot'> {
  const machine = qemuMachine;
  if (config.machine !== 'qemu' || !machine) return { vnc: undefined, screenshot: undefined };
  const qemu = parseQemuConfig(process.env).config;
  return {
    vnc: qemu.vncPort === undefined ? undefined : { host: VNC_LOOPBACK_HOST, port: qemu.vncPort, password: qemu.vncPassword },
    screenshot: (width) => screenPng(() => machine.screendump(), width),
  };
}

async function startRedfish(config: AgentConfig, core: BmcCore, serial: SerialConsole, faults: BmcFaults, log: Logger): Promise<{ server: RunningRedfishServer; consoles: HostConsoles }> {
  const tls = await loadTlsMaterial({
    store: new FileStateStore(config.stateDir),
    ...(config.redfishTlsCert && config.redfishTlsKey ? { certFile: config.redfishTlsCert, keyFile: config.redfishTlsKey } : {}),
    names: certificateNames(config),
    now: new Date(),
    generate: (names, now) => loadCertificateGenerator().generateSelfSigned(names, now),
  });
  const service = new RedfishService({
    core, random: pooledRandom(), log, store: new FileStateStore(config.stateDir), allowEventLoopback: config.redfishEventAllowLoopback, serialHistory: serial.history,
  });
  const consoles = new HostConsoles({
    authenticator: createAuthenticator(core.accounts, service.sessions, log), serial, clock: Date.now, log, ...consoleOptions(config),
  });
  const server = await startRedfishServer({
    address: config.ipmiAddress, port: config.redfishPort!, tls, handle: faults.redfishHandler((req, now) => service.handle(req, now)), clock: Date.now, log, consoles,
  });
  service.start();
  // Fault rules end Redfish sessions too: a BMC reboot all of them, a session expiry the request's.
  const rebootIpmi = faults.onReboot;
  faults.onReboot = (now) => { rebootIpmi(now); for (const s of service.sessions.list(now)) service.sessions.delete(s.id); };
  faults.onRedfishSessionExpiry = (token, now) => { const s = service.sessions.authenticate(token, now); if (s) service.sessions.delete(s.id); };
  log.info('Redfish listening', { address: server.address, port: server.port, certificate: tls.source });
  return { server: { ...server, close: async () => { service.close(); await server.close(); } }, consoles };
}

async function main(): Promise<void> {
  let config: AgentConfig;
  try {
    config = loadConfig(process.env, hostname());
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
  const log = createLogger({ debug: config.debug });
  const store = new FileStateStore(config.stateDir);
  // Before the user store loads: a node re-created for a new owner starts from IPMI_USER / IPMI_PASS only.
  if (applyUsersReset(store, config.usersResetId) === 'reset') {
    log.info('BMC users reset to the configured administrator (BMC_USERS_RESET_ID is new)', { resetId: config.usersResetId });
  }
  // CPUs and memory are the VM's (VM_CPUS, VM_MEMORY) for both machines: the simulated one reports what a VM would have.
  const qemuHardware = parseQemuConfig(process.env).config;
  // Tap NICs need /dev/net/tun; a swarm task cannot be given the device, so the agent makes it.
  await ensureTunDevice(config.machine === 'qemu' && qemuHardware.networks.length > 0, osTunDevice, log);
  const agent = await BmcAgent.start({
    address: config.ipmiAddress,
    port: config.ipmiPort,
    ...(config.ipmiSolPort === undefined ? {} : { solPort: config.ipmiSolPort }),
    adminUser: config.ipmiUser,
    adminPassword: config.ipmiPassword,
    cipherSuites: config.cipherSuites,
    ipmi15: config.ipmi15,
    ipmi15AuthTypes: config.ipmi15AuthTypes,
    nodeName: config.nodeName,
    store,
    network: new OsNetworkInfo({ bindAddress: config.ipmiAddress }),
    createMachine: (ctx) => createMachine(config, ctx, log),
    powerOnAtStart: config.powerOnAtStart,
    hardware: {
      cpus: qemuHardware.cpus, memoryMiB: qemuHardware.memoryMiB, diskSizeBytes: qemuHardware.diskSizeBytes,
      nics: vmNics(config.machine, qemuHardware.networks, { nodeName: config.nodeName, macId: config.macId }),
    },
    firmware: { mode: qemuHardware.bootMode, bootMenuTimeoutMs: qemuHardware.bootMenuTimeoutMs },
    ...(config.redfishPort === undefined ? {} : { redfishPort: config.redfishPort }),
    ...(config.machine === 'qemu' && qemuHardware.vncPort !== undefined ? { vncPort: qemuHardware.vncPort } : {}),
    log,
  });
  let redfish: { server: RunningRedfishServer; consoles: HostConsoles } | undefined;
  if (config.redfishPort !== undefined) {
    // At once, before anything awaits: the history starts with the machine's first output.
    const serial = new SerialConsole(agent.core.machine);
    try {
      redfish = await startRedfish(config, agent.core, serial, agent.faults, log);
    } catch (err) {
      await agent.stop();
      throw new Error(`Redfish service: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  let faultControl: FaultControl | undefined;
  if (config.faultsSocket !== undefined) {
    try {
      faultControl = await startFaultControl(config.faultsSocket, agent.faults, Date.now, log);
    } catch (err) {
      await Promise.all([agent.stop(), redfish?.consoles.close(), redfish?.server.close()]);
      throw new Error(`fault control socket ${config.faultsSocket}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { signal });
    redfish?.consoles.close();
    Promise.all([agent.stop(), redfish?.server.close(), faultControl?.close()]).then(() => process.exit(0), (err: unknown) => { log.error('stop failed', { error: String(err) }); process.exit(1); });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`bmc agent failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
