/**
 * The per-session Serial-over-LAN window: IPMI v2.0 sections 15.9–15.10 (packet format table 15-2);
 * reference 8.3–8.6. Pure: no timers, sockets or clock. Every input takes `now` (ms), every output
 * is a list of SolEffect the session layer carries out; nextDeadline() says when to call tick().
 *
 * BMC → console (host serial output)
 * - Output waits in a bounded buffer (64 KiB by default). On overflow the oldest characters go and
 *   the next new packet carries status "character transmit overrun".
 * - One unacknowledged packet at a time, at most (outbound payload size − 4) characters, sequence
 *   numbers 1..15 then 1 again (0 only for ACK-only packets).
 * - A packet goes out when the buffer holds "send threshold" characters or the oldest buffered
 *   character has waited the "accumulate interval" (SOL parameter 3).
 * - No ACK within the retry interval: the same packet, same sequence number, goes again with newer
 *   characters appended behind the original ones (consoles print only what they have not yet
 *   accepted from that sequence number). After "retry count" retries (SOL parameter 4) it is
 *   dropped ('packet-dropped' effect) and the window moves on.
 * - Partial ACK (accepted < sent, NACK clear): the unaccepted tail goes first in a new packet with
 *   the next sequence number, at once.
 * - NACK: the console refuses the packet. The accepted characters (normally none) count as
 *   delivered, the rest goes back to the front of the buffer, and sending pauses until the console
 *   sends any packet without the NACK bit (how OpenIPMI releases a NACK) or, should it fall
 *   silent, until nackHoldoffMs has passed. Then the held characters go out in a new packet.
 *
 * Console → BMC
 * - A packet with a non-zero sequence number is delivered ('deliver') and ACKed at once with an
 *   ACK-only packet (sequence 0, accepted = characters taken, at most 255). Control-only packets
 *   (e.g. ipmitool's ~B break) are ACKed with count 0.
 * - The same sequence number again is a retransmission: re-ACK it, deliver only characters beyond
 *   those already accepted, and do not repeat its break/flush.
 * - Generate break → 'break'; flush outbound → drop buffered host output; flush inbound →
 *   'flush-inbound' (the shell owns anything queued towards the host). CTS/DCD/DSR/RI are ignored:
 *   the machine's serial port has no modem lines.
 * - The ACK fields settle the outstanding packet as above.
 *
 * deactivate() ends the channel with the "SOL deactivating" packet (status bit 4, new sequence
 * number, no data); afterwards every input is ignored.
 */
import {
  SOL_HEADER_LENGTH,
  SOL_MAX_CHARACTERS_PER_PACKET,
  SOL_MAX_SEQUENCE_NUMBER,
  SolBmcStatus,
  SolConsoleOperation,
  SolPacket,
} from '../protocol/sol-packet';
import { SolTiming } from './sol-config';

export const DEFAULT_SOL_BUFFER_CAPACITY = 64 * 1024;
/** How long a NACK holds sending back when the console says nothing more. */
export const DEFAULT_NACK_HOLDOFF_MS = 1000;
/** SOL parameter 4 holds the retry count in 3 bits. */
const MAX_RETRY_COUNT = 7;

export interface SolChannelOptions extends SolTiming {
  /**
   * Outbound payload size announced in the Activate Payload response (bytes 7–8), SOL header
   * included: packets carry at most this − 4 characters (5..259).
   */
  readonly outboundPayloadSize: number;
  readonly bufferCapacity?: number;
  readonly nackHoldoffMs?: number;
}

export type SolEffect =
  /** Send this SOL payload to the console (the session layer protects and frames it). */
  | { readonly kind: 'send'; readonly packet: SolPacket }
  /** Characters typed on the console, for the host's serial port. */
  | { readonly kind: 'deliver'; readonly data: Buffer }
  /** Generate a break on the host's serial port. */
  | { readonly kind: 'break' }
  /** The console asked to drop characters still queued towards the host. */
  | { readonly kind: 'flush-inbound' }
  /** A packet went unacknowledged through every retry; its characters are lost. */
  | { readonly kind: 'packet-dropped'; readonly packetSequenceNumber: number; readonly characters: number };

export interface SolChannelCounters {
  /** New data or control packets (not retransmissions, not ACK-only packets). */
  packetsSent: number;
  retransmissions: number;
  droppedPackets: number;
  droppedCharacters: number;
  /** Host characters dropped because the buffer was full. */
  overrunCharacters: number;
  /** Host characters dropped on the console's "flush outbound". */
  flushedCharacters: number;
  partialAcks: number;
  nacks: number;
  /** ACKs for a sequence number that is not outstanding. */
  staleAcks: number;
  /** Console packets recognised as retransmissions. */
  duplicatePackets: number;
  /** Data bytes in console packets with sequence number 0 (not allowed to carry data). */
  ignoredCharacters: number;
  /** Console packets received after deactivation. */
  ignoredPackets: number;
}

