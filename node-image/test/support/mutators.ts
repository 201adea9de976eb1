/**
 * Deterministic datagram mutation for the agent's fuzz test: a seeded PRNG (the seed is printed
 * by the test, FUZZ_SEED=<n> replays a run) and mutation operators that know the RMCP, IPMI 1.5
 * and RMCP+ header layouts (reference sections 1.1–1.6), so that header fields, length fields and
 * session ids are corrupted on purpose and not only by chance.
 *
 * Offsets used below (whole UDP payload):
 *   0 RMCP version | 1 reserved | 2 RMCP sequence | 3 class (bit 7 ACK; 6 ASF, 7 IPMI)
 *   ASF:      4 IANA (u32be) | 8 type | 9 tag | 10 reserved | 11 data length
 *   IPMI 1.5: 4 auth type | 5 sequence (u32le) | 9 session id (u32le) | [13 AuthCode (16)] | length (u8)
 *   RMCP+:    4 auth type 06 | 5 payload type (bit 7 encrypted, bit 6 authenticated)
 *             | 6 session id (u32le) | 10 sequence (u32le) | 14 payload length (u16le) | 16 payload
 *             (payload type 02 carries 6 OEM bytes before the session id)
 */

/** sfc32 seeded through splitmix32: small, fast, and the same sequence on every platform. */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(readonly seed: number) {
    let s = seed >>> 0;
    const splitmix = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = splitmix();
    this.b = splitmix();
    this.c = splitmix();
    this.d = splitmix();
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** 0 .. n-1 */
  int(n: number): number {
    return n <= 0 ? 0 : this.u32() % n;
  }

  /** lo .. hi inclusive */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(items.length)]!;
  }

  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

/** A seed from FUZZ_SEED when set (decimal or 0x hex), else a fresh one; the caller prints it. */
export function fuzzSeedFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.FUZZ_SEED;
  if (v !== undefined && v !== '') {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`FUZZ_SEED="${v}" must be an integer 0..4294967295`);
    return n;
  }
  return (Date.now() ^ (process.pid << 16)) >>> 0;
}

/** Byte values that tend to sit on boundaries of the formats above. */
export const INTERESTING_BYTES: readonly number[] = [
  0x00, 0x01, 0x02, 0x04, 0x05, 0x06, 0x07, 0x08, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x1f, 0x20,
  0x3f, 0x40, 0x7f, 0x80, 0x81, 0xc0, 0xc1, 0xfe, 0xff,
];
export const INTERESTING_U32: readonly number[] = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

export type Framing = 'asf' | 'ipmi15' | 'rmcpplus' | 'other';

export function framingOf(d: Buffer): Framing {
  if (d.length < 5 || d[0] !== 0x06) return 'other';
  const cls = d[3]! & 0x1f;
  if (cls === 0x06) return 'asf';
  if (cls !== 0x07) return 'other';
  return d[4] === 0x06 ? 'rmcpplus' : 'ipmi15';
}

/** Offset of the RMCP+ session id (after the OEM bytes for payload type 02). */
function rmcpPlusSessionIdOffset(d: Buffer): number {
  return (d[5]! & 0x3f) === 0x02 ? 12 : 6;
}

/** Offset of the IPMI 1.5 message length byte (after the 16-byte AuthCode when an auth type is set). */
function ipmi15LengthOffset(d: Buffer): number {
  return d[4] === 0x00 ? 13 : 29;
}

export interface MutationContext {
  /** Other seeds, for splicing. */
  readonly seeds: readonly Buffer[];
  /** BMC session ids of live sessions: the header-field swap puts them into packets. */
  readonly liveSessionIds: readonly number[];
  /** Sequence numbers near the live sessions' current ones. */
  readonly liveSequences: readonly number[];
}

export interface Mutation {
  readonly bytes: Buffer;
  /** Operators applied, in order, for the failure report. */
  readonly ops: readonly string[];
}

type Operator = (d: Buffer, rng: Prng, ctx: MutationContext) => { d: Buffer; op: string };

const writeU32le = (d: Buffer, off: number, v: number): void => {
  for (let i = 0; i < 4 && off + i < d.length; i++) d[off + i] = (v >>> (8 * i)) & 0xff;
};

const flipBits: Operator = (d, rng) => {
  const out = Buffer.from(d);
  const n = rng.range(1, 8);
  for (let i = 0; i < n && out.length > 0; i++) {
    const at = rng.int(out.length);
    out[at] = out[at]! ^ (1 << rng.int(8));
  }
  return { d: out, op: `flip${n}` };
};

