/**
 * The console side of Serial over LAN (IPMI v2.0 sections 15.9–15.10 and 24.1–24.2; reference 8.1–8.6)
 * on top of the project's IPMI client: what `ipmitool sol activate` does, as a library.
 *
 * - SolConsoleWindow (pure; time comes in as `now`): the console's half of the SOL window.
 *   Keystrokes go out in packets of at most (BMC inbound payload size − 4) characters, sequence
 *   numbers 1..15 then 1, one unacknowledged packet at a time. A packet without ACK within the retry
 *   interval goes again with the same sequence number and the same characters (as FreeIPMI does; the
 *   BMC delivers only what it has not accepted yet), and is given up after the last retry. A partial
 *   ACK sends the unaccepted tail at once in a new packet; a NACK or "character transfer unavailable"
 *   holds sending back for one retry interval or until the BMC sends a packet without them.
 *   Every BMC packet with a sequence number is ACKed at once with an ACK-only packet accepting all
 *   its characters; a repeat of the last sequence number is a retransmission: only the characters
 *   beyond those already printed are printed. Status "SOL deactivating" ends the window.
 * - Activate / Deactivate Payload requests and the 12-byte activation answer (pure codecs).
 * - SolConsole (I/O): opens a session, activates SOL, runs the window with one timer, sends a Get
 *   Device ID keep-alive every 15 s (as ipmitool), notices when the BMC ends SOL (the "deactivating"
 *   packet or the unsolicited SOL Activating request), and on close() deactivates the payload and
 *   closes the session, so the next console (e.g. ipmitool) can activate SOL at once.
 */
import { performance } from 'node:perf_hooks';
import { CompletionCode } from '../protocol/errors';
import { decodeIpmiRequest } from '../protocol/ipmi-message';
import { AppCmd, NetFn, PayloadType, TransportCmd } from '../protocol/netfn';
import {
  decodeSolPacket,
  encodeSolPacket,
  SOL_HEADER_LENGTH,
  SOL_MAX_CHARACTERS_PER_PACKET,
  SOL_MAX_SEQUENCE_NUMBER,
  SolBmcStatus,
  SolConsoleOperation,
  SolPacket,
} from '../protocol/sol-packet';
import type { CipherSuite } from '../protocol/crypto/cipher-suites';
import { completionCodeText, InboundPayload } from './client-session';
import { IpmiClient, IpmiClientOptions } from './ipmi-client';

/** ipmitool's console retry: 1 s without an ACK. */
export const DEFAULT_SOL_RETRY_INTERVAL_MS = 1000;
/** Retransmissions of one keystroke packet before its characters are given up (4 tries, as ipmitool). */
export const DEFAULT_SOL_RETRIES = 3;
/** ipmitool sends its keep-alive when 15 s have passed; the BMC's session times out after 60 s idle. */
export const DEFAULT_KEEP_ALIVE_INTERVAL_MS = 15_000;
/** Keep-alives in a row that may fail (each after all its own retries) before the console gives up. */
const KEEP_ALIVE_FAILURES_MAX = 2;
/** Keystrokes waiting for the window (a paste); beyond it new input is dropped and counted. */
export const DEFAULT_INPUT_CAPACITY = 64 * 1024;
/** SOL is payload instance 1 (the BMC has one). */
const SOL_INSTANCE = 1;

export const SolConsoleErrorCode = {
  /** Activate Payload answered a completion code other than success. */
  ActivationRefused: 'ACTIVATION_REFUSED',
  /** The BMC's answer cannot be used. */
  BadResponse: 'BAD_RESPONSE',
} as const;
export type SolConsoleErrorCode = (typeof SolConsoleErrorCode)[keyof typeof SolConsoleErrorCode];

export class SolConsoleError extends Error {
  constructor(readonly code: SolConsoleErrorCode, message: string, readonly completionCode?: number) {
    super(message);
    this.name = 'SolConsoleError';
  }
}

// ------------------------------------------------------------------ the pure window

export interface SolConsoleWindowOptions {
  /** Characters one packet may carry: the BMC's inbound payload size − 4 (1..255). */
  readonly maxCharactersPerPacket: number;
  readonly retryIntervalMs: number;
  /** Retransmissions of an unacknowledged packet before it is given up. */
  readonly retries: number;
  readonly inputCapacity?: number;
}

