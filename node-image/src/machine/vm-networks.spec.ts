import { nicMac, type QemuNic } from './qemu-args';
import {
  attachProblems, IFNAME_MAX, type IpLink, type LinkProbe, networkNames, parseIpLinks, planAttach, VmNetworkError, VmNetworks,
  type VmNetworksOptions, vmNicMac,
} from './vm-networks';

const link = (name: string, rest: Partial<IpLink> = {}): IpLink => ({
  name, kind: undefined, tunType: undefined, master: undefined, up: true, mtu: 1500, addrGenMode: 'eui64', addresses: [], ...rest,
});
const linksOf = (...links: IpLink[]): Map<string, IpLink> => new Map(links.map((l) => [l.name, l]));
const ETH1 = networkNames('eth1');
/** eth1, br-eth1 and tap-eth1 as they are once bridged. */
const ATTACHED = [
  link('eth1', { kind: 'veth', master: 'br-eth1', addrGenMode: 'none' }),
  link('br-eth1', { kind: 'bridge', addrGenMode: 'none' }),
  link('tap-eth1', { kind: 'tun', tunType: 'tap', master: 'br-eth1', addrGenMode: 'none' }),
];

describe('networkNames', () => {
  it('prefixes short names', () => {
    expect(networkNames('eth1')).toEqual({ ifname: 'eth1', bridge: 'br-eth1', tap: 'tap-eth1' });
    // The longest names that still fit as they are.
    expect(networkNames('abcdefghijkl').bridge).toBe('br-abcdefghijkl');
    expect(networkNames('abcdefghijk').tap).toBe('tap-abcdefghijk');
    expect(networkNames('abcdefghijkl').tap).toMatch(/^tap-abcde-[0-9a-f]{5}$/);
  });

  it('shortens long names with a hash, so names with the same start still differ', () => {
    const a = networkNames('eth1.1000-upl');
    const b = networkNames('eth1.1000-upm');
    for (const n of [a, b]) {
      expect(n.bridge.length).toBeLessThanOrEqual(IFNAME_MAX);
      expect(n.tap.length).toBeLessThanOrEqual(IFNAME_MAX);
      expect(n.bridge).toMatch(/^br-eth1\.1-[0-9a-f]{5}$/);
      expect(n.tap).toMatch(/^tap-eth1\.-[0-9a-f]{5}$/);
    }
    expect(a.bridge).not.toBe(b.bridge);
    expect(a.tap).not.toBe(b.tap);
    expect(networkNames('eth1.1000-upl')).toEqual(a);
  });
});

describe('vmNicMac', () => {
  it('is nicMac of node/interface: stable, locally administered (QEMU OUI), per node and interface', () => {
    expect(vmNicMac('node1', 'eth1')).toBe(nicMac('node1/eth1'));
    expect(vmNicMac('node1', 'eth1')).toMatch(/^52:54:00(:[0-9a-f]{2}){3}$/);
    expect(vmNicMac('node1', 'eth1')).not.toBe(vmNicMac('node2', 'eth1'));
    expect(vmNicMac('node1', 'eth1')).not.toBe(vmNicMac('node1', 'eth2'));
  });
});

