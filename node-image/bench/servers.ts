/**
 * The two BMCs the benchmark compares, both on 127.0.0.1 with a free UDP port and a temporary
 * state directory: this project's agent (node-image/dist/main.js, MACHINE=sim) and OpenIPMI's
 * ipmi_sim with a generated lan.conf and emulator command file.
 */
import { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freeUdpPort, ProcessGroup, waitForBmc } from './processes';

export const BENCH_USER = 'admin';
export const BENCH_PASSWORD = 'password';
/** The GUID the captures used for ipmi_sim (ipmi-captures.md, "Environment"). */
const IPMI_SIM_GUID = 'a123456789abcdefa123456789abcdef';
const START_TIMEOUT_MS = 10_000;
const BIND_ATTEMPTS = 3;

export interface RunningServer {
  readonly name: string;
  readonly port: number;
  readonly process: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

function collect(child: ChildProcess): () => string {
  let out = '';
  child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { out += d.toString(); });
  return () => out;
}

async function waitForLine(child: ChildProcess, output: () => string, needle: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!output().includes(needle)) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited (${child.exitCode ?? child.signalCode}) before "${needle}":\n${output()}`);
    if (Date.now() > deadline) throw new Error(`no "${needle}" within ${timeoutMs} ms:\n${output()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface AgentOptions {
  /** node-image/dist/main.js */
  readonly agentMain: string;
  /** Extra node flags, e.g. ['--cpu-prof', '--cpu-prof-dir=...']. */
  readonly nodeFlags?: readonly string[];
}

/** Starts the agent (MACHINE=sim) and waits for its "BMC listening" line. */
export async function startAgent(group: ProcessGroup, o: AgentOptions): Promise<RunningServer> {
  if (!existsSync(o.agentMain)) throw new Error(`${o.agentMain} is missing: run "npm run build:agent" first`);
  const port = await freeUdpPort();
  const stateDir = group.tempDir('bmcfleet-bench-agent-');
  const child = group.spawn(process.execPath, [...(o.nodeFlags ?? []), o.agentMain], {
    env: {
      PATH: process.env.PATH ?? '',
      MACHINE: 'sim',
      IPMI_ADDRESS: '127.0.0.1',
      IPMI_PORT: String(port),
      IPMI_USER: BENCH_USER,
      IPMI_PASS: BENCH_PASSWORD,
      BMC_STATE_DIR: stateDir,
      NODE_NAME: 'bench',
      // IPMI only, as the figures compared over time were measured; 443 is not free on a host anyway.
      REDFISH_PORT: 'none',
    },
  });
  const output = collect(child);
  try {
    await waitForLine(child, output, '"BMC listening"', START_TIMEOUT_MS);
  } catch (err) {
    await group.stop(child);
    group.removeDir(stateDir);
    throw new Error(`the agent did not start: ${(err as Error).message}`);
  }
  return {
    name: 'bmcfleet agent',
    port,
    process: child,
    output,
    stop: async () => { await group.stop(child); group.removeDir(stateDir); },
  };
}

/**
 * ipmi_sim configuration: one LAN channel on 127.0.0.1:port, user 2 admin/password with
 * Administrator privilege, the same essentials as the captures' ipmi_sim (ipmi-captures.md).
 */
export function ipmiSimLanConf(port: number): string {
  return [
    'name "bmcfleet-bench"',
    '',
    'set_working_mc 0x20',
    '  startlan 1',
    `    addr 127.0.0.1 ${port}`,
    '    priv_limit admin',
    '    allowed_auths_callback none md2 md5 straight',
    '    allowed_auths_user none md2 md5 straight',
    '    allowed_auths_operator none md2 md5 straight',
    '    allowed_auths_admin none md2 md5 straight',
    `    guid ${IPMI_SIM_GUID}`,
    '  endlan',
    '',
    `  user 2 true "${BENCH_USER}" "${BENCH_PASSWORD}" admin 10 none md2 md5 straight`,
    '',
  ].join('\n');
}

/**
 * ipmi_sim emulator commands: the BMC at IPMB address 20h (device revision 3, firmware 9.08,
 * manufacturer 4753 as in the captures), made the BMC, enabled. Without mc_setbmc ipmi_sim
 * exits with "No bmc_ipmb specified or configured".
 */
export function ipmiSimCommands(): string {
  return [
    'mc_setbmc 0x20',
    'mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr',
    'mc_enable 0x20',
    '',
  ].join('\n');
}

/** Starts ipmi_sim with a generated configuration and waits until it answers on its port. */
export async function startIpmiSim(group: ProcessGroup, ipmiSim: string): Promise<RunningServer> {
  let lastError = '';
  // The port is free when chosen but not reserved: another process may take it first, so retry.
  for (let attempt = 1; attempt <= BIND_ATTEMPTS; attempt++) {
    const port = await freeUdpPort();
    const dir = group.tempDir('bmcfleet-bench-ipmisim-');
    const lanConf = join(dir, 'lan.conf');
    const emu = join(dir, 'bench.emu');
    const stateDir = join(dir, 'state');
    writeFileSync(lanConf, ipmiSimLanConf(port));
    writeFileSync(emu, ipmiSimCommands());
    mkdirSync(stateDir);
    const child = group.spawn(ipmiSim, ['-c', lanConf, '-f', emu, '-s', stateDir, '-n']);
    const output = collect(child);
    const ready = await waitForBmc(port, START_TIMEOUT_MS);
    // "Unable to bind" means whatever answered is someone else's server on that port.
    const alive = child.exitCode === null && child.signalCode === null;
    if (ready && alive && !/unable to bind/i.test(output())) {
      return {
        name: 'ipmi_sim',
        port,
        process: child,
        output,
        stop: async () => { await group.stop(child); group.removeDir(dir); },
      };
    }
    lastError = `attempt ${attempt} on port ${port}: ${ready ? '' : 'no answer; '}${alive ? '' : 'exited; '}${output().trim()}`;
    await group.stop(child);
    group.removeDir(dir);
  }
  throw new Error(`ipmi_sim did not start: ${lastError}`);
}
