/**
 * The agent's composition root: configuration → state → machine → BMC → UDP. Exits non-zero with
 * every configuration problem listed when the environment is wrong; stops cleanly on SIGTERM/SIGINT.
 */
import { hostname } from 'node:os';
import { loadConfig } from './config';
import { BmcAgent } from './bmc/bmc-agent';
import { FileStateStore } from './state/file-state-store';
import { OsNetworkInfo } from './network/network-info';
import { SimMachine } from './machine/sim-machine';
import { QemuMachine } from './machine/qemu-machine';
import { parseQemuConfig } from './machine/qemu-config';
import { VmNetworks } from './machine/vm-networks';
import { RestartCause } from './bmc/chassis/chassis-state';
import { applyUsersReset } from './bmc/users/users-reset';
import type { MachineContext } from './bmc/bmc-agent';
import type { MachineControl } from './machine/machine-control';
import { createLogger } from './util/logger';
import type { AgentConfig } from './config';
import type { Logger } from './util/logger';

function createMachine(config: AgentConfig, ctx: MachineContext, log: Logger): MachineControl {
  if (config.machine === 'sim') {
    return new SimMachine({ boot: ctx.boot, nodeName: config.nodeName, powerDelayMs: config.simPowerDelayMs });
  }
  // Bad VM_* values do not stop the BMC: they are logged, and power-on is refused with them.
  const { config: qemu, problems } = parseQemuConfig(process.env);
  const networks = new VmNetworks({ interfaces: qemu.networks, nodeName: config.nodeName, waitMs: qemu.networksWaitMs, log });
  return new QemuMachine({
    boot: ctx.boot,
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
  const agent = await BmcAgent.start({
    address: config.ipmiAddress,
    port: config.ipmiPort,
    adminUser: config.ipmiUser,
    adminPassword: config.ipmiPassword,
    cipherSuites: config.cipherSuites,
    ipmi15: config.ipmi15,
    nodeName: config.nodeName,
    store,
    network: new OsNetworkInfo({ bindAddress: config.ipmiAddress }),
    createMachine: (ctx) => createMachine(config, ctx, log),
    powerOnAtStart: config.powerOnAtStart,
    log,
  });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { signal });
    agent.stop().then(() => process.exit(0), (err: unknown) => { log.error('stop failed', { error: String(err) }); process.exit(1); });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`bmc agent failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
