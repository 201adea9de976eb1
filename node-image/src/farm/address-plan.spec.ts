import { addIpv4, checkPlan, endpointOf, formatIpv4, macOf, parseIpv4 } from './address-plan';

describe('farm address plan', () => {
  it('counts addresses across octet boundaries', () => {
    expect(addIpv4('127.1.0.1', 0)).toBe('127.1.0.1');
    expect(addIpv4('127.1.0.1', 1)).toBe('127.1.0.2');
    expect(addIpv4('127.1.0.255', 1)).toBe('127.1.1.0');
    expect(addIpv4('127.1.0.1', 9_999)).toBe('127.1.39.16');
    expect(addIpv4('127.1.255.255', 1)).toBe('127.2.0.0');
    expect(addIpv4('10.0.0.0', 100_000)).toBe('10.1.134.160');
    expect(() => addIpv4('255.255.255.255', 1)).toThrow(/past 255.255.255.255/);
    expect(() => addIpv4('300.0.0.1', 1)).toThrow(/not an IPv4 address/);
  });

  it('parses and formats dotted quads, refusing what is not one', () => {
    expect(parseIpv4('192.168.1.2')).toBe(0xc0a80102);
    expect(formatIpv4(0xc0a80102)).toBe('192.168.1.2');
    expect(parseIpv4('1.2.3')).toBeUndefined();
    expect(parseIpv4('1.2.3.256')).toBeUndefined();
    expect(parseIpv4('a.b.c.d')).toBeUndefined();
  });

  it('gives each BMC its address (address mode) or its port (port mode)', () => {
    const byAddress = { mode: 'addresses', count: 3, firstAddress: '127.1.0.1', firstPort: 623 } as const;
    expect([0, 1, 2].map((i) => endpointOf(byAddress, i))).toEqual([
      { index: 0, address: '127.1.0.1', port: 623 },
      { index: 1, address: '127.1.0.2', port: 623 },
      { index: 2, address: '127.1.0.3', port: 623 },
    ]);
    const byPort = { mode: 'ports', count: 3, firstAddress: '127.0.0.1', firstPort: 16230 } as const;
    expect(endpointOf(byPort, 2)).toEqual({ index: 2, address: '127.0.0.1', port: 16232 });
    expect(() => endpointOf(byPort, 3)).toThrow(/outside the farm \(0 to 2\)/);
  });

  it('reports plans that cannot work, naming the variable and the rule', () => {
    expect(checkPlan({ mode: 'addresses', count: 100_000, firstAddress: '127.1.0.1', firstPort: 623 })).toEqual([]);
    expect(checkPlan({ mode: 'addresses', count: 2, firstAddress: '127.255.255.255', firstPort: 623 })).toEqual([
      expect.stringMatching(/leaves 127.0.0.0\/8 \(the last BMC would be 128.0.0.0\)/),
    ]);
    expect(checkPlan({ mode: 'addresses', count: 1, firstAddress: '0.0.0.0', firstPort: 623 })[0]).toMatch(/not 0.0.0.0/);
    expect(checkPlan({ mode: 'addresses', count: 1, firstAddress: 'localhost', firstPort: 623 })[0]).toMatch(/FARM_ADDRESSES="localhost" must be an IPv4 address/);
    expect(checkPlan({ mode: 'ports', count: 10, firstAddress: '127.0.0.1', firstPort: 65530 })[0]).toMatch(/needs ports up to 65539, past 65535/);
    expect(checkPlan({ mode: 'ports', count: 0, firstAddress: '127.0.0.1', firstPort: 1000 })[0]).toMatch(/FARM_BMCS must be a whole number ≥ 1/);
  });

  it('derives distinct, locally administered unicast MACs', () => {
    expect(macOf(0x1234, 0)).toBe('02:12:34:00:00:00');
    expect(macOf(0x1234, 70_000)).toBe('02:12:34:01:11:70');
    const macs = new Set(Array.from({ length: 5_000 }, (_, i) => macOf(7, i)));
    expect(macs.size).toBe(5_000);
    expect(() => macOf(7, 0x1000000)).toThrow(/does not fit a MAC/);
  });
});
