/**
 * The agent's Redfish service (MACHINE=sim, HTTPS on a free 127.0.0.1 port, its generated
 * certificate verified by every client) against real clients: sushy (OpenStack Ironic's library,
 * Debian's python3-sushy under /usr/bin/python3 with REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE removed, as
 * they would override its verify setting) with Basic and session auth; ipmitool on the same BMC,
 * both ways; redfishtool (Basic and Session) and sushycli; every resource reachable from /redfish/v1
 * validated against DMTF's JSON Schema.
 */
import { execFileSync } from 'node:child_process';
import { connect } from 'node:net';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AGENT_MAIN } from '../support/agent-process';
import { describeWithTools, run } from '../support/tools';
import { ipmitool, pollUntil } from '../support/ipmitool-runner';
import { redfishCall, startRedfishAgent, type RedfishAgent, type CallOptions } from '../support/redfish-http';
import { expectRedfishValid } from '../support/redfish-schema';
import { crawlRedfish } from '../support/redfish-crawl';

const REPO_ROOT = join(__dirname, '..', '..', '..');
const SUSHY_DRIVER = join(__dirname, 'redfish-sushy-driver.py');
const ADMIN = { user: 'admin', password: 'password' };
const SYSTEM = '/redfish/v1/Systems/1';
const RESET = `${SYSTEM}/Actions/ComputerSystem.Reset`;

jest.setTimeout(120_000);

function ensureBuilt(): void {
  if (!existsSync(AGENT_MAIN)) execFileSync('npm', ['run', 'build:agent', '--silent'], { cwd: REPO_ROOT, stdio: 'inherit', timeout: 180_000 });
}

/** python3-sushy as Debian ships it; missing → skipped loudly, or failed under CI=true. */
function describeWithSushy(): jest.Describe {
  const ok = run('/usr/bin/python3', ['-c', 'import sushy, requests']).status === 0;
  if (ok) return describeWithTools(['ipmitool', 'redfishtool', 'sushycli']);
  const msg = 'MISSING CLIENT python3-sushy (/usr/bin/python3 -c "import sushy"): Redfish client tests are SKIPPED. Run scripts/setup.sh to install it.';
  if (process.env.CI === 'true') throw new Error(`${msg} (CI=true: failing instead of skipping)`);
  process.stderr.write(`\n!!! ${msg}\n\n`);
  return describe.skip;
}

