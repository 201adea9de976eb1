/**
 * The output of a process run with the Engine API's exec without a TTY: one stream of frames, each
 * an 8-byte header (byte 0 the stream: 1 stdout, 2 stderr; bytes 4-7 the payload's length, big
 * endian) then the payload (Engine API, "Attach to a container": stream format). Pure.
 */

export interface ExecOutput {
  readonly stdout: string;
  readonly stderr: string;
}

const HEADER_BYTES = 8;
const STDOUT = 1;
const STDERR = 2;

/** Splits the frames into stdout and stderr, keeping at most maxBytes of each; a cut frame ends the output. */
export function splitExecOutput(frames: Buffer, maxBytes: number): ExecOutput {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let outBytes = 0;
  let errBytes = 0;
  let offset = 0;
  while (offset + HEADER_BYTES <= frames.length) {
    const stream = frames[offset]!;
    const size = frames.readUInt32BE(offset + 4);
    const payload = frames.subarray(offset + HEADER_BYTES, Math.min(frames.length, offset + HEADER_BYTES + size));
    if (stream === STDOUT && outBytes < maxBytes) {
      out.push(payload.subarray(0, maxBytes - outBytes));
      outBytes += Math.min(payload.length, maxBytes - outBytes);
    } else if (stream === STDERR && errBytes < maxBytes) {
      err.push(payload.subarray(0, maxBytes - errBytes));
      errBytes += Math.min(payload.length, maxBytes - errBytes);
    }
    offset += HEADER_BYTES + size;
  }
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}