interface Outstanding {
  readonly packetSequenceNumber: number;
  data: Buffer;
  readonly operationStatus: number;
  sentAt: number;
  retries: number;
}

export class SolChannel {
  readonly counters: SolChannelCounters = {
    packetsSent: 0,
    retransmissions: 0,
    droppedPackets: 0,
    droppedCharacters: 0,
    overrunCharacters: 0,
    flushedCharacters: 0,
    partialAcks: 0,
    nacks: 0,
    staleAcks: 0,
    duplicatePackets: 0,
    ignoredCharacters: 0,
    ignoredPackets: 0,
  };

  private readonly maxCharacters: number;
  private readonly sendThreshold: number;
  private readonly accumulateMs: number;
  private readonly retryCount: number;
  private readonly retryIntervalMs: number;
  private readonly capacity: number;
  private readonly nackHoldoffMs: number;

  private readonly buffer = new ByteQueue();
  /** When the oldest buffered character arrived (undefined while the buffer is empty). */
  private bufferedSince: number | undefined;
  /** Status bits for the next new packet (overrun, break detected). */
  private pendingStatus = 0;
  private outstanding: Outstanding | undefined;
  private lastSequenceNumber = 0;
  /** Set while a console NACK holds sending back: resume at this time at the latest. */
  private pausedUntil: number | undefined;
  private lastInboundSequenceNumber = 0;
  private lastInboundAccepted = 0;
  private active = true;

  constructor(options: SolChannelOptions) {
    const { outboundPayloadSize, retryCount, retryIntervalMs, characterAccumulateIntervalMs, characterSendThreshold } = options;
    if (!Number.isInteger(outboundPayloadSize) || outboundPayloadSize <= SOL_HEADER_LENGTH || outboundPayloadSize > SOL_HEADER_LENGTH + SOL_MAX_CHARACTERS_PER_PACKET) {
      throw new RangeError(`outboundPayloadSize must be ${SOL_HEADER_LENGTH + 1}..${SOL_HEADER_LENGTH + SOL_MAX_CHARACTERS_PER_PACKET}, got ${outboundPayloadSize}`);
    }
    if (!Number.isInteger(retryCount) || retryCount < 0 || retryCount > MAX_RETRY_COUNT) throw new RangeError(`retryCount must be 0..${MAX_RETRY_COUNT}`);
    if (!(retryIntervalMs >= 0) || !(characterAccumulateIntervalMs >= 0)) throw new RangeError('intervals must be >= 0');
    this.maxCharacters = outboundPayloadSize - SOL_HEADER_LENGTH;
    // Threshold 0 would mean "send empty packets"; treat it as 1, and never wait for more than fits.
    this.sendThreshold = Math.min(Math.max(characterSendThreshold, 1), this.maxCharacters);
    this.accumulateMs = characterAccumulateIntervalMs;
    this.retryCount = retryCount;
    this.retryIntervalMs = retryIntervalMs;
    this.capacity = options.bufferCapacity ?? DEFAULT_SOL_BUFFER_CAPACITY;
    if (!Number.isInteger(this.capacity) || this.capacity < this.maxCharacters) throw new RangeError('bufferCapacity must hold at least one packet');
    this.nackHoldoffMs = options.nackHoldoffMs ?? DEFAULT_NACK_HOLDOFF_MS;
  }

  /** A channel with the retry and accumulate settings of the SOL configuration (parameters 3 and 4). */
  static fromConfig(
    config: { timing(): SolTiming },
    options: { readonly outboundPayloadSize: number; readonly bufferCapacity?: number; readonly nackHoldoffMs?: number },
  ): SolChannel {
    return new SolChannel({ ...config.timing(), ...options });
  }

  get isActive(): boolean { return this.active; }
  get bufferedCharacters(): number { return this.buffer.length; }
  get awaitingAck(): boolean { return this.outstanding !== undefined; }
  get paused(): boolean { return this.pausedUntil !== undefined; }

  /** Output of the host's serial port. */
  hostOutput(data: Buffer, now: number): SolEffect[] {
    if (!this.active || data.length === 0) return [];
    this.buffer.push(Buffer.from(data));
    this.bufferedSince ??= now;
    const excess = this.buffer.length - this.capacity;
    if (excess > 0) {
      this.buffer.drop(excess);
      this.counters.overrunCharacters += excess;
      this.pendingStatus |= SolBmcStatus.CharacterTransmitOverrun;
    }
    return this.pump(now, []);
  }

  /** A break seen on the host's serial port: reported in the next packet's status. */
  hostBreak(now: number): SolEffect[] {
    if (!this.active) return [];
    this.pendingStatus |= SolBmcStatus.BreakDetected;
    return this.pump(now, []);
  }

