/**
 * The project's own IPMI 2.0 / RMCP+ client over UDP, a socket of its own or a share of one
 * (udp-link.ts) (IPMI v2.0 chapter 13; reference sections 3–5, 7.4, 7.5). The orchestrator powers nodes with it, benchmarks measure in-session
 * requests per second with it. All protocol work is ClientSession's (pure); this file only owns the
 * socket, the timers and the randomness.
 *
 * - connect(): Open Session → RAKP 1–4 (a timed-out step restarts the handshake from Open Session,
 *   as ipmitool does), then Set Session Privilege Level when asking for more than User.
 * - request(): one rqSeq per request, retransmitted with the same rqSeq (new session sequence number
 *   and IV) after each timeout; responses are matched by (rqSeq, cmd). Up to MAX_IN_FLIGHT requests
 *   are outstanding at once, the rest wait in a queue.
 * - close(): Close Session (one try), then the socket; every timer is cleared and every waiting
 *   promise rejected, also when anything failed on the way.
 * - sendPayload() / onPayload(): other payloads in the same session (SOL, type 1), and IPMI messages
 *   the BMC sends on its own (e.g. the unsolicited SOL Activating request), for SolConsole.
 */
import { ownSocketLink, type UdpHub, type UdpLink } from './udp-link';
import { pooledRandom } from '../util/random-pool';
import { performance } from 'node:perf_hooks';
import { CompletionCode, Privilege, privilegeName } from '../protocol/errors';
import { AppCmd, ChassisCmd, NetFn, PayloadType } from '../protocol/netfn';
import { SUPPORTED_SUITE_IDS, suiteById, CipherSuite } from '../protocol/crypto/cipher-suites';
import { AES_BLOCK } from '../protocol/crypto/confidentiality';
import { RAKP_RANDOM_LENGTH } from '../protocol/session/rakp';
import {
  ClientResponse,
  ClientSession,
  ClientSessionError,
  ClientSessionErrorCode,
  completionCodeText,
  decodeResponseMessage,
  InboundPayload,
  isIgnorableDatagramError,
} from './client-session';

export const DEFAULT_CIPHER_SUITE = 17;
export const DEFAULT_TIMEOUT_MS = 1000;
/** Retransmissions after the first try: 3 gives ipmitool's 4 tries. */
export const DEFAULT_RETRIES = 3;
/**
 * Requests outstanding at once. rqSeq has 64 values; keeping at most half of them busy leaves a
 * value unused for a while after its answer, so a late duplicate answer cannot match a new request.
 */
export const MAX_IN_FLIGHT = 32;

/** Chassis Control request byte 1 (table 28-4). */
export const ChassisControlAction = { off: 0x00, on: 0x01, cycle: 0x02, reset: 0x03, diag: 0x04, soft: 0x05 } as const;
export type ChassisControlAction = keyof typeof ChassisControlAction;

/** Get Chassis Status byte 1 bit 0: system power is on (table 28-3). */
const CHASSIS_POWER_ON = 0x01;
/** Set Session Privilege Level completion codes (table 22-22). */
const SET_PRIVILEGE_TEXT: Readonly<Record<number, string>> = {
  0x80: 'requested level not available for this user',
  0x81: 'requested level exceeds channel or user privilege limit',
  0x82: 'cannot disable user level authentication',
};
/** Get Device ID: bytes up to and including the product id (table 20-2). */
const DEVICE_ID_MIN_LENGTH = 11;
const EMPTY = Buffer.alloc(0);
/**
 * IVs, Rm and console session ids of every client in the process come from one pool of strong
 * random bytes (one getrandom call per 64 KiB): a client lives for one short session as often as
 * not, and a pool of its own would cost a getrandom call of its own.
 */
const random = pooledRandom(64 * 1024);

export interface IpmiClientOptions {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** RMCP+ cipher suite (default 17). */
  readonly cipherSuite?: number;
  /** Session privilege (default Administrator). */
  readonly privilege?: number;
  /** Per-try timeout (default 1000 ms). */
  readonly timeoutMs?: number;
  /** Retransmissions after the first try (default 3). */
  readonly retries?: number;
  /** BMC key Kg, when the BMC has one configured. */
  readonly kg?: Buffer;
  /**
   * A socket shared with other clients (udp-link.ts), for many short sessions at once; `host` must
   * then be an IPv4 address. Default: a socket of this client's own.
   */
  readonly hub?: UdpHub;
}

