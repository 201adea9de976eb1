import { Privilege } from '../../protocol/errors';
import { NetFn, TransportCmd } from '../../protocol/netfn';
import { MemoryStateStore, readJson } from '../../state/state-store';
import type { Ipv4Settings, NetworkInfo } from '../../network/network-info';
import { DEFAULT_LOCKOUT_POLICY, type LockoutPolicy } from '../users/auth-lockout';
import type { CommandContext, CommandResult } from './command-types';
import { LAN_DOCUMENT, LanAuthType, lanCommands } from './lan-commands';

const ctx: CommandContext = {
  now: 0,
  session: { id: 0x0202, handle: 1, protocol: 'rmcpplus', privilege: Privilege.Administrator, userId: 2, remoteAddress: '127.0.0.1', remotePort: 40000 },
};
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const norm = (s: string) => s.replace(/\s+/g, '');

/** The addresses of ipmi-captures.md Vector 5 "lan print 1 (mini)". */
const CAPTURE_NET: Ipv4Settings = {
  interfaceName: 'eth0', address: '192.0.2.10', netmask: '255.255.255.0', mac: '52:54:00:aa:bb:cc',
  gateway: '192.0.2.1', gatewayMac: '52:54:00:00:00:01',
};

function setup(opts: { state?: MemoryStateStore; net?: Ipv4Settings; suites?: number[]; noPort?: boolean } = {}) {
  const state = opts.state ?? new MemoryStateStore();
  let net = opts.net ?? CAPTURE_NET;
  const network: NetworkInfo = { ipv4: () => net };
  let policy: LockoutPolicy = DEFAULT_LOCKOUT_POLICY;
  const users = { get lockoutPolicy() { return policy; }, setLockoutPolicy: (p: LockoutPolicy) => { policy = p; } };
  const defs = lanCommands({
    channel: 1, network, store: state, users, rmcpPort: opts.noPort ? undefined : () => 623,
    cipherSuites: opts.suites ?? [1, 2, 3, 17],
    ipmi15AuthTypes: LanAuthType.Md2 | LanAuthType.Md5 | LanAuthType.Password,
  });
  const run = (cmd: number, data: string) => {
    const def = defs.find((d) => d.netFn === NetFn.Transport && d.cmd === cmd)!;
    const r = def.handler(hex(data), ctx) as CommandResult;
    return { cc: r.cc, data: (r.data ?? Buffer.alloc(0)).toString('hex') };
  };
  return {
    defs, state,
    get: (data: string) => run(TransportCmd.GetLanConfigParameters, data),
    set: (data: string) => run(TransportCmd.SetLanConfigParameters, data),
    policy: () => policy,
    setNet: (n: Ipv4Settings) => { net = n; },
  };
}

describe('lanCommands registration', () => {
  it('registers Get (Operator) and Set (Administrator) LAN Configuration Parameters', () => {
    const { defs } = setup();
    expect(defs.map((d) => [d.netFn, d.cmd, d.privilege])).toEqual([
      [NetFn.Transport, TransportCmd.GetLanConfigParameters, Privilege.Operator],
      [NetFn.Transport, TransportCmd.SetLanConfigParameters, Privilege.Administrator],
    ]);
  });
});