const replaceBytes: Operator = (d, rng) => {
  const out = Buffer.from(d);
  const n = rng.range(1, 4);
  for (let i = 0; i < n && out.length > 0; i++) out[rng.int(out.length)] = rng.chance(0.5) ? rng.pick(INTERESTING_BYTES) : rng.int(256);
  return { d: out, op: `replace${n}` };
};

const truncate: Operator = (d, rng) => {
  const at = rng.int(d.length + 1);
  return { d: Buffer.from(d.subarray(0, at)), op: `truncate@${at}` };
};

const extend: Operator = (d, rng) => {
  const kind = rng.int(4);
  const n = kind === 3 ? rng.range(64, 1400) : rng.range(1, 48);
  const tail = kind === 0 ? Buffer.alloc(n) : kind === 1 ? Buffer.alloc(n, 0xff) : rng.bytes(n);
  return { d: Buffer.concat([d, tail]), op: `extend+${n}` };
};

const insertOrDelete: Operator = (d, rng) => {
  const at = rng.int(d.length + 1);
  if (rng.chance(0.5) && d.length > 0) {
    const n = Math.min(rng.range(1, 8), d.length - Math.min(at, d.length - 1));
    const from = Math.min(at, d.length - 1);
    return { d: Buffer.concat([d.subarray(0, from), d.subarray(from + n)]), op: `delete${n}@${from}` };
  }
  const n = rng.range(1, 8);
  return { d: Buffer.concat([d.subarray(0, at), rng.bytes(n), d.subarray(at)]), op: `insert${n}@${at}` };
};

const corruptLength: Operator = (d, rng) => {
  const out = Buffer.from(d);
  const framing = framingOf(out);
  const pickLength = (actual: number, max: number): number => {
    switch (rng.int(5)) {
      case 0: return 0;
      case 1: return max;
      case 2: return Math.max(0, Math.min(max, actual + rng.range(-4, 4)));
      case 3: return Math.min(max, actual + rng.range(1, 64));
      default: return rng.int(max + 1);
    }
  };
  // RAKP1's user name length sits at payload offset 27.
  if (framing === 'rmcpplus' && (out[5]! & 0x3f) === 0x12 && out.length > 43 && rng.chance(0.5)) {
    out[43] = rng.pick([0, 1, 4, 5, 16, 17, 0x7f, 0xff]);
    return { d: out, op: `rakp1-ulen=${out[43]}` };
  }
  if (framing === 'rmcpplus') {
    const off = rmcpPlusSessionIdOffset(out) + 8;
    if (off + 2 <= out.length) {
      const v = pickLength(out.readUInt16LE(off), 0xffff);
      out.writeUInt16LE(v, off);
      return { d: out, op: `rmcpplus-length=${v}` };
    }
  } else if (framing === 'ipmi15') {
    const off = ipmi15LengthOffset(out);
    if (off < out.length) {
      const v = pickLength(out[off]!, 0xff);
      out[off] = v;
      return { d: out, op: `ipmi15-length=${v}` };
    }
  } else if (framing === 'asf' && out.length > 11) {
    const v = pickLength(out[11]!, 0xff);
    out[11] = v;
    return { d: out, op: `asf-length=${v}` };
  }
  return replaceBytes(out, rng, { seeds: [], liveSessionIds: [], liveSequences: [] });
};

