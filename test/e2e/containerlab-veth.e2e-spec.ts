/**
 * The containerlab hand-off end to end, in the real Docker engine (TCG): two node containers run as
 * the orchestrator runs them (the environment nodeEnvironment() gives their rows: lab interface eth1
 * in VM_NETWORKS, no eth1 yet); their topology is rendered as containerlab would read it (ext-container
 * nodes named by container, one link eth1 ↔ eth1); then, driven by the endpoints of that file, a veth
 * pair is plugged between the running containers as containerlab does (veth-link.ts). Powered on over
 * IPMI, the two guests reach each other over that link at L2, and neither node restarted.
 *
 * Every container carries the run label and goes in afterAll, also after a failure; veth ends left in
 * the host namespace are deleted; every wait is bounded; no duration is asserted.
 */
import { parse } from 'yaml';
import { vmNicMac } from '../../node-image/src/machine/vm-networks';
import {
  checkPrerequisites, describeE2eWith, E2eFleet, GUEST_PROMPT, type NodeContainer, READY_MARKER, type SolConsole, withNodeLogs,
} from '../../node-image/test/e2e/node-container';
import { agentLogLines, guestMac, guestPing, guestRun } from '../../node-image/test/e2e/support-network';
import { parseLinks } from '../../src/containerlab/links';
import { renderTopology, topologyToYaml } from '../../src/containerlab/topology';
import { nodeEnvironment } from '../../src/nodes/node-spec';
import type { NodeWithLeases } from '../../src/nodes/node.model';
import { clabSchemaErrorsOfYaml } from '../fixtures/containerlab/clab-schema';
import { FIXTURE_CONTEXT, nodeRow, recordOf } from '../fixtures/containerlab/node-records';
import { VethLinker, vethEndpoint } from './veth-link';

const NET_MARKER = /BMCFLEET-GUEST-NET iface=eth0 addr=(\S+)/;
const BOOT_MS = 150_000;
/** The lab's link: an L2 segment of its own, addressed by the test inside the guests. */
const LINK_PREFIX = '10.77.0';
/** The password the e2e helpers' ipmitool uses. */
const TEST_IPMI_PASSWORD = 'password';
const LAB_INTERFACE = 'eth1';

interface LabNode {
  readonly name: string;
  readonly container: NodeContainer;
  readonly row: NodeWithLeases;
}

