import type { ObservedNode } from '../runtime/node-runtime';
import { nodeSpec } from '../nodes/node-spec';
import type { NodeWithLeases } from '../nodes/node.model';
import { AdoptionContext, AdoptionDecision, nodeFromContainer } from './node-from-container';

const IPMI_PORT = 16240;
const VNC_PORT = 15910;
const REDFISH_PORT = 17010;

function row(overrides: Partial<NodeWithLeases> = {}): NodeWithLeases {
  const at = new Date('2026-11-24T00:00:00Z');
  return {
    id: 'node-id-1',
    name: 'web1',
    state: 'running',
    powerState: 'unknown',
    powerObservedAt: null,
    machine: 'sim',
    memoryMiB: 1024,
    cpus: 3,
    diskSizeGiB: 7,
    cdrom: null,
    bootMode: 'uefi',
    bootMenuTimeoutMs: 2500,
    enableKvm: 'false',
    powerOnAtStart: true,
    networks: JSON.stringify(['vmlan-a']),
    labInterfaces: JSON.stringify(['eth4', 'eth5']),
    ipmiUser: 'root',
    ipmiPassword: 'calvin-secret',
    vncPassword: 'vncpass1',
    bmcUsersResetId: 'node-id-1',
    macId: null,
    bmcReachable: null,
    runtimeRef: 'bmcfleet-web1',
    runtimeId: 'c0ffee',
    host: 'host-1',
    lastError: null,
    purgeOnDelete: false,
    farmId: null,
    createdAt: at,
    updatedAt: at,
    leases: [
      { id: 1, host: '', kind: 'ipmi', port: IPMI_PORT, nodeId: 'node-id-1', createdAt: at },
      { id: 2, host: '', kind: 'vnc', port: VNC_PORT, nodeId: 'node-id-1', createdAt: at },
      { id: 3, host: '', kind: 'redfish', port: REDFISH_PORT, nodeId: 'node-id-1', createdAt: at },
    ],
    ...overrides,
  };
}

/** What NodeRuntime.observe reports for the runtime node nodeSpec describes. */
function inspectedFrom(node: NodeWithLeases, nodeDefaults: Record<string, string> = {}): ObservedNode {
  const spec = nodeSpec(node, { image: 'bmcfleet/node:latest', publishAddress: '127.0.0.1', isoDir: '/srv/iso', nodeDefaults, kvmAvailable: false });
  return {
    runtimeId: 'c0ffee',
    ref: spec.ref,
    nodeId: spec.nodeId,
    nodeName: spec.name,
    state: 'running',
    host: 'host-1',
    env: { PATH: '/usr/local/bin:/usr/bin', ...spec.env },
    image: spec.image,
    published: Object.fromEntries(spec.ports.map((port) => [`${port.inside}/${port.protocol}`, port.outside])),
    networks: [...spec.networks],
    address: '172.17.0.9',
    addresses: {},
    hostAddress: 'host-1',
    exit: null,
  };
}

function context(overrides: Partial<AdoptionContext> = {}): AdoptionContext {
  return {
    fleetName: 'bmcfleet',
    ipmiPortRange: { first: 16230, last: 16999 },
    vncPortRange: { first: 15900, last: 16229 },
    redfishPortRange: { first: 17000, last: 17999 },
    takenNames: new Set(),
    takenRefs: new Set(),
    leasedPorts: { ipmi: new Set(), vnc: new Set(), redfish: new Set() },
    ...overrides,
  };
}

function reasonOf(decision: AdoptionDecision): string {
  if (decision.adoptable) throw new Error('expected the container to be refused');
  return decision.reason;
}

