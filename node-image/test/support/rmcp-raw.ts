/**
 * Raw RMCP/RMCP+ traffic for robustness tests: a UDP endpoint that waits for matching datagrams,
 * sessionless message builders (presence ping, Open Session, RAKP1), an RMCP+ session whose keys
 * the test holds (so it can seal arbitrary payloads, sequence numbers and payload types with a
 * valid AuthCode), and a bounded Open Session / RAKP1 flood.
 *
 * The handshake is the project's client (ClientSession, the pure packet builder of IpmiClient);
 * the session keys are derived again here from the same RAKP values (reference 3.6), and checked
 * against the agent's RAKP4 before use.
 */
import { createSocket, Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { ClientSession, isIgnorableDatagramError } from '../../src/client';
import { Privilege } from '../../src/protocol/errors';
import { PayloadType } from '../../src/protocol/netfn';
import { ByteReader } from '../../src/protocol/wire/byte-reader';
import { decodeRmcpHeader, RmcpClass } from '../../src/protocol/rmcp';
import { AUTH_TYPE_RMCPPLUS, decodeRmcpPlusPacket, encodeRmcpPlusPacket, RmcpPlusPacket, verifyIntegrity } from '../../src/protocol/session/rmcpplus-packet';
import { AlgorithmPayloadType, decodeOpenSessionResponse, encodeOpenSessionRequest } from '../../src/protocol/session/open-session';
import { decodeRakpReply, encodeRakp1, GUID_LENGTH, RAKP_RANDOM_LENGTH, ROLE_NAME_ONLY_LOOKUP, ROLE_PRIVILEGE_MASK } from '../../src/protocol/session/rakp';
import { CipherSuite, suiteById } from '../../src/protocol/crypto/cipher-suites';
import { deriveSessionKeys, hmac, rakp4Icv, RakpParticipants, SessionKeys } from '../../src/protocol/crypto/session-keys';
import { AES_BLOCK, decryptAesCbc128, encryptAesCbc128 } from '../../src/protocol/crypto/confidentiality';
import { acceptSequence, EMPTY_WINDOW, SequenceWindow } from '../../src/protocol/session/sequence-window';
import { BMC_SLAVE_ADDRESS, decodeIpmiResponse, encodeIpmiRequest, IpmiResponse, REMOTE_CONSOLE_SWID } from '../../src/protocol/ipmi-message';
import { decodeIpmi15Packet, encodeIpmi15Packet, Ipmi15Packet } from '../../src/protocol/session/ipmi15-packet';
import { authCode15, AuthType15 } from '../../src/protocol/crypto/auth15';

const HOST = '127.0.0.1';

// ------------------------------------------------------------------ UDP endpoint

type Listener = (d: Buffer) => boolean;

/** One UDP socket talking to the agent; every received datagram is offered to the waiting matchers. */
export class RawUdp {
  received = 0;
  private readonly listeners = new Set<Listener>();
  /** Called for every datagram before the matchers (counting, draining). */
  onDatagram: ((d: Buffer) => void) | null = null;

  private constructor(private readonly socket: Socket, readonly port: number) {
    socket.on('message', (d) => {
      this.received++;
      this.onDatagram?.(d);
      for (const l of [...this.listeners]) if (l(d)) this.listeners.delete(l);
    });
    socket.on('error', () => {});
  }

  /** `bindAddress`: the source address (any of 127/8 is loopback), to act as another host. */
  static async open(port: number, o: { bindAddress?: string } = {}): Promise<RawUdp> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, o.bindAddress ?? HOST, () => { socket.off('error', reject); resolve(); });
    });
    return new RawUdp(socket, port);
  }

  get localPort(): number { return this.socket.address().port; }

  send(d: Buffer): void {
    this.socket.send(d, this.port, HOST);
  }

  /** Resolves with the first datagram `match` maps to a value, or undefined after `timeoutMs`. */
  waitFor<T>(match: (d: Buffer) => T | undefined, timeoutMs: number): Promise<T | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.listeners.delete(listener); resolve(undefined); }, timeoutMs);
      const listener: Listener = (d) => {
        let v: T | undefined;
        try {
          v = match(d);
        } catch {
          v = undefined;
        }
        if (v === undefined) return false;
        clearTimeout(timer);
        resolve(v);
        return true;
      };
      this.listeners.add(listener);
    });
  }

  close(): Promise<void> {
    this.listeners.clear();
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}