export const IpmiClientErrorCode = {
  /** Nothing came back after every try. */
  Timeout: 'TIMEOUT',
  /** The BMC refused the login (RMCP+ status, wrong password, bad RAKP4). */
  Handshake: 'HANDSHAKE',
  /** A command answered with a non-zero completion code where success was required. */
  CompletionCode: 'COMPLETION_CODE',
  /** A response too short or otherwise unusable for the command. */
  BadResponse: 'BAD_RESPONSE',
  /** The client was closed (or failed) before the answer came. */
  Closed: 'CLOSED',
  /** The socket could not be opened. */
  Socket: 'SOCKET',
  InvalidArgument: 'INVALID_ARGUMENT',
} as const;
export type IpmiClientErrorCode = (typeof IpmiClientErrorCode)[keyof typeof IpmiClientErrorCode];

export class IpmiClientError extends Error {
  constructor(
    readonly code: IpmiClientErrorCode,
    message: string,
    readonly details: { readonly completionCode?: number; readonly status?: number; readonly sessionErrorCode?: ClientSessionErrorCode } = {},
  ) {
    super(message);
    this.name = 'IpmiClientError';
  }
}

export interface IpmiResult {
  readonly completionCode: number;
  readonly data: Buffer;
}

export interface DeviceId {
  readonly deviceId: number;
  readonly deviceRevision: number;
  readonly providesDeviceSdrs: boolean;
  readonly deviceAvailable: boolean;
  /** "major.minor" as ipmitool prints it, e.g. "0.10". */
  readonly firmwareRevision: string;
  /** e.g. "2.0". */
  readonly ipmiVersion: string;
  readonly additionalDeviceSupport: number;
  readonly manufacturerId: number;
  readonly productId: number;
  readonly auxFirmwareRevision: Buffer;
}

export interface RequestManyResult {
  readonly count: number;
  readonly concurrency: number;
  readonly elapsedMs: number;
  readonly requestsPerSecond: number;
  /** How many answers carried each completion code. */
  readonly completionCodes: Readonly<Record<number, number>>;
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly retransmits: number;
}

export interface IpmiClientStats {
  /** Datagrams sent (handshake, requests and retransmissions). */
  sent: number;
  retransmits: number;
  /** Datagrams dropped: bad AuthCode, replayed, not ours, malformed. */
  dropped: number;
  /** Valid responses that matched no outstanding request (late answers to a retransmitted request). */
  stray: number;
}

/**
 * Receives every verified session payload that is not an answer to one of our requests: SOL
 * packets, and IPMI messages that are no response (requests the BMC sends on its own).
 */
export type PayloadListener = (payload: InboundPayload) => void;

interface Pending {
  readonly netFn: number;
  readonly cmd: number;
  readonly data: Buffer;
  readonly maxTries: number;
  readonly resolve: (r: IpmiResult) => void;
  readonly reject: (e: Error) => void;
  rqSeq: number;
  tries: number;
  timer: NodeJS.Timeout | null;
}

/** A handshake step waiting for its reply. */
interface Waiter {
  readonly onDatagram: (d: Buffer) => void;
  readonly timer: NodeJS.Timeout;
  readonly reject: (e: Error) => void;
}

const STEP_TIMED_OUT = Symbol('step timed out');

function checkOptions(o: IpmiClientOptions): { suite: CipherSuite; privilege: number; timeoutMs: number; retries: number } {
  const bad = (msg: string): never => { throw new IpmiClientError(IpmiClientErrorCode.InvalidArgument, msg); };
  if (!o.host) bad('host is required');
  if (!Number.isInteger(o.port) || o.port < 1 || o.port > 0xffff) bad(`port ${o.port} is not 1..65535`);
  const suiteId = o.cipherSuite ?? DEFAULT_CIPHER_SUITE;
  const suite = suiteById(suiteId) ?? bad(`cipher suite ${suiteId} is not supported (supported: ${SUPPORTED_SUITE_IDS.join(', ')})`);
  const privilege = o.privilege ?? Privilege.Administrator;
  if (!Number.isInteger(privilege) || privilege < Privilege.User || privilege > Privilege.Oem) bad(`privilege ${privilege} is not User (2) .. OEM (5)`);
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(timeoutMs > 0)) bad(`timeoutMs ${timeoutMs} must be positive`);
  const retries = o.retries ?? DEFAULT_RETRIES;
  if (!Number.isInteger(retries) || retries < 0) bad(`retries ${retries} must be a non-negative integer`);
  return { suite, privilege, timeoutMs, retries };
}

