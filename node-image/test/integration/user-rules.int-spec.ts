/**
 * The account rules every protocol shares (core/accounts.ts), seen through the real ipmitool 1.8.19
 * and the Redfish AccountService of the same agent process (MACHINE=sim):
 * - the password policy: IPMI Set User Password refuses a password shorter than the
 *   MinPasswordLength the AccountService advertises (0xCC, invalid data field);
 * - the last enabled administrator can be neither disabled (Set User Password "disable user") nor
 *   demoted (Set User Access) over IPMI (0xD5, not supported in present state), as Redfish refuses it.
 * Needs ipmitool; skipped loudly without it, failing under CI=true. Builds the agent if needed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AGENT_MAIN } from '../support/agent-process';
import { completionCodes, ipmitool } from '../support/ipmitool-runner';
import { redfishCall, startRedfishAgent, type RedfishAgent } from '../support/redfish-http';
import { describeWithTools, type RunResult } from '../support/tools';

const REPO_ROOT = join(__dirname, '..', '..', '..');
const BUILD_TIMEOUT_MS = 180_000;
const APP = 0x06;
const SET_USER_ACCESS = 0x43;
const SET_USER_PASSWORD = 0x47;
const ADMIN = { user: 'admin', password: 'admin-pass-1' };

jest.setTimeout(60_000);

const explain = (r: RunResult): string => `exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

describeWithTools(['ipmitool'])('one account policy for IPMI and Redfish (real agent, ipmitool)', () => {
  let rf: RedfishAgent | undefined;
  const ipmi = (args: string[], as = ADMIN): Promise<RunResult> => ipmitool(rf!.agent.port, args, as);
  const ok = async (args: string[], as = ADMIN): Promise<RunResult> => {
    const r = await ipmi(args, as);
    if (r.status !== 0) throw new Error(`ipmitool ${args.join(' ')}: ${explain(r)}`);
    return r;
  };
  const account = async (id: number, as: { user: string; password: string } = ADMIN): Promise<any> =>
    (await redfishCall(rf!, 'GET', `/redfish/v1/AccountService/Accounts/${id}`, { auth: as })).body;

  beforeAll(async () => {
    if (!existsSync(AGENT_MAIN)) execFileSync('npm', ['run', 'build:agent', '--silent'], { cwd: REPO_ROOT, stdio: 'inherit', timeout: BUILD_TIMEOUT_MS });
    rf = await startRedfishAgent({ IPMI_USER: ADMIN.user, IPMI_PASS: ADMIN.password });
  }, BUILD_TIMEOUT_MS + 30_000);

  afterAll(async () => {
    await rf?.agent.stop();
  });

  it('Set User Password refuses one character less than the advertised MinPasswordLength and accepts exactly it', async () => {
    const service = await redfishCall(rf!, 'GET', '/redfish/v1/AccountService', { auth: ADMIN });
    const min = service.body.MinPasswordLength as number;
    expect(min).toBeGreaterThan(1);
    await ok(['user', 'set', 'name', '3', 'oper3']);

    const short = await ipmi(['-vvv', 'user', 'set', 'password', '3', 'x'.repeat(min - 1)]);
    expect(short.status).not.toBe(0);
    expect(short.stderr).toContain('Invalid data field in request');
    expect(completionCodes(short.stderr, APP, SET_USER_PASSWORD)).toEqual([0xcc]);

    expect((await ok(['user', 'set', 'password', '3', 'y'.repeat(min)])).stdout).toContain('Set User Password command successful (user 3)');
    await ok(['user', 'priv', '3', '3', '1']);
    await ok(['user', 'enable', '3']);
    // The password that was accepted is the one that logs in; the refused one never took effect.
    expect((await ok(['-L', 'OPERATOR', 'power', 'status'], { user: 'oper3', password: 'y'.repeat(min) })).stdout).toContain('Chassis Power is');
    expect((await ipmi(['-L', 'OPERATOR', 'power', 'status'], { user: 'oper3', password: 'x'.repeat(min - 1) })).status).not.toBe(0);
  });

  it('user disable and user priv refuse to take away the only enabled administrator (0xD5); with a second one they work', async () => {
    const disable = await ipmi(['-vvv', 'user', 'disable', '2']);
    expect(disable.status).not.toBe(0);
    expect(completionCodes(disable.stderr, APP, SET_USER_PASSWORD)).toEqual([0xd5]);
    expect(disable.stderr).toContain('Command not supported in present state');

    const demote = await ipmi(['-vvv', 'user', 'priv', '2', '3', '1']);
    expect(demote.status).not.toBe(0);
    expect(completionCodes(demote.stderr, APP, SET_USER_ACCESS)).toEqual([0xd5]);

    // Unchanged on both protocols.
    expect(await account(2)).toMatchObject({ UserName: 'admin', Enabled: true, RoleId: 'Administrator' });
    expect((await ok(['user', 'list', '1'])).stdout).toMatch(/^2\s+admin\s+.*ADMINISTRATOR\s*$/m);

    // A second administrator made over Redfish lifts the rule for the first one.
    const made = await redfishCall(rf!, 'POST', '/redfish/v1/AccountService/Accounts', { auth: ADMIN, body: { UserName: 'admin2', Password: 'admin2-pass', RoleId: 'Administrator' } });
    expect(made.status).toBe(201);
    const id = Number(String(made.body.Id));
    await ok(['user', 'priv', '2', '3', '1']);
    expect(await account(2)).toMatchObject({ RoleId: 'Operator' });
    // Now admin2 is the last one: refused for it over IPMI too.
    const admin2 = { user: 'admin2', password: 'admin2-pass' };
    const last = await ipmi(['-vvv', 'user', 'disable', String(id)], admin2);
    expect(completionCodes(last.stderr, APP, SET_USER_PASSWORD)).toEqual([0xd5]);
    expect(await account(id, admin2)).toMatchObject({ Enabled: true, RoleId: 'Administrator' });
  });
});