// ------------------------------------------------------------------ sessionless messages

/** ASF Presence Ping (reference 1.2); the agent answers with a Pong carrying the same tag. */
export function presencePing(tag: number): Buffer {
  return Buffer.from([0x06, 0x00, 0xff, 0x06, 0x00, 0x00, 0x11, 0xbe, 0x80, tag & 0xff, 0x00, 0x00]);
}

/** The tag of a Presence Pong, or undefined for any other datagram. */
export function pongTag(d: Buffer): number | undefined {
  return d.length >= 12 && d[0] === 0x06 && (d[3]! & 0x1f) === 0x06 && d[8] === 0x40 ? d[9] : undefined;
}

function sessionless(payloadType: number, payload: Buffer): Buffer {
  return encodeRmcpPlusPacket({ payloadType, sessionId: 0, sequence: 0, payload, encrypted: false, integrity: null });
}

export function openSessionRequest(o: { consoleSessionId: number; suite: CipherSuite; privilege?: number; tag?: number }): Buffer {
  return sessionless(PayloadType.OpenSessionRequest, encodeOpenSessionRequest({
    tag: o.tag ?? 0,
    requestedPrivilege: o.privilege ?? 0,
    consoleSessionId: o.consoleSessionId >>> 0,
    auth: { payloadType: AlgorithmPayloadType.Authentication, algorithm: o.suite.auth.id },
    integrity: { payloadType: AlgorithmPayloadType.Integrity, algorithm: o.suite.integrity.id },
    confidentiality: { payloadType: AlgorithmPayloadType.Confidentiality, algorithm: o.suite.confidentiality.id },
  }));
}

export function rakp1Request(o: { bmcSessionId: number; userName: string; privilege?: number; consoleRandom?: Buffer; tag?: number }): Buffer {
  return sessionless(PayloadType.Rakp1, encodeRakp1({
    tag: o.tag ?? 0,
    bmcSessionId: o.bmcSessionId >>> 0,
    consoleRandom: o.consoleRandom ?? randomBytes(RAKP_RANDOM_LENGTH),
    role: ((o.privilege ?? Privilege.Administrator) & ROLE_PRIVILEGE_MASK) | ROLE_NAME_ONLY_LOOKUP,
    userName: Buffer.from(o.userName, 'latin1'),
  }));
}

/** A sessionless RMCP+ packet (session id 0, no protection): its payload type and payload. */
export function decodeSessionless(d: Buffer): { payloadType: number; payload: Buffer } | undefined {
  if (d.length < 16 || d[0] !== 0x06 || (d[3]! & 0x1f) !== RmcpClass.Ipmi || d[4] !== AUTH_TYPE_RMCPPLUS) return undefined;
  const r = new ByteReader(d);
  decodeRmcpHeader(r);
  const p = decodeRmcpPlusPacket(d, r);
  if (p.sessionId !== 0 || p.encrypted || p.authenticated) return undefined;
  return { payloadType: p.payloadType, payload: p.payload };
}

/** Open Session Response fields, or undefined for any other datagram. */
export function openSessionReply(d: Buffer): { status: number; consoleSessionId: number; bmcSessionId?: number; payloadLength: number } | undefined {
  const s = decodeSessionless(d);
  if (!s || s.payloadType !== PayloadType.OpenSessionResponse) return undefined;
  const m = decodeOpenSessionResponse(s.payload);
  return { status: m.status, consoleSessionId: m.consoleSessionId, bmcSessionId: m.accepted?.bmcSessionId, payloadLength: s.payload.length };
}