export type SolConsoleEffect =
  /** Send this SOL payload to the BMC. */
  | { readonly kind: 'send'; readonly packet: SolPacket }
  /** Console output from the host's serial port, to print. */
  | { readonly kind: 'output'; readonly data: Buffer }
  /** The BMC ended SOL ("SOL deactivating"); the window takes nothing more. */
  | { readonly kind: 'deactivated' }
  /** A keystroke packet went unacknowledged through every retry; its characters are lost. */
  | { readonly kind: 'lost'; readonly characters: number };

export interface SolConsoleCounters {
  /** New keystroke or control packets (not retransmissions, not ACK-only packets). */
  packetsSent: number;
  retransmissions: number;
  lostPackets: number;
  /** Keystrokes dropped because the input queue was full. */
  droppedInput: number;
  /** BMC packets recognised as retransmissions. */
  duplicatePackets: number;
  /** ACKs for a sequence number that is not outstanding. */
  staleAcks: number;
  partialAcks: number;
  nacks: number;
  /** Packets from the BMC saying host characters were dropped before they could be sent. */
  overruns: number;
}

interface Outstanding {
  readonly packetSequenceNumber: number;
  readonly data: Buffer;
  readonly operation: number;
  sentAt: number;
  retries: number;
}

const EMPTY = Buffer.alloc(0);

export class SolConsoleWindow {
  readonly counters: SolConsoleCounters = {
    packetsSent: 0, retransmissions: 0, lostPackets: 0, droppedInput: 0, duplicatePackets: 0, staleAcks: 0, partialAcks: 0, nacks: 0, overruns: 0,
  };

  private readonly maxCharacters: number;
  private readonly retryIntervalMs: number;
  private readonly retries: number;
  private readonly inputCapacity: number;
  private input = EMPTY;
  /** Operation bits (break) for the next new packet. */
  private pendingOperation = 0;
  private outstanding: Outstanding | undefined;
  private lastSequenceNumber = 0;
  private pausedUntil: number | undefined;
  private lastInboundSequenceNumber = 0;
  /** Characters of the last inbound sequence number already printed. */
  private lastInboundPrinted = 0;
  private active = true;

  constructor(options: SolConsoleWindowOptions) {
    const { maxCharactersPerPacket, retryIntervalMs, retries } = options;
    if (!Number.isInteger(maxCharactersPerPacket) || maxCharactersPerPacket < 1 || maxCharactersPerPacket > SOL_MAX_CHARACTERS_PER_PACKET) {
      throw new RangeError(`maxCharactersPerPacket must be 1..${SOL_MAX_CHARACTERS_PER_PACKET}, got ${maxCharactersPerPacket}`);
    }
    if (!(retryIntervalMs > 0)) throw new RangeError(`retryIntervalMs must be positive, got ${retryIntervalMs}`);
    if (!Number.isInteger(retries) || retries < 0) throw new RangeError(`retries must be a non-negative integer, got ${retries}`);
    this.maxCharacters = maxCharactersPerPacket;
    this.retryIntervalMs = retryIntervalMs;
    this.retries = retries;
    this.inputCapacity = options.inputCapacity ?? DEFAULT_INPUT_CAPACITY;
  }

  get isActive(): boolean { return this.active; }
  get awaitingAck(): boolean { return this.outstanding !== undefined; }
  get queuedCharacters(): number { return this.input.length; }
  get paused(): boolean { return this.pausedUntil !== undefined; }

  /** Keystrokes for the host's serial port. */
  keystrokes(data: Buffer, now: number): SolConsoleEffect[] {
    if (!this.active || data.length === 0) return [];
    const room = this.inputCapacity - this.input.length;
    if (room < data.length) this.counters.droppedInput += data.length - Math.max(room, 0);
    if (room > 0) this.input = Buffer.concat([this.input, data.subarray(0, room)]);
    return this.pump(now, []);
  }

  /** A break on the host's serial port, sent with the next new packet. */
  sendBreak(now: number): SolConsoleEffect[] {
    if (!this.active) return [];
    this.pendingOperation |= SolConsoleOperation.GenerateBreak;
    return this.pump(now, []);
  }