const swapHeaderField: Operator = (d, rng, ctx) => {
  const out = Buffer.from(d);
  if (out.length < 6) return extend(out, rng, ctx);
  const framing = framingOf(out);
  const field = rng.int(6);
  if (field === 0) {
    out[4] = rng.pick([0x00, 0x01, 0x02, 0x04, 0x05, 0x06, 0x07, 0xff]);
    return { d: out, op: `authType=${out[4]}` };
  }
  if (field === 1) {
    const type = rng.pick([0x00, 0x01, 0x02, 0x03, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x20, 0x3f]);
    out[5] = type | (rng.chance(0.5) ? 0x80 : 0) | (rng.chance(0.5) ? 0x40 : 0);
    return { d: out, op: `payloadType=0x${out[5]!.toString(16)}` };
  }
  if (field === 2) {
    const off = framing === 'ipmi15' ? 9 : rmcpPlusSessionIdOffset(out);
    const id = ctx.liveSessionIds.length > 0 && rng.chance(0.7) ? rng.pick(ctx.liveSessionIds) : rng.chance(0.5) ? rng.pick(INTERESTING_U32) : rng.u32();
    writeU32le(out, off, id);
    return { d: out, op: `sessionId=0x${id.toString(16)}` };
  }
  if (field === 3) {
    const off = framing === 'ipmi15' ? 5 : rmcpPlusSessionIdOffset(out) + 4;
    const base = ctx.liveSequences.length > 0 && rng.chance(0.6) ? rng.pick(ctx.liveSequences) : rng.pick(INTERESTING_U32);
    const seq = (base + rng.range(-20, 40)) >>> 0;
    writeU32le(out, off, seq);
    return { d: out, op: `sequence=${seq}` };
  }
  if (field === 4) {
    // RMCP header: version, sequence (not 0xFF asks for an ACK), class (ACK bit, ASF, OEM).
    const which = rng.int(3);
    if (which === 0) out[0] = rng.pick([0x00, 0x05, 0x07, 0xff]);
    else if (which === 1) out[2] = rng.pick([0x00, 0x01, 0xfe]);
    else out[3] = rng.pick([0x06, 0x08, 0x86, 0x87, 0x00, 0x1f]);
    return { d: out, op: `rmcp[${which === 0 ? 0 : which === 1 ? 2 : 3}]=${out[which === 0 ? 0 : which === 1 ? 2 : 3]}` };
  }
  // IPMI 1.5 auth type with or without the AuthCode that would follow it.
  out[4] = rng.pick([0x00, 0x01, 0x02, 0x04, 0x05]);
  return { d: out, op: `ipmi15AuthType=${out[4]}` };
};

const splice: Operator = (d, rng, ctx) => {
  if (ctx.seeds.length === 0) return flipBits(d, rng, ctx);
  const other = rng.pick(ctx.seeds);
  const a = rng.int(d.length + 1);
  const b = rng.int(other.length + 1);
  return { d: Buffer.concat([d.subarray(0, a), other.subarray(b)]), op: `splice@${a}/${b}` };
};

const OPERATORS: ReadonlyArray<readonly [Operator, number]> = [
  [flipBits, 5], [replaceBytes, 5], [truncate, 2], [extend, 2], [insertOrDelete, 2], [corruptLength, 3], [swapHeaderField, 5], [splice, 1],
];
const OPERATOR_WEIGHT = OPERATORS.reduce((s, [, w]) => s + w, 0);

function pickOperator(rng: Prng): Operator {
  let r = rng.int(OPERATOR_WEIGHT);
  for (const [op, w] of OPERATORS) {
    if (r < w) return op;
    r -= w;
  }
  return flipBits;
}

/** One to four stacked mutations of `seed`. */
export function mutate(seed: Buffer, rng: Prng, ctx: MutationContext): Mutation {
  let d = seed;
  const ops: string[] = [];
  const n = rng.chance(0.6) ? 1 : rng.range(2, 4);
  for (let i = 0; i < n; i++) {
    const r = pickOperator(rng)(d, rng, ctx);
    d = r.d;
    ops.push(r.op);
  }
  return { bytes: d, ops };
}

/** Random bytes, sometimes behind a valid RMCP / RMCP+ prefix so that they reach the decoders. */
export function randomDatagram(rng: Prng): Mutation {
  const len = rng.chance(0.1) ? rng.range(0, 8) : rng.range(9, 200);
  const body = rng.bytes(len);
  switch (rng.int(4)) {
    case 0: return { bytes: body, ops: ['random'] };
    case 1: return { bytes: Buffer.concat([Buffer.from([0x06, 0x00, 0xff, 0x07]), body]), ops: ['random-rmcp'] };
    case 2: return { bytes: Buffer.concat([Buffer.from([0x06, 0x00, 0xff, 0x07, 0x06, rng.pick([0x00, 0x01, 0x10, 0x12, 0x14, 0xc0, 0xc1])]), body]), ops: ['random-rmcpplus'] };
    default: return { bytes: Buffer.concat([Buffer.from([0x06, 0x00, 0xff, 0x07, 0x00]), body]), ops: ['random-ipmi15'] };
  }
}

/** Sets both IPMI message checksums (bytes 2 and last) so that a mutated message reaches the command handlers. */
export function fixIpmiChecksums(msg: Buffer): Buffer {
  if (msg.length < 7) return msg;
  const out = Buffer.from(msg);
  const sum = (from: number, to: number): number => {
    let s = 0;
    for (let i = from; i < to; i++) s = (s + out[i]!) & 0xff;
    return (0x100 - s) & 0xff;
  };
  out[2] = sum(0, 2);
  out[out.length - 1] = sum(3, out.length - 1);
  return out;
}