/** RAKP2 (or RAKP4) status and console session id, or undefined for any other datagram. */
export function rakpReply(d: Buffer, payloadType: number = PayloadType.Rakp2): { status: number; consoleSessionId: number } | undefined {
  const s = decodeSessionless(d);
  if (!s || s.payloadType !== payloadType) return undefined;
  const m = decodeRakpReply(s.payload);
  return { status: m.status, consoleSessionId: m.consoleSessionId };
}

// ------------------------------------------------------------------ a session whose keys the test holds

export interface SealOptions {
  readonly payloadType?: number;
  /** Cleartext payload, encrypted here when the suite encrypts and `encrypted` is not false. */
  readonly cleartext?: Buffer;
  /** Bytes put on the wire as the payload as they are (e.g. garbage "ciphertext"). */
  readonly rawPayload?: Buffer;
  /** Default: the next outbound sequence number. */
  readonly sequence?: number;
  /** Default: the BMC session id. */
  readonly sessionId?: number;
  /** Default: as the suite says. */
  readonly encrypted?: boolean;
  /** Payload type 02 (OEM explicit): OEM IANA (4) and OEM payload id (2) after the payload type byte; default zeros. */
  readonly oemHeader?: Buffer;
  /** Default true: a valid AuthCode. */
  readonly authenticated?: boolean;
}

export interface OpenedPayload {
  readonly payloadType: number;
  readonly sequence: number;
  readonly payload: Buffer;
}

/** Thrown by RawSession.open when the agent refuses the login (status or wrong password). */
export class LoginRefused extends Error {}

export class RawSession {
  /** The agent's inbound window for this session, mirrored from what was sealed and sent unmodified. */
  private agentWindow: SequenceWindow = EMPTY_WINDOW;
  private nextSeq = 1;
  private nextRqSeq = 1;

  private constructor(
    readonly udp: RawUdp,
    readonly suite: CipherSuite,
    readonly bmcSessionId: number,
    readonly consoleSessionId: number,
    readonly keys: SessionKeys,
  ) {}

  /** Logs in with ClientSession's handshake; retries the whole handshake (bounded) when a step times out. */
  static async open(udp: RawUdp, o: { user: string; password: string; suiteId: number; privilege?: number; timeoutMs?: number; tries?: number }): Promise<RawSession> {
    const suite = suiteById(o.suiteId);
    if (!suite) throw new Error(`cipher suite ${o.suiteId} unknown`);
    const privilege = o.privilege ?? Privilege.User;
    const timeoutMs = o.timeoutMs ?? 1000;
    for (let attempt = 0; attempt < (o.tries ?? 3); attempt++) {
      const cs = new ClientSession({ userName: o.user, password: o.password, suite, privilege, openSessionPrivilege: privilege });
      const consoleSessionId = (randomBytes(4).readUInt32LE(0) | 1) >>> 0;
      const step = async <T>(out: Buffer, accept: (d: Buffer) => T): Promise<T | undefined> => {
        let failure: unknown;
        const p = udp.waitFor((d) => {
          try {
            return accept(d);
          } catch (err) {
            if (isIgnorableDatagramError(err)) return undefined;
            failure = err;
            return null as unknown as T;
          }
        }, timeoutMs);
        udp.send(out);
        const v = await p;
        if (failure) throw new LoginRefused(failure instanceof Error ? failure.message : String(failure));
        return v;
      };
      if ((await step(cs.openSessionRequest(consoleSessionId), (d) => { cs.acceptOpenSessionResponse(d); return true; })) === undefined) continue;
      const rm = randomBytes(RAKP_RANDOM_LENGTH);
      const rakp2 = await step(cs.rakp1(rm), (d) => { cs.acceptRakp2(d); return d; });
      if (rakp2 === undefined) continue;
      const rakp4 = await step(cs.rakp3(), (d) => { cs.acceptRakp4(d); return d; });
      if (rakp4 === undefined) continue;
      const body = decodeRakpReply(decodeSessionless(rakp2)!.payload).body;
      const participants: RakpParticipants = {
        consoleSessionId,
        bmcSessionId: cs.bmcSessionId!,
        consoleRandom: rm,
        bmcRandom: Buffer.from(body.subarray(0, RAKP_RANDOM_LENGTH)),
        bmcGuid: Buffer.from(body.subarray(RAKP_RANDOM_LENGTH, RAKP_RANDOM_LENGTH + GUID_LENGTH)),
        role: (privilege & ROLE_PRIVILEGE_MASK) | ROLE_NAME_ONLY_LOOKUP,
        userName: Buffer.from(o.user, 'latin1'),
      };
      const keys = deriveSessionKeys(suite.auth, Buffer.from(o.password, 'latin1'), null, participants);
      const icv = decodeRakpReply(decodeSessionless(rakp4)!.payload).body;
      if (!rakp4Icv(suite.auth, keys.sik, participants).equals(icv)) throw new Error('session keys derived by the test do not match the agent\'s RAKP4');
      return new RawSession(udp, suite, participants.bmcSessionId, consoleSessionId, keys);
    }
    throw new Error(`no login to the agent after ${o.tries ?? 3} handshakes`);
  }

