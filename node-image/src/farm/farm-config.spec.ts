import { loadFarmConfig } from './farm-config';

describe('loadFarmConfig', () => {
  it('defaults to address mode from 127.1.0.1, port 623, no Redfish', () => {
    const c = loadFarmConfig({ FARM_BMCS: '10000', IPMI_PASS: 'secret' });
    expect(c.plan).toEqual({ mode: 'addresses', count: 10_000, firstAddress: '127.1.0.1', firstPort: 623 });
    expect(c.agent.redfishPort).toBeUndefined();
    expect(c.agent.ipmiPassword).toBe('secret');
    expect(c.agent.machine).toBe('sim');
    expect(c.workers).toBeUndefined();
    expect(c.namePrefix).toBe('farm');
  });

  it('puts every BMC on one address in port mode', () => {
    const c = loadFarmConfig({ FARM_BMCS: '3', FARM_PORTS: '16230', IPMI_ADDRESS: '127.0.0.1', REDFISH_PORT: '18443', FARM_WORKERS: '2', NODE_NAME: 'lab' });
    expect(c.plan).toEqual({ mode: 'ports', count: 3, firstAddress: '127.0.0.1', firstPort: 16230 });
    expect(c.agent.redfishPort).toBe(18443);
    expect(c.workers).toBe(2);
    expect(c.namePrefix).toBe('lab');
  });

  it('lists every problem at once, naming the variable and the rule', () => {
    let message = '';
    try {
      loadFarmConfig({ FARM_ADDRESSES: '127.0.0.1', FARM_PORTS: '70000', MACHINE: 'qemu', IPMI_PASS: '', FARM_WORKERS: '0' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/FARM_BMCS is required/);
    expect(message).toMatch(/FARM_ADDRESSES and FARM_PORTS exclude each other/);
    expect(message).toMatch(/FARM_PORTS="70000" must be a whole number from 1 to 65535/);
    expect(message).toMatch(/MACHINE="qemu" must be sim for a farm/);
    expect(message).toMatch(/IPMI_PASS must not be empty/);
    expect(message).toMatch(/FARM_WORKERS="0" must be a whole number from 1 to 256/);
  });

  it('refuses a plan that leaves loopback or runs out of ports', () => {
    expect(() => loadFarmConfig({ FARM_BMCS: '10', FARM_ADDRESSES: '127.255.255.250' })).toThrow(/leaves 127.0.0.0\/8 \(the last BMC would be 128.0.0.3\)/);
    expect(() => loadFarmConfig({ FARM_BMCS: '100', FARM_PORTS: '65500' })).toThrow(/needs ports up to 65599, past 65535/);
    expect(() => loadFarmConfig({ FARM_BMCS: '100', FARM_PORTS: '20000', REDFISH_PORT: '65500' })).toThrow(/REDFISH_PORT=65500 with FARM_PORTS needs ports up to 65599/);
    expect(() => loadFarmConfig({ FARM_BMCS: '2', FARM_PORTS: '20000', IPMI_ADDRESS: '0.0.0.0' })).toThrow(/IPMI_ADDRESS must be a real address with FARM_PORTS/);
  });

  it('takes a lab interface with a lab network\'s first address, and refuses it with anything else', () => {
    const c = loadFarmConfig({ FARM_BMCS: '50', FARM_ADDRESSES: '10.20.30.130', FARM_INTERFACE: 'eth0' });
    expect(c.plan).toEqual({ mode: 'addresses', count: 50, firstAddress: '10.20.30.130', firstPort: 623 });
    expect(c.labInterface).toBe('eth0');
    expect(loadFarmConfig({ FARM_BMCS: '5' }).labInterface).toBeUndefined();
    expect(() => loadFarmConfig({ FARM_BMCS: '5', FARM_INTERFACE: 'eth0' })).toThrow(/FARM_INTERFACE needs FARM_ADDRESSES/);
    expect(() => loadFarmConfig({ FARM_BMCS: '5', FARM_INTERFACE: 'eth0', FARM_ADDRESSES: '127.1.0.1' })).toThrow(/loopback addresses need no interface/);
    expect(() => loadFarmConfig({ FARM_BMCS: '5', FARM_INTERFACE: 'eth0', FARM_PORTS: '20000' })).toThrow(/FARM_INTERFACE and FARM_PORTS exclude each other/);
    expect(() => loadFarmConfig({ FARM_BMCS: '5', FARM_INTERFACE: 'eth 0', FARM_ADDRESSES: '10.20.30.130' })).toThrow(/FARM_INTERFACE="eth 0" must be a network interface name/);
  });
});
