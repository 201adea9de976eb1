/**
 * Node containers as the orchestrator makes them now, end to end with the real orchestrator process,
 * Docker and ipmitool: a QEMU node with a Docker network bridged into its VM powers on (QEMU runs) with
 * every capability dropped but NET_ADMIN and NET_BIND_SERVICE, no new privileges and its limits; and
 * a node re-created on a kept disk no longer knows the users an earlier owner made over IPMI, unless
 * the create asked to keep them (BMC_USERS_RESET_ID, read by the agent).
 */
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { ipmitool, pollUntil } from '../../node-image/test/support/ipmitool-runner';
import { describeWithTools } from '../../node-image/test/support/tools';
import { GUEST_DIR } from '../../node-image/test/e2e/node-container';
import { networkNames } from '../../node-image/src/machine/vm-networks';
import { buildOrchestrator, newFleetSettings, OrchestratorProcess } from './support/orchestrator-process';

interface NodeBody {
  name: string;
  state: string;
  ipmi: { host: string; port: number; user: string };
  vnc: { host: string; port: number; passwordAt: string | null };
  container: { name: string };
  bmcUsers: string;
}

const OWNER_PASSWORD = 'first-owner-pass';
const NEXT_PASSWORD = 'next-owner-pass';
const INTRUDER = { id: '3', name: 'intruder', password: 'intruder-pass-1' };

/**
 * The security types a VNC server offers (RFC 6143 section 7.1.2): after the ProtocolVersion exchange,
 * a count byte and one byte per type (1 None, 2 VNC Authentication).
 */
function vncSecurityTypes(port: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = Buffer.alloc(0);
    let sentVersion = false;
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`no VNC handshake on ${port}`)); }, 10_000);
    socket.on('error', (error) => { clearTimeout(timer); reject(error); });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (!sentVersion && received.length >= 12) {
        socket.write('RFB 003.008\n');
        sentVersion = true;
        received = received.subarray(12);
      }
      if (sentVersion && received.length >= 1 && received.length >= 1 + (received[0] ?? 0)) {
        clearTimeout(timer);
        socket.destroy();
        resolve([...received.subarray(1, 1 + (received[0] ?? 0))]);
      }
    });
  });
}

function docker(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync('docker', args, { encoding: 'utf8', timeout: 60_000 });
}

