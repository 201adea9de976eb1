import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Privilege, RakpStatus } from '../protocol/errors';
import { AppCmd, ChassisCmd, NetFn, PayloadType } from '../protocol/netfn';
import { suiteById, CipherSuite } from '../protocol/crypto/cipher-suites';
import { encodeOpenSessionResponse } from '../protocol/session/open-session';
import { encodeRmcpPlusPacket } from '../protocol/session/rmcpplus-packet';
import {
  ClientSession,
  ClientSessionConfig,
  ClientSessionError,
  ClientSessionErrorCode,
  completionCodeText,
  decodeCipherSuiteRecords,
  decodeSessionlessResponse,
  encodeGetChannelAuthCapabilities,
  encodeGetChannelCipherSuites,
  isIgnorableDatagramError,
  rakpStatusText,
} from './client-session';

interface CapturedPacket { readonly index: number; readonly direction: 'request' | 'response'; readonly hex: string }

function loadVector(name: string): Map<number, Buffer> {
  const file = JSON.parse(readFileSync(join(__dirname, '../../test/vectors', `${name}.json`), 'utf8')) as { packets: CapturedPacket[] };
  return new Map(file.packets.map((p) => [p.index, Buffer.from(p.hex, 'hex')]));
}

function packet(v: Map<number, Buffer>, index: number): Buffer {
  const p = v.get(index);
  if (!p) throw new Error(`capture has no packet #${index}`);
  return p;
}

/** The IV ipmitool chose: the first 16 payload bytes of an encrypted session packet (after the 16-byte header). */
const ivOf = (datagram: Buffer): Buffer => Buffer.from(datagram.subarray(16, 32));
/** Rm as ipmitool sent it in RAKP1 (payload offset 8). */
const rmOf = (rakp1: Buffer): Buffer => Buffer.from(rakp1.subarray(16 + 8, 16 + 24));
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const IPMITOOL_CONSOLE_SESSION_ID = 0xa0a2a3a4;

function suite(id: number): CipherSuite {
  const s = suiteById(id);
  if (!s) throw new Error(`suite ${id}`);
  return s;
}

function thrown(fn: () => unknown): ClientSessionError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ClientSessionError) return err;
    throw new Error(`expected ClientSessionError, got ${String(err)}`);
  }
  throw new Error('expected an error, nothing was thrown');
}

/** Runs the handshake of a capture; returns the active session. */
function handshake(v: Map<number, Buffer>, first: number, config: ClientSessionConfig): ClientSession {
  const s = new ClientSession(config);
  expect(s.openSessionRequest(IPMITOOL_CONSOLE_SESSION_ID).toString('hex')).toBe(packet(v, first).toString('hex'));
  s.acceptOpenSessionResponse(packet(v, first + 1));
  expect(s.stage).toBe('awaiting-rakp1');
  expect(s.rakp1(rmOf(packet(v, first + 2))).toString('hex')).toBe(packet(v, first + 2).toString('hex'));
  s.acceptRakp2(packet(v, first + 3));
  expect(s.rakp3().toString('hex')).toBe(packet(v, first + 4).toString('hex'));
  s.acceptRakp4(packet(v, first + 5));
  expect(s.stage).toBe('active');
  return s;
}