  /** A decoded SOL payload from the BMC. */
  bmcPacket(packet: SolPacket, now: number): SolConsoleEffect[] {
    if (!this.active) return [];
    const effects: SolConsoleEffect[] = [];
    const status = packet.operationStatus;
    if (packet.packetSequenceNumber !== 0) this.receiveSequenced(packet, effects);
    if (packet.ackNackSequenceNumber !== 0) this.receiveAck(packet, now);
    if (status & SolBmcStatus.CharacterTransmitOverrun) this.counters.overruns++;
    if (status & SolBmcStatus.CharacterTransferUnavailable) {
      this.pausedUntil ??= now + this.retryIntervalMs;
    } else if ((status & SolBmcStatus.Nack) === 0) {
      // A packet that holds nothing back: the BMC takes characters again.
      this.pausedUntil = undefined;
    }
    if (status & SolBmcStatus.SolDeactivating) {
      this.stop();
      effects.push({ kind: 'deactivated' });
      return effects;
    }
    return this.pump(now, effects);
  }

  /** Retransmission, giving up after the last retry, and the end of a pause. */
  tick(now: number): SolConsoleEffect[] {
    if (!this.active) return [];
    const effects: SolConsoleEffect[] = [];
    const out = this.outstanding;
    if (out && now >= out.sentAt + this.retryIntervalMs) {
      if (out.retries < this.retries) {
        out.retries++;
        out.sentAt = now;
        this.counters.retransmissions++;
        effects.push(this.dataPacket(out.packetSequenceNumber, out.operation, out.data));
      } else {
        this.outstanding = undefined;
        this.counters.lostPackets++;
        effects.push({ kind: 'lost', characters: out.data.length });
      }
    }
    if (this.pausedUntil !== undefined && now >= this.pausedUntil) this.pausedUntil = undefined;
    return this.pump(now, effects);
  }

  /** When tick() has something to do; undefined when nothing is pending. */
  nextDeadline(): number | undefined {
    if (!this.active) return undefined;
    if (this.outstanding) return this.outstanding.sentAt + this.retryIntervalMs;
    if (this.pausedUntil !== undefined && (this.input.length > 0 || this.pendingOperation !== 0)) return this.pausedUntil;
    return undefined;
  }

  /** Ends the window on the console's side (before Deactivate Payload); later input is ignored. */
  stop(): void {
    this.active = false;
    this.outstanding = undefined;
    this.pausedUntil = undefined;
    this.input = EMPTY;
    this.pendingOperation = 0;
  }

  private receiveSequenced(packet: SolPacket, effects: SolConsoleEffect[]): void {
    const seq = packet.packetSequenceNumber;
    const data = packet.data;
    if (seq === this.lastInboundSequenceNumber) {
      // A retransmission, possibly with newer characters behind the original ones.
      this.counters.duplicatePackets++;
      effects.push(this.ackPacket(seq, data.length));
      if (data.length > this.lastInboundPrinted) {
        effects.push({ kind: 'output', data: Buffer.from(data.subarray(this.lastInboundPrinted)) });
        this.lastInboundPrinted = data.length;
      }
      return;
    }
    this.lastInboundSequenceNumber = seq;
    this.lastInboundPrinted = data.length;
    // ACK first: the BMC holds its next packet until it comes.
    effects.push(this.ackPacket(seq, data.length));
    if (data.length > 0) effects.push({ kind: 'output', data: Buffer.from(data) });
  }

  private receiveAck(packet: SolPacket, now: number): void {
    const out = this.outstanding;
    if (!out || packet.ackNackSequenceNumber !== out.packetSequenceNumber) {
      this.counters.staleAcks++;
      return;
    }
    this.outstanding = undefined;
    const accepted = Math.min(packet.acceptedCharacterCount, out.data.length);
    const tail = out.data.subarray(accepted);
    if (packet.operationStatus & SolBmcStatus.Nack) {
      this.counters.nacks++;
      this.requeue(tail, out.operation);
      this.pausedUntil = now + this.retryIntervalMs;
    } else if (tail.length > 0) {
      this.counters.partialAcks++;
      this.requeue(tail, 0);
    }
  }

  private requeue(tail: Buffer, operation: number): void {
    if (tail.length > 0) this.input = Buffer.concat([tail, this.input]);
    this.pendingOperation |= operation;
  }

