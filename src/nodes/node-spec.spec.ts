import { containerSpecOf } from '../runtime/docker/container-spec';
import { ipmiPortEnvironment, nodeEnvironment, nodeLimits, nodeSpec, portMapping, vmInterfaces, type NodeSpecContext } from './node-spec';
import type { NodeWithLeases } from './node.model';

/** The node spec as the Docker runtime makes it a container (both layers, as a create runs them). */
const nodeContainerSpec = (row: NodeWithLeases, specContext: NodeSpecContext) => containerSpecOf(nodeSpec(row, specContext), 'fleet-1');

function node(overrides: Partial<NodeWithLeases> = {}): NodeWithLeases {
  const now = new Date('2026-11-24T00:00:00Z');
  return {
    id: 'id-1', name: 'n1', state: 'running', powerState: 'off', powerObservedAt: null, machine: 'qemu', memoryMiB: 1024, cpus: 2,
    diskSizeGiB: 10, cdrom: null, bootMode: 'uefi', bootMenuTimeoutMs: 0, enableKvm: 'auto', powerOnAtStart: false, networks: '[]',
    labInterfaces: '[]', ipmiUser: 'admin', ipmiPassword: 'pw', vncPassword: null, bmcUsersResetId: null, macId: null, bmcReachable: null, runtimeRef: 'bmcfleet-n1', runtimeId: null, host: null,
    lastError: null, purgeOnDelete: false, farmId: null, createdAt: now, updatedAt: now,
    leases: [
      { id: 1, host: '', kind: 'ipmi', port: 16230, nodeId: 'id-1', createdAt: now },
      { id: 2, host: '', kind: 'vnc', port: 15900, nodeId: 'id-1', createdAt: now },
      { id: 3, host: '', kind: 'redfish', port: 17000, nodeId: 'id-1', createdAt: now },
    ],
    ...overrides,
  };
}

const context: NodeSpecContext = { image: 'bmcfleet/node:latest', publishAddress: '127.0.0.1', isoDir: '/srv/iso', nodeDefaults: {}, kvmAvailable: false };

describe('nodeEnvironment', () => {
  it('gives the agent its settings, with the leased ports inside as outside', () => {
    expect(nodeEnvironment(node(), {})).toEqual({
      NODE_NAME: 'n1', MACHINE: 'qemu', VM_MEMORY: '1024', VM_CPUS: '2', VM_DISK_SIZE: '10G', VM_BOOT_MODE: 'uefi', VM_BOOT_MENU_TIMEOUT: '0',
      ENABLE_KVM: 'auto', POWER_ON_AT_START: 'false', IPMI_USER: 'admin', IPMI_PASS: 'pw', IPMI_PORT: '16230', VNC_PORT: '15900', REDFISH_PORT: '17000',
    });
  });

  it('leaves REDFISH_PORT out for a node made before Redfish ports (its agent keeps 443, unpublished)', () => {
    const old = node();
    const withoutRedfish = { ...old, leases: old.leases.filter((lease) => lease.kind !== 'redfish') };
    expect(nodeEnvironment(withoutRedfish, {})).not.toHaveProperty('REDFISH_PORT');
    expect(nodeContainerSpec(withoutRedfish, context).redfish).toBeNull();
  });

  it('passes the node\'s MAC block as VM_MAC_ID when the row has one, never from NODE_DEFAULTS_*', () => {
    expect(nodeEnvironment(node({ macId: 4242 }), { VM_MAC_ID: '1' })['VM_MAC_ID']).toBe('4242');
    expect(nodeEnvironment(node({ macId: null }), { VM_MAC_ID: '1' })).not.toHaveProperty('VM_MAC_ID');
  });

  it('passes the VNC password and the BMC users reset id when the row has them, never from NODE_DEFAULTS_*', () => {
    expect(nodeEnvironment(node({ vncPassword: 'Ab3dEf6h', bmcUsersResetId: 'id-1' }), {})).toMatchObject({ VNC_PASSWORD: 'Ab3dEf6h', BMC_USERS_RESET_ID: 'id-1' });
    const without = nodeEnvironment(node(), { VNC_PASSWORD: 'shared', BMC_USERS_RESET_ID: 'fixed' });
    expect(without).not.toHaveProperty('VNC_PASSWORD');
    expect(without).not.toHaveProperty('BMC_USERS_RESET_ID');
  });

  it('lets the node\'s own settings win over NODE_DEFAULTS_* and keeps the other defaults', () => {
    const env = nodeEnvironment(node(), { ENABLE_KVM: 'false', IPMI_CIPHER_SUITES: '17', VM_MEMORY: '4096' });
    expect(env['VM_MEMORY']).toBe('1024');
    expect(env['IPMI_CIPHER_SUITES']).toBe('17');
    expect(env['ENABLE_KVM']).toBe('auto');
  });

  it('names the Docker networks\' interfaces first, then the lab interfaces, and maps the ISO into /iso', () => {
    const env = nodeEnvironment(node({ networks: '["vmlan-a","vmlan-b"]', labInterfaces: '["eth5"]', cdrom: 'debian 12.iso' }), {});
    expect(env['VM_NETWORKS']).toBe('eth1,eth2,eth5');
    expect(env['VM_CDROM']).toBe('/iso/debian 12.iso');
    expect(vmInterfaces(0)).toEqual([]);
  });
});

