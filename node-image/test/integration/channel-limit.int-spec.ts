/**
 * Set Channel Access (IPMI v2.0 section 22.22) lowering the channel privilege limit acts on a live
 * session: ipmitool's `exec` runs a command file in one session, so the session that lowered the limit
 * to OPERATOR is then refused an Administrator command (0xD4). The real ipmitool 1.8.19 against the
 * real agent process (MACHINE=sim). Skipped loudly without ipmitool, failing under CI=true.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_MAIN, startAgent, type RunningAgent } from '../support/agent-process';
import { completionCodes, ipmitool } from '../support/ipmitool-runner';
import { describeWithTools } from '../support/tools';

const REPO_ROOT = join(__dirname, '..', '..', '..');
const BUILD_TIMEOUT_MS = 180_000;
const APP = 0x06;
const SET_USER_NAME = 0x45;

jest.setTimeout(60_000);

describeWithTools(['ipmitool'])('Set Channel Access on a live session (real agent, ipmitool exec)', () => {
  let agent: RunningAgent | undefined;
  let dir: string;

  beforeAll(async () => {
    if (!existsSync(AGENT_MAIN)) execFileSync('npm', ['run', 'build:agent', '--silent'], { cwd: REPO_ROOT, stdio: 'inherit', timeout: BUILD_TIMEOUT_MS });
    dir = mkdtempSync(join(tmpdir(), 'channel-limit-int-'));
    agent = await startAgent({ DEBUG: 'true' });
  }, BUILD_TIMEOUT_MS + 30_000);

  afterAll(async () => {
    await agent?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the administrator session that lowered the limit to OPERATOR gets 0xD4 for Set User Name; a new OPERATOR session too', async () => {
    const before = join(dir, 'before.txt');
    writeFileSync(before, 'user set name 7 first\n');
    const ok = await ipmitool(agent!.port, ['-vvv', 'exec', before]);
    expect(completionCodes(ok.stderr, APP, SET_USER_NAME)).toEqual([0x00]);

    const file = join(dir, 'lower.txt');
    // Channel 1, access byte untouched, volatile privilege limit (bits 7:6 = 10b) OPERATOR (3).
    writeFileSync(file, 'raw 0x06 0x40 0x01 0x00 0x83\nuser set name 7 second\n');
    const r = await ipmitool(agent!.port, ['-vvv', 'exec', file]);
    expect(completionCodes(r.stderr, APP, 0x40)).toEqual([0x00]);
    expect(completionCodes(r.stderr, APP, SET_USER_NAME)).toEqual([0xd4]);
    expect(agent!.output()).toContain('"msg":"session privilege lowered"');

    // New sessions cannot ask for ADMINISTRATOR any more; as OPERATOR they read but do not configure users.
    const admin = await ipmitool(agent!.port, ['power', 'status']);
    expect(admin.status).not.toBe(0);
    const oper = await ipmitool(agent!.port, ['-L', 'OPERATOR', '-vvv', 'user', 'set', 'name', '7', 'third']);
    expect(completionCodes(oper.stderr, APP, SET_USER_NAME)).toEqual([0xd4]);
    expect((await ipmitool(agent!.port, ['-L', 'OPERATOR', 'user', 'list', '1'])).stdout).toMatch(/^7\s+first\s/m);
  });
});
