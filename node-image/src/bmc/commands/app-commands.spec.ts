import { appCommands, SessionControl } from './app-commands';
import type { CommandContext, CommandDefinition } from './command-types';
import type { EstablishedSession } from '../session/session-types';
import { CompletionCode, Privilege } from '../../protocol/errors';
import { AppCmd, NetFn } from '../../protocol/netfn';
import { parseCipherSuiteList } from '../../protocol/crypto/cipher-suites';

const SLOTS = 16;

function session(id: number, handle: number, port: number): EstablishedSession {
  return {
    protocol: 'rmcpplus', bmcSessionId: id, consoleSessionId: 0xa0a2a3a4, handle, userId: 2, userName: 'admin',
    remote: { address: '127.0.0.1', port }, privilege: Privilege.Administrator, maxPrivilege: Privilege.Administrator,
    inbound: { highest: null, seenBelow: 0 }, outboundSequence: 0, lastActivity: 0,
    suite: parseCipherSuiteList('17')[0]!, keys: { sik: Buffer.alloc(32), k1: Buffer.alloc(32), k2: Buffer.alloc(16) },
  };
}

function getSessionInfo(sessions: EstablishedSession[]): (data: number[], currentId?: number) => Promise<{ cc: number; data: number[] }> {
  const control: SessionControl = {
    config: { cipherSuites: parseCipherSuiteList('3,17'), ipmi15Enabled: true, ipmi15AuthTypes: [2], kg: null, channel: 1, limits: { maxSessions: SLOTS } },
    getSession: (id) => sessions.find((s) => s.bmcSessionId === id),
    listSessions: () => [...sessions],
    closeSession: () => false,
  };
  const def = appCommands({ sessions: control, identity: { systemGuid: Buffer.alloc(16), deviceGuid: Buffer.alloc(16) }, onReset: () => {} })
    .find((d: CommandDefinition) => d.netFn === NetFn.App && d.cmd === AppCmd.GetSessionInfo)!;
  return async (data, currentId = sessions[0]?.bmcSessionId ?? 0) => {
    const ctx: CommandContext = {
      session: { id: currentId, handle: 1, protocol: 'rmcpplus', privilege: Privilege.Administrator, userId: 2, remoteAddress: '127.0.0.1', remotePort: 1 },
      now: 0,
    };
    const r = await def.handler(Buffer.from(data), ctx);
    return { cc: r.cc, data: [...(r.data ?? [])] };
  };
}

describe('Get Session Info', () => {
  const two = [session(0x1111, 1, 0xb2de), session(0x2222, 2, 0x1234)];

  it('describes the n-th active session', async () => {
    const call = getSessionInfo(two);
    expect(await call([0x02])).toEqual({ cc: 0, data: [2, SLOTS, 2, 2, Privilege.Administrator, 0x11, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x34, 0x12] });
  });

  // ipmi_sim answers the same; ipmitool `session info all` asks indexes 1..slots and exits 1 on anything shorter.
  it('answers an index past the active sessions with handle 0, the slot count and the active count', async () => {
    const call = getSessionInfo(two);
    expect(await call([0x03])).toEqual({ cc: CompletionCode.Ok, data: [0x00, SLOTS, 2] });
    expect(await call([0x3f])).toEqual({ cc: CompletionCode.Ok, data: [0x00, SLOTS, 2] });
  });

  it('answers an unknown handle or session id the same way', async () => {
    const call = getSessionInfo(two);
    expect(await call([0xfe, 0x09])).toEqual({ cc: CompletionCode.Ok, data: [0x00, SLOTS, 2] });
    expect(await call([0xff, 0x78, 0x56, 0x34, 0x12])).toEqual({ cc: CompletionCode.Ok, data: [0x00, SLOTS, 2] });
    expect((await call([0xfe, 0x02])).data[0]).toBe(2);
  });

  it('still refuses malformed requests', async () => {
    const call = getSessionInfo(two);
    expect((await call([])).cc).toBe(CompletionCode.RequestDataLengthInvalid);
    expect((await call([0x03, 0x00])).cc).toBe(CompletionCode.RequestDataLengthInvalid);
    expect((await call([0x40])).cc).toBe(CompletionCode.InvalidDataField);
  });
});

describe('Get Channel Authentication Capabilities reports exactly the IPMI 1.5 AuthCode types accepted', () => {
  const caps = async (ipmi15Enabled: boolean, ipmi15AuthTypes: number[]): Promise<number[]> => {
    const control: SessionControl = {
      config: { cipherSuites: parseCipherSuiteList('3,17'), ipmi15Enabled, ipmi15AuthTypes, kg: null, channel: 1, limits: { maxSessions: SLOTS } },
      getSession: () => undefined, listSessions: () => [], closeSession: () => false,
    };
    const def = appCommands({ sessions: control, identity: { systemGuid: Buffer.alloc(16), deviceGuid: Buffer.alloc(16) }, onReset: () => {} })
      .find((d: CommandDefinition) => d.netFn === NetFn.App && d.cmd === AppCmd.GetChannelAuthCapabilities)!;
    const ctx: CommandContext = { session: { id: 0, handle: 0, protocol: 'none', privilege: Privilege.None, userId: 0, remoteAddress: '127.0.0.1', remotePort: 1 }, now: 0 };
    const r = await def.handler(Buffer.from([0x8e, 0x04]), ctx);
    return [...(r.data ?? [])];
  };

  it('MD5 only by default (bit 2), MD5 and straight password (bit 4) when both are on, none when IPMI 1.5 is off', async () => {
    expect((await caps(true, [2]))[1]).toBe(0x80 | 0x04);
    expect((await caps(true, [2, 4]))[1]).toBe(0x80 | 0x04 | 0x10);
    expect((await caps(true, [4]))[1]).toBe(0x80 | 0x10);
    expect((await caps(false, [2]))[1]).toBe(0x80);
    expect((await caps(false, [2]))[3]).toBe(0x02);
    expect((await caps(true, [2]))[3]).toBe(0x03);
  });
});