  get nextSequence(): number { return this.nextSeq; }
  get highestAccepted(): number | null { return this.agentWindow.highest; }

  allocateRqSeq(): number {
    const v = this.nextRqSeq;
    this.nextRqSeq = (v + 1) % 64;
    return v;
  }

  /**
   * A session packet with a valid AuthCode (unless authenticated: false). `track`: the packet goes
   * out unmodified, so the agent's window moves as acceptSequence says (the agent checks the
   * sequence right after the AuthCode, before decrypting).
   */
  seal(o: SealOptions, track = true): Buffer {
    const sessionId = o.sessionId ?? this.bmcSessionId;
    const sequence = (o.sequence ?? this.nextSeq) >>> 0;
    const encrypted = o.encrypted ?? this.suite.confidentiality.cipher !== null;
    const authenticated = o.authenticated ?? true;
    let payload = o.rawPayload ?? o.cleartext ?? Buffer.alloc(0);
    if (o.rawPayload === undefined && encrypted && this.suite.confidentiality.cipher !== null) {
      payload = encryptAesCbc128(this.keys.k2, randomBytes(AES_BLOCK), payload);
    }
    const payloadType = o.payloadType ?? PayloadType.Ipmi;
    let d = encodeRmcpPlusPacket({
      payloadType,
      sessionId,
      sequence,
      payload,
      encrypted,
      integrity: authenticated ? { alg: this.suite.integrity, k1: this.keys.k1 } : null,
    });
    if ((payloadType & 0x3f) === PayloadType.OemExplicit) {
      // The OEM fields sit between the payload type and the session id; the AuthCode covers them.
      const oem = o.oemHeader ?? Buffer.alloc(6);
      d = Buffer.concat([d.subarray(0, 6), oem.subarray(0, 6), Buffer.alloc(Math.max(0, 6 - oem.length)), d.subarray(6)]);
      const alg = this.suite.integrity;
      if (authenticated && alg.hash) {
        const codeAt = d.length - alg.authCodeLength;
        hmac(alg.hash, this.keys.k1, d.subarray(4, codeAt)).subarray(0, alg.authCodeLength).copy(d, codeAt);
      }
    }
    if (o.sequence === undefined) this.nextSeq = nextNonZero(this.nextSeq);
    if (track && authenticated && sessionId === this.bmcSessionId) this.noteAccepted(sequence);
    return d;
  }