  /** Sends the next new packet when the window is free and something waits. */
  private pump(now: number, effects: SolConsoleEffect[]): SolConsoleEffect[] {
    if (!this.active || this.outstanding || this.pausedUntil !== undefined) return effects;
    if (this.input.length === 0 && this.pendingOperation === 0) return effects;
    const data = Buffer.from(this.input.subarray(0, this.maxCharacters));
    this.input = this.input.length > data.length ? this.input.subarray(data.length) : EMPTY;
    const operation = this.pendingOperation;
    this.pendingOperation = 0;
    this.lastSequenceNumber = (this.lastSequenceNumber % SOL_MAX_SEQUENCE_NUMBER) + 1;
    this.outstanding = { packetSequenceNumber: this.lastSequenceNumber, data, operation, sentAt: now, retries: 0 };
    this.counters.packetsSent++;
    effects.push(this.dataPacket(this.lastSequenceNumber, operation, data));
    return effects;
  }

  private dataPacket(packetSequenceNumber: number, operationStatus: number, data: Buffer): SolConsoleEffect {
    return { kind: 'send', packet: { kind: 'sol', packetSequenceNumber, ackNackSequenceNumber: 0, acceptedCharacterCount: 0, operationStatus, data } };
  }

  private ackPacket(ackNackSequenceNumber: number, characters: number): SolConsoleEffect {
    const acceptedCharacterCount = Math.min(characters, SOL_MAX_CHARACTERS_PER_PACKET);
    return { kind: 'send', packet: { kind: 'sol', packetSequenceNumber: 0, ackNackSequenceNumber, acceptedCharacterCount, operationStatus: 0, data: EMPTY } };
  }
}

// ------------------------------------------------------------------ payload commands (pure)

/** Activate Payload request byte 3 (table 24-2). */
const AUX_ENCRYPTION = 0x80;
const AUX_AUTHENTICATION = 0x40;
/** Serial alert behaviour "deferred while SOL is active" (bits 3:2 = 01), as ipmitool asks. */
const AUX_SERIAL_ALERTS_DEFERRED = 0x04;
/** "BMC does not assert CTS/DCD/DSR until the console says so", as ipmitool asks. */
const AUX_HANDSHAKE_HELD = 0x02;
/** The Activate Payload answer is exactly 12 bytes (ipmitool rejects anything else). */
export const ACTIVATE_PAYLOAD_RESPONSE_LENGTH = 12;

/** Activate Payload completion codes (table 24-2) and what to do about them. */
export const ActivatePayloadFailure: Readonly<Record<number, string>> = {
  0x80: 'SOL is already active on another session (end it there, or run "ipmitool ... sol deactivate")',
  0x81: 'SOL is disabled on this BMC, or for this user',
  0x82: 'the BMC reached its limit of active SOL sessions',
  0x83: 'the BMC cannot activate SOL with the encryption/authentication asked for',
  0x84: 'the BMC requires SOL with encryption/authentication',
  [CompletionCode.InsufficientPrivilege]: 'this user\'s privilege is below the SOL minimum privilege level',
};

/** Activate Payload (NetFn App 0x48) data for SOL instance 1, asking for the protection the suite has. */
export function encodeActivateSolRequest(suite: Pick<CipherSuite, 'integrity' | 'confidentiality'>): Buffer {
  const aux = (suite.confidentiality.cipher !== null ? AUX_ENCRYPTION : 0)
    | (suite.integrity.hash !== null ? AUX_AUTHENTICATION : 0)
    | AUX_SERIAL_ALERTS_DEFERRED | AUX_HANDSHAKE_HELD;
  return Buffer.from([PayloadType.Sol, SOL_INSTANCE, aux, 0x00, 0x00, 0x00]);
}

/** Deactivate Payload (NetFn App 0x49) data for SOL instance 1. */
export function encodeDeactivateSolRequest(): Buffer {
  return Buffer.from([PayloadType.Sol, SOL_INSTANCE, 0x00, 0x00, 0x00, 0x00]);
}

export interface SolActivation {
  /** Largest SOL payload the console may send, the 4-byte header included. */
  readonly inboundPayloadSize: number;
  /** Largest SOL payload the BMC will send. */
  readonly outboundPayloadSize: number;
  /** UDP port the BMC names for SOL (its own IPMI port). */
  readonly port: number;
  /** 0xFFFF = no VLAN. */
  readonly vlan: number;
}

