/**
 * An RFB 3.8 client over a console WebSocket for tests (RFC 6143): the handshake with security type
 * None (section 7.1-7.3), then one full FramebufferUpdateRequest in Raw encoding (sections 7.5.2,
 * 7.5.3, 7.6.1, 7.7.1) with 32-bit true-colour pixels; every read bounded in time.
 */
import type { ConsoleClient } from './console-ws';

export interface Framebuffer {
  readonly securityTypes: number[];
  readonly width: number;
  readonly height: number;
  readonly name: string;
  /** Raw pixels of the rectangles received, 4 bytes each (B, G, R, padding in little-endian 32-bit). */
  readonly pixels: Buffer;
}

/** 32 bpp, depth 24, little-endian, true colour, 8 bits per channel: red at 16, green 8, blue 0. */
const PIXEL_FORMAT = Buffer.from([32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]);

export async function rfbFramebuffer(client: ConsoleClient, timeoutMs = 30_000): Promise<Framebuffer> {
  let offset = 0;
  const deadline = Date.now() + timeoutMs;
  const read = async (n: number): Promise<Buffer> => {
    while (client.received().length < offset + n) {
      if (Date.now() > deadline) throw new Error(`RFB: ${n} bytes at offset ${offset} did not arrive within ${timeoutMs} ms (got ${client.received().length})`);
      if (client.ws.readyState !== client.ws.OPEN) throw new Error(`RFB: the console closed (${JSON.stringify(await client.closed)})`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const out = client.received().subarray(offset, offset + n);
    offset += n;
    return out;
  };
  const version = (await read(12)).toString('latin1');
  if (version !== 'RFB 003.008\n') throw new Error(`RFB: server version ${JSON.stringify(version)}`);
  client.send(Buffer.from('RFB 003.008\n', 'latin1'));
  const count = (await read(1))[0]!;
  const securityTypes = [...(await read(count))];
  client.send(Buffer.from([1]));
  const result = (await read(4)).readUInt32BE(0);
  if (result !== 0) throw new Error(`RFB: SecurityResult ${result}`);
  client.send(Buffer.from([1])); // ClientInit, shared
  const init = await read(24);
  const width = init.readUInt16BE(0);
  const height = init.readUInt16BE(2);
  const name = (await read(init.readUInt32BE(20))).toString('utf8');
  // SetPixelFormat, SetEncodings [Raw], FramebufferUpdateRequest (not incremental, whole screen).
  client.send(Buffer.concat([Buffer.from([0, 0, 0, 0]), PIXEL_FORMAT]));
  client.send(Buffer.from([2, 0, 0, 1, 0, 0, 0, 0]));
  const request = Buffer.alloc(10);
  request[0] = 3;
  request.writeUInt16BE(width, 6);
  request.writeUInt16BE(height, 8);
  client.send(request);
  for (;;) {
    const type = (await read(1))[0]!;
    if (type === 0) break; // FramebufferUpdate
    if (type === 2) continue; // Bell
    if (type === 1) { const h = await read(5); await read(h.readUInt16BE(3) * 6); continue; } // SetColourMapEntries
    if (type === 3) { const h = await read(7); await read(h.readUInt32BE(3)); continue; } // ServerCutText
    throw new Error(`RFB: unexpected server message ${type}`);
  }
  const rects = (await read(3)).readUInt16BE(1);
  const pixels: Buffer[] = [];
  for (let i = 0; i < rects; i++) {
    const h = await read(12);
    const encoding = h.readInt32BE(8);
    if (encoding !== 0) continue; // a pseudo-encoding carries no pixels here (none were asked for)
    pixels.push(Buffer.from(await read(h.readUInt16BE(4) * h.readUInt16BE(6) * 4)));
  }
  return { securityTypes, width, height, name, pixels: Buffer.concat(pixels) };
}

/** QEMU's pseudo-encoding that enables its extended key events (raw key codes, not keysyms). */
const QEMU_EXTENDED_KEY_EVENT_ENCODING = -258;
/** The power key in QEMU's key numbers (XT scan code E0 5E: 0x80 | 0x5e); Linux reads KEY_POWER. */
export const QNUM_POWER = 0xde;

/**
 * Presses and releases a key by its QEMU key number, after a SetEncodings that asks for QEMU's
 * extended key events (call after rfbFramebuffer: the session is initialised).
 */
export function rfbPressKey(client: ConsoleClient, qnum: number): void {
  const encodings = Buffer.alloc(12);
  encodings.writeUInt8(2, 0);
  encodings.writeUInt16BE(2, 2);
  encodings.writeInt32BE(0, 4);
  encodings.writeInt32BE(QEMU_EXTENDED_KEY_EVENT_ENCODING, 8);
  client.send(encodings);
  for (const down of [1, 0]) {
    const key = Buffer.alloc(12);
    key.writeUInt8(255, 0); // QEMU client message
    key.writeUInt8(0, 1); // extended key event
    key.writeUInt16BE(down, 2);
    key.writeUInt32BE(0, 4); // keysym: none, the key number says it
    key.writeUInt32BE(qnum, 8);
    client.send(key);
  }
}