describe('Get LAN Configuration Parameters (lan print 1)', () => {
  // Requests exactly as ipmitool sends them (Vector 5); answers equal the capture where marked "=".
  it.each([
    ['0 set in progress (=)', '01 00 00 00', '11 00'],
    ['1 auth type support', '01 01 00 00', '11 16'],
    ['2 auth type enables (=)', '01 02 00 00', '11 16 16 16 16 00'],
    ['4 IP address source (=)', '01 04 00 00', '11 01'],
    ['3 IP address (=)', '01 03 00 00', '11 c0 00 02 0a'],
    ['6 subnet mask (=)', '01 06 00 00', '11 ff ff ff 00'],
    ['5 MAC address (=)', '01 05 00 00', '11 52 54 00 aa bb cc'],
    ['16 community string (=)', '01 10 00 00', '11 70 75 62 6c 69 63 00 00 00 00 00 00 00 00 00 00 00 00'],
    ['7 IPv4 header parameters (=)', '01 07 00 00', '11 40 40 10'],
    ['10 ARP control (capture: 0x80)', '01 0a 00 00', '11 02'],
    ['11 gratuitous ARP interval (capture: 0x80)', '01 0b 00 00', '11 04'],
    ['12 default gateway (=)', '01 0c 00 00', '11 c0 00 02 01'],
    ['13 default gateway MAC (=)', '01 0d 00 00', '11 52 54 00 00 00 01'],
    ['14 backup gateway (=)', '01 0e 00 00', '11 00 00 00 00'],
    ['15 backup gateway MAC (=)', '01 0f 00 00', '11 00 00 00 00 00 00'],
    ['20 VLAN ID (=)', '01 14 00 00', '11 00 00'],
    ['21 VLAN priority (=)', '01 15 00 00', '11 00'],
    ['22 cipher suite entry support (=)', '01 16 00 00', '11 04'],
    ['23 cipher suite entries (=)', '01 17 00 00', '11 00 01 02 03 11'],
    ['24 cipher suite privileges, one nibble per suite ID as ipmitool and FreeIPMI read it', '01 18 00 00', '11 00 40 44 00 00 00 00 00 00'],
    ['26 bad password threshold (capture: 0x80)', '01 1a 00 00', '11 00 05 06 00 03 00'],
    ['8 primary RMCP port', '01 08 00 00', '11 6f 02'],
  ])('param %s', (_what, req, rsp) => {
    expect(setup().get(req)).toEqual({ cc: 0, data: norm(rsp) });
  });

  it('reads the network live on every request and reports 0.0.0.0 without a gateway', () => {
    const sut = setup();
    sut.setNet({ interfaceName: 'lo', address: '127.0.0.1', netmask: '255.0.0.0', mac: '00:00:00:00:00:00' });
    expect(sut.get('01 03 00 00').data).toBe('117f000001');
    expect(sut.get('01 0c 00 00').data).toBe('1100000000');
    expect(sut.get('01 0d 00 00').data).toBe('11000000000000');
  });

  it('lists at most 16 suites and one privilege nibble per suite ID (17 has none)', () => {
    const sut = setup({ suites: [3, 17] });
    expect(sut.get('01 16 00 00').data).toBe('1102');
    expect(sut.get('01 17 00 00').data).toBe('11000311');
    expect(sut.get('01 18 00 00').data).toBe('11' + '00' + '00' + '40' + '00'.repeat(6));
    expect(setup({ suites: [3] }).get('01 18 00 00').data).toBe('11' + '00' + '00' + '40' + '00'.repeat(6));
    expect(setup({ suites: [1, 2, 15, 16] }).get('01 18 00 00').data).toBe('11' + '00' + '40' + '04' + '00'.repeat(5) + '40'); // 16 and 17 have no nibble
  });

  it('does not support parameter 8 when the port is not known', () => {
    expect(setup({ noPort: true }).get('01 08 00 00').cc).toBe(0x80);
  });

  it('answers the revision only when bit 7 is set, whatever the parameter', () => {
    expect(setup().get('81 03 00 00')).toEqual({ cc: 0, data: '11' });
    expect(setup().get('81 63 00 00')).toEqual({ cc: 0, data: '11' });
  });

  it.each([
    ['an unknown parameter', '01 09 00 00', 0x80],
    ['parameter 25', '01 19 00 00', 0x80],
    ['an OEM parameter', '01 c0 00 00', 0x80],
    ['another channel', '02 03 00 00', 0xcc],
    ['reserved bits', '11 03 00 00', 0xcc],
    ['a short request', '01 03 00', 0xc7],
    ['a long request', '01 03 00 00 00', 0xc7],
  ])('refuses %s', (_what, req, cc) => {
    expect(setup().get(req).cc).toBe(cc);
  });

  it('accepts 0x0E for the current channel', () => {
    expect(setup().get('0e 03 00 00').data).toBe('11c000020a');
  });
});