/** The Activate Payload answer's data (after the completion code); throws SolConsoleError when unusable. */
export function decodeActivateSolResponse(data: Buffer): SolActivation {
  if (data.length !== ACTIVATE_PAYLOAD_RESPONSE_LENGTH) {
    throw new SolConsoleError(SolConsoleErrorCode.BadResponse, `Activate Payload answered ${data.length} data bytes, expected ${ACTIVATE_PAYLOAD_RESPONSE_LENGTH}`);
  }
  const activation = { inboundPayloadSize: data.readUInt16LE(4), outboundPayloadSize: data.readUInt16LE(6), port: data.readUInt16LE(8), vlan: data.readUInt16LE(10) };
  if (activation.inboundPayloadSize <= SOL_HEADER_LENGTH) {
    throw new SolConsoleError(SolConsoleErrorCode.BadResponse, `Activate Payload: inbound payload size ${activation.inboundPayloadSize} leaves no room for characters`);
  }
  return activation;
}

/** Characters per keystroke packet the activation allows. */
export function charactersPerPacket(activation: SolActivation): number {
  return Math.min(activation.inboundPayloadSize - SOL_HEADER_LENGTH, SOL_MAX_CHARACTERS_PER_PACKET);
}

// ------------------------------------------------------------------ the console (I/O)

export type SolConsoleEnd =
  /** close() ended it. */
  | { readonly kind: 'closed' }
  /** The BMC ended SOL: another session took it over, or an administrator closed this session. */
  | { readonly kind: 'deactivated'; readonly message: string }
  /** The BMC stopped answering. */
  | { readonly kind: 'lost'; readonly message: string };

export interface SolConsoleOptions extends IpmiClientOptions {
  /** Console output, in order, each byte once. Runs in the socket's handler: must not throw. */
  readonly onData: (data: Buffer) => void;
  readonly solRetryIntervalMs?: number;
  readonly solRetries?: number;
  /** 0 turns the keep-alive off. */
  readonly keepAliveIntervalMs?: number;
}

/** SOL Activating (NetFn Transport 0x20) byte 1 bits 3:0: the payload's new state, 0 = deactivated. */
const SOL_STATE_MASK = 0x0f;
const SOL_STATE_DEACTIVATED = 0;

export class SolConsole {
  /** Settles once, with why the console ended; never rejects. */
  readonly ended: Promise<SolConsoleEnd>;
  private window: SolConsoleWindow | null = null;
  /** BMC packets that came before the activation answer (the BMC may start at once). */
  private readonly early: SolPacket[] = [];
  private timer: NodeJS.Timeout | null = null;
  private keepAlive: NodeJS.Timeout | null = null;
  private keepAliveFailures = 0;
  private keepAliveInFlight = false;
  private finishing: Promise<SolConsoleEnd> | null = null;
  private resolveEnded!: (end: SolConsoleEnd) => void;
  private readonly unsubscribe: () => void;
  private activationInfo: SolActivation | null = null;

  private constructor(private readonly client: IpmiClient, private readonly options: SolConsoleOptions) {
    this.ended = new Promise((resolve) => { this.resolveEnded = resolve; });
    this.unsubscribe = client.onPayload((p) => this.onPayload(p));
  }

  /** Logs in, activates SOL and starts the keep-alive; rejects with IpmiClientError or SolConsoleError. */
  static async open(options: SolConsoleOptions): Promise<SolConsole> {
    const client = await IpmiClient.connect(options);
    const sol = new SolConsole(client, options);
    try {
      await sol.activate();
    } catch (err) {
      sol.unsubscribe();
      await client.close();
      throw err;
    }
    return sol;
  }

  get activation(): SolActivation {
    if (!this.activationInfo) throw new Error('SOL is not active');
    return this.activationInfo;
  }

  get counters(): Readonly<SolConsoleCounters> | undefined { return this.window?.counters; }
  get isActive(): boolean { return this.finishing === null; }

  /** Keystrokes for the host; false once the console has ended. */
  write(data: Buffer | string): boolean {
    if (!this.isActive || !this.window) return false;
    this.run(this.window.keystrokes(typeof data === 'string' ? Buffer.from(data, 'latin1') : data, performance.now()));
    return true;
  }

  /** A serial break on the host (ipmitool's ~B). */
  sendBreak(): boolean {
    if (!this.isActive || !this.window) return false;
    this.run(this.window.sendBreak(performance.now()));
    return true;
  }

  /** Deactivate Payload, then Close Session. Idempotent; resolves with how the console ended. */
  close(): Promise<SolConsoleEnd> {
    return this.finish({ kind: 'closed' }, true);
  }