describe('ClientSession against ipmi-captures Vector 1 (suite 3, ipmitool ↔ ipmi_sim)', () => {
  const v = loadVector('vector1');
  // ipmitool counted Open Session, RAKP1 and RAKP3, so its first session packet carries 3.
  const config: ClientSessionConfig = { userName: 'admin', password: 'password', suite: suite(3), privilege: Privilege.Administrator, initialSequence: 3, initialRqSeq: 1 };

  it('produces the captured handshake bytes and accepts the BMC side (Open Session Response, RAKP2 HMAC, RAKP4 ICV)', () => {
    const s = handshake(v, 3, config);
    expect(s.bmcSessionId).toBe(0x0202);
    expect(s.consoleSessionId).toBe(IPMITOOL_CONSOLE_SESSION_ID);
  });

  it('replays every in-session exchange byte for byte and decodes the responses', () => {
    const s = handshake(v, 3, config);
    const exchanges: Array<{ req: number; netFn: number; cmd: number; data: string; cc: number; rsp: string }> = [
      { req: 9, netFn: NetFn.App, cmd: AppCmd.SetSessionPrivilegeLevel, data: '04', cc: 0x00, rsp: '04' },
      { req: 11, netFn: NetFn.GroupExtension, cmd: 0x3e, data: '0002', cc: 0xc1, rsp: '' },
      { req: 13, netFn: NetFn.App, cmd: AppCmd.GetDeviceId, data: '', cc: 0x00, rsp: '000309 08 02 9f 91 12 00 02 0f 00 00 00 00' },
      { req: 15, netFn: NetFn.GroupExtension, cmd: 0x00, data: '00', cc: 0xc1, rsp: '' },
      { req: 17, netFn: NetFn.GroupExtension, cmd: 0x00, data: '03', cc: 0xc1, rsp: '' },
      { req: 19, netFn: NetFn.App, cmd: AppCmd.GetDeviceId, data: '', cc: 0x00, rsp: '000309 08 02 9f 91 12 00 02 0f 00 00 00 00' },
    ];
    for (const [i, e] of exchanges.entries()) {
      const out = s.request(e.netFn, e.cmd, hex(e.data), { iv: ivOf(packet(v, e.req)) });
      expect(out.rqSeq).toBe(i + 1);
      expect(out.sequence).toBe(3 + i);
      expect(out.datagram.toString('hex')).toBe(packet(v, e.req).toString('hex'));
      const r = s.parseResponse(packet(v, e.req + 1));
      expect(r).toEqual({ rqSeq: i + 1, netFn: e.netFn, cmd: e.cmd, completionCode: e.cc, data: hex(e.rsp) });
    }
    const close = s.closeSession({ iv: ivOf(packet(v, 21)) });
    expect(close).toMatchObject({ rqSeq: 7, sequence: 9, netFn: NetFn.App, cmd: AppCmd.CloseSession });
    expect(close.datagram.toString('hex')).toBe(packet(v, 21).toString('hex'));
    expect(s.parseResponse(packet(v, 22))).toEqual({ rqSeq: 7, netFn: NetFn.App, cmd: AppCmd.CloseSession, completionCode: 0, data: Buffer.alloc(0) });
  });

  it('rejects a response with any single tampered byte after the RMCP header, and still accepts the genuine one', () => {
    const s = handshake(v, 3, config);
    s.request(NetFn.App, AppCmd.SetSessionPrivilegeLevel, hex('04'), { iv: ivOf(packet(v, 9)) });
    const genuine = packet(v, 10);
    for (let offset = 4; offset < genuine.length; offset++) {
      const bad = Buffer.from(genuine);
      bad[offset] = bad[offset]! ^ 0x01;
      const err = thrown(() => s.parseResponse(bad));
      expect(isIgnorableDatagramError(err)).toBe(true);
      // Anything inside the covered bytes or the AuthCode is an integrity failure, not a parse quirk.
      if (offset >= 16) expect(err.code).toBe(ClientSessionErrorCode.BadAuthCode);
    }
    expect(s.parseResponse(genuine).completionCode).toBe(0);
  });

  it('rejects a replayed response (the BMC sequence number was already seen)', () => {
    const s = handshake(v, 3, config);
    s.request(NetFn.App, AppCmd.SetSessionPrivilegeLevel, hex('04'), { iv: ivOf(packet(v, 9)) });
    s.parseResponse(packet(v, 10));
    expect(thrown(() => s.parseResponse(packet(v, 10))).code).toBe(ClientSessionErrorCode.Replay);
  });

  it('raises ClientSessionError (never another error) for every truncation of a session response', () => {
    const s = handshake(v, 3, config);
    const full = packet(v, 14);
    for (let n = 0; n < full.length; n++) {
      expect(thrown(() => s.parseResponse(full.subarray(0, n)))).toBeInstanceOf(ClientSessionError);
    }
  });

  it('detects a wrong password at RAKP2 and offers a RAKP3 carrying status 0x0F', () => {
    const s = new ClientSession({ ...config, password: 'passw0rd' });
    s.openSessionRequest(IPMITOOL_CONSOLE_SESSION_ID);
    s.acceptOpenSessionResponse(packet(v, 4));
    s.rakp1(rmOf(packet(v, 5)));
    const err = thrown(() => s.acceptRakp2(packet(v, 6)));
    expect(err.code).toBe(ClientSessionErrorCode.Rakp2HmacInvalid);
    expect(err.message).toBe('wrong password or user: RAKP2 HMAC invalid');
    expect(err.reply?.toString('hex')).toBe('0600ff07061400000000000000000800' + '000f0000' + '02020000');
    expect(s.stage).toBe('failed');
    expect(thrown(() => s.rakp3()).code).toBe(ClientSessionErrorCode.InvalidState);
  });

  it('detects another user name at RAKP2 (the HMAC covers the name)', () => {
    const s = new ClientSession({ ...config, userName: 'admim' });
    s.openSessionRequest(IPMITOOL_CONSOLE_SESSION_ID);
    s.acceptOpenSessionResponse(packet(v, 4));
    s.rakp1(rmOf(packet(v, 5)));
    expect(thrown(() => s.acceptRakp2(packet(v, 6))).code).toBe(ClientSessionErrorCode.Rakp2HmacInvalid);
  });

  it('rejects a RAKP4 whose ICV was tampered with', () => {
    const s = new ClientSession(config);
    s.openSessionRequest(IPMITOOL_CONSOLE_SESSION_ID);
    s.acceptOpenSessionResponse(packet(v, 4));
    s.rakp1(rmOf(packet(v, 5)));
    s.acceptRakp2(packet(v, 6));
    s.rakp3();
    const bad = Buffer.from(packet(v, 8));
    bad[bad.length - 1] = bad[bad.length - 1]! ^ 0x80;
    const err = thrown(() => s.acceptRakp4(bad));
    expect(err.code).toBe(ClientSessionErrorCode.Rakp4IcvInvalid);
    expect(s.stage).toBe('failed');
  });

  it('ignores a handshake message of the wrong kind without losing its place', () => {
    const s = new ClientSession(config);
    s.openSessionRequest(IPMITOOL_CONSOLE_SESSION_ID);
    const err = thrown(() => s.acceptOpenSessionResponse(packet(v, 6)));
    expect(err.code).toBe(ClientSessionErrorCode.UnexpectedMessage);
    expect(isIgnorableDatagramError(err)).toBe(true);
    expect(s.stage).toBe('awaiting-open-session-response');
    s.acceptOpenSessionResponse(packet(v, 4));
    expect(s.stage).toBe('awaiting-rakp1');
  });

  it('ignores an Open Session Response for another console session id', () => {
    const s = new ClientSession(config);
    s.openSessionRequest(0x12345678);
    expect(thrown(() => s.acceptOpenSessionResponse(packet(v, 4))).code).toBe(ClientSessionErrorCode.UnexpectedMessage);
  });

  it('refuses an Open Session Response that accepted other algorithms', () => {
    const s = new ClientSession({ ...config, suite: suite(17) });
    s.openSessionRequest(IPMITOOL_CONSOLE_SESSION_ID);
    expect(thrown(() => s.acceptOpenSessionResponse(packet(v, 4))).code).toBe(ClientSessionErrorCode.AlgorithmMismatch);
  });
});

