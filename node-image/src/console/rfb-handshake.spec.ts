import { createCipheriv } from 'node:crypto';
import {
  RFB_VERSION_3_8, RfbClientHandshake, RfbServerHandshake, SecurityType, vncAuthResponse, vncDesKey,
} from './rfb-handshake';

const hex = (h: string): Buffer => Buffer.from(h.replace(/\s+/g, ''), 'hex');
const version = Buffer.from(RFB_VERSION_3_8, 'latin1');
const u32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32BE(n, 0); return b; };
const withReason = (prefix: Buffer, reason: string): Buffer => Buffer.concat([prefix, u32(Buffer.byteLength(reason)), Buffer.from(reason)]);
const CHALLENGE = hex('000102030405060708090a0b0c0d0e0f');

describe('VNC Authentication (RFC 6143 section 7.2.2)', () => {
  it('mirrors the bits of each password byte, zero-pads to 8 and ignores the rest', () => {
    expect(vncDesKey('password')).toEqual(hex('0e 86 ce ce ee f6 4e 26'));
    expect(vncDesKey('ab')).toEqual(hex('86 46 00 00 00 00 00 00'));
    expect(vncDesKey('passwordEXTRA')).toEqual(vncDesKey('password'));
  });

  it('is DES with the mirrored key: the vncpasswd vector ("password" under the fixed key → dbd83cfd727a1458)', () => {
    // ~/.vnc/passwd is the password DES-encrypted with the fixed key 17 52 6b 06 23 4e 58 07 under the same key quirk.
    const key = vncDesKey(hex('17526b06234e5807').toString('latin1'));
    const des = createCipheriv('des-ede3-ecb', Buffer.concat([key, key, key]), null);
    des.setAutoPadding(false);
    expect(des.update(Buffer.from('password')).toString('hex')).toBe('dbd83cfd727a1458');
  });

  it('answers a challenge with both 8-byte halves encrypted alike (ECB)', () => {
    const response = vncAuthResponse('secret12', Buffer.concat([CHALLENGE.subarray(0, 8), CHALLENGE.subarray(0, 8)]));
    expect(response).toHaveLength(16);
    expect(response.subarray(0, 8)).toEqual(response.subarray(8));
    expect(vncAuthResponse('secret12', CHALLENGE)).not.toEqual(vncAuthResponse('secret13', CHALLENGE));
    expect(() => vncAuthResponse('x', Buffer.alloc(15))).toThrow(/16 bytes/);
  });
});

