/**
 * The fault-ctl client (the one the orchestrator runs in a node) driven from integration tests
 * against an agent running on the host: rules added and read through the agent's control socket.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AGENT_MAIN, type RunningAgent } from './agent-process';
import { run } from './tools';

const REPO_ROOT = join(__dirname, '..', '..', '..');
export const FAULT_CTL = join(__dirname, '..', '..', 'dist', 'faults', 'fault-ctl.js');

/** Builds the agent (and fault-ctl with it) when either is missing. */
export function ensureAgentAndFaultCtlBuilt(): void {
  if (!existsSync(AGENT_MAIN) || !existsSync(FAULT_CTL)) execFileSync('npm', ['run', 'build:agent', '--silent'], { cwd: REPO_ROOT, stdio: 'inherit', timeout: 180_000 });
}

export interface RuleView { id: string; matches: number; applied: number }

/** Runs fault-ctl against `agent`'s control socket; its JSON answer, or an error naming the output. */
export function faultCtl(agent: RunningAgent, args: string[]): any {
  const r = run(process.execPath, [FAULT_CTL, ...args], { env: { PATH: process.env.PATH ?? '', BMC_STATE_DIR: agent.stateDir } });
  if (r.status !== 0) throw new Error(`fault-ctl ${args.join(' ')} failed (${r.status}): ${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout);
}

export const addRule = (agent: RunningAgent, rule: unknown): RuleView => faultCtl(agent, ['add', JSON.stringify(rule)]);
export const ruleNow = (agent: RunningAgent, id: string): RuleView => (faultCtl(agent, ['ls']).rules as RuleView[]).find((r) => r.id === id)!;