  /** Mirrors the agent's window after it saw `sequence` with a valid AuthCode. */
  noteAccepted(sequence: number): void {
    const w = acceptSequence(this.agentWindow, sequence);
    if (!w) return;
    this.agentWindow = w;
    // Keep our counter above what the agent has seen, or our next packets would look like replays.
    const h = w.highest!;
    if (((h - this.nextSeq) >>> 0) < 0x8000_0000) this.nextSeq = nextNonZero(h);
  }

  /** An IPMI request, sealed. */
  request(netFn: number, cmd: number, data: Buffer = Buffer.alloc(0), rqSeq = this.allocateRqSeq()): { rqSeq: number; datagram: Buffer } {
    const message = encodeIpmiRequest({ rsAddr: BMC_SLAVE_ADDRESS, netFn, rsLun: 0, rqAddr: REMOTE_CONSOLE_SWID, rqSeq, rqLun: 0, cmd, data });
    return { rqSeq, datagram: this.seal({ cleartext: message }) };
  }

  /**
   * Opens a datagram the agent sent in this session: our console session id, a valid AuthCode,
   * the confidentiality trailer. Returns undefined for datagrams of other sessions; throws when a
   * datagram of this session is not well-formed.
   */
  open(d: Buffer): OpenedPayload | undefined {
    let p: RmcpPlusPacket;
    try {
      if (d.length < 16 || d[4] !== AUTH_TYPE_RMCPPLUS) return undefined;
      const r = new ByteReader(d);
      decodeRmcpHeader(r);
      p = decodeRmcpPlusPacket(d, r);
    } catch {
      return undefined;
    }
    if (p.sessionId !== this.consoleSessionId) return undefined;
    if (!p.authenticated || !verifyIntegrity(p, this.suite.integrity, this.keys.k1)) throw new Error(`agent packet in session 0x${this.bmcSessionId.toString(16)} without a valid AuthCode: ${d.toString('hex')}`);
    const encrypted = this.suite.confidentiality.cipher !== null;
    if (p.encrypted !== encrypted) throw new Error(`agent packet with encrypted=${p.encrypted}: ${d.toString('hex')}`);
    const payload = encrypted ? decryptAesCbc128(this.keys.k2, p.payload) : p.payload;
    return { payloadType: p.payloadType, sequence: p.sequence, payload };
  }

  /** Sends a request and waits for its response (same rqSeq and command), retrying with new sequence numbers. */
  async call(netFn: number, cmd: number, data: Buffer = Buffer.alloc(0), o: { timeoutMs?: number; tries?: number } = {}): Promise<IpmiResponse | undefined> {
    const rqSeq = this.allocateRqSeq();
    for (let t = 0; t < (o.tries ?? 3); t++) {
      const p = this.udp.waitFor((d) => {
        const opened = this.open(d);
        if (!opened || opened.payloadType !== PayloadType.Ipmi) return undefined;
        const r = decodeIpmiResponse(opened.payload);
        return r.rqSeq === rqSeq && r.cmd === cmd ? r : undefined;
      }, o.timeoutMs ?? 1000);
      this.udp.send(this.request(netFn, cmd, data, rqSeq).datagram);
      const r = await p;
      if (r) return r;
    }
    return undefined;
  }
}

function nextNonZero(v: number): number {
  const n = (v + 1) >>> 0;
  return n === 0 ? 1 : n;
}

// ------------------------------------------------------------------ Open Session flood

export interface FloodOptions {
  readonly port: number;
  /** At least this many Open Session requests are sent. */
  readonly minCount: number;
  /** Never more than this many. */
  readonly maxCount: number;
  /** Exchanges outstanding at once (the bound that keeps the flood from only filling socket buffers). */
  readonly maxInFlight: number;
  /** After minCount, keep going until this says stop (or maxCount). */
  readonly keepGoing?: () => boolean;
  /** Follow each accepted Open Session with a RAKP1 naming this unknown user (plus a counter). */
  readonly rakp1UnknownUser?: string;
  readonly suiteId: number;
  /** Hard limit for the whole flood. */
  readonly deadlineMs: number;
  /** How many of the last accepted BMC session ids to keep. */
  readonly keepRecent?: number;
}

