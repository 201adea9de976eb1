/**
 * The renderer's `kind: linux` mode end to end (TCG): two nodes rendered as containerlab creates them
 * (node image, agent environment, devices, capabilities, ISO bind, published ports; the IPMI password
 * only as ${BMCFLEET_<NODE>_IPMI_PASS}), deployed as containerlab would (lab-deployer.ts: the file's
 * variables substituted from containerlab's environment, containers from the file, the link as a veth
 * pair). Each BMC then answers on its published port with exactly the password exported (quotes,
 * "#", "$", ": " and leading blanks included), the VMs boot the ISO, and the guests reach each other
 * over the link.
 *
 * Every container carries the run label and goes in afterAll, also after a failure; every wait is
 * bounded; no duration is asserted.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freeUdpPort } from '../../node-image/test/support/agent-process';
import { ipmitool, pollUntil, TerminalSession } from '../../node-image/test/support/ipmitool-runner';
import { ipmitoolArgs } from '../../node-image/test/support/tools';
import {
  checkPrerequisites, describeE2eWith, dockerOk, E2eFleet, GUEST_DIR, GUEST_PROMPT, READY_MARKER, SolConsole, STEP_TIMEOUT_MS,
} from '../../node-image/test/e2e/node-container';
import { guestPing, guestRun } from '../../node-image/test/e2e/support-network';
import { LABELS } from '../../src/docker/docker-adapter';
import { parseLinks } from '../../src/containerlab/links';
import { ipmiPasswordVariable } from '../../src/containerlab/topology-nodes';
import { renderTopology, topologyToYaml } from '../../src/containerlab/topology';
import { clabSchemaErrorsOfYaml } from '../fixtures/containerlab/clab-schema';
import { FIXTURE_CONTEXT, nodeRow, recordOf } from '../fixtures/containerlab/node-records';
import { deployLab, readTopology } from './lab-deployer';
import { VethLinker } from './veth-link';
import { freeTcpPort } from './support/orchestrator-process';

const NET_MARKER = /BMCFLEET-GUEST-NET iface=eth0 addr=(\S+)/;
const BOOT_MS = 150_000;
const LINK_PREFIX = '10.78.0';
/** Printable ASCII that YAML and a shell both care about; at most IPMI's 20 bytes. */
const PASSWORDS = { 'lin-a': 'p@ss "w0rd" #1', 'lin-b': '  $HOME: it\'s' } as const;
type NodeName = keyof typeof PASSWORDS;

describeE2eWith(['ip', 'nsenter'])('containerlab kind: linux: rendered nodes deployed as containerlab would run, BMCs answer with the exported passwords, guests reach each other', () => {
  const fleet = new E2eFleet('clab-linux');
  const veths = new VethLinker();

  beforeAll(async () => {
    await checkPrerequisites();
  });
  afterAll(async () => {
    await fleet.cleanup();
    await veths.cleanup();
  });

  it('renders, deploys, powers on over IPMI and pings across the link', async () => {
    const names = Object.keys(PASSWORDS) as NodeName[];
    const rows = [];
    for (const [index, name] of names.entries()) {
      rows.push(nodeRow(name, {
        index, labInterfaces: ['eth1'], cdrom: 'guest.iso', ipmiPassword: PASSWORDS[name],
        ipmiPort: await freeUdpPort(), vncPort: await freeTcpPort(),
      }));
    }
    // The test guest's directory plays ISO_DIR: the node binds exactly guest.iso from it.
    const context = { ...FIXTURE_CONTEXT, isoDir: GUEST_DIR, nodeDefaults: { ENABLE_KVM: 'false', VM_BOOT: 'd' } };
    const yaml = topologyToYaml(renderTopology(rows.map((row) => recordOf(row, context)), {
      labName: 'linux-e2e', mode: 'linux', links: parseLinks('lin-a:eth1,lin-b:eth1'),
    }));
    expect(clabSchemaErrorsOfYaml(yaml)).toEqual([]);
    for (const password of Object.values(PASSWORDS)) expect(yaml).not.toContain(password);

    const path = join(fleet.tempDir('topology'), 'linux-e2e.clab.yml');
    writeFileSync(path, yaml);
    const env = Object.fromEntries(names.map((name) => [ipmiPasswordVariable(name), PASSWORDS[name]]));
    const lab = await deployLab(path, readTopology(path, env), new Map(), fleet.runLabel, veths);

    const port = new Map(rows.map((row) => [row.name as NodeName, row.leases.find((l) => l.kind === 'ipmi')!.port]));
    const sols = new Map<NodeName, SolConsole>();
    for (const name of names) {
      const container = lab.containers.get(name)!;
      // Not one of the orchestrator's containers: its reconciler must leave it alone.
      expect(await dockerOk(['inspect', '--format', `{{index .Config.Labels "${LABELS.managed}"}}|{{index .Config.Labels "${LABELS.node}"}}`, container])).toBe(`|${name}\n`);
      const ipmi = (args: string[]) => ipmitool(port.get(name)!, args, { password: PASSWORDS[name] });
      const status = await pollUntil(async () => (await ipmi(['power', 'status'])).stdout, (out) => out.includes('Chassis Power is off'),
        { attempts: 60, timeoutMs: STEP_TIMEOUT_MS * 2, intervalMs: 500 });
      expect(status).toContain('Chassis Power is off');
      // A wrong password is refused: the agent really took the exported one.
      expect((await ipmitool(port.get(name)!, ['power', 'status'], { password: 'password' })).status).not.toBe(0);
      const sol = new SolConsole(new TerminalSession(['ipmitool', ...ipmitoolArgs(port.get(name)!, ['sol', 'activate'], { password: PASSWORDS[name] })]), `SOL of ${name}`);
      sols.set(name, sol);
      await sol.expect('[SOL Session operational.  Use ~? for help]', `${name}: SOL activation`);
      expect((await ipmi(['power', 'on'])).stdout).toContain('Chassis Power Control: Up/On');
    }

    try {
      for (const name of names) {
        const sol = sols.get(name)!;
        const ready = await sol.ready(`${name}: boot from the ISO bind`, 0);
        expect(ready).toMatchObject({ firmware: 'bios', bootdev: 'cdrom' });
        await sol.expect(NET_MARKER, `${name}: the guest's DHCP attempt on eth0`, { from: ready.end, timeoutMs: BOOT_MS });
        await sol.expect(GUEST_PROMPT, `${name}: guest shell prompt`, { from: ready.end });
      }
      const [solA, solB] = [sols.get('lin-a')!, sols.get('lin-b')!];
      await guestRun(solA, `ip addr add ${LINK_PREFIX}.1/24 dev eth0 && ip link set eth0 up && echo LIN-$((1+0))-UP`, /LIN-1-UP/, 'address on lin-a');
      await guestRun(solB, `ip addr add ${LINK_PREFIX}.2/24 dev eth0 && ip link set eth0 up && echo LIN-$((2+0))-UP`, /LIN-2-UP/, 'address on lin-b');
      expect(await guestPing(solA, `${LINK_PREFIX}.2`, 'lin-a pings lin-b over the link')).toBe('OK');
      for (const sol of sols.values()) expect(sol.count(READY_MARKER)).toBe(1);
    } finally {
      await Promise.all([...sols.values()].map((s) => s.kill()));
    }
  });
});
