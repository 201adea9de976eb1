import { nicMac } from './qemu-args';
import { SIM_DEFAULT_NIC, vmNicMac, vmNicNames } from './vm-nics';

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
