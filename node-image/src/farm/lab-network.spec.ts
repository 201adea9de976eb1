import type { AddressPlan } from './address-plan';
import { FarmNetworkInfo } from './farm-network-info';
import {
  CAP_NET_ADMIN, checkInterfaceName, hasEffectiveCapability, netmaskOf, parseDefaultGateway, parseInterfaceAddresses, planLabAddresses, releaseLines,
} from './lab-network';

/** `ip -j -4 addr show dev eth0` of iproute2 6.1 in a container on a Docker network, with two farm addresses. */
const IP_ADDR_JSON = '[{"ifindex":8118,"link_index":8119,"ifname":"eth0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"qdisc":"noqueue","operstate":"UP","group":"default","link_netnsid":0,"addr_info":['
  + '{"family":"inet","local":"10.20.30.2","prefixlen":24,"broadcast":"10.20.30.255","scope":"global","label":"eth0","valid_life_time":4294967295,"preferred_life_time":4294967295},'
  + '{"family":"inet","local":"10.20.30.130","prefixlen":24,"scope":"global","secondary":true,"label":"eth0","valid_life_time":4294967295,"preferred_life_time":4294967295},'
  + '{"family":"inet","local":"10.20.30.131","prefixlen":24,"scope":"global","secondary":true,"label":"eth0","valid_life_time":4294967295,"preferred_life_time":4294967295}]}]';
const ROUTE_JSON = '[{"dst":"default","gateway":"10.20.30.1","flags":[]}]';

const plan = (firstAddress: string, count: number): AddressPlan => ({ mode: 'addresses', count, firstAddress, firstPort: 623 });

describe('lab network (FARM_INTERFACE)', () => {
  const addresses = parseInterfaceAddresses(IP_ADDR_JSON, 'eth0');

  it('reads the interface\'s addresses and its default gateway from ip -j output', () => {
    expect(addresses).toEqual([
      { address: '10.20.30.2', prefixLength: 24, secondary: false },
      { address: '10.20.30.130', prefixLength: 24, secondary: true },
      { address: '10.20.30.131', prefixLength: 24, secondary: true },
    ]);
    expect(parseDefaultGateway(ROUTE_JSON)).toBe('10.20.30.1');
    expect(parseDefaultGateway('[]')).toBeUndefined();
    expect(netmaskOf(24)).toBe('255.255.255.0');
    expect(netmaskOf(16)).toBe('255.255.0.0');
    expect(netmaskOf(0)).toBe('0.0.0.0');
  });

  it('adds only what is missing, with the subnet\'s prefix, and reports the LAN every BMC shows', () => {
    const p = planLabAddresses(plan('10.20.30.130', 4), 'eth0', addresses, '10.20.30.1');
    expect(p).toEqual({
      ok: true,
      lan: { interfaceName: 'eth0', prefixLength: 24, netmask: '255.255.255.0', gateway: '10.20.30.1' },
      missing: 2,
      addLines: ['address add 10.20.30.132/24 dev eth0', 'address add 10.20.30.133/24 dev eth0'],
    });
    expect(planLabAddresses(plan('10.20.30.130', 2), 'eth0', addresses, undefined)).toMatchObject({ ok: true, missing: 0, addLines: [], lan: { netmask: '255.255.255.0' } });
  });

  it('refuses a range outside the subnet, past it, or holding the interface\'s own address or gateway', () => {
    const problems = (first: string, count: number, gw = '10.20.30.1'): string => {
      const p = planLabAddresses(plan(first, count), 'eth0', addresses, gw);
      return p.ok ? '' : p.problems.join('\n');
    };
    expect(problems('10.99.0.10', 5)).toMatch(/FARM_ADDRESSES=10.99.0.10 is outside eth0's subnet 10.20.30.0\/24/);
    expect(problems('10.20.30.250', 10)).toMatch(/runs past eth0's subnet 10.20.30.0\/24 \(the last BMC would be 10.20.31.3; the last usable address is 10.20.30.254\)/);
    expect(problems('10.20.30.251', 5)).toMatch(/the last BMC would be 10.20.30.255; the last usable address is 10.20.30.254/);
    expect(problems('10.20.30.250', 5)).toBe('');
    expect(problems('10.20.30.254', 1)).toBe('');
    expect(problems('10.20.30.0', 1)).toMatch(/is outside eth0's subnet/);
    expect(problems('10.20.30.1', 10, '10.20.30.1')).toMatch(/includes eth0's own address 10.20.30.2/);
    expect(problems('10.20.30.1', 10, '10.20.30.1')).toMatch(/includes eth0's gateway 10.20.30.1/);
    expect(problems('10.20.30.10', 1)).toBe('');
    const bare = planLabAddresses(plan('10.20.30.10', 1), 'eth1', [], undefined);
    expect(bare.ok ? '' : bare.problems[0]).toMatch(/FARM_INTERFACE=eth1 has no IPv4 address of its own/);
  });

  it('removes exactly the plan\'s addresses that are on the interface, never its own', () => {
    expect(releaseLines(plan('10.20.30.130', 50), 'eth0', addresses)).toEqual(['address del 10.20.30.130/24 dev eth0', 'address del 10.20.30.131/24 dev eth0']);
    expect(releaseLines(plan('10.20.30.131', 1), 'eth0', addresses)).toEqual(['address del 10.20.30.131/24 dev eth0']);
    expect(releaseLines(plan('10.20.30.2', 1), 'eth0', addresses)).toEqual([]);
  });

  it('reads NET_ADMIN from the effective capability set', () => {
    // Docker's default set, then the same with --cap-add NET_ADMIN (bit 12).
    expect(hasEffectiveCapability('Name:\tnode\nCapEff:\t00000000a80425fb\n', CAP_NET_ADMIN)).toBe(false);
    expect(hasEffectiveCapability('Name:\tnode\nCapEff:\t00000000a80435fb\n', CAP_NET_ADMIN)).toBe(true);
    expect(hasEffectiveCapability('no capabilities here', CAP_NET_ADMIN)).toBe(false);
  });

  it('accepts interface names Linux accepts', () => {
    expect(checkInterfaceName('eth0')).toBeUndefined();
    expect(checkInterfaceName('br-0123456789ab')).toBeUndefined();
    expect(checkInterfaceName('a-name-too-long-1')).toMatch(/must be a network interface name/);
    expect(checkInterfaceName('eth0:1')).toMatch(/no "\/", ":" or spaces/);
  });

  it('gives each BMC its own address and MAC with the lab network\'s netmask and gateway in lan print', () => {
    const lan = { interfaceName: 'eth0', prefixLength: 24, netmask: '255.255.255.0', gateway: '10.20.30.1' };
    expect(new FarmNetworkInfo('10.20.30.131', 0x1234, 1, lan).ipv4()).toEqual({ interfaceName: 'eth0', address: '10.20.30.131', netmask: '255.255.255.0', gateway: '10.20.30.1', mac: '02:12:34:00:00:01' });
    expect(new FarmNetworkInfo('127.1.0.1', 0x1234, 0).ipv4()).toEqual({ interfaceName: 'lo', address: '127.1.0.1', netmask: '255.0.0.0', mac: '02:12:34:00:00:00' });
  });
});