describe('parseIpLinks', () => {
  it('reads kind, tap type, master, flags, MTU and address generation from link show, addresses from addr show', () => {
    // Trimmed output of iproute2 6.1: `ip -d -j link show` and `ip -j addr show`.
    const linkJson = JSON.stringify([
      { ifindex: 1, ifname: 'lo', flags: ['LOOPBACK', 'UP', 'LOWER_UP'], mtu: 65536, inet6_addr_gen_mode: 'eui64' },
      { ifindex: 4, link_index: 5, ifname: 'eth1', flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], mtu: 9500, master: 'br-eth1',
        linkinfo: { info_kind: 'veth', info_slave_kind: 'bridge' }, inet6_addr_gen_mode: 'none' },
      { ifindex: 6, ifname: 'br-eth1', flags: ['BROADCAST', 'MULTICAST'], mtu: 1500, linkinfo: { info_kind: 'bridge', info_data: { stp_state: 0 } } },
      { ifindex: 7, ifname: 'tap-eth1', flags: ['NO-CARRIER', 'BROADCAST', 'MULTICAST', 'UP'], mtu: 9500, master: 'br-eth1',
        linkinfo: { info_kind: 'tun', info_data: { type: 'tap', pi: false, vnet_hdr: false, persist: true }, info_slave_kind: 'bridge' } },
    ]);
    const addrJson = JSON.stringify([
      { ifindex: 1, ifname: 'lo', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }, { family: 'inet6', local: '::1', prefixlen: 128 }] },
      { ifindex: 4, ifname: 'eth1', addr_info: [{ family: 'inet', local: '172.20.0.5', prefixlen: 16, broadcast: '172.20.255.255' }] },
      { ifindex: 6, ifname: 'br-eth1', addr_info: [] },
      {},
    ]);
    const links = parseIpLinks(linkJson, addrJson);
    expect([...links.keys()]).toEqual(['lo', 'eth1', 'br-eth1', 'tap-eth1']);
    expect(links.get('lo')).toEqual(link('lo', { mtu: 65536, addresses: ['127.0.0.1/8', '::1/128'] }));
    expect(links.get('eth1')).toEqual(link('eth1', { kind: 'veth', master: 'br-eth1', mtu: 9500, addrGenMode: 'none', addresses: ['172.20.0.5/16'] }));
    expect(links.get('br-eth1')).toEqual(link('br-eth1', { kind: 'bridge', up: false, addrGenMode: undefined }));
    expect(links.get('tap-eth1')).toEqual(link('tap-eth1', { kind: 'tun', tunType: 'tap', master: 'br-eth1', mtu: 9500, addrGenMode: undefined }));
  });

  it('refuses output that is not a JSON array', () => {
    expect(() => parseIpLinks('{}', '[]')).toThrow(VmNetworkError);
    expect(() => parseIpLinks('[]', 'not json')).toThrow(SyntaxError);
  });
});

describe('planAttach', () => {
  const args = (eth1: IpLink, ...rest: IpLink[]): string[] => planAttach(ETH1, linksOf(eth1, ...rest)).map((c) => `${c.optional ? '?' : ''}ip ${c.args.join(' ')}`);

  it('creates bridge and tap, moves the interface in, removes its addresses, brings all up', () => {
    expect(args(link('eth1', { kind: 'veth', mtu: 9500, up: false, addresses: ['172.20.0.5/16', 'fe80::1/64'] }))).toEqual([
      'ip link add name br-eth1 type bridge stp_state 0 mcast_snooping 0 group_fwd_mask 0xfff8',
      '?ip link set dev br-eth1 addrgenmode none',
      'ip tuntap add dev tap-eth1 mode tap',
      '?ip link set dev tap-eth1 addrgenmode none',
      'ip link set dev tap-eth1 mtu 9500',
      '?ip link set dev eth1 addrgenmode none',
      'ip addr flush dev eth1',
      'ip link set dev eth1 master br-eth1',
      'ip link set dev tap-eth1 master br-eth1',
      'ip link set dev br-eth1 up',
      'ip link set dev tap-eth1 up',
      'ip link set dev eth1 up',
    ]);
  });

  it('does nothing when everything is in place (a power cycle)', () => {
    expect(planAttach(ETH1, linksOf(...ATTACHED))).toEqual([]);
    // Without IPv6 there is no address generation mode to look at.
    expect(planAttach(ETH1, linksOf(...ATTACHED.map((l) => ({ ...l, addrGenMode: undefined }))))).toEqual([]);
  });

  it('puts a re-created interface back into the existing bridge', () => {
    const [, br, tap] = ATTACHED;
    expect(args(link('eth1', { kind: 'veth', addrGenMode: 'eui64', addresses: ['fe80::2/64'] }), br!, tap!)).toEqual([
      '?ip link set dev eth1 addrgenmode none',
      'ip addr flush dev eth1',
      'ip link set dev eth1 master br-eth1',
    ]);
  });

  it('flushes after switching link-local addresses off, even when none was seen (one may come with the carrier)', () => {
    const [, br, tap] = ATTACHED;
    expect(args(link('eth1', { kind: 'veth', addrGenMode: 'eui64', master: 'br-eth1' }), br!, tap!)).toEqual([
      '?ip link set dev eth1 addrgenmode none',
      'ip addr flush dev eth1',
    ]);
  });

  it('brings down parts up again and follows an MTU change', () => {
    const [eth1, br, tap] = ATTACHED;
    expect(args({ ...eth1!, mtu: 9000 }, { ...br!, up: false }, { ...tap!, up: false })).toEqual([
      'ip link set dev tap-eth1 mtu 9000',
      'ip link set dev br-eth1 up',
      'ip link set dev tap-eth1 up',
    ]);
  });

  it('refuses a missing interface and derived names taken by other kinds of interface', () => {
    expect(() => planAttach(ETH1, linksOf())).toThrow('interface eth1 does not exist');
    expect(() => planAttach(ETH1, linksOf(link('eth1'), link('br-eth1', { kind: 'veth' })))).toThrow('br-eth1 exists and is not a bridge (veth)');
    expect(() => planAttach(ETH1, linksOf(link('eth1'), link('tap-eth1', { kind: 'tun', tunType: 'tun' })))).toThrow('tap-eth1 exists and is not a tap (tun)');
  });
});

