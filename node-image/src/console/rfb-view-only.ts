/**
 * A view-only graphical console (pure: bytes in, bytes to forward out, no sockets): the client's RFB
 * messages after the security phase pass to QEMU, except those that act on the machine, which are
 * dropped, as a BMC's console gives its ReadOnly users the screen without keyboard and mouse.
 *
 * Client-to-server messages (RFC 6143 section 7.3.1 ClientInit, 7.5 client messages; the extensions
 * are the registered message types of the RFB protocol community's rfbproto):
 *   ClientInit              1 byte   u8 shared-flag                                       forwarded
 *   0   SetPixelFormat      20 bytes type, 3 padding, 16 pixel format                   forwarded
 *   2   SetEncodings        4 + 4n   type, padding, u16be n, n × s32be encoding           forwarded
 *   3   FramebufferUpdateRequest 10  type, u8 incremental, u16be x, y, width, height     forwarded
 *   4   KeyEvent            8 bytes  type, u8 down, 2 padding, u32be keysym              dropped
 *   5   PointerEvent        6 bytes  type, u8 button-mask, u16be x, y                    dropped
 *   6   ClientCutText       8 + len  type, 3 padding, s32be length (negative: extended,   dropped
 *                                    |length| bytes follow), text
 *   150 EnableContinuousUpdates 10   type, u8 enable, u16be x, y, width, height          forwarded
 *   248 Fence               9 + len  type, 3 padding, u32be flags, u8 length, payload     forwarded
 *   250 xvp                 4 bytes  type, padding, u8 version, u8 code (shutdown/reboot) dropped
 *   251 SetDesktopSize      8 + 16n  type, padding, u16be width, height, u8 n, padding,   dropped
 *                                    n × 16-byte screen
 *   255 QEMU                         type, u8 subtype:
 *         0 extended key event 12    type, subtype, u16be down, u32be keysym, u32be code dropped
 *         1 audio              4/10  type, subtype, u16be operation (2: set format, then forwarded
 *                                    u8 format, u8 channels, u32be frequency)
 * Any other message type has a length this filter cannot know: the stream fails (the bridge closes).
 */

export const ClientMessageType = {
  SetPixelFormat: 0,
  SetEncodings: 2,
  FramebufferUpdateRequest: 3,
  KeyEvent: 4,
  PointerEvent: 5,
  ClientCutText: 6,
  EnableContinuousUpdates: 150,
  Fence: 248,
  Xvp: 250,
  SetDesktopSize: 251,
  Qemu: 255,
} as const;

const QemuSubtype = { ExtendedKeyEvent: 0, Audio: 1 } as const;
const QEMU_AUDIO_SET_FORMAT = 2;
/** Largest cut text accepted from a view-only client (it is dropped anyway; bigger is a broken peer). */
export const MAX_CUT_TEXT = 1024 * 1024;

export type ViewOnlyStep =
  | { readonly kind: 'forward'; readonly forward: Buffer; readonly dropped: number }
  | { readonly kind: 'failed'; readonly reason: string };

/** The length of the message at the start of `bytes`, or 'more' when it cannot be told yet. */
type Measure = { readonly length: number; readonly pass: boolean } | 'more' | { readonly error: string };

function measure(bytes: Buffer): Measure {
  const type = bytes[0] as number;
  const need = (n: number): boolean => bytes.length >= n;
  switch (type) {
    case ClientMessageType.SetPixelFormat:
      return { length: 20, pass: true };
    case ClientMessageType.SetEncodings:
      return need(4) ? { length: 4 + 4 * bytes.readUInt16BE(2), pass: true } : 'more';
    case ClientMessageType.FramebufferUpdateRequest:
      return { length: 10, pass: true };
    case ClientMessageType.KeyEvent:
      return { length: 8, pass: false };
    case ClientMessageType.PointerEvent:
      return { length: 6, pass: false };
    case ClientMessageType.ClientCutText: {
      if (!need(8)) return 'more';
      const length = Math.abs(bytes.readInt32BE(4));
      return length > MAX_CUT_TEXT ? { error: `client cut text of ${length} bytes is over ${MAX_CUT_TEXT}` } : { length: 8 + length, pass: false };
    }
    case ClientMessageType.EnableContinuousUpdates:
      return { length: 10, pass: true };
    case ClientMessageType.Fence:
      return need(9) ? { length: 9 + (bytes[8] as number), pass: true } : 'more';
    case ClientMessageType.Xvp:
      return { length: 4, pass: false };
    case ClientMessageType.SetDesktopSize:
      return need(7) ? { length: 8 + 16 * (bytes[6] as number), pass: false } : 'more';
    case ClientMessageType.Qemu: {
      if (!need(2)) return 'more';
      if (bytes[1] === QemuSubtype.ExtendedKeyEvent) return { length: 12, pass: false };
      if (bytes[1] === QemuSubtype.Audio) return need(4) ? { length: bytes.readUInt16BE(2) === QEMU_AUDIO_SET_FORMAT ? 10 : 4, pass: true } : 'more';
      return { error: `unknown QEMU client message subtype ${bytes[1] as number}` };
    }
    default:
      return { error: `unknown RFB client message type ${type}` };
  }
}

/** Feeds the client's bytes after the security phase; returns what to pass on to the VNC server. */
export class RfbViewOnlyFilter {
  private pending = Buffer.alloc(0);
  private clientInitSeen = false;
  private failedReason: string | undefined;

  receive(data: Buffer): ViewOnlyStep {
    if (this.failedReason !== undefined) return { kind: 'failed', reason: this.failedReason };
    let bytes = this.pending.length === 0 ? data : Buffer.concat([this.pending, data]);
    const out: Buffer[] = [];
    let dropped = 0;
    if (!this.clientInitSeen && bytes.length > 0) {
      out.push(bytes.subarray(0, 1));
      bytes = bytes.subarray(1);
      this.clientInitSeen = true;
    }
    while (bytes.length > 0) {
      const m = measure(bytes);
      if (m === 'more') break;
      if ('error' in m) {
        this.failedReason = m.error;
        return { kind: 'failed', reason: m.error };
      }
      if (bytes.length < m.length) break;
      if (m.pass) out.push(bytes.subarray(0, m.length));
      else dropped += 1;
      bytes = bytes.subarray(m.length);
    }
    this.pending = Buffer.from(bytes);
    return { kind: 'forward', forward: Buffer.concat(out), dropped };
  }
}
