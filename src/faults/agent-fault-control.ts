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
import type { AgentFaultRule, AgentFaults } from './fault-report';

/** Where the node image keeps the client (node-image/Dockerfile). */
export const FAULT_CTL_ARGV = ['node', '/opt/bmcfleet/agent/faults/fault-ctl.js'] as const;
const EXEC_LIMITS = { timeoutMs: 20_000, maxOutputBytes: 256 * 1024 };

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

  async clear(ref: string, ruleId?: string): Promise<number> {
    const answer = (await this.call(ref, ruleId === undefined ? ['clear'] : ['clear', ruleId])) as { removed: number };
    return answer.removed;
  }

  private async call(ref: string, args: string[]): Promise<unknown> {
    let result;
    try {
      result = await this.runtime.exec(ref, [...FAULT_CTL_ARGV, ...args], EXEC_LIMITS);
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
