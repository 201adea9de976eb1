import { Privilege } from '../../protocol/errors';
import { AppCmd, NetFn } from '../../protocol/netfn';
import { MemoryStateStore } from '../../state/state-store';
import { CHANNEL_DOCUMENT, ChannelAccessStore } from '../users/channel-access';
import type { CommandContext, CommandResult } from './command-types';
import { channelCommands } from './channel-commands';

const ctx: CommandContext = {
  now: 0,
  session: { id: 0x0202, handle: 1, protocol: 'rmcpplus', privilege: Privilege.Administrator, userId: 2, remoteAddress: '127.0.0.1', remotePort: 40000 },
};
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function setup(state = new MemoryStateStore(), sessions = 1) {
  const access = new ChannelAccessStore(state);
  let active = sessions;
  const defs = channelCommands({ channel: 1, access, activeSessionCount: () => active });
  const call = (cmd: number, data: string) => {
    const def = defs.find((d) => d.netFn === NetFn.App && d.cmd === cmd)!;
    const r = def.handler(hex(data), ctx) as CommandResult;
    return { cc: r.cc, data: (r.data ?? Buffer.alloc(0)).toString('hex') };
  };
  return { access, defs, call, setActive: (n: number) => { active = n; } };
}

describe('channelCommands registration', () => {
  it('registers Get Channel Info/Access (User) and Set Channel Access (Administrator)', () => {
    const { defs } = setup();
    expect(defs.map((d) => [d.cmd, d.privilege]).sort((a, b) => a[0]! - b[0]!)).toEqual([
      [AppCmd.SetChannelAccess, Privilege.Administrator],
      [AppCmd.GetChannelAccess, Privilege.User],
      [AppCmd.GetChannelInfo, Privilege.User],
    ]);
  });
});

describe('Get Channel Info', () => {
  it('answers the captured requests (channel info; lan print 1) with LAN 802.3, IPMB-1.0, multi-session, IANA 7154', () => {
    const { call, setActive } = setup();
    expect(call(AppCmd.GetChannelInfo, '0e')).toEqual({ cc: 0, data: '010401' + '81' + 'f21b00' + '0000' });
    setActive(2);
    expect(call(AppCmd.GetChannelInfo, '01')).toEqual({ cc: 0, data: '01040182f21b000000' });
  });

  it('caps the active session count at the 6-bit field', () => {
    const { call, setActive } = setup();
    setActive(100);
    expect(call(AppCmd.GetChannelInfo, '01').data.slice(6, 8)).toBe('bf');
  });

  it.each([
    ['channel 0', '00', 0xcc],
    ['channel 2', '02', 0xcc],
    ['the system interface (none here)', '0f', 0xcc],
    ['reserved bits', '81', 0xcc],
    ['no data', '', 0xc7],
    ['extra data', '01 00', 0xc7],
  ])('refuses %s', (_what, data, cc) => {
    expect(setup().call(AppCmd.GetChannelInfo, data).cc).toBe(cc);
  });
});

describe('Get Channel Access', () => {
  it('reports alerting disabled, authentication on, always available, Administrator (volatile and non-volatile)', () => {
    const { call } = setup();
    expect(call(AppCmd.GetChannelAccess, '01 80')).toEqual({ cc: 0, data: '2204' });
    expect(call(AppCmd.GetChannelAccess, '01 40')).toEqual({ cc: 0, data: '2204' });
    expect(call(AppCmd.GetChannelAccess, '0e 80')).toEqual({ cc: 0, data: '2204' });
  });

  it.each([
    ['selector 00', '01 00', 0xcc],
    ['selector 11', '01 c0', 0xcc],
    ['reserved bits', '01 81', 0xcc],
    ['another channel', '02 80', 0xcc],
    ['a short request', '01', 0xc7],
  ])('refuses %s', (_what, data, cc) => {
    expect(setup().call(AppCmd.GetChannelAccess, data).cc).toBe(cc);
  });
});