describe('ClientSession against ipmi-captures Vector 2 (suite 17, ipmitool ↔ test BMC)', () => {
  const v = loadVector('vector2');

  it('builds the sessionless discovery requests ipmitool sent and decodes the answers', () => {
    expect(encodeGetChannelAuthCapabilities().toString('hex')).toBe(packet(v, 1).toString('hex'));
    expect(decodeSessionlessResponse(packet(v, 2))).toEqual({
      framing: 'ipmi15', rqSeq: 0, netFn: NetFn.App, cmd: AppCmd.GetChannelAuthCapabilities, completionCode: 0, data: hex('01 95 04 03 00 00 00 00'),
    });
    expect(encodeGetChannelCipherSuites({ rqSeq: 1, listIndex: 0 }).toString('hex')).toBe(packet(v, 3).toString('hex'));
    expect(encodeGetChannelCipherSuites({ rqSeq: 2, listIndex: 1 }).toString('hex')).toBe(packet(v, 5).toString('hex'));
    const chunk0 = decodeSessionlessResponse(packet(v, 4));
    const chunk1 = decodeSessionlessResponse(packet(v, 6));
    expect(chunk0).toMatchObject({ framing: 'rmcpplus', rqSeq: 1, cmd: AppCmd.GetChannelCipherSuites, completionCode: 0 });
    expect(chunk1).toMatchObject({ framing: 'rmcpplus', rqSeq: 2, completionCode: 0 });
    const records = decodeCipherSuiteRecords(Buffer.concat([chunk0.data.subarray(1), chunk1.data.subarray(1)]));
    expect(records).toEqual([
      { id: 1, auth: 1, integrity: 0, confidentiality: 0 },
      { id: 2, auth: 1, integrity: 1, confidentiality: 0 },
      { id: 3, auth: 1, integrity: 1, confidentiality: 1 },
      { id: 17, auth: 3, integrity: 4, confidentiality: 1 },
    ]);
  });

  it('replays the suite-17 handshake and protected traffic byte for byte', () => {
    // Two cipher-suite chunks and three handshake packets came first: sequence 5, rqSeq 3.
    const s = handshake(v, 7, { userName: 'admin', password: 'password', suite: suite(17), privilege: Privilege.Administrator, initialSequence: 5, initialRqSeq: 3 });
    expect(s.bmcSessionId).toBe(0x1004);
    const priv = s.request(NetFn.App, AppCmd.SetSessionPrivilegeLevel, hex('04'), { iv: ivOf(packet(v, 13)) });
    expect(priv.datagram.toString('hex')).toBe(packet(v, 13).toString('hex'));
    expect(s.parseResponse(packet(v, 14))).toEqual({ rqSeq: 3, netFn: NetFn.App, cmd: AppCmd.SetSessionPrivilegeLevel, completionCode: 0, data: hex('04') });
    const hpm = s.request(NetFn.GroupExtension, 0x3e, hex('00 02'), { iv: ivOf(packet(v, 15)) });
    expect(hpm.datagram.toString('hex')).toBe(packet(v, 15).toString('hex'));
    expect(s.parseResponse(packet(v, 16))).toMatchObject({ rqSeq: 4, completionCode: 0xc1 });
    // Packets #17–#24 (four requests) are not in the vector; spend their rqSeq and sequence numbers.
    for (let i = 0; i < 4; i++) s.request(NetFn.App, AppCmd.GetDeviceId, Buffer.alloc(0), { iv: Buffer.alloc(16) });
    const close = s.closeSession({ iv: ivOf(packet(v, 25)) });
    expect(close).toMatchObject({ rqSeq: 9, sequence: 0x0b });
    expect(close.datagram.toString('hex')).toBe(packet(v, 25).toString('hex'));
    // The BMC's sequence jumps from 2 to 7: inside the window.
    expect(s.parseResponse(packet(v, 26))).toMatchObject({ rqSeq: 9, cmd: AppCmd.CloseSession, completionCode: 0 });
  });

  it('rejects a suite-17 response whose AuthCode was altered', () => {
    const s = handshake(v, 7, { userName: 'admin', password: 'password', suite: suite(17), privilege: Privilege.Administrator, initialSequence: 5, initialRqSeq: 3 });
    const bad = Buffer.from(packet(v, 14));
    bad[bad.length - 16] = bad[bad.length - 16]! ^ 0xff;
    expect(thrown(() => s.parseResponse(bad)).code).toBe(ClientSessionErrorCode.BadAuthCode);
  });
});

