/**
 * The farm's configuration: the agent's own variables (IPMI_USER, IPMI_PASS, IPMI_CIPHER_SUITES,
 * BMC_STATE_DIR, REDFISH_PORT, …, read by config.ts) for every BMC, and the farm's: FARM_BMCS,
 * FARM_ADDRESSES or FARM_PORTS, FARM_INTERFACE, FARM_WORKERS. Every problem is reported together, as for the agent.
 */
import { ConfigError, loadConfig, type AgentConfig } from '../config';
import { checkPlan, parseIpv4, type AddressPlan } from './address-plan';
import { checkInterfaceName } from './lab-network';

export const DEFAULT_FARM_FIRST_ADDRESS = '127.1.0.1';
export const MAX_FARM_BMCS = 1_000_000;

export interface FarmConfig {
  /** The agent's settings every BMC shares (its ipmiAddress/ipmiPort are the plan's, not these). */
  readonly agent: AgentConfig;
  readonly plan: AddressPlan;
  /** FARM_WORKERS: worker processes; undefined = decided by the farm (farm-workers.ts). */
  readonly workers: number | undefined;
  /** BMC names are `${namePrefix}-${index}` (NODE_NAME, default "farm"). */
  readonly namePrefix: string;
  /**
   * FARM_INTERFACE: the interface of a lab network the BMCs' addresses are added to at the start and
   * removed from at a clean stop (lab-network.ts); undefined = the addresses are there already (loopback).
   */
  readonly labInterface?: string | undefined;
}

export function loadFarmConfig(env: NodeJS.ProcessEnv): FarmConfig {
  const problems: string[] = [];
  if (env.MACHINE !== undefined && env.MACHINE !== '' && env.MACHINE !== 'sim') {
    problems.push(`MACHINE="${env.MACHINE}" must be sim for a farm (a farm hosts simulated machines only)`);
  }
  let agent: AgentConfig | undefined;
  try {
    // A farm serves Redfish only when asked: REDFISH_PORT unset means none.
    agent = loadConfig({ ...env, MACHINE: 'sim', REDFISH_PORT: env.REDFISH_PORT || 'none' }, 'farm');
  } catch (err) {
    if (err instanceof ConfigError) problems.push(...err.problems);
    else throw err;
  }
  const whole = (name: string, min: number, max: number): number | undefined => {
    const v = env[name];
    if (v === undefined || v === '') return undefined;
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
      problems.push(`${name}="${v}" must be a whole number from ${min} to ${max}`);
      return undefined;
    }
    return Number(v);
  };
  const count = whole('FARM_BMCS', 1, MAX_FARM_BMCS);
  if (env.FARM_BMCS === undefined || env.FARM_BMCS === '') problems.push('FARM_BMCS is required: how many BMCs the farm hosts');
  const addresses = env.FARM_ADDRESSES || undefined;
  const firstPort = whole('FARM_PORTS', 1, 65535);
  if (addresses !== undefined && env.FARM_PORTS) problems.push('FARM_ADDRESSES and FARM_PORTS exclude each other: one address per BMC, or one port per BMC on IPMI_ADDRESS');
  const workers = whole('FARM_WORKERS', 1, 256);
  const portMode = env.FARM_PORTS !== undefined && env.FARM_PORTS !== '';
  const plan: AddressPlan = portMode
    ? { mode: 'ports', count: count ?? 1, firstAddress: env.IPMI_ADDRESS || '127.0.0.1', firstPort: firstPort ?? 1 }
    : { mode: 'addresses', count: count ?? 1, firstAddress: addresses ?? DEFAULT_FARM_FIRST_ADDRESS, firstPort: agent?.ipmiPort ?? 623 };
  if (count !== undefined && (!portMode || firstPort !== undefined)) problems.push(...checkPlan(plan));
  if (portMode && plan.firstAddress === '0.0.0.0') problems.push('IPMI_ADDRESS must be a real address with FARM_PORTS (lan print reports it), e.g. 127.0.0.1');
  const redfishPort = agent?.redfishPort;
  if (redfishPort !== undefined && count !== undefined && plan.mode === 'ports' && redfishPort + count - 1 > 65535) {
    problems.push(`REDFISH_PORT=${redfishPort} with FARM_PORTS needs ports up to ${redfishPort + count - 1} (one per BMC), past 65535`);
  }
  const labInterface = env.FARM_INTERFACE || undefined;
  if (labInterface !== undefined) {
    const nameProblem = checkInterfaceName(labInterface);
    if (nameProblem) problems.push(nameProblem);
    if (portMode) problems.push('FARM_INTERFACE and FARM_PORTS exclude each other: on a lab network every BMC has its own address (FARM_ADDRESSES), port 623');
    else if (addresses === undefined) problems.push('FARM_INTERFACE needs FARM_ADDRESSES: the first BMC\'s address on that interface\'s network, outside the range Docker hands out (--ip-range)');
    else if ((parseIpv4(addresses) ?? 0) >>> 24 === 127) problems.push(`FARM_INTERFACE with FARM_ADDRESSES=${addresses}: loopback addresses need no interface; give an address of the lab network, or leave FARM_INTERFACE unset`);
  }
  if (problems.length > 0 || agent === undefined) throw new ConfigError(problems);
  return { agent, plan, workers, namePrefix: env.NODE_NAME || 'farm', labInterface };
}