describeWithSushy()('Redfish service of the agent', () => {
  let rf: RedfishAgent;
  const call = (method: string, path: string, opts: CallOptions = {}) => redfishCall(rf, method, path, { auth: ADMIN, ...opts });
  const ipmi = (args: string[], opts: { user?: string; password?: string } = {}) => ipmitool(rf.agent.port, args, opts);
  const boot = async () => {
    const b = (await call('GET', SYSTEM)).body.Boot;
    return [b.BootSourceOverrideTarget, b.BootSourceOverrideEnabled, b.BootSourceOverrideMode];
  };
  const redfishPower = async (): Promise<string> => (await call('GET', SYSTEM)).body.PowerState as string;

  beforeAll(async () => {
    ensureBuilt();
    rf = await startRedfishAgent();
  });
  afterAll(async () => { await rf?.agent.stop(); });

  it('answers the service root without credentials, refuses the rest without them, and never speaks plain HTTP', async () => {
    const root = await redfishCall(rf, 'GET', '/redfish/v1/');
    expect(root.status).toBe(200);
    expect(root.headers['odata-version']).toBe('4.0');
    expect(root.body.Links.Sessions['@odata.id']).toBe('/redfish/v1/SessionService/Sessions');
    const [major, minor] = String(root.body.RedfishVersion).split('.').map(Number);
    expect(major === 1 && minor! >= 6).toBe(true);
    expect((await redfishCall(rf, 'GET', '/redfish')).body).toEqual({ v1: '/redfish/v1/' });
    const refused = await redfishCall(rf, 'GET', '/redfish/v1/Systems');
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toMatch(/^Basic/);
    await expectRedfishValid(refused.body);

    // Plain HTTP to the HTTPS port: the TLS layer drops it; no HTTP answer ever comes back.
    const reply = await new Promise<string>((resolve) => {
      const s = connect(rf.redfishPort, '127.0.0.1', () => s.write('GET /redfish/v1 HTTP/1.1\r\nHost: x\r\n\r\n'));
      let got = '';
      s.on('data', (d: Buffer) => { got += d.toString('latin1'); });
      s.on('close', () => resolve(got));
      s.on('error', () => resolve(got));
      s.setTimeout(5_000, () => s.destroy());
    });
    expect(reply).not.toMatch(/HTTP\/1\.[01]/);
  });

  it('every resource reachable from /redfish/v1 answers 200 and matches DMTF JSON Schema, with no empty links', async () => {
    // A subscription and a task exist, so that their resources are crawled too (ForceOff while off changes nothing).
    const sub = await call('POST', '/redfish/v1/EventService/Subscriptions', { body: { Destination: 'https://192.0.2.10/events', Protocol: 'Redfish', Context: 'crawl' } });
    expect(sub.status).toBe(201);
    const task = await call('POST', RESET, { body: { ResetType: 'ForceOff' }, headers: { Prefer: 'respond-async' } });
    expect(task.status).toBe(202);
    const { seen, problems } = await crawlRedfish((path) => call('GET', path));
    expect(problems).toEqual([]);
    expect(seen).toEqual(expect.arrayContaining([SYSTEM, '/redfish/v1/Managers/1', '/redfish/v1/Chassis/1', '/redfish/v1/Managers/1/LogServices/SEL/Entries/1', '/redfish/v1/AccountService/Roles/ReadOnly',
      `${SYSTEM}/EthernetInterfaces/eth0`, `${SYSTEM}/Processors/CPU1`, `${SYSTEM}/Memory/DIMM1`, `${SYSTEM}/Storage/1/Drives/Disk0`, `${SYSTEM}/Storage/1/Drives/CD0`,
      `${SYSTEM}/SimpleStorage/1`, `${SYSTEM}/Bios`, `${SYSTEM}/Bios/Settings`, `${SYSTEM}/SecureBoot`, '/redfish/v1/Chassis/1/Thermal', '/redfish/v1/Chassis/1/Power',
      '/redfish/v1/Managers/1/NetworkProtocol', '/redfish/v1/Systems/1/VirtualMedia/Cd', '/redfish/v1/Managers/1/VirtualMedia/UsbStick',
      '/redfish/v1/EventService', String(sub.headers.location), '/redfish/v1/TaskService', `/redfish/v1/TaskService/Tasks/${task.body.Id}`]));
    expect((await call('DELETE', String(sub.headers.location))).status).toBe(204);
  });

  it.each(['basic', 'session'])('sushy (%s auth) reads the system, powers it off, on and through a cycle, and sets boot device and mode that read back at once', async (mode) => {
    const r = run('env', ['-u', 'REQUESTS_CA_BUNDLE', '-u', 'CURL_CA_BUNDLE', '/usr/bin/python3', SUSHY_DRIVER, `https://127.0.0.1:${rf.redfishPort}`, rf.caFile, ADMIN.user, ADMIN.password, mode], { timeoutMs: 90_000 });
    if (r.status !== 0) throw new Error(`sushy driver failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out).toMatchObject({
      members: [SYSTEM], managers: ['1'], memory_gib: 2, off: true, on: true, cycled_on: true, nmi: 'accepted',
      reset_types: ['ForceOff', 'ForceOn', 'ForceRestart', 'GracefulRestart', 'GracefulShutdown', 'Nmi', 'On', 'PowerCycle'],
      pxe_once: ['Pxe', 'Once', 'Legacy'],
      cd_continuous: ['Cd', 'Continuous', 'Legacy'],
      uefi: ['Cd', 'Continuous', 'UEFI'],
      legacy: ['Cd', 'Continuous', 'Legacy'],
      hdd_once: ['Hdd', 'Once', 'Legacy'],
    });
    expect(out.manager_firmware).toMatch(/^\d+\.\d+$/);
    if (mode === 'session') expect(out).toMatchObject({ deleted_status: 204, relogin: true, power_after_relogin: 'On' });
    // The power cycle and the power transitions are in the SEL that both protocols read.
    const entries = (await call('GET', '/redfish/v1/Managers/1/LogServices/SEL/Entries')).body.Members.length;
    expect(entries).toBeGreaterThanOrEqual(4);
    expect((await ipmi(['sel', 'list'])).stdout).toMatch(/Power cycle/);
  });

  it('redfishtool (-S Always, Basic and Session) sets a boot override and resets; sushycli powers off and lists the system and manager', async () => {
    const rt = (auth: string, args: string[]) => run('redfishtool', ['-r', `127.0.0.1:${rf.redfishPort}`, '-u', ADMIN.user, '-p', ADMIN.password, '-S', 'Always', '-A', auth, ...args], { timeoutMs: 30_000 });
    for (const [auth, target] of [['Basic', 'Pxe'], ['Session', 'Hdd']] as const) {
      const r = rt(auth, ['Systems', '-I', '1', 'setBootOverride', 'Continuous', target]);
      expect([auth, r.status, r.stderr]).toEqual([auth, 0, '']);
      expect(await boot()).toEqual([target, 'Continuous', 'Legacy']);
    }
    expect(rt('Session', ['Systems', '-I', '1', 'reset', 'On']).status).toBe(0);
    expect(await pollUntil(redfishPower, (s) => s === 'On', { attempts: 100, timeoutMs: 15_000 })).toBe('On');
    // After the session run, redfishtool deleted its session: only sessions of other clients remain.
    const sessions = (await call('GET', '/redfish/v1/SessionService/Sessions')).body.Members.length;
    expect(sessions).toBe(0);

    const sushycli = (args: string[]) => run('env', ['-u', 'REQUESTS_CA_BUNDLE', '-u', 'CURL_CA_BUNDLE', 'sushycli', ...args, '--username', ADMIN.user, '--password', ADMIN.password,
      '--service-endpoint', `https://127.0.0.1:${rf.redfishPort}`, '--tls-certificates', rf.caFile], { timeoutMs: 30_000 });
    // (sushycli 0.4.0's "system boot set" passes plain strings that Debian's sushy 4.3.3 rejects before
    // sending anything, whatever the BMC: its boot command is not usable with this pair of packages.)
    const off = sushycli(['system', 'power', 'off', '--system-id', SYSTEM]);
    expect([off.status, off.stderr]).toEqual([0, '']);
    expect(await pollUntil(redfishPower, (s) => s === 'Off', { attempts: 100, timeoutMs: 15_000 })).toBe('Off');
    expect(sushycli(['system', 'inventory', 'show', '--system-id', SYSTEM]).stdout).toMatch(/\| 1\s+\| \S+\s+\| None\s+\| bmcfleet /);
    expect(sushycli(['manager', 'list']).stdout).toContain('/redfish/v1/Managers/1');
  });

  it('replays MAAS\'s and bmclib\'s request shapes: hard-coded paths, PATCH and action POSTs with If-Match from @odata.etag, the whole Boot sent back', async () => {
    // MAAS (provisioningserver/drivers/power/redfish.py): Basic only, Members[0]'s basename, PXE once then On.
    const members = (await call('GET', '/redfish/v1/Systems')).body.Members;
    const nodeId = String(members[0]['@odata.id']).split('/').pop();
    const sys = await call('GET', `/redfish/v1/Systems/${nodeId}`);
    const maasPatch = await call('PATCH', `/redfish/v1/Systems/${nodeId}`, {
      headers: { 'If-Match': sys.body['@odata.etag'] }, body: { Boot: { BootSourceOverrideEnabled: 'Once', BootSourceOverrideTarget: 'Pxe' } },
    });
    expect(maasPatch.status).toBe(200);
    expect((await call('POST', `/redfish/v1/Systems/${nodeId}/Actions/ComputerSystem.Reset`, { body: { ResetType: 'On' } })).status).toBe(204);
    expect(await pollUntil(redfishPower, (s) => s === 'On', { attempts: 100, timeoutMs: 15_000 })).toBe('On');

    // bmclib via gofish: session from Links.Sessions (Location required), whole Boot PATCHed back with
    // its annotations, If-Match on the Reset POST, DELETE of the session at the end.
    const root = (await redfishCall(rf, 'GET', '/redfish/v1/')).body;
    const login = await redfishCall(rf, 'POST', root.Links.Sessions['@odata.id'], { body: { UserName: ADMIN.user, Password: ADMIN.password } });
    const token = { token: login.headers['x-auth-token'] as string };
    const current = await redfishCall(rf, 'GET', SYSTEM, { auth: token });
    const wholeBoot = { ...current.body.Boot, BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Continuous', BootSourceOverrideMode: 'Legacy' };
    const patched = await redfishCall(rf, 'PATCH', SYSTEM, { auth: token, headers: { 'If-Match': current.body['@odata.etag'] }, body: { Boot: wholeBoot } });
    expect(patched.status).toBe(200);
    expect(await boot()).toEqual(['Pxe', 'Continuous', 'Legacy']);
    const fresh = await redfishCall(rf, 'GET', SYSTEM, { auth: token });
    expect((await redfishCall(rf, 'POST', RESET, { auth: token, headers: { 'If-Match': fresh.body['@odata.etag'] }, body: { ResetType: 'PowerCycle' } })).status).toBe(204);
    expect((await redfishCall(rf, 'DELETE', login.headers.location as string, { auth: token })).status).toBe(204);
  });

  it('a boot override or power change made with ipmitool reads back through Redfish, and the reverse', async () => {
    const fromIpmi: Array<[string[], string[]]> = [
      [['chassis', 'bootdev', 'pxe', 'options=efiboot'], ['Pxe', 'Once', 'UEFI']],
      [['chassis', 'bootdev', 'disk', 'options=persistent'], ['Hdd', 'Continuous', 'Legacy']],
      [['chassis', 'bootdev', 'cdrom'], ['Cd', 'Once', 'Legacy']],
      [['chassis', 'bootdev', 'bios', 'options=efiboot,persistent'], ['BiosSetup', 'Continuous', 'UEFI']],
      // Floppy/primary removable media: the virtual media USB stick.
      [['chassis', 'bootdev', 'floppy'], ['Usb', 'Once', 'Legacy']],
      // "No override" with the valid bit set: the next boot uses the default device (and clears it).
      [['chassis', 'bootdev', 'none'], ['None', 'Once', 'Legacy']],
    ];
    for (const [args, expected] of fromIpmi) {
      expect((await ipmi(args)).status).toBe(0);
      expect([args.join(' '), await boot()]).toEqual([args.join(' '), expected]);
    }
    const fromRedfish: Array<[Record<string, string>, RegExp[]]> = [
      [{ BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Once', BootSourceOverrideMode: 'UEFI' }, [/Boot Flag Valid/, /only next boot/, /BIOS EFI boot/, /Force PXE/]],
      [{ BootSourceOverrideTarget: 'Hdd', BootSourceOverrideEnabled: 'Continuous', BootSourceOverrideMode: 'Legacy' }, [/Boot Flag Valid/, /all future boots/, /legacy\) boot/, /default Hard-Drive/]],
      [{ BootSourceOverrideTarget: 'Cd', BootSourceOverrideEnabled: 'Once' }, [/Boot Flag Valid/, /only next boot/, /CD\/DVD/]],
      [{ BootSourceOverrideTarget: 'Usb', BootSourceOverrideEnabled: 'Continuous', BootSourceOverrideMode: 'UEFI' }, [/Boot Flag Valid/, /all future boots/, /BIOS EFI boot/, /Floppy\/primary removable media/]],
      [{ BootSourceOverrideEnabled: 'Disabled' }, [/Boot Flag Invalid/]],
    ];
    for (const [patch, patterns] of fromRedfish) {
      expect((await call('PATCH', SYSTEM, { body: { Boot: patch } })).status).toBe(200);
      const text = (await ipmi(['chassis', 'bootparam', 'get', '5'])).stdout;
      for (const p of patterns) expect([JSON.stringify(patch), text]).toEqual([JSON.stringify(patch), expect.stringMatching(p)]);
    }

    const ipmiPower = async () => (await ipmi(['power', 'status'])).stdout.trim();
    expect((await ipmi(['power', 'off'])).status).toBe(0);
    expect(await pollUntil(redfishPower, (s) => s === 'Off', { attempts: 100, timeoutMs: 15_000 })).toBe('Off');
    expect((await ipmi(['power', 'on'])).status).toBe(0);
    expect(await pollUntil(redfishPower, (s) => s === 'On', { attempts: 100, timeoutMs: 15_000 })).toBe('On');
    expect((await call('POST', RESET, { body: { ResetType: 'ForceOff' } })).status).toBe(204);
    expect(await pollUntil(ipmiPower, (s) => s === 'Chassis Power is off', { attempts: 100, timeoutMs: 15_000 })).toBe('Chassis Power is off');
    expect((await call('POST', RESET, { body: { ResetType: 'On' } })).status).toBe(204);
    expect(await pollUntil(ipmiPower, (s) => s === 'Chassis Power is on', { attempts: 100, timeoutMs: 15_000 })).toBe('Chassis Power is on');
    // The Redfish power-on is a restart by command, as Get System Restart Cause reports it.
    expect((await ipmi(['chassis', 'restart_cause'])).stdout).toMatch(/chassis power control command/);
  });

  it('answers bad input with Redfish errors naming the problem, and stays up', async () => {
    const etag = (await call('GET', SYSTEM)).headers.etag as string;
    const cases: Array<[string, string, CallOptions, number, string]> = [
      ['stale If-Match', 'PATCH', { body: { Boot: { BootSourceOverrideTarget: 'Pxe' } }, headers: { 'If-Match': 'W/"0000000000000000"' } }, 412, 'PreconditionFailed'],
      ['unknown ResetType', 'POST', { body: { ResetType: 'Explode' } }, 400, 'ActionParameterNotSupported'],
      ['missing ResetType', 'POST', { body: {} }, 400, 'ActionParameterMissing'],
      ['malformed JSON', 'PATCH', { rawBody: '{"Boot": ' }, 400, 'MalformedJSON'],
      ['wrong type', 'PATCH', { body: { Boot: { BootSourceOverrideTarget: 5 } } }, 400, 'PropertyValueTypeError'],
      ['target not allowed', 'PATCH', { body: { Boot: { BootSourceOverrideTarget: 'Floppy' } } }, 400, 'PropertyValueNotInList'],
      ['read-only property changed', 'PATCH', { body: { PowerState: 'Off' } }, 400, 'PropertyNotWritable'],
      ['unknown property', 'PATCH', { body: { Bogus: 1 } }, 400, 'PropertyUnknown'],
      ['a body over 1 MiB', 'PATCH', { rawBody: `{"x":"${'a'.repeat(2 * 1024 * 1024)}"}` }, 413, 'RequestBodyTooLarge'],
      ['wrong password', 'GET', { auth: { user: 'admin', password: 'wrong' } }, 401, 'ResourceAtUriUnauthorized'],
      ['unknown token', 'GET', { auth: { token: '0'.repeat(32) } }, 401, 'NoValidSession'],
    ];
    for (const [what, method, opts, status, id] of cases) {
      const r = await call(method, method === 'POST' ? RESET : SYSTEM, opts);
      expect([what, r.status, r.body?.error?.code]).toEqual([what, status, `Base.1.16.0.${id}`]);
      await expectRedfishValid(r.body);
    }
    expect((await call('PATCH', SYSTEM, { body: { Boot: { BootSourceOverrideTarget: 'Pxe' } }, headers: { 'If-Match': etag } })).status).toBe(200);
    expect((await call('GET', '/redfish/v1/Nowhere')).status).toBe(404);
    expect((await call('DELETE', SYSTEM)).status).toBe(405);
    expect((await redfishCall(rf, 'GET', '/redfish/v1')).status).toBe(200);
  });

  it('sessions: 201 with X-Auth-Token and Location, the token works, DELETE ends it', async () => {
    const created = await redfishCall(rf, 'POST', '/redfish/v1/SessionService/Sessions', { body: { UserName: 'admin', Password: 'password' } });
    expect(created.status).toBe(201);
    const token = created.headers['x-auth-token'] as string;
    const location = created.headers.location as string;
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    expect(location).toMatch(/^\/redfish\/v1\/SessionService\/Sessions\/[0-9a-f]+$/);
    await expectRedfishValid(created.body);
    expect((await redfishCall(rf, 'GET', SYSTEM, { auth: { token } })).status).toBe(200);
    expect((await redfishCall(rf, 'DELETE', location, { auth: { token } })).status).toBe(204);
    expect((await redfishCall(rf, 'GET', SYSTEM, { auth: { token } })).status).toBe(401);
  });

  it('a user made with ipmitool logs in to Redfish with its role; five wrong Redfish passwords lock it out of IPMI too', async () => {
    for (const args of [['user', 'set', 'name', '5', 'oper'], ['user', 'set', 'password', '5', 'operpass'], ['user', 'priv', '5', '3', '1'], ['user', 'enable', '5']]) {
      expect((await ipmi(args)).status).toBe(0);
    }
    const oper = { user: 'oper', password: 'operpass' };
    const account = await redfishCall(rf, 'GET', '/redfish/v1/AccountService/Accounts/5', { auth: oper });
    expect([account.status, account.body.RoleId, account.body.UserName]).toEqual([200, 'Operator', 'oper']);
    expect((await redfishCall(rf, 'POST', RESET, { auth: oper, body: { ResetType: 'On' } })).status).toBe(204);
    // An operator may not read other users' accounts.
    expect((await redfishCall(rf, 'GET', '/redfish/v1/AccountService/Accounts/2', { auth: oper })).status).toBe(404);

    expect((await ipmi(['user', 'priv', '5', '2', '1'])).status).toBe(0);
    const readOnly = await redfishCall(rf, 'POST', RESET, { auth: oper, body: { ResetType: 'On' } });
    expect([readOnly.status, readOnly.body.error.code]).toEqual([403, 'Base.1.16.0.InsufficientPrivilege']);

    for (let i = 0; i < 5; i++) expect((await redfishCall(rf, 'GET', SYSTEM, { auth: { user: 'oper', password: 'nope' } })).status).toBe(401);
    expect((await redfishCall(rf, 'GET', SYSTEM, { auth: oper })).status).toBe(401);
    const locked = await ipmi(['power', 'status'], oper);
    expect(locked.status).not.toBe(0);
  });
});
