import { ironicResourcesErrors } from '../../test/fixtures/exports/provisioning-schemas';
import { exportRow } from '../../test/fixtures/exports/export-nodes';
import { EXPORT_DRIVERS } from './bmc-address';
import { exportNodeOf } from './export-node';
import { ExportErrorCode } from './export.error';
import { renderIronic } from './ironic.render';

const node = (options: Parameters<typeof exportRow>[0], host = '127.0.0.1') => exportNodeOf(exportRow(options), host);

describe('renderIronic', () => {
  it('renders an ipmi node: driver_info, properties, its ports (the first boots from the network)', () => {
    const n = node({ name: 'n1', machine: 'qemu', networks: ['lan-a', 'lan-b'], ipmiPort: 16300, password: 'pass-word-1' });
    expect(renderIronic([n], 'ipmi')).toEqual({
      nodes: [{
        name: 'n1',
        uuid: n.id,
        driver: 'ipmi',
        driver_info: { ipmi_address: '127.0.0.1', ipmi_port: 16300, ipmi_username: 'admin', ipmi_password: 'pass-word-1' },
        properties: { cpus: 4, memory_mb: 4096, local_gb: 40, cpu_arch: 'x86_64', capabilities: 'boot_mode:uefi' },
        extra: { bmcfleet_machine: 'qemu' },
        ports: [
          { address: n.nics[0]!.mac, pxe_enabled: true, extra: { interface: 'eth1' } },
          { address: n.nics[1]!.mac, pxe_enabled: false, extra: { interface: 'eth2' } },
        ],
      }],
    });
  });

  it('renders redfish with the service root, the system and no certificate verification; virtual media as Metal3 does', () => {
    const n = node({ name: 'n2', redfishPort: 17100, bootMode: 'bios' }, 'fd00::10');
    const [redfish] = renderIronic([n], 'redfish').nodes;
    expect(redfish).toMatchObject({
      driver: 'redfish',
      driver_info: { redfish_address: 'https://[fd00::10]:17100', redfish_system_id: '/redfish/v1/Systems/1', redfish_username: 'admin', redfish_password: 's3cret-pass', redfish_verify_ca: false },
      properties: { capabilities: 'boot_mode:bios' },
    });
    expect(redfish).not.toHaveProperty('boot_interface');
    expect(renderIronic([n], 'redfish-virtualmedia').nodes[0]).toMatchObject({ driver: 'redfish', boot_interface: 'redfish-virtual-media' });
  });

  it('refuses Redfish drivers for nodes without a Redfish port', () => {
    expect(() => renderIronic([node({ name: 'old', redfishPort: null })], 'redfish')).toThrow(expect.objectContaining({ code: ExportErrorCode.NoRedfishPort }));
  });

  it.each(EXPORT_DRIVERS)('holds every field `openstack baremetal create` and Ironic require, and no other (driver %s)', (driver) => {
    const nodes = [node({ name: 'a' }), node({ name: 'b', machine: 'qemu', networks: ['x'], labInterfaces: ['eth4'] }), node({ name: 'c', machine: 'qemu' })];
    expect(ironicResourcesErrors(JSON.parse(JSON.stringify(renderIronic(nodes, driver))))).toEqual([]);
  });

  it('is caught by the requirements when a field is wrong (the check can fail)', () => {
    const file = renderIronic([node({ name: 'x' })], 'ipmi');
    const broken = (change: (n: Record<string, unknown>) => void): string[] => {
      const copy = JSON.parse(JSON.stringify(file)) as { nodes: Array<Record<string, unknown>> };
      change(copy.nodes[0]!);
      return ironicResourcesErrors(copy);
    };
    expect(broken((n) => { delete n['driver']; })).toContain('/nodes/0: driver is required');
    expect(broken((n) => { n['boot_mode'] = 'uefi'; })).toEqual(['/nodes/0: boot_mode is not an attribute the client sends']);
    expect(broken((n) => { delete (n['driver_info'] as Record<string, unknown>)['ipmi_address']; })).toEqual(['/nodes/0/driver_info: ipmi_address is required']);
    expect(broken((n) => { n['uuid'] = 'n1'; })).toEqual(['/nodes/0: uuid is not a UUID']);
    expect(broken((n) => { (n['ports'] as Array<Record<string, unknown>>)[0]!['address'] = '52:54:00'; })).toEqual(['/nodes/0/ports/0: address is not a MAC address']);
  });
});