describeWithTools(['docker', 'ipmitool'])('node hardening end to end', () => {
  const network = `hardening-e2e-${process.pid}`;
  const fleet = new OrchestratorProcess(newFleetSettings(10, { RECONCILE_INTERVAL_S: '0', NODE_DEFAULTS_VM_BOOT: 'd', ISO_DIR: GUEST_DIR, SIM_PLACEMENT: 'container' }));

  beforeAll(() => {
    buildOrchestrator();
    expect(docker(['network', 'create', '--label', 'bmcfleet.test=1', network]).status).toBe(0);
  });
  afterAll(async () => {
    await fleet.cleanup();
    docker(['network', 'rm', network]);
  });

  it('a QEMU node with a Docker network powers on and bridges it into the VM with capabilities dropped', async () => {
    await fleet.start();
    const created = await fleet.request<NodeBody>('POST', '/api/v1/nodes', {
      name: 'vmnet', machine: 'qemu', memoryMiB: 256, cpus: 1, diskSizeGiB: 1, ipmiPassword: OWNER_PASSWORD,
      networks: [network], cdrom: 'guest.iso', // inside ISO_DIR (the test guest's directory)
    });
    expect(created.status).toBe(201);
    const container = created.body.container.name;
    const host = JSON.parse(docker(['inspect', '--format', '{{json .HostConfig}}', container]).stdout) as Record<string, unknown>;
    expect(host).toMatchObject({ CapDrop: ['ALL'], CapAdd: ['NET_ADMIN', 'NET_BIND_SERVICE'], SecurityOpt: ['no-new-privileges:true'], Memory: (256 + 512) * 1024 * 1024 });

    expect((await fleet.request('POST', '/api/v1/nodes/vmnet/power', { action: 'on' })).status).toBe(200);
    // The agent bridges eth1 before it starts QEMU: read the power state until QEMU runs.
    const power = await pollUntil(
      async () => (await fleet.request<{ powerState: string }>('GET', '/api/v1/nodes/vmnet/power')).body.powerState,
      (state) => state === 'on',
      { attempts: 30, timeoutMs: 60_000, intervalMs: 1000 },
    );
    expect(power).toBe('on');
    // The agent made eth1's bridge and tap, and QEMU opened the tap: both up, the tap in the bridge.
    const { bridge, tap } = networkNames('eth1');
    const links = await pollUntil(
      async () => docker(['exec', container, 'ip', '-o', 'link', 'show', 'master', bridge]).stdout,
      (out) => out.includes(tap) && out.includes('eth1'),
      { attempts: 60, timeoutMs: 60_000, intervalMs: 1000 },
    );
    expect(links).toContain(tap);
    // The guest runs (TCG): QEMU still answers after a while, so it was not killed by a limit.
    const status = await ipmitool(created.body.ipmi.port, ['-C', '17', 'power', 'status'], { password: OWNER_PASSWORD });
    expect(status.stdout.trim()).toBe('Chassis Power is on');
    const vnc = await fleet.request<{ password: string | null; port: number }>('GET', '/api/v1/nodes/vmnet/vnc');
    expect(vnc.body.password).toMatch(/^[A-Za-z0-9]{8}$/);
    // Needs the agent's side of VNC_PASSWORD: the published console asks for the password, never none.
    const types = await pollUntil(() => vncSecurityTypes(vnc.body.port).catch(() => []), (offered) => offered.length > 0, { attempts: 30, timeoutMs: 60_000, intervalMs: 1000 });
    expect(types).toContain(2);
    expect(types).not.toContain(1);
    expect(fleet.log).not.toContain(vnc.body.password ?? '-');
    expect((await fleet.request('DELETE', '/api/v1/nodes/vmnet?purge=true')).status).toBe(204);
  });

  // Needs the agent's side of BMC_USERS_RESET_ID (node-image) as well as this orchestrator's.
  it('a re-create on a kept disk resets the BMC users an earlier owner made, unless keepBmcUsers', async () => {
    await fleet.start();
    const first = await fleet.request<NodeBody>('POST', '/api/v1/nodes', { name: 'reused', machine: 'sim', ipmiPassword: OWNER_PASSWORD });
    expect(first.status).toBe(201);
    const port = first.body.ipmi.port;
    const asOwner = (args: string[]) => ipmitool(port, ['-C', '17', ...args], { password: OWNER_PASSWORD });
    for (const args of [
      ['user', 'set', 'name', INTRUDER.id, INTRUDER.name],
      ['user', 'set', 'password', INTRUDER.id, INTRUDER.password],
      ['channel', 'setaccess', '1', INTRUDER.id, 'callin=on', 'ipmi=on', 'link=on', 'privilege=4'],
      ['user', 'enable', INTRUDER.id],
    ]) {
      expect(await asOwner(args)).toMatchObject({ status: 0 });
    }
    const intruderLogin = async (ipmiPort: number) =>
      (await ipmitool(ipmiPort, ['-C', '17', 'power', 'status'], { user: INTRUDER.name, password: INTRUDER.password })).status;
    expect(await intruderLogin(port)).toBe(0);

    // Delete without purge (the disk, with the BMC's state, stays), then a new owner's create.
    expect((await fleet.request('DELETE', '/api/v1/nodes/reused')).status).toBe(204);
    const second = await fleet.request<NodeBody>('POST', '/api/v1/nodes', { name: 'reused', machine: 'sim', ipmiPassword: NEXT_PASSWORD });
    expect(second.status).toBe(201);
    expect(second.body.bmcUsers).toBe('reset');
    const next = (args: string[]) => ipmitool(second.body.ipmi.port, ['-C', '17', ...args], { password: NEXT_PASSWORD });
    expect((await next(['power', 'status'])).status).toBe(0);
    expect(await intruderLogin(second.body.ipmi.port)).not.toBe(0);

    // Asked to keep them: the users made over IPMI survive the re-create.
    for (const args of [
      ['user', 'set', 'name', INTRUDER.id, INTRUDER.name],
      ['user', 'set', 'password', INTRUDER.id, INTRUDER.password],
      ['channel', 'setaccess', '1', INTRUDER.id, 'callin=on', 'ipmi=on', 'link=on', 'privilege=4'],
      ['user', 'enable', INTRUDER.id],
    ]) expect(await next(args)).toMatchObject({ status: 0 });
    expect((await fleet.request('DELETE', '/api/v1/nodes/reused')).status).toBe(204);
    const third = await fleet.request<NodeBody>('POST', '/api/v1/nodes', { name: 'reused', machine: 'sim', ipmiPassword: NEXT_PASSWORD, keepBmcUsers: true });
    expect(third.status).toBe(201);
    expect(third.body.bmcUsers).toBe('kept');
    expect(await intruderLogin(third.body.ipmi.port)).toBe(0);
  });
});
