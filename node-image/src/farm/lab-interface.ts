/**
 * The farm's one adapter to the host's network configuration (FARM_INTERFACE, lab-network.ts): looks
 * at the interface (`ip -j`), checks the NET_ADMIN capability, adds the BMCs' addresses at the start
 * and removes them at a clean stop, each time with one `ip -batch -` process for all of them (an
 * argument array and standard input, never a shell, through the agent's child-process adapter).
 */
import { readFileSync } from 'node:fs';
import { runCommand } from '../exec/child-process';
import type { Logger } from '../util/logger';
import type { AddressPlan } from './address-plan';
import {
  CAP_NET_ADMIN, hasEffectiveCapability, parseDefaultGateway, parseInterfaceAddresses, planLabAddresses, releaseLines, type LabLan,
} from './lab-network';

export class LabNetworkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabNetworkError';
  }
}

/** Runs `ip ARGS` (with `input` on its standard input) and resolves with its stdout. */
export type IpCommand = (args: readonly string[], input?: string) => Promise<string>;

/** Time for one `ip` run: a batch of many thousand addresses takes a few seconds. */
const IP_TIMEOUT_MS = 120_000;
/** `ip -j addr` of an interface holding a whole farm's addresses (about 250 bytes each). */
const IP_MAX_OUTPUT = 512 * 1024 * 1024;

export const runIpCommand: IpCommand = async (args, input) => {
  try {
    return await runCommand('ip', args, { timeoutMs: IP_TIMEOUT_MS, maxOutputBytes: IP_MAX_OUTPUT, ...(input === undefined ? {} : { input }) });
  } catch (err) {
    throw new LabNetworkError(`ip ${args.join(' ')}: ${err instanceof Error ? err.message : String(err)}`);
  }
};

function readProcStatus(): string {
  try {
    return readFileSync('/proc/self/status', 'utf8');
  } catch {
    return '';
  }
}

/** The BMCs' addresses on the interface, for as long as the farm runs. */
export interface ClaimedLab {
  readonly lan: LabLan;
  /** How many addresses this start added (the others were there already). */
  readonly added: number;
  /** Removes every address of the plan from the interface; resolves with how many went. */
  release(): Promise<number>;
}

export class LabInterface {
  constructor(
    private readonly ifname: string,
    private readonly ip: IpCommand = runIpCommand,
    private readonly procStatus: () => string = readProcStatus,
  ) {}

  /**
   * Checks the plan against the interface and adds the addresses it lacks. Rejects, changing
   * nothing, when the interface is missing, the range does not fit its subnet, or NET_ADMIN is missing.
   */
  async claim(plan: AddressPlan, log: Logger): Promise<ClaimedLab> {
    const addresses = await this.addresses();
    const routes = await this.ip(['-j', '-4', 'route', 'show', 'default', 'dev', this.ifname]);
    const checked = planLabAddresses(plan, this.ifname, addresses, parseDefaultGateway(routes));
    if (!checked.ok) throw new LabNetworkError(checked.problems.join('\n'));
    if (!hasEffectiveCapability(this.procStatus(), CAP_NET_ADMIN)) {
      throw new LabNetworkError(`FARM_INTERFACE=${this.ifname} needs the NET_ADMIN capability to add the BMCs' addresses to ${this.ifname} and remove them at the stop (docker run --cap-add NET_ADMIN); this process does not have it`);
    }
    if (checked.addLines.length > 0) {
      try {
        await this.ip(['-batch', '-'], `${checked.addLines.join('\n')}\n`);
      } catch (err) {
        // A batch stops at its first failure: what it added before goes again.
        await this.release(plan).catch(() => {});
        throw err;
      }
    }
    log.info('BMC addresses on the lab interface', {
      interface: this.ifname, bmcs: plan.count, added: checked.missing, present: plan.count - checked.missing,
      netmask: checked.lan.netmask, gateway: checked.lan.gateway ?? 'none',
    });
    return { lan: checked.lan, added: checked.missing, release: () => this.release(plan) };
  }

  private async release(plan: AddressPlan): Promise<number> {
    const lines = releaseLines(plan, this.ifname, await this.addresses());
    if (lines.length > 0) await this.ip(['-batch', '-'], `${lines.join('\n')}\n`);
    return lines.length;
  }

  private async addresses(): Promise<ReturnType<typeof parseInterfaceAddresses>> {
    let json: string;
    try {
      json = await this.ip(['-j', '-4', 'addr', 'show', 'dev', this.ifname]);
    } catch (err) {
      if (/does not exist/i.test(err instanceof Error ? err.message : '')) {
        throw new LabNetworkError(`FARM_INTERFACE=${this.ifname}: there is no such network interface here (attach the farm's container to the lab network, or name the interface that is)`);
      }
      throw err;
    }
    return parseInterfaceAddresses(json, this.ifname);
  }
}
