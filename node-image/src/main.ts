/**
 * The agent's composition root: configuration → state → machine → BMC → UDP. Exits non-zero with
 * every configuration problem listed when the environment is wrong; stops cleanly on SIGTERM/SIGINT.
 */
import { hostname } from 'node:os';
import { ConfigError, loadConfig } from './config';
import { BmcAgent } from './bmc/bmc-agent';
import { FileStateStore } from './state/file-state-store';
import { OsNetworkInfo } from './network/network-info';
import { SimMachine } from './machine/sim-machine';
import type { BootSource, MachineControl } from './machine/machine-control';
import { createLogger } from './util/logger';
import type { AgentConfig } from './config';
import type { Logger } from './util/logger';

function createMachine(config: AgentConfig, boot: BootSource, log: Logger): MachineControl {
  if (config.machine === 'sim') {
    return new SimMachine({ boot, nodeName: config.nodeName, powerDelayMs: config.simPowerDelayMs });
  }
  log.error('MACHINE=qemu is not available in this build of the agent; set MACHINE=sim');
  throw new ConfigError(['MACHINE=qemu: the QEMU machine is not part of this build; use MACHINE=sim']);
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
  const agent = await BmcAgent.start({
    address: config.ipmiAddress,
    port: config.ipmiPort,
    adminUser: config.ipmiUser,
    adminPassword: config.ipmiPassword,
    cipherSuites: config.cipherSuites,
    ipmi15: config.ipmi15,
    nodeName: config.nodeName,
    store: new FileStateStore(config.stateDir),
    network: new OsNetworkInfo({ bindAddress: config.ipmiAddress }),
    createMachine: (boot) => createMachine(config, boot, log),
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