describe('RfbClientHandshake (agent → QEMU)', () => {
  it('does version, VNC Authentication and SecurityResult, and keeps what follows', () => {
    const sut = new RfbClientHandshake('password');
    expect(sut.receive(version)).toEqual({ kind: 'continue', send: [version] });
    expect(sut.receive(hex('01 02'))).toEqual({ kind: 'continue', send: [hex('02')] });
    expect(sut.receive(CHALLENGE)).toEqual({ kind: 'continue', send: [vncAuthResponse('password', CHALLENGE)] });
    expect(sut.receive(Buffer.concat([u32(0), hex('aa')]))).toEqual({ kind: 'done', send: [], rest: hex('aa') });
    expect(sut.finished).toBe(true);
  });

  it('gives the same answers when the server\'s bytes arrive one at a time, or all at once', () => {
    const stream = Buffer.concat([version, hex('02 01 02'), CHALLENGE, u32(0)]);
    const bytewise = new RfbClientHandshake('pw');
    const sent: Buffer[] = [];
    let last;
    for (const byte of stream) { last = bytewise.receive(Buffer.from([byte])); sent.push(...last.send); }
    expect(last).toEqual({ kind: 'done', send: [], rest: Buffer.alloc(0) });
    const whole = new RfbClientHandshake('pw').receive(stream);
    expect(whole.kind).toBe('done');
    expect(Buffer.concat(whole.send)).toEqual(Buffer.concat(sent));
    expect(Buffer.concat(sent)).toEqual(Buffer.concat([version, hex('02'), vncAuthResponse('pw', CHALLENGE)]));
  });

  it('chooses None when it has no password and the server offers None', () => {
    const sut = new RfbClientHandshake(undefined);
    sut.receive(version);
    expect(sut.receive(hex('02 02 01'))).toEqual({ kind: 'continue', send: [hex('01')] });
    expect(sut.receive(u32(0))).toEqual({ kind: 'done', send: [], rest: Buffer.alloc(0) });
  });

  it('fails with the server\'s reason when the password is refused', () => {
    const sut = new RfbClientHandshake('wrong');
    sut.receive(Buffer.concat([version, hex('01 02'), CHALLENGE]));
    const step = sut.receive(withReason(u32(1), 'Authentication failed'));
    expect(step).toEqual({ kind: 'failed', send: [], reason: 'the VNC server refused the authentication (is VNC_PASSWORD the one QEMU was given?): Authentication failed' });
  });

  it('fails clearly on a server that needs a password it does not have, offers nothing usable, refuses, or is not RFB 3.8', () => {
    const noPassword = new RfbClientHandshake(undefined);
    noPassword.receive(version);
    expect(noPassword.receive(hex('01 02'))).toMatchObject({ kind: 'failed', reason: expect.stringMatching(/VNC_PASSWORD is not set/) });
    const unusable = new RfbClientHandshake('x');
    unusable.receive(version);
    expect(unusable.receive(hex('02 10 13'))).toMatchObject({ kind: 'failed', reason: expect.stringMatching(/offered: 16, 19/) });
    const refused = new RfbClientHandshake('x');
    refused.receive(version);
    expect(refused.receive(withReason(hex('00'), 'Too many connections'))).toMatchObject({ kind: 'failed', reason: 'the VNC server refused the connection: Too many connections' });
    expect(new RfbClientHandshake('x').receive(Buffer.from('RFB 003.003\n'))).toMatchObject({ kind: 'failed', reason: expect.stringMatching(/RFB 3\.3; 3\.8 is required/) });
    expect(new RfbClientHandshake('x').receive(Buffer.from('HTTP/1.1 400'))).toMatchObject({ kind: 'failed', reason: expect.stringMatching(/no RFB protocol version/) });
  });

  it('refuses to go on after it finished', () => {
    const sut = new RfbClientHandshake(undefined);
    sut.receive(Buffer.from('RFB 002.000\n'));
    expect(() => sut.receive(hex('00'))).toThrow(/already finished/);
  });
});

describe('RfbServerHandshake (agent → WebSocket client)', () => {
  it('offers only None and says OK when the client takes it; the ClientInit is left for QEMU', () => {
    const sut = new RfbServerHandshake();
    expect(sut.start()).toEqual(version);
    expect(sut.receive(version)).toEqual({ kind: 'continue', send: [hex('01 01')] });
    expect(sut.receive(hex('01 01'))).toEqual({ kind: 'done', send: [u32(0)], rest: hex('01') });
  });

  it('handles version and choice in one read, or split anywhere', () => {
    const whole = new RfbServerHandshake().receive(Buffer.concat([version, hex('01')]));
    expect(whole).toEqual({ kind: 'done', send: [hex('01 01'), u32(0)], rest: Buffer.alloc(0) });
    const split = new RfbServerHandshake();
    expect(split.receive(version.subarray(0, 5))).toEqual({ kind: 'continue', send: [] });
    expect(split.receive(version.subarray(5))).toEqual({ kind: 'continue', send: [hex('01 01')] });
  });

  it('refuses VNC Authentication from the client with a 3.8 failure reason', () => {
    const sut = new RfbServerHandshake();
    sut.receive(version);
    const reason = 'security type 2 is not offered; this console offers None (the BMC authenticated the connection)';
    expect(sut.receive(Buffer.from([SecurityType.VncAuthentication]))).toEqual({ kind: 'failed', send: [withReason(u32(1), reason)], reason });
  });

  it('refuses an older client with zero security types and a reason (section 7.1.2)', () => {
    const step = new RfbServerHandshake().receive(Buffer.from('RFB 003.003\n'));
    const reason = 'RFB 3.8 is required (the client sent "RFB 003.003\\n")';
    expect(step).toEqual({ kind: 'failed', send: [withReason(hex('00'), reason)], reason });
  });
});