describe('attachProblems', () => {
  it('is empty once attached and names each thing that did not hold', () => {
    expect(attachProblems(ETH1, linksOf(...ATTACHED))).toEqual([]);
    expect(attachProblems(ETH1, linksOf(link('eth1', { addresses: ['10.0.0.1/24'] }), link('tap-eth1', { master: 'br-x' })))).toEqual([
      'br-eth1 is missing', 'eth1 is not in br-eth1', 'eth1 still has 10.0.0.1/24', 'tap-eth1 is not in br-eth1',
    ]);
  });
});

/**
 * A stand-in for `ip` and /sys/class/net over an in-memory set of links: it carries out the commands
 * planAttach uses, answers `link show` / `addr show` in iproute2's JSON, and records every call.
 */
class FakeNet implements LinkProbe {
  readonly links = new Map<string, IpLink>();
  readonly calls: string[] = [];
  failing: RegExp | undefined;

  plug(name: string, rest: Partial<IpLink> = {}): void {
    this.links.set(name, link(name, { kind: 'veth', ...rest }));
  }

  unplug(name: string): void {
    this.links.delete(name);
  }

  exists(name: string): boolean { return this.links.has(name); }
  up(name: string): boolean { return this.links.get(name)?.up ?? false; }
  master(name: string): string | undefined { return this.links.get(name)?.master; }

  readonly ip = async (args: readonly string[]): Promise<string> => {
    const line = args.join(' ');
    this.calls.push(line);
    if (this.failing?.test(line)) throw new VmNetworkError(`ip ${line}: Operation not permitted`);
    const set = (name: string, change: Partial<IpLink>): void => {
      const l = this.links.get(name);
      if (!l) throw new VmNetworkError(`ip ${line}: Cannot find device "${name}"`);
      this.links.set(name, { ...l, ...change });
    };
    const [a0, a1, a2, a3, a4, a5] = args;
    if (line === '-d -j link show') {
      return JSON.stringify([...this.links.values()].map((l) => ({
        ifname: l.name, flags: l.up ? ['UP'] : [], mtu: l.mtu, master: l.master, inet6_addr_gen_mode: l.addrGenMode,
        linkinfo: l.kind ? { info_kind: l.kind, info_data: l.tunType ? { type: l.tunType } : {} } : undefined,
      })));
    }
    if (line === '-j addr show') {
      return JSON.stringify([...this.links.values()].map((l) => ({ ifname: l.name, addr_info: l.addresses.map((a) => ({ local: a.split('/')[0], prefixlen: Number(a.split('/')[1]) })) })));
    }
    if (a0 === 'link' && a1 === 'add') this.links.set(a3!, link(a3!, { kind: a5, up: false }));
    else if (a0 === 'tuntap') this.links.set(a3!, link(a3!, { kind: 'tun', tunType: a5, up: false }));
    else if (a0 === 'addr' && a1 === 'flush') set(a3!, { addresses: [] });
    else if (a0 === 'link' && a1 === 'set' && a4 === 'master') set(a3!, { master: a5! });
    else if (a0 === 'link' && a1 === 'set' && a4 === 'mtu') set(a3!, { mtu: Number(a5) });
    else if (a0 === 'link' && a1 === 'set' && a4 === 'addrgenmode') set(a3!, { addrGenMode: a5! });
    else if (a0 === 'link' && a1 === 'set' && a4 === 'up') set(a3!, { up: true });
    else throw new Error(`fake ip: unexpected ${line} (${a2})`);
    return '';
  };
}