describe('nodeFromContainer', () => {
  it('rebuilds every field of the row whose container spec made the container', () => {
    const node = row();
    const decision = nodeFromContainer(inspectedFrom(node), context());
    expect(decision).toEqual({
      adoptable: true,
      node: {
        id: node.id,
        name: node.name,
        machine: node.machine,
        memoryMiB: node.memoryMiB,
        cpus: node.cpus,
        diskSizeGiB: node.diskSizeGiB,
        cdrom: null,
        bootMode: node.bootMode,
        bootMenuTimeoutMs: node.bootMenuTimeoutMs,
        enableKvm: node.enableKvm,
        powerOnAtStart: node.powerOnAtStart,
        networks: node.networks,
        labInterfaces: node.labInterfaces,
        ipmiUser: node.ipmiUser,
        ipmiPassword: node.ipmiPassword,
        vncPassword: node.vncPassword,
        bmcUsersResetId: node.bmcUsersResetId,
        macId: node.macId,
        runtimeRef: node.runtimeRef,
        runtimeId: 'c0ffee',
        host: 'host-1',
        ports: { ipmi: IPMI_PORT, vnc: VNC_PORT, redfish: REDFISH_PORT },
      },
    });
  });

  it('rebuilds a node without networks, with NODE_DEFAULTS_* in its environment', () => {
    const node = row({ networks: '[]', labInterfaces: '[]', machine: 'qemu', enableKvm: 'auto', powerOnAtStart: false });
    const decision = nodeFromContainer(inspectedFrom(node, { ENABLE_KVM: 'true', DEBUG: 'true', VM_DISK: '/vm/other.qcow2' }), context());
    expect(decision).toMatchObject({ adoptable: true, node: { networks: '[]', labInterfaces: '[]', machine: 'qemu', enableKvm: 'auto', powerOnAtStart: false } });
  });

  it('keeps the container\'s MAC block (VM_MAC_ID); none when it has none', () => {
    const inspected = inspectedFrom(row());
    expect(nodeFromContainer({ ...inspected, env: { ...inspected.env, VM_MAC_ID: '77' } }, context())).toMatchObject({ adoptable: true, node: { macId: 77 } });
    const { VM_MAC_ID: _none, ...without } = inspected.env;
    expect(nodeFromContainer({ ...inspected, env: without }, context())).toMatchObject({ adoptable: true, node: { macId: null } });
    expect(nodeFromContainer({ ...inspected, env: { ...inspected.env, VM_MAC_ID: '0' } }, context())).toMatchObject({ adoptable: false, reason: expect.stringMatching(/VM_MAC_ID="0" is not an integer from 1 to 16777215/) });
  });

  it('adopts a container whose IPMI_SOL_PORT is its published IPMI port (what the agent would name anyway)', () => {
    const inspected = inspectedFrom(row());
    expect(nodeFromContainer({ ...inspected, env: { ...inspected.env, IPMI_SOL_PORT: String(IPMI_PORT) } }, context())).toMatchObject({ adoptable: true });
  });

  it('adopts a container made before Redfish ports (no REDFISH_PORT) without a Redfish lease', () => {
    const inspected = inspectedFrom(row());
    const { REDFISH_PORT: _redfish, ...env } = inspected.env;
    const decision = nodeFromContainer({ ...inspected, env }, context());
    expect(decision).toMatchObject({ adoptable: true, node: { ports: { ipmi: IPMI_PORT, vnc: VNC_PORT } } });
    expect(decision.adoptable && decision.node.ports.redfish).toBeUndefined();
  });

  it("takes the agent's defaults for variables the container lacks", () => {
    const inspected = inspectedFrom(row({ networks: '[]', labInterfaces: '[]' }));
    const env = Object.fromEntries(Object.entries(inspected.env).filter(([name]) => ['IPMI_PORT', 'VNC_PORT'].includes(name)));
    const decision = nodeFromContainer({ ...inspected, env }, context());
    expect(decision).toMatchObject({
      adoptable: true,
      node: { machine: 'qemu', memoryMiB: 2048, cpus: 2, diskSizeGiB: 20, bootMode: 'bios', bootMenuTimeoutMs: 0, enableKvm: 'auto', powerOnAtStart: false, ipmiUser: 'admin', ipmiPassword: 'password' },
    });
  });

  it.each<[string, (c: ObservedNode) => ObservedNode, AdoptionContext, RegExp]>([
    ['no node id', (c) => ({ ...c, nodeId: null }), context(), /carries no node id/],
    ['a node name that is no node name', (c) => ({ ...c, nodeName: 'Web_1' }), context(), /"Web_1" is not a node name/],
    ['a name of another fleet', (c) => ({ ...c, ref: 'other-web1' }), context(), /name other-web1 is not bmcfleet-web1/],
    ['a node name that has a row', (c) => c, context({ takenNames: new Set(['web1']) }), /node name web1 belongs to another node/],
    ['a runtime name that has a row', (c) => c, context({ takenRefs: new Set(['bmcfleet-web1']) }), /name bmcfleet-web1 belongs/],
    ['an IPMI port outside the range', (c) => c, context({ ipmiPortRange: { first: 17000, last: 17100 } }), /IPMI port 16240 lies outside IPMI_PORT_RANGE 17000-17100/],
    ['a VNC port outside the range', (c) => c, context({ vncPortRange: { first: 15000, last: 15100 } }), /VNC port 15910 lies outside VNC_PORT_RANGE/],
    ['an IPMI port leased to another node', (c) => c, context({ leasedPorts: { ipmi: new Set([IPMI_PORT]), vnc: new Set(), redfish: new Set() } }), /IPMI port 16240 is leased to another node/],
    ['a VNC port leased to another node', (c) => c, context({ leasedPorts: { ipmi: new Set(), vnc: new Set([VNC_PORT]), redfish: new Set() } }), /VNC port 15910 is leased to another node/],
    ['a Redfish port outside the range', (c) => c, context({ redfishPortRange: { first: 18000, last: 18100 } }), /Redfish port 17010 lies outside REDFISH_PORT_RANGE 18000-18100/],
    ['a Redfish port leased to another node', (c) => c, context({ leasedPorts: { ipmi: new Set(), vnc: new Set(), redfish: new Set([REDFISH_PORT]) } }), /Redfish port 17010 is leased to another node/],
    ['Redfish not published', (c) => ({ ...c, published: { [`${IPMI_PORT}/udp`]: IPMI_PORT, [`${VNC_PORT}/tcp`]: VNC_PORT } }), context(), /REDFISH_PORT=17010 is not published as 17010:17010\/tcp$/],
    ['IPMI published on another host port', (c) => ({ ...c, published: { ...c.published, [`${IPMI_PORT}/udp`]: 16300 } }), context(), /IPMI_PORT=16240 is not published as 16240:16240\/udp \(it is on host port 16300\)/],
    ['VNC not published', (c) => ({ ...c, published: { [`${IPMI_PORT}/udp`]: IPMI_PORT } }), context(), /VNC_PORT=15910 is not published as 15910:15910\/tcp$/],
    ['an IPMI_SOL_PORT naming another port', (c) => ({ ...c, env: { ...c.env, IPMI_SOL_PORT: '9831' } }), context(), /IPMI_SOL_PORT="9831" names another SOL port than the one its IPMI is published on \(16240\)/],
    ['VNC_PORT=none', (c) => ({ ...c, env: { ...c.env, VNC_PORT: 'none' } }), context(), /VNC_PORT="none" is not a port number/],
    ['a CD-ROM', (c) => ({ ...c, env: { ...c.env, VM_CDROM: '/iso/guest.iso' } }), context(), /CD-ROM \(VM_CDROM=\/iso\/guest\.iso\)/],
    ['an unknown machine', (c) => ({ ...c, env: { ...c.env, MACHINE: 'bochs' } }), context(), /MACHINE="bochs" is not one of qemu, sim/],
    ['a memory size that is no integer', (c) => ({ ...c, env: { ...c.env, VM_MEMORY: '1g' } }), context(), /VM_MEMORY="1g" is not an integer >= 1/],
    ['zero CPUs', (c) => ({ ...c, env: { ...c.env, VM_CPUS: '0' } }), context(), /VM_CPUS="0" is not an integer >= 1/],
    ['a disk size in MiB', (c) => ({ ...c, env: { ...c.env, VM_DISK_SIZE: '512M' } }), context(), /VM_DISK_SIZE="512M" is not a whole number of GiB/],
    ['a boot mode of neither kind', (c) => ({ ...c, env: { ...c.env, VM_BOOT_MODE: 'coreboot' } }), context(), /VM_BOOT_MODE="coreboot"/],
    ['POWER_ON_AT_START=yes', (c) => ({ ...c, env: { ...c.env, POWER_ON_AT_START: 'yes' } }), context(), /POWER_ON_AT_START="yes" is neither true nor false/],
    ['more networks than VM_NETWORKS names', (c) => ({ ...c, networks: ['vmlan-a', 'vmlan-b'] }), context(), /attached to 2 network\(s\) \(vmlan-a, vmlan-b\) but VM_NETWORKS="eth1,eth4,eth5" does not start with eth1,eth2/],
  ])('refuses a container with %s, saying why', (_case, mutate, adoptionContext, reason) => {
    expect(reasonOf(nodeFromContainer(mutate(inspectedFrom(row())), adoptionContext))).toMatch(reason);
  });

  it('never puts the BMC password into a reason', () => {
    const inspected = inspectedFrom(row());
    const reason = reasonOf(nodeFromContainer({ ...inspected, env: { ...inspected.env, VM_CPUS: 'x' } }, context()));
    expect(reason).not.toContain('calvin-secret');
  });
});