export interface FloodStats {
  openSent: number;
  openAccepted: number;
  openRefused: Record<number, number>;
  rakp1Sent: number;
  rakp2Status: Record<number, number>;
  /** Exchanges that got no answer within a second. */
  lost: number;
  elapsedMs: number;
  /** Last accepted BMC session ids, oldest first. */
  recentBmcSessionIds: number[];
  /** First accepted BMC session ids. */
  firstBmcSessionIds: number[];
}

/** A live flood; `progress` is readable while it runs, `done` resolves with the final stats. */
export interface Flood {
  readonly progress: FloodStats;
  readonly done: Promise<FloodStats>;
}

export function startFlood(o: FloodOptions): Flood {
  const stats: FloodStats = { openSent: 0, openAccepted: 0, openRefused: {}, rakp1Sent: 0, rakp2Status: {}, lost: 0, elapsedMs: 0, recentBmcSessionIds: [], firstBmcSessionIds: [] };
  const keep = o.keepRecent ?? 64;
  const suite = suiteById(o.suiteId);
  if (!suite) throw new Error(`cipher suite ${o.suiteId} unknown`);
  const done = (async (): Promise<FloodStats> => {
    const udp = await RawUdp.open(o.port);
    const started = Date.now();
    /** console session id → time the exchange started */
    const inFlight = new Map<number, number>();
    let wake: (() => void) | null = null;
    const finish = (id: number): void => { if (inFlight.delete(id)) wake?.(); };
    udp.onDatagram = (d) => {
      const open = openSessionReply(d);
      if (open) {
        if (!inFlight.has(open.consoleSessionId)) return;
        if (open.status !== 0 || open.bmcSessionId === undefined) {
          stats.openRefused[open.status] = (stats.openRefused[open.status] ?? 0) + 1;
          return finish(open.consoleSessionId);
        }
        stats.openAccepted++;
        if (stats.firstBmcSessionIds.length < keep) stats.firstBmcSessionIds.push(open.bmcSessionId);
        stats.recentBmcSessionIds.push(open.bmcSessionId);
        if (stats.recentBmcSessionIds.length > keep) stats.recentBmcSessionIds.shift();
        if (!o.rakp1UnknownUser) return finish(open.consoleSessionId);
        stats.rakp1Sent++;
        udp.send(rakp1Request({ bmcSessionId: open.bmcSessionId, userName: `${o.rakp1UnknownUser}${stats.rakp1Sent % 1000}`.slice(0, 16) }));
        return;
      }
      const rakp = rakpReply(d);
      if (rakp) {
        stats.rakp2Status[rakp.status] = (stats.rakp2Status[rakp.status] ?? 0) + 1;
        // A refusal for an unknown session carries console id 0: it ends the oldest exchange.
        const id = rakp.consoleSessionId !== 0 ? rakp.consoleSessionId : inFlight.keys().next().value;
        if (id !== undefined) finish(id);
      }
    };
    const wantMore = (): boolean => stats.openSent < o.maxCount && (stats.openSent < o.minCount || (o.keepGoing?.() ?? false));
    try {
      for (;;) {
        const now = Date.now();
        if (now - started > o.deadlineMs) break;
        for (const [id, t] of inFlight) {
          if (now - t > 1000) { inFlight.delete(id); stats.lost++; }
        }
        if (!wantMore() && inFlight.size === 0) break;
        while (wantMore() && inFlight.size < o.maxInFlight) {
          const consoleSessionId = (0x5000_0000 + stats.openSent + 1) >>> 0;
          stats.openSent++;
          inFlight.set(consoleSessionId, Date.now());
          udp.send(openSessionRequest({ consoleSessionId, suite }));
        }
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => { wake = null; resolve(); }, 50);
          wake = () => { clearTimeout(t); wake = null; resolve(); };
        });
      }
    } finally {
      stats.elapsedMs = Date.now() - started;
      await udp.close();
    }
    return stats;
  })();
  return { progress: stats, done };
}

