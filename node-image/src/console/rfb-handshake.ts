/**
 * The RFB handshake (RFC 6143, "The Remote Framebuffer Protocol", version 3.8) on both sides of the
 * agent's graphical console bridge, as pure state machines: bytes in, bytes to send out, no sockets.
 *
 * Toward QEMU's VNC server the agent is the client and answers VNC Authentication itself with the
 * node's VNC_PASSWORD; toward the WebSocket client it is the server and offers security type None.
 * Once both sides are through the security phase, the bridge copies bytes: the client's ClientInit
 * reaches QEMU, which answers with its ServerInit. The WebSocket client never learns the password.
 *
 * Wire layouts (section 7.1, handshake messages):
 *   ProtocolVersion  12 bytes  "RFB 003.008\n"
 *   security types   u8 number-of-security-types, then that many u8 types (7.1.2);
 *                    number 0 is a failure: u32be reason-length, reason-string
 *   security choice  u8 type (client → server)
 *   VNC challenge    16 bytes (server → client); response: the challenge DES-encrypted with the
 *                    password (7.2.2), 16 bytes
 *   SecurityResult   u32be 0 OK, 1 failed; after a failure, u32be reason-length, reason-string (7.1.3)
 */
import { createCipheriv } from 'node:crypto';

export const RFB_VERSION_3_8 = 'RFB 003.008\n';
const VERSION_LENGTH = 12;
const VERSION_PATTERN = /^RFB (\d{3})\.(\d{3})\n$/;

/** Security types (RFC 6143 section 7.1.2; IANA "RFB Security Types"). */
export const SecurityType = { Invalid: 0, None: 1, VncAuthentication: 2 } as const;
/** SecurityResult (section 7.1.3). */
export const SecurityResult = { Ok: 0, Failed: 1 } as const;

export const VNC_CHALLENGE_LENGTH = 16;
/** VNC Authentication uses at most 8 bytes of the password (section 7.2.2). */
export const VNC_PASSWORD_MAX = 8;
/** Longest failure reason accepted from a server (a bigger one is a broken peer). */
const MAX_REASON_LENGTH = 4096;

/** What one step of a handshake asks the shell to do. */
export type HandshakeStep =
  | { readonly kind: 'continue'; readonly send: readonly Buffer[] }
  /** The security phase is complete; `rest` are bytes received after it (they belong to the session). */
  | { readonly kind: 'done'; readonly send: readonly Buffer[]; readonly rest: Buffer }
  | { readonly kind: 'failed'; readonly send: readonly Buffer[]; readonly reason: string };

const cont = (send: Buffer[] = []): HandshakeStep => ({ kind: 'continue', send });
const failed = (reason: string, send: Buffer[] = []): HandshakeStep => ({ kind: 'failed', send, reason });

/**
 * The DES key of VNC Authentication: the password's first 8 bytes, zero-padded, each byte with its
 * bits in reverse order (the historical quirk every VNC implementation shares).
 */
export function vncDesKey(password: string): Buffer {
  const key = Buffer.alloc(VNC_PASSWORD_MAX);
  Buffer.from(password, 'latin1').copy(key, 0, 0, VNC_PASSWORD_MAX);
  for (let i = 0; i < key.length; i++) {
    let b = key[i]!;
    let r = 0;
    for (let bit = 0; bit < 8; bit++) { r = (r << 1) | (b & 1); b >>= 1; }
    key[i] = r;
  }
  return key;
}

/**
 * The response to a VNC Authentication challenge: DES-ECB of the 16 bytes under vncDesKey. Single
 * DES is computed as triple DES with three equal keys (E(K, D(K, E(K, x))) = E(K, x)): OpenSSL 3
 * offers plain DES only in its legacy provider.
 */