  /** A decoded SOL payload from the console that owns this channel. */
  consolePacket(packet: SolPacket, now: number): SolEffect[] {
    if (!this.active) {
      this.counters.ignoredPackets++;
      return [];
    }
    const effects: SolEffect[] = [];
    const nack = (packet.operationStatus & SolConsoleOperation.Nack) !== 0;
    if (packet.packetSequenceNumber !== 0) {
      this.receiveSequenced(packet, effects);
    } else if (packet.data.length > 0) {
      this.counters.ignoredCharacters += packet.data.length;
    }
    if (packet.ackNackSequenceNumber !== 0) this.receiveAck(packet, nack, now);
    // Any packet without the NACK bit ends a NACK pause (the console is taking characters again).
    if (!nack && this.pausedUntil !== undefined) this.resume(now);
    return this.pump(now, effects);
  }

  /** Retransmissions, retry exhaustion, the accumulate interval and the NACK hold-off. */
  tick(now: number): SolEffect[] {
    if (!this.active) return [];
    const effects: SolEffect[] = [];
    const out = this.outstanding;
    if (out && now >= out.sentAt + this.retryIntervalMs) {
      if (out.retries < this.retryCount) {
        out.retries++;
        out.sentAt = now;
        // Keep the original characters at the front; newer ones may ride along (reference 8.4).
        const room = this.maxCharacters - out.data.length;
        if (room > 0 && this.buffer.length > 0) out.data = Buffer.concat([out.data, this.takeFromBuffer(room)]);
        this.counters.retransmissions++;
        effects.push(this.sendEffect(out.packetSequenceNumber, out.operationStatus, out.data));
      } else {
        this.outstanding = undefined;
        this.counters.droppedPackets++;
        this.counters.droppedCharacters += out.data.length;
        effects.push({ kind: 'packet-dropped', packetSequenceNumber: out.packetSequenceNumber, characters: out.data.length });
      }
    }
    if (this.pausedUntil !== undefined && now >= this.pausedUntil) this.resume(now);
    return this.pump(now, effects);
  }

  /** When tick() has something to do next; undefined when nothing is pending. */
  nextDeadline(): number | undefined {
    if (!this.active) return undefined;
    if (this.outstanding) return this.outstanding.sentAt + this.retryIntervalMs;
    if (this.pausedUntil !== undefined) return this.pausedUntil;
    if (this.bufferedSince !== undefined) return this.bufferedSince + this.accumulateMs;
    return undefined;
  }

  /** The last packet of the channel: "SOL deactivating" (reference 8.6). Later calls return nothing. */
  deactivate(): SolEffect[] {
    if (!this.active) return [];
    this.active = false;
    this.outstanding = undefined;
    this.pausedUntil = undefined;
    this.buffer.clear();
    this.bufferedSince = undefined;
    this.counters.packetsSent++;
    return [this.sendEffect(this.nextSequenceNumber(), SolBmcStatus.SolDeactivating, Buffer.alloc(0))];
  }

  private receiveSequenced(packet: SolPacket, effects: SolEffect[]): void {
    const seq = packet.packetSequenceNumber;
    if (seq === this.lastInboundSequenceNumber) {
      // A retransmission: deliver only what we have not accepted yet, and repeat no control action.
      this.counters.duplicatePackets++;
      const accepted = Math.min(packet.data.length, SOL_MAX_CHARACTERS_PER_PACKET);
      const fresh = accepted > this.lastInboundAccepted ? packet.data.subarray(this.lastInboundAccepted, accepted) : undefined;
      if (fresh) this.lastInboundAccepted = accepted;
      effects.push(this.ackEffect(seq, this.lastInboundAccepted));
      if (fresh) effects.push({ kind: 'deliver', data: Buffer.from(fresh) });
      return;
    }
    const accepted = Math.min(packet.data.length, SOL_MAX_CHARACTERS_PER_PACKET);
    this.lastInboundSequenceNumber = seq;
    this.lastInboundAccepted = accepted;
    // ACK first: the console waits for it, and the host's echo must not overtake it.
    effects.push(this.ackEffect(seq, accepted));
    if (accepted > 0) effects.push({ kind: 'deliver', data: Buffer.from(packet.data.subarray(0, accepted)) });
    const op = packet.operationStatus;
    if (op & SolConsoleOperation.GenerateBreak) effects.push({ kind: 'break' });
    if (op & SolConsoleOperation.FlushInbound) effects.push({ kind: 'flush-inbound' });
    if (op & SolConsoleOperation.FlushOutbound) {
      this.counters.flushedCharacters += this.buffer.length;
      this.buffer.clear();
      this.bufferedSince = undefined;
      this.pendingStatus &= ~SolBmcStatus.CharacterTransmitOverrun;
    }
  }

