/**
 * BMC_USERS_RESET_ID with the real agent process and ipmitool: a user made over IPMI survives a
 * restart with the same id, and is gone (only IPMI_USER / IPMI_PASS left) after a start with a new
 * id, as when a node is re-created on its kept disk for a new owner. MACHINE=sim. Needs ipmitool;
 * skipped loudly without it, failing under CI=true. The agent must be built (npm run build:agent).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent, type RunningAgent } from '../support/agent-process';
import { ipmitool } from '../support/ipmitool-runner';
import { describeWithTools, type RunResult } from '../support/tools';

jest.setTimeout(90_000);

const explain = (r: RunResult): string => `exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

describeWithTools(['ipmitool'])('BMC_USERS_RESET_ID (real agent, ipmitool)', () => {
  let stateDir: string;
  let agent: RunningAgent | undefined;

  beforeEach(() => { stateDir = mkdtempSync(join(tmpdir(), 'users-reset-int-')); });
  afterEach(async () => {
    await agent?.stop();
    agent = undefined;
    rmSync(stateDir, { recursive: true, force: true });
  });

  async function restart(env: Record<string, string>): Promise<RunningAgent> {
    await agent?.stop();
    agent = await startAgent({ IPMI_USER: 'admin', IPMI_PASS: 'first-owner', ...env }, { stateDir });
    return agent;
  }

  async function ok(port: number, args: string[], user = 'admin', password = 'first-owner'): Promise<void> {
    const r = await ipmitool(port, args, { user, password });
    if (r.status !== 0) throw new Error(`ipmitool ${args.join(' ')}: ${explain(r)}`);
  }

  it('keeps IPMI-made users for the same id and drops them for a new one', async () => {
    let a = await restart({ BMC_USERS_RESET_ID: 'owner-1' });
    await ok(a.port, ['user', 'set', 'name', '3', 'extra']);
    await ok(a.port, ['user', 'set', 'password', '3', 'extra-pw-1']);
    await ok(a.port, ['user', 'priv', '3', '4', '1']);
    await ok(a.port, ['user', 'enable', '3']);
    await ok(a.port, ['chassis', 'power', 'status'], 'extra', 'extra-pw-1');

    a = await restart({ BMC_USERS_RESET_ID: 'owner-1' });
    await ok(a.port, ['chassis', 'power', 'status'], 'extra', 'extra-pw-1');
    a = await restart({});
    await ok(a.port, ['chassis', 'power', 'status'], 'extra', 'extra-pw-1');

    a = await restart({ BMC_USERS_RESET_ID: 'owner-2', IPMI_USER: 'root', IPMI_PASS: 'second-owner' });
    expect(a.output()).toContain('BMC users reset to the configured administrator');
    const refused = await ipmitool(a.port, ['chassis', 'power', 'status'], { user: 'extra', password: 'extra-pw-1', timeoutMs: 30_000 });
    expect(refused.status).not.toBe(0);
    const oldAdmin = await ipmitool(a.port, ['chassis', 'power', 'status'], { user: 'admin', password: 'first-owner', timeoutMs: 30_000 });
    expect(oldAdmin.status).not.toBe(0);
    await ok(a.port, ['chassis', 'power', 'status'], 'root', 'second-owner');
  });
});
