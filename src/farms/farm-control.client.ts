/**
 * The orchestrator's door to a farm's control channel: the farm's own client (`farm-ctl`, run inside
 * the farm through NodeRuntime.exec, as fault-ctl is for a node), never the BMCs' protocols, so no
 * fault rule on a BMC can cut it off. Adds and removals go in chunks (an argument has at most
 * 128 KiB on Linux); every answer is JSON (node-image/src/farm/farm-control.ts).
 */
import { Injectable } from '@nestjs/common';
import { NodeRuntime } from '../runtime/node-runtime';
import { FARM_CTL_ARGV } from './farm-spec';

/** BMCs per farm-ctl call: ~250 bytes each stays well under an argument's 128 KiB. */
export const FARM_CTL_CHUNK = 200;
const EXEC_TIMEOUT_MS = 120_000;
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

/** One BMC as a farm is asked to host it (node-image/src/farm/farm-roster.ts RosterBmc). */
export interface FarmBmcRequest {
  readonly nodeId: string;
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly redfishPort: number | null;
  readonly user: string;
  readonly password: string;
  readonly powerOnAtStart: boolean;
  /** The node's VM MAC block (Node.macId): the BMC's Redfish EthernetInterfaces report its MACs; null: derived from the name. */
  readonly macId: number | null;
}

export interface FarmBmcStatus {
  readonly nodeId: string;
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly redfishPort: number | null;
  readonly power: 'on' | 'off';
}

export interface FarmAddResult {
  readonly added: readonly string[];
  readonly present: readonly string[];
  readonly failed: readonly { readonly name: string; readonly error: string }[];
}

/** The farm did not answer (not running, its control socket not up yet) or refused a request. */
export class FarmControlError extends Error {
  constructor(message: string, readonly unreachable: boolean) {
    super(message);
  }
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let at = 0; at < items.length; at += size) out.push(items.slice(at, at + size));
  return out;
}

@Injectable()
export class FarmControlClient {
  constructor(private readonly runtime: NodeRuntime) {}

  async list(farmRef: string): Promise<FarmBmcStatus[]> {
    return ((await this.call(farmRef, ['ls'])) as { bmcs: FarmBmcStatus[] }).bmcs;
  }

  async add(farmRef: string, bmcs: readonly FarmBmcRequest[]): Promise<FarmAddResult> {
    const result = { added: [] as string[], present: [] as string[], failed: [] as { name: string; error: string }[] };
    for (const chunk of chunks(bmcs, FARM_CTL_CHUNK)) {
      const answer = (await this.call(farmRef, ['add', JSON.stringify({ bmcs: chunk })])) as FarmAddResult;
      result.added.push(...answer.added);
      result.present.push(...answer.present);
      result.failed.push(...answer.failed);
    }
    return result;
  }

  async remove(farmRef: string, bmcs: readonly { readonly name: string; readonly nodeId: string }[], purge: boolean): Promise<string[]> {
    const removed: string[] = [];
    for (const chunk of chunks(bmcs, FARM_CTL_CHUNK * 4)) {
      removed.push(...((await this.call(farmRef, ['rm', JSON.stringify({ bmcs: chunk, purge })])) as { removed: string[] }).removed);
    }
    return removed;
  }

  /** farm-ctl `faults <bmc> ...`: exit code and answer as fault-ctl's (for the faults module). */
  async faults(farmRef: string, bmc: string, args: readonly string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    return this.runtime.exec(farmRef, [...FARM_CTL_ARGV, 'faults', bmc, ...args], { timeoutMs: EXEC_TIMEOUT_MS, maxOutputBytes: 1024 * 1024 });
  }

  private async call(farmRef: string, args: readonly string[]): Promise<unknown> {
    let result;
    try {
      result = await this.runtime.exec(farmRef, [...FARM_CTL_ARGV, ...args], { timeoutMs: EXEC_TIMEOUT_MS, maxOutputBytes: MAX_OUTPUT_BYTES });
    } catch (error) {
      throw new FarmControlError(`farm ${farmRef}: ${error instanceof Error ? error.message : String(error)}`, true);
    }
    // farm-ctl: 0 answered, 1 refused (the answer on stdout), 2 socket unreachable or bad arguments.
    if (result.exitCode === 2 || result.exitCode > 2) {
      throw new FarmControlError(`farm ${farmRef}: control not reachable: ${(result.stderr || result.stdout).trim()}`, true);
    }
    let body: unknown;
    try {
      body = JSON.parse(result.stdout);
    } catch {
      throw new FarmControlError(`farm ${farmRef}: control answered no JSON: ${result.stdout.slice(0, 200)}`, false);
    }
    if (result.exitCode === 1) throw new FarmControlError(`farm ${farmRef}: ${(body as { error?: string }).error ?? 'refused'}`, false);
    return body;
  }
}