export function vncAuthResponse(password: string, challenge: Buffer): Buffer {
  if (challenge.length !== VNC_CHALLENGE_LENGTH) throw new RangeError(`a VNC challenge is ${VNC_CHALLENGE_LENGTH} bytes (got ${challenge.length})`);
  const key = vncDesKey(password);
  const cipher = createCipheriv('des-ede3-ecb', Buffer.concat([key, key, key]), null);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(challenge), cipher.final()]);
}

function parseVersion(bytes: Buffer): { major: number; minor: number } | undefined {
  const m = VERSION_PATTERN.exec(bytes.toString('latin1'));
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : undefined;
}

type ClientState = 'version' | 'security-types' | 'challenge' | 'result' | 'done' | 'failed';

/**
 * The agent as an RFB client of QEMU's VNC server, up to and including SecurityResult. With a
 * password it chooses VNC Authentication; without one, None. It never sends ClientInit: the real
 * client does, through the bridge.
 */
export class RfbClientHandshake {
  private state: ClientState = 'version';
  private buffer = Buffer.alloc(0);

  constructor(private readonly password: string | undefined) {}

  get finished(): boolean {
    return this.state === 'done' || this.state === 'failed';
  }

  /** Bytes received from the server. */
  receive(data: Buffer): HandshakeStep {
    if (this.finished) throw new Error('the RFB client handshake is already finished');
    this.buffer = Buffer.concat([this.buffer, data]);
    const send: Buffer[] = [];
    for (;;) {
      const step = this.advance(send);
      if (step) return step;
      if (this.state === 'done') return { kind: 'done', send, rest: this.take(this.buffer.length) };
    }
  }

  /** One state's worth; undefined to go on with the next state, a step to stop here. */
  private advance(send: Buffer[]): HandshakeStep | undefined {
    switch (this.state) {
      case 'version': {
        if (this.buffer.length < VERSION_LENGTH) return cont(send);
        const raw = this.take(VERSION_LENGTH);
        const version = parseVersion(raw);
        if (!version) return this.fail(`the VNC server sent no RFB protocol version (got ${JSON.stringify(raw.toString('latin1'))})`, send);
        if (version.major !== 3 || version.minor < 8) return this.fail(`the VNC server speaks RFB ${version.major}.${version.minor}; 3.8 is required`, send);
        send.push(Buffer.from(RFB_VERSION_3_8, 'latin1'));
        this.state = 'security-types';
        return undefined;
      }
      case 'security-types': {
        if (this.buffer.length < 1) return cont(send);
        const count = this.buffer[0]!;
        if (count === 0) return this.failureReason(1, 'the VNC server refused the connection', send);
        if (this.buffer.length < 1 + count) return cont(send);
        const types = [...this.take(1 + count).subarray(1)];
        if (this.password !== undefined && types.includes(SecurityType.VncAuthentication)) {
          send.push(Buffer.from([SecurityType.VncAuthentication]));
          this.state = 'challenge';
        } else if (types.includes(SecurityType.None)) {
          send.push(Buffer.from([SecurityType.None]));
          this.state = 'result';
        } else {
          return this.fail(this.password === undefined && types.includes(SecurityType.VncAuthentication)
            ? 'the VNC server asks for a password, and the agent has none (VNC_PASSWORD is not set)'
            : `the VNC server offers no security type the agent supports (offered: ${types.join(', ')}; supported: None, VNC Authentication)`, send);
        }
        return undefined;
      }
      case 'challenge': {
        if (this.buffer.length < VNC_CHALLENGE_LENGTH) return cont(send);
        send.push(vncAuthResponse(this.password!, this.take(VNC_CHALLENGE_LENGTH)));
        this.state = 'result';
        return undefined;
      }
      case 'result': {
        if (this.buffer.length < 4) return cont(send);
        const result = this.buffer.readUInt32BE(0);
        if (result === SecurityResult.Ok) {
          this.take(4);
          this.state = 'done';
          return undefined;
        }
        return this.failureReason(4, 'the VNC server refused the authentication (is VNC_PASSWORD the one QEMU was given?)', send);
      }
      default:
        return this.fail('the RFB client handshake is in an unexpected state', send);
    }
  }

