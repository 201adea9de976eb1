import { validateNetworks } from './network-rules';

const net = (name: string, internal = false, ipv6 = false) => ({ name, id: 'x', internal, ipv6 });

describe('validateNetworks', () => {
  it('accepts internal networks and IPv4-only networks sorting after "bridge"', () => {
    expect(validateNetworks(net('vmlan-a'))).toBeNull();
    expect(validateNetworks(net('aaa', true))).toBeNull();
    expect(validateNetworks(net('lab6', true, true))).toBeNull();
  });

  it('refuses networks that would take the default route, saying how to fix it', () => {
    expect(validateNetworks(net('access'))).toMatch(/sorts before "bridge".*vmlan-access/);
    expect(validateNetworks(net('vmlan-b', false, true))).toMatch(/dual-stack/);
  });

  it('refuses Docker\'s own networks', () => {
    expect(validateNetworks(net('bridge'))).toMatch(/cannot be bridged/);
    expect(validateNetworks(net('host'))).toMatch(/cannot be bridged/);
  });
});