export class IpmiClient {
  readonly stats: IpmiClientStats = { sent: 0, retransmits: 0, dropped: 0, stray: 0 };
  private session: ClientSession | null = null;
  private waiter: Waiter | null = null;
  private readonly pending = new Map<number, Pending>();
  private readonly queue: Pending[] = [];
  private closing: Promise<void> | null = null;
  private destroyed = false;
  private link: UdpLink | null = null;
  private linkClosed: Promise<void> | null = null;
  private readonly payloadListeners = new Set<PayloadListener>();

  private constructor(
    private readonly options: IpmiClientOptions,
    readonly suite: CipherSuite,
    readonly privilege: number,
    private readonly timeoutMs: number,
    private readonly maxTries: number,
  ) {}

  get host(): string { return this.options.host; }
  get port(): number { return this.options.port; }
  get bmcSessionId(): number | undefined { return this.session?.bmcSessionId; }
  get isClosed(): boolean { return this.destroyed; }
  private get where(): string { return `${this.options.host}:${this.options.port}`; }

  /** Opens a session (handshake with fresh random Rm, console session id and IVs). */
  static async connect(options: IpmiClientOptions): Promise<IpmiClient> {
    const { suite, privilege, timeoutMs, retries } = checkOptions(options);
    const client = new IpmiClient(options, suite, privilege, timeoutMs, retries + 1);
    const sink = (msg: Buffer): void => client.onDatagram(msg);
    try {
      client.link = options.hub ? options.hub.link(options.host, options.port, sink) : await ownSocketLink(options.host, options.port, sink);
    } catch (err) {
      client.destroyed = true;
      throw new IpmiClientError(IpmiClientErrorCode.Socket, `cannot reach BMC at ${client.where}: ${err instanceof Error ? err.message : String(err)}`);
    }
    try {
      await client.handshake();
      if (privilege > Privilege.User) {
        const r = await client.request(NetFn.App, AppCmd.SetSessionPrivilegeLevel, Buffer.from([privilege]));
        if (r.completionCode !== CompletionCode.Ok) {
          const text = SET_PRIVILEGE_TEXT[r.completionCode];
          throw new IpmiClientError(IpmiClientErrorCode.CompletionCode,
            `Set Session Privilege Level to ${privilegeName(privilege)} failed at BMC ${client.where}: ${text ? `0x${r.completionCode.toString(16).toUpperCase()} (${text})` : completionCodeText(r.completionCode)}`,
            { completionCode: r.completionCode });
        }
      }
      return client;
    } catch (err) {
      await client.shutdown(() => (err instanceof Error ? err : new Error(String(err))));
      throw err;
    }
  }

  // -------------------------------------------------------------- requests

  /** One IPMI request in the session; resolves with any completion code, rejects after the last try. */
  request(netFn: number, cmd: number, data: Buffer = EMPTY): Promise<IpmiResult> {
    return this.enqueue(netFn, cmd, data, this.maxTries);
  }

  /** Like request(), but a non-zero completion code rejects with an error naming it. */
  async requestOk(netFn: number, cmd: number, data: Buffer = EMPTY, what = `NetFn 0x${netFn.toString(16)} cmd 0x${cmd.toString(16)}`): Promise<Buffer> {
    const r = await this.request(netFn, cmd, data);
    if (r.completionCode !== CompletionCode.Ok) {
      throw new IpmiClientError(IpmiClientErrorCode.CompletionCode, `${what} failed at BMC ${this.where}: completion code ${completionCodeText(r.completionCode)}`, { completionCode: r.completionCode });
    }
    return r.data;
  }

  /** Get Chassis Status, byte 1 bit 0. */
  async powerStatus(): Promise<'on' | 'off'> {
    const data = await this.requestOk(NetFn.Chassis, ChassisCmd.GetChassisStatus, EMPTY, 'Get Chassis Status');
    if (data.length < 1) throw new IpmiClientError(IpmiClientErrorCode.BadResponse, `Get Chassis Status from BMC ${this.where} carried no data`);
    return (data[0]! & CHASSIS_POWER_ON) !== 0 ? 'on' : 'off';
  }