describe('ClientSession refusals from ipmi-captures Vector 7', () => {
  const v = loadVector('vector7');

  it('names the RMCP+ status of a refused Open Session ("no matching cipher suite (0x11)")', () => {
    const s = new ClientSession({ userName: 'admin', password: 'password', suite: suite(3), privilege: Privilege.Administrator });
    s.openSessionRequest(IPMITOOL_CONSOLE_SESSION_ID);
    const err = thrown(() => s.acceptOpenSessionResponse(packet(v, 4)));
    expect(err.code).toBe(ClientSessionErrorCode.OpenSessionRefused);
    expect(err.status).toBe(RakpStatus.NoCipherSuiteMatch);
    expect(err.message).toContain('no matching cipher suite (0x11)');
    expect(isIgnorableDatagramError(err)).toBe(false);
    expect(s.stage).toBe('failed');
  });

  it('builds the captured RAKP1 for user "nobody" and names the RAKP2 refusal ("unauthorized name (0x0D)")', () => {
    const s = new ClientSession({ userName: 'nobody', password: 'password', suite: suite(17), privilege: Privilege.Administrator });
    s.openSessionRequest(IPMITOOL_CONSOLE_SESSION_ID);
    s.acceptOpenSessionResponse(encodeRmcpPlusPacket({
      payloadType: PayloadType.OpenSessionResponse, sessionId: 0, sequence: 0, encrypted: false, integrity: null,
      payload: encodeOpenSessionResponse({ tag: 0, status: 0, maxPrivilege: 4, consoleSessionId: IPMITOOL_CONSOLE_SESSION_ID, accepted: { bmcSessionId: 0x1010, auth: 3, integrity: 4, confidentiality: 1 } }),
    }));
    expect(s.rakp1(rmOf(packet(v, 9))).toString('hex')).toBe(packet(v, 9).toString('hex'));
    const err = thrown(() => s.acceptRakp2(packet(v, 10)));
    expect(err.code).toBe(ClientSessionErrorCode.Rakp2Refused);
    expect(err.message).toContain('unauthorized name (0x0D)');
    expect(err.status).toBe(RakpStatus.UnauthorizedName);
  });
});