// ------------------------------------------------------------------ IPMI 1.5 (reference section 6)

/** An IPMI request message as remote console software sends it. */
export function ipmiRequestMessage(netFn: number, cmd: number, data: Buffer, rqSeq: number): Buffer {
  return encodeIpmiRequest({ rsAddr: BMC_SLAVE_ADDRESS, netFn, rsLun: 0, rqAddr: REMOTE_CONSOLE_SWID, rqSeq: rqSeq & 0x3f, rqLun: 0, cmd, data });
}

/** An IPMI message outside a session in IPMI 1.5 framing (auth type none, session 0). */
export function ipmi15Sessionless(message: Buffer): Buffer {
  return encodeIpmi15Packet({ authType: AuthType15.None, sequence: 0, sessionId: 0, authCode: null, message });
}

/** An IPMI message outside a session in RMCP+ framing. */
export function rmcpPlusSessionless(message: Buffer): Buffer {
  return sessionless(PayloadType.Ipmi, message);
}

/** The IPMI 1.5 packet of a datagram, or undefined when it is none. */
export function decodeIpmi15Datagram(d: Buffer): Ipmi15Packet | undefined {
  try {
    if (d.length < 14 || d[4] === AUTH_TYPE_RMCPPLUS) return undefined;
    const r = new ByteReader(d);
    const h = decodeRmcpHeader(r);
    if (h.isAck || h.rmcpClass !== RmcpClass.Ipmi) return undefined;
    return decodeIpmi15Packet(r);
  } catch {
    return undefined;
  }
}

/** Get Session Challenge request data: MD5, the user name NUL-padded to 16 bytes. */
export function sessionChallengeData(user: string): Buffer {
  const d = Buffer.alloc(17);
  d[0] = AuthType15.Md5;
  Buffer.from(user, 'latin1').copy(d, 1, 0, 16);
  return d;
}

/** An MD5-authenticated IPMI 1.5 session (Get Session Challenge, Activate Session) whose password the test holds. */
export class RawIpmi15Session {
  private agentWindow: SequenceWindow;
  private nextSeq: number;
  private nextRqSeq = 1;

  private constructor(readonly udp: RawUdp, readonly password: Buffer, readonly sessionId: number, initialInbound: number) {
    this.nextSeq = initialInbound;
    this.agentWindow = { highest: (initialInbound - 1) >>> 0, seenBelow: 0 };
  }

