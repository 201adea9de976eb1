/**
 * Escape sequences of `bmcfleet nodes console`, as ssh and `ipmitool sol activate` have them (pure).
 * They count only at the start of a line (the first keystroke, or right after Enter):
 *
 *   ~.  end the console          ~B  send a serial break
 *   ~?  list the escapes         ~~  send one "~"
 *
 * A "~" followed by anything else is sent as typed, both characters. A "~" at the end of a chunk
 * waits for the next chunk (keystrokes arrive one by one in raw mode, pastes in one piece).
 */

export const ESCAPE_CHARACTER = 0x7e; // "~"
const CR = 0x0d;
const LF = 0x0a;
const QUIT = 0x2e; // "."
const BREAK = 0x42; // "B"
const HELP = 0x3f; // "?"

export type EscapeAction =
  /** Keystrokes for the host. */
  | { readonly kind: 'send'; readonly data: Buffer }
  | { readonly kind: 'quit' }
  | { readonly kind: 'break' }
  | { readonly kind: 'help' };

export const ESCAPE_HELP = [
  'Supported escape sequences (at the start of a line):',
  '  ~.  end the console',
  '  ~B  send a serial break',
  '  ~?  this help',
  '  ~~  send a single ~',
].join('\r\n');

export class EscapeParser {
  private atLineStart = true;
  private pendingEscape = false;
  private quit = false;

  /** True once ~. was typed; later input is ignored. */
  get quitRequested(): boolean { return this.quit; }

  /** Splits one chunk of keystrokes into what to send and the escapes, in order. */
  feed(chunk: Buffer): EscapeAction[] {
    const actions: EscapeAction[] = [];
    let start = 0; // first byte of the run of plain keystrokes not yet emitted
    const flush = (end: number): void => {
      if (end > start) actions.push({ kind: 'send', data: Buffer.from(chunk.subarray(start, end)) });
    };
    for (let i = 0; i < chunk.length && !this.quit; i++) {
      const byte = chunk[i]!;
      if (this.pendingEscape) {
        this.pendingEscape = false;
        start = i + 1;
        switch (byte) {
          case QUIT:
            this.quit = true;
            actions.push({ kind: 'quit' });
            break;
          case BREAK:
            actions.push({ kind: 'break' });
            break;
          case HELP:
            actions.push({ kind: 'help' });
            break;
          case ESCAPE_CHARACTER:
            actions.push({ kind: 'send', data: Buffer.from([ESCAPE_CHARACTER]) });
            this.atLineStart = false;
            break;
          default:
            // Not an escape: both characters go to the host.
            actions.push({ kind: 'send', data: Buffer.from([ESCAPE_CHARACTER, byte]) });
            this.atLineStart = byte === CR || byte === LF;
        }
        continue;
      }
      if (this.atLineStart && byte === ESCAPE_CHARACTER) {
        flush(i);
        this.pendingEscape = true;
        start = i + 1;
        continue;
      }
      this.atLineStart = byte === CR || byte === LF;
    }
    if (!this.quit) flush(chunk.length);
    return mergeSends(actions);
  }
}

/** Adjacent send actions become one (one SOL packet instead of several). */
function mergeSends(actions: EscapeAction[]): EscapeAction[] {
  const out: EscapeAction[] = [];
  for (const a of actions) {
    const last = out[out.length - 1];
    if (a.kind === 'send' && last?.kind === 'send') out[out.length - 1] = { kind: 'send', data: Buffer.concat([last.data, a.data]) };
    else out.push(a);
  }
  return out;
}
