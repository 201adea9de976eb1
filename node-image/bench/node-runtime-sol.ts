/**
 * A Serial-over-LAN console for the node-runtime bench, built on the project's client session
 * (ClientSession: handshake, IPMI requests, and its SOL payload support, solPacket/parsePayload)
 * with one UDP socket on 127.0.0.1. IpmiClient drops SOL payloads, so the bench drives the session
 * itself: one session activates SOL and sends Chassis Control, and every SOL packet is timed when
 * it arrives and ACKed at once (all characters accepted), as ipmitool's console does.
 *
 * Bounded everywhere: each request is tried `tries` times, `timeoutMs` apart.
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ClientSession, isIgnorableDatagramError, type ClientResponse } from '../src/client/client-session';
import { suiteById } from '../src/protocol/crypto/cipher-suites';
import { Privilege } from '../src/protocol/errors';
import { decodeIpmiResponse } from '../src/protocol/ipmi-message';
import { AppCmd, ChassisCmd, NetFn, PayloadType, TransportCmd } from '../src/protocol/netfn';
import { decodeSolPacket, encodeSolPacket } from '../src/protocol/sol-packet';
import { RAKP_RANDOM_LENGTH } from '../src/protocol/session/rakp';

const AES_IV_LENGTH = 16;
/** Activate/Deactivate Payload request: SOL, instance 1, auxiliary data (byte 3: encryption + authentication). */
const SOL_INSTANCE = 1;
const AUX_ENCRYPT_AND_AUTHENTICATE = 0xc0;
/** The LAN channel SOL runs on, and SOL parameter 3 (table 26-5). */
const SOL_CHANNEL = 1;
const SOL_PARAM_ACCUMULATE = 3;
/** Chassis Control actions (table 28-4). */
export const CHASSIS_ON = 0x01;
export const CHASSIS_OFF = 0x00;

export interface SolConsoleOptions {
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** RMCP+ cipher suite (default 3: what ipmitool uses with -C 3; encrypted SOL). */
  readonly suite?: number;
  readonly timeoutMs?: number;
  readonly tries?: number;
  /**
   * Set SOL parameter 3 before activating: character accumulate interval (5 ms units, 1..255) and
   * send threshold (characters). Undefined leaves the BMC's setting (default 60 ms / 96 characters).
   */
  readonly accumulate?: { readonly intervalUnits: number; readonly threshold: number };
}

/** Called for every new character of host output, with its arrival time (performance.now()). */
export type SolOutputListener = (data: Buffer, atMs: number) => void;

type Options = Required<Omit<SolConsoleOptions, 'accumulate'>> & Pick<SolConsoleOptions, 'accumulate'>;

interface Waiting {
  readonly rqSeq: number;
  readonly cmd: number;
  readonly resolve: (r: ClientResponse) => void;
}

export class SolConsole {
  private session: ClientSession | undefined;
  private handshakeStep: ((d: Buffer) => boolean) | undefined;
  private waiting: Waiting | undefined;
  private listener: SolOutputListener | undefined;
  private lastSeq = 0;
  private lastAccepted = 0;
  private active = false;
  private closed = false;
  /** SOL packets received (new and retransmitted). */
  packets = 0;

  private constructor(private readonly socket: Socket, private readonly o: Options) {
    socket.on('message', (d: Buffer) => this.onDatagram(d, performance.now()));
    socket.on('error', () => undefined);
  }

