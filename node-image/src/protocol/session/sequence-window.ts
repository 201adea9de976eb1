/**
 * Inbound session sequence number acceptance (IPMI v2.0 section 6.12.13 / 13.7; reference 5.1).
 * Pure: the window is a value; accept() returns the next window or null when the number must be dropped.
 *
 * The first accepted number initialises the window (ipmitool's first authenticated number is not 1).
 * Afterwards a number is accepted when it lies up to 32 above the highest seen (the window moves) or
 * up to 16 below it and has not been seen. 0 is never valid. Arithmetic is modulo 2^32.
 */
export const WINDOW_ABOVE = 32;
export const WINDOW_BELOW = 16;

export interface SequenceWindow {
  /** Highest accepted number, or null before the first one. */
  readonly highest: number | null;
  /** Bit i set = (highest - 1 - i) has been seen. */
  readonly seenBelow: number;
}

export const EMPTY_WINDOW: SequenceWindow = { highest: null, seenBelow: 0 };

export function acceptSequence(w: SequenceWindow, seq: number): SequenceWindow | null {
  seq >>>= 0;
  if (seq === 0) return null;
  if (w.highest === null) return { highest: seq, seenBelow: 0 };
  const ahead = (seq - w.highest) >>> 0;
  if (ahead !== 0 && ahead <= WINDOW_ABOVE) {
    // Shift the history: the old highest becomes "seen" at distance ahead-1.
    const shifted = ahead >= 32 ? 0 : (w.seenBelow << ahead) >>> 0;
    const withOld = ahead - 1 < WINDOW_BELOW ? (shifted | (1 << (ahead - 1))) >>> 0 : shifted;
    return { highest: seq, seenBelow: withOld & ((1 << WINDOW_BELOW) - 1) };
  }
  const behind = (w.highest - seq) >>> 0;
  if (behind === 0 || behind > WINDOW_BELOW) return null;
  const bit = 1 << (behind - 1);
  if ((w.seenBelow & bit) !== 0) return null;
  return { highest: w.highest, seenBelow: (w.seenBelow | bit) >>> 0 };
}

/** The BMC's outbound counter: starts at 1, +1 per packet, skips 0 on wrap. */
export function nextOutboundSequence(current: number): number {
  const n = (current + 1) >>> 0;
  return n === 0 ? 1 : n;
}