  /** Chassis Control: off, on, cycle, reset, diag (NMI) or soft (ACPI shutdown). */
  async chassisControl(action: ChassisControlAction): Promise<void> {
    const code = ChassisControlAction[action];
    if (code === undefined) throw new IpmiClientError(IpmiClientErrorCode.InvalidArgument, `unknown chassis control action "${String(action)}"`);
    await this.requestOk(NetFn.Chassis, ChassisCmd.ChassisControl, Buffer.from([code]), `Chassis Control "${action}"`);
  }

  /** Get Device ID (table 20-2), decoded. */
  async getDeviceId(): Promise<DeviceId> {
    const d = await this.requestOk(NetFn.App, AppCmd.GetDeviceId, EMPTY, 'Get Device ID');
    if (d.length < DEVICE_ID_MIN_LENGTH) throw new IpmiClientError(IpmiClientErrorCode.BadResponse, `Get Device ID from BMC ${this.where}: ${d.length} data bytes, expected at least ${DEVICE_ID_MIN_LENGTH}`);
    const bcd = (b: number): string => `${(b >> 4) & 0x0f}${b & 0x0f}`;
    return {
      deviceId: d[0]!,
      deviceRevision: d[1]! & 0x0f,
      providesDeviceSdrs: (d[1]! & 0x80) !== 0,
      deviceAvailable: (d[2]! & 0x80) === 0,
      firmwareRevision: `${d[2]! & 0x7f}.${bcd(d[3]!)}`,
      ipmiVersion: `${d[4]! & 0x0f}.${(d[4]! >> 4) & 0x0f}`,
      additionalDeviceSupport: d[5]!,
      manufacturerId: d.readUIntLE(6, 3) & 0x0fffff,
      productId: d.readUInt16LE(9),
      auxFirmwareRevision: Buffer.from(d.subarray(11, 15)),
    };
  }

