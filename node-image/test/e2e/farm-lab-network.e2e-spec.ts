/**
 * A farm on a lab network, end to end in the real Docker engine: the node image runs as a farm of 50
 * BMCs attached to a user-defined Docker network whose upper half Docker does not hand out
 * (--ip-range .0/25); with FARM_INTERFACE=eth0 and NET_ADMIN the farm puts each BMC's address on its
 * eth0 and every BMC answers IPMI on port 623 (and Redfish on 443) of its own IP. Another container on
 * that network, as a management LAN's client, drives them with `ipmitool -I lanplus -H <bmc ip>`
 * (and curl): power of one BMC changes alone, `lan print` shows each BMC's own IP, MAC, the network's
 * netmask and gateway, and a sweep of all 50 answers. A farm without NET_ADMIN, or with a range
 * outside or past the subnet, is refused with a message naming the rule; a clean stop takes the
 * addresses off the interface again.
 *
 * Ownership: the network and every container carry bmcfleet.test=1 and this run's label, and
 * afterAll removes them by that label, also after a failure. `docker exec` in the farm only looks
 * (`ip -4 addr`). Every wait is bounded; nothing asserts on durations.
 */
import { join } from 'node:path';
import { runAsync, sleep } from '../support/ipmitool-runner';
import { describeWithTools } from '../support/tools';
import { docker, dockerOk, E2eFleet, NODE_IMAGE, DOCKER_IMAGE_HINT, TEST_LABEL } from './node-container';
import { agentLogLines, NetworkLab, type VmLan } from './support-network';

const CLIENT_IMAGE = process.env['BMCFLEET_TEST_IPMI_CLIENT_IMAGE'] ?? 'bmcfleet/test-ipmi-client:latest';
const CLIENT_BUILD_SCRIPT = join(__dirname, 'ipmi-client', 'build.sh');
const BMCS = 50;
/** Host number of the first BMC: above Docker's .2–.127 (--ip-range .0/25). */
const FIRST_HOST = 130;
const PASSWORD = 'lab-secret';
const FARM_ENTRY = ['--', 'node', '--max-semi-space-size=8', '--expose-gc', '/opt/bmcfleet/agent/farm/farm-main.js'];
const START_TIMEOUT_MS = 60_000;
const IPMITOOL_TIMEOUT_MS = 30_000;