  /** Connects, logs in as Administrator and activates SOL. */
  static async open(options: SolConsoleOptions): Promise<SolConsole> {
    const o: Options = { suite: 3, timeoutMs: 1_000, tries: 4, ...options };
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(o.port, '127.0.0.1', () => { socket.off('error', reject); resolve(); });
    });
    const c = new SolConsole(socket, o);
    try {
      await c.login();
      if (o.accumulate) {
        const set = await c.request(NetFn.Transport, TransportCmd.SetSolConfigParameters,
          Buffer.from([SOL_CHANNEL, SOL_PARAM_ACCUMULATE, o.accumulate.intervalUnits, o.accumulate.threshold]));
        if (set.completionCode !== 0) throw new Error(`Set SOL Configuration Parameters (3) answered 0x${set.completionCode.toString(16)}`);
      }
      const act = await c.request(NetFn.App, AppCmd.ActivatePayload, Buffer.from([PayloadType.Sol, SOL_INSTANCE, AUX_ENCRYPT_AND_AUTHENTICATE, 0, 0, 0]));
      if (act.completionCode !== 0) throw new Error(`Activate Payload (SOL) answered 0x${act.completionCode.toString(16)}`);
      c.active = true;
      return c;
    } catch (err) {
      await c.close();
      throw err;
    }
  }

  onOutput(listener: SolOutputListener | undefined): void {
    this.listener = listener;
  }

  /** Sends Chassis Control; resolves with the time the request left (before the answer) and the answer's time. */
  async chassisControl(action: number): Promise<{ sentAtMs: number; sentAtEpochMs: number; answeredAtMs: number; completionCode: number }> {
    const sentAtEpochMs = Date.now();
    const sentAtMs = performance.now();
    const r = await this.request(NetFn.Chassis, ChassisCmd.ChassisControl, Buffer.from([action]));
    return { sentAtMs, sentAtEpochMs, answeredAtMs: performance.now(), completionCode: r.completionCode };
  }

  /** Get Chassis Status byte 1 bit 0. */
  async powerIsOn(): Promise<boolean> {
    const r = await this.request(NetFn.Chassis, ChassisCmd.GetChassisStatus);
    if (r.completionCode !== 0 || r.data.length < 1) throw new Error(`Get Chassis Status answered 0x${r.completionCode.toString(16)}`);
    return (r.data[0]! & 0x01) !== 0;
  }

  /** Deactivates SOL and closes the session (one try each), then the socket. Never throws. */
  async close(): Promise<void> {
    if (this.closed) return;
    const s = this.session;
    if (s?.stage === 'active') {
      const once = { ...this.o, tries: 1 };
      if (this.active) await this.request(NetFn.App, AppCmd.DeactivatePayload, Buffer.from([PayloadType.Sol, SOL_INSTANCE, 0, 0, 0, 0]), once).catch(() => undefined);
      const id = Buffer.alloc(4);
      id.writeUInt32LE(s.bmcSessionId ?? 0, 0);
      await this.request(NetFn.App, AppCmd.CloseSession, id, once).catch(() => undefined);
    }
    this.closed = true;
    this.active = false;
    await new Promise<void>((resolve) => { try { this.socket.close(() => resolve()); } catch { resolve(); } });
  }

  // ------------------------------------------------------------------ internals

  private async login(): Promise<void> {
    const suite = suiteById(this.o.suite);
    if (!suite) throw new Error(`cipher suite ${this.o.suite} is not supported`);
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.o.tries; attempt++) {
      const s = new ClientSession({ userName: this.o.user, password: this.o.password, suite, privilege: Privilege.Administrator });
      this.session = s;
      try {
        await this.step(s.openSessionRequest(randomBytes(4).readUInt32LE(0) | 1), (d) => s.acceptOpenSessionResponse(d));
        await this.step(s.rakp1(randomBytes(RAKP_RANDOM_LENGTH)), (d) => s.acceptRakp2(d));
        await this.step(s.rakp3(), (d) => s.acceptRakp4(d));
        const r = await this.request(NetFn.App, AppCmd.SetSessionPrivilegeLevel, Buffer.from([Privilege.Administrator]));
        if (r.completionCode !== 0) throw new Error(`Set Session Privilege Level answered 0x${r.completionCode.toString(16)}`);
        return;
      } catch (err) {
        lastError = err;
        if (!(err instanceof StepTimeout)) throw err;
      }
    }
    throw new Error(`no session with the agent on port ${this.o.port}: ${(lastError as Error).message}`);
  }

  private step(datagram: Buffer, accept: (d: Buffer) => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { this.handshakeStep = undefined; reject(new StepTimeout('handshake step timed out')); }, this.o.timeoutMs);
      this.handshakeStep = (d) => {
        try {
          accept(d);
        } catch (err) {
          if (isIgnorableDatagramError(err)) return false;
          clearTimeout(timer);
          this.handshakeStep = undefined;
          reject(err);
          return true;
        }
        clearTimeout(timer);
        this.handshakeStep = undefined;
        resolve();
        return true;
      };
      this.socket.send(datagram);
    });
  }

  /** One IPMI request at a time, retransmitted with the same rqSeq until answered or out of tries. */
  private async request(netFn: number, cmd: number, data: Buffer = Buffer.alloc(0), o: { timeoutMs: number; tries: number } = this.o): Promise<ClientResponse> {
    const s = this.session;
    if (!s || s.stage !== 'active') throw new Error('no active session');
    if (this.waiting) throw new Error('a request is already waiting');
    const rqSeq = s.allocateRqSeq();
    try {
      for (let attempt = 1; attempt <= o.tries; attempt++) {
        const answer = new Promise<ClientResponse | undefined>((resolve) => {
          const timer = setTimeout(() => resolve(undefined), o.timeoutMs);
          this.waiting = { rqSeq, cmd, resolve: (r) => { clearTimeout(timer); resolve(r); } };
        });
        this.socket.send(s.request(netFn, cmd, data, { rqSeq, iv: randomBytes(AES_IV_LENGTH) }).datagram);
        const r = await answer;
        // 0xCF: the agent is still carrying out the first copy of this request; its answer follows.
        if (r && r.completionCode !== 0xcf) return r;
      }
    } finally {
      this.waiting = undefined;
    }
    throw new Error(`no answer to NetFn 0x${netFn.toString(16)} cmd 0x${cmd.toString(16)} after ${o.tries} tries`);
  }

  private onDatagram(d: Buffer, atMs: number): void {
    if (this.handshakeStep) { this.handshakeStep(d); return; }
    const s = this.session;
    if (!s || s.stage !== 'active') return;
    let p;
    try {
      p = s.parsePayload(d);
    } catch {
      return; // stray, replayed or not ours
    }
    if (p.payloadType === PayloadType.Sol) { this.onSol(p.payload, atMs); return; }
    if (p.payloadType !== PayloadType.Ipmi || !this.waiting) return;
    // An IPMI message from the agent: a response (NetFn odd) to the request waiting, or ignored.
    if (p.payload.length < 2 || ((p.payload[1]! >> 2) & 1) === 0) return;
    let r;
    try {
      r = decodeIpmiResponse(p.payload);
    } catch {
      return;
    }
    const w = this.waiting;
    if (r.rqSeq === w.rqSeq && r.cmd === w.cmd) w.resolve({ rqSeq: r.rqSeq, netFn: r.netFn, cmd: r.cmd, completionCode: r.completionCode, data: r.data });
  }

  private onSol(payload: Buffer, atMs: number): void {
    let pkt;
    try {
      pkt = decodeSolPacket(payload);
    } catch {
      return;
    }
    this.packets++;
    if (pkt.packetSequenceNumber === 0) return; // ACK-only
    // A retransmission repeats the characters already accepted and may append newer ones.
    const fresh = pkt.packetSequenceNumber === this.lastSeq ? pkt.data.subarray(Math.min(this.lastAccepted, pkt.data.length)) : pkt.data;
    this.lastSeq = pkt.packetSequenceNumber;
    this.lastAccepted = pkt.data.length;
    const s = this.session!;
    try {
      this.socket.send(s.solPacket(encodeSolPacket({
        kind: 'sol', packetSequenceNumber: 0, ackNackSequenceNumber: pkt.packetSequenceNumber,
        acceptedCharacterCount: pkt.data.length, operationStatus: 0, data: Buffer.alloc(0),
      }), randomBytes(AES_IV_LENGTH)));
    } catch {
      // closing
    }
    if (fresh.length > 0) this.listener?.(fresh, atMs);
  }
}

class StepTimeout extends Error {}
