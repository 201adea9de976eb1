import type { NetworkInterfaceInfo } from 'node:os';
import { OsNetworkInfo, parseArpEntry, parseDefaultGateway, pickInterface } from './network-info';

const v4 = (address: string, netmask: string, mac: string, internal = false): NetworkInterfaceInfo =>
  ({ address, netmask, mac, internal, family: 'IPv4', cidr: null }) as NetworkInterfaceInfo;
const v6 = (address: string): NetworkInterfaceInfo =>
  ({ address, netmask: 'ffff:ffff:ffff:ffff::', mac: '02:42:ac:11:00:02', internal: false, family: 'IPv6', cidr: null, scopeid: 0 }) as NetworkInterfaceInfo;

const INTERFACES = {
  lo: [v4('127.0.0.1', '255.0.0.0', '00:00:00:00:00:00', true)],
  eth0: [v6('fe80::42:acff:fe11:2'), v4('172.17.0.2', '255.255.0.0', '02:42:ac:11:00:02')],
  eth1: [v4('10.10.0.5', '255.255.255.0', 'aa:c1:ab:00:00:01')],
};

// Captured from a container: eth0's default route via 172.17.0.1 (little-endian host).
const ROUTE = [
  'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
  'eth0\t00000000\t010011AC\t0003\t0\t0\t0\t00000000\t0\t0\t0',
  'eth0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0',
  'eth1\t00000000\t010A0A0A\t0003\t0\t0\t200\t00000000\t0\t0\t0',
  'eth1\t00000000\t020A0A0A\t0003\t0\t0\t100\t00000000\t0\t0\t0',
  '',
].join('\n');

const ARP = [
  'IP address       HW type     Flags       HW address            Mask     Device',
  '172.17.0.1       0x1         0x2         02:42:AC:11:00:01     *        eth0',
  '10.10.0.2        0x1         0x0         00:00:00:00:00:00     *        eth1',
  '',
].join('\n');

describe('pickInterface', () => {
  it('takes the interface holding the bound address', () => {
    expect(pickInterface(INTERFACES, '10.10.0.5')).toEqual({ interfaceName: 'eth1', address: '10.10.0.5', netmask: '255.255.255.0', mac: 'aa:c1:ab:00:00:01' });
    expect(pickInterface(INTERFACES, '127.0.0.1')?.interfaceName).toBe('lo');
  });

  it('takes the first non-internal IPv4 interface when bound to the wildcard', () => {
    expect(pickInterface(INTERFACES, '0.0.0.0')?.address).toBe('172.17.0.2');
    expect(pickInterface(INTERFACES, '::')?.address).toBe('172.17.0.2');
  });

  it('falls back to loopback, then to nothing', () => {
    expect(pickInterface({ lo: INTERFACES.lo }, '0.0.0.0')?.address).toBe('127.0.0.1');
    expect(pickInterface({}, '0.0.0.0')).toBeUndefined();
  });

  it('uses the wildcard rule when the bound address is not on any interface', () => {
    expect(pickInterface(INTERFACES, '192.0.2.99')?.address).toBe('172.17.0.2');
  });
});

describe('/proc/net parsers', () => {
  it('finds the default gateway of an interface in host byte order, lowest metric first', () => {
    expect(parseDefaultGateway(ROUTE, 'eth0', true)).toBe('172.17.0.1');
    expect(parseDefaultGateway(ROUTE, 'eth1', true)).toBe('10.10.10.2');
    expect(parseDefaultGateway(ROUTE.replace('010011AC', 'AC110001'), 'eth0', false)).toBe('172.17.0.1');
    expect(parseDefaultGateway(ROUTE, 'lo', true)).toBeUndefined();
    expect(parseDefaultGateway('garbage', 'eth0', true)).toBeUndefined();
  });

  it('ignores routes that are down or not via a gateway', () => {
    expect(parseDefaultGateway(ROUTE.replace('0003', '0002'), 'eth0', true)).toBeUndefined();
  });

  it('reads complete neighbour entries only', () => {
    expect(parseArpEntry(ARP, '172.17.0.1', 'eth0')).toBe('02:42:ac:11:00:01');
    expect(parseArpEntry(ARP, '172.17.0.1', 'eth1')).toBeUndefined();
    expect(parseArpEntry(ARP, '10.10.0.2', 'eth1')).toBeUndefined();
  });
});

describe('OsNetworkInfo', () => {
  const files: Record<string, string> = { '/proc/net/route': ROUTE, '/proc/net/arp': ARP };

  it('reports the chosen interface with its gateway and gateway MAC', () => {
    const sut = new OsNetworkInfo({ bindAddress: '0.0.0.0', interfaces: () => INTERFACES, readFile: (p) => files[p], littleEndian: true });
    expect(sut.ipv4()).toEqual({
      interfaceName: 'eth0', address: '172.17.0.2', netmask: '255.255.0.0', mac: '02:42:ac:11:00:02',
      gateway: '172.17.0.1', gatewayMac: '02:42:ac:11:00:01',
    });
  });

  it('reports no gateway without procfs, and loopback when there is no interface at all', () => {
    const noProc = new OsNetworkInfo({ bindAddress: '0.0.0.0', interfaces: () => INTERFACES, readFile: () => undefined });
    expect(noProc.ipv4().gateway).toBeUndefined();
    const none = new OsNetworkInfo({ bindAddress: '0.0.0.0', interfaces: () => ({}), readFile: () => undefined });
    expect(none.ipv4()).toMatchObject({ address: '127.0.0.1', netmask: '255.0.0.0', mac: '00:00:00:00:00:00' });
  });

  it('reads this host for real without throwing', () => {
    const real = new OsNetworkInfo({ bindAddress: '127.0.0.1' }).ipv4();
    expect(real.address).toBe('127.0.0.1');
    expect(real.netmask).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  });
});