  /** A failure followed by u32be reason-length and the reason, starting at `offset` in the buffer. */
  private failureReason(offset: number, what: string, send: Buffer[]): HandshakeStep {
    if (this.buffer.length < offset + 4) return cont(send);
    const length = this.buffer.readUInt32BE(offset);
    if (length > MAX_REASON_LENGTH) return this.fail(`${what} (its reason is ${length} bytes long)`, send);
    if (this.buffer.length < offset + 4 + length) return cont(send);
    const reason = this.buffer.subarray(offset + 4, offset + 4 + length).toString('utf8');
    return this.fail(reason ? `${what}: ${reason}` : what, send);
  }

  private fail(reason: string, send: Buffer[]): HandshakeStep {
    this.state = 'failed';
    return failed(reason, send);
  }

  private take(n: number): Buffer {
    const head = this.buffer.subarray(0, n);
    this.buffer = this.buffer.subarray(n);
    return Buffer.from(head);
  }
}

type ServerState = 'version' | 'security-choice' | 'done' | 'failed';

/** A failure SecurityResult with its reason (RFB 3.8). */
export function securityFailure(reason: string): Buffer {
  const text = Buffer.from(reason, 'utf8');
  const out = Buffer.alloc(8 + text.length);
  out.writeUInt32BE(SecurityResult.Failed, 0);
  out.writeUInt32BE(text.length, 4);
  text.copy(out, 8);
  return out;
}

/**
 * The agent as the RFB server of a WebSocket client: version 3.8, security type None only, then
 * SecurityResult OK. The client's next message (ClientInit) belongs to QEMU.
 */
export class RfbServerHandshake {
  private state: ServerState = 'version';
  private buffer = Buffer.alloc(0);

  /** What the server sends first. */
  start(): Buffer {
    return Buffer.from(RFB_VERSION_3_8, 'latin1');
  }

  get finished(): boolean {
    return this.state === 'done' || this.state === 'failed';
  }

  /** Bytes received from the client. */
  receive(data: Buffer): HandshakeStep {
    if (this.finished) throw new Error('the RFB server handshake is already finished');
    this.buffer = Buffer.concat([this.buffer, data]);
    const send: Buffer[] = [];
    if (this.state === 'version') {
      if (this.buffer.length < VERSION_LENGTH) return cont(send);
      const raw = this.take(VERSION_LENGTH);
      const version = parseVersion(raw);
      if (!version || version.major !== 3 || version.minor < 8) {
        // Section 7.1.2: a server that cannot go on sends zero security types and a reason.
        const reason = `RFB 3.8 is required (the client sent ${JSON.stringify(raw.toString('latin1'))})`;
        const text = Buffer.from(reason, 'utf8');
        const out = Buffer.alloc(5 + text.length);
        out.writeUInt32BE(text.length, 1);
        text.copy(out, 5);
        this.state = 'failed';
        return failed(reason, [out]);
      }
      send.push(Buffer.from([1, SecurityType.None]));
      this.state = 'security-choice';
    }
    if (this.buffer.length < 1) return cont(send);
    const choice = this.take(1)[0]!;
    if (choice !== SecurityType.None) {
      const reason = `security type ${choice} is not offered; this console offers None (the BMC authenticated the connection)`;
      this.state = 'failed';
      return failed(reason, [...send, securityFailure(reason)]);
    }
    const ok = Buffer.alloc(4);
    ok.writeUInt32BE(SecurityResult.Ok, 0);
    this.state = 'done';
    return { kind: 'done', send: [...send, ok], rest: this.take(this.buffer.length) };
  }

  private take(n: number): Buffer {
    const head = this.buffer.subarray(0, n);
    this.buffer = this.buffer.subarray(n);
    return Buffer.from(head);
  }
}
