import { nicMac } from './qemu-args';
import { allocatedNicMac, nodeNicMac, SIM_DEFAULT_NIC, VM_MAC_ID_MAX, VM_MACS_PER_ID, vmNicMac, vmNicNames, vmNics } from './vm-nics';

describe('vmNicNames', () => {
  it('is VM_NETWORKS in order, for both machines', () => {
    expect(vmNicNames('qemu', ['eth1', 'eth3'])).toEqual(['eth1', 'eth3']);
    expect(vmNicNames('sim', ['eth2'])).toEqual(['eth2']);
  });

  it('gives a simulated machine without networks eth0, a VM none', () => {
    expect(vmNicNames('sim', [])).toEqual([SIM_DEFAULT_NIC]);
    expect(vmNicNames('qemu', [])).toEqual([]);
  });
});

describe('vmNicMac', () => {
  it('is the QEMU MAC of node/interface', () => {
    expect(vmNicMac('node1', 'eth0')).toBe(nicMac('node1/eth0'));
    expect(vmNicMac('node1', 'eth0')).toMatch(/^52:54:00(:[0-9a-f]{2}){3}$/);
  });
});

describe('allocated MACs (VM_MAC_ID)', () => {
  it('is 52:55, the id in three bytes, then the NIC index', () => {
    expect(allocatedNicMac(1, 0)).toBe('52:55:00:00:01:00');
    expect(allocatedNicMac(0x123456, 7)).toBe('52:55:12:34:56:07');
    expect(allocatedNicMac(VM_MAC_ID_MAX, 255)).toBe('52:55:ff:ff:ff:ff');
  });

  it('is locally administered and unicast, and never a derived 52:54:00 MAC', () => {
    const first = parseInt(allocatedNicMac(42, 3).slice(0, 2), 16);
    expect(first & 0b10).toBe(0b10);
    expect(first & 0b01).toBe(0);
    expect(allocatedNicMac(42, 3).startsWith('52:54:00')).toBe(false);
  });

  it('is unique for every node and NIC: 100,000 nodes of 16 NICs give 1,600,000 distinct MACs', () => {
    const seen = new Set<string>();
    for (let id = 1; id <= 100_000; id++) for (let nic = 0; nic < 16; nic++) seen.add(allocatedNicMac(id, nic));
    expect(seen.size).toBe(1_600_000);
  });

  it('refuses an id or index out of range', () => {
    expect(() => allocatedNicMac(0, 0)).toThrow(RangeError);
    expect(() => allocatedNicMac(VM_MAC_ID_MAX + 1, 0)).toThrow('a MAC id is an integer from 1 to 16777215');
    expect(() => allocatedNicMac(1, VM_MACS_PER_ID)).toThrow('at most 256 NICs');
  });

  it('nodeNicMac and vmNics: the block when the node has one, the name-derived MAC otherwise (nodes made before)', () => {
    expect(nodeNicMac({ nodeName: 'n1', macId: 5 }, 'eth2', 1)).toBe('52:55:00:00:05:01');
    expect(nodeNicMac({ nodeName: 'n1', macId: null }, 'eth2', 1)).toBe(vmNicMac('n1', 'eth2'));
    expect(nodeNicMac({ nodeName: 'n1' }, 'eth2', 1)).toBe(vmNicMac('n1', 'eth2'));
    expect(vmNics('sim', [], { nodeName: 's1', macId: 9 })).toEqual([{ name: 'eth0', mac: '52:55:00:00:09:00' }]);
    expect(vmNics('qemu', ['eth1', 'eth3'], { nodeName: 'q1', macId: 9 })).toEqual([{ name: 'eth1', mac: '52:55:00:00:09:00' }, { name: 'eth3', mac: '52:55:00:00:09:01' }]);
    expect(vmNics('qemu', ['eth1'], { nodeName: 'q1' })).toEqual([{ name: 'eth1', mac: vmNicMac('q1', 'eth1') }]);
  });
});