describe('ClientSession argument and state checks', () => {
  const base: ClientSessionConfig = { userName: 'admin', password: 'password', suite: suite(3), privilege: Privilege.Administrator };

  it('refuses session traffic before the handshake is done', () => {
    const s = new ClientSession(base);
    expect(thrown(() => s.request(NetFn.Chassis, ChassisCmd.GetChassisStatus)).code).toBe(ClientSessionErrorCode.InvalidState);
    expect(thrown(() => s.rakp1(Buffer.alloc(16))).code).toBe(ClientSessionErrorCode.InvalidState);
  });

  it('validates user name, password, privilege, session id, Rm and IV', () => {
    expect(thrown(() => new ClientSession({ ...base, userName: 'x'.repeat(17) })).code).toBe(ClientSessionErrorCode.InvalidArgument);
    expect(thrown(() => new ClientSession({ ...base, password: 'x'.repeat(21) })).code).toBe(ClientSessionErrorCode.InvalidArgument);
    expect(thrown(() => new ClientSession({ ...base, privilege: Privilege.Callback })).code).toBe(ClientSessionErrorCode.InvalidArgument);
    expect(thrown(() => new ClientSession({ ...base, initialRqSeq: 64 })).code).toBe(ClientSessionErrorCode.InvalidArgument);
    expect(thrown(() => new ClientSession(base).openSessionRequest(0)).code).toBe(ClientSessionErrorCode.InvalidArgument);
    const v = loadVector('vector1');
    const s = new ClientSession(base);
    s.openSessionRequest(IPMITOOL_CONSOLE_SESSION_ID);
    s.acceptOpenSessionResponse(packet(v, 4));
    expect(thrown(() => s.rakp1(Buffer.alloc(15))).code).toBe(ClientSessionErrorCode.InvalidArgument);
    s.rakp1(rmOf(packet(v, 5)));
    s.acceptRakp2(packet(v, 6));
    s.rakp3();
    s.acceptRakp4(packet(v, 8));
    expect(thrown(() => s.request(NetFn.App, AppCmd.GetDeviceId)).code).toBe(ClientSessionErrorCode.InvalidArgument);
    expect(thrown(() => s.request(NetFn.App, AppCmd.GetDeviceId, Buffer.alloc(0), { iv: Buffer.alloc(16), rqSeq: 64 })).code).toBe(ClientSessionErrorCode.InvalidArgument);
  });

  it('asks Open Session for the privilege itself below Administrator and sets the RAKP1 role byte', () => {
    const s = new ClientSession({ ...base, privilege: Privilege.Operator });
    const open = s.openSessionRequest(1);
    expect(open[16 + 1]).toBe(Privilege.Operator);
    s.acceptOpenSessionResponse(encodeRmcpPlusPacket({
      payloadType: PayloadType.OpenSessionResponse, sessionId: 0, sequence: 0, encrypted: false, integrity: null,
      payload: encodeOpenSessionResponse({ tag: 0, status: 0, maxPrivilege: 3, consoleSessionId: 1, accepted: { bmcSessionId: 7, auth: 1, integrity: 1, confidentiality: 1 } }),
    }));
    expect(s.rakp1(Buffer.alloc(16))[16 + 24]).toBe(0x13);
  });

  it('cycles rqSeq through 0..63', () => {
    const s = new ClientSession({ ...base, initialRqSeq: 62 });
    expect([s.allocateRqSeq(), s.allocateRqSeq(), s.allocateRqSeq()]).toEqual([62, 63, 0]);
  });

  it('words RMCP+ statuses and completion codes', () => {
    expect(rakpStatusText(0x11)).toBe('no matching cipher suite (0x11)');
    expect(rakpStatusText(0x0d)).toBe('unauthorized name (0x0D)');
    expect(rakpStatusText(0x7f)).toBe('unknown status (0x7F)');
    expect(completionCodeText(0xd5)).toBe('0xD5 (command not supported in present state)');
    expect(completionCodeText(0x81)).toBe('0x81 (command-specific error)');
  });

  it('stops reading cipher suite records at a truncated or foreign record', () => {
    expect(decodeCipherSuiteRecords(hex('c0 03 01 41 81 c0 11 03'))).toEqual([{ id: 3, auth: 1, integrity: 1, confidentiality: 1 }]);
    expect(decodeCipherSuiteRecords(hex('c1 05 a2 02 00 01 41 81'))).toEqual([{ id: 5, oemIana: 0x0002a2, auth: 1, integrity: 1, confidentiality: 1 }]);
    expect(decodeCipherSuiteRecords(hex('01 40 80'))).toEqual([]);
  });
});