  static async open(udp: RawUdp, o: { user: string; password: string; privilege?: number; timeoutMs?: number }): Promise<RawIpmi15Session> {
    const password = Buffer.from(o.password, 'latin1');
    const timeoutMs = o.timeoutMs ?? 1000;
    const answer = (cmd: number, rqSeq: number) => (d: Buffer): IpmiResponse | undefined => {
      const p = decodeIpmi15Datagram(d);
      if (!p) return undefined;
      const r = decodeIpmiResponse(p.message);
      return r.cmd === cmd && r.rqSeq === rqSeq ? r : undefined;
    };
    for (let attempt = 0; attempt < 3; attempt++) {
      const challengeReply = udp.waitFor(answer(0x39, 0x21), timeoutMs);
      udp.send(ipmi15Sessionless(ipmiRequestMessage(0x06, 0x39, sessionChallengeData(o.user), 0x21)));
      const c = await challengeReply;
      if (!c) continue;
      if (c.completionCode !== 0 || c.data.length !== 20) throw new LoginRefused(`Get Session Challenge: completion code 0x${c.completionCode.toString(16)}`);
      const temporaryId = c.data.readUInt32LE(0);
      const activate = Buffer.alloc(22);
      activate[0] = AuthType15.Md5;
      activate[1] = o.privilege ?? Privilege.User;
      c.data.copy(activate, 2, 4, 20);
      activate.writeUInt32LE(0x1000, 18);
      const message = ipmiRequestMessage(0x06, 0x3a, activate, 0x22);
      const activated = udp.waitFor(answer(0x3a, 0x22), timeoutMs);
      udp.send(encodeIpmi15Packet({ authType: AuthType15.Md5, sequence: 0, sessionId: temporaryId, authCode: authCode15(AuthType15.Md5, password, temporaryId, message, 0)!, message }));
      const a = await activated;
      if (!a) continue;
      if (a.completionCode !== 0 || a.data.length !== 10) throw new LoginRefused(`Activate Session: completion code 0x${a.completionCode.toString(16)}`);
      return new RawIpmi15Session(udp, password, a.data.readUInt32LE(1), a.data.readUInt32LE(5));
    }
    throw new Error('no IPMI 1.5 login to the agent after 3 tries');
  }

  get nextSequence(): number { return this.nextSeq; }

  allocateRqSeq(): number {
    const v = this.nextRqSeq;
    this.nextRqSeq = (v + 1) % 64;
    return v;
  }

  /** A session packet with a valid MD5 AuthCode (unless validAuthCode is false); tracks the agent's window like RawSession.seal. */
  seal(message: Buffer, o: { sequence?: number; sessionId?: number; validAuthCode?: boolean } = {}): Buffer {
    const sequence = (o.sequence ?? this.nextSeq) >>> 0;
    const sessionId = o.sessionId ?? this.sessionId;
    const valid = o.validAuthCode ?? true;
    const authCode = valid ? authCode15(AuthType15.Md5, this.password, sessionId, message, sequence)! : randomBytes(16);
    if (o.sequence === undefined) this.nextSeq = nextNonZero(this.nextSeq);
    if (valid && sessionId === this.sessionId) {
      const w = acceptSequence(this.agentWindow, sequence);
      if (w) {
        this.agentWindow = w;
        if (((w.highest! - this.nextSeq) >>> 0) < 0x8000_0000) this.nextSeq = nextNonZero(w.highest!);
      }
    }
    return encodeIpmi15Packet({ authType: AuthType15.Md5, sequence, sessionId, authCode, message });
  }

  /** The message of an agent packet of this session (AuthCode verified); undefined for other datagrams; throws on a bad AuthCode. */
  open(d: Buffer): Buffer | undefined {
    const p = decodeIpmi15Datagram(d);
    if (!p || p.sessionId !== this.sessionId) return undefined;
    const expected = authCode15(AuthType15.Md5, this.password, this.sessionId, p.message, p.sequence);
    if (p.authType !== AuthType15.Md5 || !p.authCode || !expected || !expected.equals(p.authCode)) throw new Error(`agent IPMI 1.5 packet without a valid AuthCode: ${d.toString('hex')}`);
    return p.message;
  }

  async call(netFn: number, cmd: number, data: Buffer = Buffer.alloc(0), o: { timeoutMs?: number; tries?: number } = {}): Promise<IpmiResponse | undefined> {
    const rqSeq = this.allocateRqSeq();
    for (let t = 0; t < (o.tries ?? 3); t++) {
      const p = this.udp.waitFor((d) => {
        const m = this.open(d);
        if (!m) return undefined;
        const r = decodeIpmiResponse(m);
        return r.rqSeq === rqSeq && r.cmd === cmd ? r : undefined;
      }, o.timeoutMs ?? 1000);
      this.udp.send(this.seal(ipmiRequestMessage(netFn, cmd, data, rqSeq)));
      const r = await p;
      if (r) return r;
    }
    return undefined;
  }
}