describeE2eWith(['ip', 'nsenter'])('containerlab ext-container link: a veth pair plugged into two running node containers reaches both VMs', () => {
  const fleet = new E2eFleet('clab');
  const veths = new VethLinker();

  beforeAll(async () => {
    await checkPrerequisites();
  });
  afterAll(async () => {
    await fleet.cleanup();
    await veths.cleanup();
  });

  /** A node row with lab interface eth1 and the test guest's ISO, started with the environment its row gives. */
  async function startLabNode(name: string, index: number): Promise<LabNode> {
    const options = { index, labInterfaces: [LAB_INTERFACE], cdrom: 'guest.iso', ipmiPassword: TEST_IPMI_PASSWORD };
    const env: Record<string, string> = nodeEnvironment(nodeRow(name, options), FIXTURE_CONTEXT.nodeDefaults);
    // The helper publishes a free port as IPMI_PORT (the row's lease is only known once it runs); no VNC.
    delete env['IPMI_PORT'];
    expect(env).toMatchObject({ NODE_NAME: name, VM_NETWORKS: LAB_INTERFACE, VM_CDROM: '/iso/guest.iso', ENABLE_KVM: 'false' });
    const container = await fleet.start({ env: { ...env, VNC_PORT: 'none', VM_BOOT: 'd' } });
    // The row as the orchestrator holds it once the node runs: its container and its IPMI port.
    return { name, container, row: nodeRow(name, { ...options, containerName: container.name, ipmiPort: container.port }) };
  }

  it('the rendered topology declares eth1 ↔ eth1; plugged as containerlab does, the guests ping each other over it without a restart', async () => {
    const a = await startLabNode('lab-a', 0);
    const b = await startLabNode('lab-b', 1);
    const nodes = [a, b] as const;

    await withNodeLogs(a.container, () => withNodeLogs(b.container, async () => {
      // The topology containerlab would read: ext-container nodes named by their containers, one link.
      const yaml = topologyToYaml(renderTopology(nodes.map((n) => recordOf(n.row)), {
        labName: 'veth-e2e', mode: 'ext-container', links: parseLinks(`${a.name}:${LAB_INTERFACE},${b.name}:${LAB_INTERFACE}`),
      }));
      expect(clabSchemaErrorsOfYaml(yaml)).toEqual([]);
      const topology = parse(yaml) as { topology: { nodes: Record<string, { kind: string }>; links: Array<{ endpoints: [string, string] }> } };
      expect(Object.entries(topology.topology.nodes).map(([key, n]) => [key, n.kind]).sort()).toEqual(
        nodes.map((n) => [n.container.name, 'ext-container']).sort(),
      );
      expect(topology.topology.links).toEqual([{ endpoints: [`${a.container.name}:${LAB_INTERFACE}`, `${b.container.name}:${LAB_INTERFACE}`] }]);

      // Nothing is plugged yet: eth1 does not exist in either container.
      const startedAt = new Map<LabNode, string>();
      for (const n of nodes) {
        startedAt.set(n, await n.container.inspect('{{.State.StartedAt}}'));
        expect(await n.container.powerState()).toBe('off');
      }

      // containerlab's part, driven by the file's endpoints.
      for (const link of topology.topology.links) await veths.plug(vethEndpoint(link.endpoints[0]), vethEndpoint(link.endpoints[1]));

      const sols = new Map<LabNode, SolConsole>();
      for (const n of nodes) sols.set(n, await n.container.sol());
      for (const n of nodes) expect(await n.container.ipmiOk(['power', 'on'])).toContain('Chassis Power Control: Up/On');
      for (const n of nodes) {
        const sol = sols.get(n)!;
        const ready = await sol.ready(`${n.name}: boot from CD-ROM`, 0);
        expect(ready).toMatchObject({ firmware: 'bios', bootdev: 'cdrom' });
        // No DHCP server on the link: the guest's attempt ends (addr=none) before eth0 is configured by hand.
        await sol.expect(NET_MARKER, `${n.name}: the guest's DHCP attempt on eth0`, { from: ready.end, timeoutMs: BOOT_MS });
        await sol.expect(GUEST_PROMPT, `${n.name}: guest shell prompt`, { from: ready.end });
      }

      // The plugged eth1 is the guest's eth0, with the MAC the agent derives from node name and interface.
      for (const n of nodes) expect(await guestMac(sols.get(n)!, 'eth0')).toBe(vmNicMac(n.name, LAB_INTERFACE));
      const [solA, solB] = [sols.get(a)!, sols.get(b)!];
      await guestRun(solA, `ip addr add ${LINK_PREFIX}.1/24 dev eth0 && ip link set eth0 up && echo ETH0-$((1+0))-UP`, /ETH0-1-UP/, 'address on A');
      await guestRun(solB, `ip addr add ${LINK_PREFIX}.2/24 dev eth0 && ip link set eth0 up && echo ETH0-$((2+0))-UP`, /ETH0-2-UP/, 'address on B');
      expect(await guestPing(solA, `${LINK_PREFIX}.2`, 'A pings B over the veth link')).toBe('OK');
      expect(await guestPing(solB, `${LINK_PREFIX}.1`, 'B pings A over the veth link')).toBe('OK');

      // Neither node restarted: same container start, one boot on each SOL session, no error logged.
      for (const n of nodes) {
        expect(await n.container.inspect('{{.RestartCount}} {{.State.Running}} {{.State.StartedAt}}')).toBe(`0 true ${startedAt.get(n)}`);
        expect(sols.get(n)!.count(READY_MARKER)).toBe(1);
        expect(agentLogLines(await n.container.logs()).filter((l) => l['level'] === 'error')).toEqual([]);
      }
    }));
  });
});
