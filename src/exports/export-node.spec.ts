import { vmNicMac } from '../../node-image/src/machine/vm-nics';
import { exportRow } from '../../test/fixtures/exports/export-nodes';
import { exportNodeOf, nicsOf } from './export-node';

describe('exportNodeOf', () => {
  it('takes the BMC endpoints from the leases, the credentials and size from the row', () => {
    const row = exportRow({ name: 'n1', ipmiPort: 16300, redfishPort: 17100, user: 'root', password: 'pass-word-1' });
    const sut = exportNodeOf(row, '192.0.2.10');
    expect(sut).toMatchObject({
      id: row.id, name: 'n1', machine: 'sim', cpus: 4, memoryMiB: 4096, diskSizeGiB: 40, bootMode: 'uefi',
      ipmi: { host: '192.0.2.10', port: 16300 }, redfish: { host: '192.0.2.10', port: 17100 },
      credentials: { user: 'root', password: 'pass-word-1' },
    });
  });

  it('has no Redfish endpoint for a node without a Redfish lease', () => {
    expect(exportNodeOf(exportRow({ name: 'old', redfishPort: null }), '127.0.0.1').redfish).toBeNull();
  });
});

describe('nicsOf (the agent\'s NICs: node-image/src/machine/vm-nics.ts)', () => {
  it('gives a simulated machine without networks its one NIC, eth0', () => {
    expect(nicsOf(exportRow({ name: 'sim1', machine: 'sim' }))).toEqual([{ name: 'eth0', mac: vmNicMac('sim1', 'eth0') }]);
  });

  it('gives a VM one NIC per network (eth1…) then per lab interface, in that order', () => {
    const nics = nicsOf(exportRow({ name: 'vm1', machine: 'qemu', networks: ['lan-a', 'lan-b'], labInterfaces: ['eth5'] }));
    expect(nics.map((nic) => nic.name)).toEqual(['eth1', 'eth2', 'eth5']);
    expect(nics.map((nic) => nic.mac)).toEqual(['eth1', 'eth2', 'eth5'].map((i) => vmNicMac('vm1', i)));
  });

  it('gives a node with a MAC block (VM_MAC_ID) the block\'s MACs, by NIC position', () => {
    const nics = nicsOf({ ...exportRow({ name: 'vm2', machine: 'qemu', networks: ['lan-a'], labInterfaces: ['eth5'] }), macId: 0x010203 });
    expect(nics).toEqual([{ name: 'eth1', mac: '52:55:01:02:03:00' }, { name: 'eth5', mac: '52:55:01:02:03:01' }]);
  });

  it('gives a VM without networks no NIC', () => {
    expect(nicsOf(exportRow({ name: 'vm2', machine: 'qemu' }))).toEqual([]);
  });
});