describe('Set LAN Configuration Parameters', () => {
  it('stores VLAN, community string, ARP and IP header settings in lan.json and reads them back exactly', () => {
    const state = new MemoryStateStore();
    const first = setup({ state });
    expect(first.set('01 14 64 80').cc).toBe(0); // lan set 1 vlan id 100
    expect(first.set('01 15 05').cc).toBe(0);
    expect(first.set('01 10' + Buffer.from('private').toString('hex') + '00'.repeat(11)).cc).toBe(0);
    expect(first.set('01 0a 03').cc).toBe(0);
    expect(first.set('01 0b 09').cc).toBe(0);
    expect(first.set('01 07 20 40 10').cc).toBe(0);
    expect(readJson<{ params: Record<string, string> }>(state, LAN_DOCUMENT)!.params['20']).toBe('6480');

    const second = setup({ state });
    expect(second.get('01 14 00 00').data).toBe('116480');
    expect(second.get('01 15 00 00').data).toBe('1105');
    expect(second.get('01 10 00 00').data).toBe('11' + Buffer.from('private').toString('hex') + '00'.repeat(11));
    expect(second.get('01 0a 00 00').data).toBe('1103');
    expect(second.get('01 0b 00 00').data).toBe('1109');
    expect(second.get('01 07 00 00').data).toBe('11204010');
    expect(second.set('01 14 00 00').cc).toBe(0); // lan set 1 vlan id off
    expect(second.get('01 14 00 00').data).toBe('110000');
  });

  it('accepts a write of the address already in force and refuses to change it (0xD5)', () => {
    const sut = setup();
    expect(sut.set('01 03 c0 00 02 0a')).toEqual({ cc: 0, data: '' });
    expect(sut.set('01 03 c0 00 02 0b').cc).toBe(0xd5);
    expect(sut.set('01 04 01').cc).toBe(0); // lan set 1 ipsrc static
    expect(sut.set('01 04 02').cc).toBe(0xd5); // lan set 1 ipsrc dhcp
    expect(sut.set('01 06 ff ff 00 00').cc).toBe(0xd5);
    expect(sut.set('01 05 52 54 00 aa bb cd').cc).toBe(0xd5);
    expect(sut.set('01 0c c0 00 02 fe').cc).toBe(0xd5);
    expect(sut.set('01 0e 00 00 00 00').cc).toBe(0);
    expect(sut.set('01 02 16 16 16 16 00').cc).toBe(0);
    expect(sut.set('01 02 01 01 01 01 00').cc).toBe(0xd5); // lan set 1 auth ... none
    expect(sut.set('01 18 00 40 44 00 00 00 00 00 00').cc).toBe(0);
    expect(sut.set('01 18 00 33 33 00 00 00 00 00 00').cc).toBe(0xd5);
    expect(sut.set('01 08 6f 02').cc).toBe(0);
    expect(sut.set('01 08 70 02').cc).toBe(0xd5);
    expect(sut.get('01 03 00 00').data).toBe('11c000020a');
  });

  it('refuses read-only parameters with 0x82', () => {
    const sut = setup();
    expect(sut.set('01 01 16').cc).toBe(0x82);
    expect(sut.set('01 16 04').cc).toBe(0x82);
    expect(sut.set('01 17 00 01 02 03 11').cc).toBe(0x82);
  });

  it('applies the bad password threshold to the user store', () => {
    const sut = setup();
    expect(sut.set('01 1a 00 03 0c 00 06 00').cc).toBe(0);
    expect(sut.policy()).toEqual({ threshold: 3, attemptWindowMs: 120_000, lockoutMs: 60_000 });
    expect(sut.get('01 1a 00 00').data).toBe('1100030c000600');
    expect(sut.set('01 1a 01 03 0c 00 06 00').cc).toBe(0xcc); // session audit events: not supported
    expect(sut.set('01 1a 00 03 0c 00 06').cc).toBe(0xc7);
  });

  it.each([
    ['an unknown parameter', '01 09 00', 0x80],
    ['a VLAN ID of 0 when enabled', '01 14 00 80', 0xcc],
    ['VLAN ID 4095', '01 14 ff 8f', 0xcc],
    ['VLAN reserved bits', '01 14 64 90', 0xcc],
    ['VLAN priority reserved bits', '01 15 08', 0xcc],
    ['ARP control reserved bits', '01 0a 04', 0xcc],
    ['IP header reserved flag bits', '01 07 40 41 10', 0xcc],
    ['a short VLAN ID', '01 14 64', 0xc7],
    ['a short community string', '01 10 70 75 62', 0xc7],
    ['a short IP address', '01 03 c0 00 02', 0xc7],
    ['no parameter', '01', 0xc7],
    ['another channel', '02 14 64 80', 0xcc],
    ['reserved channel bits', '21 14 64 80', 0xcc],
  ])('refuses %s', (_what, req, cc) => {
    const sut = setup();
    expect(sut.set(req).cc).toBe(cc);
    expect(sut.get('01 14 00 00').data).toBe('110000');
  });

  describe('parameter 0, set in progress', () => {
    it('follows ipmitool lan set: lock, write, commit, unlock', () => {
      const sut = setup();
      expect(sut.set('01 00 01').cc).toBe(0);
      expect(sut.get('01 00 00 00').data).toBe('1101');
      expect(sut.set('01 14 64 80').cc).toBe(0);
      expect(sut.set('01 00 02').cc).toBe(0);
      expect(sut.get('01 00 00 00').data).toBe('1101');
      expect(sut.set('01 00 00').cc).toBe(0);
      expect(sut.get('01 00 00 00').data).toBe('1100');
      expect(sut.get('01 14 00 00').data).toBe('116480');
    });

    it('answers 0x81 to a second "set in progress", 0xCC to the reserved value', () => {
      const sut = setup();
      expect(sut.set('01 00 01').cc).toBe(0);
      expect(sut.set('01 00 01').cc).toBe(0x81);
      expect(sut.set('01 00 03').cc).toBe(0xcc);
      expect(sut.set('01 00 00 00').cc).toBe(0xc7);
    });

    it('is not persisted', () => {
      const state = new MemoryStateStore();
      setup({ state }).set('01 00 01');
      expect(setup({ state }).get('01 00 00 00').data).toBe('1100');
    });
  });

  it('ignores a lan.json with invalid values', () => {
    const state = new MemoryStateStore();
    state.write(LAN_DOCUMENT, Buffer.from(JSON.stringify({ version: 1, params: { 20: '0080', 21: 'zz', 16: '00' } })));
    const sut = setup({ state });
    expect(sut.get('01 14 00 00').data).toBe('110000');
    expect(sut.get('01 15 00 00').data).toBe('1100');
    expect(sut.get('01 10 00 00').data).toBe('11' + Buffer.from('public').toString('hex') + '00'.repeat(12));
  });
});
