/**
 * The agent's host consoles (MACHINE=sim, HTTPS on a free 127.0.0.1 port, the agent's certificate
 * verified): /console0 gives every viewer the history first and the same live output, takes typing
 * from Operator and Administrator users only (a ReadOnly user's typing closes its viewer with 4403
 * and a reason), keeps its viewers across a power cycle, and refuses an upgrade without valid
 * credentials or from a user locked out by wrong passwords (the IPMI lockout, shared with
 * ipmitool); the history reads back through Redfish (Manager log service SerialConsole, valid
 * against DMTF's schema); a simulated server has no graphical console or screen.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AGENT_MAIN } from '../support/agent-process';
import { describeWithTools } from '../support/tools';
import { ipmitool } from '../support/ipmitool-runner';
import { redfishCall, startRedfishAgent, type RedfishAgent } from '../support/redfish-http';
import { expectRedfishValid } from '../support/redfish-schema';
import { basicAuth, openConsole, refusedUpgrade, type ConsoleClient } from '../support/console-ws';

const REPO_ROOT = join(__dirname, '..', '..', '..');
const ADMIN = { user: 'admin', password: 'password' };
const VIEWER = { id: 3, user: 'viewer', password: 'viewpass1' };
const OPERATOR = { id: 4, user: 'oper', password: 'operpass1' };
const LOG = '/redfish/v1/Managers/1/LogServices/SerialConsole';

jest.setTimeout(120_000);

describeWithTools(['ipmitool'])('host consoles of the agent (MACHINE=sim)', () => {
  let rf: RedfishAgent;
  const open: ConsoleClient[] = [];
  const url = (path: string): string => `wss://127.0.0.1:${rf.redfishPort}${path}`;
  const consoleAs = async (who: { user: string; password: string }): Promise<ConsoleClient> => {
    const c = await openConsole({ url: url('/console0'), headers: basicAuth(who.user, who.password), ca: rf.ca });
    open.push(c);
    return c;
  };
  const ipmiOk = async (args: string[]): Promise<string> => {
    const r = await ipmitool(rf.agent.port, args);
    if (r.status !== 0) throw new Error(`ipmitool ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  };

  beforeAll(async () => {
    if (!existsSync(AGENT_MAIN)) execFileSync('npm', ['run', 'build:agent', '--silent'], { cwd: REPO_ROOT, stdio: 'inherit', timeout: 180_000 });
    rf = await startRedfishAgent();
    for (const u of [{ ...VIEWER, privilege: 2 }, { ...OPERATOR, privilege: 3 }]) {
      await ipmiOk(['user', 'set', 'name', String(u.id), u.user]);
      await ipmiOk(['user', 'set', 'password', String(u.id), u.password]);
      await ipmiOk(['user', 'priv', String(u.id), String(u.privilege), '1']);
      await ipmiOk(['user', 'enable', String(u.id)]);
    }
  });
  afterAll(async () => {
    for (const c of open) c.ws.terminate();
    await rf?.agent.stop();
  });

  it('refuses the upgrade without credentials, with a wrong password, and on an unknown path', async () => {
    expect((await refusedUpgrade({ url: url('/console0'), ca: rf.ca })).status).toBe(401);
    const wrong = await refusedUpgrade({ url: url('/console0'), headers: basicAuth('admin', 'nope'), ca: rf.ca });
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrong.body).error.code).toBe('Base.1.16.0.ResourceAtUriUnauthorized');
    expect((await refusedUpgrade({ url: url('/console0'), headers: { 'X-Auth-Token': 'f'.repeat(32) }, ca: rf.ca })).status).toBe(401);
    expect((await refusedUpgrade({ url: url('/console1'), headers: basicAuth(ADMIN.user, ADMIN.password), ca: rf.ca })).status).toBe(404);
  });

  it('locks a user out after 5 wrong passwords on the console upgrade, as IPMI does: the right one is then refused there and by ipmitool', async () => {
    const LOCKY = { id: 5, user: 'locky', password: 'locky-pw-1' };
    await ipmiOk(['user', 'set', 'name', String(LOCKY.id), LOCKY.user]);
    await ipmiOk(['user', 'set', 'password', String(LOCKY.id), LOCKY.password]);
    await ipmiOk(['user', 'priv', String(LOCKY.id), '2', '1']);
    await ipmiOk(['user', 'enable', String(LOCKY.id)]);
    expect((await ipmitool(rf.agent.port, ['-L', 'USER', 'power', 'status'], { user: LOCKY.user, password: LOCKY.password })).status).toBe(0);
    for (let attempt = 0; attempt < 5; attempt += 1) {
      expect((await refusedUpgrade({ url: url('/console0'), headers: basicAuth(LOCKY.user, `wrong-${attempt}`), ca: rf.ca })).status).toBe(401);
    }
    expect((await refusedUpgrade({ url: url('/console0'), headers: basicAuth(LOCKY.user, LOCKY.password), ca: rf.ca })).status).toBe(401);
    const ipmi = await ipmitool(rf.agent.port, ['-v', '-L', 'USER', 'power', 'status'], { user: LOCKY.user, password: LOCKY.password });
    expect(ipmi.status).toBe(1);
    expect(ipmi.stderr).toContain('RAKP 2 message indicates an error : unauthorized name');
    // The administrator re-enabling the user ends the lockout, for the console too.
    await ipmiOk(['user', 'disable', String(LOCKY.id)]);
    await ipmiOk(['user', 'enable', String(LOCKY.id)]);
    const after = await consoleAs(LOCKY);
    expect(after.ws.readyState).toBe(after.ws.OPEN);
  });

  it('gives every viewer the same output, and a later viewer the history first; typing reaches the guest', async () => {
    const first = await consoleAs(ADMIN);
    await ipmiOk(['chassis', 'power', 'on']);
    await first.waitFor(/login:|# $|#\s*$/m);
    await first.waitFor('#');
    // A viewer that comes later (and through a Redfish session token) starts with what the first one saw.
    const session = await redfishCall(rf, 'POST', '/redfish/v1/SessionService/Sessions', { body: { UserName: OPERATOR.user, Password: OPERATOR.password } });
    expect(session.status).toBe(201);
    const second = await openConsole({ url: url('/console0'), headers: { 'X-Auth-Token': String(session.headers['x-auth-token']) }, ca: rf.ca });
    open.push(second);
    const seenByFirst = first.received().toString('latin1');
    await second.waitFor(seenByFirst.slice(0, 200));
    expect(second.received().toString('latin1').startsWith(seenByFirst.slice(0, 200))).toBe(true);

    second.send('echo console-42\r');
    // The guest's answer is a line of its own (the echo of the typed command is not).
    await first.waitFor('\r\nconsole-42\r\n');
    await second.waitFor('\r\nconsole-42\r\n');
  });

  it('keeps its viewers through a power cycle and shows the new boot', async () => {
    const viewer = await consoleAs(ADMIN);
    const before = (viewer.received().toString('latin1').match(/Booting/g) ?? []).length;
    await ipmiOk(['chassis', 'power', 'cycle']);
    await viewer.waitFor(new RegExp(`(Booting[\\s\\S]*){${before + 1}}`));
    expect(viewer.ws.readyState).toBe(viewer.ws.OPEN);
  });

  it('refuses a ReadOnly user\'s typing with close code 4403 and a reason, after showing the history', async () => {
    const readOnly = await consoleAs(VIEWER);
    await readOnly.waitFor('\r\nconsole-42\r\n');
    readOnly.send('poweroff\r');
    const closed = await readOnly.closed;
    expect(closed.code).toBe(4403);
    expect(closed.reason).toBe('input refused: user viewer has the ReadOnly role; typing needs Operator or Administrator');
    expect(await ipmiOk(['chassis', 'power', 'status'])).toContain('Chassis Power is on');
  });

  it('serves the history as the Manager\'s SerialConsole log service, one entry per line, valid Redfish', async () => {
    const services = await redfishCall(rf, 'GET', '/redfish/v1/Managers/1/LogServices', { auth: ADMIN });
    expect(services.body.Members).toContainEqual({ '@odata.id': LOG });
    const service = await redfishCall(rf, 'GET', LOG, { auth: VIEWER });
    expect(service.status).toBe(200);
    await expectRedfishValid(service.body);
    const entries = await redfishCall(rf, 'GET', `${LOG}/Entries`, { auth: VIEWER });
    expect(entries.status).toBe(200);
    // Members come expanded (one request reads the history); the test's schema subset checks links, so each apart.
    const members = entries.body.Members as Array<{ '@odata.id': string; Message: string }>;
    await expectRedfishValid({ ...entries.body, Members: members.map((m) => ({ '@odata.id': m['@odata.id'] })) });
    for (const m of members.slice(0, 5)) await expectRedfishValid(m);
    const messages = members.map((m) => m.Message);
    expect(messages).toContain('console-42');
    expect(entries.body['Members@odata.count']).toBe(messages.length);
    const one = await redfishCall(rf, 'GET', `${LOG}/Entries/1`, { auth: VIEWER });
    await expectRedfishValid(one.body);
    expect(one.body.Message).toBe(messages[0]);
    // Far past the end: the running machine may have written another line since the list was read.
    expect((await redfishCall(rf, 'GET', `${LOG}/Entries/${messages.length + 100_000}`, { auth: VIEWER })).status).toBe(404);
    expect((await redfishCall(rf, 'GET', LOG)).status).toBe(401);
  });

  it('has no graphical console and no screen: 404 with a reason, for a ReadOnly user too', async () => {
    const kvm = await refusedUpgrade({ url: url('/kvm/0'), headers: basicAuth(ADMIN.user, ADMIN.password), ca: rf.ca });
    expect(kvm.status).toBe(404);
    expect(kvm.body).toContain('no graphical console');
    expect((await refusedUpgrade({ url: url('/kvm/0'), headers: basicAuth(VIEWER.user, VIEWER.password), ca: rf.ca })).status).toBe(404);
    const shot = await redfishCall(rf, 'GET', '/kvm/0/screenshot.png', { auth: ADMIN });
    expect(shot.status).toBe(404);
    expect(shot.body.error.message).toContain('no screen');
    expect((await redfishCall(rf, 'GET', '/kvm/0/screenshot.png?width=3', { auth: ADMIN })).status).toBe(400);
    expect((await redfishCall(rf, 'GET', '/kvm/0/screenshot.png')).status).toBe(401);
  });
});