describe('VmNetworks (with a fake ip)', () => {
  let net: FakeNet;
  let logs: Array<{ level: string; msg: string; fields?: Record<string, unknown> }>;
  let stops: Array<() => void>;

  beforeEach(() => {
    net = new FakeNet();
    logs = [];
    stops = [];
  });
  afterEach(() => stops.forEach((stop) => stop()));

  function make(interfaces: string[], options: Partial<VmNetworksOptions> = {}): VmNetworks {
    const record = (level: string) => (msg: string, fields?: Record<string, unknown>) => logs.push({ level, msg, ...(fields ? { fields } : {}) });
    return new VmNetworks({
      interfaces, nodeName: 'node1', waitMs: 0, ip: net.ip, probe: net,
      log: { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') },
      timing: { watchPollMs: 10, waitPollMs: 5, settleMs: 50 },
      ...options,
    });
  }
  const nic = (index: number, ifname: string): QemuNic => ({ id: `net${index}`, tapName: `tap-${ifname}`, mac: vmNicMac('node1', ifname) });
  async function waitFor(cond: () => boolean, what: string, ms = 3000): Promise<void> {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  it('does nothing without VM_NETWORKS', async () => {
    const sut = make([]);
    await expect(sut.prepare()).resolves.toEqual([]);
    stops.push(sut.watch([], () => Promise.resolve()));
    expect(net.calls).toEqual([]);
  });

  it('bridges the interfaces in VM_NETWORKS order, logs the addresses it removed, and is idempotent', async () => {
    net.plug('eth2');
    net.plug('eth1', { addresses: ['172.20.0.5/16'] });
    const sut = make(['eth1', 'eth2']);
    await expect(sut.prepare()).resolves.toEqual([nic(0, 'eth1'), nic(1, 'eth2')]);
    expect(attachProblems(networkNames('eth1'), net.links)).toEqual([]);
    expect(attachProblems(networkNames('eth2'), net.links)).toEqual([]);
    expect(logs.find((l) => l.msg === 'VM_NETWORKS interface bridged into the VM' && l.fields?.['interface'] === 'eth1')?.fields).toMatchObject({
      bridge: 'br-eth1', tap: 'tap-eth1', nic: 'net0', mac: vmNicMac('node1', 'eth1'), removedAddresses: ['172.20.0.5/16'],
    });
    // A power cycle: the same NICs, nothing changed, only looks.
    net.calls.length = 0;
    await expect(sut.prepare()).resolves.toEqual([nic(0, 'eth1'), nic(1, 'eth2')]);
    expect(net.calls.every((c) => c.endsWith(' show'))).toBe(true);
  });

  it('with a MAC block (VM_MAC_ID) each NIC takes the MAC of its VM_NETWORKS position, missing ones included', async () => {
    net.plug('eth1');
    net.plug('eth3');
    const sut = make(['eth1', 'eth2', 'eth3'], { macId: 0x0a0b0c });
    const nics = await sut.prepare();
    expect(nics.map((n) => n.mac)).toEqual(['52:55:0a:0b:0c:00', '52:55:0a:0b:0c:02']);
    expect(sut.nicFor('eth2').mac).toBe('52:55:0a:0b:0c:01');
  });

  it('waits for a late interface at power-on, and starts without one that does not come (logged)', async () => {
    const sut = make(['eth1', 'eth2', 'eth3'], { waitMs: 300 });
    net.plug('eth1');
    setTimeout(() => net.plug('eth3'), 50);
    const nics = await sut.prepare();
    expect(nics).toEqual([nic(0, 'eth1'), nic(2, 'eth3')]);
    const warn = logs.find((l) => l.level === 'warn');
    expect(warn?.msg).toMatch(/missing: the VM starts without them/);
    expect(warn?.fields?.['missing']).toEqual(['eth2']);
  });

  it('takes an interface that stays down once it has settled, without waiting out VM_NETWORKS_WAIT', async () => {
    // A wait of a minute would exceed the test's time limit: the settle time ends it.
    const sut = make(['eth1'], { waitMs: 60_000 });
    net.plug('eth1', { up: false });
    await expect(sut.prepare()).resolves.toEqual([nic(0, 'eth1')]);
    expect(net.links.get('eth1')?.up).toBe(true);
    expect(logs.filter((l) => l.level === 'warn')).toEqual([]);
  });

  it('stops waiting when the signal aborts', async () => {
    const sut = make(['eth1'], { waitMs: 60_000 });
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 20);
    await expect(sut.prepare(abort.signal)).rejects.toThrow('stopped while waiting');
  });

  it('fails the power-on when a present interface cannot be bridged, naming what the container needs', async () => {
    net.plug('eth1');
    net.failing = /tuntap/;
    await expect(make(['eth1']).prepare()).rejects.toThrow(/cannot bridge eth1 into the VM \(the container needs --cap-add NET_ADMIN and --device \/dev\/net\/tun\): ip tuntap add dev tap-eth1 mode tap: Operation not permitted/);
  });

  it('ignores a failing optional step (no IPv6 in the kernel)', async () => {
    net.plug('eth1');
    net.failing = /addrgenmode/;
    await expect(make(['eth1']).prepare()).resolves.toEqual([nic(0, 'eth1')]);
  });

  it('watch: hot-adds an interface that appears while the VM runs, once, after bridging it', async () => {
    net.plug('eth1');
    const sut = make(['eth1', 'eth2']);
    const attached = await sut.prepare();
    const added: QemuNic[] = [];
    stops.push(sut.watch(attached, async (n) => {
      expect(attachProblems(networkNames('eth2'), net.links)).toEqual([]);
      added.push(n);
    }));
    await new Promise((r) => setTimeout(r, 50));
    expect(added).toEqual([]);
    net.plug('eth2');
    await waitFor(() => added.length > 0, 'the hot-add');
    await new Promise((r) => setTimeout(r, 50));
    expect(added).toEqual([nic(1, 'eth2')]);
    expect(logs.some((l) => l.msg.includes('NIC hot-plugged into the VM') && l.fields?.['interface'] === 'eth2')).toBe(true);
  });

  it('watch: bridges a re-created interface again without a second hot-add', async () => {
    net.plug('eth1');
    const sut = make(['eth1']);
    const attached = await sut.prepare();
    const hotAdd = jest.fn(() => Promise.resolve());
    stops.push(sut.watch(attached, hotAdd));
    net.unplug('eth1');
    await new Promise((r) => setTimeout(r, 30));
    net.plug('eth1', { addresses: ['10.1.1.1/24'] });
    await waitFor(() => net.links.get('eth1')?.master === 'br-eth1', 're-bridging');
    expect(net.links.get('eth1')?.addresses).toEqual([]);
    expect(hotAdd).not.toHaveBeenCalled();
  });

  it('watch: gives up on an interface after a few failed hot-adds, and stops when told', async () => {
    const sut = make(['eth1'], { timing: { watchPollMs: 5, settleMs: 0, hotAddAttempts: 3 } });
    const hotAdd = jest.fn(() => Promise.reject(new Error('device_add: Bus port-net0 not found')));
    const stop = sut.watch([], hotAdd);
    stops.push(stop);
    net.plug('eth1');
    await waitFor(() => hotAdd.mock.calls.length >= 3, 'three attempts');
    await new Promise((r) => setTimeout(r, 50));
    expect(hotAdd).toHaveBeenCalledTimes(3);
    expect(logs.filter((l) => l.level === 'error').map((l) => l.msg)).toEqual([
      'hot-plugging a VM_NETWORKS interface failed',
      'hot-plugging a VM_NETWORKS interface failed',
      'hot-plugging a VM_NETWORKS interface failed: not trying again while this VM runs',
    ]);

    const later = make(['eth2'], { timing: { watchPollMs: 5, settleMs: 0 } });
    const never = jest.fn(() => Promise.resolve());
    later.watch([], never)();
    net.plug('eth2');
    await new Promise((r) => setTimeout(r, 50));
    expect(never).not.toHaveBeenCalled();
  });
});
