/**
 * The door to a node agent's fault control channel (node-image/src/faults/fault-control.ts): the
 * agent's own client, `fault-ctl`, run inside the node through its runtime (NodeRuntime.exec; on
 * Docker, an exec in the container). It never goes through the node's IPMI or Redfish, so no fault
 * rule can cut the orchestrator off from it.
 */
import { Injectable } from '@nestjs/common';
import { messageOf } from '../common/errors/message-of';
import { NodeRuntime } from '../runtime/node-runtime';
import { NodeNotFoundError } from '../runtime/runtime-errors';
import { FARM_CTL_ARGV } from '../farms/farm-spec';
import type { AgentFaultRule, AgentFaults } from './fault-report';

/** Where the node image keeps the client (node-image/Dockerfile). */
export const FAULT_CTL_ARGV = ['node', '/opt/bmcfleet/agent/faults/fault-ctl.js'] as const;

/**
 * Where a node's fault rules live: its runtime node's name, or for a BMC in a farm
 * `<farm runtime name>/<node name>` (the farm's own client, `farm-ctl faults <bmc> ...`, answers
 * as fault-ctl does). A runtime name never holds a "/".
 */
export function faultRefOf(node: { readonly name: string; readonly runtimeRef: string; readonly farm?: { readonly runtimeRef: string } | null }): string {
  return node.farm ? `${node.farm.runtimeRef}/${node.name}` : node.runtimeRef;
}

function argvOf(ref: string, args: readonly string[]): { ref: string; argv: string[] } {
  const at = ref.indexOf('/');
  if (at < 0) return { ref, argv: [...FAULT_CTL_ARGV, ...args] };
  return { ref: ref.slice(0, at), argv: [...FARM_CTL_ARGV, 'faults', ref.slice(at + 1), ...args] };
}
/** A farm's answer holds every BMC with rules: 64 rules of ~300 bytes each for thousands of BMCs at most. */
const EXEC_LIMITS = { timeoutMs: 20_000, maxOutputBytes: 64 * 1024 * 1024 };

/** Why a call failed: the agent refused (its message), the rule id is unknown, or the channel is out of reach. */
export class FaultControlError extends Error {
  constructor(readonly kind: 'refused' | 'not-found' | 'unreachable', message: string) {
    super(message);
    this.name = 'FaultControlError';
  }
}

@Injectable()
export class AgentFaultControl {
  constructor(private readonly runtime: NodeRuntime) {}

  /** `ref`: the node's runtime name (its row's runtimeRef). */
  list(ref: string): Promise<AgentFaults> {
    return this.call(ref, ['ls']) as Promise<AgentFaults>;
  }

  add(ref: string, rule: unknown): Promise<AgentFaultRule> {
    return this.call(ref, ['add', JSON.stringify(rule)]) as Promise<AgentFaultRule>;
  }

  /** The rules of every BMC of a farm that has some, in one call: `farmRef` is the farm's runtime name. */
  async listFarm(farmRef: string): Promise<Map<string, AgentFaults>> {
    const answer = (await this.run(farmRef, farmRef, [...FARM_CTL_ARGV, 'faults-all'])) as { bmcs?: Record<string, AgentFaults> };
    if (typeof answer.bmcs !== 'object' || answer.bmcs === null) throw new FaultControlError('unreachable', `the farm control of ${farmRef} answered no bmcs (an older node image?)`);
    return new Map(Object.entries(answer.bmcs));
  }

  async clear(ref: string, ruleId?: string): Promise<number> {
    const answer = (await this.call(ref, ruleId === undefined ? ['clear'] : ['clear', ruleId])) as { removed: number };
    return answer.removed;
  }

  private call(ref: string, args: string[]): Promise<unknown> {
    const target = argvOf(ref, args);
    return this.run(ref, target.ref, target.argv);
  }

  private async run(ref: string, runtimeRef: string, argv: string[]): Promise<unknown> {
    let result;
    try {
      result = await this.runtime.exec(runtimeRef, argv, EXEC_LIMITS);
    } catch (error) {
      const why = error instanceof NodeNotFoundError ? 'the node does not exist in its runtime' : messageOf(error);
      throw new FaultControlError('unreachable', `the fault control channel of ${ref} cannot be reached: ${why}`);
    }
    // fault-ctl: exit 0 with the answer, 1 when the agent refused (its answer still on stdout), 2 unreachable.
    if (result.exitCode !== 0 && result.exitCode !== 1) {
      const said = (result.stderr || result.stdout).trim().split('\n').slice(-1)[0] ?? '';
      throw new FaultControlError('unreachable', `the fault control channel of ${ref} cannot be reached (exit ${result.exitCode}): ${said}`);
    }
    let answer: unknown;
    try {
      answer = JSON.parse(result.stdout);
    } catch {
      throw new FaultControlError('unreachable', `the fault control channel of ${ref} answered something that is not JSON: ${result.stdout.slice(0, 200)}`);
    }
    if (result.exitCode === 1) {
      const message = typeof (answer as { error?: unknown }).error === 'string' ? (answer as { error: string }).error : 'refused';
      throw new FaultControlError(/^no fault rule /.test(message) ? 'not-found' : 'refused', message);
    }
    return answer;
  }
}
