/**
 * A minimal RFB (VNC) client for tests: the handshake of RFC 6143 up to ServerInit, with security
 * type 1 (None) and type 2 (VNC Authentication), so a test can show who gets into a VNC server.
 *
 * VNC Authentication (RFC 6143 section 7.2.2): the server sends a 16-byte challenge; the client
 * encrypts it with DES in ECB mode, keyed with the password's first 8 bytes (NUL-padded), each key
 * byte with its bits in reverse order (what every VNC implementation does, from the original
 * d3des code). OpenSSL 3 keeps single DES in its legacy provider only; DES-EDE with both keys equal
 * (E_K(D_K(E_K(x)))) is single DES and is in the default provider.
 */
import { createCipheriv } from 'node:crypto';
import { Socket } from 'node:net';

export const RFB_VERSION_3_8 = 'RFB 003.008\n';
export const SECURITY_NONE = 1;
export const SECURITY_VNC_AUTH = 2;

/** The VNC Authentication response to `challenge` (16 bytes) for `password` (first 8 bytes count). */
export function vncAuthResponse(challenge: Buffer, password: string | Buffer): Buffer {
  if (challenge.length !== 16) throw new Error(`VNC challenge must be 16 bytes, not ${challenge.length}`);
  const key = Buffer.alloc(8);
  Buffer.from(password).copy(key, 0, 0, 8);
  for (let i = 0; i < 8; i++) key[i] = reverseBits(key[i]!);
  const cipher = createCipheriv('des-ede-ecb', Buffer.concat([key, key]), null);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(challenge), cipher.final()]);
}

function reverseBits(b: number): number {
  let r = 0;
  for (let i = 0; i < 8; i++) r |= ((b >> i) & 1) << (7 - i);
  return r;
}

export interface RfbOutcome {
  /** 'ok': ServerInit received; 'refused': SecurityResult failed; 'no-common-type': the wanted type was not offered. */
  readonly result: 'ok' | 'refused' | 'no-common-type';
  /** Security types the server offered. */
  readonly securityTypes: readonly number[];
  /** The server's reason for a refusal. */
  readonly reason?: string;
  /** Desktop name from ServerInit. */
  readonly desktopName?: string;
}

export interface RfbOptions {
  readonly host: string;
  readonly port: number;
  /** With a password: VNC Authentication; without: security type None. */
  readonly password?: string;
  readonly timeoutMs?: number;
}

/**
 * Connects, negotiates RFB 3.8 and authenticates. Rejects on a connection error (e.g. ECONNREFUSED)
 * or when the server does not answer within timeoutMs.
 */
export async function rfbHandshake(options: RfbOptions): Promise<RfbOutcome> {
  const socket = new Socket();
  const reader = new SocketReader(socket);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const timer = setTimeout(() => socket.destroy(new Error(`RFB handshake with ${options.host}:${options.port} timed out after ${timeoutMs} ms`)), timeoutMs);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(options.port, options.host, () => { socket.off('error', reject); resolve(); });
    });
    const version = (await reader.read(12)).toString('latin1');
    if (!/^RFB \d{3}\.\d{3}\n$/.test(version)) throw new Error(`not an RFB server: ${JSON.stringify(version)}`);
    socket.write(RFB_VERSION_3_8);
    const count = (await reader.read(1))[0]!;
    if (count === 0) {
      const reason = await readReason(reader);
      return { result: 'refused', securityTypes: [], reason };
    }
    const securityTypes = [...(await reader.read(count))];
    const wanted = options.password === undefined ? SECURITY_NONE : SECURITY_VNC_AUTH;
    if (!securityTypes.includes(wanted)) return { result: 'no-common-type', securityTypes };
    socket.write(Buffer.from([wanted]));
    if (wanted === SECURITY_VNC_AUTH) {
      const challenge = await reader.read(16);
      socket.write(vncAuthResponse(challenge, options.password!));
    }
    const status = (await reader.read(4)).readUInt32BE(0);
    if (status !== 0) return { result: 'refused', securityTypes, reason: await readReason(reader) };
    socket.write(Buffer.from([1])); // ClientInit: shared
    const init = await reader.read(24);
    const name = await reader.read(init.readUInt32BE(20));
    return { result: 'ok', securityTypes, desktopName: name.toString('utf8') };
  } finally {
    clearTimeout(timer);
    socket.destroy();
  }
}

async function readReason(reader: SocketReader): Promise<string> {
  const length = (await reader.read(4)).readUInt32BE(0);
  return (await reader.read(length)).toString('utf8');
}

/** Reads exact byte counts from a socket; rejects when it closes first. */
class SocketReader {
  private buffered = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  private ended: Error | undefined;

  constructor(socket: Socket) {
    socket.on('data', (chunk: Buffer) => { this.buffered = Buffer.concat([this.buffered, chunk]); this.waiter?.(); });
    socket.on('close', () => { this.ended ??= new Error('the RFB server closed the connection'); this.waiter?.(); });
    socket.on('error', (err) => { this.ended = err; this.waiter?.(); });
  }

  async read(n: number): Promise<Buffer> {
    while (this.buffered.length < n) {
      if (this.ended) throw this.ended;
      await new Promise<void>((resolve) => { this.waiter = resolve; });
      this.waiter = undefined;
    }
    const out = this.buffered.subarray(0, n);
    this.buffered = this.buffered.subarray(n);
    return out;
  }
}