  /**
   * Sends `count` identical requests keeping up to `concurrency` in flight; for benchmarks.
   * Rejects with the first failure once the requests already in flight have settled.
   */
  async requestMany(count: number, netFn: number, cmd: number, data: Buffer = EMPTY, concurrency = 16): Promise<RequestManyResult> {
    if (!Number.isInteger(count) || count < 0) throw new IpmiClientError(IpmiClientErrorCode.InvalidArgument, `count ${count} must be a non-negative integer`);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_IN_FLIGHT) {
      throw new IpmiClientError(IpmiClientErrorCode.InvalidArgument, `concurrency ${concurrency} must be 1..${MAX_IN_FLIGHT}`);
    }
    const latencies = new Float64Array(count);
    const codes: Record<number, number> = {};
    const retransmitsBefore = this.stats.retransmits;
    let next = 0;
    let failure: Error | null = null;
    const worker = async (): Promise<void> => {
      while (failure === null && next < count) {
        const i = next++;
        const t0 = performance.now();
        try {
          const r = await this.request(netFn, cmd, data);
          latencies[i] = performance.now() - t0;
          codes[r.completionCode] = (codes[r.completionCode] ?? 0) + 1;
        } catch (err) {
          failure ??= err instanceof Error ? err : new Error(String(err));
        }
      }
    };
    const start = performance.now();
    await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(count, 1)) }, worker));
    const elapsedMs = performance.now() - start;
    if (failure !== null) throw failure;
    const sorted = latencies.slice().sort();
    const pick = (q: number): number => (count === 0 ? 0 : sorted[Math.min(count - 1, Math.floor(q * count))]!);
    return {
      count,
      concurrency,
      elapsedMs,
      requestsPerSecond: elapsedMs > 0 ? (count * 1000) / elapsedMs : 0,
      completionCodes: codes,
      latencyMs: { p50: pick(0.5), p99: pick(0.99), max: count === 0 ? 0 : sorted[count - 1]! },
      retransmits: this.stats.retransmits - retransmitsBefore,
    };
  }

  /**
   * Sends one payload of any type (e.g. a SOL packet) in the session, protected per the suite, with
   * the next session sequence number. Fire and forget: acknowledgement is the payload's own business.
   */
  sendPayload(payloadType: number, cleartext: Buffer): void {
    if (this.destroyed || this.closing) throw new IpmiClientError(IpmiClientErrorCode.Closed, `client for BMC ${this.where} is closed`);
    const session = this.session;
    if (session?.stage !== 'active') throw new IpmiClientError(IpmiClientErrorCode.Closed, `no session with BMC ${this.where}`);
    this.send(session.payloadPacket(payloadType, cleartext, this.nextIv()));
  }

  /**
   * Listens for payloads that answer no request (see PayloadListener); returns the unsubscribe
   * function. Listeners run inside the socket's message handler: they must not throw.
   */
  onPayload(listener: PayloadListener): () => void {
    this.payloadListeners.add(listener);
    return () => { this.payloadListeners.delete(listener); };
  }

  /** Close Session (one try), then the socket. Idempotent; never throws. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const s = this.session;
      const bmcSessionId = s?.bmcSessionId;
      if (!this.destroyed && s?.stage === 'active' && bmcSessionId !== undefined) {
        const id = Buffer.alloc(4);
        id.writeUInt32LE(bmcSessionId, 0);
        // The BMC may already be gone: one try, and its outcome does not matter.
        await this.enqueue(NetFn.App, AppCmd.CloseSession, id, 1, true).catch(() => undefined);
      }
      await this.shutdown(() => new IpmiClientError(IpmiClientErrorCode.Closed, `client for BMC ${this.where} is closed`));
    })();
    return this.closing;
  }

  // -------------------------------------------------------------- internals

  private enqueue(netFn: number, cmd: number, data: Buffer, maxTries: number, whileClosing = false): Promise<IpmiResult> {
    if (this.destroyed || (this.closing && !whileClosing)) {
      return Promise.reject(new IpmiClientError(IpmiClientErrorCode.Closed, `client for BMC ${this.where} is closed`));
    }
    if (this.session?.stage !== 'active') {
      return Promise.reject(new IpmiClientError(IpmiClientErrorCode.Closed, `no session with BMC ${this.where}`));
    }
    return new Promise<IpmiResult>((resolve, reject) => {
      const p: Pending = { netFn, cmd, data, maxTries, resolve, reject, rqSeq: -1, tries: 0, timer: null };
      if (this.pending.size < MAX_IN_FLIGHT) this.start(p);
      else this.queue.push(p);
    });
  }

  private start(p: Pending): void {
    const session = this.session!;
    let rqSeq = session.allocateRqSeq();
    while (this.pending.has(rqSeq)) rqSeq = session.allocateRqSeq();
    p.rqSeq = rqSeq;
    this.pending.set(rqSeq, p);
    this.transmit(p);
  }

  private transmit(p: Pending): void {
    p.tries++;
    try {
      const out = this.session!.request(p.netFn, p.cmd, p.data, { rqSeq: p.rqSeq, iv: this.nextIv() });
      this.send(out.datagram);
    } catch (err) {
      this.settle(p);
      p.reject(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    p.timer = setTimeout(() => this.onRequestTimeout(p), this.timeoutMs);
  }

  private onRequestTimeout(p: Pending): void {
    p.timer = null;
    if (p.tries >= p.maxTries) {
      this.settle(p);
      p.reject(new IpmiClientError(IpmiClientErrorCode.Timeout, `no answer from BMC at ${this.where} after ${p.tries} ${p.tries === 1 ? 'try' : 'tries'}`));
      return;
    }
    this.stats.retransmits++;
    this.transmit(p);
  }

  /** Forgets a finished request and starts the next queued one. */
  private settle(p: Pending): void {
    if (p.timer) clearTimeout(p.timer);
    p.timer = null;
    if (this.pending.get(p.rqSeq) === p) this.pending.delete(p.rqSeq);
    const next = this.queue.shift();
    if (next && !this.destroyed) this.start(next);
  }

  private onDatagram(msg: Buffer): void {
    if (this.waiter) return this.waiter.onDatagram(msg);
    const session = this.session;
    if (!session || session.stage !== 'active') { this.stats.dropped++; return; }
    let inbound: InboundPayload;
    try {
      inbound = session.parsePayload(msg);
    } catch {
      // A bad AuthCode, a replay, a stray handshake reply: not an answer to anything.
      this.stats.dropped++;
      return;
    }
    if (inbound.payloadType !== PayloadType.Ipmi) return this.deliverPayload(inbound);
    let r: ClientResponse;
    try {
      r = decodeResponseMessage(inbound.payload);
    } catch {
      // A request from the BMC (e.g. SOL Activating) or an undecodable message.
      return this.deliverPayload(inbound);
    }
    const p = this.pending.get(r.rqSeq);
    if (!p || p.cmd !== r.cmd) { this.stats.stray++; return; }
    // 0xCF: the BMC saw this request twice; the real answer is still coming (ipmitool does the same).
    if (r.completionCode === CompletionCode.DuplicateRequest) return;
    this.settle(p);
    p.resolve({ completionCode: r.completionCode, data: r.data });
  }

  private deliverPayload(payload: InboundPayload): void {
    if (this.payloadListeners.size === 0) { this.stats.dropped++; return; }
    for (const listener of [...this.payloadListeners]) listener(payload);
  }

  private async handshake(): Promise<void> {
    for (let attempt = 1; attempt <= this.maxTries; attempt++) {
      const session = new ClientSession({
        userName: this.options.user,
        password: this.options.password,
        suite: this.suite,
        privilege: this.privilege,
        kg: this.options.kg ?? null,
      });
      this.session = session;
      try {
        await this.step(session.openSessionRequest(this.nonZeroU32()), (d) => session.acceptOpenSessionResponse(d));
        await this.step(session.rakp1(random(RAKP_RANDOM_LENGTH)), (d) => session.acceptRakp2(d));
        await this.step(session.rakp3(), (d) => session.acceptRakp4(d));
        return;
      } catch (err) {
        if (err === STEP_TIMED_OUT) {
          if (attempt < this.maxTries) this.stats.retransmits++;
          continue;
        }
        if (err instanceof ClientSessionError) {
          if (err.reply) this.send(err.reply); // tell the BMC we reject its RAKP2, so it can drop the half-open session
          throw new IpmiClientError(IpmiClientErrorCode.Handshake, `cannot log in to BMC at ${this.where} as "${this.options.user}": ${err.message}`,
            err.status === undefined ? { sessionErrorCode: err.code } : { status: err.status, sessionErrorCode: err.code });
        }
        throw err;
      }
    }
    throw new IpmiClientError(IpmiClientErrorCode.Timeout, `no answer from BMC at ${this.where} after ${this.maxTries} ${this.maxTries === 1 ? 'try' : 'tries'}`);
  }

  /** Sends one handshake message and waits for the reply `accept` takes; stray datagrams are skipped. */
  private step(datagram: Buffer, accept: (d: Buffer) => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = (): void => { clearTimeout(timer); this.waiter = null; };
      const timer = setTimeout(() => { this.waiter = null; reject(STEP_TIMED_OUT); }, this.timeoutMs);
      this.waiter = {
        timer,
        reject: (e) => { done(); reject(e); },
        onDatagram: (d) => {
          try {
            accept(d);
          } catch (err) {
            if (isIgnorableDatagramError(err)) { this.stats.dropped++; return; }
            done();
            reject(err);
            return;
          }
          done();
          resolve();
        },
      };
      this.send(datagram);
    });
  }

  private send(datagram: Buffer): void {
    if (this.destroyed) return;
    this.stats.sent++;
    this.link?.send(datagram);
  }

  /** A fresh IV per encrypted packet (section 13.29), from the process's random pool. */
  private nextIv(): Buffer | undefined {
    return this.suite.confidentiality.cipher === null ? undefined : random(AES_BLOCK);
  }

  private nonZeroU32(): number {
    for (;;) {
      const v = random(4).readUInt32LE(0);
      if (v !== 0) return v;
    }
  }

  /**
   * Rejects everything still waiting with the reason (made only when something waits), clears
   * every timer and closes the socket (once).
   */
  private shutdown(reason: () => Error): Promise<void> {
    if (!this.destroyed) {
      this.destroyed = true;
      const waiting = [...this.pending.values(), ...this.queue];
      const error = this.waiter || waiting.length > 0 ? reason() : undefined;
      if (this.waiter) this.waiter.reject(error!);
      this.pending.clear();
      this.queue.length = 0;
      this.payloadListeners.clear();
      for (const p of waiting) {
        if (p.timer) clearTimeout(p.timer);
        p.timer = null;
        p.reject(error!);
      }
      this.linkClosed = this.link?.close() ?? Promise.resolve();
    }
    return this.linkClosed ?? Promise.resolve();
  }
}
