/**
 * A line typed without echo on a raw terminal, e.g. the BMC password (pure): Enter ends it,
 * Backspace/DEL takes the last character back, Ctrl-U clears the line, Ctrl-C cancels, Ctrl-D
 * cancels on an empty line. Other control characters are ignored.
 */

const ENTER_CR = 0x0d;
const ENTER_LF = 0x0a;
const BACKSPACE = 0x08;
const DELETE = 0x7f;
const CTRL_C = 0x03;
const CTRL_D = 0x04;
const CTRL_U = 0x15;
const FIRST_PRINTABLE = 0x20;

export type HiddenLineState =
  | { readonly kind: 'typing' }
  | { readonly kind: 'done'; readonly line: string }
  | { readonly kind: 'cancelled' };

export class HiddenLine {
  private chars: number[] = [];
  private state: HiddenLineState = { kind: 'typing' };

  feed(chunk: Buffer): HiddenLineState {
    for (const byte of chunk) {
      if (this.state.kind !== 'typing') break;
      if (byte === ENTER_CR || byte === ENTER_LF) {
        this.state = { kind: 'done', line: Buffer.from(this.chars).toString('utf8') };
      } else if (byte === CTRL_C || (byte === CTRL_D && this.chars.length === 0)) {
        this.state = { kind: 'cancelled' };
      } else if (byte === BACKSPACE || byte === DELETE) {
        this.chars.pop();
      } else if (byte === CTRL_U) {
        this.chars = [];
      } else if (byte >= FIRST_PRINTABLE) {
        this.chars.push(byte);
      }
    }
    if (this.state.kind !== 'typing') this.chars = []; // nothing of the secret stays behind
    return this.state;
  }
}