  private receiveAck(packet: SolPacket, nack: boolean, now: number): void {
    const out = this.outstanding;
    if (!out || packet.ackNackSequenceNumber !== out.packetSequenceNumber) {
      this.counters.staleAcks++;
      return;
    }
    this.outstanding = undefined;
    const accepted = Math.min(packet.acceptedCharacterCount, out.data.length);
    if (nack) {
      this.counters.nacks++;
      this.requeue(out.data.subarray(accepted), now);
      this.pausedUntil = now + this.nackHoldoffMs;
    } else if (accepted < out.data.length) {
      this.counters.partialAcks++;
      this.requeue(out.data.subarray(accepted), now);
    }
  }

  /** Puts unaccepted characters back in front, due for sending at once. */
  private requeue(tail: Buffer, now: number): void {
    if (tail.length === 0) return;
    this.buffer.unshift(tail);
    this.bufferedSince = Math.min(this.bufferedSince ?? now, now - this.accumulateMs);
  }

  private resume(now: number): void {
    this.pausedUntil = undefined;
    if (this.bufferedSince !== undefined) this.bufferedSince = Math.min(this.bufferedSince, now - this.accumulateMs);
  }

  /** Sends the next new packet when the window is free and something is due. */
  private pump(now: number, effects: SolEffect[]): SolEffect[] {
    if (!this.active || this.outstanding || this.pausedUntil !== undefined) return effects;
    const buffered = this.buffer.length;
    const due =
      this.pendingStatus !== 0 ||
      buffered >= this.sendThreshold ||
      (this.bufferedSince !== undefined && now >= this.bufferedSince + this.accumulateMs);
    if (!due || (buffered === 0 && this.pendingStatus === 0)) return effects;
    const data = this.takeFromBuffer(this.maxCharacters);
    const status = this.pendingStatus;
    this.pendingStatus = 0;
    const seq = this.nextSequenceNumber();
    this.outstanding = { packetSequenceNumber: seq, data, operationStatus: status, sentAt: now, retries: 0 };
    this.counters.packetsSent++;
    effects.push(this.sendEffect(seq, status, data));
    return effects;
  }

  private takeFromBuffer(n: number): Buffer {
    const data = this.buffer.take(n);
    // What stays behind keeps its (older) arrival time, so it is already due when the window frees.
    if (this.buffer.length === 0) this.bufferedSince = undefined;
    return data;
  }

  private nextSequenceNumber(): number {
    this.lastSequenceNumber = (this.lastSequenceNumber % SOL_MAX_SEQUENCE_NUMBER) + 1;
    return this.lastSequenceNumber;
  }

  private sendEffect(packetSequenceNumber: number, operationStatus: number, data: Buffer): SolEffect {
    return { kind: 'send', packet: { kind: 'sol', packetSequenceNumber, ackNackSequenceNumber: 0, acceptedCharacterCount: 0, operationStatus, data } };
  }

  private ackEffect(ackNackSequenceNumber: number, acceptedCharacterCount: number): SolEffect {
    return { kind: 'send', packet: { kind: 'sol', packetSequenceNumber: 0, ackNackSequenceNumber, acceptedCharacterCount, operationStatus: 0, data: Buffer.alloc(0) } };
  }
}

const EMPTY = Buffer.alloc(0);

/** FIFO of bytes kept as a list of chunks, so taking a packet's worth never copies the whole buffer. */
class ByteQueue {
  private chunks: Buffer[] = [];
  /** Index of the first live chunk; consumed chunks before it are compacted away in batches. */
  private first = 0;
  private total = 0;

  get length(): number { return this.total; }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.total += chunk.length;
  }

  unshift(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.first > 0) this.chunks[--this.first] = chunk;
    else this.chunks.unshift(chunk);
    this.total += chunk.length;
  }

  take(n: number): Buffer {
    const parts: Buffer[] = [];
    let want = Math.min(n, this.total);
    while (want > 0) {
      const head = this.chunks[this.first]!;
      if (head.length <= want) {
        parts.push(head);
        this.advance();
        want -= head.length;
        this.total -= head.length;
      } else {
        parts.push(head.subarray(0, want));
        this.chunks[this.first] = head.subarray(want);
        this.total -= want;
        want = 0;
      }
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  drop(n: number): void {
    this.take(n);
  }

  clear(): void {
    this.chunks = [];
    this.first = 0;
    this.total = 0;
  }

  private advance(): void {
    this.chunks[this.first++] = EMPTY;
    if (this.first === this.chunks.length) {
      this.chunks = [];
      this.first = 0;
    } else if (this.first >= 1024) {
      this.chunks = this.chunks.slice(this.first);
      this.first = 0;
    }
  }
}