describe('Set Channel Access', () => {
  it('sets the volatile privilege limit without touching the stored one', () => {
    const state = new MemoryStateStore();
    const { call, access } = setup(state);
    expect(call(AppCmd.SetChannelAccess, '01 00 83')).toEqual({ cc: 0, data: '' });
    expect(access.privilegeLimit()).toBe(Privilege.Operator);
    expect(call(AppCmd.GetChannelAccess, '01 80').data).toBe('2203');
    expect(call(AppCmd.GetChannelAccess, '01 40').data).toBe('2204');
    expect(state.read(CHANNEL_DOCUMENT)).toBeUndefined();
  });

  it('persists non-volatile settings in channel.json; they are in force after a restart', () => {
    const state = new MemoryStateStore();
    const first = setup(state);
    // ipmitool "lan set 1 access on" (non-volatile half): access mode 2, alerting enabled, privilege 3.
    expect(first.call(AppCmd.SetChannelAccess, '01 42 43').cc).toBe(0);
    expect(first.call(AppCmd.GetChannelAccess, '01 40').data).toBe('0203');
    expect(first.access.privilegeLimit()).toBe(Privilege.Administrator);
    const second = setup(state);
    expect(second.call(AppCmd.GetChannelAccess, '01 80').data).toBe('0203');
    expect(second.access.privilegeLimit()).toBe(Privilege.Operator);
  });

  it('ignores the fields whose selector says "do not change"', () => {
    const { call } = setup();
    expect(call(AppCmd.SetChannelAccess, '01 1f 0f').cc).toBe(0);
    expect(call(AppCmd.GetChannelAccess, '01 80').data).toBe('2204');
  });

  it('refuses access modes other than always available with 0x83 and changes nothing', () => {
    const { call } = setup();
    expect(call(AppCmd.SetChannelAccess, '01 80 82').cc).toBe(0x83); // "lan set 1 access off"
    expect(call(AppCmd.SetChannelAccess, '01 83 82').cc).toBe(0x83);
    expect(call(AppCmd.GetChannelAccess, '01 80').data).toBe('2204');
  });

  it.each([
    ['disabling per-message authentication', '01 92 00', 0xcc],
    ['disabling user-level authentication', '01 8a 00', 0xcc],
    ['access selector 11', '01 c2 00', 0xcc],
    ['privilege selector 11', '01 00 c4', 0xcc],
    ['privilege 0', '01 00 80', 0xcc],
    ['privilege 6', '01 00 86', 0xcc],
    ['reserved privilege bits', '01 00 94', 0xcc],
    ['another channel', '02 82 84', 0xcc],
    ['a short request', '01 82', 0xc7],
  ])('refuses %s', (_what, data, cc) => {
    const { call, access } = setup();
    expect(call(AppCmd.SetChannelAccess, data).cc).toBe(cc);
    expect(access.get('volatile').privilegeLimit).toBe(Privilege.Administrator);
  });

  it('applies neither half when the privilege half is invalid', () => {
    const { call } = setup();
    expect(call(AppCmd.SetChannelAccess, '01 82 80').cc).toBe(0xcc);
    expect(call(AppCmd.GetChannelAccess, '01 80').data).toBe('2204');
  });
});

describe('ChannelAccessStore', () => {
  it('falls back to the defaults for an unreadable or out-of-range channel.json', () => {
    const state = new MemoryStateStore();
    state.write(CHANNEL_DOCUMENT, Buffer.from('nonsense'));
    expect(new ChannelAccessStore(state).privilegeLimit()).toBe(Privilege.Administrator);
    state.write(CHANNEL_DOCUMENT, Buffer.from(JSON.stringify({ version: 1, nonVolatile: { privilegeLimit: 15, alertingDisabled: false } })));
    const sut = new ChannelAccessStore(state);
    expect(sut.privilegeLimit()).toBe(Privilege.Administrator);
    expect(sut.get('volatile').alertingDisabled).toBe(false);
  });
});
