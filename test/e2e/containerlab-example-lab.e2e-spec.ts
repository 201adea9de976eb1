/**
 * The worked example of containerlab/ end to end (TCG): the topology file passes containerlab's
 * schema, its bmcfleet nodes are what the renderer writes for node1 and node2, and deployed as
 * containerlab would deploy it (lab-deployer.ts: switch and PXE server from the file, links as veth
 * pairs) both nodes PXE-boot from the lab's DHCP/TFTP server through the switch after
 * `chassis bootdev pxe` and `power on` over IPMI, and their guests reach each other over the switch.
 *
 * Every container carries the run label and goes in afterAll, also after a failure; every wait is
 * bounded; no duration is asserted.
 */
import { join } from 'node:path';
import { vmNicMac } from '../../node-image/src/machine/vm-networks';
import {
  checkPrerequisites, describeE2eWith, docker, E2eFleet, type NodeContainer, REPO_ROOT, type SolConsole, withNodeLogs,
} from '../../node-image/test/e2e/node-container';
import { buildPxeImage, guestPing } from '../../node-image/test/e2e/support-network';
import { parseLinks } from '../../src/containerlab/links';
import { renderTopology } from '../../src/containerlab/topology';
import { nodeEnvironment } from '../../src/nodes/node-spec';
import { clabSchemaErrors } from '../fixtures/containerlab/clab-schema';
import { FIXTURE_CONTEXT, nodeRow, recordOf } from '../fixtures/containerlab/node-records';
import { deployLab, readTopology } from './lab-deployer';
import { VethLinker } from './veth-link';

const EXAMPLE = join(REPO_ROOT, 'containerlab', 'pxe-lab.clab.yml');
const NET_MARKER = /BMCFLEET-GUEST-NET iface=eth0 addr=(\S+)/;
const LAB_PREFIX = '192.168.77.';
const BOOT_MS = 180_000;
const SERVER_START_MS = 60_000;
const TEST_IPMI_PASSWORD = 'password';
/** The example's nodes: topology name → API name. */
const EXAMPLE_NODES = new Map([['bmcfleet-node1', 'node1'], ['bmcfleet-node2', 'node2']]);

describeE2eWith(['ip', 'nsenter'])('containerlab/pxe-lab.clab.yml: two nodes PXE-boot through the lab\'s switch from its DHCP/TFTP server', () => {
  const fleet = new E2eFleet('clab-example');
  const veths = new VethLinker();
  const topology = readTopology(EXAMPLE);

  beforeAll(async () => {
    await checkPrerequisites();
    await buildPxeImage();
  });
  afterAll(async () => {
    await fleet.cleanup();
    await veths.cleanup();
  });

  it('passes containerlab\'s schema, and its bmcfleet nodes are what the API renders for node1 and node2', () => {
    expect(clabSchemaErrors(topology)).toEqual([]);
    const rows = [...EXAMPLE_NODES.values()].map((name, index) => nodeRow(name, { index, labInterfaces: ['eth1'] }));
    const rendered = renderTopology(rows.map((row) => recordOf(row)), {
      labName: topology.name, mode: 'ext-container',
      links: parseLinks((topology.topology.links ?? []).map((l) => l.endpoints.join(',')).join(';')),
    });
    for (const [name, node] of Object.entries(rendered.topology.topology.nodes)) {
      expect(EXAMPLE_NODES.has(name)).toBe(true);
      const example = topology.topology.nodes[name];
      expect(example).toMatchObject({ kind: node.kind, group: node.group });
      expect(node.labels).toMatchObject(example?.labels ?? {});
    }
    expect(rendered.topology.topology.links).toEqual(topology.topology.links);
    expect(rendered.undefinedNodes).toEqual(['pxe', 'switch']);
  });

  it('deployed as containerlab does, both nodes PXE-boot and reach each other through the switch', async () => {
    const nodes = new Map<string, NodeContainer>();
    for (const [index, name] of [...EXAMPLE_NODES.values()].entries()) {
      const env: Record<string, string> = nodeEnvironment(nodeRow(name, { index, labInterfaces: ['eth1'], ipmiPassword: TEST_IPMI_PASSWORD }), FIXTURE_CONTEXT.nodeDefaults);
      delete env['IPMI_PORT'];
      nodes.set(name, await fleet.start({ env: { ...env, VNC_PORT: 'none' } }));
    }
    const [a, b] = [nodes.get('node1')!, nodes.get('node2')!];

    await withNodeLogs(a, () => withNodeLogs(b, async () => {
      const external = new Map([...EXAMPLE_NODES].map(([topologyName, apiName]) => [topologyName, nodes.get(apiName)!.name]));
      const lab = await deployLab(EXAMPLE, topology, external, fleet.runLabel, veths);
      const pxe = lab.containers.get('pxe')!;
      const pxeLogs = async (): Promise<string> => {
        const r = await docker(['logs', pxe]);
        return r.stdout + r.stderr;
      };
      const deadline = Date.now() + SERVER_START_MS;
      while (!(await pxeLogs()).includes('TFTP root is /tftp')) {
        if (Date.now() > deadline) throw new Error(`the lab's PXE server did not start:\n${await pxeLogs()}`);
        await new Promise((r) => setTimeout(r, 500));
      }

      const sols = new Map<NodeContainer, SolConsole>();
      for (const n of [a, b]) {
        sols.set(n, await n.sol());
        expect(await n.ipmiOk(['chassis', 'bootdev', 'pxe'])).toContain('Set Boot Device to pxe');
        expect(await n.ipmiOk(['power', 'on'])).toContain('Chassis Power Control: Up/On');
      }
      const addresses = new Map<NodeContainer, string>();
      for (const n of [a, b]) {
        const sol = sols.get(n)!;
        const ready = await sol.ready(`${n.name}: PXE boot`, 0);
        expect(ready).toMatchObject({ firmware: 'bios', bootdev: 'pxe' });
        const net = await sol.expect(NET_MARKER, `${n.name}: DHCP from the lab's server`, { from: ready.end, timeoutMs: BOOT_MS });
        const address = net[1]!.replace(/\/24$/, '');
        expect(address.startsWith(LAB_PREFIX)).toBe(true);
        addresses.set(n, address);
      }
      // The server saw each VM's NIC, with the MAC the agent derives from node name and interface.
      const served = await pxeLogs();
      for (const [apiName, n] of nodes) expect(served).toContain(`DHCPACK(eth1) ${addresses.get(n)} ${vmNicMac(apiName, 'eth1')}`);
      expect(await guestPing(sols.get(a)!, addresses.get(b)!, 'node1 pings node2 through the switch')).toBe('OK');
    }));
  });
});