  private async activate(): Promise<void> {
    const r = await this.client.request(NetFn.App, AppCmd.ActivatePayload, encodeActivateSolRequest(this.client.suite));
    if (r.completionCode !== CompletionCode.Ok) {
      const why = ActivatePayloadFailure[r.completionCode] ?? `completion code ${completionCodeText(r.completionCode)}`;
      throw new SolConsoleError(SolConsoleErrorCode.ActivationRefused, `cannot activate SOL at BMC ${this.client.host}:${this.client.port}: ${why}`, r.completionCode);
    }
    this.activationInfo = decodeActivateSolResponse(r.data);
    this.window = new SolConsoleWindow({
      maxCharactersPerPacket: charactersPerPacket(this.activationInfo),
      retryIntervalMs: this.options.solRetryIntervalMs ?? DEFAULT_SOL_RETRY_INTERVAL_MS,
      retries: this.options.solRetries ?? DEFAULT_SOL_RETRIES,
    });
    for (const packet of this.early.splice(0)) this.run(this.window.bmcPacket(packet, performance.now()));
    const every = this.options.keepAliveIntervalMs ?? DEFAULT_KEEP_ALIVE_INTERVAL_MS;
    if (every > 0) this.keepAlive = setInterval(() => this.sendKeepAlive(), every);
  }

  private onPayload(p: InboundPayload): void {
    if (!this.isActive) return;
    if (p.payloadType === PayloadType.Sol) {
      let packet: SolPacket;
      try {
        packet = decodeSolPacket(p.payload);
      } catch {
        return; // shorter than a SOL header: nothing to acknowledge
      }
      if (this.window) this.run(this.window.bmcPacket(packet, performance.now()));
      else this.early.push(packet);
      return;
    }
    if (p.payloadType !== PayloadType.Ipmi) return;
    try {
      const req = decodeIpmiRequest(p.payload);
      if (req.netFn === NetFn.Transport && req.cmd === TransportCmd.SolActivating && ((req.data[0] ?? 0) & SOL_STATE_MASK) === SOL_STATE_DEACTIVATED) {
        void this.finish({ kind: 'deactivated', message: 'the BMC deactivated SOL: another session took it over or closed this one' }, false);
      }
    } catch {
      // Not a request we know: nothing to do (ipmitool ignores these as well).
    }
  }

  private run(effects: SolConsoleEffect[]): void {
    for (const e of effects) {
      switch (e.kind) {
        case 'send':
          try {
            this.client.sendPayload(PayloadType.Sol, encodeSolPacket(e.packet));
          } catch {
            // The client is closing: the end is on its way.
          }
          break;
        case 'output': this.options.onData(e.data); break;
        case 'deactivated': void this.finish({ kind: 'deactivated', message: 'the BMC deactivated SOL' }, false); break;
        case 'lost': break; // counted by the window; a BMC that stays silent is caught by the keep-alive
      }
    }
    this.schedule();
  }

  /** One timer for the window's next deadline. */
  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const deadline = this.window?.nextDeadline();
    if (deadline === undefined || !this.isActive) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.window && this.isActive) this.run(this.window.tick(performance.now()));
    }, Math.max(0, deadline - performance.now()));
  }

  private sendKeepAlive(): void {
    if (this.keepAliveInFlight || !this.isActive) return;
    this.keepAliveInFlight = true;
    this.client.getDeviceId().then(
      () => { this.keepAliveFailures = 0; },
      (err: unknown) => {
        if (!this.isActive) return;
        this.keepAliveFailures++;
        if (this.keepAliveFailures >= KEEP_ALIVE_FAILURES_MAX) {
          const why = err instanceof Error ? err.message : String(err);
          void this.finish({ kind: 'lost', message: `no answer to the keep-alive: ${why}` }, false);
        }
      },
    ).finally(() => { this.keepAliveInFlight = false; });
  }

  private finish(end: SolConsoleEnd, deactivate: boolean): Promise<SolConsoleEnd> {
    this.finishing ??= (async () => {
      this.window?.stop();
      if (this.timer) clearTimeout(this.timer);
      if (this.keepAlive) clearInterval(this.keepAlive);
      this.timer = null;
      this.keepAlive = null;
      this.unsubscribe();
      if (deactivate && !this.client.isClosed) {
        // 0x80 "already deactivated" is fine too; Close Session frees the payload in any case.
        await this.client.request(NetFn.App, AppCmd.DeactivatePayload, encodeDeactivateSolRequest()).catch(() => undefined);
      }
      await this.client.close();
      this.resolveEnded(end);
      return end;
    })();
    return this.finishing;
  }
}
