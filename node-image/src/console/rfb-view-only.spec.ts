import { ClientMessageType, MAX_CUT_TEXT, RfbViewOnlyFilter } from './rfb-view-only';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

/** Messages as noVNC sends them (RFC 6143 section 7.5 layouts). */
const CLIENT_INIT = hex('01');
const SET_PIXEL_FORMAT = hex('00 000000 20 18 00 01 00ff 00ff 00ff 10 08 00 000000');
const SET_ENCODINGS = hex('02 00 0003 00000000 00000007 fffffeff'); // Raw, Tight, QEMU extended key event
const UPDATE_REQUEST = hex('03 00 0000 0000 0320 0258');
const KEY_EVENT = hex('04 01 0000 00000061'); // 'a' down
const POINTER_EVENT = hex('05 01 0010 0020');
const CUT_TEXT = hex('06 000000 00000003 616263');
const QEMU_KEY = hex('ff 00 0001 00000061 0000001e');
const XVP_REBOOT = hex('fa 00 01 03');
const SET_DESKTOP_SIZE = hex('fb 00 0400 0300 01 00  00000000 0000 0000 0400 0300 00000000');
const ENABLE_CONTINUOUS = hex('96 01 0000 0000 0320 0258');
const FENCE = hex('f8 000000 80000001 02 abcd');
const QEMU_AUDIO_ENABLE = hex('ff 01 0000');
const QEMU_AUDIO_FORMAT = hex('ff 01 0002 03 02 0000ac44');

describe('RfbViewOnlyFilter', () => {
  it('forwards ClientInit and the display messages, drops keys, pointer, cut text, xvp, desktop size and QEMU key events', () => {
    const sut = new RfbViewOnlyFilter();
    const passed = [CLIENT_INIT, SET_PIXEL_FORMAT, SET_ENCODINGS, UPDATE_REQUEST, ENABLE_CONTINUOUS, FENCE, QEMU_AUDIO_ENABLE, QEMU_AUDIO_FORMAT];
    const dropped = [KEY_EVENT, POINTER_EVENT, CUT_TEXT, QEMU_KEY, XVP_REBOOT, SET_DESKTOP_SIZE];
    const step = sut.receive(Buffer.concat([CLIENT_INIT, SET_PIXEL_FORMAT, SET_ENCODINGS, KEY_EVENT, UPDATE_REQUEST, POINTER_EVENT, CUT_TEXT, ENABLE_CONTINUOUS, QEMU_KEY, FENCE, XVP_REBOOT, SET_DESKTOP_SIZE, QEMU_AUDIO_ENABLE, QEMU_AUDIO_FORMAT]));
    expect(step).toEqual({ kind: 'forward', forward: Buffer.concat(passed), dropped: dropped.length });
  });

  it('gives the same result however the stream is split (every split point, and byte by byte)', () => {
    const stream = Buffer.concat([CLIENT_INIT, SET_ENCODINGS, KEY_EVENT, UPDATE_REQUEST, CUT_TEXT, POINTER_EVENT, FENCE, QEMU_KEY, SET_DESKTOP_SIZE, QEMU_AUDIO_FORMAT, UPDATE_REQUEST]);
    const expected = Buffer.concat([CLIENT_INIT, SET_ENCODINGS, UPDATE_REQUEST, FENCE, QEMU_AUDIO_FORMAT, UPDATE_REQUEST]);
    for (let at = 0; at <= stream.length; at += 1) {
      const sut = new RfbViewOnlyFilter();
      const a = sut.receive(stream.subarray(0, at));
      const b = sut.receive(stream.subarray(at));
      if (a.kind !== 'forward' || b.kind !== 'forward') throw new Error(`failed at split ${at}`);
      expect(Buffer.concat([a.forward, b.forward])).toEqual(expected);
      expect(a.dropped + b.dropped).toBe(5);
    }
    const sut = new RfbViewOnlyFilter();
    const out: Buffer[] = [];
    for (const byte of stream) {
      const step = sut.receive(Buffer.from([byte]));
      if (step.kind !== 'forward') throw new Error('failed byte by byte');
      out.push(step.forward);
    }
    expect(Buffer.concat(out)).toEqual(expected);
  });

  it('fails on a message type whose length it cannot know, and stays failed', () => {
    const sut = new RfbViewOnlyFilter();
    expect(sut.receive(Buffer.concat([CLIENT_INIT, hex('07 00')]))).toEqual({ kind: 'failed', reason: 'unknown RFB client message type 7' });
    expect(sut.receive(UPDATE_REQUEST)).toEqual({ kind: 'failed', reason: 'unknown RFB client message type 7' });
    expect(new RfbViewOnlyFilter().receive(Buffer.concat([CLIENT_INIT, hex('ff 09')]))).toEqual({ kind: 'failed', reason: 'unknown QEMU client message subtype 9' });
  });

  it('fails on a cut text over MAX_CUT_TEXT, and reads a negative (extended clipboard) length as its size', () => {
    const big = Buffer.alloc(8);
    big.writeUInt8(ClientMessageType.ClientCutText, 0);
    big.writeInt32BE(MAX_CUT_TEXT + 1, 4);
    expect(new RfbViewOnlyFilter().receive(Buffer.concat([CLIENT_INIT, big]))).toEqual({ kind: 'failed', reason: `client cut text of ${MAX_CUT_TEXT + 1} bytes is over ${MAX_CUT_TEXT}` });
    const extended = hex('06 000000 fffffffc 00000001');
    expect(new RfbViewOnlyFilter().receive(Buffer.concat([CLIENT_INIT, extended, UPDATE_REQUEST]))).toEqual({ kind: 'forward', forward: Buffer.concat([CLIENT_INIT, UPDATE_REQUEST]), dropped: 1 });
  });
});