describe('IPMI ports of a node', () => {
  it('publishes the leased ports same-port, so the agent needs no IPMI_SOL_PORT', () => {
    expect(portMapping(node(), 'ipmi')).toEqual({ containerPort: 16230, hostPort: 16230 });
    expect(portMapping(node(), 'vnc')).toEqual({ containerPort: 15900, hostPort: 15900 });
    expect(portMapping(node(), 'redfish')).toEqual({ containerPort: 17000, hostPort: 17000 });
    expect(nodeEnvironment(node(), {})).not.toHaveProperty('IPMI_SOL_PORT');
  });

  it('sets IPMI_SOL_PORT to the host port whenever it differs from the port the agent listens on', () => {
    expect(ipmiPortEnvironment({ containerPort: 16230, hostPort: 16230 })).toEqual({ IPMI_PORT: '16230' });
    expect(ipmiPortEnvironment({ containerPort: 623, hostPort: 16230 })).toEqual({ IPMI_PORT: '623', IPMI_SOL_PORT: '16230' });
  });
});

describe('nodeSpec', () => {
  it('says what to run in no engine\'s terms: ports by name and protocol, devices, the disk at /vm, the node\'s host', () => {
    const spec = nodeSpec(node({ cdrom: 'a.iso', networks: '["vmlan-a"]', host: 'host-2' }), context);
    expect(spec).toMatchObject({ nodeId: 'id-1', name: 'n1', ref: 'bmcfleet-n1', diskPath: '/vm', devices: ['tun'], networks: ['vmlan-a'], host: 'host-2', noNewPrivileges: true });
    expect(spec.ports).toEqual([
      { name: 'ipmi', inside: 16230, outside: 16230, protocol: 'udp', address: '127.0.0.1' },
      { name: 'vnc', inside: 15900, outside: 15900, protocol: 'tcp', address: '127.0.0.1' },
      { name: 'redfish', inside: 17000, outside: 17000, protocol: 'tcp', address: '127.0.0.1' },
    ]);
    expect(spec.files).toEqual([{ hostPath: '/srv/iso/a.iso', path: '/iso/a.iso' }]);
  });
});

describe('nodeContainerSpec', () => {
  it('labels, publishes, mounts and passes devices', () => {
    const spec = nodeContainerSpec(node({ cdrom: 'a.iso' }), context);
    expect(spec.labels).toEqual({
      'io.bmcfleet.managed': 'true', 'io.bmcfleet.fleet': 'fleet-1', 'io.bmcfleet.node': 'n1', 'io.bmcfleet.node-id': 'id-1', 'io.bmcfleet.role': 'node',
    });
    expect(spec.ipmi).toEqual({ hostIp: '127.0.0.1', port: 16230, containerPort: 16230 });
    expect(spec.vnc).toEqual({ hostIp: '127.0.0.1', port: 15900, containerPort: 15900 });
    expect(spec.redfish).toEqual({ hostIp: '127.0.0.1', port: 17000, containerPort: 17000 });
    expect(spec.readOnlyBinds).toEqual([{ hostPath: '/srv/iso/a.iso', containerPath: '/iso/a.iso' }]);
    // A path below ISO_DIR binds that one file, under its own name.
    expect(nodeContainerSpec(node({ cdrom: 'debian/netinst.iso' }), context).readOnlyBinds).toEqual([{ hostPath: '/srv/iso/debian/netinst.iso', containerPath: '/iso/netinst.iso' }]);
    expect(spec.devices).toEqual(['/dev/net/tun']);
    expect(spec.capDrop).toEqual(['ALL']);
    expect(spec.capAdd).toEqual(['NET_ADMIN', 'NET_BIND_SERVICE']);
    expect(spec.securityOpt).toEqual(['no-new-privileges:true']);
  });

  it('limits a QEMU node to its VM memory + 512 MiB, its vCPUs + 0.5, and a sim node to 256 MiB and one CPU', () => {
    expect(nodeContainerSpec(node({ memoryMiB: 1024, cpus: 2 }), context).limits).toEqual({
      memoryBytes: (1024 + 512) * 1024 * 1024, nanoCpus: 2_500_000_000, pids: 514, logMaxSize: '10m', logMaxFiles: 3,
    });
    expect(nodeLimits({ machine: 'sim', memoryMiB: 8192, cpus: 8 })).toEqual({ memoryBytes: 256 * 1024 * 1024, cpus: 1, pids: 512 });
  });

  it('passes /dev/kvm for auto only where it exists, always for true, never for false', () => {
    expect(nodeContainerSpec(node(), { ...context, kvmAvailable: true }).devices).toContain('/dev/kvm');
    expect(nodeContainerSpec(node({ enableKvm: 'true' }), context).devices).toContain('/dev/kvm');
    expect(nodeContainerSpec(node({ enableKvm: 'false' }), { ...context, kvmAvailable: true }).devices).not.toContain('/dev/kvm');
  });
});