describeWithTools(['docker'])('a farm on a Docker network: each BMC at its own IP, port 623, reached from another container', () => {
  const fleet = new E2eFleet('farmlab');
  const lab = new NetworkLab(fleet.runLabel);
  let lan: VmLan;
  let farmId: string;
  let clientId: string;
  const bmcIp = (i: number): string => lan.address(FIRST_HOST + i);
  const labels = (): string[] => ['--label', TEST_LABEL, '--label', fleet.runLabel];
  let seq = 0;
  const containerName = (what: string): string => `bmcfleet-e2e-farmlab-${what}-${process.pid}-${++seq}`;

  /** `ipmitool -I lanplus` in the client container against the BMC at `ip`, port 623. */
  const ipmitool = (ip: string, args: string[]) =>
    docker(['exec', clientId, 'ipmitool', '-I', 'lanplus', '-H', ip, '-U', 'admin', '-P', PASSWORD, '-R', '3', '-N', '2', ...args], IPMITOOL_TIMEOUT_MS);
  const ipmiOk = async (ip: string, args: string[]): Promise<string> => {
    const r = await ipmitool(ip, args);
    if (r.status !== 0) throw new Error(`ipmitool -H ${ip} ${args.join(' ')}: exit ${r.status}\n${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  const powerOf = async (ip: string): Promise<string | undefined> => /Chassis Power is (on|off)/.exec(await ipmiOk(ip, ['power', 'status']))?.[1];
  const logsOf = async (id: string): Promise<string> => { const r = await docker(['logs', id]); return r.stdout + r.stderr; };

  /** A farm container on `lan` that must be refused: runs to its end (bounded) and returns exit code and output. */
  async function refusedFarm(env: Record<string, string>, capAdd: boolean): Promise<{ code: string; output: string }> {
    const name = containerName('refused');
    await dockerOk([
      'run', '-d', '--name', name, ...labels(), '--network', lan.name, ...(capAdd ? ['--cap-add', 'NET_ADMIN'] : []),
      '--entrypoint', 'tini', ...Object.entries({ MACHINE: 'sim', IPMI_PASS: PASSWORD, ...env }).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
      NODE_IMAGE, ...FARM_ENTRY,
    ]);
    const code = (await dockerOk(['wait', name], START_TIMEOUT_MS)).trim();
    return { code, output: await logsOf(name) };
  }

  beforeAll(async () => {
    const image = await docker(['image', 'inspect', '--format', '{{.Id}}', NODE_IMAGE], 20_000);
    if (image.status !== 0) throw new Error(`the node image ${NODE_IMAGE} is missing: ${DOCKER_IMAGE_HINT}`);
    const build = await runAsync('bash', [CLIENT_BUILD_SCRIPT], { timeoutMs: 300_000 });
    if (build.status !== 0) throw new Error(`building ${CLIENT_IMAGE} failed (exit ${build.status}):\n${build.stderr}${build.stdout}`);
    lan = await lab.createLan('farm', { internal: false });
    // One BMC address is on eth0 before the farm starts, as after a farm that did not stop cleanly:
    // the farm takes it as it is and adds the other 49.
    farmId = (await dockerOk([
      'run', '-d', '--name', containerName('farm'), ...labels(), '--network', lan.name, '--cap-add', 'NET_ADMIN',
      '-e', 'MACHINE=sim', '-e', `FARM_BMCS=${BMCS}`, '-e', `FARM_ADDRESSES=${bmcIp(0)}`, '-e', 'FARM_INTERFACE=eth0',
      '-e', `IPMI_PASS=${PASSWORD}`, '-e', 'REDFISH_PORT=443', '-e', 'NODE_NAME=lab',
      '--entrypoint', 'sh', NODE_IMAGE, '-c', `ip addr add ${bmcIp(0)}/24 dev eth0 && exec tini ${FARM_ENTRY.join(' ')}`,
    ])).trim();
    clientId = (await dockerOk(['run', '-d', '--name', containerName('client'), ...labels(), '--network', lan.name, CLIENT_IMAGE])).trim();
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      const logs = await logsOf(farmId);
      if (agentLogLines(logs).some((l) => l['msg'] === 'farm listening')) break;
      const running = (await docker(['inspect', '--format', '{{.State.Running}}', farmId])).stdout.trim();
      if (running !== 'true' || Date.now() > deadline) throw new Error(`the farm did not start (running: ${running}):\n${logs}`);
      await sleep(200);
    }
  });

  afterAll(async () => {
    await fleet.cleanup();
    await lab.cleanup();
  });

  it('puts all 50 addresses on eth0, adding only the 49 missing, and names the network in its log', async () => {
    const lines = agentLogLines(await logsOf(farmId));
    expect(lines.find((l) => l['msg'] === 'BMC addresses on the lab interface')).toMatchObject({
      interface: 'eth0', bmcs: BMCS, added: BMCS - 1, present: 1, netmask: '255.255.255.0', gateway: lan.address(1),
    });
    expect(lines.find((l) => l['msg'] === 'farm listening')).toMatchObject({ first: `${bmcIp(0)}:623`, last: `${bmcIp(BMCS - 1)}:623`, interface: 'eth0' });
    const addrs = (await dockerOk(['exec', farmId, 'ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0'])).match(/inet (\S+)/g) ?? [];
    for (let i = 0; i < BMCS; i++) expect(addrs).toContain(`inet ${bmcIp(i)}/24`);
  });

  it('powers on one BMC and reads each BMC\'s own power state back over the network', async () => {
    const sample = [0, 7, 23, BMCS - 1];
    for (const i of sample) expect(await powerOf(bmcIp(i))).toBe('off');
    expect(await ipmiOk(bmcIp(7), ['power', 'on'])).toMatch(/Chassis Power Control: Up\/On/);
    let state: string | undefined;
    for (let attempt = 0; attempt < 40 && state !== 'on'; attempt++) {
      state = await powerOf(bmcIp(7));
      if (state !== 'on') await sleep(250);
    }
    expect(state).toBe('on');
    for (const i of sample.filter((i) => i !== 7)) expect(await powerOf(bmcIp(i))).toBe('off');
  });

  it('lan print shows each BMC\'s own IP and MAC, the network\'s netmask and gateway', async () => {
    const macs = new Set<string>();
    for (const i of [0, 7, BMCS - 1]) {
      const out = await ipmiOk(bmcIp(i), ['lan', 'print', '1']);
      expect(out).toMatch(new RegExp(`IP Address\\s+: ${bmcIp(i).replace(/\./g, '\\.')}\\n`));
      expect(out).toMatch(/Subnet Mask\s+: 255\.255\.255\.0\n/);
      expect(out).toMatch(new RegExp(`Default Gateway IP\\s+: ${lan.address(1).replace(/\./g, '\\.')}\\n`));
      const mac = /MAC Address\s+: ([0-9a-f:]{17})/.exec(out)?.[1];
      expect(mac).toMatch(new RegExp(`^02:[0-9a-f]{2}:[0-9a-f]{2}:00:00:${i.toString(16).padStart(2, '0')}$`));
      macs.add(mac!);
    }
    expect(macs.size).toBe(3);
  });

  it('serves Redfish on port 443 of each BMC\'s own IP', async () => {
    for (const i of [0, BMCS - 1]) {
      const r = await docker(['exec', clientId, 'curl', '-sk', '--max-time', '20', '-u', `admin:${PASSWORD}`, `https://${bmcIp(i)}/redfish/v1/Systems/1`], IPMITOOL_TIMEOUT_MS);
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ Id: '1', PowerState: 'Off' });
    }
  });

  it('every one of the 50 BMCs answers a full ipmitool session at its own IP (sweep, zero failures)', async () => {
    const ips = Array.from({ length: BMCS }, (_, i) => bmcIp(i)).join(' ');
    const script = `for ip in ${ips}; do out=$(ipmitool -I lanplus -H $ip -U admin -P "$BMC_PASS" -R 3 -N 2 mc guid 2>&1) && echo "OK $ip $(echo "$out" | sed -n 's/^System GUID *: //p')" || echo "FAIL $ip $out"; done`;
    const r = await docker(['exec', '-e', `BMC_PASS=${PASSWORD}`, clientId, 'sh', '-c', script], 300_000);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('FAIL'))).toEqual([]);
    const guids = lines.map((l) => l.split(' ')[2]);
    expect(lines).toHaveLength(BMCS);
    expect(new Set(guids).size).toBe(BMCS);
  });

  it('refuses a farm without NET_ADMIN, and a range outside or past the subnet, saying why', async () => {
    const noCap = await refusedFarm({ FARM_BMCS: '5', FARM_ADDRESSES: lan.address(200), FARM_INTERFACE: 'eth0' }, false);
    expect(noCap.code).toBe('1');
    expect(noCap.output).toMatch(/FARM_INTERFACE=eth0 needs the NET_ADMIN capability/);
    const outside = await refusedFarm({ FARM_BMCS: '5', FARM_ADDRESSES: '192.0.2.10', FARM_INTERFACE: 'eth0' }, true);
    expect(outside.code).toBe('1');
    expect(outside.output).toContain(`FARM_ADDRESSES=192.0.2.10 is outside eth0's subnet ${lan.address(0)}/24`);
    const past = await refusedFarm({ FARM_BMCS: '10', FARM_ADDRESSES: lan.address(250), FARM_INTERFACE: 'eth0' }, true);
    expect(past.code).toBe('1');
    expect(past.output).toContain(`runs past eth0's subnet ${lan.address(0)}/24`);
    expect(past.output).toContain(`the last usable address is ${lan.address(254)}`);
    const noIface = await refusedFarm({ FARM_BMCS: '5', FARM_ADDRESSES: lan.address(200), FARM_INTERFACE: 'eth7' }, true);
    expect(noIface.output).toMatch(/FARM_INTERFACE=eth7: there is no such network interface here/);
  });

  it('a clean stop takes every BMC address off the interface', async () => {
    await dockerOk(['stop', '--time', '30', farmId], 60_000);
    expect((await dockerOk(['inspect', '--format', '{{.State.ExitCode}}', farmId])).trim()).toBe('0');
    expect(agentLogLines(await logsOf(farmId)).find((l) => l['msg'] === 'BMC addresses taken off the lab interface')).toMatchObject({ interface: 'eth0', removed: BMCS });
  });
});
